//! The daemon's state: every post read, the live index, the rendered entries and the
//! published files. `apply` takes the paths that changed, re-reads only those, updates the
//! index, re-renders only the feeds whose entries or order changed and publishes only the
//! files whose bytes changed (to memory and to disk). A post that turns bad keeps its
//! previous good version until it is fixed or deleted.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use chrono::{DateTime, Utc};

use crate::build::{self, DiskBodies, Parts};
use crate::config::Config;
use crate::error::{PostError, PostErrorKind};
use crate::index::{FeedGroup, FeedKey, Index};
use crate::post::{read_post, Post};
use crate::render::Format;
use crate::snapshot::{FeedFile, FeedInfo, Snapshot};

/// A path below the content dir that changed; `complete` when the writer is known to be
/// done (closed after writing, or renamed into place).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct PathChange {
    pub rel: String,
    pub complete: bool,
}

/// What one rebuild did, for the log line and tests.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Rebuild {
    pub paths: usize,
    pub posts_changed: usize,
    pub feeds_rendered: usize,
    pub files_published: usize,
    pub files_removed: usize,
    pub errors: Vec<String>,
    /// Half-written files to look at again once their writer is done.
    pub deferred: Vec<String>,
}

type Stamp = (u64, Option<SystemTime>);

/// Files to write (`Some`) or remove (`None`), by path relative to the output dir.
pub type DiskWrites = Vec<(String, Option<Bytes>)>;

pub struct SiteState {
    config: Config,
    index: Index,
    /// Published posts dated in the future (unless `future`), by source.
    waiting: HashMap<String, Post>,
    /// Size and mtime of every post file read, to tell changes on a rescan.
    stamps: HashMap<String, Stamp>,
    errors: BTreeMap<String, PostError>,
    parts: Parts,
    groups: BTreeMap<FeedKey, FeedGroup>,
    files: imbl::HashMap<String, Arc<FeedFile>>,
    /// Index-page/OPML description of each feed, kept current with `groups`.
    infos: imbl::OrdMap<FeedKey, Arc<FeedInfo>>,
    /// Files published to memory but not yet written to disk (see `flush_disk`).
    disk_writes: DiskWrites,
    bodies: DiskBodies,
    generation: u64,
}

