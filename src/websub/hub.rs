//! The hub's driver: one thread owns the ledger and the database and turns messages
//! (requests, verification results, feed changes, delivery outcomes) into ledger
//! transitions, one database transaction per batch of messages; the network work runs
//! as tasks on the server's runtime and reports back here. Nothing here blocks a
//! rebuild: the rebuild thread only sends the names of changed files.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use bytes::Bytes;
use hmac::Mac;
use hyper::header::{HeaderMap, HeaderValue};

use super::client::Client;
use super::ledger::{Backoff, Key, Ledger, Millis, Outcome, PingKey, Subscription, Write};
use super::metrics::Delivery;
use super::request::{Mode, Request};
use super::store::Store;
use crate::config::WebSub;
use crate::snapshot::{Encoding, Snapshot};

/// Messages to the hub thread.
pub(super) enum Cmd {
    /// A well-formed request for one of our topics; the answer says whether it is taken
    /// (202) or refused at once (the limits).
    Request {
        request: Request,
        key: Key,
        rel: String,
        reply: tokio::sync::oneshot::Sender<Result<(), Refused>>,
    },
    Verified {
        request: Request,
        key: Key,
        rel: String,
        lease: u64,
        ok: Result<(), String>,
    },
    /// Feed files whose bytes changed (relative to the output dir).
    Changed(Vec<String>),
    Delivered {
        key: Key,
        seq: u64,
        since: Millis,
        outcome: Outcome,
    },
    Announced {
        key: PingKey,
        seq: u64,
        ok: bool,
    },
    Stop,
}

/// A request refused at once, with its status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    pub status: u16,
    pub message: String,
}

/// What the rebuild side holds: tells the hub which feed files changed. Cheap to clone;
/// without a hub it does nothing.
#[derive(Clone, Default)]
pub struct Notifier(Option<Sender<Cmd>>);

impl Notifier {
    pub fn changed(&self, rels: Vec<String>) {
        if let (Some(tx), false) = (&self.0, rels.is_empty()) {
            let _ = tx.send(Cmd::Changed(rels));
        }
    }
}

/// The receiving end, until the hub starts.
pub struct Inbox {
    tx: Sender<Cmd>,
    rx: Receiver<Cmd>,
}

/// The channel between the rebuild side and the hub (made before either starts, so no
/// change published by the first build is missed).
pub fn channel() -> (Notifier, Inbox) {
    let (tx, rx) = mpsc::channel();
    (Notifier(Some(tx.clone())), Inbox { tx, rx })
}

