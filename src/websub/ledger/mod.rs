//! The hub's state as data: subscriptions, the deliveries owed to them, and the
//! announcements owed to external hubs. Every method is a pure transition that returns
//! the `Write`s that make the database match (the driver applies them in one
//! transaction), so the rules — coalescing, backoff, leases, 410 — are tested without a
//! socket, a clock or a file.
//!
//! Coalescing: a subscriber is owed a topic, not a version. A change while a delivery is
//! owed (or in flight) only bumps the debt's `seq`; whatever is sent next is the newest
//! body, and a delivery of an older `seq` that succeeds leaves the debt due again.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use queue::Queue;

use serde::{Deserialize, Serialize};

/// Unix time in milliseconds: the ledger never reads a clock, it is told the time.
pub type Millis = u64;

/// One subscription: a topic (the feed's canonical URL) and a callback URL.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Key {
    pub topic: String,
    pub callback: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subscription {
    /// The feed file the topic is (relative to the output dir).
    pub rel: String,
    pub secret: Option<String>,
    /// The callback's host, for the per-host limit and `feedd websub list`.
    pub host: String,
    /// When the subscription was (last) verified.
    pub verified: Millis,
    pub expires: Millis,
    /// The hash of the newest version the subscriber has (delivered, or current when it
    /// subscribed): a change to the same bytes owes nothing.
    pub delivered: Option<String>,
    pub last_delivery: Option<Millis>,
    /// Failed attempts since the last success.
    pub failures: u32,
    pub last_error: Option<String>,
}

/// A debt: something to send, how often it failed, when to try next.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Owed {
    /// Bumped by every change; a success for an older `seq` leaves the debt due.
    pub seq: u64,
    pub attempts: u32,
    pub due: Millis,
    /// When the oldest unsent change was noted (for the delivery latency).
    pub since: Millis,
}

/// An announcement of a changed topic to an external hub (publisher mode).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct PingKey {
    pub hub: String,
    pub topic: String,
}

/// What the database must do to match the ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Write {
    Subscribe(Key, Subscription),
    Unsubscribe(Key),
    Owe(Key, Owed),
    Paid(Key),
    Ping(PingKey, Owed),
    Pinged(PingKey),
}

/// How long to wait after the n-th failure: `first` doubling up to `max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    pub first: Millis,
    pub max: Millis,
}

impl Backoff {
    /// The wait after `attempts` failures, spread by ±25% per key so that many
    /// subscribers failing together do not retry together.
    pub fn after(&self, attempts: u32, spread: &str) -> Millis {
        let base = self
            .first
            .saturating_mul(1u64 << attempts.saturating_sub(1).min(40))
            .min(self.max);
        let jitter = xxhash_rust::xxh3::xxh3_64(spread.as_bytes()) % 501; // 0..=500
        base / 4 * 3 + base / 1000 * jitter
    }
}

/// An announcement to an external hub is given up after this many failures.
pub const MAX_PING_ATTEMPTS: u32 = 12;

/// Why a new subscription is not taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("this hub holds its maximum number of subscriptions")]
    Full,
    #[error("the callback's host has its maximum number of subscriptions")]
    HostFull,
}

/// What became of one delivery attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// 2xx: the subscriber has this version (its hash).
    Delivered(String),
    /// 410 Gone: the subscriber wants no more.
    Gone,
    /// Anything else (status, timeout, refused address): tried again later.
    Failed(String),
}

#[derive(Debug)]
pub struct Ledger {
    subs: BTreeMap<Key, Subscription>,
    /// Lease ends, earliest first.
    leases: BTreeSet<(Millis, Key)>,
    owed: Queue<Key>,
    pings: Queue<PingKey>,
    hosts: HashMap<String, usize>,
    seq: u64,
    backoff: Backoff,
}

impl Ledger {
    pub fn new(backoff: Backoff) -> Ledger {
        Ledger {
            subs: BTreeMap::new(),
            leases: BTreeSet::new(),
            owed: Queue::default(),
            pings: Queue::default(),
            hosts: HashMap::new(),
            seq: 0,
            backoff,
        }
    }

