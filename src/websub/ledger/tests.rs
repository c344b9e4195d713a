use super::*;

const BACKOFF: Backoff = Backoff {
    first: 1_000,
    max: 60_000,
};

fn key(topic: &str, callback: &str) -> Key {
    Key {
        topic: topic.into(),
        callback: callback.into(),
    }
}

fn sub(host: &str, expires: Millis, delivered: &str) -> Subscription {
    Subscription {
        rel: "feed.xml".into(),
        secret: None,
        host: host.into(),
        verified: 0,
        expires,
        delivered: Some(delivered.into()),
        last_delivery: None,
        failures: 0,
        last_error: None,
    }
}

fn ledger_with(subs: &[(&Key, &str)]) -> Ledger {
    let mut l = Ledger::new(BACKOFF);
    for (k, host) in subs {
        l.subscribe((*k).clone(), sub(host, 1_000_000, "v1"));
    }
    l
}

#[test]
fn a_change_owes_each_subscriber_without_it_once_and_coalesces() {
    let (a, b, other) = (
        key("T", "https://a/1"),
        key("T", "https://b/1"),
        key("U", "https://a/2"),
    );
    let mut l = ledger_with(&[(&a, "a"), (&b, "b"), (&other, "a")]);
    // The same bytes as they have: nothing owed.
    assert!(l.changed("T", "v1", 10).is_empty());
    let writes = l.changed("T", "v2", 10);
    assert_eq!(writes.len(), 2);
    assert_eq!(l.queue_depth(), (2, 0));
    // Two more versions before anything was sent: still one debt each, newest seq.
    l.changed("T", "v3", 20);
    l.changed("T", "v4", 30);
    assert_eq!(l.queue_depth(), (2, 0));
    let due = l.due(30, |_| false, 10);
    assert_eq!(due.len(), 2);
    assert!(due.iter().all(|(k, o)| k.topic == "T" && o.since == 10));
    assert!(l.owed(&other).is_none());
}

#[test]
fn a_success_for_an_older_version_leaves_the_newest_due() {
    let a = key("T", "https://a/1");
    let mut l = ledger_with(&[(&a, "a")]);
    l.changed("T", "v2", 10);
    let (_, sent) = l.due(10, |_| false, 1)[0].clone();
    l.changed("T", "v3", 15); // arrives while v2 is in flight
    l.outcome(&a, sent.seq, Outcome::Delivered("v2".into()), 20);
    assert_eq!(l.get(&a).unwrap().delivered.as_deref(), Some("v2"));
    let again = l.due(20, |_| false, 1);
    assert_eq!(again.len(), 1, "v3 is still owed");
    l.outcome(&a, again[0].1.seq, Outcome::Delivered("v3".into()), 25);
    assert_eq!(l.queue_depth(), (0, 0));
    assert_eq!(l.get(&a).unwrap().last_delivery, Some(25));
}

#[test]
fn failures_back_off_doubling_to_the_cap_and_a_success_resets() {
    let a = key("T", "https://a/1");
    let mut l = ledger_with(&[(&a, "a")]);
    l.changed("T", "v2", 0);
    let mut now = 0;
    let mut waits = Vec::new();
    for _ in 0..10 {
        let seq = l.owed(&a).unwrap().seq;
        l.outcome(&a, seq, Outcome::Failed("503".into()), now);
        let due = l.owed(&a).unwrap().due;
        waits.push(due - now);
        assert!(
            l.due(due - 1, |_| false, 1).is_empty(),
            "not before it is due"
        );
        now = due;
    }
    let nominal = [
        1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000, 60_000, 60_000,
    ];
    for (wait, nominal) in waits.iter().zip(nominal) {
        assert!(
            *wait >= nominal * 3 / 4 && *wait <= nominal * 5 / 4,
            "{wait} vs {nominal}"
        );
    }
    assert_eq!(l.get(&a).unwrap().failures, 10);
    let seq = l.owed(&a).unwrap().seq;
    l.outcome(&a, seq, Outcome::Delivered("v2".into()), now);
    assert_eq!(l.get(&a).unwrap().failures, 0);
    assert_eq!(l.queue_depth(), (0, 0));
}

