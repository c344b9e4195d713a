//! The HTTP server (hyper 1, HTTP/1.1 and cleartext HTTP/2): `run` takes the listener and
//! the shutdown future, so tests bind port 0 and socket activation needs nothing special.
//! Limits: header read timeout, header size, concurrent connections. Shutdown stops
//! accepting and lets in-flight requests finish, bounded.

pub mod caching;
pub mod custom;
pub mod encoding;
pub mod handler;
mod idle;
pub mod work;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::Request;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use crate::metrics::Metrics;
use crate::snapshot::Snapshot;
pub use handler::HttpSettings;

/// The protocol settings of one connection, from the settings current when it opened.
fn connection_builder(settings: &HttpSettings) -> auto::Builder<TokioExecutor> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(settings.header_timeout)
        .max_buf_size(MAX_HEADER_BYTES.max(8192))
        .keep_alive(true);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_header_list_size(MAX_HEADER_BYTES as u32)
        .max_concurrent_streams(64)
        .keep_alive_interval(Some(Duration::from_secs(30)));
    builder
}

/// Largest request head we read (bigger ones get 431 or a closed connection).
pub const MAX_HEADER_BYTES: usize = 16 * 1024;

/// Everything a connection needs. Timeouts, cache headers and the download limit come
/// from the current snapshot's settings, so a reload changes them with the feeds; the
/// connection cap is fixed at start (a reload that changes it says so).
pub struct Server {
    pub snapshot: Arc<ArcSwap<Snapshot>>,
    pub metrics: Arc<Metrics>,
    pub max_connections: usize,
    /// The built-in WebSub hub, answering at `HttpSettings::hub_path`.
    pub hub: Option<Arc<crate::websub::hub::Hub>>,
    /// Where custom feeds are made when they are not cached (`work`).
    pub work: work::WorkPool,
    /// Hot bodies, custom feeds, the download limiter: the server's, shared with the hub.
    pub caches: Arc<crate::caches::Shared>,
    /// Counts each poll of a feed for the subscriber figures (`[stats] enabled`).
    pub stats: Option<Arc<crate::stats::live::Live>>,
}

impl Server {
    /// Serves until `shutdown` resolves, then drains in-flight requests (bounded).
    pub async fn run(self: Arc<Self>, listener: TcpListener, shutdown: impl Future<Output = ()>) {
        let permits = Arc::new(Semaphore::new(self.max_connections));
        let graceful = hyper_util::server::graceful::GracefulShutdown::new();
        tokio::pin!(shutdown);
        loop {
            let accepted = tokio::select! {
                accepted = listener.accept() => accepted,
                () = &mut shutdown => break,
            };
            let (stream, peer) = match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // EMFILE and friends: back off instead of spinning.
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            let Ok(permit) = permits.clone().try_acquire_owned() else {
                self.metrics.refused();
                drop(stream);
                continue;
            };
            let _ = stream.set_nodelay(true);
            let settings = self.snapshot.load().settings.clone();
            let builder = connection_builder(&settings);
            let server = self.clone();
            let stream =
                idle::IdleTimeout::new(stream, settings.header_timeout, settings.idle_timeout);
            let activity = stream.activity();
            let service = service_fn(move |req: Request<Incoming>| {
                let server = server.clone();
                let request = activity.begin();
                async move {
                    let hub = server.hub.as_ref().filter(|h| {
                        h.serves_requests()
                            && server
                                .snapshot
                                .load()
                                .settings
                                .is_hub_path(req.uri().path())
                    });
                    let response = match hub {
                        Some(hub) => {
                            let snapshot = server.snapshot.load_full();
                            let caches = server.caches.get(&snapshot.settings);
                            let published = (&*snapshot, caches.queries.as_deref());
                            let response = hub.respond(req, peer.ip(), published).await;
                            server.metrics.response(response.status().as_u16(), 0);
                            response
                        }
                        None => server.handle(req, peer.ip()).await,
                    };
                    let response = response.map(|body| idle::Tracked::new(body, request));
                    Ok::<_, std::convert::Infallible>(response)
                }
            });
            let conn = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
            let conn = graceful.watch(conn.into_owned());
            tokio::spawn(async move {
                let _ = conn.await;
                drop(permit);
            });
        }
        drop(listener);
        let shutdown_timeout = self.snapshot.load().settings.shutdown_timeout;
        tokio::select! {
            () = graceful.shutdown() => {}
            () = tokio::time::sleep(shutdown_timeout) => {
                tracing::warn!("shutdown: some connections did not finish in time");
            }
        }
    }

