//! The rebuild loop of `feedd serve`, one turn per batch: receive events until the batch
//! is due, read the changed files, apply them to the engine, publish the output.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::debounce::Batch;
use super::{writer, Msg};
use crate::config::Config;
use crate::engine::{Change, Collect, Engine, Output};
use crate::metrics::Metrics;
use crate::snapshot::Snapshot;

/// The rebuild thread's state.
pub struct Loop {
    pub engine: Engine,
    /// The canonical content dir (what the watcher reports paths under).
    pub root: PathBuf,
    /// The folder the configured content dir led to when it was last looked at (`None`
    /// while it is gone): a new one is watched and rescanned.
    pub folder: Option<super::follow::Folder>,
    pub watcher: Option<notify::RecommendedWatcher>,
    pub rx: Receiver<Msg>,
    pub tx: Sender<Msg>,
    pub served: super::Served,
    /// Whether the output dir changed since the manifest was last recorded.
    pub unrecorded: bool,
    pub metrics: Arc<Metrics>,
    pub heartbeat: Arc<AtomicU64>,
    pub disk: Sender<writer::Job>,
    /// Half-written files seen in the last turn, taken as finished in the next.
    pub retry: Vec<String>,
    /// Folders that appeared in the last turn, listed once more in the next: a file
    /// renamed into a new folder before its watch was in place sends no event, and the
    /// first listing may have come before the file.
    pub new_dirs: Vec<String>,
    /// Told which feeds changed (WebSub).
    pub hub: crate::websub::hub::Notifier,
}

/// What one turn of the loop received.
enum Turn {
    Batch(Batch),
    Reload(Box<Config>, Sender<Result<String, super::ReloadError>>),
    Stop,
}

impl Loop {
    pub fn run(&mut self) {
        // The first build may have had nothing to write (its files were on disk).
        self.record();
        loop {
            self.heartbeat.store(super::now_millis(), Ordering::Relaxed);
            match self.receive() {
                Turn::Stop => return,
                Turn::Reload(config, answer) => {
                    let _ = answer.send(self.reload(*config));
                }
                Turn::Batch(batch) => self.rebuild(batch),
            }
        }
    }

    /// Blocks until a batch is due (or a reload or stop arrives); wakes at least every
    /// second, so the watchdog sees the loop turn and future posts go live on time.
    fn receive(&mut self) -> Turn {
        let serve = self.engine.config().serve.clone();
        let mut batch = Batch::default();
        let wait = if self.retry.is_empty() && self.new_dirs.is_empty() {
            let due = self.engine.next_due().map(|due| {
                (due - chrono::Utc::now())
                    .to_std()
                    .unwrap_or(Duration::ZERO)
            });
            due.unwrap_or(Duration::from_secs(1))
                .min(Duration::from_secs(1))
        } else {
            serve.debounce
        };
        let mut deadline = Instant::now() + wait;
        let mut gathering = false;
        loop {
            let now = Instant::now();
            let msg = match self
                .rx
                .recv_timeout(deadline.saturating_duration_since(now))
            {
                Ok(msg) => msg,
                Err(RecvTimeoutError::Timeout) => return Turn::Batch(batch),
                Err(RecvTimeoutError::Disconnected) => return Turn::Stop,
            };
            match msg {
                Msg::Fs(change) => batch.add(change, &self.root, Instant::now()),
                Msg::WatchError(e) => {
                    tracing::warn!("watch error: {e}; rescanning");
                    batch.rescan = true;
                }
                Msg::Stored(stored) => {
                    self.stored(stored);
                    continue;
                }
                Msg::Stop => return Turn::Stop,
                Msg::Reload(config, answer) if !gathering => return Turn::Reload(config, answer),
                // Applied after this batch: put it back for the next turn.
                Msg::Reload(config, answer) => {
                    let _ = self.tx.send(Msg::Reload(config, answer));
                    return Turn::Batch(batch);
                }
            }
            gathering = !batch.is_empty();
            deadline = batch.deadline(Instant::now(), serve.debounce, serve.max_wait);
        }
    }

