//! The published state the server answers from, as data: every file's validators and
//! where its bytes are, the feed list, the HTTP settings of the configuration that built
//! them and the catalog custom feeds select from, swapped whole (`arc-swap`) so a
//! request sees one version or the next, never a mix — a reload changes feeds and
//! settings in one store. Only the rebuild loop makes snapshots. Reading the bytes, and
//! the compressed variants and caches that go with reading, are `bodies`'s.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;

pub use crate::compress::{compress, Encoding};

/// Where a published file's bytes are. Files are replaced on disk by rename, never
/// rewritten in place, so a file with the recorded size and mtime is still this version.
#[derive(Debug, Clone)]
pub enum Store {
    /// Not on disk (yet): the disk writer has not written it, or it never will (a custom
    /// feed made for a request).
    Memory(Bytes),
    /// In `path`, as long as the file there has this size and mtime; its precompressed
    /// copies beside it.
    Disk {
        path: PathBuf,
        len: u64,
        modified: SystemTime,
    },
}

/// One published file: its validators and where its bytes are.
#[derive(Debug, Clone)]
pub struct FeedFile {
    pub content_type: &'static str,
    /// When these bytes were first published (whole seconds; never goes backwards).
    pub last_modified: SystemTime,
    pub last_modified_header: String,
    /// The hash the variant ETags share: `"<hash>"`, `"<hash>-gzip"`, …
    hash: String,
    /// A feed's `Link` header: its WebSub hubs and its topic URL (`rel="self"`).
    pub links: Option<hyper::header::HeaderValue>,
    pub store: Store,
    /// A complete archive document: it changes only if one of its posts does, so caches
    /// may keep it for a year without asking (`Engine::is_sealed`).
    pub immutable: bool,
}

impl FeedFile {
    fn with_store(
        content_type: &'static str,
        last_modified: SystemTime,
        hash: String,
        store: Store,
    ) -> FeedFile {
        let last_modified = whole_seconds(last_modified);
        FeedFile {
            content_type,
            last_modified_header: httpdate::fmt_http_date(last_modified),
            last_modified,
            hash,
            links: None,
            store,
            immutable: false,
        }
    }

    /// A file held in memory.
    pub fn new(bytes: Bytes, content_type: &'static str, last_modified: SystemTime) -> FeedFile {
        let hash = crate::hash::of(&bytes);
        FeedFile::rendered(bytes, hash, content_type, last_modified)
    }

    /// A file held in memory whose bytes hash to `hash` (`hash::of`, as the engine took it).
    pub fn rendered(
        bytes: Bytes,
        hash: u128,
        content_type: &'static str,
        last_modified: SystemTime,
    ) -> FeedFile {
        let hash = crate::hash::tag(hash);
        FeedFile::with_store(content_type, last_modified, hash, Store::Memory(bytes))
    }

    /// The same file with its `Link` header (see `HttpSettings::links`).
    pub fn with_links(mut self, links: Option<hyper::header::HeaderValue>) -> FeedFile {
        self.links = links;
        self
    }

    /// The same file, complete (or not) as an archive document.
    pub fn with_immutable(mut self, immutable: bool) -> FeedFile {
        self.immutable = immutable;
        self
    }

    /// The hash of the bytes: which version this is (a WebSub subscriber's last one).
    pub fn hash(&self) -> &str {
        &self.hash
    }

    /// The same file first published at another time.
    pub fn with_last_modified(mut self, last_modified: SystemTime) -> FeedFile {
        self.last_modified = whole_seconds(last_modified);
        self.last_modified_header = httpdate::fmt_http_date(self.last_modified);
        self
    }

    /// The same file (validators unchanged), now read from `path`, which the disk writer
    /// has just written with these bytes and found with this size and mtime.
    pub fn on_disk(&self, path: PathBuf, len: u64, modified: SystemTime) -> FeedFile {
        FeedFile::restored(
            self.content_type,
            self.last_modified,
            self.hash.clone(),
            (path, len, modified),
        )
        .with_links(self.links.clone())
        .with_immutable(self.immutable)
    }

    /// A file already on disk from before a restart, as the manifest recorded it.
    pub fn restored(
        content_type: &'static str,
        last_modified: SystemTime,
        hash: String,
        (path, len, modified): (PathBuf, u64, SystemTime),
    ) -> FeedFile {
        let store = Store::Disk {
            path,
            len,
            modified,
        };
        FeedFile::with_store(content_type, last_modified, hash, store)
    }

