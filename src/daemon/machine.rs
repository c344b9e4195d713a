//! The decisions of `feedd serve`'s rebuild loop, without I/O: which file-system events
//! make a batch and when it is due, what a turn reads (some paths, or everything), when
//! the content dir was replaced or is gone, when to watch again, and where a reload
//! falls between batches. Events and the time go in; actions come out. The loop
//! (`rebuild`) is the thin shell that receives the events, does the actions and tells
//! the machine what came of them; the tests drive the machine alone, without sockets,
//! files or sleeps.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::debounce::Batch;
use super::follow::{follow, Folder, Follow};
use crate::watch::FsChange;

/// How long raw writes wait for quiet, and at most.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    pub debounce: Duration,
    pub max_wait: Duration,
}

/// What the loop received.
#[derive(Debug)]
pub enum Event {
    Fs(FsChange),
    /// Events were lost (a watcher error or overflow).
    WatchError,
}

/// What a turn does to the engine.
#[derive(Debug, PartialEq, Eq)]
pub enum Apply {
    /// Read these paths (relative to the content dir; `true`: known complete) and apply.
    Read(BTreeMap<String, bool>),
    /// Scan the whole content dir and apply what differs.
    Scan,
}

/// What the loop does in a turn, in order.
#[derive(Debug, PartialEq, Eq)]
pub enum Action {
    /// Watch this folder (the old watch, if any, is dropped first); `loud`: say so if
    /// it fails (a retry every turn stays quiet).
    Watch {
        folder: PathBuf,
        loud: bool,
    },
    /// Stop watching: the folder is gone.
    Unwatch,
    Apply(Apply),
    /// One line for the log.
    Log(Log),
}

/// What the loop logs about the content dir.
#[derive(Debug, PartialEq, Eq)]
pub enum Log {
    Replaced(PathBuf),
    Gone,
}

/// The loop's state between events.
pub struct Machine {
    timing: Timing,
    /// The folder the content dir led to at the last turn (`None` while gone).
    folder: Option<Folder>,
    /// Whether a watch is in place on `folder`.
    watching: bool,
    batch: Batch,
    /// Half-written files seen in the last turn, taken as finished in the next.
    retry: Vec<String>,
    /// Folders that appeared in the last turn, listed once more in the next: a file
    /// renamed into a new folder before its watch was in place sends no event, and the
    /// first listing may have come before the file.
    new_dirs: Vec<String>,
    /// The folders listed again in this turn (not to be listed a third time).
    listed_again: Vec<String>,
    /// A quiet watch retry is under way: when it works, rescan.
    rewatching: bool,
}

impl Machine {
    /// After the first build: `folder` is what it read, `watching` whether a watch is
    /// in place.
    pub fn new(timing: Timing, folder: Option<Folder>, watching: bool) -> Machine {
        Machine {
            timing,
            folder,
            watching,
            batch: Batch::default(),
            retry: Vec::new(),
            new_dirs: Vec::new(),
            listed_again: Vec::new(),
            rewatching: false,
        }
    }

    /// The folder being followed (what watcher paths are relative to).
    pub fn root(&self) -> Option<&PathBuf> {
        self.folder.as_ref().map(|f| &f.path)
    }

    /// A reload's new timing and folder (a reload builds afresh).
    pub fn reloaded(&mut self, timing: Timing, folder: Option<Folder>, watching: bool) {
        *self = Machine::new(timing, folder, watching);
    }

    pub fn event(&mut self, event: Event, now: Instant) {
        match (event, self.folder.as_ref()) {
            (Event::Fs(change), Some(folder)) => self.batch.add(change, &folder.path, now),
            (Event::Fs(_), None) => {}
            (Event::WatchError, _) => self.batch.rescan = true,
        }
    }

    /// Whether events are gathered for a batch (a reload then waits for it).
    pub fn gathering(&self) -> bool {
        !self.batch.is_empty()
    }

    /// When the next turn is due: the batch's deadline; with nothing gathered, at the
    /// next future post (`next_due`) or in a second (the watchdog sees the loop turn,
    /// and the content dir is looked at), sooner when files wait to be read again.
    pub fn deadline(&self, now: Instant, next_due: Option<Duration>) -> Instant {
        if self.gathering() {
            return (self.batch).deadline(now, self.timing.debounce, self.timing.max_wait);
        }
        if !self.retry.is_empty() || !self.new_dirs.is_empty() {
            return now + self.timing.debounce;
        }
        now + next_due
            .unwrap_or(Duration::MAX)
            .min(Duration::from_secs(1))
    }

    /// A turn: `now_folder` is what the content dir leads to now. Returns what to do;
    /// the loop reports the outcome of a `Watch` with `watched` and of an `Apply` with
    /// `applied`.
    pub fn turn(&mut self, now_folder: Option<Folder>) -> Vec<Action> {
        let mut batch = std::mem::take(&mut self.batch);
        let mut actions = Vec::new();
        match follow(self.folder.as_ref(), now_folder) {
            Follow::Same if self.watching => {}
            Follow::Same => {
                // Watching failed before (e.g. the inotify limit): try again, quietly;
                // a rescan follows once it works (`watched`).
                if let Some(folder) = self.root() {
                    let folder = folder.clone();
                    actions.push(Action::Watch {
                        folder,
                        loud: false,
                    });
                    self.rewatching = true;
                }
            }
            Follow::Gone => {
                if self.folder.take().is_some() {
                    actions.push(Action::Log(Log::Gone));
                }
                if std::mem::take(&mut self.watching) {
                    actions.push(Action::Unwatch);
                }
                return actions; // nothing to read: what was published keeps serving
            }
            Follow::Replaced(folder) => {
                actions.push(Action::Log(Log::Replaced(folder.path.clone())));
                self.folder = Some(folder);
                self.watching = false;
                // Paths seen in the folder before are no business of the new one's.
                (self.retry, self.new_dirs) = (Vec::new(), Vec::new());
                batch = Batch::default();
                batch.rescan = true;
            }
        }
        if batch.rescan {
            if !self.watching {
                if let Some(folder) = self.root() {
                    // Watch first, so that nothing changed during the scan is missed.
                    let folder = folder.clone();
                    actions.push(Action::Watch { folder, loud: true });
                }
            }
            self.retry.clear();
            self.new_dirs.clear();
            actions.push(Action::Apply(Apply::Scan));
            return actions;
        }
        for rel in self.retry.drain(..) {
            batch.paths.entry(rel).or_insert(true);
        }
        self.listed_again = std::mem::take(&mut self.new_dirs);
        for rel in &self.listed_again {
            batch.paths.entry(rel.clone()).or_insert(true);
        }
        if !batch.paths.is_empty() {
            actions.push(Action::Apply(Apply::Read(batch.paths)));
        }
        actions
    }

    /// Whether the watch asked for is in place. One that starts working again after a
    /// failure means a rescan at the next turn (changes meanwhile were not seen).
    pub fn watched(&mut self, ok: bool, now: Instant) {
        self.watching = ok;
        if ok && std::mem::take(&mut self.rewatching) {
            self.batch.add(FsChange::Rescan, &PathBuf::new(), now);
        }
    }

    /// What an apply left for the next turn: files still being written, and the
    /// folders it listed (listed once more, unless this was their second listing).
    pub fn applied(&mut self, deferred: Vec<String>, listed: Vec<String>) {
        self.retry = deferred;
        let again = std::mem::take(&mut self.listed_again);
        self.new_dirs = listed.into_iter().filter(|d| !again.contains(d)).collect();
    }
}

#[cfg(test)]
#[path = "machine_tests.rs"]
mod tests;