impl SiteState {
    pub fn new(config: Config) -> SiteState {
        SiteState {
            bodies: DiskBodies {
                content_dir: config.content_dir.clone(),
                rules: config.rules.clone(),
            },
            config,
            index: Index::default(),
            waiting: HashMap::new(),
            stamps: HashMap::new(),
            errors: BTreeMap::new(),
            parts: Parts::new(),
            groups: BTreeMap::new(),
            files: imbl::HashMap::new(),
            infos: imbl::OrdMap::new(),
            disk_writes: Vec::new(),
            generation: 0,
        }
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn posts(&self) -> usize {
        self.index.len()
    }

    pub fn errors(&self) -> impl Iterator<Item = &PostError> {
        self.errors.values()
    }

    /// Reads the whole content dir (in parallel) and publishes every feed.
    pub fn load_all(&mut self, now: DateTime<Utc>) -> Result<Rebuild, crate::error::BuildError> {
        let paths = build::scan(&self.config.content_dir)?;
        let loaded = build::load(&self.config, &paths, false, &|| {});
        let mut report = Rebuild {
            paths: paths.len(),
            ..Rebuild::default()
        };
        for rel in &paths {
            self.stamps
                .insert(rel.clone(), stamp(&self.config.content_dir.join(rel)));
        }
        for e in loaded.errors {
            report.errors.push(e.to_string());
            self.errors.insert(e.path.to_string_lossy().into_owned(), e);
        }
        let mut changed = BTreeSet::new();
        for post in loaded.posts {
            changed.insert(post.source.clone());
            self.place(post, now);
        }
        report.posts_changed = changed.len();
        let keys: Vec<FeedKey> = self.index.feed_keys(&self.config).collect();
        self.rerender(keys, &changed, &mut report);
        self.flush_disk();
        let keep: BTreeSet<String> = self.files.keys().cloned().collect();
        if let Err(e) = crate::publish::remove_stale(&self.config.output_dir, &keep) {
            tracing::error!(
                "{}: cannot remove stale feeds: {e}",
                self.config.output_dir.display()
            );
        }
        Ok(report)
    }

    /// Applies changed paths: re-reads them, updates the index, re-renders what changed.
    pub fn apply(&mut self, changes: &[PathChange], now: DateTime<Utc>) -> Rebuild {
        let mut report = Rebuild {
            paths: changes.len(),
            ..Rebuild::default()
        };
        let mut affected = Vec::new();
        let mut changed = BTreeSet::new();
        for change in changes {
            let full = self.config.content_dir.join(&change.rel);
            match std::fs::symlink_metadata(&full) {
                Ok(meta) if meta.is_dir() => {
                    let found = build::scan_under(&self.config.content_dir, &change.rel);
                    let prefix = format!("{}/", change.rel);
                    let gone: Vec<String> = self
                        .stamps
                        .keys()
                        .filter(|s| s.starts_with(&prefix) && found.binary_search(s).is_err())
                        .cloned()
                        .collect();
                    for rel in gone {
                        affected.extend(self.forget(&rel));
                        changed.insert(rel);
                    }
                    for rel in found {
                        self.upsert(&rel, true, now, &mut affected, &mut changed, &mut report);
                    }
                }
                Ok(_)
                    if crate::post::path::classify(&change.rel).is_some()
                        && !is_editor_temp(&change.rel) =>
                {
                    self.upsert(
                        &change.rel,
                        change.complete,
                        now,
                        &mut affected,
                        &mut changed,
                        &mut report,
                    );
                }
                Ok(_) => {}
                Err(_) => {
                    let prefix = format!("{}/", change.rel);
                    let gone: Vec<String> = self
                        .stamps
                        .keys()
                        .filter(|s| **s == change.rel || s.starts_with(&prefix))
                        .cloned()
                        .collect();
                    for rel in gone {
                        affected.extend(self.forget(&rel));
                        changed.insert(rel);
                    }
                }
            }
        }
        report.posts_changed = changed.len();
        self.rerender(affected, &changed, &mut report);
        report
    }

    /// Re-reads every post whose file size or mtime changed, and drops vanished ones
    /// (after a watcher overflow, or when the content dir was replaced).
    pub fn rescan(&mut self, now: DateTime<Utc>) -> Rebuild {
        let found = build::scan(&self.config.content_dir).unwrap_or_default();
        let found_set: BTreeSet<&String> = found.iter().collect();
        let mut changes: Vec<PathChange> = self
            .stamps
            .keys()
            .filter(|s| !found_set.contains(s))
            .map(|rel| PathChange {
                rel: rel.clone(),
                complete: true,
            })
            .collect();
        for rel in &found {
            let now_stamp = stamp(&self.config.content_dir.join(rel));
            if self.stamps.get(rel) != Some(&now_stamp) {
                changes.push(PathChange {
                    rel: rel.clone(),
                    complete: true,
                });
            }
        }
        changes.sort();
        self.apply(&changes, now)
    }

    /// When the next future-dated post becomes live.
    pub fn next_due(&self) -> Option<DateTime<Utc>> {
        self.waiting
            .values()
            .map(|p| p.date.with_timezone(&Utc))
            .min()
    }

    /// Publishes future-dated posts whose time has come.
    pub fn promote_due(&mut self, now: DateTime<Utc>) -> Rebuild {
        let due: Vec<String> = self
            .waiting
            .values()
            .filter(|p| p.date.with_timezone(&Utc) <= now)
            .map(|p| p.source.clone())
            .collect();
        let mut report = Rebuild::default();
        let mut affected = Vec::new();
        for source in &due {
            if let Some(post) = self.waiting.remove(source) {
                affected.extend(self.index.insert(post));
            }
        }
        report.posts_changed = due.len();
        self.rerender(affected, &due.into_iter().collect(), &mut report);
        report
    }

    fn upsert(
        &mut self,
        rel: &str,
        complete: bool,
        now: DateTime<Utc>,
        affected: &mut Vec<FeedKey>,
        changed: &mut BTreeSet<String>,
        report: &mut Rebuild,
    ) {
        let full = self.config.content_dir.join(rel);
        let file_stamp = stamp(&full);
        match read_post(
            &self.config.content_dir,
            rel,
            &self.config.rules,
            self.config.max_post_bytes,
        ) {
            Ok(Some(mut post)) => {
                post.body = String::new();
                self.stamps.insert(rel.to_string(), file_stamp);
                self.errors.remove(rel);
                changed.insert(rel.to_string());
                affected.extend(self.index.remove(rel));
                self.waiting.remove(rel);
                affected.extend(self.place(post, now));
            }
            Ok(None) => {
                affected.extend(self.forget(rel));
                changed.insert(rel.to_string());
            }
            Err(e) if !complete && maybe_half_written(&e) => report.deferred.push(rel.to_string()),
            Err(e) => {
                // The previous good version (if any) keeps serving.
                self.stamps.insert(rel.to_string(), file_stamp);
                report.errors.push(e.to_string());
                self.errors.insert(rel.to_string(), e);
            }
        }
    }

    /// Puts a parsed post where it belongs: the index, the waiting list, or nowhere.
    fn place(&mut self, post: Post, now: DateTime<Utc>) -> Vec<FeedKey> {
        if !post.published {
            Vec::new()
        } else if Index::is_live(&post, &self.config, now) {
            self.index.insert(post)
        } else {
            self.waiting.insert(post.source.clone(), post);
            Vec::new()
        }
    }

    fn forget(&mut self, rel: &str) -> Vec<FeedKey> {
        self.stamps.remove(rel);
        self.errors.remove(rel);
        self.waiting.remove(rel);
        self.index.remove(rel)
    }

    /// Re-renders the feeds among `keys` whose entries, order or entry content changed,
    /// and publishes the files whose bytes changed.
    fn rerender(
        &mut self,
        mut keys: Vec<FeedKey>,
        changed: &BTreeSet<String>,
        report: &mut Rebuild,
    ) {
        keys.sort();
        keys.dedup();
        for source in changed {
            self.parts.remove(source);
        }
        let mut to_render = Vec::new();
        let mut totals = Vec::new();
        let mut feed_set_changed = false;
        for key in keys {
            let new = self.index.feed(&key, &self.config);
            let old = self.groups.get(&key);
            match new {
                None => {
                    if self.groups.remove(&key).is_some() {
                        self.infos.remove(&key);
                        feed_set_changed = true;
                        for format in build::formats(&self.config) {
                            if self.unpublish(&build::feed_path(&key, format)) {
                                report.files_removed += 1;
                            }
                        }
                    }
                }
                Some(group) => {
                    let same =
                        old.is_some_and(|o| o.posts == group.posts && o.label == group.label);
                    if old.is_none() || old.is_some_and(|o| o.total != group.total) {
                        feed_set_changed = true;
                    }
                    if !same || group.posts.iter().any(|s| changed.contains(s)) {
                        to_render.push(group.clone());
                    }
                    totals.push((key.clone(), group.total));
                    self.groups.insert(key, group);
                }
            }
        }
        let t0 = std::time::Instant::now();
        build::render_missing(
            &self.index,
            &to_render,
            &self.config,
            &self.bodies,
            &mut self.parts,
        );
        let t_parts = t0.elapsed();
        let out: Mutex<Vec<(String, Vec<u8>)>> = Mutex::new(Vec::new());
        let infos = build::render_feeds(&to_render, &self.config, &self.parts, &|rel, bytes| {
            out.lock()
                .unwrap_or_else(|e| e.into_inner())
                .push((rel, bytes.to_vec()));
        });
        let mut out = out.into_inner().unwrap_or_else(|e| e.into_inner());
        for (group, info) in to_render.iter().zip(infos) {
            self.infos.insert(group.key.clone(), Arc::new(info));
        }
        // A feed whose newest entries did not change may still have a new post count.
        for (key, total) in totals {
            if let Some(info) = self.infos.get(&key).filter(|i| i.posts != total) {
                let info = FeedInfo {
                    posts: total,
                    ..(**info).clone()
                };
                self.infos.insert(key, Arc::new(info));
            }
        }
        if feed_set_changed || !self.files.contains_key("feeds.opml") {
            out.push((
                "feeds.opml".into(),
                build::render_opml(self.infos.values().map(|i| &**i), &self.config),
            ));
        }
        report.feeds_rendered = to_render.len();
        let t_render = t0.elapsed();
        for (rel, bytes) in out {
            if self.publish(rel, bytes) {
                report.files_published += 1;
            }
        }
        let t_publish = t0.elapsed();
        self.collect_parts();
        tracing::debug!(
            parts_ms = t_parts.as_secs_f64() * 1e3,
            render_ms = (t_render - t_parts).as_secs_f64() * 1e3,
            publish_ms = (t_publish - t_render).as_secs_f64() * 1e3,
            gc_ms = (t0.elapsed() - t_publish).as_secs_f64() * 1e3,
            "rerender phases"
        );
        self.generation += 1;
    }

    /// Drops rendered entries no feed shows any more (memory stays bounded).
    fn collect_parts(&mut self) {
        if self.parts.len() <= self.groups.values().map(|g| g.posts.len()).sum::<usize>() {
            return;
        }
        let used: BTreeSet<&str> = self
            .groups
            .values()
            .flat_map(|g| g.posts.iter().map(String::as_str))
            .collect();
        self.parts.retain(|s, _| used.contains(s.as_str()));
    }

    /// Publishes one file if its bytes changed; returns whether it did.
    fn publish(&mut self, rel: String, bytes: Vec<u8>) -> bool {
        let path = self.config.output_dir.join(&rel);
        let previous = self.files.get(&rel).map(|f| f.last_modified);
        if let Some(old) = self.files.get(&rel) {
            if *old.identity.bytes == *bytes {
                return false;
            }
        }
        let now = SystemTime::now();
        let on_disk = previous.is_none() && std::fs::read(&path).is_ok_and(|old| old == bytes);
        let last_modified = if on_disk {
            // Unchanged since before a restart: its Last-Modified is the file's mtime.
            std::fs::metadata(&path)
                .and_then(|m| m.modified())
                .unwrap_or(now)
        } else {
            match previous {
                // Never backwards, and a new version always gets a later second.
                Some(p) if now < p + Duration::from_secs(1) => p + Duration::from_secs(1),
                _ => now,
            }
        };
        let content_type = match Format::from_file_name(rel.rsplit('/').next().unwrap_or("")) {
            Some(format) => format.content_type(),
            None => "text/x-opml; charset=utf-8",
        };
        let bytes = Bytes::from(bytes);
        if !on_disk {
            self.disk_writes.push((rel.clone(), Some(bytes.clone())));
        }
        let file = FeedFile::new(bytes, content_type, last_modified);
        self.files.insert(rel, Arc::new(file));
        true
    }

    fn unpublish(&mut self, rel: &str) -> bool {
        self.disk_writes.push((rel.to_string(), None));
        self.files.remove(rel).is_some()
    }

    /// Writes the files published since the last flush (after the snapshot was swapped,
    /// so readers of memory never wait for the disk). A failed write is logged; memory
    /// keeps serving, and the file is written again with its next change or restart.
    pub fn flush_disk(&mut self) {
        write_files(
            &self.config.output_dir,
            std::mem::take(&mut self.disk_writes),
        );
    }

    /// Takes the pending disk writes, for a writer thread (see `write_files`).
    pub fn take_disk_writes(&mut self) -> DiskWrites {
        std::mem::take(&mut self.disk_writes)
    }

    /// The current state as an immutable snapshot for the server.
    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            files: self.files.clone(),
            feeds: self.infos.clone(),
            site_title: self.config.site.title.clone(),
            formats: build::formats(&self.config),
            posts: self.index.len(),
            generation: self.generation,
            index_page: Default::default(),
        }
    }
}