    /// Follows the configured content dir to the folder it leads to now: a replaced one
    /// is watched and rescanned whole (`batch.rescan`); `false` while there is none.
    fn follow(&mut self, batch: &mut Batch) -> bool {
        use super::follow::{follow, Folder, Follow};
        let configured = self.engine.config().content_dir.clone();
        match follow(self.folder.as_ref(), Folder::resolve(&configured)) {
            Follow::Same if self.watcher.is_some() => true,
            Follow::Same => {
                // Watching failed before (e.g. the inotify limit): try again, and rescan
                // once it works, for what changed unseen.
                self.watcher = super::start_watcher(&self.root, &self.tx, false);
                batch.rescan |= self.watcher.is_some();
                true
            }
            Follow::Gone => {
                if self.folder.take().is_some() {
                    tracing::warn!(
                        "{}: the content dir is gone; still serving what was published, and following the path",
                        configured.display()
                    );
                }
                self.watcher = None;
                false
            }
            Follow::Replaced(folder) => {
                tracing::info!(
                    "{}: the content dir is now {}; rescanning it",
                    configured.display(),
                    folder.path.display()
                );
                self.root = folder.path.clone();
                self.folder = Some(folder);
                self.watcher = None; // the rescan watches the new folder
                                     // Paths seen in the folder before are no business of the new one's.
                self.retry.clear();
                self.new_dirs.clear();
                batch.paths.clear();
                batch.rescan = true;
                true
            }
        }
    }

    /// Reads what the batch names, applies it, publishes the result.
    fn rebuild(&mut self, mut batch: Batch) {
        if !self.follow(&mut batch) {
            return;
        }
        for rel in self.retry.drain(..) {
            batch.paths.entry(rel).or_insert(true);
        }
        let again = std::mem::take(&mut self.new_dirs);
        for rel in &again {
            batch.paths.entry(rel.clone()).or_insert(true);
        }
        let started = Instant::now();
        let now = chrono::Utc::now();
        let sink = Collect::default();
        let out = if batch.rescan {
            // Watch first, so that nothing changed during the scan is missed.
            if self.watcher.is_none() {
                self.watcher = super::start_watcher(&self.root, &self.tx, true);
            }
            match crate::apply::apply_scan(&mut self.engine, now, &sink) {
                Ok(out) => out,
                Err(e) => {
                    tracing::error!("rescan: {}", crate::error::chain(&e));
                    Output::default()
                }
            }
        } else {
            let (changes, dirs) = self.read(&batch);
            self.new_dirs = dirs.into_iter().filter(|d| !again.contains(d)).collect();
            let mut out = self.engine.apply([changes], now, &sink);
            crate::apply::settle(&mut self.engine, &mut out, now, &sink);
            out
        };
        self.retry = out.deferred.clone();
        self.publish(sink, &out);
        let seconds = started.elapsed().as_secs_f64();
        let report = &out.report;
        if report.posts_changed > 0
            || !out.published.is_empty()
            || batch.rescan
            || !report.errors.is_empty()
        {
            self.metrics
                .rebuild(seconds, self.engine.posts(), self.served.load().feeds.len());
        }
        for e in &report.errors {
            tracing::warn!("{e} (the previous version, if any, keeps serving)");
        }
        if report.posts_changed > 0 || !out.published.is_empty() || !out.removed.is_empty() {
            tracing::info!(
                paths = report.changes,
                posts_changed = report.posts_changed,
                feeds_changed = out.feed_changes.len(),
                files_published = out.published.len(),
                files_removed = out.removed.len(),
                deferred = self.retry.len(),
                rescan = batch.rescan,
                ms = format!("{:.1}", seconds * 1000.0),
                "rebuild"
            );
        }
    }

    /// The batch as engine changes: files read now, folders listed, vanished paths gone;
    /// and the folders listed.
    fn read(&self, batch: &Batch) -> (Vec<Change>, Vec<String>) {
        let config = self.engine.config();
        let (dir, max) = (&config.content_dir, config.max_post_bytes);
        let (mut changes, mut dirs) = (Vec::new(), Vec::new());
        for (rel, complete) in &batch.paths {
            match std::fs::symlink_metadata(dir.join(rel)) {
                Ok(meta) if meta.is_dir() => {
                    dirs.push(rel.clone());
                    let found = crate::content::scan_under(dir, rel);
                    let prefix = format!("{rel}/");
                    changes.extend(
                        self.engine
                            .known()
                            .filter(|k| k.starts_with(&prefix))
                            .filter(|k| found.binary_search_by(|f| f.rel.as_str().cmp(k)).is_err())
                            .map(|k| Change::Gone { rel: k.to_string() }),
                    );
                    changes.extend(
                        found
                            .iter()
                            .map(|f| crate::content::read(dir, &f.rel, max, true)),
                    );
                }
                Ok(_) if crate::post::path::classify(rel).is_some() => {
                    changes.push(crate::content::read(dir, rel, max, *complete));
                }
                Ok(_) => {}
                Err(_) => changes.push(Change::Gone { rel: rel.clone() }),
            }
        }
        (changes, dirs)
    }

