//! Turning what the engine rendered into the next snapshot and the disk writes: the
//! served side of `feedd serve`. Last-Modified is when the bytes were first published:
//! never backwards, and after a restart the mtime of an identical file already on disk.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;

use super::disk::Writes;
use crate::engine::Engine;
use crate::serve::HttpSettings;
use crate::snapshot::{FeedFile, Snapshot};

/// The snapshot after `files` were rendered and `removed` vanished, with the writes that
/// bring `out_dir` to the same state.
pub fn next(
    prev: &Snapshot,
    engine: &Engine,
    files: Vec<(String, Vec<u8>)>,
    removed: &[String],
    settings: Arc<HttpSettings>,
    now: SystemTime,
) -> (Snapshot, Writes) {
    let out_dir = &engine.config().output_dir;
    let mut map = prev.files.clone();
    let mut writes = Writes::new();
    for (rel, bytes) in files {
        let previous = map.get(&rel).map(|f| f.last_modified);
        let (last_modified, on_disk) = match previous {
            // Never backwards, and a new version always gets a later second.
            Some(p) if now < p + Duration::from_secs(1) => (p + Duration::from_secs(1), false),
            Some(_) => (now, false),
            None => match unchanged_on_disk(out_dir, &rel, &bytes) {
                Some(mtime) => (mtime, true),
                None => (now, false),
            },
        };
        let content_type = crate::layout::content_type(&rel).unwrap_or("application/octet-stream");
        let bytes = Bytes::from(bytes);
        if !on_disk {
            writes.push((rel.clone(), Some(bytes.clone())));
        }
        map.insert(
            rel,
            Arc::new(FeedFile::new(bytes, content_type, last_modified)),
        );
    }
    for rel in removed {
        map.remove(rel);
        writes.push((rel.clone(), None));
    }
    let config = engine.config();
    let snapshot = Snapshot {
        files: map,
        feeds: engine.infos(),
        site_title: config.site.title.clone(),
        formats: config.formats.clone(),
        posts: engine.posts(),
        generation: prev.generation + 1,
        settings,
        index_page: Default::default(),
    };
    (snapshot, writes)
}

/// The mtime of `rel` in `out_dir` if it already holds exactly these bytes.
fn unchanged_on_disk(out_dir: &Path, rel: &str, bytes: &[u8]) -> Option<SystemTime> {
    let path = out_dir.join(rel);
    let meta = std::fs::metadata(&path).ok()?;
    if meta.len() != bytes.len() as u64 || std::fs::read(&path).ok()? != bytes {
        return None;
    }
    meta.modified().ok()
}