    /// The hash and the size and mtime on disk, once the file is there (for the manifest).
    pub fn on_disk_as(&self) -> Option<(&str, u64, SystemTime)> {
        match &self.store {
            Store::Disk { len, modified, .. } => Some((&self.hash, *len, *modified)),
            Store::Memory(_) => None,
        }
    }

    /// The bytes, while held in memory (`None` once on disk).
    pub fn in_memory(&self) -> Option<&Bytes> {
        match &self.store {
            Store::Memory(bytes) => Some(bytes),
            Store::Disk { .. } => None,
        }
    }

    /// Whether the hashes of two files' bytes are the same.
    pub fn same_bytes(&self, other: &FeedFile) -> bool {
        self.hash == other.hash
    }

    /// The ETag of one variant: `"<hash>"` for identity, `"<hash>-<token>"` otherwise.
    pub fn etag(&self, encoding: Encoding) -> String {
        match encoding {
            Encoding::Identity => format!("\"{}\"", self.hash),
            other => format!("\"{}-{}\"", self.hash, other.token()),
        }
    }

    /// Whether an entity tag (from If-None-Match, `W/` already removed, quotes kept)
    /// names any variant of these bytes: clients send back the tag of the gzip response.
    pub fn has_tag(&self, tag: &str) -> bool {
        let Some(inner) = tag.strip_prefix('"').and_then(|t| t.strip_suffix('"')) else {
            return false;
        };
        match inner.strip_prefix(self.hash.as_str()) {
            Some("") => true,
            Some(rest) => matches!(rest, "-gzip" | "-br" | "-zstd"),
            None => false,
        }
    }
}

fn whole_seconds(t: SystemTime) -> SystemTime {
    let secs = t
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    UNIX_EPOCH + Duration::from_secs(secs)
}

/// Everything the server answers from, at one moment.
#[derive(Debug, Default)]
pub struct Snapshot {
    /// By path relative to the output dir (`tags/西海都市报新闻/feed.xml`, `feeds.opml`).
    /// A persistent map: a new snapshot shares all unchanged entries with the last one,
    /// so publishing one feed costs O(log n), not a copy of every file's entry.
    pub files: imbl::HashMap<String, Arc<FeedFile>>,
    pub feeds: imbl::OrdMap<crate::layout::FeedKey, Arc<crate::render::site::FeedInfo>>,
    pub site_title: String,
    pub formats: Vec<crate::layout::Format>,
    /// The HTTP settings of the configuration these files were built with.
    pub settings: Arc<crate::http_settings::HttpSettings>,
    pub posts: usize,
    /// Counts each publish; for logs and `/healthz`.
    pub generation: u64,
    /// `manifest::fingerprint` of the configuration these files were built with.
    pub fingerprint: String,
    /// What custom feeds are selected from (`None` until the first build is done).
    pub catalog: Option<Arc<crate::engine::Catalog>>,
}

impl Snapshot {
    /// The same snapshot with other file entries (the disk writer moving bodies from
    /// memory to disk); everything else, the rendered index page included, is kept.
    pub fn with_files(&self, files: imbl::HashMap<String, Arc<FeedFile>>) -> Snapshot {
        Snapshot {
            files,
            feeds: self.feeds.clone(),
            site_title: self.site_title.clone(),
            formats: self.formats.clone(),
            posts: self.posts,
            generation: self.generation,
            fingerprint: self.fingerprint.clone(),
            settings: self.settings.clone(),
            catalog: self.catalog.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_variant_tag_names_the_same_bytes() {
        let file = FeedFile::new(Bytes::from("<feed/>"), "text/plain", SystemTime::now());
        for encoding in [
            Encoding::Identity,
            Encoding::Gzip,
            Encoding::Brotli,
            Encoding::Zstd,
        ] {
            assert!(file.has_tag(&file.etag(encoding)), "{encoding:?}");
        }
        assert!(!file.has_tag("\"0000000000000000\""));
        assert!(!file.has_tag(&file.etag(Encoding::Identity).replace('"', "")));
        let other = FeedFile::new(
            Bytes::from("<feed></feed>"),
            "text/plain",
            SystemTime::now(),
        );
        assert!(!other.has_tag(&file.etag(Encoding::Gzip)) && !other.same_bytes(&file));
    }
}
