//! `feedd serve`'s driver: the engine on a thread of its own, fed by the watcher, with
//! its output published to the server's snapshot and, behind it, to disk. Pieces:
//! `debounce` (events → batches), `rebuild` (the loop: receive, read, apply, publish),
//! `publish` (output → snapshot + disk writes), `disk` (the writer thread), `reload`
//! (a new configuration, applied whole or not at all).

mod debounce;
mod disk;
mod publish;
mod rebuild;
mod reload;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Sender};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use arc_swap::ArcSwap;

use crate::config::Config;
use crate::error::BuildError;
use crate::metrics::Metrics;
use crate::snapshot::Snapshot;
use crate::watch::{self, FsChange};

pub use reload::ReloadError;

/// Messages to the rebuild thread.
pub enum Msg {
    Fs(FsChange),
    WatchError(String),
    /// Rebuild everything with a new configuration; the answer says how it went.
    Reload(Box<Config>, Sender<Result<String, ReloadError>>),
    Stop,
}

/// A running watcher + rebuilder; the server reads `snapshot`.
pub struct Running {
    pub snapshot: Arc<ArcSwap<Snapshot>>,
    pub metrics: Arc<Metrics>,
    /// Unix milliseconds of the rebuild loop's last turn (for the watchdog).
    pub heartbeat: Arc<AtomicU64>,
    tx: Sender<Msg>,
    thread: Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl Running {
    /// Rebuilds everything with `config` and then serves it, feeds and HTTP settings
    /// together; if the rebuild fails nothing changes. Blocks until done.
    pub fn reload(&self, config: Config) -> Result<String, ReloadError> {
        let (tx, rx) = mpsc::channel();
        self.tx
            .send(Msg::Reload(Box::new(config), tx))
            .map_err(|_| ReloadError::Stopped)?;
        rx.recv().map_err(|_| ReloadError::Stopped)?
    }

    /// Whether the rebuild loop turned within `within`.
    pub fn healthy(&self, within: Duration) -> bool {
        let last = self.heartbeat.load(Ordering::Relaxed);
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
pub fn start(config: Config) -> Result<Running, BuildError> {
    let started = std::time::Instant::now();
    let root = canonical(&config.content_dir)?;
    // Watch before the first read, so nothing written meanwhile is missed.
    let (tx, rx) = mpsc::channel();
    let watcher = start_watcher(&root, &tx);
    let metrics = Arc::new(Metrics::default());
    let fresh = reload::fresh(config, &Snapshot::default())?;
    let (posts, feeds, files) = (
        fresh.snapshot.posts,
        fresh.snapshot.feeds.len(),
        fresh.snapshot.files.len(),
    );
    let served = disk::Served {
        snapshot: Arc::new(ArcSwap::from_pointee(fresh.snapshot)),
        lock: Arc::new(Mutex::new(())),
    };
    let out_dir = fresh.engine.config().output_dir.clone();
    let (disk, disk_thread) = disk::start(
        out_dir.clone(),
        metrics.clone(),
        served.clone(),
        fresh.writes,
    )
    .map_err(|source| BuildError::Write {
        path: out_dir,
        source,
    })?;
    let _ = disk.send(disk::Job::Prune(
        fresh.engine.files().map(str::to_string).collect(),
    ));
    release_free_memory();
    for e in &fresh.report.errors {
        tracing::warn!("skipped {e}");
    }
    metrics.rebuild(started.elapsed().as_secs_f64(), posts, feeds);
    tracing::info!(
        posts,
        feeds,
        files,
        skipped = fresh.report.errors.len(),
        ms = started.elapsed().as_millis() as u64,
        "initial build published"
    );
    let snapshot = served.snapshot.clone();
    let heartbeat = Arc::new(AtomicU64::new(now_millis()));
    let mut ctx = rebuild::Loop {
        engine: fresh.engine,
        root,
        watcher,
        rx,
        tx: tx.clone(),
        served,
        metrics: metrics.clone(),
        heartbeat: heartbeat.clone(),
        disk,
        retry: Vec::new(),
    };
    let thread = std::thread::Builder::new()
        .name("feedd-rebuild".into())
        .spawn(move || {
            ctx.run();
            drop(ctx);
            let _ = disk_thread.join();
        })
        .map_err(|source| BuildError::Write {
            path: PathBuf::from("(rebuild thread)"),
            source,
        })?;
    Ok(Running {
        snapshot,
        metrics,
        heartbeat,
        tx,
        thread: Mutex::new(Some(thread)),
    })
}

/// Gives memory freed by the first build (its feeds' bytes, now on disk) back to the
/// system: glibc keeps freed chunks mapped otherwise, and RSS would stay at the peak.
fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only walks the allocator's own free lists.
    unsafe {
        libc::malloc_trim(0);
    }
}

fn canonical(dir: &Path) -> Result<PathBuf, crate::error::ContentError> {
    std::fs::canonicalize(dir).map_err(|source| crate::error::ContentError {
        path: dir.to_path_buf(),
        source,
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

fn now_millis() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}
