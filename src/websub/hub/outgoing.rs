//! The hub's network work, as tasks on the server's runtime that report back to the hub
//! thread: verification GETs, content deliveries, announcements to external hubs.

use std::collections::HashMap;

use bytes::Bytes;
use hmac::Mac;
use hyper::header::{HeaderMap, HeaderValue};

use super::actor::Actor;
use super::{now_ms, Cmd};
use crate::snapshot::Encoding;
use crate::websub::ledger::{Key, Outcome};
use crate::websub::request::{Mode, Request};

impl Actor {
    /// GETs the callback with a challenge (WebSub §5.3); reports back whatever happens.
    pub(super) fn verify(&mut self, request: Request, key: Key, rel: String, id: u64) {
        self.verifying += 1;
        let lease = self.config.lease.grant(request.lease_seconds);
        let Some(challenge) = challenge() else {
            let _ = self.tx.send(Cmd::Verified {
                request,
                key,
                rel,
                lease,
                id,
                ok: Err("no system randomness for a challenge".into()),
            });
            return;
        };
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
        let slots = self.verify_slots.clone();
        self.runtime.spawn(async move {
            let _slot = slots.acquire_owned().await;
            let answer = client
                .call(
                    hyper::Method::GET,
                    &url,
                    HeaderMap::new(),
                    Bytes::new(),
                    challenge.len(),
                )
                .await;
            let ok = match answer {
                Ok(a) if (200..300).contains(&a.status) && a.body == challenge.as_bytes() => Ok(()),
                Ok(a) if (200..300).contains(&a.status) => {
                    Err("the answer is not the challenge".to_string())
                }
                Ok(a) => Err(format!("the callback answered {}", a.status)),
                Err(e) => Err(e.to_string()),
            };
            let _ = tx.send(Cmd::Verified {
                request,
                key,
                rel,
                lease,
                id,
                ok,
            });
        });
    }

    /// Starts the deliveries and announcements that are due, up to the concurrency cap.
    pub(super) fn dispatch(&mut self) {
        let now = now_ms();
        let room = self
            .max_in_flight
            .saturating_sub(self.busy.len() + self.busy_pings.len());
        if room == 0 {
            return;
        }
        let snapshot = self.snapshot.load();
        let due = self.ledger.due(now, |k| self.is_busy(k), room);
        let mut bodies: HashMap<String, Option<(Bytes, String)>> = HashMap::new();
        let (mut unreadable, mut writes) = (Vec::new(), Vec::new());
        for (key, debt) in due {
            let Some(sub) = self.ledger.get(&key) else {
                continue;
            };
            if self.host_is_full(&sub.host) {
                continue;
            }
            let Ok(url) = url::Url::parse(&key.callback) else {
                // Checked when subscribing; a record that does not parse is dropped
                // rather than tried again and again.
                writes.extend(self.ledger.unsubscribe(&key));
                continue;
            };
            let body = bodies.entry(sub.rel.clone()).or_insert_with(|| {
                let file = self.topic_body(&snapshot, &sub.rel)?;
                let hot = &self.caches.get(&snapshot.settings).bodies;
                match crate::bodies::read(&file, Encoding::Identity, hot) {
                    Ok((bytes, _)) => Some((bytes, file.hash().to_string())),
                    Err(e) => {
                        tracing::warn!("websub: {}", crate::error::chain(&e));
                        None
                    }
                }
            });
            let Some((bytes, hash)) = body.clone() else {
                unreadable.push(key);
                continue;
            };
            let Some(file) = self.topic_body(&snapshot, &sub.rel) else {
                continue;
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
            *self.busy_hosts.entry(sub.host.clone()).or_default() += 1;
            self.busy.insert(key.clone(), sub.host.clone());
            let (client, tx) = (self.client.clone(), self.tx.clone());
            self.runtime.spawn(async move {
                if let Some(secret) = secret {
                    if let Ok(v) =
                        HeaderValue::from_str(&format!("sha256={}", sign(&secret, &bytes)))
                    {
                        headers.insert("x-hub-signature", v);
                    }
                }
                let outcome = match client
                    .call(hyper::Method::POST, &url, headers, bytes, 0)
                    .await
                {
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
        for key in unreadable {
            let failed = Outcome::Failed("the topic's feed cannot be read".into());
            let seq = self.ledger.owed(&key).map_or(0, |o| o.seq);
            writes.extend(self.ledger.outcome(&key, seq, failed, now));
        }
        let room = self
            .max_in_flight
            .saturating_sub(self.busy.len() + self.busy_pings.len());
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
        self.save(writes);
    }

    /// In flight, or its callback's host already has its share of the slots.
    pub(super) fn is_busy(&self, key: &Key) -> bool {
        self.busy.contains_key(key)
            || self
                .ledger
                .get(key)
                .is_some_and(|s| self.host_is_full(&s.host))
    }

    /// One host (one subscriber service, or an attacker's slow callbacks) gets at most a
    /// quarter of the delivery slots, so it cannot hold up everyone else's deliveries.
    fn host_is_full(&self, host: &str) -> bool {
        let share = (self.max_in_flight / 4).max(1);
        self.busy_hosts.get(host).copied().unwrap_or(0) >= share
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

/// 32 random bytes, hex: unguessable, so only the callback's owner can echo it. Without
/// system randomness there is no challenge worth the name: `None`, and no verification.
fn challenge() -> Option<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).ok()?;
    Some(bytes.iter().map(|b| format!("{b:02x}")).collect())
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
