//! Custom feeds: what a query selects from a published version (its catalog) and the
//! feed made of it, cached per canonical URL. Below both the server (a query on a feed
//! URL) and the WebSub hub (a custom feed as a topic); neither makes them itself.

mod cache;

use std::sync::Arc;

pub use cache::{Answer, QueryCache};

use crate::snapshot::{FeedFile, Snapshot};

/// The feed in folder `dir`; one whose name ends in a hash (a very long name) is found
/// among the feeds.
pub fn key_of(dir: &str, snapshot: &Snapshot) -> Option<crate::layout::FeedKey> {
    crate::layout::FeedKey::from_dir(dir)
        .or_else(|| snapshot.feeds.keys().find(|k| k.dir() == dir).cloned())
}

/// A WebSub topic's current file: a published feed file (`tags/x/feed.xml`), or a
/// custom feed (`tags/x/feed.xml?<canonical query>`, as `websub::topic_file` gives it).
pub fn topic_body(
    snapshot: &Snapshot,
    queries: Option<&QueryCache>,
    rel: &str,
) -> Option<Arc<FeedFile>> {
    let Some((file, raw)) = rel.split_once('?') else {
        return snapshot.files.get(rel).cloned();
    };
    let (cache, catalog) = (queries?, snapshot.catalog.as_ref()?);
    let query = crate::query::Query::parse(raw).ok()??;
    let key = key_of(file.rsplit_once('/').map_or("", |(dir, _)| dir), snapshot)?;
    let settings = &snapshot.settings;
    match cache.answer(catalog, settings, (file, raw), &key, &query, false) {
        Answer::Feed(file) => Some(file),
        Answer::Plain => snapshot.files.get(file).cloned(),
        Answer::NotFound => None,
    }
}
