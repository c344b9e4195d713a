//! The hub thread's loop: messages in, ledger transitions, one database transaction
//! per batch, then whatever became due is dispatched.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;

use super::fair::{Fair, Work};
use super::verify::Pending;
use super::{now_ms, Cmd};
use crate::config::WebSub;
use crate::snapshot::Snapshot;
use crate::websub::client::Client;
use crate::websub::ledger::{Key, Ledger, Millis, Outcome, PingKey, Write};
use crate::websub::metrics::Delivery;
use crate::websub::store::Store;

pub(super) struct Actor {
    pub(super) ledger: Ledger,
    pub(super) store: Option<Store>,
    pub(super) database: PathBuf,
    pub(super) rx: Receiver<Cmd>,
    pub(super) tx: Sender<Cmd>,
    pub(super) snapshot: Arc<ArcSwap<Snapshot>>,
    /// The server's caches: custom feeds as topics, hot bodies.
    pub(super) caches: Arc<crate::caches::Shared>,
    pub(super) runtime: tokio::runtime::Handle,
    pub(super) metrics: Arc<crate::metrics::Metrics>,
    /// For callbacks: the address checks apply.
    pub(super) client: Client,
    /// For the configured external hubs.
    pub(super) trusted: Client,
    pub(super) config: WebSub,
    pub(super) external: Vec<String>,
    /// Announcements in flight at most (deliveries and verifications: `fair`).
    pub(super) max_in_flight: usize,
    /// Who gets the next delivery and verification slots, and each host's health.
    pub(super) fair: Fair,
    /// Taken requests waiting for their verification.
    pub(super) pending: Pending,
    /// When `fair` next forgets hosts long idle.
    pub(super) forget_at: Millis,
    /// The newest request per (topic, callback) being verified: an older one that
    /// finishes later (a subscribe overtaken by an unsubscribe) changes nothing.
    pub(super) requests: HashMap<Key, u64>,
    pub(super) request_id: u64,
    /// The site origin the subscriptions' topics were last keyed under.
    pub(super) topics_of: Option<String>,
    /// Ledger writes a failed transaction left, saved before the next ones.
    pub(super) unsaved: Vec<Write>,
    /// Verifications in flight.
    pub(super) verifying: usize,
    /// Deliveries in flight, with their flight in `fair`.
    pub(super) busy: HashMap<Key, u64>,
    /// Per flight in `fair`, what gives the request up: dropping it ends the request
    /// (and its connection), which then reports back as failed.
    pub(super) give_up: HashMap<u64, tokio::sync::oneshot::Sender<()>>,
    pub(super) busy_pings: HashSet<PingKey>,
}

/// Messages handled before the database is written and deliveries dispatched.
const BATCH: usize = 2_000;

impl Actor {
    /// A topic's current file (a custom feed's made or taken from the cache).
    pub(super) fn topic_body(
        &self,
        snapshot: &Snapshot,
        rel: &str,
    ) -> Option<Arc<crate::snapshot::FeedFile>> {
        let caches = self.caches.get(&snapshot.settings);
        crate::custom::topic_body(snapshot, caches.queries.as_deref(), rel)
    }

    pub(super) fn run(&mut self) {
        self.dispatch();
        self.dispatch_verifications();
        self.update_gauges();
        loop {
            let now = now_ms();
            let wake =
                (self.next_wake(now)).map_or(60_000, |at| at.saturating_sub(now).min(60_000));
            let first = match self.rx.recv_timeout(Duration::from_millis(wake)) {
                Ok(cmd) => Some(cmd),
                Err(RecvTimeoutError::Timeout) => None,
                Err(RecvTimeoutError::Disconnected) => return,
            };
            let mut writes = Vec::new();
            let mut stop = false;
            let mut next = first;
            let mut handled = 0;
            while let Some(cmd) = next.take() {
                if matches!(cmd, Cmd::Stop) {
                    stop = true;
                } else {
                    writes.extend(self.handle(cmd));
                }
                handled += 1;
                // After Stop, whatever already arrived (a verification answered, a
                // delivery made) is still taken into account before the last save.
                if handled < BATCH || stop {
                    next = self.rx.try_recv().ok();
                }
            }
            let expired = self.ledger.expire(now_ms());
            if !expired.is_empty() {
                self.metrics.websub.expired(expired.len());
                tracing::info!(subscriptions = expired.len(), "websub: leases ended");
            }
            writes.extend(expired);
            self.save(writes);
            if stop {
                return;
            }
            self.dispatch();
            self.dispatch_verifications();
            self.forget_hosts(now);
            self.update_gauges();
        }
    }

    /// The next moment there is something to do without a message: a lease end, a debt
    /// due that could start, a request turning slow (its slot goes to waiting work).
    fn next_wake(&self, now: Millis) -> Option<Millis> {
        let room = self.fair.room(Work::Delivery, now);
        let open = |host: &str| self.fair.could_start(Work::Delivery, host, room);
        let ping_room = self.busy_pings.len() < self.max_in_flight;
        let (busy, busy_ping) = (&self.busy, &self.busy_pings);
        let debt = (self.ledger).next_wake(
            open,
            |k| busy.contains_key(k),
            ping_room,
            |k| busy_ping.contains(k),
        );
        [debt, self.fair.next_slow(now)].into_iter().flatten().min()
    }

    /// Hosts not heard of for a day are forgotten (checked every ten minutes).
    fn forget_hosts(&mut self, now: Millis) {
        if now >= self.forget_at {
            self.fair.forget(now.saturating_sub(24 * 3_600_000));
            self.forget_at = now + 600_000;
        }
    }

    fn update_gauges(&self) {
        let (owed, pings) = self.ledger.queue_depth();
        let subs = self.ledger.len();
        let flying = self.busy.len() + self.busy_pings.len();
        self.metrics.websub.gauges(subs, owed, pings, flying);
    }

