use std::collections::BTreeMap;
use std::time::Duration;

use super::*;

const SLOTS: usize = 64;

fn fair() -> Fair {
    Fair::new(Limits::new(SLOTS, Duration::from_secs(15)))
}

/// Work ready per host, as the ledger or the verification queue would give it.
type Backlog = BTreeMap<String, usize>;

/// One dispatch: plans round the ring from the cursor and starts what it planned,
/// taking the work off `backlog`.
fn dispatch(f: &mut Fair, work: Work, now: Millis, backlog: &mut Backlog) -> Vec<(String, u64)> {
    dispatch_giving_up(f, work, now, backlog).0
}

/// `dispatch`, and the requests given up for it.
fn dispatch_giving_up(
    f: &mut Fair,
    work: Work,
    now: Millis,
    backlog: &mut Backlog,
) -> (Vec<(String, u64)>, Vec<u64>) {
    let cursor = f.cursor(work).to_string();
    let after = backlog.range::<str, _>((
        std::ops::Bound::Excluded(cursor.as_str()),
        std::ops::Bound::Unbounded,
    ));
    let before = backlog.range::<str, _>((
        std::ops::Bound::Unbounded,
        std::ops::Bound::Included(cursor.as_str()),
    ));
    let ring: Vec<String> = after.chain(before).map(|(h, _)| h.clone()).collect();
    let plan = f.plan(work, now, ring.iter().map(String::as_str), |h, max| {
        backlog.get(h).copied().unwrap_or(0).min(max)
    });
    let mut started = Vec::new();
    for (host, n) in plan.turns {
        for _ in 0..n {
            started.push((host.clone(), f.start(work, &host, now)));
        }
        let left = backlog.get_mut(&host).map(|left| {
            *left -= n;
            *left
        });
        if left == Some(0) {
            backlog.remove(&host);
        }
    }
    (started, plan.given_up)
}

/// 500 hosts ("h000".."h499") with four callbacks each that never answer deliveries,
/// and one healthy host that sorts last.
fn hostile_backlog() -> Backlog {
    let mut backlog: Backlog = (0..500).map(|i| (format!("h{i:03}"), 4)).collect();
    backlog.insert("zz-healthy".into(), 1);
    backlog
}

#[test]
fn two_thousand_hanging_on_500_hosts_and_one_healthy_the_healthy_goes_in_the_first_round() {
    let mut f = fair();
    // Each hanging host has timed out once already (the previous post).
    for i in 0..500 {
        let flight = f.start(Work::Delivery, &format!("h{i:03}"), 0);
        f.finish(flight, false, 15_000);
    }
    let mut backlog = hostile_backlog();
    let started = dispatch(&mut f, Work::Delivery, 25_000, &mut backlog);
    assert!(started.iter().any(|(h, _)| h == "zz-healthy"));
    assert_eq!(
        started.len(),
        SLOTS / 2 + 1,
        "failing hosts get half the slots"
    );
    assert!(started
        .iter()
        .filter(|(h, _)| h.starts_with('h'))
        .all(|(h, _)| { f.timeout(Work::Delivery, h) == Duration::from_secs(3) }));
}

#[test]
fn unknown_hanging_hosts_are_all_tried_within_waves_of_slow_after() {
    // The first post after they subscribed: nothing is known of anyone yet.
    let mut f = fair();
    let mut backlog = hostile_backlog();
    let mut now = 0;
    let healthy_at = loop {
        let started = dispatch(&mut f, Work::Delivery, now, &mut backlog);
        if started.iter().any(|(h, _)| h == "zz-healthy") {
            break now;
        }
        assert!(now < 60_000, "the healthy host was never served");
        now = f.next_slow(now).expect("something in flight");
    };
    // 501 hosts, one request each per wave of 64, a wave every half second.
    assert!(healthy_at <= 7 * 500, "served after {healthy_at} ms");
    assert!(f.flights.len() <= SLOTS + f.limits.slow_slots);
    for i in 0..500 {
        assert_eq!(f.free(Work::Delivery, &format!("h{i:03}")), 0, "one each");
    }
}

#[test]
fn failing_hosts_never_take_the_healthy_hosts_room() {
    let mut f = fair();
    for i in 0..2_000 {
        let flight = f.start(Work::Delivery, &format!("f{i:04}"), 0);
        f.finish(flight, false, 1);
    }
    let mut backlog: Backlog = (0..2_000).map(|i| (format!("f{i:04}"), 1)).collect();
    let mut now = 10;
    for _ in 0..100 {
        dispatch(&mut f, Work::Delivery, now, &mut backlog);
        now += 600;
    }
    let room = f.room(Work::Delivery, now);
    assert_eq!(
        f.flights.len(),
        f.limits.slow_slots,
        "failing hosts fill the slow pool only"
    );
    assert_eq!(room.failing, 0);
    assert_eq!(
        room.any, SLOTS,
        "every fresh slot is still the healthy hosts'"
    );
    let mut healthy: Backlog = [("new".to_string(), 3)].into();
    let started = dispatch(&mut f, Work::Delivery, now, &mut healthy);
    assert_eq!(started.len(), 1, "an unknown host starts with one request");
}

