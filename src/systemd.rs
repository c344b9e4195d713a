//! systemd integration at the edge: readiness, status, reload and stop notifications,
//! the watchdog, and socket activation. Every call is a no-op outside systemd (no
//! `NOTIFY_SOCKET` / `LISTEN_FDS`).

use std::time::Duration;

use sd_notify::NotifyState;

fn send(states: &[NotifyState<'_>]) {
    if std::env::var_os("NOTIFY_SOCKET").is_some() {
        if let Err(e) = sd_notify::notify(states) {
            tracing::warn!("sd_notify failed: {e}");
        }
    }
}

/// `READY=1` with a status line: the first build is published and being served.
pub fn ready(status: &str) {
    send(&[NotifyState::Ready, NotifyState::Status(status)]);
}

pub fn status(status: &str) {
    send(&[NotifyState::Status(status)]);
}

/// `RELOADING=1` (with the monotonic time newer systemd requires).
pub fn reloading() {
    match NotifyState::monotonic_usec_now() {
        Ok(now) => send(&[NotifyState::Reloading, now]),
        Err(_) => send(&[NotifyState::Reloading]),
    }
}

pub fn stopping() {
    send(&[NotifyState::Stopping]);
}

pub fn watchdog() {
    send(&[NotifyState::Watchdog]);
}

/// The watchdog interval systemd asked for (`WatchdogSec=`), if any.
pub fn watchdog_interval() -> Option<Duration> {
    let usec: u64 = std::env::var("WATCHDOG_USEC").ok()?.parse().ok()?;
    if let Some(pid) = std::env::var("WATCHDOG_PID")
        .ok()
        .and_then(|p| p.parse::<u32>().ok())
    {
        if pid != std::process::id() {
            return None;
        }
    }
    (usec > 0).then(|| Duration::from_micros(usec))
}

/// A listening TCP socket passed by systemd socket activation (`LISTEN_FDS`), if any.
pub fn activated_listener() -> std::io::Result<Option<std::net::TcpListener>> {
    use std::os::fd::FromRawFd;
    let mut fds = sd_notify::listen_fds()?;
    match fds.next() {
        None => Ok(None),
        Some(fd) => {
            // SAFETY: systemd passes this descriptor to us alone (LISTEN_PID was checked by
            // `listen_fds`), open and listening; we take ownership of it exactly once.
            let listener = unsafe { std::net::TcpListener::from_raw_fd(fd) };
            if let Err(e) = listener.local_addr() {
                // Not a socket after all: do not close a descriptor we do not own.
                std::mem::forget(listener);
                return Err(std::io::Error::new(
                    e.kind(),
                    format!("LISTEN_FDS: fd {fd} is not a listening socket: {e}"),
                ));
            }
            listener.set_nonblocking(true)?;
            Ok(Some(listener))
        }
    }
}
