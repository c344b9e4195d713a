//! The daemon's state: every post read, the live index, the rendered entries and the
//! published files. `apply` takes the paths that changed, re-reads only those, updates the
//! index, re-renders only the feeds whose entries or order changed and publishes only the
//! files whose bytes changed (to memory and to disk). A post that turns bad keeps its
//! previous good version until it is fixed or deleted.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::time::SystemTime;

use bytes::Bytes;
use chrono::{DateTime, Utc};

use crate::build::{self, DiskBodies, Parts};
use crate::config::Config;
use crate::error::{PostError, PostErrorKind};
use crate::index::{FeedGroup, FeedKey, Index};
use crate::post::{read_post, Post};
mod output;

use crate::snapshot::{FeedFile, FeedInfo};
pub use output::write_files;

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
