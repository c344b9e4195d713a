//! Custom feeds asked for in a URL (`/feed.xml?cat=emnews&q=美元`), answered from the
//! snapshot's catalog. Results are cached per canonical URL and format, within a byte
//! budget (`[query] cache_mib`); a cached result made at an older version is checked
//! against the posts changed since (`feed::still_valid`) instead of being made again,
//! so a 304 costs what it costs on a published feed. An entry that is in no published
//! feed is read from its post file and rendered by the engine's own functions (the same
//! `read`, parse and `entry_parts`), and kept in the same budget.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::SystemTime;

use bytes::Bytes;
use quick_cache::sync::Cache;

use crate::engine::{Catalog, Change};
use crate::layout::{FeedKey, Format, PAGE_CONTENT_TYPE};
use crate::query::feed::{self, Plan};
use crate::query::Query;
use crate::render::EntryParts;
use crate::snapshot::FeedFile;

/// What an entry costs beyond its bytes, for the budget.
const OVERHEAD: u64 = 256;

/// One result: the file served, and what it was made from.
struct Made {
    file: Arc<FeedFile>,
    plan: Plan,
    result: Vec<Arc<str>>,
    /// The newest catalog version it is known to hold for (moved on when a check finds
    /// it still valid), and the configuration it was made with.
    version: AtomicU64,
    config: Arc<crate::config::Config>,
}

#[derive(Clone)]
struct Weight;

impl quick_cache::Weighter<String, Arc<Made>> for Weight {
    fn weight(&self, key: &String, made: &Arc<Made>) -> u64 {
        // Compressed variants are made on demand and kept with the file: about as much
        // again in all.
        let len = made.file.in_memory().map_or(0, Bytes::len) as u64;
        key.len() as u64 + 2 * len + OVERHEAD
    }
}

impl quick_cache::Weighter<String, String> for Weight {
    fn weight(&self, key: &String, value: &String) -> u64 {
        (key.len() + value.len()) as u64 + OVERHEAD
    }
}

impl quick_cache::Weighter<String, (u64, Arc<EntryParts>)> for Weight {
    fn weight(&self, key: &String, (_, parts): &(u64, Arc<EntryParts>)) -> u64 {
        (key.len() + parts.weight()) as u64
    }
}

/// The results, their spellings and the entries rendered for them; kept across reloads
/// (a result made with another configuration is never used).
pub struct QueryCache {
    results: Cache<String, Arc<Made>, Weight>,
    /// A query string as sent → its result's key: a poll with the same URL (the common
    /// case: a reader asking again) finds its result without parsing the query.
    spelled: Cache<String, String, Weight>,
    entries: Cache<String, (u64, Arc<EntryParts>), Weight>,
    budget: usize,
}

/// What a request for a custom feed gets.
pub enum Answer {
    Feed(Arc<FeedFile>),
    /// The feed at the path does not exist.
    NotFound,
    /// The query selects nothing the feed does not (`limit=` at or above its own).
    Plain,
}

impl QueryCache {
    pub fn new(bytes: usize) -> QueryCache {
        let budget = bytes as u64;
        let items = (budget / 50_000).clamp(16, 1 << 20) as usize;
        QueryCache {
            results: Cache::with_weighter(items, budget * 3 / 4, Weight),
            spelled: Cache::with_weighter(items, budget / 32, Weight),
            entries: Cache::with_weighter(items, budget / 4 - budget / 32, Weight),
            budget: bytes,
        }
    }

    /// The byte budget it was made with.
    pub fn budget(&self) -> usize {
        self.budget
    }

    /// The result for this URL as sent, if it was made for this very version.
    pub fn current(
        &self,
        catalog: &Catalog,
        rel: &str,
        raw: &str,
        page: bool,
    ) -> Option<Arc<FeedFile>> {
        let key = self.spelled.get(&spelling(rel, raw, page))?;
        let made = self.results.get(&key)?;
        (made.version.load(Ordering::Relaxed) == catalog.version
            && Arc::ptr_eq(&made.config, &catalog.config))
        .then(|| made.file.clone())
    }

