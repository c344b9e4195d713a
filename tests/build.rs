//! `feedd build` end to end: the real binary on a fixture site, every feed parsed back with
//! feed-rs (an independent parser) and checked field by field.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{parse_feed, tree, Site};

const FORMATS: [&str; 3] = ["feed.xml", "rss.xml", "feed.json"];

fn site() -> Site {
    Site::fixture("site", "")
}

#[test]
fn seed_article_is_in_its_category_tag_and_site_feeds_in_every_format() {
    let site = site();
    site.build();
    for dir in ["feeds", "feeds/categories/xihai", "feeds/tags/西海新闻"] {
        for file in FORMATS {
            let feed = parse_feed(&site.read(&format!("{dir}/{file}")));
            let entry = feed
                .entries
                .iter()
                .find(|e| e.id == "https://fixture.example/xihai/2022/03/15/NW000001")
                .unwrap_or_else(|| panic!("{dir}/{file}: seed entry missing"));
            let title = entry.title.as_ref().map(|t| t.content.as_str());
            assert_eq!(
                title,
                Some("银行普及金融知识 守护群众钱袋子"),
                "{dir}/{file}"
            );
            assert_eq!(
                entry.links.first().map(|l| l.href.as_str()),
                Some("https://fixture.example/xihai/2022/03/15/NW000001.html"),
                "{dir}/{file}"
            );
            let published = entry.published.map(|d| d.to_rfc3339());
            assert_eq!(
                published.as_deref(),
                Some("2022-03-15T04:52:16+00:00"),
                "{dir}/{file}"
            );
            let content = common::entry_content(entry);
            assert!(
                content.contains("<p>某银行分行开展金融知识宣传活动"),
                "{dir}/{file}: {content}"
            );
            // Relative and protocol-relative links were made absolute.
            assert!(
                content.contains(r#"href="https://fixture.example/category/xihai.html""#),
                "{content}"
            );
            assert!(
                content.contains(r#"href="https://fixture.example/""#),
                "{content}"
            );
            let terms: Vec<&str> = entry.categories.iter().map(|c| c.term.as_str()).collect();
            assert_eq!(terms, ["xihai", "西海新闻"], "{dir}/{file}");
        }
    }
    // The post's own offset is kept in the text of each format.
    assert!(site
        .text("feeds/feed.xml")
        .contains("<published>2022-03-15T12:52:16+08:00</published>"));
    assert!(site
        .text("feeds/rss.xml")
        .contains("<pubDate>Tue, 15 Mar 2022 12:52:16 +0800</pubDate>"));
    assert!(site
        .text("feeds/feed.json")
        .contains("\"date_published\":\"2022-03-15T12:52:16+08:00\""));
}

#[test]
fn feed_heads_carry_site_values() {
    let site = site();
    site.build();
    let atom = parse_feed(&site.read("feeds/categories/xihai/feed.xml"));
    assert_eq!(
        atom.title.map(|t| t.content).as_deref(),
        Some("Fixture News | xihai")
    );
    assert_eq!(atom.id, "https://fixture.example/categories/xihai/feed.xml");
    assert_eq!(atom.language.as_deref(), Some("zh-CN"));
    assert_eq!(
        atom.authors.first().and_then(|a| a.name.as_deref()),
        Some("Fixture Desk")
    );
    assert_eq!(
        atom.updated.map(|d| d.to_rfc3339()).as_deref(),
        Some("2022-03-15T04:52:16+00:00")
    );
    let rss = site.text("feeds/tags/西海新闻/rss.xml");
    assert!(rss.contains(r#"<atom:link href="https://fixture.example/tags/%E8%A5%BF%E6%B5%B7%E6%96%B0%E9%97%BB/rss.xml" rel="self""#), "{rss}");
    assert!(rss.contains(
        r#"<guid isPermaLink="false">https://fixture.example/xihai/2022/03/15/NW000001</guid>"#
    ));
    assert!(rss.contains("<lastBuildDate>Tue, 15 Mar 2022 12:52:16 +0800</lastBuildDate>"));
    let json: serde_json::Value =
        serde_json::from_slice(&site.read("feeds/feed.json")).expect("json");
    assert_eq!(json["version"], "https://jsonfeed.org/version/1.1");
    assert_eq!(json["feed_url"], "https://fixture.example/feed.json");
}

#[test]
fn entries_are_newest_first_and_hidden_posts_are_left_out() {
    let site = site();
    let summary = site.build();
    let feed = parse_feed(&site.read("feeds/feed.xml"));
    let dates: Vec<_> = feed.entries.iter().map(|e| e.published).collect();
    let mut sorted = dates.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(dates, sorted);
    let ids: Vec<&str> = feed.entries.iter().map(|e| e.id.as_str()).collect();
    assert!(
        !ids.iter()
            .any(|i| i.contains("hidden") || i.contains("future")),
        "{ids:?}"
    );
    assert!(!site.path("feeds/tags/hidden-tag").exists());
    assert!(!site.path("feeds/tags/future-tag").exists());
    // Offset-less timestamp is UTC, shown in the site zone; blank line → filename date.
    assert!(site
        .text("feeds/feed.xml")
        .contains("<published>2021-12-08T18:46:18+08:00</published>"));
    assert!(site
        .text("feeds/feed.xml")
        .contains("<published>2021-12-08T00:00:00+08:00</published>"));
    assert!(summary.contains("8 live"), "{summary}");
}

#[test]
fn bad_posts_are_skipped_with_path_and_line_and_the_rest_builds() {
    let site = site();
    let summary = site.build();
    assert!(
        summary.contains("_posts/2023-01-01-bad-yaml.md:3: front matter YAML"),
        "{summary}"
    );
    assert!(
        summary.contains("_posts/2023-01-02-bad-date.md:3: invalid date"),
        "{summary}"
    );
    assert!(summary.contains("2 skipped"), "{summary}");
    let check = site.feedd(&["check"]);
    assert_eq!(check.status.code(), Some(1));
    let out = String::from_utf8_lossy(&check.stdout);
    assert!(
        out.contains(
            "_posts/2021-12-08-000002.md:4: warning: `date: 2021-12-08 10:46:18` has no offset"
        ),
        "{out}"
    );
    assert!(
        out.contains("_posts/2021-12-08-000003.md:2: warning: front matter ignored"),
        "{out}"
    );
}

#[test]
fn hostile_titles_and_bodies_still_give_valid_feeds() {
    let site = site();
    site.build();
    for file in FORMATS {
        let feed = parse_feed(&site.read(&format!("feeds/categories/edge/{file}")));
        let entry = &feed.entries[0];
        let title = entry
            .title
            .as_ref()
            .map(|t| t.content.clone())
            .unwrap_or_default();
        assert_eq!(title, "Tags & ]]> done", "{file}");
        let content = common::entry_content(entry);
        assert!(
            content.contains("]]>") && !content.contains('\u{8}'),
            "{file}: {content:?}"
        );
    }
    let xml = site.text("feeds/categories/edge/feed.xml");
    assert!(!xml.contains('\u{1}') && !xml.contains('\u{8}'));
}

#[test]
fn every_category_and_tag_gets_three_feeds_under_safe_names() {
    let site = site();
    site.build();
    let files = tree(&site.path("feeds"));
    let dirs = [
        "categories/xihai",
        "categories/emnews",
        "categories/edge",
        "categories/desk",
        "categories/markets",
        "tags/西海新闻",
        "tags/滚动新闻",
        "tags/alpha",
        "tags/．.\u{3000}",
        "tags/／etc／passwd",
        "tags/ｃon",
        "tags/量化／策略",
        "tags/%2e%2e",
    ];
    // The empty tag has no feed: no folder could spell it.
    assert!(
        !files.keys().any(|k| k.starts_with("tags/～")),
        "{:?}",
        files.keys()
    );
    for dir in dirs {
        for file in FORMATS {
            assert!(
                files.contains_key(&format!("{dir}/{file}")),
                "missing {dir}/{file}: {:?}",
                files.keys()
            );
        }
    }
    // Alpha and alpha share one feed holding both posts.
    let alpha = parse_feed(&site.read("feeds/tags/alpha/feed.xml"));
    assert_eq!(alpha.entries.len(), 2);
    let opml = site.text("feeds/feeds.opml");
    for dir in dirs {
        let feed = parse_feed(&site.read(&format!("feeds/{dir}/feed.xml")));
        let self_link = feed
            .links
            .iter()
            .find(|l| l.rel.as_deref() == Some("self"))
            .map(|l| l.href.clone());
        let self_link = self_link.unwrap_or_default();
        assert!(self_link.is_ascii(), "{self_link}");
        assert!(
            opml.contains(&format!("xmlUrl=\"{}\"", self_link.replace('&', "&amp;"))),
            "{dir} not in OPML"
        );
    }
}

#[test]
fn rebuilds_are_byte_identical_and_leave_unchanged_files_alone() {
    let site = site();
    site.build();
    let first = tree(&site.path("feeds"));
    let mtime = std::fs::metadata(site.path("feeds/feed.xml"))
        .and_then(|m| m.modified())
        .expect("mtime");
    std::thread::sleep(std::time::Duration::from_millis(30));
    let summary = site.build();
    assert!(summary.contains("0 written"), "{summary}");
    assert_eq!(tree(&site.path("feeds")), first);
    let again = std::fs::metadata(site.path("feeds/feed.xml"))
        .and_then(|m| m.modified())
        .expect("mtime");
    assert_eq!(mtime, again);
}

#[test]
fn vanished_tags_lose_their_feeds() {
    let site = site();
    site.build();
    assert!(site.path("feeds/tags/滚动新闻/feed.xml").exists());
    std::fs::remove_file(site.path("content/_posts/2021-12-08-000002.md")).expect("rm");
    let summary = site.build();
    assert!(!site.path("feeds/tags/滚动新闻").exists(), "{summary}");
    // 3 formats and the page, of the tag and of the category only this post was in.
    assert!(summary.contains("8 removed"), "{summary}");
}

#[test]
fn description_is_the_summary_and_images_are_absolute() {
    let site = site();
    site.build();
    let feed = parse_feed(&site.read("feeds/feed.json"));
    let entry = feed
        .entries
        .iter()
        .find(|e| e.id.ends_with("/relative-links"))
        .expect("entry");
    assert_eq!(
        entry.summary.as_ref().map(|s| s.content.as_str()),
        Some("A description wins over the excerpt.")
    );
    let title = entry.title.as_ref().map(|t| t.content.as_str());
    assert_eq!(title, Some("Relative links – and “quotes”"));
    let json = site.text("feeds/feed.json");
    assert!(
        json.contains("\"image\":\"https://fixture.example/img/cover.png\""),
        "{json}"
    );
    assert!(
        json.contains(r#"src=\"https://fixture.example/2023/02/03/chart.png\""#),
        "{json}"
    );
    // Excerpt = first paragraph.
    let desk = parse_feed(&site.read("feeds/categories/desk/feed.xml"));
    assert_eq!(
        desk.entries[0].summary.as_ref().map(|s| s.content.as_str()),
        Some("Excerpt paragraph.")
    );
}

#[test]
fn bad_config_fails_with_the_key_named() {
    let site = Site::fixture("site", "limit = \"ten\"\n");
    let out = site.feedd(&["build"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("limit"));
    let site = Site::fixture("site", "output_dir = \"/proc/feedd-cannot-write\"\n");
    let out = site.feedd(&["build"]);
    assert!(!out.status.success());
}

#[test]
fn an_unchanged_rebuild_is_proved_by_the_manifest_and_any_change_rebuilds() {
    let site = site();
    site.build();
    let first = tree(&site.path("feeds"));
    let summary = site.build();
    assert!(
        summary.contains("manifest") && summary.contains("0 entries rendered"),
        "{summary}"
    );
    assert!(
        summary.contains("skipped"),
        "the skipped posts are reported again: {summary}"
    );
    assert_eq!(tree(&site.path("feeds")), first);
    // A post edited: a full build, and the next one is proved unchanged again.
    let post = site.path("content/_posts/2021-12-08-000002.md");
    let text = std::fs::read_to_string(&post).expect("post");
    std::fs::write(&post, text.replace("title:", "title: Edited")).expect("edit");
    let summary = site.build();
    assert!(!summary.contains("manifest"), "{summary}");
    assert!(site.text("feeds/feed.xml").contains("Edited"));
    assert!(site.build().contains("manifest"));
    // A published file changed or removed behind feedd's back is put right.
    std::fs::write(site.path("feeds/rss.xml"), "tampered").expect("tamper");
    std::fs::remove_file(site.path("feeds/tags/alpha/feed.json")).expect("rm");
    let summary = site.build();
    assert!(!summary.contains("manifest"), "{summary}");
    assert!(site.text("feeds/rss.xml").starts_with("<?xml"));
    assert!(site.path("feeds/tags/alpha/feed.json").exists());
    // Another configuration is another output.
    std::fs::write(site.config(), "limit = 1\n").expect("config");
    assert!(!site.build().contains("manifest"));
}