    /// Writes what changed (after whatever an earlier failure left unsaved, in order);
    /// a failure keeps it all for the next try.
    pub(super) fn save(&mut self, writes: Vec<Write>) {
        let Some(store) = &mut self.store else {
            return;
        };
        self.unsaved.extend(writes);
        if self.unsaved.is_empty() {
            return;
        }
        match store.apply(&self.unsaved) {
            Ok(()) => self.unsaved.clear(),
            Err(e) => tracing::error!(
                "websub: {} (database {}); {} changes kept in memory, written with the next ones",
                crate::error::chain(&e),
                self.database.display(),
                self.unsaved.len()
            ),
        }
    }

    fn handle(&mut self, cmd: Cmd) -> Vec<Write> {
        let now = now_ms();
        match cmd {
            Cmd::Request {
                request,
                key,
                rel,
                reply,
            } => {
                let answer = self.admit(&request, &key);
                let taken = answer.is_ok();
                let _ = reply.send(answer);
                if taken {
                    self.queue_verification(request, key, rel);
                }
                Vec::new()
            }
            Cmd::Verified {
                verification,
                lease,
                flight,
                answered,
                ok,
            } => self.verified(verification, lease, (flight, answered), ok, now),
            Cmd::Changed(rels) => {
                self.rekey();
                let snapshot = self.snapshot.load();
                let mut writes = Vec::new();
                for rel in rels {
                    let Some(file) = snapshot.files.get(&rel) else {
                        continue;
                    };
                    let topic = snapshot.settings.topic(&rel);
                    writes.extend(self.ledger.changed(&topic, file.hash(), now));
                    writes.extend(self.ledger.announce(&self.external, &topic, now));
                }
                // Custom feeds are no files: each subscribed one is asked again (a
                // cached result still valid costs a check of the posts changed).
                let custom: std::collections::BTreeMap<String, String> =
                    (self.ledger.subscriptions())
                        .filter(|(_, s)| s.rel.contains('?'))
                        .map(|(k, s)| (k.topic.clone(), s.rel.clone()))
                        .collect();
                for (topic, rel) in custom {
                    if let Some(file) = self.topic_body(&snapshot, &rel) {
                        writes.extend(self.ledger.changed(&topic, file.hash(), now));
                    }
                }
                writes
            }
            Cmd::Delivered {
                key,
                seq,
                since,
                outcome,
            } => {
                if let Some(flight) = self.busy.remove(&key) {
                    self.give_up.remove(&flight);
                    let answered = !matches!(outcome, Outcome::Failed(_));
                    self.fair.finish(flight, answered, now);
                }
                let (kind, latency) = match &outcome {
                    Outcome::Delivered(_) => (
                        Delivery::Delivered,
                        Some(now.saturating_sub(since) as f64 / 1000.0),
                    ),
                    Outcome::Gone => (Delivery::Gone, None),
                    Outcome::Failed(why) => {
                        tracing::debug!(topic = key.topic, "websub: delivery failed: {why}");
                        (Delivery::Failed, None)
                    }
                };
                if matches!(outcome, Outcome::Gone) {
                    tracing::info!(
                        topic = key.topic,
                        "websub: callback answered 410 Gone; unsubscribed"
                    );
                }
                self.metrics.websub.delivery(kind, latency);
                self.ledger.outcome(&key, seq, outcome, now)
            }
            Cmd::Announced { key, seq, ok } => {
                self.busy_pings.remove(&key);
                self.metrics.websub.announcement(ok);
                self.ledger.pinged(&key, seq, ok, now)
            }
            Cmd::Stop => Vec::new(),
        }
    }

    /// Owes every subscriber the current version of its topic if it does not have it
    /// (what changed while feedd was stopped, or was published and not yet owed when it
    /// was killed). Returns how many became owed.
    pub(super) fn reconcile(&mut self) -> usize {
        self.rekey();
        let snapshot = self.snapshot.load();
        let now = now_ms();
        let topics: HashMap<String, String> = (self.ledger.subscriptions())
            .map(|(k, s)| (k.topic.clone(), s.rel.clone()))
            .collect();
        let mut writes = Vec::new();
        for (topic, rel) in topics {
            if let Some(file) = self.topic_body(&snapshot, &rel) {
                writes.extend(self.ledger.changed(&topic, file.hash(), now));
            }
        }
        let n = writes.len();
        self.save(writes);
        n
    }

    /// After the site's URL changed (a reload, or a restart with another `[site] url`),
    /// the subscriptions move to their feeds' new topic URLs, so they keep receiving.
    fn rekey(&mut self) {
        let snapshot = self.snapshot.load();
        let origin = snapshot.settings.topic("");
        if self.topics_of.as_deref() == Some(origin.as_str()) {
            return;
        }
        self.topics_of = Some(origin);
        let moved: Vec<(Key, String)> = (self.ledger.subscriptions())
            .filter(|(k, s)| !s.rel.is_empty() && k.topic != snapshot.settings.topic(&s.rel))
            .map(|(k, s)| (k.clone(), snapshot.settings.topic(&s.rel)))
            .collect();
        if moved.is_empty() {
            return;
        }
        tracing::info!(
            subscriptions = moved.len(),
            "websub: the site URL changed; subscriptions follow their feeds"
        );
        let mut writes = Vec::new();
        for (key, topic) in moved {
            if let Some(sub) = self.ledger.get(&key).cloned() {
                writes.extend(self.ledger.unsubscribe(&key));
                let new = Key {
                    topic,
                    callback: key.callback,
                };
                writes.extend(self.ledger.subscribe(new, sub));
            }
        }
        self.save(writes);
    }
}