    /// Swaps in the next snapshot (memory first: readers never wait for the disk), then
    /// hands the writes to the disk thread.
    fn publish(&mut self, sink: Collect, out: &Output) {
        let files = sink.into_files();
        // A post changed that no published file shows still changes custom feeds: the
        // catalog is published then too.
        let served = self.served.load();
        let catalog_current =
            (served.catalog.as_ref()).is_some_and(|c| c.version == self.engine.version());
        if files.is_empty() && out.removed.is_empty() && catalog_current {
            return;
        }
        let prev = self.served.load();
        let rendered = super::next_snapshot::Rendered {
            files,
            removed: &out.removed,
            feed_changes: &out.feed_changes,
        };
        let next = super::next_snapshot::next(
            &prev,
            &self.engine,
            rendered,
            prev.settings.clone(),
            std::time::SystemTime::now(),
        );
        self.served.store(Arc::new(next.snapshot));
        self.hub.changed(next.changed);
        crate::systemd::status(&status_line(&self.engine, &self.served.load()));
        let _ = self.disk.send(writer::Job::Write(next.writes));
        self.unrecorded = true;
        self.record();
    }

    /// Points the entries of files now on disk at their file, so their bytes leave
    /// memory (an entry whose bytes have been replaced meanwhile stays as it is); then
    /// records the manifest if every file is on disk.
    fn stored(&mut self, stored: Vec<writer::Stored>) {
        let current = self.served.load();
        let mut files = current.files.clone();
        let mut moved = 0;
        for s in stored {
            let Some(entry) = files.get(&s.rel) else {
                continue;
            };
            let same = (entry.in_memory())
                .is_some_and(|b| b.as_ptr() == s.bytes.as_ptr() && b.len() == s.bytes.len());
            if same {
                let path = self.engine.config().output_dir.join(&s.rel);
                let on_disk = entry.on_disk(path, s.len, s.modified);
                files.insert(s.rel, Arc::new(on_disk));
                moved += 1;
            }
        }
        if moved > 0 {
            self.served.store(Arc::new(current.with_files(files)));
            self.unrecorded = true;
        }
        self.record();
    }

    /// After the disk writer stopped: takes in what it stored last and writes the
    /// manifest itself, if every file is on disk.
    pub fn finish(&mut self) {
        while let Ok(msg) = self.rx.try_recv() {
            if let Msg::Stored(stored) = msg {
                self.stored(stored);
            }
        }
        if !self.unrecorded {
            return;
        }
        if let Some(manifest) = super::restore::record(&self.served.load()) {
            let path = self.engine.config().output_dir.join(crate::manifest::FILE);
            if let Err(e) = crate::output::write_atomic(&path, manifest.to_text().as_bytes()) {
                tracing::debug!("{}: cannot write: {e}", path.display());
            }
        }
    }

    /// Has the disk writer record the manifest once every served file is on disk and the
    /// output changed since it was last recorded.
    fn record(&mut self) {
        if !self.unrecorded {
            return;
        }
        if let Some(manifest) = super::restore::record(&self.served.load()) {
            // Not sent once the writer has stopped: `finish` writes it then.
            self.unrecorded = self.disk.send(writer::Job::Record(manifest)).is_err();
        }
    }

    /// Rebuilds from scratch with a new config; on success the new engine replaces the
    /// old and the new feeds and settings go live in one store; otherwise nothing changes.
    fn reload(&mut self, config: Config) -> Result<String, super::ReloadError> {
        let started = Instant::now();
        let root = super::canonical(&config.content_dir)?;
        let folder = super::follow::Folder::resolve(&config.content_dir);
        let fresh = super::reload::fresh(config, &self.served.load())?;
        self.engine = fresh.engine;
        if root != self.root || folder != self.folder {
            (self.root, self.folder) = (root, folder);
            self.watcher = None;
            self.watcher = super::start_watcher(&self.root, &self.tx, true);
        }
        // Entries the disk writer moved to disk meanwhile are the same bytes: keep them.
        // Unchanged files kept their entries (`publish::next`), on disk or not.
        self.served.store(Arc::new(fresh.snapshot));
        let _ = self.disk.send(writer::Job::Write(fresh.writes));
        self.unrecorded = true;
        self.hub.changed(fresh.changed);
        let _ = self.disk.send(writer::Job::Prune(
            self.engine.files().map(str::to_string).collect(),
            self.engine.config().pages.enabled,
        ));
        let status = status_line(&self.engine, &self.served.load());
        tracing::info!(
            skipped = fresh.report.errors.len(),
            ms = started.elapsed().as_millis() as u64,
            "reloaded: {status}"
        );
        Ok(status)
    }
}

/// The `STATUS=` line: what is being served.
pub fn status_line(engine: &Engine, snapshot: &Snapshot) -> String {
    format!(
        "{} posts, {} feeds ({} files), {} posts skipped",
        engine.posts(),
        snapshot.feeds.len(),
        snapshot.files.len(),
        engine.errors().count()
    )
}
