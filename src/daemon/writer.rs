//! The disk writer of `feedd serve`: published files go to `output_dir` on a thread of
//! their own, in order, so a stalled disk never holds up a rebuild (memory keeps
//! serving). A write that fails (disk full, read-only, a file where a folder must be) is
//! kept and retried with backoff — half a second, doubling to five — until it succeeds or
//! a newer version of the same file replaces it; the first build's writes too. A burst of
//! failures is one log line when it starts and one when it is over, and the number of
//! pending files is the `feedd_disk_pending_writes` gauge.
//!
//! When there is nothing to write and writes have been quiet for a second (`copies`),
//! the thread makes the precompressed copies of what it wrote (`feed.xml.gz`, `.br`,
//! `.zst`, the bytes feedd itself serves for those encodings; unless
//! `precompress = false`), one file at a time, so a static server can
//! serve `output_dir` directly. Identity bytes always go first: compressing a gigabyte of
//! feeds takes tens of seconds and never delays a write (at most one file's compression,
//! a few milliseconds). Copies are owed work that survives anything: at start every
//! published file whose copies are missing or older than it is queued (a run stopped by
//! SIGTERM, `kill -9` or a full disk left them so), and a copy that cannot be written is
//! tried again with the writes' backoff; `feedd_disk_pending_copies` counts them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::Msg;
use crate::metrics::Metrics;

/// A file the writer has put on disk: the bytes it was handed (their identity tells
/// whether the snapshot still serves that version) and the size and mtime it found.
pub struct Stored {
    pub rel: String,
    pub bytes: Bytes,
    pub len: u64,
    pub modified: std::time::SystemTime,
}

/// Files to write (`Some`) or remove (`None`), by path relative to the output dir.
pub type Writes = Vec<(String, Option<Bytes>)>;

pub enum Job {
    Write(Writes),
    /// Files already on disk (restored, or unchanged since an earlier run) whose copies
    /// may be owed.
    Owed(Vec<String>),
    /// Record the manifest of this snapshot, whose files are all on disk.
    Record(Arc<crate::snapshot::Snapshot>),
    /// Remove published-looking files that are not in the set (after a full build);
    /// whether page names are feedd's.
    Prune(std::collections::BTreeSet<String>, bool),
}

const FIRST_RETRY: Duration = Duration::from_millis(500);
const LAST_RETRY: Duration = Duration::from_secs(5);

/// Writes `first` (the first build: on disk before feedd says it serves, as a static
/// server in front may read it at once), then starts the writer thread with whatever
/// failed; dropping the sender lets it finish what is queued and stop. What it stores is
/// reported to the rebuild loop (`Msg::Stored`), the one writer of the snapshot.
pub fn start(
    out_dir: PathBuf,
    metrics: Arc<Metrics>,
    report: Sender<Msg>,
    first: Writes,
    precompress: bool,
) -> std::io::Result<(Sender<Job>, std::thread::JoinHandle<()>, Vec<Stored>)> {
    let (tx, rx) = mpsc::channel::<Job>();
    let mut writer = Writer::new(out_dir, metrics, report);
    writer.copies.enabled = precompress;
    // What the first writes stored is returned, not reported: the caller moves it to
    // disk before it serves, so the first change is not held up by that.
    writer.first = Some(Vec::new());
    writer.write(first);
    let first_stored = writer.first.take().unwrap_or_default();
    let handle = std::thread::Builder::new()
        .name("feedd-disk".into())
        .spawn(move || {
            crate::background::lower_priority();
            loop {
                let retry = writer.next_retry();
                let wait = if writer.copies.owed() == 0 || writer.copies.wait() {
                    retry.map_or(Duration::from_secs(3600), |at| {
                        at.saturating_duration_since(Instant::now())
                    })
                } else {
                    Duration::ZERO
                };
                match rx.recv_timeout(wait) {
                    Ok(Job::Write(writes)) => writer.write(writes),
                    Ok(Job::Prune(keep, pages)) => writer.prune(&keep, pages),
                    Ok(Job::Owed(files)) => writer.owed_copies(files),
                    Ok(Job::Record(snapshot)) => writer.record.queue(snapshot),
                    Err(RecvTimeoutError::Timeout) => writer.due(),
                    Err(RecvTimeoutError::Disconnected) => {
                        // Copies not made now are made at the next start.
                        writer.retry();
                        writer.record.write(&writer.out_dir);
                        break;
                    }
                }
            }
        })?;
    Ok((tx, handle, first_stored))
}

