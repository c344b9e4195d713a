//! The change engine: the one pipeline from post files to published feeds. It is a state
//! machine that never touches the world: file changes (as data) and the time go in;
//! files to publish, files to remove, feed-change events and a report come out.
//! `feedd build` (scan everything, one `apply`) and `feedd serve` (the watcher's batches)
//! are two drivers of it; so are the tests, which feed it `Change`s and read `Output`s.
//!
//! Memory: raw post text lives only while its chunk of changes is applied. A post that is
//! among the newest `limit` of some feed is rendered then (`EntryParts`); the rest keep
//! only their metadata. A post that enters a feed later (a newer one was deleted, a
//! future one came due) has no rendered parts and no text: `apply` then asks the driver
//! to read it again (`Output::reread`) and renders nothing until it has; the new bytes
//! are applied like any change, so a file edited meanwhile is simply an edit.

mod archives;
mod catalog;
mod feeds;
mod listing;
mod memory;
mod posts;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_archive;
#[cfg(test)]
mod tests_custom;
#[cfg(test)]
mod tests_paging;

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::Arc;
use std::time::SystemTime;

use chrono::{DateTime, Utc};

use crate::config::Config;
use crate::error::PostError;
use crate::index::{FeedGroup, Index};
use crate::layout::{FeedKey, Format};
use crate::post::Post;
use crate::render::site::FeedInfo;
use crate::render::EntryParts;
use crate::url::SiteUrl;

/// Size and modification time of a post file when it was read: tells a rescan which
/// files changed. Data like any other; the engine never looks at the file itself.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stamp {
    pub len: u64,
    pub modified: Option<SystemTime>,
}

impl Stamp {
    pub fn of(meta: &std::fs::Metadata) -> Stamp {
        Stamp {
            len: meta.len(),
            modified: meta.modified().ok(),
        }
    }
}

/// What a file holds, as the driver could read it.
#[derive(Debug)]
pub enum Content {
    Bytes(Vec<u8>),
    /// Over `max_post_bytes` (its size): not read.
    TooLarge(u64),
    Unreadable(std::io::Error),
}

impl Content {
    /// The post this content is, by the site's rules: what the engine applies and what
    /// `feedd check` reports, one mapping of read failures to post errors.
    pub fn parse(self, rel: &str, config: &Config) -> Result<Option<Post>, PostError> {
        let err = |kind| PostError {
            path: rel.into(),
            line: 1,
            kind,
        };
        match self {
            Content::Bytes(bytes) => crate::post::parse_bytes(rel, &bytes, &config.rules),
            Content::TooLarge(size) => Err(err(crate::error::PostErrorKind::TooLarge {
                size,
                limit: config.max_post_bytes,
            })),
            Content::Unreadable(e) => Err(err(crate::error::PostErrorKind::Io(e))),
        }
    }
}

/// One change of the content directory, relative paths `/`-separated.
#[derive(Debug)]
pub enum Change {
    /// The file's current content. `complete` when its writer is known to be done
    /// (closed after writing, renamed into place); a half-written post is deferred.
    File {
        rel: String,
        stamp: Stamp,
        content: Content,
        complete: bool,
    },
    /// The path is gone, and so is everything below it.
    Gone { rel: String },
}

/// Where rendered files go as soon as they are made (from several threads): the disk
/// writer of `feedd build`, the snapshot of `feedd serve`, a `Vec` in tests. Rendering a
/// large site makes more bytes than should be held at once.
pub trait Sink: Sync {
    fn file(&self, rel: &str, bytes: Vec<u8>);
}

/// How a feed changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeedChangeKind {
    Added,
    Updated,
    Removed,
}

/// The event every consumer of the engine reads: which feed changed, in which formats,
/// and which entries (by source path) entered, left or changed in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedChange {
    pub key: FeedKey,
    pub kind: FeedChangeKind,
    /// Formats whose file bytes changed (all enabled ones when added or removed).
    pub formats: Vec<Format>,
    pub entered: Vec<String>,
    pub left: Vec<String>,
    pub changed: Vec<String>,
    /// Its archive files published or removed (never WebSub topics).
    pub archives: Vec<String>,
}

/// What one `apply` did, for the log line and tests.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Report {
    /// Changes applied.
    pub changes: usize,
    /// Posts whose parsed content (or presence) changed.
    pub posts_changed: usize,
    pub feeds_rendered: usize,
    /// Distinct posts rendered into entry parts.
    pub entries_rendered: usize,
    /// Posts that could not be read this time (`path:line: message`); their previous good
    /// version, if any, keeps serving.
    pub errors: Vec<String>,
}

