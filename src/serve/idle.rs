//! An idle timeout around a connection, so idle or stalled connections cannot pile up
//! and hold the connection cap. Idle means no request in progress, whatever bytes
//! arrive: an HTTP/2 client that only sends PINGs or SETTINGS is as idle as a silent
//! one. A connection must send its first byte within `first`; then it is closed once no
//! request has been in progress for `idle` (counted from the first byte, then from the
//! end of the last request). A request is in progress from its head until its response
//! body is dropped, so a slow download is never cut. hyper's header timeout covers an
//! HTTP/1 request head once begun.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use hyper::body::{Body, Frame, SizeHint};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};

/// Requests in progress on one connection, and when the last one began or ended;
/// shared by the connection's stream and its requests.
#[derive(Clone)]
pub struct Activity(Arc<Shared>);

struct Shared {
    /// The connection's start: `last` counts from it.
    start: Instant,
    in_flight: AtomicUsize,
    /// Milliseconds from `start` to the last request's start or end.
    last: AtomicU64,
}

impl Activity {
    fn new() -> Activity {
        Activity(Arc::new(Shared {
            start: Instant::now(),
            in_flight: AtomicUsize::new(0),
            last: AtomicU64::new(0),
        }))
    }

    fn mark(&self) {
        let ms = self.0.start.elapsed().as_millis();
        self.0
            .last
            .store(u64::try_from(ms).unwrap_or(u64::MAX), Ordering::Relaxed);
    }

    /// A request begins; it ends when the returned guard is dropped (with its body).
    pub fn begin(&self) -> InFlight {
        self.0.in_flight.fetch_add(1, Ordering::Relaxed);
        self.mark();
        InFlight(self.clone())
    }

    /// When the connection becomes idle for too long, if nothing is in progress.
    fn deadline(&self, idle: Duration) -> Option<Instant> {
        if self.0.in_flight.load(Ordering::Relaxed) > 0 {
            return None;
        }
        let last = Duration::from_millis(self.0.last.load(Ordering::Relaxed));
        Some(self.0.start + last + idle)
    }
}

/// One request in progress.
pub struct InFlight(Activity);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.mark();
        self.0 .0.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A response body that keeps its request in progress until it is sent or dropped.
pub struct Tracked<B> {
    inner: B,
    _request: InFlight,
}

impl<B> Tracked<B> {
    pub fn new(inner: B, request: InFlight) -> Tracked<B> {
        Tracked {
            inner,
            _request: request,
        }
    }
}

impl<B: Body + Unpin> Body for Tracked<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

pub struct IdleTimeout<S> {
    inner: S,
    first: Duration,
    idle: Duration,
    started: bool,
    activity: Activity,
    timer: Pin<Box<Sleep>>,
}

impl<S> IdleTimeout<S> {
    /// `first` bounds the wait for the first byte, `idle` the time without a request.
    pub fn new(inner: S, first: Duration, idle: Duration) -> IdleTimeout<S> {
        IdleTimeout {
            inner,
            first,
            idle,
            started: false,
            activity: Activity::new(),
            timer: Box::pin(tokio::time::sleep(first)),
        }
    }

    /// What the connection's requests report to.
    pub fn activity(&self) -> Activity {
        self.activity.clone()
    }

    /// Whether the timer, having fired, really ends the connection; else it is set
    /// again (to the new deadline) and polled, so it wakes this task when due.
    fn expired(&mut self, cx: &mut Context<'_>) -> bool {
        loop {
            let next = match self.activity.deadline(self.idle) {
                None => Instant::now() + self.idle,
                Some(at) if at > Instant::now() => at,
                Some(_) => return true,
            };
            self.timer.as_mut().reset(next);
            if self.timer.as_mut().poll(cx).is_pending() {
                return false;
            }
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for IdleTimeout<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        match Pin::new(&mut self.inner).poll_read(cx, buf) {
            Poll::Ready(r) => {
                if !self.started && buf.filled().len() > before {
                    // The first byte: from now on only requests keep it open.
                    self.started = true;
                    self.activity.mark();
                    let next = Instant::now() + self.idle;
                    self.timer.as_mut().reset(next);
                }
                Poll::Ready(r)
            }
            Poll::Pending => match self.timer.as_mut().poll(cx) {
                Poll::Ready(()) if !self.started || self.expired(cx) => {
                    let what = if self.started { self.idle } else { self.first };
                    Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        format!("no request for {what:?}"),
                    )))
                }
                _ => Poll::Pending,
            },
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for IdleTimeout<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    /// Vectored writes pass through, so hyper queues a response's head and body as
    /// separate buffers for one `writev` instead of copying the body into its own buffer
    /// (measured: that copy was 11% of the server's time sending a 330 KB feed).
    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// Reads a connection whose client writes every 2 s until it is closed; ends the
    /// request (if any) after `request_for`. Returns when it was closed.
    async fn closed_after(request_for: Option<Duration>) -> Duration {
        let (mut client, server) = tokio::io::duplex(64);
        let mut conn = IdleTimeout::new(server, Duration::from_secs(10), Duration::from_secs(20));
        let pinger = tokio::spawn(async move {
            while client.write_all(b"PING").await.is_ok() {
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
        });
        let started = Instant::now();
        let mut request = request_for.map(|_| conn.activity().begin());
        let mut buf = [0u8; 64];
        let closed = loop {
            if request_for.is_some_and(|d| started.elapsed() >= d) {
                request = None;
            }
            let read = tokio::time::timeout(Duration::from_secs(300), conn.read(&mut buf));
            match read.await.expect("closed within 300 s") {
                Ok(n) => assert!(n > 0, "eof"),
                Err(e) => {
                    assert_eq!(e.kind(), io::ErrorKind::TimedOut);
                    break started.elapsed();
                }
            }
        };
        drop(request);
        pinger.abort();
        closed
    }

    /// A connection that keeps sending bytes (HTTP/2 PINGs) but no request is closed
    /// `idle` after its first byte.
    #[tokio::test(start_paused = true)]
    async fn bytes_without_requests_do_not_keep_a_connection_open() {
        let closed = closed_after(None).await;
        assert!(
            closed >= Duration::from_secs(20) && closed <= Duration::from_secs(21),
            "{closed:?}"
        );
    }

    /// A request in progress keeps it open however long it takes; `idle` counts from
    /// its end.
    #[tokio::test(start_paused = true)]
    async fn a_request_in_progress_keeps_it_open() {
        let closed = closed_after(Some(Duration::from_secs(60))).await;
        assert!(
            closed >= Duration::from_secs(80) && closed <= Duration::from_secs(83),
            "{closed:?}"
        );
    }
}
