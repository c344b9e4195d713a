//! Fair shares of the hub's outgoing slots among callback hosts, the way mail servers
//! share theirs among destinations: work is taken in turns, one request per host per
//! turn, round a ring of host names; a host that keeps failing is served after the
//! healthy ones, one request at a time, with a shorter timeout; a request that has not
//! been answered within `slow_after` gives its slot back to new work (it keeps running
//! until its timeout, counted against a separate, larger pool), so callbacks that never
//! answer cannot hold every slot for a whole timeout; and when that pool is full and a
//! healthy host's work waits, the longest-unanswered slow requests are given up (a
//! failure of their hosts), so healthy work never waits for hanging work. Deliveries and
//! verifications have pools of their own.
//!
//! No I/O and no clock: the hub tells it the time, which hosts have work and how much,
//! and what became of each request. What it owns is the per-host health (failures in a
//! row, successes in a row) and the requests in flight; the work itself stays in the
//! ledger and the verification queue.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use crate::websub::ledger::Millis;

/// The two kinds of outgoing work; each has its own slots.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Work {
    Delivery = 0,
    Verification = 1,
}

#[derive(Debug, Clone)]
pub struct Limits {
    /// Requests in their first `slow_after`, per kind of work (`concurrent_deliveries`).
    pub slots: usize,
    /// Requests past `slow_after` still waiting for their answer, per kind of work: what
    /// bounds the sockets hanging callbacks can hold.
    pub slow_slots: usize,
    pub slow_after: Millis,
    /// A healthy host's timeout (`timeout_ms`).
    pub timeout: Duration,
    /// A failing host's timeout, but for every fourth attempt in a row.
    pub failing_timeout: Duration,
}

impl Limits {
    /// The defaults around the configured slots and timeout: half a second before a
    /// request counts as slow (an answer takes a few round trips; a slow one loses
    /// nothing, it only stops blocking others), eight times the slots for the slow, and
    /// three seconds for hosts that keep failing.
    pub fn new(slots: usize, timeout: Duration) -> Limits {
        Limits {
            slots: slots.max(1),
            slow_slots: slots.max(1) * 8,
            slow_after: 500,
            timeout,
            failing_timeout: timeout.min(Duration::from_secs(3)),
        }
    }
}

/// One host's record for one kind of work.
#[derive(Debug, Default, Clone, Copy)]
struct Health {
    /// Failed requests since the last success: more than none makes the host failing.
    failures: u32,
    /// Successes since the last failure: the host's window grows by one with each, up to
    /// its share (slow start: an unknown host gets one request at a time).
    streak: u32,
    flying: usize,
}

#[derive(Debug, Default)]
struct Host {
    work: [Health; 2],
    /// When it last answered or failed (for forgetting idle hosts).
    last: Millis,
}

#[derive(Debug)]
struct Flight {
    host: String,
    work: Work,
    started: Millis,
}

/// How many requests of one kind could start now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Room {
    /// For healthy hosts, counting what giving up slow requests would free.
    pub any: usize,
    /// Of `any`, how many need slow requests given up first (one each): the slow pool
    /// holds more than `slow_slots`, the requests that turned slow while it was full.
    pub by_giving_up: usize,
    /// How many may go to failing hosts, without giving anything up.
    pub failing: usize,
}

/// What `plan` decided: how many requests each host starts, and the requests given up
/// to make room for them (the driver cancels them; their hosts have failed once more).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Plan {
    pub turns: Vec<(String, usize)>,
    pub given_up: Vec<u64>,
}

#[derive(Debug)]
pub struct Fair {
    limits: Limits,
    hosts: HashMap<String, Host>,
    /// By number, which is also the order they started in (oldest first).
    flights: BTreeMap<u64, Flight>,
    next_flight: u64,
    /// Per kind of work, the host the last turn ended with.
    cursor: [String; 2],
}

impl Fair {
    pub fn new(limits: Limits) -> Fair {
        Fair {
            limits,
            hosts: HashMap::new(),
            flights: BTreeMap::new(),
            next_flight: 0,
            cursor: [String::new(), String::new()],
        }
    }

    /// Where the next walk round the hosts starts (just after this host).
    pub fn cursor(&self, work: Work) -> &str {
        &self.cursor[work as usize]
    }

