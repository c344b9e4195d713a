//! Instant restart: when the output dir still holds exactly what the last `feedd serve`
//! published (its manifest names every file with its size, mtime, content hash and
//! first-published time), those files are served at once — same ETags, same
//! Last-Modified — and the first build runs behind them, publishing only what differs.
//! A manifest that does not match the configuration or any file on disk is not used:
//! then the first build runs before anything is served, as it must.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rayon::prelude::*;

use crate::config::Config;
use crate::http_settings::HttpSettings;
use crate::manifest::{self, Manifest, Published};
use crate::snapshot::{FeedFile, Snapshot};

/// The snapshot of the output dir as the manifest describes it, if it still does.
pub fn restore(config: &Config, settings: Arc<HttpSettings>) -> Option<Snapshot> {
    let out_dir = &config.output_dir;
    let text = std::fs::read_to_string(out_dir.join(manifest::FILE)).ok()?;
    let Some(m) = Manifest::parse(&text) else {
        tracing::info!(
            "{}: unreadable; building before serving",
            out_dir.join(manifest::FILE).display()
        );
        return None;
    };
    if m.config != manifest::fingerprint(config) || m.files.is_empty() {
        tracing::info!(
            "{}: written by another version or configuration; building before serving",
            out_dir.join(manifest::FILE).display()
        );
        return None;
    }
    let files: Option<Vec<(String, Arc<FeedFile>)>> = m
        .files
        .par_iter()
        .map(|(rel, p)| {
            let file = restored(out_dir, rel, p)?.with_links(settings.links(rel));
            Some((rel.clone(), Arc::new(file)))
        })
        .collect();
    let files = match files {
        Some(files) => files,
        None => {
            tracing::info!(
                "{}: the output dir changed since the manifest was written; building before serving",
                out_dir.display()
            );
            return None;
        }
    };
    Some(Snapshot {
        files: files.into_iter().collect(),
        feeds: m
            .infos
            .into_iter()
            .map(|info| (info.key.clone(), Arc::new(info)))
            .collect(),
        site_title: config.site.title.clone(),
        formats: config.formats.clone(),
        settings,
        posts: m.live,
        generation: 0,
        fingerprint: m.config,
        catalog: None,
    })
}

/// One file, if it is on disk as recorded.
fn restored(out_dir: &Path, rel: &str, p: &Published) -> Option<FeedFile> {
    let content_type = crate::layout::content_type(rel)?;
    let (hash, first) = (p.hash.clone(), p.first_published);
    let path = out_dir.join(rel);
    let meta = std::fs::metadata(&path).ok()?;
    let modified = meta.modified().ok()?;
    if meta.len() != p.len || nanos(modified) != Some(p.mtime) {
        return None;
    }
    let last_modified = UNIX_EPOCH + Duration::from_secs(u64::try_from(first).ok()?);
    Some(FeedFile::restored(
        content_type,
        last_modified,
        hash,
        (path, p.len, modified),
    ))
}

/// The manifest is written at most this often (and at every stop): at 100k posts with
/// archives (43,000 files) it takes ~30 ms of CPU to make, which on every change of a
/// busy site competed with the rebuilds. A crash loses at most this much of it; the next
/// start then finds files newer than the manifest and builds before serving.
pub const RECORD_EVERY: std::time::Duration = Duration::from_secs(2);

/// The disk writer's next manifest: the newest snapshot sent, due `RECORD_EVERY` after
/// the oldest one not recorded yet (a steady stream of changes still gets it written).
#[derive(Default)]
pub struct Recorder {
    queued: Option<(Arc<Snapshot>, std::time::Instant)>,
}

impl Recorder {
    pub fn queue(&mut self, snapshot: Arc<Snapshot>) {
        let now = std::time::Instant::now();
        let at = (self.queued.take()).map_or(now + RECORD_EVERY, |(_, at)| at);
        self.queued = Some((snapshot, at));
    }

    pub fn due_at(&self) -> Option<std::time::Instant> {
        self.queued.as_ref().map(|(_, at)| *at)
    }

    /// Writes the queued manifest now (queued after the writes of the snapshot it
    /// describes, so it is written after them). One whose files are not all on disk yet
    /// is dropped: the loop sends another once they are.
    pub fn write(&mut self, out_dir: &Path) {
        if let Some((snapshot, _)) = self.queued.take() {
            write(out_dir, &snapshot);
        }
    }
}

/// Writes the manifest of `snapshot` if its files are all on disk.
pub fn write(out_dir: &Path, snapshot: &Snapshot) {
    let Some(manifest) = record(snapshot) else {
        return;
    };
    let path = out_dir.join(manifest::FILE);
    if let Err(e) = crate::output::write_atomic(&path, manifest.to_text().as_bytes()) {
        // Only the next start's shortcut is lost; it builds before serving.
        tracing::debug!("{}: cannot write: {e}", path.display());
    }
}

/// The manifest of a snapshot whose files are all on disk (`None` while some are only in
/// memory: the disk writer records it once they are written).
pub fn record(snapshot: &Snapshot) -> Option<Manifest> {
    let files = snapshot
        .files
        .iter()
        .map(|(rel, file)| {
            let (hash, len, modified) = file.on_disk_as()?;
            let first = file
                .last_modified
                .duration_since(UNIX_EPOCH)
                .ok()?
                .as_secs();
            Some((
                rel.clone(),
                Published {
                    len,
                    mtime: nanos(modified)?,
                    hash: hash.to_string(),
                    first_published: i64::try_from(first).ok()?,
                },
            ))
        })
        .collect::<Option<_>>()?;
    Some(Manifest {
        config: snapshot.fingerprint.clone(),
        valid_until: None,
        posts: None,
        files,
        errors: Vec::new(),
        live: snapshot.posts,
        feeds: snapshot.feeds.len(),
        infos: snapshot
            .feeds
            .values()
            .map(|info| (**info).clone())
            .collect(),
    })
}

fn nanos(t: SystemTime) -> Option<i128> {
    Some(t.duration_since(UNIX_EPOCH).ok()?.as_nanos() as i128)
}