/// The writer's state: what failed and when to try again.
pub struct Writer {
    out_dir: PathBuf,
    metrics: Arc<Metrics>,
    report: Sender<Msg>,
    /// The newest version of each file that could not be written yet.
    pending: BTreeMap<String, Option<Bytes>>,
    backoff: Duration,
    retry_at: Option<Instant>,
    /// Since when writes have been failing (the burst being reported).
    failing_since: Option<Instant>,
    /// The precompressed copies owed.
    copies: super::copies::Copies,
    /// While the first writes are made: what they stored, kept for `start`'s caller.
    first: Option<Vec<Stored>>,
    /// The manifest still to be written.
    record: super::restore::Recorder,
}

impl Writer {
    pub fn new(out_dir: PathBuf, metrics: Arc<Metrics>, report: Sender<Msg>) -> Writer {
        Writer {
            out_dir,
            metrics,
            report,
            pending: BTreeMap::new(),
            backoff: FIRST_RETRY,
            retry_at: None,
            failing_since: None,
            copies: super::copies::Copies::new(true),
            first: None,
            record: Default::default(),
        }
    }

    fn next_retry(&self) -> Option<Instant> {
        let copies = self.copies.next();
        let retry = self.retry_at.filter(|_| !self.pending.is_empty());
        [retry, copies, self.record.due_at()]
            .into_iter()
            .flatten()
            .min()
    }

    /// Does what is due: the manifest, failed writes, then one file's copies.
    fn due(&mut self) {
        let now = Instant::now();
        if self.record.due_at().is_some_and(|at| at <= now) {
            self.record.write(&self.out_dir);
        } else if !self.pending.is_empty() && self.retry_at.is_some_and(|at| at <= now) {
            self.retry();
        } else if !self.copies.wait() {
            self.copies
                .make_one(&self.out_dir, self.backoff.max(FIRST_RETRY));
            self.copies.count(&self.metrics);
        }
    }

    /// Queues the copies that these files (on disk already) lack or that are older than
    /// their file: what an earlier run left undone.
    fn owed_copies(&mut self, files: Vec<String>) {
        let owed = self.copies.owed_by_earlier_run(&self.out_dir, files);
        if owed > 0 {
            tracing::info!(
                files = owed,
                "making the precompressed copies an earlier run left undone"
            );
        }
        self.copies.count(&self.metrics);
    }

    /// Writes (or removes) files; the failures join the pending ones.
    pub fn write(&mut self, writes: Writes) {
        for (rel, _) in &writes {
            // A newer version replaces a pending one, written or not.
            self.pending.remove(rel);
            self.copies.replaced(rel);
        }
        if let Some((failures, path, e)) = self.attempt(writes) {
            self.failed(failures, &path, &e);
        }
        self.settle();
    }

    /// Tries the pending writes again.
    pub fn retry(&mut self) {
        let pending: Writes = std::mem::take(&mut self.pending).into_iter().collect();
        if self.attempt(pending).is_some() {
            self.backoff = (self.backoff * 2).min(LAST_RETRY);
        }
        self.settle();
    }