#[test]
fn gone_unsubscribes_and_a_lease_end_drops_subscription_and_debt() {
    let (a, b) = (key("T", "https://a/1"), key("T", "https://b/1"));
    let mut l = Ledger::new(BACKOFF);
    l.subscribe(a.clone(), sub("a", 100, "v1"));
    l.subscribe(b.clone(), sub("b", 1_000, "v1"));
    l.changed("T", "v2", 10);
    assert_eq!(
        l.outcome(&a, 1, Outcome::Gone, 20),
        vec![Write::Unsubscribe(a.clone())]
    );
    assert!(l.get(&a).is_none());
    assert_eq!(
        l.next_wake(|_| true, |_| false, true, |_| false),
        Some(10),
        "b's delivery"
    );
    assert_eq!(
        l.next_wake(|_| true, |k| *k == b, true, |_| false),
        Some(1_000),
        "b's lease end"
    );
    // No free slot: a debt already due must not wake the hub (it would spin).
    assert_eq!(
        l.next_wake(|_| false, |_| false, true, |_| false),
        Some(1_000)
    );
    assert!(l.expire(999).is_empty());
    assert_eq!(l.expire(1_000), vec![Write::Unsubscribe(b.clone())]);
    assert_eq!(l.queue_depth(), (0, 0));
    // An outcome arriving for a subscription that is gone changes nothing.
    assert!(l
        .outcome(&b, 2, Outcome::Delivered("v2".into()), 1_001)
        .is_empty());
}

#[test]
fn limits_count_new_subscriptions_only() {
    let (a1, a2, b1) = (
        key("T", "https://a/1"),
        key("T", "https://a/2"),
        key("T", "https://b/1"),
    );
    let mut l = ledger_with(&[(&a1, "a")]);
    assert_eq!(l.admit(&a2, "a", 10, 1), Err(Refusal::HostFull));
    assert_eq!(l.admit(&a1, "a", 1, 1), Ok(()), "a re-subscription");
    assert_eq!(l.admit(&b1, "b", 1, 5), Err(Refusal::Full));
    assert_eq!(l.admit(&b1, "b", 2, 5), Ok(()));
    // A re-subscription replaces: the host still counts once.
    l.subscribe(a1.clone(), sub("a", 5, "v9"));
    assert_eq!(l.admit(&a2, "a", 10, 2), Ok(()));
    l.unsubscribe(&a1);
    assert_eq!(l.admit(&a2, "a", 10, 1), Ok(()));
}

#[test]
fn announcements_coalesce_retry_and_give_up() {
    let hubs = vec!["https://hub/".to_string()];
    let mut l = Ledger::new(BACKOFF);
    l.announce(&hubs, "T", 0);
    l.announce(&hubs, "T", 5);
    assert_eq!(l.queue_depth(), (0, 1));
    let (k, debt) = l.pings_due(5, |_| false, 8)[0].clone();
    let mut now = 5;
    for _ in 0..MAX_PING_ATTEMPTS - 1 {
        l.pinged(&k, debt.seq, false, now);
        now = l.pings_due(u64::MAX, |_| false, 1)[0].1.due;
    }
    assert_eq!(
        l.pinged(&k, debt.seq, false, now),
        vec![Write::Pinged(k.clone())]
    );
    assert_eq!(l.queue_depth(), (0, 0));
}

#[test]
fn a_loaded_ledger_continues_sequence_and_drops_orphan_debts() {
    let (a, orphan) = (key("T", "https://a/1"), key("T", "https://gone/1"));
    let debt = Owed {
        seq: 41,
        attempts: 2,
        due: 7,
        since: 3,
    };
    let ping = |hub: &str| PingKey {
        hub: hub.into(),
        topic: "T".into(),
    };
    let (mut l, cleanup) = Ledger::load(
        BACKOFF,
        vec![(a.clone(), sub("a", 100, "v1"))],
        vec![(a.clone(), debt), (orphan.clone(), debt)],
        vec![
            (ping("https://kept/"), debt),
            (ping("https://dropped/"), debt),
        ],
        &["https://kept/".to_string()],
    );
    assert_eq!(l.queue_depth(), (1, 1));
    assert_eq!(
        cleanup,
        vec![Write::Paid(orphan), Write::Pinged(ping("https://dropped/"))],
        "debts to nobody are deleted from the database too"
    );
    l.changed("T", "v2", 8);
    let owed = l.owed(&a).unwrap();
    assert_eq!((owed.seq, owed.attempts, owed.due), (42, 2, 7));
}