    /// A ledger holding what the database held. Debts without a subscription are dropped,
    /// and so are announcements to hubs no longer in `hubs`.
    pub fn load(
        backoff: Backoff,
        subs: Vec<(Key, Subscription)>,
        owed: Vec<(Key, Owed)>,
        pings: Vec<(PingKey, Owed)>,
        hubs: &[String],
    ) -> (Ledger, Vec<Write>) {
        let mut ledger = Ledger::new(backoff);
        let mut writes = Vec::new();
        for (key, sub) in subs {
            ledger.insert_sub(key, sub);
        }
        for (key, debt) in owed {
            if let Some(host) = ledger.subs.get(&key).map(|s| s.host.clone()) {
                ledger.seq = ledger.seq.max(debt.seq);
                ledger.owed.set(key, &host, debt);
            } else {
                writes.push(Write::Paid(key));
            }
        }
        for (key, debt) in pings {
            if hubs.contains(&key.hub) {
                ledger.seq = ledger.seq.max(debt.seq);
                let hub = key.hub.clone();
                ledger.pings.set(key, &hub, debt);
            } else {
                writes.push(Write::Pinged(key));
            }
        }
        (ledger, writes)
    }

    pub fn subscriptions(&self) -> impl Iterator<Item = (&Key, &Subscription)> {
        self.subs.iter()
    }

    /// Subscriptions held.
    pub fn len(&self) -> usize {
        self.subs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.subs.is_empty()
    }

    pub fn get(&self, key: &Key) -> Option<&Subscription> {
        self.subs.get(key)
    }

    pub fn owed(&self, key: &Key) -> Option<&Owed> {
        self.owed.get(key)
    }

    /// Deliveries owed, and announcements owed.
    pub fn queue_depth(&self) -> (usize, usize) {
        (self.owed.len(), self.pings.len())
    }

    /// Whether a verified subscription for `key` (on `host`) may be taken: a
    /// re-subscription always may, a new one within the limits.
    pub fn admit(&self, key: &Key, host: &str, max: usize, per_host: usize) -> Result<(), Refusal> {
        if self.subs.contains_key(key) {
            return Ok(());
        }
        if self.subs.len() >= max {
            return Err(Refusal::Full);
        }
        if self.hosts.get(host).copied().unwrap_or(0) >= per_host {
            return Err(Refusal::HostFull);
        }
        Ok(())
    }

    fn insert_sub(&mut self, key: Key, sub: Subscription) {
        self.remove_sub(&key);
        *self.hosts.entry(sub.host.clone()).or_default() += 1;
        self.leases.insert((sub.expires, key.clone()));
        self.subs.insert(key, sub);
    }

    fn remove_sub(&mut self, key: &Key) -> Option<Subscription> {
        let old = self.subs.remove(key)?;
        self.leases.remove(&(old.expires, key.clone()));
        if let Some(n) = self.hosts.get_mut(&old.host) {
            *n -= 1;
            if *n == 0 {
                self.hosts.remove(&old.host);
            }
        }
        Some(old)
    }

    /// A verified (re-)subscription: it replaces the old one, keeping what it is owed.
    pub fn subscribe(&mut self, key: Key, sub: Subscription) -> Vec<Write> {
        self.insert_sub(key.clone(), sub.clone());
        vec![Write::Subscribe(key, sub)]
    }

    /// A verified unsubscription, a 410, or a lease that ended.
    pub fn unsubscribe(&mut self, key: &Key) -> Vec<Write> {
        if self.remove_sub(key).is_none() {
            return Vec::new();
        }
        self.owed.remove(key);
        vec![Write::Unsubscribe(key.clone())]
    }

    /// The topic now has the version `hash`: every subscriber without it is owed it, and
    /// so is every subscriber already owed something (whatever it has: the version in
    /// flight may be the one that was just undone).
    pub fn changed(&mut self, topic: &str, hash: &str, now: Millis) -> Vec<Write> {
        let from = Key {
            topic: topic.to_string(),
            callback: String::new(),
        };
        let stale: Vec<(Key, String)> = (self.subs.range(from..))
            .take_while(|(k, _)| k.topic == topic)
            .filter(|(k, s)| s.delivered.as_deref() != Some(hash) || self.owed.contains(k))
            .map(|(k, s)| (k.clone(), s.host.clone()))
            .collect();
        let mut writes = Vec::with_capacity(stale.len());
        for (key, host) in stale {
            self.seq += 1;
            let debt = self.owed.bump(key.clone(), &host, self.seq, now);
            writes.push(Write::Owe(key, debt));
        }
        writes
    }

