//! The HTTP side of a configuration: cache headers, base path, timeouts, the download
//! limiter and the hot-body cache, built once per configuration.

use std::sync::Arc;

use hyper::header::HeaderValue;

/// The HTTP side of a configuration, with header values precomputed. It lives in the
/// snapshot, so a reload swaps it together with the feeds it was built with.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    pub cache_control: HeaderValue,
    /// Path prefix the feeds are also served under (the site's `baseurl`), e.g. `/blog`.
    pub baseurl: String,
    pub header_timeout: std::time::Duration,
    /// Silence allowed between keep-alive requests.
    pub idle_timeout: std::time::Duration,
    pub shutdown_timeout: std::time::Duration,
    /// Limit on full (200) feed downloads per client, when configured.
    pub rate_limit: Option<Arc<super::ratelimit::RateLimiter>>,
    /// Hot bodies of files on disk.
    pub bodies: Arc<super::bodies::BodyCache>,
}

impl HttpSettings {
    /// From the `[serve]` settings; the rate limiter (and the buckets it has filled) and
    /// the body cache are kept from `previous` when their settings did not change.
    pub fn new(
        serve: &crate::config::Serve,
        baseurl: &str,
        previous: Option<&HttpSettings>,
    ) -> HttpSettings {
        let value = format!(
            "public, max-age={}, stale-while-revalidate={}",
            serve.max_age, serve.stale_while_revalidate
        );
        let rate = serve.full_downloads_per_minute;
        let kept = previous
            .and_then(|p| p.rate_limit.clone())
            .filter(|l| l.per_minute() == rate);
        let budget = serve.body_cache_mib.saturating_mul(1 << 20);
        let bodies = previous
            .map(|p| p.bodies.clone())
            .filter(|b| b.budget() == budget)
            .unwrap_or_else(|| Arc::new(super::bodies::BodyCache::new(budget)));
        HttpSettings {
            bodies,
            cache_control: HeaderValue::from_str(&value)
                .unwrap_or_else(|_| HeaderValue::from_static("public, max-age=300")),
            baseurl: baseurl.trim_end_matches('/').to_string(),
            header_timeout: serve.header_timeout,
            idle_timeout: serve.idle_timeout,
            shutdown_timeout: serve.shutdown_timeout,
            rate_limit: kept
                .or_else(|| (rate > 0).then(|| Arc::new(super::ratelimit::RateLimiter::new(rate)))),
        }
    }
}

impl Default for HttpSettings {
    fn default() -> HttpSettings {
        HttpSettings::new(&crate::config::Serve::default(), "", None)
    }
}