/// What `apply` produced. The bytes of `published` went to the sink.
#[derive(Debug, Default)]
pub struct Output {
    /// Files whose bytes changed: exactly those handed to the sink (rendered in parallel,
    /// so in no particular order).
    pub published: Vec<String>,
    /// Files that no longer exist.
    pub removed: Vec<String>,
    pub feed_changes: Vec<FeedChange>,
    pub report: Report,
    /// Posts whose text the engine needs again (they entered a feed): read them and
    /// `apply` them. Until then the feeds they entered are not rendered.
    pub reread: Vec<String>,
    /// Half-written files (writer still busy): apply them again, complete, later.
    pub deferred: Vec<String>,
}

impl Output {
    /// Adds what a later `apply` did (e.g. one that answered `reread`).
    pub fn merge(&mut self, more: Output) {
        self.published.extend(more.published);
        self.removed.extend(more.removed);
        self.feed_changes.extend(more.feed_changes);
        let (r, m) = (&mut self.report, more.report);
        r.changes += m.changes;
        r.posts_changed += m.posts_changed;
        r.feeds_rendered += m.feeds_rendered;
        r.entries_rendered += m.entries_rendered;
        r.errors.extend(m.errors);
        self.reread = more.reread;
        self.deferred.extend(more.deferred);
    }
}

/// The hash maps of the engine, keyed by file paths the site's author chose: a fixed
/// fast hash (SipHash was 3% of a build) rather than DoS-resistant random seeding.
pub(crate) type PathMap<V> = HashMap<String, V, xxhash_rust::xxh3::Xxh3DefaultBuilder>;

/// Rendered entries by source: persistent, so the server's `Catalog` shares them.
pub type Parts = imbl::GenericHashMap<
    String,
    Arc<EntryParts>,
    xxhash_rust::xxh3::Xxh3DefaultBuilder,
    imbl::shared_ptr::DefaultSharedPtr,
>;

pub use catalog::Catalog;

/// The engine's state: every post file seen, the live index, rendered entries, and a
/// fingerprint of every published file.
pub struct Engine {
    fingerprint: String,
    /// The WebSub hubs every feed advertises.
    hubs: Vec<String>,
    config: Arc<Config>,
    site_url: SiteUrl,
    index: Index,
    /// Published posts dated in the future (unless `future`), by source.
    waiting: PathMap<(Post, crate::index::Kept)>,
    /// Every post file applied, good or bad, with the stamp it was read with and a hash
    /// of its bytes (the same bytes again are no change).
    files: PathMap<(Stamp, u128)>,
    /// How many of `files` each folder holds, at any depth: a vanished path that is
    /// neither a file nor one of these (an editor's or a scraper's temporary file, renamed
    /// away) costs a lookup, not a pass over every known file.
    folders: PathMap<usize>,
    /// Posts whose text was asked for (`Output::reread`).
    wanted: BTreeSet<String>,
    errors: BTreeMap<String, PostError>,
    /// Rendered entries of the posts that are in some feed, changed only through
    /// `keep_parts` and `drop_parts`, which keep `parts_weight` their total weight (summing
    /// 40,000 entries on every change was a tenth of a change's CPU).
    parts: Parts,
    parts_weight: usize,
    /// Each feed's row of the pages' lists and line of the OPML.
    listing: listing::Listing,
    /// Counts the applies that changed posts; with the posts each changed (the newest
    /// `catalog::KEPT`), it tells the server's caches of custom feeds what is stale.
    version: u64,
    changes: VecDeque<catalog::Changed>,
    groups: BTreeMap<FeedKey, FeedGroup>,
    infos: imbl::OrdMap<FeedKey, Arc<FeedInfo>>,
    /// Length and hash of every published file's bytes, by path.
    published: BTreeMap<String, (usize, u128)>,
    /// Feeds to look at again, and posts changed since they were last rendered: kept
    /// across an `apply` that had to ask for re-reads.
    pending_feeds: BTreeSet<FeedKey>,
    pending_posts: BTreeSet<String>,
    /// What each feed's page shows of its readers (`[stats] public`; `set_readers`).
    readers: BTreeMap<FeedKey, Arc<crate::stats::report::FeedReaders>>,
    /// Feeds whose pages must be rendered again though their entries did not change.
    pages_due: BTreeSet<FeedKey>,
    /// Each feed's archive documents, oldest first (`archives`).
    archives: BTreeMap<FeedKey, archives::Archive>,
    /// Where posts taken out of the index since the archives were last brought up to
    /// date were (their pages changed).
    moved: Vec<crate::index::Member>,
    /// Folders of the complete archive documents (`Engine::is_sealed`).
    sealed: std::collections::HashSet<String>,
    /// Whether posts' searchable text is kept: custom feeds' `q=`/`not=` words are looked
    /// for in it. Off (`without_search`) for a build whose custom feeds have no words: a
    /// fifth of a build's CPU went into text nothing would read.
    search: bool,
}

