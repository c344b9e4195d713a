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
    /// Rebuild everything with a new configuration; the answer says how it went.
    Reload(Box<Config>, Sender<Result<String, String>>),
    Stop,
}

/// A running watcher + rebuilder; the server reads `snapshot`.
pub struct Running {
    pub snapshot: Arc<ArcSwap<Snapshot>>,
    pub metrics: Arc<Metrics>,
    /// Unix milliseconds of the rebuild loop's last turn (for the watchdog).
    pub heartbeat: Arc<std::sync::atomic::AtomicU64>,
    tx: Sender<Msg>,
    thread: std::sync::Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl Running {
    /// Rebuilds everything with `config` (the old state keeps serving meanwhile, and if
    /// the new one cannot be built). Blocks until done; returns a status line or the error.
    pub fn reload(&self, config: Config) -> Result<String, String> {
        let (tx, rx) = mpsc::channel();
        self.tx
            .send(Msg::Reload(Box::new(config), tx))
            .map_err(|_| "the rebuild thread has stopped".to_string())?;
        rx.recv()
            .map_err(|_| "the rebuild thread has stopped".to_string())?
    }

    /// Whether the rebuild loop turned within `within`.
    pub fn healthy(&self, within: Duration) -> bool {
        let last = self.heartbeat.load(std::sync::atomic::Ordering::Relaxed);
        now_millis().saturating_sub(last) <= within.as_millis() as u64
    }

    /// Stops watching and waits for the rebuild in progress (if any) and the pending disk
    /// writes to finish.
    pub fn stop(&self) {
        let _ = self.tx.send(Msg::Stop);
        let thread = self.thread.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(t) = thread {
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
    let heartbeat = Arc::new(std::sync::atomic::AtomicU64::new(now_millis()));
    let thread = {
        let (snapshot, metrics, tx, beat) = (
            snapshot.clone(),
            metrics.clone(),
            tx.clone(),
            heartbeat.clone(),
        );
        std::thread::Builder::new()
            .name("feedd-rebuild".into())
            .spawn(move || {
                let mut ctx = Loop {
                    root,
                    serve,
                    rx,
                    tx,
                    snapshot,
                    metrics,
                    heartbeat: beat,
                };
                rebuild_loop(state, watcher, &mut ctx)
            })
            .map_err(|source| crate::error::BuildError::Content {
                path: PathBuf::from("thread"),
                source,
            })?
    };
    Ok(Running {
        snapshot,
        metrics,
        heartbeat,
        tx,
        thread: std::sync::Mutex::new(Some(thread)),
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

/// Starts the thread that writes published files to `out_dir`, in order. Failed writes
/// are retried every second until they succeed or a newer version replaces them.
fn start_disk_writer(
    out_dir: PathBuf,
) -> (Sender<crate::site::DiskWrites>, std::thread::JoinHandle<()>) {
    let (tx, rx) = mpsc::channel::<crate::site::DiskWrites>();
    let handle = std::thread::spawn(move || {
        let mut failed: crate::site::DiskWrites = Vec::new();
        loop {
            let wait = if failed.is_empty() {
                Duration::from_secs(3600)
            } else {
                Duration::from_secs(1)
            };
            let mut writes = std::mem::take(&mut failed);
            match rx.recv_timeout(wait) {
                Ok(newer) => {
                    // A newer write of the same file replaces the failed one.
                    writes.retain(|(rel, _)| !newer.iter().any(|(n, _)| n == rel));
                    writes.extend(newer);
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => {
                    crate::site::write_files(&out_dir, writes);
                    break;
                }
            }
            let retrying = writes.len();
            failed = crate::site::write_files(&out_dir, writes);
            if retrying > 0 && failed.is_empty() {
                tracing::debug!("disk writes done");
            }
        }
    });
    (tx, handle)
}

fn now_millis() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// What the rebuild loop works with besides the site state.
struct Loop {
    root: PathBuf,
    serve: Serve,
    rx: Receiver<Msg>,
    tx: Sender<Msg>,
    snapshot: Arc<ArcSwap<Snapshot>>,
    metrics: Arc<Metrics>,
    heartbeat: Arc<std::sync::atomic::AtomicU64>,
}

/// Rebuilds from scratch with a new config; on success the new state replaces the old.
fn reload(
    state: &mut SiteState,
    watcher: &mut Option<notify::RecommendedWatcher>,
    ctx: &mut Loop,
    config: Config,
) -> Result<String, String> {
    let started = Instant::now();
    let root = std::fs::canonicalize(&config.content_dir)
        .map_err(|e| format!("{}: {e}", config.content_dir.display()))?;
    let serve = config.serve.clone();
    let mut fresh = SiteState::new(config);
    let report = fresh
        .load_all(chrono::Utc::now())
        .map_err(|e| e.to_string())?;
    *state = fresh;
    if root != ctx.root {
        ctx.root = root;
        *watcher = None;
        *watcher = start_watcher(&ctx.root, &ctx.tx);
    }
    ctx.serve = serve;
    ctx.snapshot.store(Arc::new(state.snapshot()));
    let status = status_line(state, &ctx.snapshot.load());
    tracing::info!(
        skipped = report.errors.len(),
        ms = started.elapsed().as_millis() as u64,
        "reloaded: {status}"
    );
    Ok(status)
}

/// The `STATUS=` line: what is being served.
pub fn status_line(state: &SiteState, snapshot: &Snapshot) -> String {
    format!(
        "{} posts, {} feeds ({} files), {} posts skipped",
        state.posts(),
        snapshot.feeds.len(),
        snapshot.files.len(),
        state.errors().count()
    )
}

fn rebuild_loop(
    mut state: SiteState,
    mut watcher: Option<notify::RecommendedWatcher>,
    ctx: &mut Loop,
) {
    let (disk, disk_thread) = start_disk_writer(state.config().output_dir.clone());
    let mut retry: Vec<String> = Vec::new();
    'outer: loop {
        ctx.heartbeat
            .store(now_millis(), std::sync::atomic::Ordering::Relaxed);
        let (root, serve) = (ctx.root.clone(), ctx.serve.clone());
        let (root, serve) = (root.as_path(), &serve);
        // Receive: block until an event, a retry, or the next future post is due (and at
        // least every second, so the watchdog sees the loop turn).
        let mut batch = Batch::default();
        let wait = if retry.is_empty() {
            state
                .next_due()
                .map(|due| {
                    (due - chrono::Utc::now())
                        .to_std()
                        .unwrap_or(Duration::ZERO)
                })
                .unwrap_or(Duration::from_secs(1))
                .min(Duration::from_secs(1))
        } else {
            serve.debounce
        };
        match ctx.rx.recv_timeout(wait) {
            Ok(Msg::Fs(change)) => batch.add(change, root),
            Ok(Msg::WatchError(e)) => {
                tracing::warn!("watch error: {e}; rescanning");
                batch.rescan = true;
            }
            Ok(Msg::Reload(config, answer)) => {
                let result = reload(&mut state, &mut watcher, ctx, *config);
                if let Err(e) = &result {
                    tracing::error!("reload failed, the old configuration keeps serving: {e}");
                }
                let _ = answer.send(result);
                continue;
            }
            Ok(Msg::Stop) | Err(RecvTimeoutError::Disconnected) => break,
            Err(RecvTimeoutError::Timeout) => {}
        }
        // Decide: gather the rest of the burst.
        loop {
            while let Ok(msg) = ctx.rx.try_recv() {
                match msg {
                    Msg::Fs(change) => batch.add(change, root),
                    Msg::WatchError(_) => batch.rescan = true,
                    // Applied after this batch; the answer waits a moment.
                    Msg::Reload(config, answer) => {
                        let _ = ctx.tx.send(Msg::Reload(config, answer));
                        break;
                    }
                    Msg::Stop => break 'outer,
                }
            }
            let deadline = batch.deadline(serve);
            let now = Instant::now();
            if now >= deadline {
                break;
            }
            match ctx.rx.recv_timeout(deadline - now) {
                Ok(Msg::Fs(change)) => batch.add(change, root),
                Ok(Msg::WatchError(_)) => batch.rescan = true,
                Ok(Msg::Reload(config, answer)) => {
                    let _ = ctx.tx.send(Msg::Reload(config, answer));
                    break;
                }
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
            watcher = watcher.or_else(|| start_watcher(root, &ctx.tx));
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
            ctx.snapshot.store(Arc::new(state.snapshot()));
            crate::systemd::status(&status_line(&state, &ctx.snapshot.load()));
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
            ctx.metrics
                .rebuild(seconds, state.posts(), ctx.snapshot.load().feeds.len());
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
