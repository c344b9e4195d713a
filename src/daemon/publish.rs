//! Turning what the engine rendered into the next snapshot and the disk writes: the
//! served side of `feedd serve`. Last-Modified is when the bytes were first published:
//! never backwards, and after a restart the mtime of an identical file already on disk.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;

use super::disk::Writes;
use crate::engine::Engine;
use crate::http_settings::HttpSettings;
use crate::snapshot::{FeedFile, Snapshot};

/// What publishing produced: the next snapshot, the writes that bring `out_dir` to the
/// same state, and the feed files whose bytes changed from what was served (or, after a
/// restart, from what was on disk): the changes WebSub subscribers and hubs are told of.
pub struct Next {
    pub snapshot: Snapshot,
    pub writes: Writes,
    pub changed: Vec<String>,
}

/// The snapshot after `files` were rendered and `removed` vanished.
pub fn next(
    prev: &Snapshot,
    engine: &Engine,
    files: Vec<(String, Vec<u8>)>,
    removed: &[String],
    settings: Arc<HttpSettings>,
    now: SystemTime,
) -> Next {
    let out_dir = &engine.config().output_dir;
    let mut map = prev.files.clone();
    let mut writes = Writes::new();
    let mut changed = Vec::new();
    for (rel, bytes) in files {
        let content_type = crate::layout::content_type(&rel).unwrap_or("application/octet-stream");
        let bytes = Bytes::from(bytes);
        let hash = engine
            .print(&rel)
            .unwrap_or_else(|| crate::hash::of(&bytes));
        let file = FeedFile::rendered(bytes.clone(), hash, content_type, now)
            .with_links(settings.links(&rel));
        let previous = map
            .get(&rel)
            .map(|f| (f.same_bytes(&file), f.last_modified));
        let last_modified = match previous {
            // The same bytes as served now (a reload's fresh build): the entry stays as
            // it is, validators and store included.
            Some((true, _)) => continue,
            // Never backwards, and a new version always gets a later second.
            Some((false, p)) if now < p + Duration::from_secs(1) => p + Duration::from_secs(1),
            Some((false, _)) => now,
            // Unchanged since before a restart: Last-Modified is the file's mtime.
            None => match on_disk(out_dir, &rel, &bytes) {
                OnDisk::Same(mtime) => mtime,
                OnDisk::Other => {
                    changed.push(rel.clone());
                    now
                }
                OnDisk::Absent => now,
            },
        };
        if matches!(previous, Some((false, _))) {
            changed.push(rel.clone());
        }
        // Held in memory until the disk writer has it on disk (for a file already there,
        // the writer only points the entry at it).
        writes.push((rel.clone(), Some(bytes)));
        map.insert(rel, Arc::new(file.with_last_modified(last_modified)));
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
        fingerprint: engine.fingerprint().to_string(),
        settings,
        catalog: Some(Arc::new(engine.catalog())),
    };
    changed.retain(|rel| {
        crate::layout::Format::from_file_name(rel.rsplit('/').next().unwrap_or(rel)).is_some()
    });
    Next {
        snapshot,
        writes,
        changed,
    }
}

enum OnDisk {
    /// Exactly these bytes, written at this time.
    Same(SystemTime),
    Other,
    Absent,
}

/// What `out_dir` holds at `rel`, compared with these bytes.
fn on_disk(out_dir: &Path, rel: &str, bytes: &[u8]) -> OnDisk {
    let path = out_dir.join(rel);
    let Ok(meta) = std::fs::metadata(&path) else {
        return OnDisk::Absent;
    };
    let same = meta.len() == bytes.len() as u64 && std::fs::read(&path).is_ok_and(|b| b == bytes);
    match (same, meta.modified()) {
        (true, Ok(mtime)) => OnDisk::Same(mtime),
        _ => OnDisk::Other,
    }
}