    /// Answers on this worker, or, for a custom feed that must be made, on the work
    /// pool (503 when its budget is spent).
    async fn handle(
        self: &Arc<Self>,
        req: Request<Incoming>,
        client: std::net::IpAddr,
    ) -> hyper::Response<handler::Body> {
        let snapshot = self.snapshot.load_full();
        let caches = self.caches.get(&snapshot.settings);
        let (parts, _) = req.into_parts();
        if let Some(page) = self.readers_page(parts.uri.path(), &snapshot.settings.baseurl) {
            let head = parts.method == hyper::Method::HEAD;
            return self.finish(readers_response(page, head), client, &caches);
        }
        // What counting needs of the request, kept before the work pool may take it.
        let counted = (self.stats.as_ref()).map(|_| crate::stats::live::Asked::of(&parts.headers));
        let here = handler::respond(
            &parts.method,
            parts.uri.path(),
            parts.uri.query(),
            &parts.headers,
            (&*snapshot, &*caches),
            &|| self.metrics_text(),
            false,
        );
        let response = match here {
            Some(response) => response,
            None => {
                let (server, work_caches) = (self.clone(), caches.clone());
                let made = self.work.run(move || {
                    let (uri, method, headers) = (&parts.uri, &parts.method, &parts.headers);
                    let metrics = || server.metrics_text();
                    let (path, query) = (uri.path(), uri.query());
                    let published = (&*snapshot, &*work_caches);
                    handler::respond(method, path, query, headers, published, &metrics, true)
                });
                match made.await.flatten() {
                    Some(response) => response,
                    None => handler::busy(),
                }
            }
        };
        if let (Some(stats), Some(asked)) = (&self.stats, &counted) {
            if let Some(polled) = response.extensions().get::<crate::stats::live::Polled>() {
                stats.record(&polled.0, client, asked);
            }
        }
        self.finish(response, client, &caches)
    }

    /// The `/stats/` page, when `[stats] public` and this is its path.
    fn readers_page(&self, path: &str, baseurl: &str) -> Option<bytes::Bytes> {
        let stats = self.stats.as_ref()?;
        (path == crate::url::under_base(baseurl, "/stats/")).then(|| stats.page())?
    }

    /// `/metrics`: the server's and, when counting, the readers per feed.
    fn metrics_text(&self) -> String {
        let mut text = self.metrics.render();
        if let Some(stats) = &self.stats {
            text.push_str(&stats.metrics());
        }
        text
    }

    /// The download limit and the metrics, for every response from `handle`.
    fn finish(
        &self,
        response: hyper::Response<handler::Body>,
        client: std::net::IpAddr,
        caches: &crate::caches::Caches,
    ) -> hyper::Response<handler::Body> {
        // Only full feed downloads count (not pages or their style sheet and script);
        // 304s and errors are cheap and never limited.
        let is_feed = response
            .headers()
            .get(hyper::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|t| {
                t != crate::layout::PAGE_CONTENT_TYPE
                    && crate::layout::ASSETS.iter().all(|(_, asset)| t != *asset)
            });
        let full_download = response.status() == hyper::StatusCode::OK
            && response.headers().contains_key(hyper::header::ETAG)
            && is_feed;
        let response = match (&caches.rate_limit, full_download) {
            (Some(limiter), true) => match limiter.take(client, std::time::Instant::now()) {
                Ok(()) => response,
                Err(wait) => handler::too_many_requests(wait),
            },
            _ => response,
        };
        let bytes = hyper::body::Body::size_hint(response.body())
            .exact()
            .unwrap_or(0);
        self.metrics.response(response.status().as_u16(), bytes);
        response
    }
}

/// The readers page: made each minute, so caches may keep it that long.
fn readers_response(page: bytes::Bytes, head: bool) -> hyper::Response<handler::Body> {
    let body = if head { bytes::Bytes::new() } else { page };
    let mut response = hyper::Response::new(http_body_util::Full::new(body));
    let h = response.headers_mut();
    h.insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static(crate::layout::PAGE_CONTENT_TYPE),
    );
    h.insert(
        hyper::header::CACHE_CONTROL,
        hyper::header::HeaderValue::from_static("public, max-age=60"),
    );
    response
}
