//! The published state the server answers from: every file's bytes with its precomputed
//! cache headers, and the HTTP settings of the configuration that built them, swapped
//! whole (`arc-swap`) so a request sees one version or the next, never a mix — a reload
//! changes feeds and settings in one store. Compressed variants are made once per
//! version, on first request, and kept.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;

pub use crate::compress::{compress, Encoding};

/// Where a published file's bytes are. Files are replaced on disk by rename, never
/// rewritten in place, and are read whole into memory for a response (no mapping: a file
/// truncated behind feedd's back is a short read, not a SIGBUS), so a response never
/// changes under its reader.
#[derive(Debug)]
enum Store {
    /// Not on disk (yet): the disk writer has not written it, or it never will (the index
    /// page). Compressed variants are made on first use and kept with it.
    Memory {
        bytes: Bytes,
        variants: [OnceLock<Bytes>; 3],
    },
    /// In `path`, as long as the file there has this size and mtime; its precompressed
    /// copies beside it.
    Disk {
        path: PathBuf,
        len: u64,
        modified: SystemTime,
    },
}

/// Why a body could not be had.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    #[error("{}: changed behind feedd's back (size or mtime differ from what was published)", .0.display())]
    Changed(PathBuf),
    #[error("{}: cannot read", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// One published file: its validators and where its bytes are.
