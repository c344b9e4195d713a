//! A published file's bytes, as the server and the WebSub hub send them: from memory,
//! or read whole from its file in the output dir (no mapping: a file truncated behind
//! feedd's back is a short read, not a SIGBUS), with its precompressed copy beside it
//! for an encoding. Compressed variants of files held in memory are made here, once.
//!
//! Reading a body per request costs an open, a stat and a copy out of the page cache,
//! which made a popular 330 KB feed slower to send than nginx's `sendfile`. The few
//! files asked for all the time stay in a bounded cache of hot bodies instead, by content
//! hash and encoding, up to a byte budget (`[serve] body_cache_mib`), least recently and
//! least frequently used going first (`quick_cache`'s CLOCK-Pro: a crawl through every
//! feed once does not evict the hot ones). Keys are content hashes, so a new version
//! never finds an old body, and nothing needs invalidating.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use bytes::Bytes;
use quick_cache::sync::Cache;

use crate::compress::{compress, Encoding};
use crate::snapshot::{FeedFile, Store};

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

/// The body of `file` for an encoding, and the encoding it is in: a file on disk whose
/// precompressed copy is not there (not written yet, or `precompress = false`) is
/// answered in identity, at once.
pub fn read(
    file: &FeedFile,
    encoding: Encoding,
    hot: &BodyCache,
) -> Result<(Bytes, Encoding), BodyError> {
    let hash = file.hash();
    match &file.store {
        Store::Memory(bytes) => {
            if encoding == Encoding::Identity {
                return Ok((bytes.clone(), Encoding::Identity));
            }
            if let Some(body) = hot.get(hash, encoding) {
                return Ok((body, encoding));
            }
            let body = Bytes::from(compress(bytes, encoding));
            hot.insert(hash, encoding, &body);
            Ok((body, encoding))
        }
        Store::Disk {
            path,
            len,
            modified,
        } => {
            if let Some(body) = hot.get(hash, encoding) {
                return Ok((body, encoding));
            }
            if let Some(suffix) = encoding.suffix() {
                let mut copy = path.as_os_str().to_owned();
                copy.push(suffix);
                if let Ok(bytes) = std::fs::read(Path::new(&copy)) {
                    // Copies go before their file is replaced and come after it: if the
                    // file is still this version, so is the copy just read.
                    check(path, *len, *modified)?;
                    let body = Bytes::from(bytes);
                    hot.insert(hash, encoding, &body);
                    return Ok((body, encoding));
                }
                if let Some(body) = hot.get(hash, Encoding::Identity) {
                    return Ok((body, Encoding::Identity));
                }
            }
            let body = read_identity(path, *len, *modified)?;
            hot.insert(hash, Encoding::Identity, &body);
            Ok((body, Encoding::Identity))
        }
    }
}

fn check(path: &Path, len: u64, modified: SystemTime) -> Result<(), BodyError> {
    let meta = std::fs::metadata(path).map_err(|source| BodyError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    if meta.len() != len || meta.modified().ok() != Some(modified) {
        return Err(BodyError::Changed(path.to_path_buf()));
    }
    Ok(())
}

fn read_identity(path: &Path, len: u64, modified: SystemTime) -> Result<Bytes, BodyError> {
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
    use std::io::Read;
    use std::time::SystemTime;

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

    #[test]
    fn variants_decode_to_identity_and_share_the_hash() {
        let cold = BodyCache::new(0);
        let body = "<feed>".repeat(1000);
        let file = FeedFile::new(Bytes::from(body.clone()), "text/plain", SystemTime::now());
        let (gz, _) = read(&file, Encoding::Gzip, &cold).unwrap();
        let mut out = String::new();
        flate2::read::GzDecoder::new(&gz[..])
            .read_to_string(&mut out)
            .unwrap();
        assert_eq!(out, body);
        let (br, _) = read(&file, Encoding::Brotli, &cold).unwrap();
        let mut out = Vec::new();
        brotli::BrotliDecompress(&mut &br[..], &mut out).unwrap();
        assert_eq!(out, body.as_bytes());
        let (zs, _) = read(&file, Encoding::Zstd, &cold).unwrap();
        assert_eq!(zstd::decode_all(&zs[..]).unwrap(), body.as_bytes());
    }

    #[test]
    fn a_file_on_disk_is_read_whole_and_a_file_changed_behind_our_back_is_refused() {
        let cold = BodyCache::new(0);
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
        let (bytes, sent) = read(&file, Encoding::Gzip, &cold).unwrap();
        assert_eq!((&bytes[..], sent), (body.as_bytes(), Encoding::Identity));
        // With the copy: the copy.
        let gz = compress(body.as_bytes(), Encoding::Gzip);
        std::fs::write(dir.path().join("feed.xml.gz"), &gz).unwrap();
        let (bytes, sent) = read(&file, Encoding::Gzip, &cold).unwrap();
        assert_eq!((&bytes[..], sent), (&gz[..], Encoding::Gzip));
        // Truncated behind feedd's back: refused, not a crash, not wrong bytes.
        std::fs::write(&path, "<fe").unwrap();
        assert!(matches!(
            read(&file, Encoding::Identity, &cold),
            Err(BodyError::Changed(_))
        ));
        assert!(matches!(
            read(&file, Encoding::Gzip, &cold),
            Err(BodyError::Changed(_))
        ));
        std::fs::remove_file(&path).unwrap();
        assert!(read(&file, Encoding::Identity, &cold).is_err());
    }

    #[test]
    fn a_hot_body_is_served_from_the_cache_as_published() {
        let hot = BodyCache::new(1 << 20);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("feed.xml");
        std::fs::write(&path, "<feed/>").unwrap();
        let meta = std::fs::metadata(&path).unwrap();
        let memory = FeedFile::new(Bytes::from("<feed/>"), "text/plain", SystemTime::now());
        let file = memory.on_disk(path.clone(), meta.len(), meta.modified().unwrap());
        assert_eq!(
            &read(&file, Encoding::Gzip, &hot).unwrap().0[..],
            b"<feed/>"
        );
        // Gone from disk now: the published bytes, from memory, in the encoding read.
        std::fs::remove_file(&path).unwrap();
        let (bytes, sent) = read(&file, Encoding::Gzip, &hot).unwrap();
        assert_eq!((&bytes[..], sent), (&b"<feed/>"[..], Encoding::Identity));
    }
}
