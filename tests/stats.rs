//! Subscriber counts end to end: the real binary polled with aggregators' User-Agents,
//! direct readers, a crawler, a browser and a WebSub subscriber; `feedd stats --json`
//! gives exact figures; an access log of the same polls gives the same (WebSub aside);
//! and neither the database nor the log holds an address or a User-Agent.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::hub::{subscribe, wait_subscribed, HUB, SITE_ATOM};
use common::receiver::Receiver;
use common::{get_with_headers, Daemon, Site};

/// A request header.
type Header = (&'static str, &'static str);

/// (path, User-Agent, extra header) of every poll.
const POLLS: [(&str, &str, Option<Header>); 10] = [
    (
        "/feed.xml",
        "Feedly/1.0 (+http://www.feedly.com/fetcher.html; 462 subscribers; )",
        None,
    ),
    (
        "/feed.xml",
        "Feedly/1.0 (+http://www.feedly.com/fetcher.html; 470 subscribers; )",
        None,
    ),
    (
        "/rss.xml",
        "Mozilla/5.0 (compatible; inoreader.com; 114 subscribers)",
        None,
    ),
    ("/feed.xml", "newsboat/2.30.1 (Linux x86_64)", None),
    ("/feed.xml", "newsboat/2.30.1 (Linux x86_64)", None),
    (
        "/feed.json",
        "NetNewsWire (RSS Reader; https://netnewswire.com/)",
        None,
    ),
    (
        "/tags/alpha/rss.xml",
        "newsboat/2.30.1 (Linux x86_64)",
        None,
    ),
    (
        "/feed.xml",
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        None,
    ),
    (
        "/feed.xml",
        "NewsBlur Page Fetcher - 3 subscribers - https://newsblur.com/site/1/x",
        None,
    ),
    (
        "/feed.xml",
        "Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0 Safari/537.36",
        Some(("Sec-Fetch-Dest", "document")),
    ),
];

fn stats_json(site: &Site, extra: &[&str]) -> serde_json::Value {
    let mut args = vec!["stats", "--json"];
    args.extend_from_slice(extra);
    let out = site.feedd(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn today_of<'a>(report: &'a serde_json::Value, feed: &str) -> &'a serde_json::Value {
    let feeds = report["feeds"].as_array().unwrap();
    let found = feeds.iter().find(|f| f["feed"] == feed);
    &found.unwrap_or_else(|| panic!("no {feed:?} in {report}"))["today"]
}

