//! `feedd serve` under systemd's protocols, driven by the test: sd_notify messages on a
//! Unix datagram socket we own, socket activation with LISTEN_FDS, and SIGHUP reloads.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{BufRead, Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixDatagram;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::Site;

fn http_get(addr: &str, path: &str) -> String {
    let mut s = std::net::TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .expect("send");
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out
}

fn signal(pid: u32, sig: &str) {
    Command::new("kill")
        .args([sig, &pid.to_string()])
        .status()
        .expect("kill");
}

/// Reads notify messages until one contains `want` (15 s bound).
fn expect_message(sock: &UnixDatagram, want: &str, seen: &mut Vec<String>) {
    let mut buf = [0u8; 4096];
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    while std::time::Instant::now() < deadline {
        if let Ok(n) = sock.recv(&mut buf) {
            let msg = String::from_utf8_lossy(&buf[..n]).into_owned();
            seen.push(msg.clone());
            if msg.lines().any(|l| l == want) {
                return;
            }
        }
    }
    panic!("no {want} in {seen:?}");
}

#[test]
fn notify_ready_after_first_build_then_watchdog_reload_and_stopping() {
    let site = Site::fixture("site", "");
    let sock_path = site.path("notify.sock");
    let sock = UnixDatagram::bind(&sock_path).expect("bind notify socket");
    sock.set_read_timeout(Some(Duration::from_millis(200)))
        .expect("timeout");
    let mut child = Command::new(env!("CARGO_BIN_EXE_feedd"))
        .args(["serve", "--listen", "127.0.0.1:0", "--config"])
        .arg(site.config())
        .env("NOTIFY_SOCKET", &sock_path)
        .env("WATCHDOG_USEC", "400000")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("line");
    let addr = line
        .trim()
        .trim_start_matches("feedd: serving on http://")
        .trim_end_matches('/')
        .to_string();
    let mut seen = Vec::new();
    expect_message(&sock, "READY=1", &mut seen);
    // READY came after the first build was published: the feeds answer now.
    assert!(http_get(&addr, "/feed.xml").starts_with("HTTP/1.1 200"));
    assert!(
        seen.iter().any(|m| m.contains("STATUS=serving 8 posts")),
        "{seen:?}"
    );
    expect_message(&sock, "WATCHDOG=1", &mut seen);
    expect_message(&sock, "WATCHDOG=1", &mut seen);
    signal(child.id(), "-HUP");
    expect_message(&sock, "RELOADING=1", &mut seen);
    expect_message(&sock, "READY=1", &mut seen);
    signal(child.id(), "-TERM");
    expect_message(&sock, "STOPPING=1", &mut seen);
    assert!(child.wait().expect("wait").success());
}

#[test]
fn socket_activation_serves_on_the_inherited_socket() {
    let site = Site::fixture("site", "");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr").to_string();
    let fd = listener.as_raw_fd();
    let mut cmd = Command::new("sh");
    // `exec` keeps the shell's pid, so LISTEN_PID=$$ names feedd itself.
    cmd.args([
        "-c",
        "LISTEN_PID=$$ LISTEN_FDS=1 exec \"$0\" serve --config \"$1\"",
        env!("CARGO_BIN_EXE_feedd"),
    ])
    .arg(site.config())
    .stdout(Stdio::null())
    .stderr(Stdio::null());
    // SAFETY: dup2 is async-signal-safe; it puts the listening socket at fd 3 (clearing
    // close-on-exec), as systemd does.
    unsafe {
        cmd.pre_exec(move || {
            if fd != 3 && libc::dup2(fd, 3) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            // dup2 onto itself keeps close-on-exec: clear it in every case.
            if libc::fcntl(3, libc::F_SETFD, 0) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = cmd.spawn().expect("spawn");
    common::eventually("answer on the inherited socket", || {
        let answer = std::panic::catch_unwind(|| http_get(&addr, "/feed.xml")).ok()?;
        answer.starts_with("HTTP/1.1 200").then_some(())
    });
    signal(child.id(), "-TERM");
    assert!(child.wait().expect("wait").success());
}

#[test]
fn sighup_with_an_invalid_config_keeps_the_old_one_serving() {
    let site = Site::fixture("site", "[serve]\nmax_age = 300\n");
    let d = common::Daemon::start(&site);
    let addr = d.base.trim_start_matches("http://").to_string();
    let before = http_get(&addr, "/feed.xml");
    assert!(before.contains("max-age=300"));
    std::fs::write(site.config(), "limit = \"many\"\n").expect("write bad config");
    signal(d.child.id(), "-HUP");
    common::eventually("reload error logged", || {
        d.log()
            .contains("the old configuration keeps serving")
            .then_some(())
    });
    assert!(d.log().contains("limit"), "{}", d.log());
    let during = http_get(&addr, "/feed.xml");
    assert!(during.starts_with("HTTP/1.1 200") && during.contains("max-age=300"));
    // A valid new config takes effect without a restart.
    assert!(http_get(&addr, "/tags/alpha/feed.xml").starts_with("HTTP/1.1 200"));
    std::fs::write(
        site.config(),
        "[serve]\nmax_age = 42\n[site]\ntitle = \"Renamed\"\n[tags]\nenabled = false\n",
    )
    .expect("write config");
    signal(d.child.id(), "-HUP");
    common::eventually("new config", || {
        let r = http_get(&addr, "/feed.xml");
        (r.contains("max-age=42") && r.contains("<title>Renamed</title>")).then_some(())
    });
    // Feeds the new configuration does not make are gone, from memory and from disk.
    assert!(http_get(&addr, "/tags/alpha/feed.xml").starts_with("HTTP/1.1 404"));
    common::eventually("tag feeds removed from disk", || {
        (!site.path("feeds/tags/alpha/feed.xml").exists()).then_some(())
    });
}

#[test]
fn sighup_whose_rebuild_fails_changes_neither_feeds_nor_http_settings() {
    let site = Site::fixture("site", "[serve]\nmax_age = 300\n");
    let d = common::Daemon::start(&site);
    let addr = d.base.trim_start_matches("http://").to_string();
    // Valid TOML and valid values, but its content dir cannot be read: the rebuild fails.
    std::fs::write(
        site.config(),
        "content_dir = \"missing\"\n[serve]\nmax_age = 7\nfull_downloads_per_minute = 1\n[site]\ntitle = \"Never\"\n",
    )
    .expect("write config");
    signal(d.child.id(), "-HUP");
    common::eventually("reload failure logged", || {
        d.log()
            .contains("the old configuration keeps serving")
            .then_some(())
    });
    assert!(d.log().contains("missing"), "{}", d.log());
    for _ in 0..3 {
        let r = http_get(&addr, "/feed.xml");
        assert!(
            r.starts_with("HTTP/1.1 200"),
            "the rate limit went live: {r}"
        );
        assert!(r.contains("max-age=300"), "{r}");
        assert!(!r.contains("<title>Never</title>"), "{r}");
    }
}
