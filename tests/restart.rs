//! Restarting `feedd serve` over the output of its last run: served at once from disk
//! with the same validators, reconciled with the content behind it; an output dir that no
//! longer matches its manifest is built before anything is served.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{eventually, fresh_build, write_atomically, Daemon, Site};

const RESTORED: &str = "serving the output dir as the last run left it";

fn validators(d: &Daemon, path: &str) -> (u16, String, String, String) {
    // Identity only: which compressed copies exist yet depends on timing.
    let client = common::identity_client();
    let r = client.get(d.url(path)).send().expect("GET");
    let h = |name: &str| {
        r.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    let (etag, lm) = (h("etag"), h("last-modified"));
    let status = r.status().as_u16();
    (status, etag, lm, r.text().expect("body"))
}

/// Starts, waits until the run has recorded its output, and stops.
fn run_once(site: &Site) -> Vec<(String, (u16, String, String, String))> {
    let mut d = Daemon::start(site);
    eventually("manifest written", || {
        site.path("feeds/.feedd-manifest").exists().then_some(())
    });
    let seen = [
        "/categories/emnews/feed.xml",
        "/tags/西海新闻/rss.xml",
        "/feed.json",
    ]
    .iter()
    .map(|p| (p.to_string(), validators(&d, p)))
    .collect();
    assert!(d.terminate().success());
    seen
}

#[test]
fn a_restart_serves_the_last_output_at_once_and_reconciles_behind_it() {
    let site = Site::fixture("site", "");
    let before = run_once(&site);
    // Changed while feedd was down: one post's title (emnews and the site feeds change,
    // the 西海新闻 tag feed does not).
    let post = site.path("content/_posts/2021-12-08-000002.md");
    let text = std::fs::read_to_string(&post).expect("post");
    std::thread::sleep(std::time::Duration::from_millis(1100));
    write_atomically(&post, &text.replace("小幅走高", "改写标题"));

    let d = Daemon::start(&site);
    let tag = validators(&d, "/tags/西海新闻/rss.xml");
    assert_eq!(
        tag, before[1].1,
        "an unchanged feed keeps its bytes, ETag and Last-Modified"
    );
    let changed = eventually("the edit served", || {
        let now = validators(&d, "/categories/emnews/feed.xml");
        now.3.contains("改写标题").then_some(now)
    });
    let old = &before[0].1;
    assert_ne!(changed.1, old.1, "a new version gets a new ETag");
    let (old_lm, new_lm) = (
        httpdate::parse_http_date(&old.2).expect("date"),
        httpdate::parse_http_date(&changed.2).expect("date"),
    );
    assert!(new_lm > old_lm, "Last-Modified moves forward");
    assert!(d.log().contains(RESTORED), "log: {}", d.log());
    // Behind the restored files the disk ends exactly as a fresh build would leave it.
    let fresh = fresh_build(&site);
    eventually("disk equals a fresh build", || {
        (common::tree(&site.path("feeds")) == fresh).then_some(())
    });
}

#[test]
fn an_output_dir_changed_behind_feedds_back_is_built_before_it_is_served() {
    let site = Site::fixture("site", "");
    let before = run_once(&site);
    let feed = site.path("feeds/categories/emnews/feed.xml");
    std::fs::write(&feed, b"tampered").expect("write");
    let d = Daemon::start(&site);
    let now = validators(&d, "/categories/emnews/feed.xml");
    assert_eq!(now.0, 200);
    assert_eq!(now.3, before[0].1 .3, "the feed, not the tampered file");
    assert_eq!(now.1, before[0].1 .1, "same bytes, same ETag");
    assert!(!d.log().contains(RESTORED), "log: {}", d.log());
    assert_ne!(std::fs::read(&feed).expect("feed"), b"tampered");
}

#[test]
fn a_manifest_of_another_configuration_is_not_used() {
    let site = Site::fixture("site", "");
    run_once(&site);
    std::fs::write(site.config(), "limit = 1\n").expect("config");
    let d = Daemon::start(&site);
    let (status, _, _, body) = validators(&d, "/feed.json");
    assert_eq!(status, 200);
    let feed: serde_json::Value = serde_json::from_str(&body).expect("json");
    assert_eq!(feed["items"].as_array().map(Vec::len), Some(1));
    assert!(!d.log().contains(RESTORED), "log: {}", d.log());
}
