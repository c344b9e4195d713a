//! `feedd serve`: build once, then watch and rebuild incrementally on one thread while the
//! server answers from the latest snapshot. The loop is split into receive events →
//! decide what to rebuild → rebuild → publish.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;

use crate::config::{Config, Serve};
use crate::metrics::Metrics;
use crate::site::{PathChange, Rebuild, SiteState};
use crate::snapshot::Snapshot;
use crate::watch::{self, FsChange};

/// Messages to the rebuild thread.
pub enum Msg {
    Fs(FsChange),
    WatchError(String),
    Stop,
}

/// A running watcher + rebuilder; the server reads `snapshot`.
pub struct Running {
    pub snapshot: Arc<ArcSwap<Snapshot>>,
    pub metrics: Arc<Metrics>,
    tx: Sender<Msg>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Running {
    /// Stops watching and waits for the rebuild in progress (if any) to finish.
    pub fn stop(mut self) {
        let _ = self.tx.send(Msg::Stop);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Builds everything once, publishes it, and starts watching.
pub fn start(config: Config) -> Result<Running, crate::error::BuildError> {
    let started = Instant::now();
    let root = std::fs::canonicalize(&config.content_dir).map_err(|source| {
        crate::error::BuildError::Content {
            path: config.content_dir.clone(),
            source,
        }
    })?;
    let serve = config.serve.clone();
    // Watch before the first read, so nothing written meanwhile is missed.
    let (tx, rx) = mpsc::channel();
    let watcher = start_watcher(&root, &tx);
    let mut state = SiteState::new(config);
    let report = state.load_all(chrono::Utc::now())?;
    for e in &report.errors {
        tracing::warn!("skipped {e}");
    }
    let metrics = Arc::new(Metrics::default());
    let snapshot = state.snapshot();
    metrics.rebuild(
        started.elapsed().as_secs_f64(),
        snapshot.posts,
        snapshot.feeds.len(),
    );
    tracing::info!(
        posts = snapshot.posts,
        feeds = snapshot.feeds.len(),
        files = snapshot.files.len(),
        skipped = report.errors.len(),
        ms = started.elapsed().as_millis() as u64,
        "initial build published"
    );
    let snapshot = Arc::new(ArcSwap::from_pointee(snapshot));
    let thread = {
        let (snapshot, metrics, tx) = (snapshot.clone(), metrics.clone(), tx.clone());
        std::thread::Builder::new()
            .name("feedd-rebuild".into())
            .spawn(move || rebuild_loop(state, watcher, &root, &serve, rx, tx, &snapshot, &metrics))
            .map_err(|source| crate::error::BuildError::Content {
                path: PathBuf::from("thread"),
                source,
            })?
    };
    Ok(Running {
        snapshot,
        metrics,
        tx,
        thread: Some(thread),
    })
}

fn start_watcher(root: &Path, tx: &Sender<Msg>) -> Option<notify::RecommendedWatcher> {
    let sink = tx.clone();
    let result = watch::watch(root, move |event| {
        let msgs: Vec<Msg> = match event {
            Ok(event) => watch::classify(&event).into_iter().map(Msg::Fs).collect(),
            Err(e) => vec![Msg::WatchError(e.to_string())],
        };
        for msg in msgs {
            let _ = sink.send(msg);
        }
    });
    match result {
        Ok(w) => Some(w),
        Err(e) => {
            tracing::error!(
                "{}: cannot watch: {e}; changes will not be seen until restart",
                root.display()
            );
            None
        }
    }
}

/// A batch of changes waiting to be applied.
#[derive(Default)]
struct Batch {
    paths: BTreeMap<String, bool>,
    rescan: bool,
    first: Option<Instant>,
    last: Option<Instant>,
}

impl Batch {
    fn add(&mut self, change: FsChange, root: &Path) {
        let now = Instant::now();
        self.first.get_or_insert(now);
        self.last = Some(now);
        match change {
            FsChange::Rescan => self.rescan = true,
            FsChange::Touched { path, complete } => {
                if path == root || root.starts_with(&path) {
                    self.rescan = true; // the content dir itself moved or was replaced
                } else if let Some(rel) = crate::build::relative(root, &path) {
                    let slot = self.paths.entry(rel).or_insert(false);
                    *slot |= complete;
                }
            }
        }
    }

    fn is_empty(&self) -> bool {
        self.paths.is_empty() && !self.rescan
    }

    /// When to apply: at once if every writer is done, else after a quiet `debounce`,
    /// and never later than `max_wait` after the first event.
    fn deadline(&self, serve: &Serve) -> Instant {
        let now = Instant::now();
        if self.paths.values().all(|c| *c) {
            return now;
        }
        let quiet = self.last.unwrap_or(now) + serve.debounce;
        let cap = self.first.unwrap_or(now) + serve.max_wait;
        quiet.min(cap)
    }
}

/// Starts the thread that writes published files to `out_dir`, in order.
fn start_disk_writer(
    out_dir: PathBuf,
) -> (Sender<crate::site::DiskWrites>, std::thread::JoinHandle<()>) {
    let (tx, rx) = mpsc::channel::<crate::site::DiskWrites>();
    let handle = std::thread::spawn(move || {
        for writes in rx {
            crate::site::write_files(&out_dir, writes);
        }
    });
    (tx, handle)
}

#[allow(clippy::too_many_arguments)]
fn rebuild_loop(
    mut state: SiteState,
    mut watcher: Option<notify::RecommendedWatcher>,
    root: &Path,
    serve: &Serve,
    rx: Receiver<Msg>,
    tx: Sender<Msg>,
    snapshot: &ArcSwap<Snapshot>,
    metrics: &Metrics,
) {
    let (disk, disk_thread) = start_disk_writer(state.config().output_dir.clone());
    let mut retry: Vec<String> = Vec::new();
    'outer: loop {
        // Receive: block until an event, a retry, or the next future post is due.
        let mut batch = Batch::default();
        let wait = if retry.is_empty() {
            state
                .next_due()
                .map(|due| {
                    (due - chrono::Utc::now())
                        .to_std()
                        .unwrap_or(Duration::ZERO)
                })
                .unwrap_or(Duration::from_secs(3600))
                .min(Duration::from_secs(3600))
        } else {
            serve.debounce
        };
        match rx.recv_timeout(wait) {
            Ok(Msg::Fs(change)) => batch.add(change, root),
            Ok(Msg::WatchError(e)) => {
                tracing::warn!("watch error: {e}; rescanning");
                batch.rescan = true;
            }
            Ok(Msg::Stop) | Err(RecvTimeoutError::Disconnected) => break,
            Err(RecvTimeoutError::Timeout) => {}
        }
        // Decide: gather the rest of the burst.
        loop {
            while let Ok(msg) = rx.try_recv() {
                match msg {
                    Msg::Fs(change) => batch.add(change, root),
                    Msg::WatchError(_) => batch.rescan = true,
                    Msg::Stop => break 'outer,
                }
            }
            let deadline = batch.deadline(serve);
            let now = Instant::now();
            if now >= deadline {
                break;
            }
            match rx.recv_timeout(deadline - now) {
                Ok(Msg::Fs(change)) => batch.add(change, root),
                Ok(Msg::WatchError(_)) => batch.rescan = true,
                Ok(Msg::Stop) | Err(RecvTimeoutError::Disconnected) => break 'outer,
                Err(RecvTimeoutError::Timeout) => break,
            }
        }
        // A half-written file seen earlier is taken as finished now, and its error shown.
        for rel in retry.drain(..) {
            batch.paths.entry(rel).or_insert(true);
        }
        // Rebuild.
        let started = Instant::now();
        let now = chrono::Utc::now();
        let mut report = if batch.rescan {
            watcher = None;
            watcher = watcher.or_else(|| start_watcher(root, &tx));
            state.rescan(now)
        } else if batch.is_empty() {
            Rebuild::default()
        } else {
            let changes: Vec<PathChange> = batch
                .paths
                .iter()
                .map(|(rel, complete)| PathChange {
                    rel: rel.clone(),
                    complete: *complete,
                })
                .collect();
            state.apply(&changes, now)
        };
        let due = state.promote_due(now);
        report.posts_changed += due.posts_changed;
        report.feeds_rendered += due.feeds_rendered;
        report.files_published += due.files_published;
        retry = std::mem::take(&mut report.deferred);
        // Publish.
        let applied = started.elapsed();
        if report.files_published > 0 || report.files_removed > 0 {
            snapshot.store(Arc::new(state.snapshot()));
        }
        let writes = state.take_disk_writes();
        if !writes.is_empty() {
            // Disk writes never hold up the next rebuild (writeback can stall for long).
            let _ = disk.send(writes);
        }
        tracing::debug!(
            apply_ms = applied.as_secs_f64() * 1e3,
            snapshot_ms = (started.elapsed() - applied).as_secs_f64() * 1e3,
            "rebuild phases"
        );
        let seconds = started.elapsed().as_secs_f64();
        let did_something = report.posts_changed > 0 || report.files_published > 0 || batch.rescan;
        if did_something || !report.errors.is_empty() {
            metrics.rebuild(seconds, state.posts(), snapshot.load().feeds.len());
            for e in &report.errors {
                tracing::warn!("{e} (the previous version, if any, keeps serving)");
            }
            tracing::info!(
                paths = report.paths,
                posts_changed = report.posts_changed,
                feeds_rendered = report.feeds_rendered,
                files_published = report.files_published,
                files_removed = report.files_removed,
                deferred = retry.len(),
                rescan = batch.rescan,
                ms = format!("{:.1}", seconds * 1000.0),
                "rebuild"
            );
        }
    }
    drop(watcher);
    drop(disk);
    let _ = disk_thread.join();
}
