//! The built-in WebSub hub against the real binary, with a real callback server on
//! 127.0.0.1 (`common::receiver`): the websub.rocks hub tests 100–106 as our own tests
//! (subscribe, signed, extra parameters, re-subscribe, unsubscribe, deliveries equal to
//! the topic in each format), then leases, retries, 410, address checks, restarts and
//! `kill -9`, a damaged database, and publisher mode.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use common::hub::*;
use common::receiver::{Answer, Receiver};
use common::{eventually, Daemon, Site};
use hmac::Mac;

/// Form fields of one request.
type Form<'a> = Vec<(&'a str, &'a str)>;

fn site(extra: &str) -> Site {
    Site::fixture("site", &format!("{HUB}{extra}"))
}

/// The topic as a reader gets it now: body and content type (identity encoding).
fn fetch(d: &Daemon, topic: &str) -> (String, Vec<u8>) {
    let path = topic.strip_prefix("https://fixture.example").unwrap();
    let r = common::identity_client().get(d.url(path)).send().unwrap();
    let ct = common::header(&r, "content-type");
    (ct, r.bytes().unwrap().to_vec())
}

fn hmac_hex(secret: &str, body: &[u8]) -> String {
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn feeds_advertise_the_hub_in_headers_and_in_every_format() {
    let site = site("");
    let d = Daemon::start(&site);
    for (path, self_url) in [
        ("/feed.xml", SITE_ATOM),
        ("/rss.xml", SITE_RSS),
        ("/categories/emnews/feed.json", EMNEWS_JSON),
    ] {
        let r = common::identity_client().get(d.url(path)).send().unwrap();
        let link = common::header(&r, "link");
        assert_eq!(
            link,
            format!("<https://fixture.example/websub>; rel=\"hub\", <{self_url}>; rel=\"self\""),
            "{path}"
        );
        assert_eq!(link.matches("rel=\"self\"").count(), 1);
        let body = r.text().unwrap();
        assert!(
            body.contains("https://fixture.example/websub"),
            "{path}: {body}"
        );
    }
    // An independent parser sees the hub link in Atom, and JSON Feed's `hubs`.
    let (_, atom) = fetch(&d, SITE_ATOM);
    let feed = common::parse_feed(&atom);
    assert!(feed
        .links
        .iter()
        .any(|l| l.rel.as_deref() == Some("hub") && l.href == "https://fixture.example/websub"));
    let (_, json) = fetch(&d, EMNEWS_JSON);
    let json: serde_json::Value = serde_json::from_slice(&json).unwrap();
    assert_eq!(json["hubs"][0]["type"], "WebSub");
    assert_eq!(json["hubs"][0]["url"], "https://fixture.example/websub");
}

#[test]
fn subscriptions_are_verified_and_deliveries_equal_the_topic_in_every_format() {
    let site = site("");
    let d = Daemon::start(&site);
    let r = Receiver::start();
    // websub.rocks 100 (plain), 101 (secret), 102 (extra parameters), across formats.
    let cases = [
        (SITE_ATOM, "/atom?user=7", None),
        (SITE_RSS, "/rss", Some("rss-secret")),
        (EMNEWS_JSON, "/json", None),
    ];
    for (topic, cb, secret) in cases {
        let mut extra = vec![("hub.lease_seconds", "3600"), ("foo", "bar")];
        if let Some(s) = secret {
            extra.push(("hub.secret", s));
        }
        let (status, text) = subscribe(&d, topic, &r.url(cb), &extra);
        assert_eq!(status, 202, "{text}");
    }
    wait_subscribed(&site, 3);
    for (topic, cb, _) in cases {
        let path = cb.split('?').next().unwrap();
        let get = &r.to("GET", path)[0];
        assert_eq!(get.query("hub.mode").as_deref(), Some("subscribe"));
        assert_eq!(get.query("hub.topic").as_deref(), Some(topic));
        assert_eq!(get.query("hub.lease_seconds").as_deref(), Some("3600"));
        assert_eq!(get.query("hub.challenge").map(|c| c.len()), Some(64));
        if cb.contains('?') {
            assert_eq!(
                get.query("user").as_deref(),
                Some("7"),
                "its own query kept"
            );
        }
    }
    let listed = list(&site);
    assert!(
        listed.contains(SITE_ATOM) && listed.contains("127.0.0.1"),
        "{listed}"
    );

    let started = Instant::now();
    edit(&site, "推送测试一");
    for (topic, cb, secret) in cases {
        let path = cb.split('?').next().unwrap();
        let got = wait_delivery(&r, path, "推送测试一");
        let (content_type, body) = fetch(&d, topic);
        assert_eq!(got.header("content-type"), content_type, "{topic}");
        assert_eq!(
            got.body, body,
            "{topic}: the delivery is the topic's current body"
        );
        assert_eq!(
            got.header("link"),
            format!("<https://fixture.example/websub>; rel=\"hub\", <{topic}>; rel=\"self\"")
        );
        match secret {
            Some(s) => assert_eq!(
                got.header("x-hub-signature"),
                format!("sha256={}", hmac_hex(s, &got.body))
            ),
            None => assert_eq!(got.header("x-hub-signature"), ""),
        }
    }
    assert!(started.elapsed() < Duration::from_secs(10));
    // Every version reached everyone once: one delivery per subscriber.
    for (_, cb, _) in cases {
        assert_eq!(deliveries(&r, cb.split('?').next().unwrap()).len(), 1);
    }
}

#[test]
fn a_resubscription_replaces_and_an_unsubscription_stops_deliveries() {
    let site = site("");
    let d = Daemon::start(&site);
    let r = Receiver::start();
    let (a, b) = (r.url("/a"), r.url("/b"));
    assert_eq!(
        subscribe(&d, SITE_ATOM, &a, &[("hub.secret", "one")]).0,
        202
    );
    assert_eq!(subscribe(&d, SITE_ATOM, &b, &[]).0, 202);
    wait_subscribed(&site, 2);
    // websub.rocks 103: re-subscribing before expiry replaces (here: the secret).
    assert_eq!(
        subscribe(&d, SITE_ATOM, &a, &[("hub.secret", "two")]).0,
        202
    );
    eventually("re-subscription verified", || {
        (r.to("GET", "/a").len() == 2).then_some(())
    });
    wait_subscribed(&site, 2);
    std::thread::sleep(Duration::from_millis(200));
    edit(&site, "替换订阅");
    let got = wait_delivery(&r, "/a", "替换订阅");
    assert_eq!(
        got.header("x-hub-signature"),
        format!("sha256={}", hmac_hex("two", &got.body))
    );
    // websub.rocks 105: unsubscribe, verified with hub.mode=unsubscribe.
    let (status, _) = post_form(
        &d,
        &[
            ("hub.mode", "unsubscribe"),
            ("hub.topic", SITE_ATOM),
            ("hub.callback", &a),
        ],
    );
    assert_eq!(status, 202);
    wait_subscribed(&site, 1);
    let gets = r.to("GET", "/a");
    assert_eq!(
        gets.last().unwrap().query("hub.mode").as_deref(),
        Some("unsubscribe")
    );
    assert_eq!(gets.last().unwrap().query("hub.lease_seconds"), None);
    edit(&site, "退订之后");
    wait_delivery(&r, "/b", "退订之后");
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        !deliveries(&r, "/a")
            .iter()
            .any(|g| String::from_utf8_lossy(&g.body).contains("退订之后")),
        "no delivery after unsubscribing"
    );
}

