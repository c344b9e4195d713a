//! Debts by key, with a schedule by due time beside them, so "what is due now" and
//! "when is the next thing due" cost the number of due items, not the number owed. The
//! schedule is kept once more split by group (a callback's host), so the hub can take
//! turns among hosts instead of serving whichever host's debts sort first.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Bound;

use super::{Millis, Owed};

#[derive(Debug)]
struct Item {
    debt: Owed,
    group: String,
}

#[derive(Debug)]
pub struct Queue<K: Ord + Clone> {
    items: BTreeMap<K, Item>,
    schedule: BTreeSet<(Millis, K)>,
    groups: BTreeMap<String, BTreeSet<(Millis, K)>>,
}

impl<K: Ord + Clone> Default for Queue<K> {
    fn default() -> Self {
        Queue {
            items: BTreeMap::new(),
            schedule: BTreeSet::new(),
            groups: BTreeMap::new(),
        }
    }
}

impl<K: Ord + Clone> Queue<K> {
    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn get(&self, key: &K) -> Option<&Owed> {
        self.items.get(key).map(|i| &i.debt)
    }

    pub fn contains(&self, key: &K) -> bool {
        self.items.contains_key(key)
    }

    /// Sets (or replaces) the debt of `key`, which belongs to `group`.
    pub fn set(&mut self, key: K, group: &str, debt: Owed) {
        self.remove(&key);
        self.schedule.insert((debt.due, key.clone()));
        (self.groups.entry(group.to_string()).or_default()).insert((debt.due, key.clone()));
        let group = group.to_string();
        self.items.insert(key, Item { debt, group });
    }

    pub fn remove(&mut self, key: &K) -> Option<Owed> {
        let old = self.items.remove(key)?;
        self.schedule.remove(&(old.debt.due, key.clone()));
        if let Some(set) = self.groups.get_mut(&old.group) {
            set.remove(&(old.debt.due, key.clone()));
            if set.is_empty() {
                self.groups.remove(&old.group);
            }
        }
        Some(old.debt)
    }

    /// Owes `key` a newer version (`seq`): a new debt is due `now`; an existing one keeps
    /// its schedule and attempts (a failing callback stays in backoff) and its `since`.
    pub fn bump(&mut self, key: K, group: &str, seq: u64, now: Millis) -> Owed {
        let mut debt = self.get(&key).copied().unwrap_or(Owed {
            seq: 0,
            attempts: 0,
            due: now,
            since: now,
        });
        debt.seq = seq;
        self.set(key, group, debt);
        debt
    }

    /// Debts due at `now` not in flight, earliest first, at most `max`.
    pub fn due(&self, now: Millis, busy: impl Fn(&K) -> bool, max: usize) -> Vec<(K, Owed)> {
        due_in(&self.schedule, &self.items, now, busy, max)
    }

    /// The same, of one group only.
    pub fn due_in(
        &self,
        group: &str,
        now: Millis,
        busy: impl Fn(&K) -> bool,
        max: usize,
    ) -> Vec<(K, Owed)> {
        match self.groups.get(group) {
            Some(set) => due_in(set, &self.items, now, busy, max),
            None => Vec::new(),
        }
    }

    /// The groups owed something, in name order starting after `cursor` and coming round
    /// to it last: a ring, so whoever is served next continues where the last turn ended.
    pub fn groups_after<'a>(&'a self, cursor: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        let after = (Bound::Excluded(cursor), Bound::Unbounded);
        let before = (Bound::Unbounded, Bound::Included(cursor));
        (self.groups.range::<str, _>(after))
            .chain(self.groups.range::<str, _>(before))
            .map(|(g, _)| g.as_str())
    }

    /// When the earliest debt not in flight is due, among the groups that may start one
    /// (`open`); each group costs its debts in flight, not all it is owed.
    pub fn next(&self, open: impl Fn(&str) -> bool, busy: impl Fn(&K) -> bool) -> Option<Millis> {
        (self.groups.iter())
            .filter(|(g, _)| open(g))
            .filter_map(|(_, set)| set.iter().find(|(_, k)| !busy(k)).map(|(due, _)| *due))
            .min()
    }
}

fn due_in<K: Ord + Clone>(
    schedule: &BTreeSet<(Millis, K)>,
    items: &BTreeMap<K, Item>,
    now: Millis,
    busy: impl Fn(&K) -> bool,
    max: usize,
) -> Vec<(K, Owed)> {
    (schedule.iter())
        .take_while(|(due, _)| *due <= now)
        .filter(|(_, k)| !busy(k))
        .take(max)
        .filter_map(|(_, k)| Some((k.clone(), items.get(k)?.debt)))
        .collect()
}