    fn health(&self, work: Work, host: &str) -> Health {
        (self.hosts.get(host)).map_or_else(Health::default, |h| h.work[work as usize])
    }

    /// Failed last time, and not answered since.
    pub fn is_failing(&self, work: Work, host: &str) -> bool {
        self.health(work, host).failures > 0
    }

    /// How many more requests `host` may have in flight: one for an unknown or failing
    /// host, one more per success in a row up to a quarter of the slots (so one service
    /// never holds most of them).
    pub fn free(&self, work: Work, host: &str) -> usize {
        let h = self.health(work, host);
        let share = (self.limits.slots / 4).max(1);
        let window = match h.failures {
            0 => (1 + h.streak as usize).min(share),
            _ => 1,
        };
        window.saturating_sub(h.flying)
    }

    /// The timeout for the next request to `host`: the full one while it is healthy; a
    /// short one once it failed, but the full one every fourth failure in a row, so a
    /// host that is merely slow can still answer and be healthy again.
    pub fn timeout(&self, work: Work, host: &str) -> Duration {
        match self.health(work, host).failures {
            f if f == 0 || f % 4 == 0 => self.limits.timeout,
            _ => self.limits.failing_timeout,
        }
    }

    /// The room now: new requests need a slot of their own (`slots` less the requests
    /// still in their first `slow_after`) and a place in the whole (`slots + slow_slots`).
    /// When requests that turned slow overfill the slow pool, healthy hosts still have
    /// their slots, by giving up as many of the oldest slow requests (`by_giving_up`): a
    /// callback that has not answered while the whole pool turned slow after it is far
    /// more likely to hang than to answer, and a healthy host must not wait out its
    /// timeout. Failing hosts get at most half the slots and never more than `slow_slots`
    /// in all, and never make anyone give up, so healthy hosts always keep room.
    pub fn room(&self, work: Work, now: Millis) -> Room {
        let l = &self.limits;
        let (mut fresh, mut total, mut failing_fresh, mut failing_total) = (0, 0, 0, 0);
        for f in self.flights.values().filter(|f| f.work == work) {
            let is_fresh = now < f.started.saturating_add(l.slow_after);
            let failing = self.is_failing(work, &f.host);
            total += 1;
            fresh += usize::from(is_fresh);
            failing_total += usize::from(failing);
            failing_fresh += usize::from(failing && is_fresh);
        }
        let own = l.slots.saturating_sub(fresh);
        let kept = own.min((l.slots + l.slow_slots).saturating_sub(total));
        let by_giving_up = (total - fresh).saturating_sub(l.slow_slots).min(own);
        let failing = ((l.slots / 2).max(1).saturating_sub(failing_fresh))
            .min(l.slow_slots.saturating_sub(failing_total))
            .min(kept);
        Room {
            any: kept + by_giving_up,
            by_giving_up,
            failing,
        }
    }

    /// Whether a request to `host` could start with `room` (for the hub's wake-up time).
    pub fn could_start(&self, work: Work, host: &str, room: Room) -> bool {
        let failing = self.is_failing(work, host);
        self.free(work, host) > 0 && (if failing { room.failing } else { room.any }) > 0
    }