#[test]
fn polls_become_exact_figures_per_feed_and_source() {
    let site = Site::fixture("site", HUB);
    let receiver = Receiver::start();
    let mut d = Daemon::start(&site);
    let (status, body) = subscribe(&d, SITE_ATOM, &receiver.url("/sub"), &[]);
    assert_eq!(status, 202, "{body}");
    wait_subscribed(&site, 1);
    let client = common::identity_client();
    for (path, agent, extra) in POLLS {
        let mut headers = vec![("User-Agent", agent)];
        headers.extend(extra);
        let r = get_with_headers(&client, &d.url(path), &headers);
        assert!(r.status().is_success(), "{path} {agent}");
    }
    // A 304 is a poll too: the same reader again changes nothing, a new one counts.
    let r = get_with_headers(
        &client,
        &d.url("/feed.json"),
        &[("User-Agent", "Miniflux/2.0")],
    );
    let etag = common::header(&r, "etag");
    let r = get_with_headers(
        &client,
        &d.url("/feed.json"),
        &[("User-Agent", "Miniflux/2.0"), ("If-None-Match", &etag)],
    );
    assert_eq!(r.status(), 304);
    let metrics = client
        .get(d.url("/metrics"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    for line in [
        "feedd_readers{feed=\"/\",source=\"aggregator:Feedly\"} 470",
        "feedd_readers{feed=\"/\",source=\"direct\"} 3",
        "feedd_readers{feed=\"tags/alpha\",source=\"direct\"} 1",
    ] {
        assert!(metrics.contains(line), "{line} not in {metrics}");
    }
    // SIGTERM saves the day (else within a minute).
    assert!(d.terminate().success());
    let report = stats_json(&site, &[]);
    let site_today = today_of(&report, "");
    assert_eq!(site_today["sources"]["aggregator:Feedly"], 470, "{report}");
    assert_eq!(site_today["sources"]["aggregator:Inoreader"], 114);
    // newsboat on feed.xml, NetNewsWire and Miniflux on feed.json.
    assert_eq!(site_today["sources"]["direct"], 3);
    assert_eq!(site_today["sources"]["websub"], 1);
    assert_eq!(site_today["total"], 470 + 114 + 3 + 1);
    assert_eq!(today_of(&report, "tags/alpha")["total"], 1);

    // The same polls as nginx logs them: the same figures, WebSub aside.
    let now = chrono::Utc::now().format("%d/%b/%Y:%H:%M:%S +0000");
    let mut log = String::new();
    for (path, agent, extra) in POLLS {
        if extra.is_none() {
            log.push_str(&format!(
                "127.0.0.1 - - [{now}] \"GET {path} HTTP/1.1\" 200 512 \"-\" \"{agent}\"\n"
            ));
        }
    }
    log.push_str(&format!(
        "127.0.0.1 - - [{now}] \"GET /feed.json HTTP/1.1\" 304 0 \"-\" \"Miniflux/2.0\"\n"
    ));
    log.push_str(&format!(
        "127.0.0.1 - - [{now}] \"GET /feed.xml HTTP/1.1\" 200 512 \"-\" \"Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0 Safari/537.36\"\n"
    ));
    let log_path = site.path("access.log");
    std::fs::write(&log_path, log).unwrap();
    let from_log = stats_json(&site, &["--access-log", log_path.to_str().unwrap()]);
    let log_today = today_of(&from_log, "");
    assert_eq!(log_today["total"], 470 + 114 + 3, "{from_log}");
    assert_eq!(today_of(&from_log, "tags/alpha")["total"], 1);

    // No address or User-Agent is kept: not in the database, not in the log.
    let mut stored = Vec::new();
    for entry in std::fs::read_dir(site.path("")).unwrap() {
        let path = entry.unwrap().path();
        if path.to_string_lossy().contains("stats.sqlite3") {
            stored.extend(std::fs::read(&path).unwrap());
        }
    }
    assert!(!stored.is_empty());
    let stored = String::from_utf8_lossy(&stored);
    for secret in [
        "127.0.0.1",
        "newsboat",
        "NetNewsWire",
        "Miniflux",
        "feedly.com",
    ] {
        assert!(!stored.contains(secret), "{secret} in the database");
        assert!(
            !d.log().contains(secret) || secret == "127.0.0.1",
            "{secret} logged"
        );
    }

    // The readers page: off by default, then public after a restart.
    let mut d = Daemon::start(&site);
    assert_eq!(client.get(d.url("/stats/")).send().unwrap().status(), 404);
    assert!(d.terminate().success());
    let config = std::fs::read_to_string(site.config()).unwrap();
    std::fs::write(site.config(), format!("{config}\n[stats]\npublic = true\n")).unwrap();
    // Yesterday's figure for one tag, as a closed day leaves it: its page shows it.
    let tz: chrono_tz::Tz = "Asia/Shanghai".parse().unwrap();
    let yesterday = chrono::Utc::now().with_timezone(&tz).date_naive() - chrono::Duration::days(1);
    let db = rusqlite::Connection::open(site.path("stats.sqlite3")).unwrap();
    db.execute(
        "INSERT INTO daily (day, file, source, readers) VALUES (?1, 'tags/alpha/feed.xml', 'direct', 1042)",
        [yesterday.to_string()],
    )
    .unwrap();
    drop(db);
    let mut d = Daemon::start(&site);
    let browser = [("Sec-Fetch-Dest", "document")];
    let tag_page = common::eventually("the tag page shows its readers", || {
        let r = get_with_headers(&client, &d.url("/tags/alpha/"), &browser);
        let page = r.text().unwrap();
        page.contains("约 1,042 位订阅者").then_some(page)
    });
    assert!(tag_page.contains("<svg"), "{tag_page}");
    let r = client.get(d.url("/stats/")).send().unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        common::header(&r, "content-type"),
        "text/html; charset=utf-8"
    );
    let page = r.text().unwrap();
    for text in ["tags/alpha", "<svg", "订阅者", "588"] {
        assert!(page.contains(text), "{text} not in {page}");
    }
    assert!(d.terminate().success());
}

/// A `kill -9` loses at most the counting since the last save: after a restart the day
/// goes on from what was saved, and the same readers are not counted twice.
#[test]
fn a_killed_server_keeps_the_saved_counting_and_counts_nobody_twice() {
    let site = Site::fixture("site", "[stats]\nsave_seconds = 1\n");
    let client = common::identity_client();
    let poll = |d: &Daemon, agent: &str| {
        let r = get_with_headers(&client, &d.url("/feed.xml"), &[("User-Agent", agent)]);
        assert!(r.status().is_success());
    };
    let mut d = Daemon::start(&site);
    poll(&d, "newsboat/2.30.1");
    poll(&d, "Mozilla/5.0 (compatible; inoreader.com; 9 subscribers)");
    let direct = |site: &Site| {
        let report = stats_json(site, &[]);
        let feeds = report["feeds"].as_array()?.clone();
        let site_feed = feeds.into_iter().find(|f| f["feed"] == "")?;
        site_feed["today"]["sources"]["direct"].as_u64()
    };
    common::eventually("saved within a second or two", || {
        (direct(&site) == Some(1)).then_some(())
    });
    d.child.kill().unwrap(); // SIGKILL: no last save
    let _ = d.child.wait();
    let mut d = Daemon::start(&site);
    poll(&d, "newsboat/2.30.1"); // the same reader: not again
    poll(&d, "NetNewsWire (RSS Reader)"); // a new one
    assert!(d.terminate().success());
    let report = stats_json(&site, &[]);
    let today = today_of(&report, "");
    assert_eq!(today["sources"]["direct"], 2, "{report}");
    assert_eq!(today["sources"]["aggregator:Inoreader"], 9);
}