    /// Puts each file; what is on disk now is served from there (and queued for its
    /// copies), what failed is pending. Returns how many failed, the first and why.
    fn attempt(&mut self, writes: Writes) -> Option<(usize, PathBuf, std::io::Error)> {
        let mut failures = 0;
        let mut first_error = None;
        let mut done = Vec::new();
        for (rel, bytes) in writes {
            match put(&self.out_dir, &rel, bytes.as_ref()) {
                Ok(copies) => {
                    self.copies.written(&rel, copies && bytes.is_some());
                    if let Some(bytes) = bytes {
                        done.push((rel, bytes));
                    }
                }
                Err(e) => {
                    failures += 1;
                    first_error.get_or_insert((self.out_dir.join(&rel), e));
                    self.pending.insert(rel, bytes);
                }
            }
        }
        self.serve_from_disk(done);
        first_error.map(|(path, e)| (failures, path, e))
    }

    /// Tells the rebuild loop which files are on disk now, so their bytes leave memory.
    fn serve_from_disk(&mut self, done: Vec<(String, Bytes)>) {
        let stored: Vec<Stored> = done
            .into_iter()
            .filter_map(|(rel, bytes)| {
                let meta = std::fs::metadata(self.out_dir.join(&rel)).ok()?;
                let modified = meta.modified().ok()?;
                let len = meta.len();
                Some(Stored {
                    rel,
                    bytes,
                    len,
                    modified,
                })
            })
            .collect();
        match &mut self.first {
            Some(first) => first.extend(stored),
            None if !stored.is_empty() => {
                let _ = self.report.send(Msg::Stored(stored));
            }
            None => {}
        }
    }

    fn prune(&mut self, keep: &std::collections::BTreeSet<String>, pages: bool) {
        // Files still to be written are kept too: they are published, just not on disk.
        let mut keep = keep.clone();
        keep.extend(self.pending.keys().cloned());
        if let Err(e) = crate::output::remove_stale(&self.out_dir, &keep, pages) {
            tracing::error!("{}: cannot remove stale feeds: {e}", self.out_dir.display());
        }
    }

    /// Logs the start of a burst of failures, once: how many, the first, why.
    fn failed(&mut self, files: usize, first: &Path, e: &std::io::Error) {
        if self.failing_since.is_none() {
            self.failing_since = Some(Instant::now());
            self.backoff = FIRST_RETRY;
            tracing::error!(
                "cannot write {files} files to the output dir, first {}: {e}; still serving them from memory and retrying with backoff (gauge feedd_disk_pending_writes)",
                first.display()
            );
        }
    }

    /// Schedules the next retry, or reports the end of a burst.
    fn settle(&mut self) {
        self.metrics.pending_writes(self.pending.len());
        self.copies.count(&self.metrics);
        if self.pending.is_empty() {
            if let Some(since) = self.failing_since.take() {
                tracing::info!(
                    "{}: writes succeed again after {:.1} s; the output dir is current",
                    self.out_dir.display(),
                    since.elapsed().as_secs_f64()
                );
            }
            self.retry_at = None;
            self.backoff = FIRST_RETRY;
        } else {
            if self.retry_at.is_none_or(|at| at <= Instant::now()) {
                self.retry_at = Some(Instant::now() + self.backoff);
            }
            if let Some((rel, _)) = self.pending.iter().next() {
                tracing::debug!(
                    pending = self.pending.len(),
                    first = rel.as_str(),
                    "disk writes pending"
                );
            }
        }
    }
}

/// Writes one file (unless it already holds these bytes) or removes it, with its
/// precompressed copies. Returns whether the copies are to be made (new bytes, or copies
/// missing, e.g. after a restart).
fn put(out_dir: &Path, rel: &str, bytes: Option<&Bytes>) -> std::io::Result<bool> {
    let path = out_dir.join(rel);
    match bytes {
        Some(data) => {
            let written = crate::output::write_if_changed(&path, data)?;
            Ok(written || !crate::output::copies_current(&path))
        }
        None => {
            crate::output::remove_variants(&path)?;
            match std::fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
            if let Some(dir) = path.parent() {
                let _ = std::fs::remove_dir(dir); // only when empty
            }
            Ok(false)
        }
    }
}