/// The running hub: its endpoint's way in, and its thread.
pub struct Hub {
    pub(super) tx: Sender<Cmd>,
    pub(super) config: WebSub,
    pub(super) limiter: crate::serve::ratelimit::RateLimiter,
    thread: std::sync::Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl Hub {
    /// Finishes what is in hand (the database is written after every batch; deliveries
    /// in flight stay owed and are sent again after a restart).
    pub fn stop(&self) {
        let _ = self.tx.send(Cmd::Stop);
        let thread = self.thread.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(t) = thread {
            let _ = t.join();
        }
    }

    /// Whether subscription requests are answered (the built-in hub is on).
    pub fn serves_requests(&self) -> bool {
        self.config.hub
    }
}

/// Starts the hub: opens the database (a damaged one is moved aside and reported), owes
/// every subscriber whatever changed while feedd was not running, and serves.
pub fn start(
    inbox: Inbox,
    config: WebSub,
    database: PathBuf,
    snapshot: Arc<ArcSwap<Snapshot>>,
    runtime: tokio::runtime::Handle,
    metrics: Arc<crate::metrics::Metrics>,
) -> std::io::Result<Hub> {
    let started = Instant::now();
    let backoff = Backoff {
        first: config.retry_first.as_millis() as Millis,
        max: config.retry_max.as_millis() as Millis,
    };
    let (opened, damage) = Store::open(&database, now_ms() / 1000);
    if let Some(damage) = damage {
        tracing::error!("websub: {}; starting with no subscriptions", crate::error::chain(&damage));
    }
    let (store, ledger) = match opened {
        Ok((store, loaded)) => (
            Some(store),
            Ledger::load(backoff, loaded.subs, loaded.owed, loaded.pings),
        ),
        Err(e) => {
            tracing::error!(
                "websub: {}; subscriptions are kept in memory only until this is fixed",
                crate::error::chain(&e)
            );
            (None, Ledger::new(backoff))
        }
    };
    let external: Vec<String> = config.hubs.clone();
    let client = Client::new(
        config.allow_private_callbacks,
        config.connect_timeout,
        config.timeout,
    );
    // External hubs are the operator's own choice (possibly on the local network).
    let trusted = Client::new(true, config.connect_timeout, config.timeout);
    let mut actor = Actor {
        ledger,
        store,
        database,
        rx: inbox.rx,
        tx: inbox.tx.clone(),
        snapshot,
        runtime,
        metrics,
        client,
        trusted,
        external,
        max_in_flight: config.concurrent_deliveries,
        verifying: 0,
        config: config.clone(),
        busy: HashSet::new(),
        busy_pings: HashSet::new(),
    };
    let reconciled = actor.reconcile();
    tracing::info!(
        subscriptions = actor.ledger.subscriptions().count(),
        owed = actor.ledger.queue_depth().0,
        reconciled,
        ms = started.elapsed().as_millis() as u64,
        "websub hub started"
    );
    let thread = std::thread::Builder::new()
        .name("feedd-websub".into())
        .spawn(move || actor.run())?;
    Ok(Hub {
        tx: inbox.tx,
        limiter: crate::serve::ratelimit::RateLimiter::new(config.requests_per_minute),
        config,
        thread: std::sync::Mutex::new(Some(thread)),
    })
}

struct Actor {
    ledger: Ledger,
    store: Option<Store>,
    database: PathBuf,
    rx: Receiver<Cmd>,
    tx: Sender<Cmd>,
    snapshot: Arc<ArcSwap<Snapshot>>,
    runtime: tokio::runtime::Handle,
    metrics: Arc<crate::metrics::Metrics>,
    /// For callbacks: the address checks apply.
    client: Client,
    /// For the configured external hubs.
    trusted: Client,
    config: WebSub,
    external: Vec<String>,
    max_in_flight: usize,
    verifying: usize,
    busy: HashSet<Key>,
    busy_pings: HashSet<PingKey>,
}

/// Verifications in flight at most, beyond which requests get 503.
const MAX_VERIFYING: usize = 1_000;
/// Messages handled before the database is written and deliveries dispatched.
const BATCH: usize = 2_000;

impl Actor {
    fn run(&mut self) {
        loop {
            let now = now_ms();
            let wake = self
                .ledger
                .next_wake(|k| self.busy.contains(k), |k| self.busy_pings.contains(k))
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
                    break;
                }
                writes.extend(self.handle(cmd));
                handled += 1;
                if handled < BATCH {
                    next = self.rx.try_recv().ok();
                }
            }
            let expired = self.ledger.expire(now_ms());
            if !expired.is_empty() {
                self.metrics.websub.expired(expired.len());
                tracing::info!(subscriptions = expired.len(), "websub: leases ended");
            }
            writes.extend(expired);
            self.save(&writes);
            if stop {
                return;
            }
            self.dispatch();
            let (owed, pings) = self.ledger.queue_depth();
            let subs = self.ledger.subscriptions().count();
            let flying = self.busy.len() + self.busy_pings.len();
            self.metrics.websub.gauges(subs, owed, pings, flying);
        }
    }

    fn save(&mut self, writes: &[Write]) {
        let Some(store) = &mut self.store else {
            return;
        };
        if let Err(e) = store.apply(writes) {
            tracing::error!(
                "websub: {} (database {}); kept in memory, retried with the next change",
                crate::error::chain(&e),
                self.database.display()
            );
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
                    self.verify(request, key, rel);
                }
                Vec::new()
            }
            Cmd::Verified {
                request,
                key,
                rel,
                lease,
                ok,
            } => {
                self.verifying = self.verifying.saturating_sub(1);
                self.metrics.websub.verification(ok.is_ok());
                let host = request.callback.host_str().unwrap_or("").to_string();
                match (ok, request.mode) {
                    (Err(why), mode) => {
                        tracing::info!(topic = key.topic, callback = host, "websub: {} not verified: {why}", mode.as_str());
                        Vec::new()
                    }
                    (Ok(()), Mode::Unsubscribe) => {
                        tracing::info!(topic = key.topic, callback = host, "websub: unsubscribed");
                        self.ledger.unsubscribe(&key)
                    }
                    (Ok(()), Mode::Subscribe) => {
                        let c = &self.config;
                        if let Err(e) = self.ledger.admit(&key, &host, c.max_subscriptions, c.max_subscriptions_per_host) {
                            tracing::warn!(topic = key.topic, callback = host, "websub: verified but {e}");
                            return Vec::new();
                        }
                        let current = self.snapshot.load().files.get(&rel).map(|f| f.hash().to_string());
                        tracing::info!(topic = key.topic, callback = host, lease, "websub: subscribed");
                        self.ledger.subscribe(
                            key,
                            Subscription {
                                rel,
                                secret: request.secret,
                                host,
                                verified: now,
                                expires: now + lease * 1000,
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
                writes
            }
            Cmd::Delivered {
                key,
                seq,
                since,
                outcome,
            } => {
                self.busy.remove(&key);
                let (kind, latency) = match &outcome {
                    Outcome::Delivered(_) => (Delivery::Delivered, Some(now.saturating_sub(since) as f64 / 1000.0)),
                    Outcome::Gone => (Delivery::Gone, None),
                    Outcome::Failed(why) => {
                        tracing::debug!(topic = key.topic, "websub: delivery failed: {why}");
                        (Delivery::Failed, None)
                    }
                };
                if matches!(outcome, Outcome::Gone) {
                    tracing::info!(topic = key.topic, "websub: callback answered 410 Gone; unsubscribed");
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
        if self.verifying >= MAX_VERIFYING {
            return Err(Refused {
                status: 503,
                message: "too many subscription requests are being verified; try again later".into(),
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
    fn reconcile(&mut self) -> usize {
        let snapshot = self.snapshot.load();
        let now = now_ms();
        let topics: HashMap<String, String> = (self.ledger.subscriptions())
            .map(|(k, s)| (k.topic.clone(), s.rel.clone()))
            .collect();
        let mut writes = Vec::new();
        for (topic, rel) in topics {
            if let Some(file) = snapshot.files.get(&rel) {
                writes.extend(self.ledger.changed(&topic, file.hash(), now));
            }
        }
        let n = writes.len();
        self.save(&writes);
        n
    }

    /// GETs the callback with a challenge (WebSub §5.3); reports back whatever happens.
    fn verify(&mut self, request: Request, key: Key, rel: String) {
        self.verifying += 1;
        let lease = self.config.lease.grant(request.lease_seconds);
        let challenge = challenge();
        let mut url = request.callback.clone();
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("hub.mode", request.mode.as_str())
                .append_pair("hub.topic", &request.topic)
                .append_pair("hub.challenge", &challenge);
            if request.mode == Mode::Subscribe {
                q.append_pair("hub.lease_seconds", &lease.to_string());
            }
        }
        let (client, tx) = (self.client.clone(), self.tx.clone());
        self.runtime.spawn(async move {
            let answer = client
                .call(hyper::Method::GET, &url, HeaderMap::new(), Bytes::new(), challenge.len())
                .await;
            let ok = match answer {
                Ok(a) if (200..300).contains(&a.status) && a.body == challenge.as_bytes() => Ok(()),
                Ok(a) if (200..300).contains(&a.status) => Err("the answer is not the challenge".to_string()),
                Ok(a) => Err(format!("the callback answered {}", a.status)),
                Err(e) => Err(e.to_string()),
            };
            let _ = tx.send(Cmd::Verified {
                request,
                key,
                rel,
                lease,
                ok,
            });
        });
    }

    /// Starts the deliveries and announcements that are due, up to the concurrency cap.
    fn dispatch(&mut self) {
        let now = now_ms();
        let room = self.max_in_flight.saturating_sub(self.busy.len() + self.busy_pings.len());
        if room == 0 {
            return;
        }
        let snapshot = self.snapshot.load();
        let due = self.ledger.due(now, |k| self.busy.contains(k), room);
        let mut bodies: HashMap<String, Option<(Bytes, String)>> = HashMap::new();
        let mut gone = Vec::new();
        for (key, debt) in due {
            let Some(sub) = self.ledger.get(&key) else {
                continue;
            };
            let body = bodies.entry(sub.rel.clone()).or_insert_with(|| {
                let file = snapshot.files.get(&sub.rel)?;
                match file.body(Encoding::Identity, &snapshot.settings.bodies) {
                    Ok((bytes, _)) => Some((bytes, file.hash().to_string())),
                    Err(e) => {
                        tracing::warn!("websub: {}", crate::error::chain(&e));
                        None
                    }
                }
            });
            let Some((bytes, hash)) = body.clone() else {
                gone.push(key);
                continue;
            };
            let Some(file) = snapshot.files.get(&sub.rel) else {
                continue;
            };
            let mut headers = HeaderMap::new();
            headers.insert(hyper::header::CONTENT_TYPE, HeaderValue::from_static(file.content_type));
            if let Some(links) = &file.links {
                headers.insert(hyper::header::LINK, links.clone());
            }
            let secret = sub.secret.clone();
            let Ok(url) = url::Url::parse(&key.callback) else {
                continue;
            };
            self.busy.insert(key.clone());
            let (client, tx) = (self.client.clone(), self.tx.clone());
            self.runtime.spawn(async move {
                if let Some(secret) = secret {
                    if let Ok(v) = HeaderValue::from_str(&format!("sha256={}", sign(&secret, &bytes))) {
                        headers.insert("x-hub-signature", v);
                    }
                }
                let outcome = match client.call(hyper::Method::POST, &url, headers, bytes, 0).await {
                    Ok(a) if (200..300).contains(&a.status) => Outcome::Delivered(hash),
                    Ok(a) if a.status == 410 => Outcome::Gone,
                    Ok(a) => Outcome::Failed(format!("the callback answered {}", a.status)),
                    Err(e) => Outcome::Failed(e.to_string()),
                };
                let _ = tx.send(Cmd::Delivered {
                    key,
                    seq: debt.seq,
                    since: debt.since,
                    outcome,
                });
            });
        }
        // Debts for a feed that no longer exists (or cannot be read now) wait for the
        // next change or the lease end; they are not retried in a loop.
        for key in gone {
            let failed = Outcome::Failed("the topic's feed cannot be read".into());
            let seq = self.ledger.owed(&key).map_or(0, |o| o.seq);
            let writes = self.ledger.outcome(&key, seq, failed, now);
            self.save(&writes);
        }
        let room = self.max_in_flight.saturating_sub(self.busy.len() + self.busy_pings.len());
        for (key, debt) in self.ledger.pings_due(now, |k| self.busy_pings.contains(k), room) {
            let Ok(url) = url::Url::parse(&key.hub) else {
                continue;
            };
            self.busy_pings.insert(key.clone());
            let (client, tx) = (self.trusted.clone(), self.tx.clone());
            self.runtime.spawn(async move {
                let body: String = url::form_urlencoded::Serializer::new(String::new())
                    .append_pair("hub.mode", "publish")
                    .append_pair("hub.url", &key.topic)
                    .append_pair("hub.topic", &key.topic)
                    .finish();
                let mut headers = HeaderMap::new();
                headers.insert(
                    hyper::header::CONTENT_TYPE,
                    HeaderValue::from_static("application/x-www-form-urlencoded"),
                );
                let answer = client
                    .call(hyper::Method::POST, &url, headers, Bytes::from(body), 0)
                    .await;
                let ok = matches!(&answer, Ok(a) if (200..300).contains(&a.status));
                if !ok {
                    tracing::debug!(hub = key.hub, "websub: announcement failed: {answer:?}");
                }
                let _ = tx.send(Cmd::Announced {
                    key,
                    seq: debt.seq,
                    ok,
                });
            });
        }
    }
}

/// `X-Hub-Signature`'s value: the HMAC-SHA256 of the body, hex.
fn sign(secret: &str, body: &[u8]) -> String {
    let Ok(mut mac) = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()) else {
        return String::new();
    };
    mac.update(body);
    let digest = mac.finalize().into_bytes();
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// 32 random bytes, hex: unguessable, so only the callback's owner can echo it.
fn challenge() -> String {
    let mut bytes = [0u8; 32];
    if getrandom::fill(&mut bytes).is_err() {
        // No system randomness: fall back to the time and the address of a local, which
        // still differs per request (a weaker challenge beats refusing to verify).
        let seed = format!("{:?}{:p}", Instant::now(), &bytes);
        bytes[..16].copy_from_slice(&xxhash_rust::xxh3::xxh3_128(seed.as_bytes()).to_le_bytes());
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub(super) fn now_ms() -> Millis {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as Millis)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    #[test]
    fn signatures_are_rfc_4231_hmac_sha256() {
        // RFC 4231 test case 2.
        assert_eq!(
            super::sign("Jefe", b"what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