    /// The custom feed `query` (sent as `raw`) selects from the feed file `rel` (a page
    /// for a browser when `page`), made now or taken from the cache.
    pub fn answer(
        &self,
        catalog: &Catalog,
        settings: &crate::http_settings::HttpSettings,
        (rel, raw): (&str, &str),
        key: &FeedKey,
        query: &Query,
        page: bool,
    ) -> Answer {
        let name = rel.rsplit('/').next().unwrap_or(rel);
        let Some(format) = Format::from_file_name(name) else {
            return Answer::NotFound;
        };
        let what = if page { "page" } else { format.file_name() };
        let cache_key = format!("{}{what}?{}", key.dir(), query.canonical());
        self.spelled
            .insert(spelling(rel, raw, page), cache_key.clone());
        let config = &catalog.config;
        let cached = (self.results.get(&cache_key)).filter(|m| Arc::ptr_eq(&m.config, config));
        if let Some(made) = &cached {
            let version = made.version.load(Ordering::Relaxed);
            if version == catalog.version
                || feed::still_valid(catalog, &made.plan, &made.result, version)
            {
                made.version.fetch_max(catalog.version, Ordering::Relaxed);
                return Answer::Feed(made.file.clone());
            }
        }
        let Some(plan) = feed::plan(catalog, key, query) else {
            return Answer::NotFound;
        };
        if plan.is_plain() {
            return Answer::Plain;
        }
        let result = feed::select(catalog, &plan);
        let shown = plan.page(&result);
        let entries: Vec<Arc<EntryParts>> = (shown.iter())
            .filter_map(|source| self.entry(catalog, source))
            .collect();
        let (bytes, content_type) = if page {
            let bytes = feed::page(catalog, &plan, (&result, &entries));
            (bytes, PAGE_CONTENT_TYPE)
        } else {
            let bytes = feed::render(catalog, &plan, (&result, &entries), format);
            (bytes, format.content_type())
        };
        let links = (!page && !plan.is_later_page())
            .then(|| settings.links(&format!("{rel}?{}", plan.canonical)))
            .flatten();
        let mut file =
            FeedFile::new(Bytes::from(bytes), content_type, SystemTime::now()).with_links(links);
        // The same bytes as before keep their Last-Modified.
        if let Some(old) = cached.filter(|old| old.file.same_bytes(&file)) {
            file = file.with_last_modified(old.file.last_modified);
        }
        let file = Arc::new(file);
        // An entry that could not be read now (a post being written) is missing from
        // these bytes: served, but not kept, so the next request tries again.
        if entries.len() < shown.len() {
            return Answer::Feed(file);
        }
        let made = Made {
            file: file.clone(),
            plan,
            result,
            version: AtomicU64::new(catalog.version),
            config: config.clone(),
        };
        self.results.insert(cache_key, Arc::new(made));
        Answer::Feed(file)
    }

    /// A selected post's rendered entry: the engine's, else one rendered here from its
    /// file (kept while the post does not change).
    fn entry(&self, catalog: &Catalog, source: &str) -> Option<Arc<EntryParts>> {
        if let Some(parts) = catalog.parts.get(source) {
            return Some(parts.clone());
        }
        if let Some((version, parts)) = self.entries.get(source) {
            let unchanged = catalog
                .changed_since(version)
                .is_some_and(|mut changed| changed.all(|p| p != source));
            if unchanged {
                return Some(parts);
            }
        }
        let config = &catalog.config;
        let change = crate::content::read(&config.content_dir, source, config.max_post_bytes, true);
        let Change::File { content, .. } = change else {
            return None;
        };
        let post = match content.parse(source, config) {
            Ok(Some(post)) => post,
            Ok(None) => return None,
            Err(e) => {
                tracing::warn!("custom feed: {e}");
                return None;
            }
        };
        let parts = crate::render::site::entry_parts(
            &post,
            &post.body,
            None,
            &config.site,
            &catalog.site_url,
        );
        let parts = Arc::new(parts);
        self.entries
            .insert(source.to_string(), (catalog.version, parts.clone()));
        Some(parts)
    }
}

fn spelling(rel: &str, raw: &str, page: bool) -> String {
    format!("{rel}{}?{raw}", if page { "#page" } else { "" })
}

impl std::fmt::Debug for QueryCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QueryCache")
            .field("results", &self.results.len())
            .field("entries", &self.entries.len())
            .finish()
    }
}
