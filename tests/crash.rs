//! Crash consistency: `feedd build` killed with SIGKILL at many moments of a large rebuild
//! leaves only complete feeds in `feeds/`; the next clean run converges to exactly the
//! fresh-build result and leaves no temporary files behind.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::process::{Command, Stdio};
use std::time::Duration;

use common::{parse_feed, tree, Site};

fn big_site() -> Site {
    let site = Site::fixture("site", "limit = 200\n");
    let dir = site.path("content/bulk/_posts");
    std::fs::create_dir_all(&dir).unwrap();
    for i in 0..3000 {
        let body = "<p>市场消息 market news paragraph.</p>\n".repeat(20);
        let text = format!(
            "---\ntitle: \"Bulk {i}\"\ndate: 2023-{:02}-{:02} {:02}:{:02}:00 +0800\ncategories: c{}\ntags: [t{}, t{}]\n---\n{body}",
            1 + i % 12, 1 + i % 28, i % 24, i % 60, i % 7, i % 97, i % 13
        );
        std::fs::write(dir.join(format!("2023-01-01-bulk-{i}.md")), text).unwrap();
    }
    site
}

/// Rewrites every 50th bulk post from `first`, replacing `from` with `to` in its text.
fn retitle(site: &Site, first: usize, from: &str, to: &str) {
    for i in (first..3000).step_by(50) {
        let p = site.path(&format!("content/bulk/_posts/2023-01-01-bulk-{i}.md"));
        let text = std::fs::read_to_string(&p).unwrap().replace(from, to);
        std::fs::write(&p, text).unwrap();
    }
}

#[test]
fn killed_builds_leave_complete_feeds_and_converge() {
    let site = big_site();
    let fresh = Site::fixture("site", "limit = 200\n");
    common::copy_dir(&site.path("content"), &fresh.path("content"));
    fresh.build();
    let want = tree(&fresh.path("feeds"));
    let mut kills = 0;
    for round in 0..8u64 {
        // Change some posts so each rebuild really writes.
        retitle(&site, round as usize, "Bulk", "Bulk*");
        let mut child = Command::new(env!("CARGO_BIN_EXE_feedd"))
            .args(["build", "--config"])
            .arg(site.config())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(40 + round * 37));
        if child.try_wait().unwrap().is_none() {
            kills += 1;
        }
        let _ = child.kill();
        let _ = child.wait();
        // Whatever is in feeds/ now is complete: every feed parses.
        let files = if site.path("feeds").exists() {
            tree(&site.path("feeds"))
        } else {
            Default::default()
        };
        for (rel, bytes) in files {
            // Feeds only: pages, assets, OPML and compressed copies are not feeds.
            let is_feed = ["feed.xml", "rss.xml", "feed.json"]
                .iter()
                .any(|f| rel.ends_with(&format!("/{f}")) || rel == *f);
            if rel.contains(".feedd-tmp-") || !is_feed {
                continue;
            }
            let _ = parse_feed(&bytes);
        }
        // Undo, so the final state is the fresh-build input again.
        retitle(&site, round as usize, "Bulk*", "Bulk");
    }
    assert!(
        kills > 0,
        "no build was killed mid-way; the site is too small"
    );
    site.build();
    let got = tree(&site.path("feeds"));
    assert!(
        !got.keys().any(|k| k.contains(".feedd-tmp-")),
        "temporary files left"
    );
    assert_eq!(
        got.keys().collect::<Vec<_>>(),
        want.keys().collect::<Vec<_>>()
    );
    for (rel, bytes) in &want {
        assert!(
            got.get(rel) == Some(bytes),
            "{rel} differs from a fresh build"
        );
    }
}
