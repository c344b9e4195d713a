//! The precompressed copies the disk writer owes (`feed.xml.gz`, `.br`, `.zst`): which
//! files lack them, and when the next may be made. Only names are queued: holding the
//! bytes of a first build's files until their turn would keep the whole output on the
//! heap for the tens of seconds compression takes. The writer's thread alone writes the
//! output dir, so the file read back is the version that was written.
//!
//! Copies wait for writes to be quiet (`QUIET`): in a burst of posts the index, the
//! lists, the OPML and the site feed change with every post (1.8 MB at 100k posts and
//! 2,000 feeds, ~90 ms of gzip, brotli and zstd), so they are compressed once when the
//! burst is over, not once per post on a core the next change needs. A static server
//! meanwhile serves identity (old copies are removed before a new version is renamed
//! in). An endless stream holds them back no longer than `MAX_WAIT`.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::metrics::Metrics;

pub const QUIET: Duration = Duration::from_secs(1);
pub const MAX_WAIT: Duration = Duration::from_secs(10);

#[derive(Default)]
pub struct Copies {
    /// Whether copies are made at all (`precompress`).
    pub enabled: bool,
    queue: BTreeSet<String>,
    /// Files whose copies failed: tried again after those queued (so one that can never
    /// be written does not hold up the rest), all at once when a copy succeeds again.
    blocked: BTreeSet<String>,
    /// A copy failed to be written (disk full): no more tries until then.
    after: Option<Instant>,
    last_write: Option<Instant>,
    owed_since: Option<Instant>,
}

impl Copies {
    pub fn new(enabled: bool) -> Copies {
        Copies {
            enabled,
            ..Copies::default()
        }
    }

    pub fn owed(&self) -> usize {
        self.queue.len() + self.blocked.len()
    }

    /// Whether copies wait: for their backoff to pass, or for writes to be quiet.
    pub fn wait(&self) -> bool {
        let now = Instant::now();
        self.next().is_some_and(|at| at > now)
    }

    /// When the next copy may be made (`None`: at once, or none owed).
    pub fn next(&self) -> Option<Instant> {
        if self.owed() == 0 {
            return None;
        }
        let quiet = self.last_write.map(|at| {
            let quiet = at + QUIET;
            self.owed_since
                .map_or(quiet, |since| quiet.min(since + MAX_WAIT))
        });
        self.after.max(quiet)
    }

    /// A file was written (`owed`: with new bytes, or copies older than it).
    pub fn written(&mut self, rel: &str, owed: bool) {
        self.last_write = Some(Instant::now());
        self.blocked.remove(rel);
        if owed && self.enabled {
            self.queue.insert(rel.to_string());
        } else {
            self.queue.remove(rel);
        }
    }

    /// A newer version of the file is on its way: its copies wait for it.
    pub fn replaced(&mut self, rel: &str) {
        self.queue.remove(rel);
        self.blocked.remove(rel);
    }

    /// Queues files on disk whose copies are missing or older than they are (what an
    /// earlier run left undone); how many.
    pub fn owed_by_earlier_run(&mut self, out_dir: &Path, files: Vec<String>) -> usize {
        if !self.enabled {
            return 0;
        }
        let before = self.owed();
        for rel in files {
            if !crate::output::copies_current(&out_dir.join(&rel)) {
                self.queue.insert(rel);
            }
        }
        self.owed() - before
    }

    /// Makes the copies of one file. One that cannot be written (a full disk) stays owed
    /// and is tried again after `backoff`; meanwhile the server and nginx fall back to
    /// identity or compress themselves.
    pub fn make_one(&mut self, out_dir: &Path, backoff: Duration) {
        if self.queue.is_empty() {
            self.queue.append(&mut self.blocked);
        }
        let Some(rel) = self.queue.pop_first() else {
            return;
        };
        let path = out_dir.join(&rel);
        // Removed meanwhile by someone else: no copies of nothing.
        let Ok(bytes) = std::fs::read(&path) else {
            return;
        };
        match crate::output::write_copies(&path, &bytes) {
            Ok(()) => {
                self.after = None;
                self.queue.append(&mut self.blocked);
            }
            Err(e) => {
                if self.after.is_none() {
                    tracing::warn!(
                        "{}: its precompressed copies are not written: {e}; trying again (gauge feedd_disk_pending_copies)",
                        path.display()
                    );
                }
                self.blocked.insert(rel);
                self.after = Some(Instant::now() + backoff);
            }
        }
    }

    /// Updates the gauge, and since when copies are owed.
    pub fn count(&mut self, metrics: &Metrics) {
        let owed = self.owed();
        match owed {
            0 => self.owed_since = None,
            _ => {
                self.owed_since.get_or_insert_with(Instant::now);
            }
        }
        metrics.pending_copies(owed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_wait_for_quiet_writes_but_not_for_ever() {
        let mut copies = Copies::new(true);
        assert_eq!(copies.next(), None, "nothing owed");
        let before = Instant::now();
        copies.written("feed.xml", true);
        copies.written("gone.xml", false);
        assert_eq!(copies.owed(), 1);
        assert!(copies.wait(), "a write just now: not yet");
        let at = copies.next().unwrap();
        assert!(at >= before + QUIET && at <= Instant::now() + QUIET);
        // Writes quiet for long enough: due.
        copies.last_write = Some(before - QUIET);
        assert!(!copies.wait());
        // An endless stream: writes never quiet, but copies owed since MAX_WAIT ago.
        copies.last_write = Some(Instant::now());
        copies.owed_since = Some(before - MAX_WAIT);
        assert!(!copies.wait());
        // A newer version on its way takes the file out of the queue.
        copies.replaced("feed.xml");
        assert_eq!(copies.owed(), 0);
        assert_eq!(copies.next(), None);
    }

    #[test]
    fn nothing_is_owed_when_copies_are_off() {
        let mut copies = Copies::new(false);
        copies.written("feed.xml", true);
        assert_eq!(copies.owed(), 0);
        let dir = std::env::temp_dir();
        assert_eq!(copies.owed_by_earlier_run(&dir, vec!["x".into()]), 0);
    }
}
