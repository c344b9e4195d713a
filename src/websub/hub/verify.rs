//! Verification of intent (WebSub §5.3): taken requests wait in a queue per callback
//! host and are started in fair turns among hosts (`fair`), with slots of their own, so
//! callbacks that never answer hold neither a new subscriber's verification nor the
//! deliveries, and fill only their own hosts' queues (the 503 is per host first).

use std::collections::{BTreeMap, VecDeque};
use std::ops::Bound;

use bytes::Bytes;
use hyper::header::HeaderMap;

use super::actor::Actor;
use super::fair::Work;
use super::outgoing::unless_given_up;
use super::{now_ms, Cmd, Refused};
use crate::websub::ledger::{Key, Millis, Subscription, Write};
use crate::websub::request::{Mode, Request};

/// Verifications waiting or in flight at most, from all hosts (memory), and from one.
const MAX_VERIFYING: usize = 10_000;
const MAX_VERIFYING_PER_HOST: usize = 1_000;

/// A taken request, until its verification is answered.
pub(in crate::websub) struct Verification {
    pub request: Request,
    pub key: Key,
    pub rel: String,
    /// Which request this is: only the newest for its key counts.
    pub id: u64,
}

/// Taken requests not yet started, per callback host, oldest first.
#[derive(Default)]
pub(super) struct Pending {
    by_host: BTreeMap<String, VecDeque<Verification>>,
    len: usize,
}

impl Pending {
    pub fn len(&self) -> usize {
        self.len
    }

    fn of_host(&self, host: &str) -> usize {
        self.by_host.get(host).map_or(0, VecDeque::len)
    }

    fn push(&mut self, host: &str, v: Verification) {
        self.by_host
            .entry(host.to_string())
            .or_default()
            .push_back(v);
        self.len += 1;
    }

    fn pop(&mut self, host: &str) -> Option<Verification> {
        let queue = self.by_host.get_mut(host)?;
        let v = queue.pop_front();
        if queue.is_empty() {
            self.by_host.remove(host);
        }
        self.len -= usize::from(v.is_some());
        v
    }

    /// The hosts waiting, round the ring from just after `cursor`.
    fn hosts_after<'a>(&'a self, cursor: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        let after = (Bound::Excluded(cursor), Bound::Unbounded);
        let before = (Bound::Unbounded, Bound::Included(cursor));
        (self.by_host.range::<str, _>(after))
            .chain(self.by_host.range::<str, _>(before))
            .map(|(h, _)| h.as_str())
    }
}

fn host_of(request: &Request) -> String {
    request.callback.host_str().unwrap_or("").to_string()
}

impl Actor {
    /// The limits that answer a request at once.
    pub(super) fn admit(&self, request: &Request, key: &Key) -> Result<(), Refused> {
        if self.store.is_none() {
            return Err(Refused {
                status: 503,
                message: "the hub's database cannot be opened; subscriptions are not taken".into(),
            });
        }
        let host = host_of(request);
        let of_host = self.pending.of_host(&host) + self.fair.flying_to(Work::Verification, &host);
        if of_host >= MAX_VERIFYING_PER_HOST || self.pending.len() + self.verifying >= MAX_VERIFYING
        {
            return Err(Refused {
                status: 503,
                message: "too many subscription requests are being verified; try again later"
                    .into(),
            });
        }
        if request.mode == Mode::Unsubscribe {
            return Ok(());
        }
        let c = &self.config;
        self.ledger
            .admit(
                key,
                &host,
                c.max_subscriptions,
                c.max_subscriptions_per_host,
            )
            .map_err(|e| Refused {
                status: 403,
                message: e.to_string(),
            })
    }

    /// A taken request waits for its host's turn; it is the newest for its key.
    pub(super) fn queue_verification(&mut self, request: Request, key: Key, rel: String) {
        self.request_id += 1;
        self.requests.insert(key.clone(), self.request_id);
        let host = host_of(&request);
        let id = self.request_id;
        let v = Verification {
            request,
            key,
            rel,
            id,
        };
        self.pending.push(&host, v);
    }

