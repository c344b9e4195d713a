//! The pages for people, end to end through the real binary and HTTP: folder URLs, a
//! browser navigating to a feed URL, readers unaffected, baseurl, language, escaping,
//! 404 and redirects, validators.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{header, Daemon, Site};
use reqwest::blocking::{Client, Response};

fn client() -> Client {
    common::identity_client()
}

fn get(d: &Daemon, path: &str, headers: &[(&str, &str)]) -> Response {
    common::get_with_headers(&client(), &d.url(path), headers)
}

/// What Chromium sends when a person clicks a link to the URL.
const NAVIGATION: [(&str, &str); 3] = [
    ("sec-fetch-dest", "document"),
    ("sec-fetch-mode", "navigate"),
    (
        "accept",
        "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    ),
];

#[test]
fn a_browser_gets_the_page_and_a_reader_the_feed_at_the_same_url() {
    let site = Site::fixture("site", "");
    let d = Daemon::start(&site);
    let path = "/tags/西海新闻/feed.xml";
    let browser = get(&d, path, &NAVIGATION);
    assert_eq!(browser.status(), 200);
    assert_eq!(header(&browser, "content-type"), "text/html; charset=utf-8");
    assert_eq!(header(&browser, "vary"), "Accept-Encoding, Sec-Fetch-Dest");
    assert!(header(&browser, "content-security-policy").contains("default-src 'none'"));
    assert_eq!(header(&browser, "x-content-type-options"), "nosniff");
    assert_eq!(header(&browser, "cache-control"), "private, no-cache");
    let page_etag = header(&browser, "etag");
    let html = browser.text().expect("html");
    assert!(html.contains("<html lang=\"zh-CN\">"), "{html}");
    assert!(html.contains("订阅"), "Chinese interface for a zh-CN site");
    assert!(
        html.contains("https://fixture.example/tags/%E8%A5%BF%E6%B5%B7%E6%96%B0%E9%97%BB/rss.xml")
    );
    // Autodiscovery offers this feed only, once per format.
    assert_eq!(html.matches("rel=\"alternate\"").count(), 3, "{html}");
    // A reader (curl, newsboat, feedparser: no Sec-Fetch-Dest) gets the feed.
    for ua in [
        "curl/8.5.0",
        "Newsboat/2.30",
        "feedparser/6.0.11 +https://github.com/kurtmckee/feedparser/",
    ] {
        let feed = get(
            &d,
            path,
            &[("user-agent", ua), ("accept", "application/atom+xml, */*")],
        );
        assert_eq!(feed.status(), 200);
        assert!(
            header(&feed, "content-type").starts_with("application/atom+xml"),
            "{ua}"
        );
        assert_eq!(header(&feed, "vary"), "Accept-Encoding, Sec-Fetch-Dest");
        assert_ne!(
            header(&feed, "etag"),
            page_etag,
            "the two bodies have distinct ETags"
        );
        common::parse_feed(&feed.bytes().expect("bytes"));
    }
    // Fetches that are not navigations (a script, an <iframe>, a prefetch) get the feed.
    let fetched = get(&d, path, &[("sec-fetch-dest", "empty")]);
    assert!(header(&fetched, "content-type").starts_with("application/atom+xml"));
    // The page revalidates like a feed.
    let again = get(&d, path, &[NAVIGATION[0], ("if-none-match", &page_etag)]);
    assert_eq!(again.status(), 304);
    assert_eq!(header(&again, "vary"), "Accept-Encoding, Sec-Fetch-Dest");
    let feed_etag = header(&get(&d, path, &[]), "etag");
    assert_eq!(
        get(&d, path, &[("if-none-match", &feed_etag)]).status(),
        304
    );
}

#[test]
fn folders_index_lists_404_and_redirects() {
    let site = Site::fixture("site", "");
    let d = Daemon::start(&site);
    let folder = get(&d, "/categories/emnews/", &[]);
    assert_eq!(folder.status(), 200);
    assert_eq!(header(&folder, "vary"), "Accept-Encoding");
    let html = folder.text().expect("html");
    assert!(
        html.contains("离岸人民币兑美元小幅走高"),
        "newest entries listed"
    );
    assert!(
        html.contains("href=\"/tags/%E6%BB%9A%E5%8A%A8%E6%96%B0%E9%97%BB/\""),
        "terms link to their pages"
    );
    let moved = get(&d, "/categories/emnews", &[]);
    assert_eq!(moved.status(), 301);
    assert_eq!(header(&moved, "location"), "/categories/emnews/");
    let index = get(&d, "/", &[]).text().expect("index");
    assert!(
        index.contains("href=\"/categories/\""),
        "index links the full lists"
    );
    assert_eq!(
        index.matches("rel=\"alternate\"").count(),
        3,
        "the site feed only"
    );
    let list = get(&d, "/tags/", &[]).text().expect("list");
    assert!(list.contains("id=\"feeds\"") && list.contains("西海新闻"));
    // 404: HTML with a way back for browsers, a line of text for everyone else.
    let lost = get(&d, "/categories/nope/", &NAVIGATION);
    assert_eq!(lost.status(), 404);
    assert_eq!(header(&lost, "content-type"), "text/html; charset=utf-8");
    assert!(lost.text().expect("html").contains("href=\"/\""));
    let lost = get(&d, "/categories/nope/feed.xml", &[]);
    assert_eq!(
        (lost.status().as_u16(), lost.text().expect("text")),
        (404, "not found\n".to_string())
    );
}

#[test]
fn baseurl_language_titles_and_escaping() {
    let site = Site::fixture(
        "site",
        "[site]\nbaseurl = \"/blog\"\n[pages]\nlang = \"en\"\n[categories]\ntitles = { emnews = \"East <Money> News\" }\n",
    );
    let post = site.path("content/_posts/2024-03-01-hostile.md");
    std::fs::write(
        &post,
        "---\ntitle: \"<script>alert(1)</script> & friends\"\ndate: 2024-03-01 10:00:00 +0800\ncategories: emnews\ntags: \"<b>bold</b>\"\n---\n<p>Body <img src=x onerror=alert(2)></p>\n",
    )
    .expect("post");
    let d = Daemon::start(&site);
    let html = get(&d, "/blog/categories/emnews/", &[])
        .text()
        .expect("html");
    assert!(html.contains("<h1>East &lt;Money&gt; News</h1>"), "{html}");
    // Titles lose their tags (as in the feeds); what is left is escaped.
    assert!(html.contains(">&amp; friends</a>"), "{html}");
    assert!(
        html.contains("#&lt;b&gt;bold&lt;/b&gt;"),
        "a tag name as text: {html}"
    );
    assert!(
        !html.contains("<script>alert") && !html.contains("onerror=alert"),
        "{html}"
    );
    assert!(
        html.contains("Subscribe"),
        "English interface as configured"
    );
    assert!(html.contains("href=\"/blog/feedd.css\"") && html.contains("href=\"/blog/\""));
    for href in html
        .split("href=\"")
        .skip(1)
        .map(|s| &s[..s.find('"').unwrap_or(0)])
    {
        assert!(
            href.starts_with("/blog/") || href.starts_with("https://"),
            "a link outside /blog/: {href}"
        );
    }
    let moved = get(&d, "/blog/categories/emnews", &[]);
    assert_eq!(header(&moved, "location"), "/blog/categories/emnews/");
    // The feed carries the title too, and links to the page.
    let feed = common::parse_feed(
        &get(&d, "/blog/categories/emnews/feed.xml", &[])
            .bytes()
            .expect("feed"),
    );
    assert_eq!(
        feed.title.map(|t| t.content).as_deref(),
        Some("Fixture News | East <Money> News")
    );
    let links: Vec<String> = feed.links.iter().map(|l| l.href.clone()).collect();
    assert!(
        links.contains(&"https://fixture.example/blog/categories/emnews/".to_string()),
        "{links:?}"
    );
}

#[test]
fn a_sites_own_category_page_names_the_feed_and_is_its_link() {
    let site = Site::fixture("site", "");
    std::fs::create_dir_all(site.path("content/category")).expect("dir");
    std::fs::write(
        site.path("content/category/emnews.html"),
        "---\nlayout: category\ntitle: 东方财富滚动\ncategory: emnews\n---\n",
    )
    .expect("page");
    site.build();
    let feed = common::parse_feed(&site.read("feeds/categories/emnews/feed.xml"));
    assert_eq!(
        feed.title.map(|t| t.content).as_deref(),
        Some("Fixture News | 东方财富滚动")
    );
    assert!(feed
        .links
        .iter()
        .any(|l| l.href == "https://fixture.example/category/emnews.html"));
    let page = site.text("feeds/categories/emnews/index.html");
    assert!(page.contains("<h1>东方财富滚动</h1>"));
    assert!(page.contains("href=\"https://fixture.example/category/emnews.html\""));
    let opml = site.text("feeds/feeds.opml");
    assert!(
        opml.contains("htmlUrl=\"https://fixture.example/category/emnews.html\""),
        "{opml}"
    );
}

#[test]
fn with_pages_off_the_users_own_pages_are_left_alone() {
    let site = Site::fixture("site", "[pages]\nenabled = false\n");
    std::fs::create_dir_all(site.path("feeds")).expect("dir");
    for own in ["index.html", "404.html", "feedd.css"] {
        std::fs::write(site.path(&format!("feeds/{own}")), "mine").expect("write");
    }
    site.build();
    for own in ["index.html", "404.html", "feedd.css"] {
        assert_eq!(site.text(&format!("feeds/{own}")), "mine", "{own}");
    }
    assert!(!site.path("feeds/categories/emnews/index.html").exists());
}
