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

/// `feedd build` leaves what `feedd serve` leaves: the files, their precompressed copies
/// and a manifest, so a serve after a build answers at once, with the build's bytes.
#[test]
fn a_serve_after_a_build_serves_the_build_at_once() {
    let site = Site::fixture("site", "");
    site.build();
    let copies = common::variants(&site.path("feeds"));
    let files = common::tree(&site.path("feeds"));
    assert_eq!(
        copies.len(),
        3 * files.len(),
        "a copy of each file in each encoding"
    );
    for (rel, bytes) in &files {
        let mut plain = Vec::new();
        let gz = &copies[&format!("{rel}.gz")];
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&gz[..]), &mut plain)
            .expect("gunzip");
        assert!(plain == *bytes, "{rel}.gz");
        assert!(zstd::decode_all(&copies[&format!("{rel}.zst")][..]).expect("zstd") == *bytes);
    }
    let d = Daemon::start(&site);
    let (status, etag, _, body) = validators(&d, "/categories/emnews/feed.xml");
    assert_eq!(status, 200);
    assert!(!etag.is_empty());
    assert_eq!(body.as_bytes(), &files["categories/emnews/feed.xml"][..]);
    assert!(d.log().contains(RESTORED), "log: {}", d.log());
    eventually("the first build behind it", || {
        d.log().contains("initial build published").then_some(())
    });
    assert!(
        d.log().contains("written=0"),
        "nothing to write: {}",
        d.log()
    );
    let again = validators(&d, "/categories/emnews/feed.xml");
    assert_eq!(again.1, etag, "the same ETag after the build behind");
}

/// Copies a run never made (stopped in the middle, deleted, or left older than their
/// file) are made at the next start, and a copy that cannot be written is tried again
/// until it can; the gauge counts them until done.
#[test]
fn owed_precompressed_copies_are_made_at_start_and_retried_until_written() {
    let site = Site::fixture("site", "");
    site.build();
    let feeds = site.path("feeds");
    std::fs::remove_file(feeds.join("feed.json.br")).expect("rm");
    std::fs::remove_file(feeds.join("tags/西海新闻/rss.xml.gz")).expect("rm");
    // Older than its file: made for an earlier version.
    let old = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    let zst = std::fs::File::options()
        .write(true)
        .open(feeds.join("categories/emnews/feed.xml.zst"))
        .expect("open");
    zst.set_modified(old).expect("mtime");
    std::fs::write(feeds.join("categories/emnews/feed.xml.zst"), b"stale").ok();
    zst.set_modified(old).expect("mtime");
    // Cannot be written: a folder with something in it where the copy goes.
    std::fs::remove_file(feeds.join("rss.xml.gz")).expect("rm");
    std::fs::create_dir_all(feeds.join("rss.xml.gz")).expect("mkdir");
    std::fs::write(feeds.join("rss.xml.gz/blocker"), "not feedd's").expect("blocker");
    let d = Daemon::start(&site);
    assert!(d.log().contains(RESTORED), "log: {}", d.log());
    let files = common::tree(&feeds);
    eventually("the missing and stale copies", || {
        let copies = common::variants(&feeds);
        let ok = ["feed.json.br", "tags/西海新闻/rss.xml.gz"]
            .iter()
            .all(|c| copies.contains_key(*c))
            && copies
                .get("categories/emnews/feed.xml.zst")
                .is_some_and(|z| {
                    zstd::decode_all(&z[..]).ok().as_deref()
                        == Some(&files["categories/emnews/feed.xml"][..])
                });
        ok.then_some(())
    });
    let pending = |d: &Daemon| {
        let metrics = common::identity_client()
            .get(d.url("/metrics"))
            .send()
            .and_then(|r| r.text())
            .unwrap_or_default();
        metrics
            .lines()
            .find_map(|l| l.strip_prefix("feedd_disk_pending_copies "))
            .and_then(|v| v.trim().parse::<u64>().ok())
    };
    std::thread::sleep(std::time::Duration::from_secs(1));
    assert_eq!(pending(&d), Some(1), "the blocked copy is still owed");
    std::fs::remove_dir_all(feeds.join("rss.xml.gz")).expect("unblock");
    eventually("the blocked copy, once it can be written", || {
        (pending(&d) == Some(0) && feeds.join("rss.xml.gz").is_file()).then_some(())
    });
    let mut plain = Vec::new();
    let gz = std::fs::read(feeds.join("rss.xml.gz")).expect("gz");
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&gz[..]), &mut plain)
        .expect("gunzip");
    assert!(plain == files["rss.xml"]);
}

/// A change published just before SIGTERM is on disk and in the manifest when feedd
/// exits, so the next start serves it at once instead of building first.
#[test]
fn a_change_published_just_before_sigterm_is_served_at_once_after_restart() {
    let site = Site::fixture("site", "");
    let mut d = Daemon::start(&site);
    eventually("manifest written", || {
        site.path("feeds/.feedd-manifest").exists().then_some(())
    });
    let post = site.path("content/_posts/2021-12-08-000002.md");
    let text = std::fs::read_to_string(&post).expect("post");
    write_atomically(&post, &text.replace("小幅走高", "停机前的标题"));
    eventually("the edit served", || {
        let now = validators(&d, "/categories/emnews/feed.xml");
        now.3.contains("停机前的标题").then_some(())
    });
    assert!(d.terminate().success());
    let d = Daemon::start(&site);
    assert!(d.log().contains(RESTORED), "log: {}", d.log());
    let now = validators(&d, "/categories/emnews/feed.xml");
    assert!(
        now.3.contains("停机前的标题"),
        "served at once after the restart"
    );
}
