//! The rebuild loop of `feedd serve`, one turn per batch: receive events until the batch
//! is due, read the changed files, apply them to the engine, publish the output.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::time::Instant;

use super::{writer, Msg};
use crate::config::Config;
use crate::engine::{Change, Collect, Engine, Output};
use crate::metrics::Metrics;
use crate::snapshot::Snapshot;

/// The rebuild thread's state: the engine, the machine that decides, and the edges.
pub struct Loop {
    pub engine: Engine,
    pub machine: super::machine::Machine,
    pub watcher: Option<notify::RecommendedWatcher>,
    pub rx: Receiver<Msg>,
    pub tx: Sender<Msg>,
    pub served: super::Served,
    /// Whether the output dir changed since the manifest was last recorded.
    pub unrecorded: bool,
    pub metrics: Arc<Metrics>,
    pub heartbeat: Arc<AtomicU64>,
    pub disk: Sender<writer::Job>,
    /// Told which feeds changed (WebSub).
    pub hub: crate::websub::hub::Notifier,
    /// The last reader figures for the pages, given again to an engine a reload makes.
    pub readers: Option<super::ReadersTable>,
}

/// What one turn of the loop received.
enum Turn {
    /// The machine's deadline passed.
    Due,
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
                Turn::Due => self.turn(),
            }
        }
    }

    /// Blocks until a turn is due (or a reload or stop arrives); wakes at least every
    /// second, so the watchdog sees the loop turn, future posts go live on time and a
    /// replaced content dir is noticed.
    fn receive(&mut self) -> Turn {
        use super::machine::Event;
        loop {
            let next_due = (self.engine.next_due())
                .map(|due| (due - chrono::Utc::now()).to_std().unwrap_or_default());
            let deadline = self.machine.deadline(Instant::now(), next_due);
            let wait = deadline.saturating_duration_since(Instant::now());
            let msg = match self.rx.recv_timeout(wait) {
                Ok(msg) => msg,
                Err(RecvTimeoutError::Timeout) => return Turn::Due,
                Err(RecvTimeoutError::Disconnected) => return Turn::Stop,
            };
            match msg {
                Msg::Fs(change) => self.machine.event(Event::Fs(change), Instant::now()),
                Msg::WatchError(e) => {
                    tracing::warn!("watch error: {e}; rescanning");
                    self.machine.event(Event::WatchError, Instant::now());
                }
                Msg::Stored(stored) => self.stored(stored),
                Msg::Readers(table) => self.readers_changed(*table),
                Msg::Stop => return Turn::Stop,
                Msg::Reload(config, answer) if !self.machine.gathering() => {
                    return Turn::Reload(config, answer)
                }
                // Applied after this batch: put it back for the next turn.
                Msg::Reload(config, answer) => {
                    let _ = self.tx.send(Msg::Reload(config, answer));
                    return Turn::Due;
                }
            }
        }
    }

    /// One turn: does what the machine decides (watch, read or scan, apply), then
    /// publishes the result.
    fn turn(&mut self) {
        use super::machine::{Action, Apply, Log};
        let configured = self.engine.config().content_dir.clone();
        let now_folder = super::follow::Folder::resolve(&configured);
        let mut apply = None;
        for action in self.machine.turn(now_folder) {
            match action {
                Action::Log(Log::Replaced(folder)) => tracing::info!(
                    "{}: the content dir is now {}; rescanning it",
                    configured.display(),
                    folder.display()
                ),
                Action::Log(Log::Gone) => tracing::warn!(
                    "{}: the content dir is gone; still serving what was published, and following the path",
                    configured.display()
                ),
                Action::Unwatch => self.watcher = None,
                Action::Watch { folder, loud } => {
                    self.watcher = None;
                    self.watcher = super::start_watcher(&folder, &self.tx, loud);
                    (self.machine).watched(self.watcher.is_some(), Instant::now());
                }
                Action::Apply(a) => apply = Some(a),
            }
        }
        match apply {
            Some(Apply::Scan) => self.rebuild(None),
            Some(Apply::Read(paths)) => self.rebuild(Some(paths)),
            None => {}
        }
    }

    /// Reads what `paths` names (everything: `None`), applies it, publishes the result.
    fn rebuild(&mut self, paths: Option<std::collections::BTreeMap<String, bool>>) {
        let started = Instant::now();
        let now = chrono::Utc::now();
        let sink = Collect::default();
        let rescan = paths.is_none();
        let (out, listed) = match paths {
            None => match crate::apply::apply_scan(&mut self.engine, now, &sink) {
                Ok(out) => (out, Vec::new()),
                Err(e) => {
                    tracing::error!("rescan: {}", crate::error::chain(&e));
                    (Output::default(), Vec::new())
                }
            },
            Some(paths) => {
                let (changes, listed) = self.read(&paths);
                let mut out = self.engine.apply([changes], now, &sink);
                crate::apply::settle(&mut self.engine, &mut out, now, &sink);
                (out, listed)
            }
        };
        self.machine.applied(out.deferred.clone(), listed);
        super::shed_parts(&mut self.engine);
        self.publish(sink, &out);
        self.report(&out, rescan, started.elapsed().as_secs_f64());
    }

    /// The metrics and the log line of a rebuild.
    fn report(&self, out: &Output, rescan: bool, seconds: f64) {
        let report = &out.report;
        if report.posts_changed > 0
            || !out.published.is_empty()
            || rescan
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
                deferred = out.deferred.len(),
                rescan,
                ms = format!("{:.1}", seconds * 1000.0),
                "rebuild"
            );
        }
    }

    /// The batch as engine changes: files read now, folders listed, vanished paths gone;
    /// and the folders listed.
    fn read(&self, paths: &std::collections::BTreeMap<String, bool>) -> (Vec<Change>, Vec<String>) {
        let config = self.engine.config();
        let (dir, max) = (&config.content_dir, config.max_post_bytes);
        let (mut changes, mut dirs) = (Vec::new(), Vec::new());
        for (rel, complete) in paths {
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

    /// Renders the pages whose reader figures changed and publishes them.
    fn readers_changed(&mut self, table: super::ReadersTable) {
        self.readers = Some(table.clone());
        self.engine.set_readers(table);
        let (now, sink) = (chrono::Utc::now(), Collect::default());
        let mut out = self.engine.apply([Vec::new()], now, &sink);
        crate::apply::settle(&mut self.engine, &mut out, now, &sink);
        super::shed_parts(&mut self.engine);
        self.publish(sink, &out);
    }

    /// Points the entries of files now on disk at their file, so their bytes leave
    /// memory (an entry whose bytes have been replaced meanwhile stays as it is); then
    /// records the manifest if every file is on disk.
    fn stored(&mut self, stored: Vec<writer::Stored>) {
        let out_dir = self.engine.config().output_dir.clone();
        if move_to_disk(&self.served, &out_dir, stored) {
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
        super::restore::write(&self.engine.config().output_dir, &self.served.load());
    }

    /// Has the disk writer record the manifest once every served file is on disk and the
    /// output changed since it was last recorded.
    fn record(&mut self) {
        if !self.unrecorded {
            return;
        }
        // Made and written by the writer, which also checks that every file is on disk
        // (both take tens of milliseconds at 43,000 files: not on the loop, and at most
        // every `restore::RECORD_EVERY`). Not sent once the writer has stopped: `finish`
        // writes it then.
        let snapshot = self.served.load_full();
        self.unrecorded = self.disk.send(writer::Job::Record(snapshot)).is_err();
    }

    /// Rebuilds from scratch with a new config; on success the new engine replaces the
    /// old and the new feeds and settings go live in one store; otherwise nothing changes.
    fn reload(&mut self, config: Config) -> Result<String, super::ReloadError> {
        let started = Instant::now();
        let root = super::canonical(&config.content_dir)?;
        let folder = super::follow::Folder::resolve(&config.content_dir);
        let fresh = super::reload::fresh(config, &self.served.load())?;
        self.engine = fresh.engine;
        if let Some(table) = &self.readers {
            let _ = self.tx.send(Msg::Readers(Box::new(table.clone())));
        }
        if self.machine.root() != Some(&root) || self.watcher.is_none() {
            self.watcher = None;
            self.watcher = super::start_watcher(&root, &self.tx, true);
        }
        let timing = super::timing(self.engine.config());
        (self.machine).reloaded(timing, folder, self.watcher.is_some());
        // Unchanged files kept their entries (`next_snapshot::next`), on disk or not.
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

/// Points the served entries of files now on disk at their file, so their bytes leave
/// memory (an entry whose bytes have been replaced meanwhile stays as it is); whether any
/// did. A first build's files (a gigabyte at 100k posts) leave the heap at once: that
/// memory is given back, or RSS would stay at the peak (glibc keeps freed chunks mapped).
pub(super) fn move_to_disk(
    served: &super::Served,
    out_dir: &std::path::Path,
    stored: Vec<writer::Stored>,
) -> bool {
    /// Bytes moved at once beyond which memory is given back to the system.
    const RELEASE_AFTER: usize = 64 << 20;
    let current = served.load_full();
    let mut files = current.files.clone();
    let (mut moved, mut freed) = (0, 0);
    for s in stored {
        let Some(entry) = files.get(&s.rel) else {
            continue;
        };
        let same = (entry.in_memory())
            .is_some_and(|b| b.as_ptr() == s.bytes.as_ptr() && b.len() == s.bytes.len());
        if same {
            let on_disk = entry.on_disk(out_dir.join(&s.rel), s.len, s.modified);
            files.insert(s.rel, Arc::new(on_disk));
            moved += 1;
            freed += s.bytes.len();
        }
    }
    if moved > 0 {
        served.store(Arc::new(current.with_files(files)));
    }
    drop(current); // the last reference to the moved bytes but a request's
    if freed >= RELEASE_AFTER {
        super::release_free_memory();
    }
    moved > 0
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
