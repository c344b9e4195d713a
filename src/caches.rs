//! What answering keeps beside the published snapshot: hot bodies, custom feeds made for
//! a URL, and the download limiter's buckets. They are the server's (the WebSub hub
//! shares the first two), not the snapshot's: a snapshot is data, and these outlive it.
//! A reload keeps each one whose size did not change, so a new configuration does not
//! empty the caches or forgive a client its downloads.

use std::sync::Arc;

use arc_swap::ArcSwap;

use crate::bodies::BodyCache;
use crate::custom::QueryCache;
use crate::http_settings::HttpSettings;
use crate::ratelimit::RateLimiter;

/// The caches for one configuration's HTTP settings.
pub struct Caches {
    /// The settings these were made for (compared by pointer).
    made_for: Arc<HttpSettings>,
    pub bodies: Arc<BodyCache>,
    /// `None` while `[query] enabled = false`.
    pub queries: Option<Arc<QueryCache>>,
    /// `None` without a download limit.
    pub rate_limit: Option<Arc<RateLimiter>>,
}

impl Caches {
    fn new(settings: &Arc<HttpSettings>, previous: Option<&Caches>) -> Caches {
        let budget = settings.body_cache_bytes;
        let bodies = (previous.map(|p| p.bodies.clone()))
            .filter(|b| b.budget() == budget)
            .unwrap_or_else(|| Arc::new(BodyCache::new(budget)));
        let queries = settings.query_cache_bytes.map(|bytes| {
            (previous.and_then(|p| p.queries.clone()))
                .filter(|q| q.budget() == bytes)
                .unwrap_or_else(|| Arc::new(QueryCache::new(bytes)))
        });
        let rate = settings.downloads_per_minute;
        let rate_limit = (rate > 0).then(|| {
            (previous.and_then(|p| p.rate_limit.clone()))
                .filter(|l| l.per_minute() == rate)
                .unwrap_or_else(|| Arc::new(RateLimiter::new(rate)))
        });
        Caches {
            made_for: settings.clone(),
            bodies,
            queries,
            rate_limit,
        }
    }
}

/// The current caches, made anew (keeping what may be kept) when the settings change.
pub struct Shared(ArcSwap<Caches>);

impl Shared {
    pub fn new(settings: &Arc<HttpSettings>) -> Shared {
        Shared(ArcSwap::from_pointee(Caches::new(settings, None)))
    }

    /// The caches for `settings` (a snapshot's): the current ones while the settings are
    /// the same, else new ones. Two requests seeing new settings at once may both make
    /// them; the caches they keep are the same ones, so nothing is lost.
    pub fn get(&self, settings: &Arc<HttpSettings>) -> Arc<Caches> {
        let current = self.0.load_full();
        if Arc::ptr_eq(&current.made_for, settings) {
            return current;
        }
        let next = Arc::new(Caches::new(settings, Some(&current)));
        self.0.store(next.clone());
        next
    }
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("caches::Shared").finish()
    }
}