#[test]
fn a_success_restores_a_failing_host_and_its_window_grows_to_a_quarter() {
    let mut f = fair();
    let flight = f.start(Work::Delivery, "a", 0);
    f.finish(flight, false, 1);
    assert!(f.is_failing(Work::Delivery, "a"));
    assert_eq!(f.free(Work::Delivery, "a"), 1);
    let timeouts: Vec<u64> = (0..8)
        .map(|_| {
            let t = f.timeout(Work::Delivery, "a").as_secs();
            let flight = f.start(Work::Delivery, "a", 2);
            f.finish(flight, false, 3);
            t
        })
        .collect();
    // Failures 1..=8 before each try: the full timeout at every fourth.
    assert_eq!(timeouts, [3, 3, 3, 15, 3, 3, 3, 15]);
    let flight = f.start(Work::Delivery, "a", 4);
    f.finish(flight, true, 5);
    assert!(!f.is_failing(Work::Delivery, "a"));
    assert_eq!(f.timeout(Work::Delivery, "a").as_secs(), 15);
    assert_eq!(f.free(Work::Delivery, "a"), 2);
    for _ in 0..40 {
        let flight = f.start(Work::Delivery, "a", 6);
        f.finish(flight, true, 7);
    }
    assert_eq!(f.free(Work::Delivery, "a"), SLOTS / 4);
}

#[test]
fn turns_go_round_the_ring_one_per_host_then_more_where_windows_allow() {
    let mut f = Fair::new(Limits::new(4, Duration::from_secs(15)));
    let mut backlog: Backlog = [("a", 5), ("b", 5), ("c", 5), ("d", 5), ("e", 5), ("f", 5)]
        .map(|(h, n)| (h.to_string(), n))
        .into();
    let first: Vec<String> = dispatch(&mut f, Work::Delivery, 0, &mut backlog)
        .into_iter()
        .map(|(h, _)| h)
        .collect();
    assert_eq!(first, ["a", "b", "c", "d"]);
    let second: Vec<String> = dispatch(&mut f, Work::Delivery, 500, &mut backlog)
        .into_iter()
        .map(|(h, _)| h)
        .collect();
    assert_eq!(second, ["e", "f"], "a–d are at their window of one");
}

#[test]
fn verifications_have_slots_of_their_own() {
    let mut f = fair();
    let mut deliveries: Backlog = (0..SLOTS).map(|i| (format!("d{i:02}"), 1)).collect();
    assert_eq!(
        dispatch(&mut f, Work::Delivery, 0, &mut deliveries).len(),
        SLOTS
    );
    assert_eq!(f.room(Work::Delivery, 0).any, 0);
    let mut verifications: Backlog = [("new".to_string(), 1)].into();
    assert_eq!(
        dispatch(&mut f, Work::Verification, 0, &mut verifications).len(),
        1
    );
}

#[test]
fn idle_hosts_are_forgotten_and_busy_ones_kept() {
    let mut f = fair();
    let done = f.start(Work::Delivery, "idle", 0);
    f.finish(done, false, 10);
    f.start(Work::Delivery, "busy", 0);
    f.forget(11);
    assert!(
        !f.is_failing(Work::Delivery, "idle"),
        "forgotten: unknown again"
    );
    assert_eq!(f.free(Work::Delivery, "busy"), 0, "still in flight");
}

#[test]
fn slow_pool_full_and_a_healthy_verification_waiting_the_oldest_slow_one_is_given_up() {
    let mut f = fair();
    let hanging = SLOTS + f.limits.slow_slots;
    let flights: Vec<u64> = (0..hanging)
        .map(|i| f.start(Work::Verification, &format!("h{i:03}"), i as Millis))
        .collect();
    let now = 5_000;
    let room = f.room(Work::Verification, now);
    assert_eq!((room.any, room.by_giving_up), (SLOTS, SLOTS), "all of it");
    let mut failing: Backlog = [("h000".to_string(), 1)].into();
    let (started, given_up) = dispatch_giving_up(&mut f, Work::Verification, now, &mut failing);
    assert!(
        started.is_empty() && given_up.is_empty(),
        "a host with a request hanging waits for it"
    );
    let mut healthy: Backlog = [("new".to_string(), 1)].into();
    let (started, given_up) = dispatch_giving_up(&mut f, Work::Verification, now, &mut healthy);
    assert_eq!(started.len(), 1);
    assert_eq!(started[0].0, "new");
    assert_eq!(given_up, [flights[0]], "the longest unanswered");
    assert!(f.is_failing(Work::Verification, "h000"));
    assert_eq!(f.flying_to(Work::Verification, "h000"), 0);
    assert_eq!(f.flights.len(), hanging, "one out, one in");
    assert!(
        f.room(Work::Delivery, now).by_giving_up == 0,
        "deliveries untouched"
    );
}

#[test]
fn hanging_verifications_beyond_the_slow_pool_give_way_after_their_try() {
    // 950 hosts with two requests each that never answer (the hostile bench), one wave
    // every half second; then a healthy subscriber sorting last.
    let mut f = fair();
    let mut backlog: Backlog = (0..950).map(|i| (format!("h{i:03}"), 2)).collect();
    let mut started_at: BTreeMap<u64, Millis> = BTreeMap::new();
    let mut tried = std::collections::BTreeSet::new();
    let (mut shortest_try, mut given_up_in_all) = (Millis::MAX, 0);
    let mut now = 0;
    while now < 10_000 {
        let (started, given_up) = dispatch_giving_up(&mut f, Work::Verification, now, &mut backlog);
        started_at.extend(started.iter().map(|(_, id)| (*id, now)));
        tried.extend(started.into_iter().map(|(host, _)| host));
        for id in &given_up {
            shortest_try = shortest_try.min(now - started_at[id]);
        }
        given_up_in_all += given_up.len();
        assert!(f.flights.len() <= SLOTS + f.limits.slow_slots);
        now += 500;
    }
    assert!(given_up_in_all > 0);
    assert!(shortest_try >= 4_000, "given up after {shortest_try} ms");
    assert_eq!(tried.len(), 950, "every host had a try");
    let mut new: Backlog = [("zz-new".to_string(), 1)].into();
    let started = dispatch(&mut f, Work::Verification, now, &mut new);
    assert_eq!(started.len(), 1, "at once, whatever still hangs");
}
