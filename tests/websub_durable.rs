//! The hub over time and under failure: restarts and `kill -9` keep subscriptions and
//! owed deliveries, leases end, failing callbacks are retried with backoff until their
//! lease ends, 410 unsubscribes, private callbacks are refused without the allow flag
//! (by literal and by a name that resolves to loopback), a damaged database is moved
//! aside, and publisher mode announces changes to an external hub.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use common::hub::*;
use common::receiver::{Answer, Receiver};
use common::{eventually, Daemon, Site};

fn site(extra: &str) -> Site {
    Site::fixture("site", &format!("{HUB}{extra}"))
}

#[test]
fn restart_and_kill_9_lose_no_subscription_and_no_owed_delivery() {
    let site = site("");
    let r = Receiver::start();
    r.answer("/failing", Answer::Deliveries(500));
    let mut d = Daemon::start(&site);
    assert_eq!(subscribe(&d, SITE_ATOM, &r.url("/ok"), &[]).0, 202);
    assert_eq!(subscribe(&d, SITE_RSS, &r.url("/failing"), &[]).0, 202);
    wait_subscribed(&site, 2);
    edit(&site, "重启之前");
    wait_delivery(&r, "/ok", "重启之前");
    eventually("a failed attempt", || {
        (!deliveries(&r, "/failing").is_empty()).then_some(())
    });
    d.child.kill().unwrap(); // SIGKILL: no shutdown of any kind
    d.child.wait().unwrap();

    // Changed while feedd is down; the failing callback recovers meanwhile.
    edit(&site, "停机期间");
    r.answer("/failing", Answer::Ok);
    let d = Daemon::start(&site);
    wait_delivery(&r, "/ok", "停机期间");
    let owed = wait_delivery(&r, "/failing", "停机期间");
    assert!(String::from_utf8_lossy(&owed.body).contains("<rss"));
    wait_subscribed(&site, 2);
    eventually("nothing owed", || {
        list(&site).contains("0 deliveries owed").then_some(())
    });
    drop(d);
}

#[test]
fn a_lease_ends_and_its_subscription_gets_nothing_more() {
    let site = site("");
    let d = Daemon::start(&site);
    let r = Receiver::start();
    assert_eq!(
        subscribe(
            &d,
            SITE_ATOM,
            &r.url("/short"),
            &[("hub.lease_seconds", "1")]
        )
        .0,
        202
    );
    assert_eq!(subscribe(&d, SITE_ATOM, &r.url("/long"), &[]).0, 202);
    eventually("short lease granted", || {
        r.to("GET", "/short")
            .first()
            .and_then(|g| g.query("hub.lease_seconds"))
            .filter(|l| l == "1")
    });
    wait_subscribed(&site, 1);
    edit(&site, "租约之后");
    wait_delivery(&r, "/long", "租约之后");
    std::thread::sleep(Duration::from_millis(300));
    assert!(deliveries(&r, "/short").is_empty());
    let metrics = reqwest::blocking::get(d.url("/metrics"))
        .unwrap()
        .text()
        .unwrap();
    assert!(
        metrics.contains("feedd_websub_expired_total 1"),
        "{metrics}"
    );
}

#[test]
fn a_failing_callback_is_retried_with_backoff_until_its_lease_ends() {
    let site = site("");
    let d = Daemon::start(&site);
    let r = Receiver::start();
    r.answer("/down", Answer::Deliveries(503));
    assert_eq!(
        subscribe(
            &d,
            SITE_ATOM,
            &r.url("/down"),
            &[("hub.lease_seconds", "3")]
        )
        .0,
        202
    );
    wait_subscribed(&site, 1);
    let subscribed = Instant::now();
    edit(&site, "重试");
    eventually("three attempts", || {
        (deliveries(&r, "/down").len() >= 3).then_some(())
    });
    let listed = list(&site);
    assert!(
        listed.contains("last error: the callback answered 503"),
        "{listed}"
    );
    // 200 ms doubling (±25%): the third gap is longer than the first.
    let at: Vec<Instant> = deliveries(&r, "/down").iter().map(|g| g.at).collect();
    let (first, third) = (
        at[1] - at[0],
        at[3.min(at.len() - 1)] - at[2.min(at.len() - 2)],
    );
    assert!(first >= Duration::from_millis(140), "{first:?}");
    assert!(third > first || at.len() < 4, "{first:?} then {third:?}");
    // The lease (3 s) ends: the subscription goes, and so do the attempts.
    eventually("dropped at lease end", || {
        list(&site).contains("\n0 subscriptions,").then_some(())
    });
    assert!(subscribed.elapsed() >= Duration::from_millis(2900));
    let tried = deliveries(&r, "/down").len();
    std::thread::sleep(Duration::from_millis(1200));
    assert_eq!(
        deliveries(&r, "/down").len(),
        tried,
        "no attempt after the lease"
    );
}

#[test]
fn gone_410_unsubscribes() {
    let site = site("");
    let d = Daemon::start(&site);
    let r = Receiver::start();
    r.answer("/gone", Answer::Deliveries(410));
    assert_eq!(subscribe(&d, SITE_ATOM, &r.url("/gone"), &[]).0, 202);
    assert_eq!(subscribe(&d, SITE_ATOM, &r.url("/stays"), &[]).0, 202);
    wait_subscribed(&site, 2);
    edit(&site, "四一零");
    wait_delivery(&r, "/stays", "四一零");
    eventually("unsubscribed by 410", || {
        list(&site).contains("\n1 subscriptions,").then_some(())
    });
    edit(&site, "四一零之后");
    wait_delivery(&r, "/stays", "四一零之后");
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(deliveries(&r, "/gone").len(), 1);
}

