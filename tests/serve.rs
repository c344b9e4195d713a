//! `feedd serve` end to end: the real binary on a temp content dir, a real HTTP client on
//! an ephemeral 127.0.0.1 port, feeds parsed with feed-rs.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{Read, Write};

use common::{eventually, fresh_build, header, parse_feed, write_atomically, Daemon, Site};
use reqwest::blocking::{Client, Response};
use reqwest::StatusCode;

fn client() -> Client {
    common::identity_client()
}

fn get(d: &Daemon, path: &str) -> Response {
    client().get(d.url(path)).send().expect("GET")
}

fn get_with(d: &Daemon, path: &str, headers: &[(&str, &str)]) -> Response {
    common::get_with_headers(&client(), &d.url(path), headers)
}

fn titles(d: &Daemon, path: &str) -> Option<Vec<String>> {
    let r = get(d, path);
    if r.status() != StatusCode::OK {
        return None;
    }
    let feed = parse_feed(&r.bytes().ok()?);
    Some(common::titles_of(&feed))
}

fn post(title: &str, date: &str, categories: &str, tags: &str) -> String {
    format!("---\ntitle: \"{title}\"\ndate: {date}\ncategories: {categories}\ntags: {tags}\n---\n<p>{title} body.</p>\n")
}

/// The files a fresh `feedd build` of the site's content writes (to another folder).
fn rebuilds(d: &Daemon) -> u64 {
    let text = get(d, "/metrics").text().unwrap_or_default();
    text.lines()
        .find_map(|l| l.strip_prefix("feedd_rebuild_duration_seconds_count "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

#[test]
fn new_post_appears_in_its_category_tag_and_site_feeds() {
    let site = Site::fixture("site", "");
    let d = Daemon::start(&site);
    write_atomically(
        &site.path("content/_posts/2024-06-01-fresh.md"),
        &post(
            "Fresh news",
            "2024-06-01 09:00:00 +0800",
            "newcat",
            "新标签",
        ),
    );
    for path in [
        "/feed.xml",
        "/categories/newcat/rss.xml",
        "/tags/新标签/feed.json",
        "/tags/%E6%96%B0%E6%A0%87%E7%AD%BE/feed.xml",
    ] {
        eventually(path, || {
            titles(&d, path).filter(|t| t.first().map(String::as_str) == Some("Fresh news"))
        });
    }
}

#[test]
fn edit_changes_etag_and_last_modified_and_delete_and_rename_follow() {
    let site = Site::fixture("site", "");
    let d = Daemon::start(&site);
    let path = site.path("content/_posts/2023-05-05-case-a.md");
    let before = get(&d, "/tags/alpha/feed.xml");
    let (etag, lm) = (header(&before, "etag"), header(&before, "last-modified"));
    write_atomically(
        &path,
        &post("Case A edited", "2023-05-05 09:00:00 +0800", "x", "Alpha"),
    );
    let after = eventually("edited title", || {
        let r = get(&d, "/tags/alpha/feed.xml");
        (header(&r, "etag") != etag).then_some(r)
    });
    let lm_after = header(&after, "last-modified");
    let t = |s: &str| httpdate::parse_http_date(s).expect("http date");
    assert!(t(&lm_after) > t(&lm), "{lm} -> {lm_after}");
    let body = after.text().expect("body");
    assert!(body.contains("Case A edited"));
    // Rename: the post moves to its new URL; the old id is gone.
    std::fs::rename(
        &path,
        site.path("content/_posts/2023-05-07-case-renamed.md"),
    )
    .expect("rename");
    eventually("renamed", || {
        let text = get(&d, "/tags/alpha/feed.json").text().ok()?;
        (text.contains("/2023/05/05/case-renamed\"") && !text.contains("/case-a\"")).then_some(())
    });
    // Delete both alpha posts: the tag feed goes away.
    std::fs::remove_file(site.path("content/_posts/2023-05-07-case-renamed.md")).expect("rm");
    std::fs::remove_file(site.path("content/_posts/2023-05-06-case-b.md")).expect("rm");
    eventually("tag feed removed", || {
        (get(&d, "/tags/alpha/feed.xml").status() == StatusCode::NOT_FOUND).then_some(())
    });
    eventually("tag folder removed from disk", || {
        (!site.path("feeds/tags/alpha").exists()).then_some(())
    });
}

#[test]
fn a_broken_edit_keeps_the_old_version_serving() {
    let site = Site::fixture("site", "");
    let d = Daemon::start(&site);
    let path = site.path("content/_posts/2023-05-05-case-a.md");
    let count = rebuilds(&d);
    write_atomically(&path, "---\ntitle: [unclosed\n---\nbroken\n");
    eventually("error logged", || {
        d.log().contains("2023-05-05-case-a.md:2").then_some(())
    });
    assert!(rebuilds(&d) > count);
    assert!(titles(&d, "/tags/alpha/feed.xml")
        .expect("feed")
        .contains(&"Case A".to_string()));
    write_atomically(
        &path,
        &post("Case A fixed", "2023-05-05 09:00:00 +0800", "x", "Alpha"),
    );
    eventually("fixed", || {
        titles(&d, "/tags/alpha/feed.xml").filter(|t| t.contains(&"Case A fixed".to_string()))
    });
}

#[test]
fn a_burst_of_500_posts_is_a_few_rebuilds_and_all_are_served() {
    let site = Site::fixture("site", "limit = 1000\n");
    let d = Daemon::start(&site);
    let before = rebuilds(&d);
    let dir = site.path("content/burst/_posts");
    std::fs::create_dir_all(&dir).expect("mkdir");
    for i in 0..500 {
        let text = post(
            &format!("Burst {i}"),
            &format!("2024-02-01 10:{:02}:{:02} +0800", i / 60, i % 60),
            "burst",
            "burst-tag",
        );
        std::fs::write(dir.join(format!("2024-02-01-burst-{i:03}.md")), text).expect("write");
    }
    let n = eventually("500 served", || {
        let n = titles(&d, "/tags/burst-tag/feed.xml")?.len();
        (n == 500).then_some(n)
    });
    assert_eq!(n, 500);
    let used = rebuilds(&d) - before;
    assert!(used < 100, "{used} rebuilds for 500 files");
    let site_feed = parse_feed(
        &get(&d, "/categories/burst/feed.xml")
            .bytes()
            .expect("bytes"),
    );
    assert_eq!(site_feed.entries.len(), 500);
}

#[test]
fn conditional_gets_answer_304_exactly_when_they_should() {
    let site = Site::fixture("site", "");
    let d = Daemon::start(&site);
    let r = get(&d, "/categories/xihai/feed.xml");
    let (etag, lm) = (header(&r, "etag"), header(&r, "last-modified"));
    let gz = get_with(
        &d,
        "/categories/xihai/feed.xml",
        &[("accept-encoding", "gzip")],
    );
    let gz_etag = header(&gz, "etag");
    let status = |h: &[(&str, &str)]| get_with(&d, "/categories/xihai/feed.xml", h).status();
    let list = format!("\"nope\", {etag}");
    let weak = format!("W/{etag}");
    assert_eq!(
        status(&[("if-none-match", &etag)]),
        StatusCode::NOT_MODIFIED
    );
    assert_eq!(
        status(&[("if-none-match", &list)]),
        StatusCode::NOT_MODIFIED
    );
    assert_eq!(
        status(&[("if-none-match", &weak)]),
        StatusCode::NOT_MODIFIED
    );
    assert_eq!(
        status(&[("if-none-match", &gz_etag)]),
        StatusCode::NOT_MODIFIED
    );
    assert_eq!(status(&[("if-none-match", "*")]), StatusCode::NOT_MODIFIED);
    assert_eq!(status(&[("if-none-match", "\"nope\"")]), StatusCode::OK);
    assert_eq!(
        status(&[("if-none-match", "\"nope\""), ("if-modified-since", &lm)]),
        StatusCode::OK
    );
    assert_eq!(
        status(&[("if-modified-since", &lm)]),
        StatusCode::NOT_MODIFIED
    );
    assert_eq!(
        status(&[("if-modified-since", "Thu, 01 Jan 1970 00:00:00 GMT")]),
        StatusCode::OK
    );
    assert_eq!(status(&[("if-modified-since", "garbage")]), StatusCode::OK);
    let r304 = get_with(
        &d,
        "/categories/xihai/feed.xml?_=123",
        &[("if-none-match", &etag)],
    );
    assert_eq!(r304.status(), StatusCode::NOT_MODIFIED);
    for h in ["etag", "last-modified", "cache-control", "vary", "date"] {
        assert!(!header(&r304, h).is_empty(), "304 lacks {h}");
    }
    assert!(r304.bytes().expect("body").is_empty());
}

#[test]
fn head_404_405_paths_and_encodings() {
    let site = Site::fixture("site", "");
    let d = Daemon::start(&site);
    let plain = get(&d, "/tags/西海新闻/rss.xml");
    assert_eq!(plain.status(), StatusCode::OK);
    assert_eq!(
        header(&plain, "content-type"),
        "application/rss+xml; charset=utf-8"
    );
    let identity = plain.bytes().expect("bytes").to_vec();
    let head = client()
        .head(d.url("/tags/西海新闻/rss.xml"))
        .send()
        .expect("HEAD");
    assert_eq!(header(&head, "content-length"), identity.len().to_string());
    assert_eq!(
        header(&head, "etag"),
        header(&get(&d, "/tags/西海新闻/rss.xml"), "etag")
    );
    assert_eq!(get(&d, "/nope.xml").status(), StatusCode::NOT_FOUND);
    assert_eq!(get(&d, "/../../etc/passwd").status(), StatusCode::NOT_FOUND);
    let post = client().post(d.url("/feed.xml")).send().expect("POST");
    assert_eq!(post.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(header(&post, "allow"), "GET, HEAD");
    for (coding, decode) in [
        (
            "gzip",
            (|b: &[u8]| {
                let mut out = Vec::new();
                flate2::read::GzDecoder::new(b)
                    .read_to_end(&mut out)
                    .expect("gunzip");
                out
            }) as fn(&[u8]) -> Vec<u8>,
        ),
        ("br", |b: &[u8]| {
            let mut out = Vec::new();
            brotli::BrotliDecompress(&mut &b[..], &mut out).expect("unbrotli");
            out
        }),
        ("zstd", |b: &[u8]| zstd::decode_all(b).expect("unzstd")),
    ] {
        // Answered in identity at once until the precompressed copy is on disk.
        let r = eventually("the precompressed copy", || {
            let r = get_with(&d, "/tags/西海新闻/rss.xml", &[("accept-encoding", coding)]);
            (header(&r, "content-encoding") == coding).then_some(r)
        });
        assert_eq!(header(&r, "vary"), "Accept-Encoding, Sec-Fetch-Dest");
        assert_eq!(decode(&r.bytes().expect("bytes")), identity, "{coding}");
    }
    // A raw UTF-8 request line (no percent-encoding), over plain TCP.
    let addr = d.base.trim_start_matches("http://").to_string();
    let mut tcp = std::net::TcpStream::connect(&addr).expect("connect");
    tcp.write_all(
        "GET /tags/西海新闻/feed.xml HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".as_bytes(),
    )
    .expect("send");
    let mut answer = String::new();
    tcp.read_to_string(&mut answer).expect("read");
    assert!(
        answer.starts_with("HTTP/1.1 200"),
        "{}",
        &answer[..answer.len().min(200)]
    );
    // The index page lists feeds with autodiscovery links.
    let page = get(&d, "/").text().expect("page");
    assert!(page.contains("<link rel=\"alternate\" type=\"application/atom+xml\""));
    assert!(page.contains("西海新闻"));
    assert_eq!(get(&d, "/healthz").status(), StatusCode::OK);
}

#[test]
fn sigterm_exits_cleanly() {
    let site = Site::fixture("site", "");
    let mut d = Daemon::start(&site);
    assert_eq!(get(&d, "/feed.xml").status(), StatusCode::OK);
    let status = d.terminate();
    assert!(status.success(), "{status:?}");
}

#[test]
fn a_failing_output_dir_keeps_memory_serving_and_recovers() {
    let site = Site::fixture("site", "");
    let d = Daemon::start(&site);
    // Make every write under feeds/tags fail (a file where a folder must be).
    std::fs::rename(site.path("feeds/tags"), site.path("feeds-tags-away")).expect("move");
    std::fs::write(site.path("feeds/tags"), "not a folder").expect("block");
    write_atomically(
        &site.path("content/_posts/2024-06-02-disk.md"),
        &post(
            "Disk trouble",
            "2024-06-02 09:00:00 +0800",
            "diskcat",
            "disktag",
        ),
    );
    eventually("served from memory", || {
        titles(&d, "/tags/disktag/feed.xml")
            .filter(|t| t.first().map(String::as_str) == Some("Disk trouble"))
    });
    eventually("error logged", || {
        d.log().contains("cannot write").then_some(())
    });
    // Space returns: the pending files are written by the retry.
    std::fs::remove_file(site.path("feeds/tags")).expect("unblock");
    eventually("written after recovery", || {
        site.path("feeds/tags/disktag/feed.xml")
            .exists()
            .then_some(())
    });
}

/// The measured bug of the old two pipelines: temp-named posts and live edits made the
/// served files differ from a fresh build. Now both run one engine with one rule.
#[test]
fn live_changes_with_temp_names_serve_exactly_what_a_fresh_build_writes() {
    let site = Site::fixture("site", "");
    let d = Daemon::start(&site);
    let posts = site.path("content/_posts");
    let count = rebuilds(&d);
    std::fs::write(
        posts.join("2023-02-03-partial.md.part"),
        post("Partial", "2023-02-03 09:00:00 +0800", "parts", "halfway"),
    )
    .expect("part");
    std::fs::write(
        posts.join("2023-02-04-draft.md.tmp"),
        post("Draft", "2023-02-04 09:00:00 +0800", "parts", "halfway"),
    )
    .expect("tmp");
    write_atomically(
        &posts.join("2023-02-05-live.md"),
        &post("Live", "2023-02-05 09:00:00 +0800", "live", "Alpha"),
    );
    write_atomically(
        &posts.join("2023-05-05-case-a.md"),
        &post("Case A edited", "2023-05-05 09:00:00 +0800", "x", "Alpha"),
    );
    std::fs::rename(
        posts.join("2023-05-06-case-b.md"),
        posts.join("2023-05-06-case-b.md.bak"),
    )
    .expect("rename away");
    std::fs::remove_file(posts.join("2021-12-08-000003.md")).expect("rm");
    eventually("changes served", || {
        let t = titles(&d, "/feed.xml")?;
        (t.contains(&"Live".to_string())
            && t.contains(&"Case A edited".to_string())
            && rebuilds(&d) > count)
            .then_some(())
    });
    assert_eq!(
        get(&d, "/tags/halfway/feed.xml").status(),
        StatusCode::NOT_FOUND
    );
    // A fresh build of the same folder, elsewhere.
    let fresh = fresh_build(&site);
    assert!(fresh.len() > 20, "{}", fresh.len());
    for (rel, bytes) in &fresh {
        // A file's path as a URL: a `%` in a folder name is itself (`%2e%2e` is that
        // name, not `..`), so it is escaped as any client escapes it.
        let served = get(&d, &format!("/{}", rel.replace('%', "%25")));
        assert_eq!(served.status(), StatusCode::OK, "{rel}");
        assert!(served.bytes().expect("body") == *bytes, "{rel} differs");
    }
    eventually("the disk equals the fresh build", || {
        (common::tree(&site.path("feeds")) == fresh).then_some(())
    });
    // Beside every file, in the background: its gzip, brotli and zstd copies, which are
    // exactly the bytes feedd serves for those encodings.
    let copies = eventually("precompressed copies", || {
        let copies = common::variants(&site.path("feeds"));
        (copies.len() == 3 * fresh.len()).then_some(copies)
    });
    for (rel, bytes) in &fresh {
        let gz = &copies[&format!("{rel}.gz")];
        let mut plain = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&gz[..]), &mut plain)
            .expect("gunzip");
        assert!(plain == *bytes, "{rel}.gz");
        let url = format!("/{}", rel.replace('%', "%25"));
        let served = get_with(&d, &url, &[("Accept-Encoding", "gzip")]);
        assert_eq!(header(&served, "content-encoding"), "gzip", "{rel}");
        assert!(
            served.bytes().expect("body") == *gz,
            "{rel}: served gzip != file"
        );
        assert_eq!(
            zstd::decode_all(&copies[&format!("{rel}.zst")][..]).expect("zstd"),
            *bytes
        );
    }
}

/// A real full disk (a small tmpfs over the output dir; needs root, as CI is): the first
/// build's writes fail, memory serves, one log line says so, the gauge counts the pending
/// files, and once space returns the disk equals a fresh build with no temp files left.
#[test]
fn a_full_disk_is_survived_and_caught_up_once_space_returns() {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("skipped: mounting a tmpfs needs root");
        return;
    }
    let site = Site::fixture("site", "");
    let feeds = site.path("feeds");
    std::fs::create_dir_all(&feeds).expect("feeds dir");
    let mounted = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=4m", "tmpfs"])
        .arg(&feeds)
        .status()
        .is_ok_and(|s| s.success());
    if !mounted {
        eprintln!("skipped: cannot mount a tmpfs here");
        return;
    }
    struct Unmount(std::path::PathBuf);
    impl Drop for Unmount {
        fn drop(&mut self) {
            let _ = std::process::Command::new("umount").arg(&self.0).status();
        }
    }
    let _unmount = Unmount(feeds.clone());
    // Fill it: the filler takes every byte there is.
    let filler = feeds.join("filler");
    {
        let mut f = std::fs::File::create(&filler).expect("filler");
        let block = vec![0u8; 4096];
        while f.write_all(&block).is_ok() {}
    }
    let d = Daemon::start(&site);
    assert_eq!(
        get(&d, "/feed.xml").status(),
        StatusCode::OK,
        "memory serves"
    );
    let pending = || {
        get(&d, "/metrics")
            .text()
            .unwrap_or_default()
            .lines()
            .find_map(|l| l.strip_prefix("feedd_disk_pending_writes "))
            .and_then(|v| v.trim().parse::<u64>().ok())
            .unwrap_or(0)
    };
    eventually("pending writes counted", || (pending() > 10).then_some(()));
    std::thread::sleep(std::time::Duration::from_secs(2)); // a few retries fail meanwhile
    let errors = d.log().matches("cannot write").count();
    assert_eq!(errors, 1, "one line per burst: {}", d.log());
    std::fs::remove_file(&filler).expect("space returns");
    let started = std::time::Instant::now();
    let fresh = fresh_build(&site);
    eventually("the disk equals a fresh build", || {
        (common::tree(&feeds) == fresh).then_some(())
    });
    assert!(started.elapsed() < std::time::Duration::from_secs(15));
    // The gauge is set just after the last write.
    eventually("no writes pending", || (pending() == 0).then_some(()));
    assert!(d.log().contains("writes succeed again"), "{}", d.log());
    // The copies, too: none is lost to the full disk.
    eventually("every precompressed copy", || {
        (common::variants(&feeds).len() == 3 * fresh.len()).then_some(())
    });
    eventually("no copies owed", || {
        let gauge = get(&d, "/metrics").text().unwrap_or_default();
        gauge.contains("feedd_disk_pending_copies 0").then_some(())
    });
}