impl Engine {
    pub fn new(config: Config) -> Engine {
        let site_url = config.rules.site_url.clone();
        Engine {
            hubs: config.websub.advertised(&site_url),
            site_url,
            fingerprint: crate::manifest::fingerprint(&config),
            config: Arc::new(config),
            index: Index::default(),
            waiting: PathMap::default(),
            files: PathMap::default(),
            folders: PathMap::default(),
            wanted: BTreeSet::new(),
            errors: BTreeMap::new(),
            parts: Parts::default(),
            parts_weight: 0,
            listing: listing::Listing::default(),
            version: 0,
            changes: VecDeque::new(),
            groups: BTreeMap::new(),
            infos: imbl::OrdMap::new(),
            published: BTreeMap::new(),
            pending_feeds: BTreeSet::new(),
            pending_posts: BTreeSet::new(),
            readers: BTreeMap::new(),
            pages_due: BTreeSet::new(),
            archives: BTreeMap::new(),
            moved: Vec::new(),
            sealed: Default::default(),
            search: true,
        }
    }

    /// The engine of a run that asks no queries but the named custom feeds': posts keep
    /// searchable text only if one of those has words. The output is the same bytes.
    pub fn without_search(mut self) -> Engine {
        self.search = self.config.custom.has_words();
        self
    }

    /// Applies changes, in order, chunk after chunk (a full build passes the whole site
    /// in chunks so that only one chunk's text is held at once), at time `now` (which
    /// decides future-dated posts). Rendered files go to `sink`.
    pub fn apply(
        &mut self,
        chunks: impl IntoIterator<Item = Vec<Change>>,
        now: DateTime<Utc>,
        sink: &dyn Sink,
    ) -> Output {
        let mut out = Output::default();
        let mut batch = posts::Batch::default();
        for chunk in chunks {
            out.report.changes += chunk.len();
            self.apply_chunk(chunk, now, &mut batch, &mut out);
        }
        self.promote_due(now, &mut batch);
        self.finish(batch, sink, &mut out);
        out
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// New reader figures for the feeds' pages (once a day): the feeds whose figures
    /// changed are rendered again by the next `apply` (only their pages' bytes change).
    pub fn set_readers(&mut self, table: crate::stats::report::PagesTable) {
        let changed: Vec<FeedKey> = (self.readers.keys())
            .chain(table.keys())
            .filter(|k| self.readers.get(*k).map(|r| &**r) != table.get(*k))
            .filter(|k| self.groups.contains_key(*k))
            .cloned()
            .collect();
        self.pending_feeds.extend(changed.iter().cloned());
        self.pages_due.extend(changed);
        self.readers = table.into_iter().map(|(k, r)| (k, Arc::new(r))).collect();
    }

    /// `manifest::fingerprint` of the configuration, made once (it formats all of it).
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// Live posts.
    pub fn posts(&self) -> usize {
        self.index.len()
    }

    /// Posts that cannot be read now (their previous version, if any, still serves).
    pub fn errors(&self) -> impl Iterator<Item = &PostError> {
        self.errors.values()
    }

    /// The stamp a post file was last applied with.
    pub fn stamp(&self, rel: &str) -> Option<Stamp> {
        self.files.get(rel).map(|(stamp, _)| *stamp)
    }

    /// The hash of the bytes a post file was last applied with (0 when it could not be
    /// read, or was over the size limit).
    pub fn hash(&self, rel: &str) -> Option<u128> {
        self.files.get(rel).map(|(_, hash)| *hash)
    }

    /// Every post file the engine knows (good or bad), in no particular order.
    pub fn known(&self) -> impl Iterator<Item = &str> {
        self.files.keys().map(String::as_str)
    }

    /// Every file the engine has published (what the output dir should hold).
    pub fn files(&self) -> impl Iterator<Item = &str> {
        self.published.keys().map(String::as_str)
    }

    /// The hash of a published file's bytes (`hash::of`): the one hash of a version,
    /// which its ETag and the manifest are made of.
    pub fn print(&self, rel: &str) -> Option<u128> {
        self.published.get(rel).map(|(_, hash)| *hash)
    }

    /// Every feed's description, for the index page and lists.
    pub fn infos(&self) -> imbl::OrdMap<FeedKey, Arc<FeedInfo>> {
        self.infos.clone()
    }

    /// When the next future-dated post goes live; the driver calls `apply` then.
    pub fn next_due(&self) -> Option<DateTime<Utc>> {
        self.waiting
            .values()
            .map(|(p, _)| p.date.with_timezone(&Utc))
            .min()
    }
}

/// A sink that keeps every file, for tests and small drivers.
#[derive(Default)]
pub struct Collect(pub std::sync::Mutex<Vec<(String, Vec<u8>)>>);

impl Sink for Collect {
    fn file(&self, rel: &str, bytes: Vec<u8>) {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((rel.to_string(), bytes));
    }
}

impl Collect {
    pub fn into_files(self) -> Vec<(String, Vec<u8>)> {
        self.0.into_inner().unwrap_or_else(|e| e.into_inner())
    }
}
