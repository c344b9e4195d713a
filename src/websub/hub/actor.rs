//! The hub thread's loop: messages in, ledger transitions, one database transaction
//! per batch, then whatever became due is dispatched.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;

use super::{now_ms, Cmd, Refused};
use crate::config::WebSub;
use crate::snapshot::Snapshot;
use crate::websub::client::Client;
use crate::websub::ledger::{Key, Ledger, Outcome, PingKey, Subscription, Write};
use crate::websub::metrics::Delivery;
use crate::websub::request::{Mode, Request};
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
    pub(super) max_in_flight: usize,
    /// Deliveries in flight per callback host.
    pub(super) busy_hosts: HashMap<String, usize>,
    /// The newest request per (topic, callback) being verified: an older one that
    /// finishes later (a subscribe overtaken by an unsubscribe) changes nothing.
    pub(super) requests: HashMap<Key, u64>,
    pub(super) request_id: u64,
    /// The site origin the subscriptions' topics were last keyed under.
    pub(super) topics_of: Option<String>,
    /// Ledger writes a failed transaction left, saved before the next ones.
    pub(super) unsaved: Vec<Write>,
    /// Verifications connecting at once (their name lookups use blocking threads).
    pub(super) verify_slots: Arc<tokio::sync::Semaphore>,
    pub(super) verifying: usize,
    /// Deliveries in flight, with the callback host each counts against.
    pub(super) busy: HashMap<Key, String>,
    pub(super) busy_pings: HashSet<PingKey>,
}

/// Verifications in flight at most, beyond which requests get 503.
const MAX_VERIFYING: usize = 1_000;
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
        self.update_gauges();
        loop {
            let now = now_ms();
            let room = self.busy.len() + self.busy_pings.len() < self.max_in_flight;
            let wake = self
                .ledger
                .next_wake(room, |k| self.is_busy(k), |k| self.busy_pings.contains(k))
                .map_or(60_000, |at| at.saturating_sub(now).min(60_000));
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
            self.update_gauges();
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
                    self.request_id += 1;
                    self.requests.insert(key.clone(), self.request_id);
                    self.verify(request, key, rel, self.request_id);
                }
                Vec::new()
            }
            Cmd::Verified {
                request,
                key,
                rel,
                lease,
                id,
                ok,
            } => {
                self.verifying = self.verifying.saturating_sub(1);
                if self.requests.get(&key) != Some(&id) {
                    tracing::info!(topic = key.topic, "websub: a newer request for this subscription came since; this one is ignored");
                    return Vec::new();
                }
                self.requests.remove(&key);
                self.metrics.websub.verification(ok.is_ok());
                let host = request.callback.host_str().unwrap_or("").to_string();
                match (ok, request.mode) {
                    (Err(why), mode) => {
                        tracing::info!(
                            topic = key.topic,
                            callback = host,
                            "websub: {} not verified: {why}",
                            mode.as_str()
                        );
                        Vec::new()
                    }
                    (Ok(()), Mode::Unsubscribe) => {
                        tracing::info!(topic = key.topic, callback = host, "websub: unsubscribed");
                        self.ledger.unsubscribe(&key)
                    }
                    (Ok(()), Mode::Subscribe) => {
                        let c = &self.config;
                        if let Err(e) = self.ledger.admit(
                            &key,
                            &host,
                            c.max_subscriptions,
                            c.max_subscriptions_per_host,
                        ) {
                            tracing::warn!(
                                topic = key.topic,
                                callback = host,
                                "websub: verified but {e}"
                            );
                            return Vec::new();
                        }
                        let snapshot = self.snapshot.load();
                        let current = self
                            .topic_body(&snapshot, &rel)
                            .map(|f| f.hash().to_string());
                        tracing::info!(
                            topic = key.topic,
                            callback = host,
                            lease,
                            "websub: subscribed"
                        );
                        self.ledger.subscribe(
                            key,
                            Subscription {
                                rel,
                                secret: request.secret,
                                host,
                                verified: now,
                                expires: now.saturating_add(lease.saturating_mul(1000)),
                                delivered: current,
                                last_delivery: None,
                                failures: 0,
                                last_error: None,
                            },
                        )
                    }
                }
            }
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
                if let Some(host) = self.busy.remove(&key) {
                    if let Some(n) = self.busy_hosts.get_mut(&host) {
                        *n -= 1;
                        if *n == 0 {
                            self.busy_hosts.remove(&host);
                        }
                    }
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

    /// The limits that answer a request at once.
    fn admit(&self, request: &Request, key: &Key) -> Result<(), Refused> {
        if self.store.is_none() {
            return Err(Refused {
                status: 503,
                message: "the hub's database cannot be opened; subscriptions are not taken".into(),
            });
        }
        if self.verifying >= MAX_VERIFYING {
            return Err(Refused {
                status: 503,
                message: "too many subscription requests are being verified; try again later"
                    .into(),
            });
        }
        if request.mode == Mode::Unsubscribe {
            return Ok(());
        }
        let host = request.callback.host_str().unwrap_or("");
        let c = &self.config;
        self.ledger
            .admit(key, host, c.max_subscriptions, c.max_subscriptions_per_host)
            .map_err(|e| Refused {
                status: 403,
                message: e.to_string(),
            })
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
