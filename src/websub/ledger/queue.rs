//! Debts by key, with a schedule by due time beside them, so "what is due now" and
//! "when is the next thing due" cost the number of due items, not the number owed.

use std::collections::{BTreeMap, BTreeSet};

use super::{Millis, Owed};

#[derive(Debug)]
pub struct Queue<K: Ord + Clone> {
    items: BTreeMap<K, Owed>,
    schedule: BTreeSet<(Millis, K)>,
}

impl<K: Ord + Clone> Default for Queue<K> {
    fn default() -> Self {
        Queue {
            items: BTreeMap::new(),
            schedule: BTreeSet::new(),
        }
    }
}

impl<K: Ord + Clone> Queue<K> {
    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn get(&self, key: &K) -> Option<&Owed> {
        self.items.get(key)
    }

    pub fn contains(&self, key: &K) -> bool {
        self.items.contains_key(key)
    }

    /// Sets (or replaces) the debt of `key`.
    pub fn set(&mut self, key: K, debt: Owed) {
        if let Some(old) = self.items.insert(key.clone(), debt) {
            self.schedule.remove(&(old.due, key.clone()));
        }
        self.schedule.insert((debt.due, key));
    }

    pub fn remove(&mut self, key: &K) -> Option<Owed> {
        let old = self.items.remove(key)?;
        self.schedule.remove(&(old.due, key.clone()));
        Some(old)
    }

    /// Owes `key` a newer version (`seq`): a new debt is due `now`; an existing one keeps
    /// its schedule and attempts (a failing callback stays in backoff) and its `since`.
    pub fn bump(&mut self, key: K, seq: u64, now: Millis) -> Owed {
        let mut debt = self.items.get(&key).copied().unwrap_or(Owed {
            seq: 0,
            attempts: 0,
            due: now,
            since: now,
        });
        debt.seq = seq;
        self.set(key, debt);
        debt
    }

    /// Debts due at `now` not in flight, earliest first, at most `max`.
    pub fn due(&self, now: Millis, busy: impl Fn(&K) -> bool, max: usize) -> Vec<(K, Owed)> {
        (self.schedule.iter())
            .take_while(|(due, _)| *due <= now)
            .filter(|(_, k)| !busy(k))
            .take(max)
            .filter_map(|(_, k)| Some((k.clone(), *self.items.get(k)?)))
            .collect()
    }

    /// When the earliest debt not in flight is due (the in-flight ones, at most the
    /// concurrency cap, are skipped).
    pub fn next(&self, busy: impl Fn(&K) -> bool) -> Option<Millis> {
        (self.schedule.iter())
            .find(|(_, k)| !busy(k))
            .map(|(due, _)| *due)
    }
}
