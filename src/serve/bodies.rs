//! A bounded cache of hot response bodies, by content hash and encoding. Bodies live in
//! the published files; reading one per request costs an open, a stat and a copy out of
//! the page cache, which made a popular 330 KB feed slower to send than nginx's
//! `sendfile`. The few feeds that are asked for all the time stay here instead, up to a
//! byte budget (`[serve] body_cache_mib`), least recently and least frequently used
//! going first (`quick_cache`'s CLOCK-Pro: a crawl through every feed once does not
//! evict the hot ones). Keys are content hashes, so a new version never finds an old
//! body, and nothing needs invalidating.

use bytes::Bytes;
use quick_cache::sync::Cache;

use crate::snapshot::Encoding;

/// What an entry costs beyond its bytes (key, bookkeeping), for the budget.
const OVERHEAD: u64 = 96;

#[derive(Clone)]
struct ByLength;

impl quick_cache::Weighter<(String, Encoding), Bytes> for ByLength {
    fn weight(&self, _key: &(String, Encoding), body: &Bytes) -> u64 {
        body.len() as u64 + OVERHEAD
    }
}

pub struct BodyCache {
    cache: Option<Cache<(String, Encoding), Bytes, ByLength>>,
    budget: u64,
}

impl BodyCache {
    /// A cache holding at most `budget` bytes (0: none, every body is read from disk).
    pub fn new(budget: u64) -> BodyCache {
        let cache = (budget > 0).then(|| {
            // A guess at the count for sizing the table: feeds of ~50 KB.
            let items = (budget / 50_000).clamp(16, 1 << 20) as usize;
            Cache::with_weighter(items, budget, ByLength)
        });
        BodyCache { cache, budget }
    }

    pub fn budget(&self) -> u64 {
        self.budget
    }

    pub fn get(&self, hash: &str, encoding: Encoding) -> Option<Bytes> {
        self.cache.as_ref()?.get(&(hash.to_string(), encoding))
    }

    pub fn insert(&self, hash: &str, encoding: Encoding, body: &Bytes) {
        if let Some(cache) = &self.cache {
            // A body larger than the whole budget would only evict everything else.
            if body.len() as u64 + OVERHEAD <= self.budget / 4 {
                cache.insert((hash.to_string(), encoding), body.clone());
            }
        }
    }
}

impl std::fmt::Debug for BodyCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BodyCache")
            .field("budget", &self.budget)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_bodies_by_hash_and_encoding_within_its_budget() {
        let cache = BodyCache::new(40_000);
        let body = Bytes::from(vec![b'x'; 1000]);
        cache.insert("aa", Encoding::Gzip, &body);
        assert_eq!(cache.get("aa", Encoding::Gzip), Some(body.clone()));
        assert_eq!(cache.get("aa", Encoding::Identity), None);
        assert_eq!(cache.get("bb", Encoding::Gzip), None);
        // Too large for a quarter of the budget: not kept.
        cache.insert("big", Encoding::Identity, &Bytes::from(vec![0; 20_000]));
        assert_eq!(cache.get("big", Encoding::Identity), None);
        // Many more than fit: the total stays within the budget.
        for i in 0..200 {
            cache.insert(&format!("k{i}"), Encoding::Identity, &body);
        }
        let kept = (0..200)
            .filter(|i| cache.get(&format!("k{i}"), Encoding::Identity).is_some())
            .count();
        assert!(kept > 0 && kept * 1096 <= 40_000, "{kept} kept");
        let off = BodyCache::new(0);
        off.insert("aa", Encoding::Gzip, &body);
        assert_eq!(off.get("aa", Encoding::Gzip), None);
    }
}
