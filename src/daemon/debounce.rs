//! Coalescing file events into batches: a completed file (closed after writing, renamed
//! into place) is applied at once; raw writes wait for `debounce` of quiet, and never more
//! than `max_wait` after the burst began, so a `git pull` is a few rebuilds and an endless
//! stream still publishes. Pure: the caller passes the instants.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::watch::FsChange;

/// A batch of changes waiting to be applied.
#[derive(Debug, Default)]
pub struct Batch {
    /// Relative paths, and whether their writer is known to be done.
    pub paths: BTreeMap<String, bool>,
    pub rescan: bool,
    first: Option<Instant>,
    last: Option<Instant>,
}

impl Batch {
    pub fn add(&mut self, change: FsChange, root: &Path, now: Instant) {
        self.first.get_or_insert(now);
        self.last = Some(now);
        match change {
            FsChange::Rescan => self.rescan = true,
            FsChange::Touched { path, complete } => {
                if path == root || root.starts_with(&path) {
                    self.rescan = true; // the content dir itself moved or was replaced
                } else if let Some(rel) = crate::content::relative(root, &path) {
                    *self.paths.entry(rel).or_insert(false) |= complete;
                }
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.paths.is_empty() && !self.rescan
    }

    /// When to apply: at once if every writer is done, else after a quiet `debounce`,
    /// and never later than `max_wait` after the first event.
    pub fn deadline(&self, now: Instant, debounce: Duration, max_wait: Duration) -> Instant {
        if self.paths.values().all(|c| *c) {
            return now;
        }
        let quiet = self.last.unwrap_or(now) + debounce;
        let cap = self.first.unwrap_or(now) + max_wait;
        quiet.min(cap)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn touched(path: &str, complete: bool) -> FsChange {
        FsChange::Touched {
            path: PathBuf::from(path),
            complete,
        }
    }

    #[test]
    fn completed_files_go_at_once_raw_writes_wait_for_quiet_but_not_forever() {
        let (root, t0) = (Path::new("/site"), Instant::now());
        let (quiet, cap) = (Duration::from_millis(200), Duration::from_millis(2000));
        let mut batch = Batch::default();
        batch.add(touched("/site/_posts/a.md", true), root, t0);
        assert_eq!(batch.deadline(t0, quiet, cap), t0);
        batch.add(touched("/site/_posts/b.md", false), root, t0);
        assert_eq!(batch.deadline(t0, quiet, cap), t0 + quiet);
        let later = t0 + Duration::from_millis(1900);
        batch.add(touched("/site/_posts/b.md", false), root, later);
        assert_eq!(batch.deadline(later, quiet, cap), t0 + cap);
        batch.add(touched("/site/_posts/b.md", true), root, later);
        assert_eq!(batch.deadline(later, quiet, cap), later);
        assert_eq!(batch.paths.len(), 2);
    }

    #[test]
    fn the_content_dir_itself_changing_means_rescan() {
        let mut batch = Batch::default();
        batch.add(touched("/site", true), Path::new("/site"), Instant::now());
        assert!(batch.rescan && batch.paths.is_empty());
        let mut batch = Batch::default();
        batch.add(touched("/", true), Path::new("/site"), Instant::now());
        assert!(batch.rescan);
    }
}
