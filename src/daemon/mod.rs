//! `feedd serve`'s driver: the engine on a thread of its own, fed by the watcher, with
//! its output published to the server's snapshot and, behind it, to disk. Pieces:
//! `debounce` (events → batches), `follow` (which folder the content dir is now),
//! `rebuild` (the loop: receive, read, apply, publish; the one writer of the snapshot),
//! `next_snapshot` (engine output → next snapshot + disk writes), `writer` (the output
//! writer thread, which reports what it stored), `restore` (the manifest → a snapshot),
//! `reload` (a new configuration, applied whole or not at all).

mod copies;
mod debounce;
mod follow;
mod machine;
mod next_snapshot;
mod rebuild;
mod reload;
mod restore;
mod writer;

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
    /// The disk writer put these files on disk.
    Stored(Vec<writer::Stored>),
    /// New reader figures for the feeds' pages (`[stats] public`, once a day).
    Readers(Box<ReadersTable>),
    Stop,
}

pub use crate::stats::report::PagesTable as ReadersTable;

/// What the server reads. Only the rebuild loop replaces it (the first build did, before
/// the loop started): one writer, so no update is ever lost to another.
type Served = Arc<ArcSwap<Snapshot>>;

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
    /// Gives the feeds' pages new reader figures; their pages are made again.
    pub fn set_readers(&self, table: ReadersTable) {
        let _ = self.tx.send(Msg::Readers(Box::new(table)));
    }

    pub fn stop(&self) {
        let _ = self.tx.send(Msg::Stop);
        let thread = self.thread.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(t) = thread {
            let _ = t.join();
        }
    }
}