    /// Starts the verifications whose turn it is; one overtaken by a newer request for
    /// its key while it waited is dropped unsent.
    pub(super) fn dispatch_verifications(&mut self) {
        if self.pending.len() == 0 {
            return;
        }
        let now = now_ms();
        let cursor = self.fair.cursor(Work::Verification).to_string();
        let plan = {
            let pending = &self.pending;
            let hosts = pending.hosts_after(&cursor);
            (self.fair).plan(Work::Verification, now, hosts, |host, max| {
                pending.of_host(host).min(max)
            })
        };
        self.give_up(Work::Verification, plan.given_up);
        for (host, n) in plan.turns {
            for _ in 0..n {
                let Some(v) = self.pending.pop(&host) else {
                    break;
                };
                if self.requests.get(&v.key) == Some(&v.id) {
                    self.verify(v, now);
                }
            }
        }
    }

    /// GETs the callback with a challenge; reports back whatever happens.
    fn verify(&mut self, v: Verification, now: Millis) {
        let lease = self.config.lease.grant(v.request.lease_seconds);
        let Some(challenge) = challenge() else {
            let _ = self.tx.send(Cmd::Verified {
                verification: v,
                lease,
                flight: 0,
                answered: true,
                ok: Err("no system randomness for a challenge".into()),
            });
            return;
        };
        let mut url = v.request.callback.clone();
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("hub.mode", v.request.mode.as_str())
                .append_pair("hub.topic", &v.request.topic)
                .append_pair("hub.challenge", &challenge);
            if v.request.mode == Mode::Subscribe {
                q.append_pair("hub.lease_seconds", &lease.to_string());
            }
        }
        let host = host_of(&v.request);
        let client = self
            .client
            .with_timeout(self.fair.timeout(Work::Verification, &host));
        let flight = self.fair.start(Work::Verification, &host, now);
        let given_up = self.can_give_up(flight);
        self.verifying += 1;
        let tx = self.tx.clone();
        self.runtime.spawn(async move {
            let (method, headers) = (hyper::Method::GET, HeaderMap::new());
            let call = client.call(method, &url, headers, Bytes::new(), challenge.len());
            let answer = unless_given_up(call, given_up).await;
            let answered = answer.is_ok();
            let ok = match answer {
                Ok(a) if (200..300).contains(&a.status) && a.body == challenge.as_bytes() => Ok(()),
                Ok(a) if (200..300).contains(&a.status) => {
                    Err("the answer is not the challenge".to_string())
                }
                Ok(a) => Err(format!("the callback answered {}", a.status)),
                Err(e) => Err(e),
            };
            let _ = tx.send(Cmd::Verified {
                verification: v,
                lease,
                flight,
                answered,
                ok,
            });
        });
    }

    /// What became of a verification: only the newest request for its key counts.
    pub(super) fn verified(
        &mut self,
        v: Verification,
        lease: u64,
        (flight, answered): (u64, bool),
        ok: Result<(), String>,
        now: Millis,
    ) -> Vec<Write> {
        if flight != 0 {
            self.verifying = self.verifying.saturating_sub(1);
            self.give_up.remove(&flight);
        }
        // A host that answers, whatever it says, is healthy: only silence holds slots.
        self.fair.finish(flight, answered, now);
        let Verification {
            request,
            key,
            rel,
            id,
        } = v;
        if self.requests.get(&key) != Some(&id) {
            tracing::info!(
                topic = key.topic,
                "websub: a newer request for this subscription came since; this one is ignored"
            );
            return Vec::new();
        }
        self.requests.remove(&key);
        self.metrics.websub.verification(ok.is_ok());
        let host = host_of(&request);
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
            (Ok(()), Mode::Subscribe) => self.subscribed(key, host, request, rel, lease, now),
        }
    }

    /// A verified subscription, taken if the limits still allow.
    fn subscribed(
        &mut self,
        key: Key,
        host: String,
        request: Request,
        rel: String,
        lease: u64,
        now: Millis,
    ) -> Vec<Write> {
        let c = &self.config;
        let (max, per_host) = (c.max_subscriptions, c.max_subscriptions_per_host);
        if let Err(e) = self.ledger.admit(&key, &host, max, per_host) {
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
        let sub = Subscription {
            rel,
            secret: request.secret,
            host,
            verified: now,
            expires: now.saturating_add(lease.saturating_mul(1000)),
            delivered: current,
            last_delivery: None,
            failures: 0,
            last_error: None,
        };
        self.ledger.subscribe(key, sub)
    }
}

/// 32 random bytes, hex: unguessable, so only the callback's owner can echo it. Without
/// system randomness there is no challenge worth the name: `None`, and no verification.
fn challenge() -> Option<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).ok()?;
    Some(bytes.iter().map(|b| format!("{b:02x}")).collect())
}