#[test]
fn private_callbacks_are_refused_without_the_flag_by_address_and_by_name() {
    let site = Site::fixture("site", "");
    let d = Daemon::start(&site);
    let r = Receiver::start();
    let (status, text) = subscribe(&d, SITE_ATOM, &r.url("/literal"), &[]);
    assert_eq!(status, 400);
    assert!(
        text.contains("private or special address (127.0.0.1)"),
        "{text}"
    );
    let (status, text) = subscribe(&d, SITE_ATOM, "http://[::1]:9/x", &[]);
    assert_eq!((status, text.contains("::1")), (400, true), "{text}");
    // A name is checked once resolved (here `localhost`, as a rebinding name would be).
    let by_name = format!("http://localhost:{}/name", r.port);
    assert_eq!(subscribe(&d, SITE_ATOM, &by_name, &[]).0, 202);
    eventually("refused after resolving", || {
        d.log().contains("private or special address").then_some(())
    });
    assert!(r.received().is_empty(), "nothing reached the callback");
    assert!(list(&site).contains("\n0 subscriptions,"));
}

#[test]
fn a_damaged_database_is_reported_moved_aside_and_the_server_runs() {
    let site = site("");
    let mut d = Daemon::start(&site);
    let r = Receiver::start();
    assert_eq!(subscribe(&d, SITE_ATOM, &r.url("/a"), &[]).0, 202);
    wait_subscribed(&site, 1);
    assert!(d.terminate().success());
    let db = site.path("websub.sqlite3");
    let mut bytes = std::fs::read(&db).unwrap();
    bytes[..16].copy_from_slice(b"garbage garbage!");
    std::fs::write(&db, bytes).unwrap();

    let d = Daemon::start(&site);
    let feed = common::identity_client()
        .get(d.url("/feed.xml"))
        .send()
        .unwrap();
    assert_eq!(feed.status().as_u16(), 200);
    eventually("damage reported", || {
        d.log().contains("damaged").then_some(())
    });
    let aside = std::fs::read_dir(site.path(""))
        .unwrap()
        .flatten()
        .any(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("websub.sqlite3.damaged-")
        });
    assert!(aside, "the damaged file is kept aside");
    assert!(list(&site).contains("\n0 subscriptions,"));
    // The new database works.
    assert_eq!(subscribe(&d, SITE_ATOM, &r.url("/b"), &[]).0, 202);
    wait_subscribed(&site, 1);
}

#[test]
fn publisher_mode_announces_changed_topics_to_external_hubs() {
    let r = Receiver::start();
    let site = Site::fixture(
        "site",
        &format!("[websub]\nhub = false\nhubs = [\"{}\"]\n", r.url("/hub")),
    );
    let d = Daemon::start(&site);
    let atom = common::identity_client()
        .get(d.url("/feed.xml"))
        .send()
        .unwrap();
    let link = common::header(&atom, "link");
    assert_eq!(
        link,
        format!(
            "<{}>; rel=\"hub\", <{SITE_ATOM}>; rel=\"self\"",
            r.url("/hub")
        )
    );
    assert!(atom.text().unwrap().contains(&r.url("/hub")));
    let hub = reqwest::blocking::get(d.url("/websub")).unwrap();
    assert_eq!(hub.status().as_u16(), 404, "no built-in hub");
    assert!(
        r.received().is_empty(),
        "nothing announced for an unchanged start"
    );
    edit(&site, "发布者模式");
    eventually("the site feeds announced", || {
        let topics: Vec<String> = r
            .to("POST", "/hub")
            .iter()
            .filter_map(|p| {
                let form: Vec<(String, String)> =
                    url::form_urlencoded::parse(&p.body).into_owned().collect();
                let get = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
                assert_eq!(get("hub.mode").as_deref(), Some("publish"));
                assert_eq!(
                    get("hub.url"),
                    get("hub.topic"),
                    "both names carry the topic"
                );
                get("hub.url")
            })
            .collect();
        [SITE_ATOM, SITE_RSS, EMNEWS_JSON]
            .iter()
            .all(|t| topics.iter().any(|x| x == t))
            .then_some(())
    });
    assert!(!r
        .to("POST", "/hub")
        .iter()
        .any(|p| String::from_utf8_lossy(&p.body).contains("feeds.opml")));
}

#[test]
fn subscriptions_follow_their_feeds_when_the_site_url_changes() {
    let site = site("");
    let d = Daemon::start(&site);
    let r = Receiver::start();
    assert_eq!(subscribe(&d, SITE_ATOM, &r.url("/moved"), &[]).0, 202);
    wait_subscribed(&site, 1);
    std::fs::write(
        site.config(),
        format!("{HUB}[site]\nurl = \"https://new.example\"\n"),
    )
    .unwrap();
    let _ = std::process::Command::new("kill")
        .args(["-HUP", &d.child.id().to_string()])
        .status();
    eventually("reloaded", || d.log().contains("reload done").then_some(()));
    edit(&site, "新网址");
    let got = wait_delivery(&r, "/moved", "新网址");
    assert!(
        got.header("link")
            .contains("<https://new.example/feed.xml>; rel=\"self\""),
        "{}",
        got.header("link")
    );
    assert!(list(&site).contains("https://new.example/feed.xml"));
}