    /// Debts due at `now` that are not in flight (`busy`), oldest due first, at most `max`.
    pub fn due(&self, now: Millis, busy: impl Fn(&Key) -> bool, max: usize) -> Vec<(Key, Owed)> {
        self.owed.due(now, busy, max)
    }

    /// What became of the attempt to deliver debt `seq` to `key`.
    pub fn outcome(&mut self, key: &Key, seq: u64, outcome: Outcome, now: Millis) -> Vec<Write> {
        let Some(host) = self.subs.get(key).map(|s| s.host.clone()) else {
            return Vec::new();
        };
        match outcome {
            Outcome::Gone => self.unsubscribe(key),
            Outcome::Delivered(hash) => {
                let mut writes = Vec::new();
                if let Some(sub) = self.subs.get_mut(key) {
                    sub.delivered = Some(hash);
                    sub.last_delivery = Some(now);
                    sub.failures = 0;
                    sub.last_error = None;
                    writes.push(Write::Subscribe(key.clone(), sub.clone()));
                }
                match self.owed.get(key).copied() {
                    Some(debt) if debt.seq == seq => {
                        self.owed.remove(key);
                        writes.push(Write::Paid(key.clone()));
                    }
                    // Changed again meanwhile: the newest is due now.
                    Some(mut debt) => {
                        (debt.attempts, debt.due, debt.since) = (0, now, now);
                        self.owed.set(key.clone(), &host, debt);
                        writes.push(Write::Owe(key.clone(), debt));
                    }
                    None => {}
                }
                writes
            }
            Outcome::Failed(error) => {
                let mut writes = Vec::new();
                if let Some(sub) = self.subs.get_mut(key) {
                    sub.failures += 1;
                    sub.last_error = Some(error);
                    writes.push(Write::Subscribe(key.clone(), sub.clone()));
                }
                if let Some(mut debt) = self.owed.get(key).copied() {
                    debt.attempts += 1;
                    debt.due = now + self.backoff.after(debt.attempts, &key.callback);
                    self.owed.set(key.clone(), &host, debt);
                    writes.push(Write::Owe(key.clone(), debt));
                }
                writes
            }
        }
    }

    /// Drops every subscription whose lease ended by `now` (and what it was owed).
    pub fn expire(&mut self, now: Millis) -> Vec<Write> {
        let ended: Vec<Key> = (self.leases.iter())
            .take_while(|(at, _)| *at <= now)
            .map(|(_, k)| k.clone())
            .collect();
        ended.iter().flat_map(|k| self.unsubscribe(k)).collect()
    }

    /// The next moment something is due: a lease ending, a debt not in flight (`busy`) of
    /// a host that may start one now (`open`), and — only when an announcement could be
    /// started now (`ping_room`) — an announcement not in flight. A debt that cannot start
    /// wakes nobody: the outcome that makes room does (else the hub would spin on it).
    pub fn next_wake(
        &self,
        open: impl Fn(&str) -> bool,
        busy: impl Fn(&Key) -> bool,
        ping_room: bool,
        busy_ping: impl Fn(&PingKey) -> bool,
    ) -> Option<Millis> {
        let lease = self.leases.iter().next().map(|(at, _)| *at);
        let debt = self.owed.next(open, busy);
        let ping = ping_room
            .then(|| self.pings.next(|_| true, busy_ping))
            .flatten();
        [lease, debt, ping].into_iter().flatten().min()
    }

    /// The callback hosts owed something, in name order from just after `cursor`, round.
    pub fn owing_hosts_after<'a>(&'a self, cursor: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.owed.groups_after(cursor)
    }

    /// The debts of one callback host due at `now` and not in flight, oldest due first.
    pub fn due_at_host(
        &self,
        host: &str,
        now: Millis,
        busy: impl Fn(&Key) -> bool,
        max: usize,
    ) -> Vec<(Key, Owed)> {
        self.owed.due_in(host, now, busy, max)
    }
}

mod pings;
mod queue;
#[cfg(test)]
mod tests;
