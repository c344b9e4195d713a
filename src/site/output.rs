//! The output side of `SiteState`: re-rendering the feeds a change touched, publishing
//! changed files to memory, handing them to the disk writer, and the server snapshot.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use bytes::Bytes;

use super::{DiskWrites, Rebuild, SiteState};
use crate::build;
use crate::index::FeedKey;
use crate::render::Format;
use crate::snapshot::{FeedFile, FeedInfo, Snapshot};

impl SiteState {
    /// Re-renders the feeds among `keys` whose entries, order or entry content changed,
    /// and publishes the files whose bytes changed.
    pub(super) fn rerender(
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
