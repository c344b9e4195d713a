//! The hub's driver: one thread owns the ledger and the database and turns messages
//! (requests, verification results, feed changes, delivery outcomes) into ledger
//! transitions, one database transaction per batch of messages; the network work runs
//! as tasks on the server's runtime and reports back here. Nothing here blocks a
//! rebuild: the rebuild thread only sends the names of changed files.
//!
//! `actor` is the thread's loop and the ledger transitions it makes; `outgoing` starts
//! the network work (verifications, deliveries, announcements).

mod actor;
mod fair;
mod outgoing;
mod verify;

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::Arc;
use std::time::Instant;

use arc_swap::ArcSwap;

use super::client::Client;
use super::ledger::{Backoff, Key, Ledger, Millis, Outcome, PingKey};
use super::request::Request;
use super::store::Store;
use crate::config::WebSub;
use crate::snapshot::Snapshot;
use actor::Actor;

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
        verification: verify::Verification,
        lease: u64,
        /// Its request in `fair` (0: none was made).
        flight: u64,
        /// Whether the callback answered at all (any status): for its host's health.
        answered: bool,
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
    /// Sent on every publish, even with no file changed: custom feeds' results may
    /// have (a post no published feed shows was edited).
    pub fn changed(&self, rels: Vec<String>) {
        if let Some(tx) = &self.0 {
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
    pub(super) limiter: crate::ratelimit::RateLimiter,
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
    (snapshot, caches): (Arc<ArcSwap<Snapshot>>, Arc<crate::caches::Shared>),
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
        tracing::error!(
            "websub: {}; starting with no subscriptions",
            crate::error::chain(&damage)
        );
    }
    let (store, ledger, cleanup) = match opened {
        Ok((store, loaded)) => {
            let (ledger, cleanup) = Ledger::load(
                backoff,
                loaded.subs,
                loaded.owed,
                loaded.pings,
                &config.hubs,
            );
            (Some(store), ledger, cleanup)
        }
        Err(e) => {
            tracing::error!(
                "websub: {}; subscriptions are kept in memory only until this is fixed",
                crate::error::chain(&e)
            );
            (None, Ledger::new(backoff), Vec::new())
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
        caches,
        runtime,
        metrics,
        client,
        trusted,
        external,
        max_in_flight: config.concurrent_deliveries,
        fair: fair::Fair::new(fair::Limits::new(
            config.concurrent_deliveries,
            config.timeout,
        )),
        pending: verify::Pending::default(),
        forget_at: 0,
        unsaved: Vec::new(),
        requests: std::collections::HashMap::new(),
        request_id: 0,
        topics_of: None,
        verifying: 0,
        config: config.clone(),
        busy: std::collections::HashMap::new(),
        give_up: std::collections::HashMap::new(),
        busy_pings: HashSet::new(),
    };
    actor.save(cleanup);
    let reconciled = actor.reconcile();
    tracing::info!(
        subscriptions = actor.ledger.len(),
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
        limiter: crate::ratelimit::RateLimiter::new(config.requests_per_minute),
        config,
        thread: std::sync::Mutex::new(Some(thread)),
    })
}

pub(super) fn now_ms() -> Millis {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as Millis)
        .unwrap_or(0)
}
