//! Announcements owed to external hubs (publisher mode): coalesced per (hub, topic),
//! retried with the ledger's backoff, given up after `MAX_PING_ATTEMPTS`.

use super::{Ledger, Millis, Owed, PingKey, Write, MAX_PING_ATTEMPTS};

impl Ledger {
    /// Owes every hub in `hubs` an announcement of `topic`.
    pub fn announce(&mut self, hubs: &[String], topic: &str, now: Millis) -> Vec<Write> {
        let mut writes = Vec::with_capacity(hubs.len());
        for hub in hubs {
            self.seq += 1;
            let key = PingKey {
                hub: hub.clone(),
                topic: topic.to_string(),
            };
            let debt = self.pings.bump(key.clone(), hub, self.seq, now);
            writes.push(Write::Ping(key, debt));
        }
        writes
    }

    pub fn pings_due(
        &self,
        now: Millis,
        busy: impl Fn(&PingKey) -> bool,
        max: usize,
    ) -> Vec<(PingKey, Owed)> {
        self.pings.due(now, busy, max)
    }

    /// What became of announcement `seq`; a failure is retried with backoff, up to
    /// `MAX_PING_ATTEMPTS`.
    pub fn pinged(&mut self, key: &PingKey, seq: u64, ok: bool, now: Millis) -> Vec<Write> {
        let Some(mut debt) = self.pings.get(key).copied() else {
            return Vec::new();
        };
        if ok && debt.seq != seq {
            (debt.attempts, debt.due) = (0, now);
            self.pings.set(key.clone(), &key.hub, debt);
            return vec![Write::Ping(key.clone(), debt)];
        }
        if !ok && debt.attempts + 1 < MAX_PING_ATTEMPTS {
            debt.attempts += 1;
            debt.due = now + self.backoff.after(debt.attempts, &key.hub);
            self.pings.set(key.clone(), &key.hub, debt);
            return vec![Write::Ping(key.clone(), debt)];
        }
        self.pings.remove(key);
        vec![Write::Pinged(key.clone())]
    }
}