/// Builds everything once, publishes it, and starts watching. When the output dir holds
/// what the last run published (`restore`), that is served at once and the first build
/// runs behind it on the rebuild thread, publishing only the differences.
pub fn start(config: Config, hub: crate::websub::hub::Notifier) -> Result<Running, BuildError> {
    let started = std::time::Instant::now();
    let root = canonical(&config.content_dir)?;
    let folder = follow::Folder::resolve(&config.content_dir);
    // Watch before the first read, so nothing written meanwhile is missed.
    let (tx, rx) = mpsc::channel();
    let watcher = start_watcher(&root, &tx, true);
    let metrics = Arc::new(Metrics::default());
    let settings = Arc::new(crate::http_settings::HttpSettings::new(&config));
    let restored = restore::restore(&config, settings);
    let served: Served = Arc::new(ArcSwap::from_pointee(Snapshot::default()));
    let heartbeat = Arc::new(AtomicU64::new(now_millis()));
    let mut first = First {
        config,
        hub: hub.clone(),
        served: served.clone(),
        metrics: metrics.clone(),
        report: tx.clone(),
        started,
    };
    let ready = match restored {
        Some(snapshot) => {
            tracing::info!(
                files = snapshot.files.len(),
                ms = started.elapsed().as_millis() as u64,
                "serving the output dir as the last run left it; building behind it"
            );
            served.store(Arc::new(snapshot));
            None
        }
        None => Some(first.build()?),
    };
    let snapshot = served.clone();
    let (loop_tx, loop_metrics, loop_heartbeat) = (tx.clone(), metrics.clone(), heartbeat.clone());
    let thread = std::thread::Builder::new()
        .name("feedd-rebuild".into())
        .spawn(move || {
            let Some((engine, disk, disk_thread)) = ready.or_else(|| first.build_behind(&rx))
            else {
                return;
            };
            let timing = timing(engine.config());
            let machine = machine::Machine::new(timing, folder, watcher.is_some());
            let mut ctx = rebuild::Loop {
                engine,
                machine,
                watcher,
                rx,
                tx: loop_tx,
                served,
                unrecorded: true,
                metrics: loop_metrics,
                heartbeat: loop_heartbeat,
                disk,
                hub,
                readers: None,
            };
            ctx.run();
            // The writer finishes what is queued and stops; what it stored meanwhile is
            // recorded, so the next start serves it at once.
            ctx.disk = mpsc::channel().0;
            let _ = disk_thread.join();
            ctx.finish();
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

/// The engine after the first build, the disk writer's queue and its thread.
type Built = (
    crate::engine::Engine,
    Sender<writer::Job>,
    std::thread::JoinHandle<()>,
);

/// The first build: what it needs, before or behind the restored files.
struct First {
    config: Config,
    hub: crate::websub::hub::Notifier,
    served: Served,
    metrics: Arc<Metrics>,
    /// Where the disk writer reports what it stored.
    report: Sender<Msg>,
    started: std::time::Instant,
}

impl First {
    /// Builds everything, serves it (only the differences from what is served, after a
    /// restore) and starts the disk writer with the writes that bring the disk there.
    fn build(&mut self) -> Result<Built, BuildError> {
        let fresh = reload::fresh(self.config.clone(), &self.served.load())?;
        let (posts, feeds, files) = (
            fresh.snapshot.posts,
            fresh.snapshot.feeds.len(),
            fresh.snapshot.files.len(),
        );
        let writes = fresh.writes.len();
        let on_disk: Vec<String> = (fresh.snapshot.files.iter())
            .filter(|(_, file)| file.on_disk_as().is_some())
            .map(|(rel, _)| rel.clone())
            .collect();
        self.served.store(Arc::new(fresh.snapshot));
        self.hub.changed(fresh.changed);
        let out_dir = fresh.engine.config().output_dir.clone();
        let (disk, disk_thread, first_stored) = writer::start(
            out_dir.clone(),
            self.metrics.clone(),
            self.report.clone(),
            fresh.writes,
            fresh.engine.config().precompress,
        )
        .map_err(|source| BuildError::Write {
            path: out_dir.clone(),
            source,
        })?;
        // Served from disk before feedd says it serves (and the memory given back).
        rebuild::move_to_disk(&self.served, &out_dir, first_stored);
        // The build's rendered bytes are gone either way (the same as restored, or on
        // disk now): give the memory back.
        release_free_memory();
        let _ = disk.send(writer::Job::Owed(on_disk));
        let _ = disk.send(writer::Job::Prune(
            fresh.engine.files().map(str::to_string).collect(),
            fresh.engine.config().pages.enabled,
        ));
        for e in &fresh.report.errors {
            tracing::warn!("skipped {e}");
        }
        let secs = self.started.elapsed().as_secs_f64();
        self.metrics.rebuild(secs, posts, feeds);
        tracing::info!(
            posts,
            feeds,
            files,
            written = writes,
            skipped = fresh.report.errors.len(),
            ms = (secs * 1000.0) as u64,
            "initial build published"
        );
        Ok((fresh.engine, disk, disk_thread))
    }

    /// The first build behind restored files: a failure (the content dir unreadable)
    /// keeps the restored files served and is tried again every few seconds, until it
    /// succeeds or feedd is stopped.
    fn build_behind(&mut self, rx: &mpsc::Receiver<Msg>) -> Option<Built> {
        loop {
            match self.build() {
                Ok(built) => return Some(built),
                Err(e) => tracing::error!(
                    "{}; still serving the files from before the restart, trying again in 5 s",
                    crate::error::chain(&e)
                ),
            }
            let deadline = std::time::Instant::now() + Duration::from_secs(5);
            while let Some(wait) = deadline.checked_duration_since(std::time::Instant::now()) {
                match rx.recv_timeout(wait) {
                    Ok(Msg::Stop) | Err(mpsc::RecvTimeoutError::Disconnected) => return None,
                    Ok(Msg::Reload(config, answer)) => {
                        self.config = *config;
                        let _ = answer.send(Ok("building with the new configuration".into()));
                        break;
                    }
                    Ok(_) => {}
                    Err(mpsc::RecvTimeoutError::Timeout) => break,
                }
            }
        }
    }
}

/// Gives memory freed by the first build (its feeds' bytes, now on disk) back to the
/// system: glibc keeps freed chunks mapped otherwise, and RSS would stay at the peak.
pub(super) fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only walks the allocator's own free lists.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Keeps the engine's rendered entries within `[serve] entries_mib` (the published
/// catalog takes the smaller set with the next snapshot).
fn shed_parts(engine: &mut crate::engine::Engine) {
    let budget = usize::try_from(engine.config().serve.entries_mib.saturating_mul(1 << 20));
    let dropped = engine.shed_parts(budget.unwrap_or(usize::MAX));
    if dropped > 0 {
        tracing::debug!(dropped, "rendered entries over entries_mib let go");
    }
}

/// The machine's timing from the `[serve]` settings.
fn timing(config: &Config) -> machine::Timing {
    machine::Timing {
        debounce: config.serve.debounce,
        max_wait: config.serve.max_wait,
    }
}

fn canonical(dir: &Path) -> Result<PathBuf, crate::error::ContentError> {
    std::fs::canonicalize(dir).map_err(|source| crate::error::ContentError {
        path: dir.to_path_buf(),
        source,
    })
}

/// Watches `root`; a failure is logged when `loud` (the rebuild loop tries again every
/// turn, quietly).
fn start_watcher(root: &Path, tx: &Sender<Msg>, loud: bool) -> Option<notify::RecommendedWatcher> {
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
            if loud {
                tracing::error!(
                    "{}: cannot watch: {e}; trying again every second (changes meanwhile are found by a rescan then)",
                    root.display()
                );
            }
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