#[test]
fn a_change_undone_while_the_new_version_is_in_flight_is_delivered_too() {
    let a = key("T", "https://a/1");
    let mut l = ledger_with(&[(&a, "a")]);
    l.changed("T", "v2", 10);
    let (_, sent) = l.due(10, |_| false, 1)[0].clone();
    // Back to v1 (the edit undone) while v2 is on its way: v1 is owed again.
    l.changed("T", "v1", 12);
    l.outcome(&a, sent.seq, Outcome::Delivered("v2".into()), 15);
    assert_eq!(l.due(15, |_| false, 1).len(), 1, "v1 must follow v2");
}

#[test]
fn the_schedule_gives_due_debts_in_order_and_only_those() {
    let mut l = Ledger::new(BACKOFF);
    let keys: Vec<Key> = (0..5)
        .map(|i| key("T", &format!("https://h{i}/")))
        .collect();
    for k in &keys {
        l.subscribe(k.clone(), sub("h", 1_000_000, "v1"));
    }
    l.changed("T", "v2", 100);
    // Two fail at different times and move back in the schedule.
    l.outcome(
        &keys[0],
        l.owed(&keys[0]).unwrap().seq,
        Outcome::Failed("x".into()),
        100,
    );
    l.outcome(
        &keys[1],
        l.owed(&keys[1]).unwrap().seq,
        Outcome::Failed("x".into()),
        200,
    );
    let due: Vec<Key> = l
        .due(100, |_| false, 10)
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    assert_eq!(due, keys[2..].to_vec());
    assert_eq!(l.due(100, |_| false, 2).len(), 2);
    let first_retry = l
        .owed(&keys[0])
        .unwrap()
        .due
        .min(l.owed(&keys[1]).unwrap().due);
    assert_eq!(
        l.next_wake(|_| true, |k| keys[2..].contains(k), true, |_| false),
        Some(first_retry)
    );
    let later = l.due(u64::MAX - 1, |_| false, 10);
    assert_eq!(later.len(), 5);
    assert!(later.windows(2).all(|w| w[0].1.due <= w[1].1.due));
}

#[test]
fn debts_are_kept_per_host_in_a_ring_and_follow_their_subscription() {
    let (a1, a2, b, c) = (
        key("T", "a/1"),
        key("T", "a/2"),
        key("T", "b/1"),
        key("T", "c/1"),
    );
    let mut l = ledger_with(&[(&a1, "a"), (&a2, "a"), (&b, "b"), (&c, "c")]);
    l.changed("T", "v2", 10);
    let ring = |l: &Ledger, cursor: &str| {
        (l.owing_hosts_after(cursor))
            .map(String::from)
            .collect::<Vec<_>>()
    };
    assert_eq!(ring(&l, ""), ["a", "b", "c"]);
    assert_eq!(ring(&l, "a"), ["b", "c", "a"]);
    assert_eq!(ring(&l, "bb"), ["c", "a", "b"]);
    let at_a = l.due_at_host("a", 10, |k| *k == a1, 5);
    assert_eq!(at_a.iter().map(|(k, _)| k).collect::<Vec<_>>(), [&a2]);
    assert!(
        l.due_at_host("a", 9, |_| false, 5).is_empty(),
        "not yet due"
    );
    // A failure moves the debt later within its host; b and c stay due.
    l.outcome(&b, 3, Outcome::Failed("timeout".into()), 20);
    assert!(l.due_at_host("b", 20, |_| false, 5).is_empty());
    assert_eq!(
        l.next_wake(|h| h == "b", |_| false, true, |_| false),
        l.owed(&b).map(|o| o.due)
    );
    assert_eq!(
        l.next_wake(|h| h != "b", |_| false, true, |_| false),
        Some(10)
    );
    // Paid and unsubscribed debts leave their host's turn.
    l.outcome(&c, 4, Outcome::Delivered("v2".into()), 30);
    l.unsubscribe(&a1);
    l.unsubscribe(&a2);
    assert_eq!(ring(&l, ""), ["b"]);
}