    /// The next turns: how many requests each host starts now, and the slow requests
    /// given up for them. `hosts` are the hosts with work, round the ring from just after
    /// `cursor(work)`; `ready(host, max)` says how many of its requests could start (at
    /// most `max`). Healthy hosts get one request each per pass, then more passes while
    /// room and their windows allow; failing hosts get what is left without giving
    /// anything up, within their share. The cursor moves to the last host served, so the
    /// next call continues from there.
    pub fn plan<'a>(
        &mut self,
        work: Work,
        now: Millis,
        hosts: impl IntoIterator<Item = &'a str>,
        ready: impl FnMut(&str, usize) -> usize,
    ) -> Plan {
        let room = self.room(work, now);
        let (mut turns, failing) = self.healthy_turns(work, room.any, hosts, ready);
        let healthy: usize = turns.iter().map(|(_, n)| n).sum();
        let kept = room.any - room.by_giving_up;
        let given_up = self.give_up(work, now, healthy.saturating_sub(kept));
        let last_healthy = turns.last().map(|(h, _)| h.clone());
        let failing_room = room.failing.min(kept.saturating_sub(healthy));
        turns.extend(failing.into_iter().take(failing_room).map(|h| (h, 1)));
        if let Some(last) = last_healthy.or_else(|| turns.last().map(|(h, _)| h.clone())) {
            self.cursor[work as usize] = last;
        }
        Plan { turns, given_up }
    }

    /// The healthy hosts' turns within `room` (one each per pass, then more passes), and
    /// the failing hosts with work ready, in ring order.
    fn healthy_turns<'a>(
        &self,
        work: Work,
        mut room: usize,
        hosts: impl IntoIterator<Item = &'a str>,
        mut ready: impl FnMut(&str, usize) -> usize,
    ) -> (Vec<(String, usize)>, Vec<String>) {
        let (mut turns, mut more, mut failing) = (Vec::new(), Vec::new(), Vec::new());
        for host in hosts {
            if room == 0 {
                break;
            }
            let free = self.free(work, host);
            let n = if free == 0 { 0 } else { ready(host, free) };
            if n == 0 {
                continue;
            }
            if self.is_failing(work, host) {
                failing.push(host.to_string());
                continue;
            }
            room -= 1;
            if n > 1 {
                more.push((turns.len(), n - 1));
            }
            turns.push((host.to_string(), 1));
        }
        while room > 0 && !more.is_empty() {
            for (i, left) in more.iter_mut() {
                if room > 0 && *left > 0 {
                    turns[*i].1 += 1;
                    (*left, room) = (*left - 1, room - 1);
                }
            }
            more.retain(|(_, left)| *left > 0);
        }
        (turns, failing)
    }

    /// Gives up the `n` longest-unanswered slow requests of one kind: each counts as its
    /// host's failure, as its timeout would have.
    fn give_up(&mut self, work: Work, now: Millis, n: usize) -> Vec<u64> {
        let slow_after = self.limits.slow_after;
        let oldest: Vec<u64> = (self.flights.iter())
            .filter(|(_, f)| f.work == work && f.started.saturating_add(slow_after) <= now)
            .map(|(id, _)| *id)
            .take(n)
            .collect();
        for id in &oldest {
            self.finish(*id, false, now);
        }
        oldest
    }

    /// A request to `host` starts; the number it returns names it in `finish`.
    pub fn start(&mut self, work: Work, host: &str, now: Millis) -> u64 {
        self.next_flight += 1;
        let entry = self.hosts.entry(host.to_string()).or_default();
        entry.work[work as usize].flying += 1;
        let flight = Flight {
            host: host.to_string(),
            work,
            started: now,
        };
        self.flights.insert(self.next_flight, flight);
        self.next_flight
    }

    /// What became of request `flight`: `ok` if the host answered as it should.
    pub fn finish(&mut self, flight: u64, ok: bool, now: Millis) {
        let Some(f) = self.flights.remove(&flight) else {
            return;
        };
        let Some(host) = self.hosts.get_mut(&f.host) else {
            return;
        };
        host.last = now;
        let h = &mut host.work[f.work as usize];
        h.flying = h.flying.saturating_sub(1);
        if ok {
            (h.failures, h.streak) = (0, h.streak.saturating_add(1));
        } else {
            (h.failures, h.streak) = (h.failures.saturating_add(1), 0);
        }
    }

    /// Requests of one kind in flight to `host`.
    pub fn flying_to(&self, work: Work, host: &str) -> usize {
        self.health(work, host).flying
    }

    /// When the next request in its first `slow_after` becomes slow (and frees a slot):
    /// the hub must look again then, even if no answer comes.
    pub fn next_slow(&self, now: Millis) -> Option<Millis> {
        (self.flights.values())
            .map(|f| f.started.saturating_add(self.limits.slow_after))
            .filter(|at| *at > now)
            .min()
    }

    /// Drops the records of hosts idle since before `before` (nothing in flight): their
    /// health is old news, and an attacker's many names must not pile up.
    pub fn forget(&mut self, before: Millis) {
        self.hosts
            .retain(|_, h| h.last >= before || h.work.iter().any(|w| w.flying > 0));
    }
}

#[cfg(test)]
#[path = "fair_tests.rs"]
mod tests;
