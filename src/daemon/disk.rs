//! The disk writer of `feedd serve`: published files go to `output_dir` on a thread of
//! their own, in order, so a stalled disk never holds up a rebuild (memory keeps
//! serving). Failed writes are retried every second until they succeed or a newer
//! version of the same file replaces them; each burst of failures is one log line.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::time::Duration;

use bytes::Bytes;

/// Files to write (`Some`) or remove (`None`), by path relative to the output dir.
pub type Writes = Vec<(String, Option<Bytes>)>;

pub enum Job {
    Write(Writes),
    /// Remove published-looking files that are not in the set (after the first build).
    Prune(BTreeSet<String>),
}

/// Starts the writer; dropping the sender lets it finish what is queued and stop.
pub fn start(out_dir: PathBuf) -> std::io::Result<(Sender<Job>, std::thread::JoinHandle<()>)> {
    let (tx, rx) = mpsc::channel::<Job>();
    let handle = std::thread::Builder::new()
        .name("feedd-disk".into())
        .spawn(move || {
            let mut failed: Writes = Vec::new();
            loop {
                let wait = if failed.is_empty() {
                    Duration::from_secs(3600)
                } else {
                    Duration::from_secs(1)
                };
                let mut writes = std::mem::take(&mut failed);
                match rx.recv_timeout(wait) {
                    Ok(Job::Write(newer)) => {
                        // A newer write of the same file replaces the failed one.
                        writes.retain(|(rel, _)| !newer.iter().any(|(n, _)| n == rel));
                        writes.extend(newer);
                    }
                    Ok(Job::Prune(keep)) => {
                        if let Err(e) = crate::publish::remove_stale(&out_dir, &keep) {
                            tracing::error!(
                                "{}: cannot remove stale feeds: {e}",
                                out_dir.display()
                            );
                        }
                    }
                    Err(RecvTimeoutError::Timeout) => {}
                    Err(RecvTimeoutError::Disconnected) => {
                        write(&out_dir, writes);
                        break;
                    }
                }
                failed = write(&out_dir, writes);
            }
        })?;
    Ok((tx, handle))
}

/// Writes (or removes) files; returns the writes that failed.
pub fn write(out_dir: &std::path::Path, writes: Writes) -> Writes {
    let mut failed = Vec::new();
    let mut first_error = None;
    for (rel, bytes) in writes {
        let path = out_dir.join(&rel);
        match &bytes {
            Some(data) => {
                if let Err(e) = crate::publish::write_if_changed(&path, data) {
                    first_error.get_or_insert((path, e));
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
    if let Some((path, e)) = first_error {
        tracing::error!(
            "cannot write {} files, first {}: {e} (still serving from memory; retrying every second)",
            failed.len(),
            path.display()
        );
    }
    failed
}