#[test]
fn bad_requests_are_refused_at_once_and_failed_verifications_subscribe_nothing() {
    let site = site("");
    let d = Daemon::start(&site);
    let r = Receiver::start();
    let long_secret = "s".repeat(200);
    let cases: Vec<(Form, u16, &str)> = vec![
        (
            vec![
                ("hub.mode", "subscribe"),
                ("hub.topic", "https://elsewhere.example/feed.xml"),
                ("hub.callback", "http://127.0.0.1:9/x"),
            ],
            400,
            "not a feed of this hub",
        ),
        (
            vec![
                ("hub.mode", "subscribe"),
                ("hub.topic", "https://fixture.example/nope.xml"),
                ("hub.callback", "http://127.0.0.1:9/x"),
            ],
            400,
            "not a feed of this hub",
        ),
        (
            vec![
                ("hub.mode", "subscribe"),
                ("hub.topic", "https://fixture.example/index.html"),
                ("hub.callback", "http://127.0.0.1:9/x"),
            ],
            400,
            "not a feed of this hub",
        ),
        (
            vec![("hub.mode", "subscribe"), ("hub.topic", SITE_ATOM)],
            400,
            "hub.callback is missing",
        ),
        (
            vec![
                ("hub.mode", "sub"),
                ("hub.topic", SITE_ATOM),
                ("hub.callback", "http://127.0.0.1:9/x"),
            ],
            400,
            "hub.mode",
        ),
        (
            vec![
                ("hub.mode", "subscribe"),
                ("hub.topic", SITE_ATOM),
                ("hub.callback", "http://127.0.0.1:9/x"),
                ("hub.secret", &long_secret),
            ],
            400,
            "hub.secret",
        ),
    ];
    for (fields, status, says) in &cases {
        let (got, text) = post_form(&d, fields);
        assert_eq!(
            (got, text.contains(says)),
            (*status, true),
            "{fields:?}: {text}"
        );
    }
    let not_form = reqwest::blocking::Client::new()
        .post(d.url("/websub"))
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .unwrap();
    assert_eq!(not_form.status().as_u16(), 415);
    let get = reqwest::blocking::get(d.url("/websub")).unwrap();
    assert_eq!(
        (get.status().as_u16(), common::header(&get, "allow")),
        (405, "POST".into())
    );
    // A topic written the way a reader may type it (raw UTF-8, upper-case host) is ours.
    let raw = "https://FIXTURE.example/tags/西海新闻/feed.xml";
    assert_eq!(subscribe(&d, raw, &r.url("/raw"), &[]).0, 202);
    // Verification failures: wrong challenge, 404.
    r.answer("/wrong", Answer::WrongChallenge);
    r.answer("/missing", Answer::Status(404));
    assert_eq!(subscribe(&d, SITE_ATOM, &r.url("/wrong"), &[]).0, 202);
    assert_eq!(subscribe(&d, SITE_ATOM, &r.url("/missing"), &[]).0, 202);
    eventually("both verifications tried", || {
        (r.to("GET", "/wrong").len() == 1 && r.to("GET", "/missing").len() == 1).then_some(())
    });
    wait_subscribed(&site, 1);
    let listed = list(&site);
    assert!(
        listed.contains("tags/%E8%A5%BF%E6%B5%B7%E6%96%B0%E9%97%BB/feed.xml"),
        "{listed}"
    );
    assert!(!listed.contains("/wrong") && !listed.contains("/missing"));
    let metrics = reqwest::blocking::get(d.url("/metrics"))
        .unwrap()
        .text()
        .unwrap();
    assert!(
        metrics.contains("feedd_websub_verifications_total{outcome=\"failed\"} 2"),
        "{metrics}"
    );
    assert!(
        metrics.contains("feedd_websub_subscriptions 1"),
        "{metrics}"
    );
}