/// Writes (or, for `None`, removes) files under `out_dir`. Returns the writes that failed
/// (disk full, read-only): memory keeps serving them, and the caller retries them.
pub fn write_files(out_dir: &std::path::Path, writes: DiskWrites) -> DiskWrites {
    let mut failed = Vec::new();
    for (rel, bytes) in writes {
        let path = out_dir.join(&rel);
        match &bytes {
            Some(data) => {
                if let Err(e) = crate::publish::write_atomic(&path, data) {
                    tracing::error!(
                        "{}: cannot write (still serving from memory; will retry): {e}",
                        path.display()
                    );
                    failed.push((rel, bytes));
                }
            }
            None => {
                let _ = std::fs::remove_file(&path);
                if let Some(dir) = path.parent() {
                    let _ = std::fs::remove_dir(dir); // only when empty
                }
            }
        }
    }
    failed
}

fn stamp(path: &std::path::Path) -> Stamp {
    match std::fs::metadata(path) {
        Ok(m) => (m.len(), m.modified().ok()),
        Err(_) => (0, None),
    }
}

/// Errors a writer in the middle of its work can cause; retried when it is done.
fn maybe_half_written(e: &PostError) -> bool {
    matches!(
        e.kind,
        PostErrorKind::UnclosedFrontMatter | PostErrorKind::Yaml(_) | PostErrorKind::InvalidUtf8(_)
    )
}

/// Editor and tool temporaries that can look like posts (`x.md.swp`, `x.md~`, `.#x.md`).
pub fn is_editor_temp(rel: &str) -> bool {
    let name = rel.rsplit('/').next().unwrap_or(rel);
    let lower = name.to_ascii_lowercase();
    name.ends_with('~')
        || name.starts_with(".#")
        || name == "4913"
        || [
            ".swp",
            ".swx",
            ".swo",
            ".tmp",
            ".bak",
            ".part",
            ".crdownload",
            ".kate-swp",
        ]
        .iter()
        .any(|ext| lower.ends_with(ext))
}
