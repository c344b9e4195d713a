//! How many rendered entries the engine keeps. Every feed needs its newest entries'
//! parts to be rendered again; a full build makes them for every feed (at 100k posts,
//! 40,000 entries and 280 MiB), but after it, a change renders only the feeds of the
//! posts it touches. So a long-running driver keeps the newest posts' parts within a
//! budget and lets the rest go: a feed that needs an older entry asks for its post to be
//! read again (`Output::reread`), as for a post that enters a feed later.

use std::sync::Arc;

use super::Engine;
use crate::render::EntryParts;

impl Engine {
    /// Drops the parts of the oldest posts while all of them weigh more than `budget`
    /// bytes, down to three quarters of it (so the next changes do not shed again at
    /// once); the number dropped. Nothing is dropped while rendered feeds wait for
    /// re-reads: their parts are needed next.
    pub fn shed_parts(&mut self, budget: usize) -> usize {
        if !self.pending_feeds.is_empty() {
            return 0;
        }
        let total = self.parts_weight();
        if total <= budget {
            return 0;
        }
        let mut by_age: Vec<(chrono::DateTime<chrono::FixedOffset>, &String, usize)> =
            (self.parts.iter())
                .map(|(rel, p)| (p.page.date, rel, p.weight()))
                .collect();
        // Newest first; ties by path, so the choice does not depend on hash order.
        by_age.sort_unstable_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(b.1)));
        let keep = budget / 4 * 3;
        let mut kept = 0;
        let dropped: Vec<String> = by_age
            .into_iter()
            .filter(|(_, _, weight)| {
                kept += weight;
                kept > keep
            })
            .map(|(_, rel, _)| rel.clone())
            .collect();
        for rel in &dropped {
            self.drop_parts(rel);
        }
        dropped.len()
    }

    /// What the kept parts weigh, in bytes.
    pub fn parts_weight(&self) -> usize {
        self.parts_weight
    }

    /// Keeps a post's rendered entry (replacing the one it had).
    pub(super) fn keep_parts(&mut self, rel: String, parts: Arc<EntryParts>) {
        self.parts_weight += parts.weight();
        if let Some(old) = self.parts.insert(rel, parts) {
            self.parts_weight -= old.weight();
        }
    }

    /// Lets a post's rendered entry go.
    pub(super) fn drop_parts(&mut self, rel: &str) {
        if let Some(old) = self.parts.remove(rel) {
            self.parts_weight -= old.weight();
        }
    }
}
