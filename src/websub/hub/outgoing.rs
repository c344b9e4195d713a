//! The hub's network work, as tasks on the server's runtime that report back to the hub
//! thread: content deliveries and announcements to external hubs (verification GETs are
//! in `verify`).

use std::collections::HashMap;

use bytes::Bytes;
use hmac::Mac;
use hyper::header::{HeaderMap, HeaderValue};
use tokio::sync::oneshot;

use super::actor::Actor;
use super::fair::Work;
use super::{now_ms, Cmd};
use crate::snapshot::{Encoding, FeedFile, Snapshot};
use crate::websub::ledger::{Key, Millis, Outcome, Owed, Write};

impl Actor {
    /// Starts the deliveries that are due, in fair turns among their hosts (`fair`), and
    /// the announcements that are due.
    pub(super) fn dispatch(&mut self) {
        let now = now_ms();
        let cursor = self.fair.cursor(Work::Delivery).to_string();
        let mut found: HashMap<String, Vec<(Key, Owed)>> = HashMap::new();
        let plan = {
            let (ledger, busy) = (&self.ledger, &self.busy);
            let hosts = ledger.owing_hosts_after(&cursor);
            self.fair.plan(Work::Delivery, now, hosts, |host, max| {
                let due = ledger.due_at_host(host, now, |k| busy.contains_key(k), max);
                let n = due.len();
                found.insert(host.to_string(), due);
                n
            })
        };
        self.give_up(Work::Delivery, plan.given_up);
        let snapshot = self.snapshot.load();
        let mut bodies: HashMap<String, Option<(Bytes, String)>> = HashMap::new();
        let (mut unreadable, mut writes) = (Vec::new(), Vec::new());
        for (host, n) in plan.turns {
            let due = found.remove(&host).unwrap_or_default();
            for (key, debt) in due.into_iter().take(n) {
                let Ok(url) = url::Url::parse(&key.callback) else {
                    // Checked when subscribing; a record that does not parse is dropped
                    // rather than tried again and again.
                    writes.extend(self.ledger.unsubscribe(&key));
                    continue;
                };
                let Some(sub) = self.ledger.get(&key) else {
                    continue;
                };
                let rel = sub.rel.clone();
                let body = bodies
                    .entry(rel.clone())
                    .or_insert_with(|| self.read_topic(&snapshot, &rel))
                    .clone();
                match (body, self.topic_body(&snapshot, &rel)) {
                    (Some((bytes, hash)), Some(file)) => {
                        self.deliver(key, debt, url, (bytes, hash, &file), now)
                    }
                    (None, _) => unreadable.push(key),
                    (Some(_), None) => {}
                }
            }
        }
        // Debts for a feed that no longer exists (or cannot be read now) wait for the
        // next change or the lease end; they are not retried in a loop.
        for key in unreadable {
            let failed = Outcome::Failed("the topic's feed cannot be read".into());
            let seq = self.ledger.owed(&key).map_or(0, |o| o.seq);
            writes.extend(self.ledger.outcome(&key, seq, failed, now));
        }
        writes.extend(self.announce(now));
        self.save(writes);
    }

    /// A topic's current body and its hash, once per dispatch.
    fn read_topic(&self, snapshot: &Snapshot, rel: &str) -> Option<(Bytes, String)> {
        let file = self.topic_body(snapshot, rel)?;
        let hot = &self.caches.get(&snapshot.settings).bodies;
        match crate::bodies::read(&file, Encoding::Identity, hot) {
            Ok((bytes, _)) => Some((bytes, file.hash().to_string())),
            Err(e) => {
                tracing::warn!("websub: {}", crate::error::chain(&e));
                None
            }
        }
    }

    /// POSTs the topic's body to one subscriber; reports back whatever happens.
    fn deliver(
        &mut self,
        key: Key,
        debt: Owed,
        url: url::Url,
        (bytes, hash, file): (Bytes, String, &FeedFile),
        now: Millis,
    ) {
        let Some(sub) = self.ledger.get(&key) else {
            return;
        };
        let mut headers = HeaderMap::new();
        headers.insert(
            hyper::header::CONTENT_TYPE,
            HeaderValue::from_static(file.content_type),
        );
        if let Some(links) = &file.links {
            headers.insert(hyper::header::LINK, links.clone());
        }
        let secret = sub.secret.clone();
        let timeout = self.fair.timeout(Work::Delivery, &sub.host);
        let flight = self.fair.start(Work::Delivery, &sub.host, now);
        self.busy.insert(key.clone(), flight);
        let given_up = self.can_give_up(flight);
        let (client, tx) = (self.client.clone(), self.tx.clone());
        self.runtime.spawn(async move {
            if let Some(secret) = secret {
                if let Ok(v) = HeaderValue::from_str(&format!("sha256={}", sign(&secret, &bytes))) {
                    headers.insert("x-hub-signature", v);
                }
            }
            let client = client.with_timeout(timeout);
            let call = client.call(hyper::Method::POST, &url, headers, bytes, 0);
            let answer = unless_given_up(call, given_up).await;
            let outcome = match answer {
                Ok(a) if (200..300).contains(&a.status) => Outcome::Delivered(hash),
                Ok(a) if a.status == 410 => Outcome::Gone,
                Ok(a) => Outcome::Failed(format!("the callback answered {}", a.status)),
                Err(e) => Outcome::Failed(e),
            };
            let _ = tx.send(Cmd::Delivered {
                key,
                seq: debt.seq,
                since: debt.since,
                outcome,
            });
        });
    }

    /// Starts the announcements to external hubs that are due (the operator's own hubs:
    /// no fair shares, up to `concurrent_deliveries` at once).
    fn announce(&mut self, now: Millis) -> Vec<Write> {
        let mut writes = Vec::new();
        let room = self.max_in_flight.saturating_sub(self.busy_pings.len());
        for (key, debt) in self
            .ledger
            .pings_due(now, |k| self.busy_pings.contains(k), room)
        {
            let Ok(url) = url::Url::parse(&key.hub) else {
                writes.extend(self.ledger.pinged(&key, debt.seq, false, u64::MAX));
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
        writes
    }

    /// Registers request `flight` as one `fair` may give up; what it returns ends the
    /// request when that happens.
    pub(super) fn can_give_up(&mut self, flight: u64) -> oneshot::Receiver<()> {
        let (tx, rx) = oneshot::channel();
        self.give_up.insert(flight, tx);
        rx
    }

    /// Ends the requests `fair` gave up (their hosts' failures are counted there): each
    /// reports back as failed, a delivery staying owed, a verification failing (the
    /// subscriber may ask again, WebSub §5.3).
    pub(super) fn give_up(&mut self, work: Work, flights: Vec<u64>) {
        if flights.is_empty() {
            return;
        }
        tracing::debug!(
            ?work,
            requests = flights.len(),
            "websub: the slow pool is full and work waits; the longest unanswered are given up"
        );
        for flight in flights {
            self.give_up.remove(&flight);
        }
    }
}

/// A request, unless the hub gives it up first (its sender dropped); either way an error
/// is the reason, for the log and `feedd websub list`.
pub(super) async fn unless_given_up<T, E: std::fmt::Display>(
    request: impl std::future::Future<Output = Result<T, E>>,
    given_up: oneshot::Receiver<()>,
) -> Result<T, String> {
    tokio::select! {
        answer = request => answer.map_err(|e| e.to_string()),
        _ = given_up => Err("no answer, given up for waiting work (the slow pool was full)".into()),
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