#[derive(Debug)]
pub struct FeedFile {
    pub content_type: &'static str,
    /// When these bytes were first published (whole seconds; never goes backwards).
    pub last_modified: SystemTime,
    pub last_modified_header: String,
    /// The hash the variant ETags share: `"<hash>"`, `"<hash>-gzip"`, …
    hash: String,
    /// A feed's `Link` header: its WebSub hubs and its topic URL (`rel="self"`).
    pub links: Option<hyper::header::HeaderValue>,
    store: Store,
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
        let store = Store::Memory {
            bytes,
            variants: Default::default(),
        };
        FeedFile::with_store(content_type, last_modified, hash, store)
    }

    /// The same file with its `Link` header (see `HttpSettings::links`).
    pub fn with_links(mut self, links: Option<hyper::header::HeaderValue>) -> FeedFile {
        self.links = links;
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
            Store::Memory { .. } => None,
        }
    }

    /// The bytes, while held in memory (`None` once on disk).
    pub fn in_memory(&self) -> Option<&Bytes> {
        match &self.store {
            Store::Memory { bytes, .. } => Some(bytes),
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

    /// The body for an encoding, and the encoding it is in: a file on disk whose
    /// precompressed copy is not written yet is answered in identity, at once. Bodies read
    /// from disk go through `hot`, the bounded cache of the most requested ones.
    pub fn body(
        &self,
        encoding: Encoding,
        hot: &crate::serve::bodies::BodyCache,
    ) -> Result<(Bytes, Encoding), BodyError> {
        match &self.store {
            Store::Memory { bytes, variants } => {
                let Some(at) = Encoding::COMPRESSED.iter().position(|e| *e == encoding) else {
                    return Ok((bytes.clone(), Encoding::Identity));
                };
                let variant = variants[at].get_or_init(|| {
                    // Compressors over-allocate (zstd reserves its worst-case bound);
                    // keep only what is used, since variants live as long as the file.
                    let mut out = compress(bytes, encoding);
                    out.shrink_to_fit();
                    Bytes::from(out)
                });
                Ok((variant.clone(), encoding))
            }
            Store::Disk {
                path,
                len,
                modified,
            } => {
                if let Some(body) = hot.get(&self.hash, encoding) {
                    return Ok((body, encoding));
                }
                if let Some(suffix) = encoding.suffix() {
                    let mut copy = path.as_os_str().to_owned();
                    copy.push(suffix);
                    if let Ok(bytes) = std::fs::read(Path::new(&copy)) {
                        // Copies go before their file is replaced and come after it: if
                        // the file is still this version, so is the copy just read.
                        self.check(path, *len, *modified)?;
                        let body = Bytes::from(bytes);
                        hot.insert(&self.hash, encoding, &body);
                        return Ok((body, encoding));
                    }
                    if let Some(body) = hot.get(&self.hash, Encoding::Identity) {
                        return Ok((body, Encoding::Identity));
                    }
                }
                let body = self.read_identity(path, *len, *modified)?;
                hot.insert(&self.hash, Encoding::Identity, &body);
                Ok((body, Encoding::Identity))
            }
        }
    }

    fn check(&self, path: &Path, len: u64, modified: SystemTime) -> Result<(), BodyError> {
        let meta = std::fs::metadata(path).map_err(|source| BodyError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        if meta.len() != len || meta.modified().ok() != Some(modified) {
            return Err(BodyError::Changed(path.to_path_buf()));
        }
        Ok(())
    }

    fn read_identity(
        &self,
        path: &Path,
        len: u64,
        modified: SystemTime,
    ) -> Result<Bytes, BodyError> {
        use std::io::Read;
        let failed = |source| BodyError::Read {
            path: path.to_path_buf(),
            source,
        };
        let mut file = std::fs::File::open(path).map_err(failed)?;
        let meta = file.metadata().map_err(failed)?;
        if meta.len() != len || meta.modified().ok() != Some(modified) {
            return Err(BodyError::Changed(path.to_path_buf()));
        }
        let mut bytes = Vec::with_capacity(len as usize);
        file.read_to_end(&mut bytes).map_err(failed)?;
        if bytes.len() as u64 != len {
            return Err(BodyError::Changed(path.to_path_buf()));
        }
        Ok(Bytes::from(bytes))
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
    pub settings: Arc<crate::serve::HttpSettings>,
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
    use std::io::Read;

    #[test]
    fn variants_decode_to_identity_and_share_the_hash() {
        let cold = crate::serve::bodies::BodyCache::new(0);
        let body = "<feed>".repeat(1000);
        let file = FeedFile::new(Bytes::from(body.clone()), "text/plain", SystemTime::now());
        let (gz, _) = file.body(Encoding::Gzip, &cold).unwrap();
        let mut out = String::new();
        flate2::read::GzDecoder::new(&gz[..])
            .read_to_string(&mut out)
            .unwrap();
        assert_eq!(out, body);
        let (br, _) = file.body(Encoding::Brotli, &cold).unwrap();
        let mut out = Vec::new();
        brotli::BrotliDecompress(&mut &br[..], &mut out).unwrap();
        assert_eq!(out, body.as_bytes());
        let (zs, _) = file.body(Encoding::Zstd, &cold).unwrap();
        assert_eq!(zstd::decode_all(&zs[..]).unwrap(), body.as_bytes());
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
    }

    #[test]
    fn a_file_on_disk_is_read_whole_and_a_file_changed_behind_our_back_is_refused() {
        let cold = crate::serve::bodies::BodyCache::new(0);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("feed.xml");
        let body = "<feed>".repeat(1000);
        std::fs::write(&path, &body).unwrap();
        let meta = std::fs::metadata(&path).unwrap();
        let memory = FeedFile::new(Bytes::from(body.clone()), "text/plain", SystemTime::now());
        let file = memory.on_disk(path.clone(), meta.len(), meta.modified().unwrap());
        assert!(file.in_memory().is_none() && file.same_bytes(&memory));
        assert_eq!(file.etag(Encoding::Gzip), memory.etag(Encoding::Gzip));
        // No copy yet: gzip is answered in identity, at once.
        let (bytes, sent) = file.body(Encoding::Gzip, &cold).unwrap();
        assert_eq!((&bytes[..], sent), (body.as_bytes(), Encoding::Identity));
        // With the copy: the copy.
        let gz = compress(body.as_bytes(), Encoding::Gzip);
        std::fs::write(dir.path().join("feed.xml.gz"), &gz).unwrap();
        let (bytes, sent) = file.body(Encoding::Gzip, &cold).unwrap();
        assert_eq!((&bytes[..], sent), (&gz[..], Encoding::Gzip));
        // Truncated behind feedd's back: refused, not a crash, not wrong bytes.
        std::fs::write(&path, "<fe").unwrap();
        assert!(matches!(
            file.body(Encoding::Identity, &cold),
            Err(BodyError::Changed(_))
        ));
        assert!(matches!(
            file.body(Encoding::Gzip, &cold),
            Err(BodyError::Changed(_))
        ));
        std::fs::remove_file(&path).unwrap();
        assert!(file.body(Encoding::Identity, &cold).is_err());
    }

    #[test]
    fn a_hot_body_is_served_from_the_cache_as_published() {
        let hot = crate::serve::bodies::BodyCache::new(1 << 20);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("feed.xml");
        std::fs::write(&path, "<feed/>").unwrap();
        let meta = std::fs::metadata(&path).unwrap();
        let memory = FeedFile::new(Bytes::from("<feed/>"), "text/plain", SystemTime::now());
        let file = memory.on_disk(path.clone(), meta.len(), meta.modified().unwrap());
        assert_eq!(&file.body(Encoding::Gzip, &hot).unwrap().0[..], b"<feed/>");
        // Gone from disk now: the published bytes, from memory, in the encoding read.
        std::fs::remove_file(&path).unwrap();
        let (bytes, sent) = file.body(Encoding::Gzip, &hot).unwrap();
        assert_eq!((&bytes[..], sent), (&b"<feed/>"[..], Encoding::Identity));
    }
}