#[test]
fn the_hub_answers_under_a_baseurl_and_its_database_is_private() {
    let site = Site::fixture("site", &format!("{HUB}[site]\nbaseurl = \"news/\"\n"));
    let d = Daemon::start(&site);
    let r = Receiver::start();
    let feed = common::identity_client()
        .get(d.url("/news/feed.xml"))
        .send()
        .unwrap();
    let link = common::header(&feed, "link");
    assert!(
        link.starts_with("<https://fixture.example/news/websub>; rel=\"hub\""),
        "{link}"
    );
    let topic = "https://fixture.example/news/feed.xml";
    // At the advertised path, and without the base path (a proxy that strips it).
    for path in ["/news/websub", "/websub"] {
        let body: String = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs([
                ("hub.mode", "subscribe"),
                ("hub.topic", topic),
                ("hub.callback", &r.url(&format!("/cb{}", path.len()))),
            ])
            .finish();
        let answer = reqwest::blocking::Client::new()
            .post(d.url(path))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .unwrap();
        assert_eq!(answer.status().as_u16(), 202, "{path}");
    }
    wait_subscribed(&site, 2);
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(site.path("websub.sqlite3"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(
        mode & 0o777,
        0o600,
        "subscribers' secrets are feedd's alone"
    );
    // A database inside the served output dir is refused.
    std::fs::write(
        site.config(),
        format!("{HUB}database = \"feeds/websub.sqlite3\"\n"),
    )
    .unwrap();
    let out = site.feedd(&["check-config"]);
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        !out.status.success() && said.contains("websub.database"),
        "{said}"
    );
}

#[test]
fn a_custom_feed_url_is_a_topic_pushed_when_its_result_changes() {
    let site = site("");
    let d = Daemon::start(&site);
    let r = Receiver::start();
    // Subscribed as a reader might spell it: verified with that URL (as WebSub says),
    // kept and pushed as the canonical one.
    let asked = "https://fixture.example/feed.xml?utm_source=x&q=%E6%8E%A8%E9%80%81";
    let topic = "https://fixture.example/feed.xml?q=%E6%8E%A8%E9%80%81";
    let (status, text) = subscribe(&d, asked, &r.url("/custom"), &[]);
    assert_eq!(status, 202, "{text}");
    wait_subscribed(&site, 1);
    assert_eq!(
        r.to("GET", "/custom")[0].query("hub.topic").as_deref(),
        Some(asked)
    );
    assert!(list(&site).contains(topic));
    // The feed at that URL advertises the hub and itself.
    let got = common::identity_client()
        .get(d.url("/feed.xml?q=%E6%8E%A8%E9%80%81"))
        .send()
        .unwrap();
    assert_eq!(
        common::header(&got, "link"),
        format!("<https://fixture.example/websub>; rel=\"hub\", <{topic}>; rel=\"self\"")
    );
    // A post that now says 推送 enters the result: pushed, and equal to what is served.
    edit(&site, "推送测试三");
    let got = wait_delivery(&r, "/custom", "推送测试三");
    let (content_type, body) = fetch(&d, topic);
    assert_eq!(got.header("content-type"), content_type);
    assert_eq!(got.body, body, "the delivery is the custom feed as served");
    assert_eq!(
        got.header("link"),
        format!("<https://fixture.example/websub>; rel=\"hub\", <{topic}>; rel=\"self\"")
    );
    // A malformed query is no topic.
    let (status, _) = subscribe(
        &d,
        "https://fixture.example/feed.xml?cat=",
        &r.url("/bad"),
        &[],
    );
    assert_eq!(status, 400);
}
