//! Turning what the engine rendered into the next snapshot and the disk writes: the
//! served side of `feedd serve`. Last-Modified is when the bytes were first published:
//! never backwards, and after a restart the mtime of an identical file already on disk.
//! The hub is told of the engine's feed changes, less the files whose bytes are what was
//! served already (a restart's first build renders every feed again).

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;

use super::writer::Writes;
use crate::engine::{Engine, FeedChange, FeedChangeKind};
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

/// What the engine produced in one apply: the files it rendered (their bytes), the files
/// that vanished, and its feed-change events.
pub struct Rendered<'a> {
    pub files: Vec<(String, Vec<u8>)>,
    pub removed: &'a [String],
    pub feed_changes: &'a [FeedChange],
}

/// The snapshot after what the engine `rendered`, served with `settings`, at `now`.
pub fn next(
    prev: &Snapshot,
    engine: &Engine,
    rendered: Rendered<'_>,
    settings: Arc<HttpSettings>,
    now: SystemTime,
) -> Next {
    let out_dir = &engine.config().output_dir;
    let mut map = prev.files.clone();
    let mut writes = Writes::new();
    // Files whose bytes differ from those served, or from those on disk before.
    let mut changed_files = std::collections::HashSet::new();
    for (rel, bytes) in rendered.files {
        let content_type = crate::layout::content_type(&rel).unwrap_or("application/octet-stream");
        let bytes = Bytes::from(bytes);
        let hash = engine
            .print(&rel)
            .unwrap_or_else(|| crate::hash::of(&bytes));
        let sealed = engine.is_sealed(&rel);
        let file = FeedFile::rendered(bytes.clone(), hash, content_type, now)
            .with_links(settings.links(&rel))
            .with_immutable(sealed);
        let previous = map
            .get(&rel)
            .map(|f| (f.same_bytes(&file), f.last_modified));
        let file = match previous {
            // The same bytes as served now (a reload's fresh build, a restart's first):
            // the entry stays as it is, validators and store included.
            // (A restart's restored file learns here whether it is a complete archive.)
            Some((true, _)) => {
                let retag = map.get(&rel).filter(|f| f.immutable != sealed);
                if let Some(f) = retag.map(|f| (**f).clone().with_immutable(sealed)) {
                    map.insert(rel, Arc::new(f));
                }
                continue;
            }
            // Never backwards, and a new version always gets a later second.
            Some((false, p)) => file.with_last_modified(if now < p + Duration::from_secs(1) {
                p + Duration::from_secs(1)
            } else {
                now
            }),
            // Already on disk from before (no manifest to restore from): served from
            // there, first published at its mtime, and not written again.
            None => match on_disk(out_dir, &rel, &bytes) {
                OnDisk::Same(path, len, mtime) => {
                    let on_disk = file.on_disk(path, len, mtime).with_last_modified(mtime);
                    map.insert(rel, Arc::new(on_disk));
                    continue;
                }
                // Changed while feedd was not running: subscribers are told.
                OnDisk::Other => {
                    changed_files.insert(rel.clone());
                    file
                }
                // A feed nobody can have subscribed to yet.
                OnDisk::Absent => file,
            },
        };
        if previous.is_some() {
            changed_files.insert(rel.clone());
        }
        // Held in memory until the disk writer has it on disk.
        writes.push((rel.clone(), Some(bytes)));
        map.insert(rel, Arc::new(file));
    }
    for rel in rendered.removed {
        map.remove(rel);
        writes.push((rel.clone(), None));
    }
    let changed = (rendered.feed_changes.iter())
        .filter(|c| c.kind != FeedChangeKind::Removed)
        .flat_map(|c| c.formats.iter().map(|format| c.key.file(*format)))
        .filter(|rel| changed_files.contains(rel))
        .collect();
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
    Next {
        snapshot,
        writes,
        changed,
    }
}

enum OnDisk {
    /// Exactly these bytes, with this size, written at this time.
    Same(std::path::PathBuf, u64, SystemTime),
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
        (true, Ok(mtime)) => OnDisk::Same(path, meta.len(), mtime),
        _ => OnDisk::Other,
    }
}
