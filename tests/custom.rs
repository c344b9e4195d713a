//! Custom feeds end to end: `feedd serve` on a generated site, queries on feed URLs,
//! results checked with feed-rs against what the test knows of every post (not against
//! feedd's own selection) and against the unfiltered feeds.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{eventually, header, parse_feed, titles_of, write_atomically, Daemon, Site};
use reqwest::StatusCode;

const CATS: [&str; 3] = ["emnews", "xihai", "站长"];
const TAGS: [&str; 3] = ["美股", "港股", "C++"];
const WORDS: [&str; 5] = ["美元", "港股", "Dollar", "降准", ""];

/// What the test knows of a post.
struct Known {
    title: String,
    category: &'static str,
    tags: Vec<&'static str>,
    /// Title and body, lower case: where words are looked for.
    text: String,
}

fn known(i: usize) -> Known {
    let category = CATS[i % 3];
    let tags: Vec<&str> = match i % 4 {
        0 => vec![TAGS[0]],
        1 => vec![TAGS[0], TAGS[1]],
        2 => vec![TAGS[2]],
        _ => vec![],
    };
    let title = format!("第{i}条 {}", WORDS[i % 5]).trim().to_string();
    // Some words are only in the body (the summary).
    let body = if i % 7 == 0 { "美元走弱" } else { "正文" };
    Known {
        text: format!("{title} {body}").to_lowercase(),
        title,
        category,
        tags,
    }
}

const POSTS: usize = 48;

fn site(extra: &str) -> Site {
    let site = Site::fixture("site", "");
    let posts = site.path("content/_posts");
    std::fs::remove_dir_all(&posts).unwrap();
    std::fs::create_dir_all(&posts).unwrap();
    for i in 0..POSTS {
        let k = known(i);
        let body = if i % 7 == 0 { "美元走弱" } else { "正文" };
        let tags: Vec<String> = k.tags.iter().map(|t| format!("\"{t}\"")).collect();
        let text = format!(
            "---\ntitle: \"{}\"\ndate: 2024-02-{:02} 10:00:00 +0800\ncategories: [\"{}\"]\ntags: [{}]\n---\n<p>{body} {i}</p>\n",
            k.title,
            1 + i / 2,
            k.category,
            tags.join(", ")
        );
        // Two posts a day, the later hour first: a strict order by date.
        let text = text.replace("10:00:00", if i % 2 == 0 { "09:00:00" } else { "10:00:00" });
        std::fs::write(
            posts.join(format!("2024-02-{:02}-p{i:02}.md", 1 + i / 2)),
            text,
        )
        .unwrap();
    }
    let config = format!(
        "content_dir = \"content\"\noutput_dir = \"out\"\nlimit = 100\n[site]\nurl = \"https://t.example\"\ntitle = \"T\"\n[[custom]]\nname = \"usd\"\nquery = \"cat=emnews&q=美元\"\n{extra}"
    );
    std::fs::write(site.config(), config).unwrap();
    site
}

fn client() -> reqwest::blocking::Client {
    common::identity_client()
}

fn titles(d: &Daemon, path: &str) -> Vec<String> {
    let r = client().get(d.url(path)).send().unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{path}");
    titles_of(&parse_feed(&r.bytes().unwrap()))
}

/// The posts (newest first) a predicate selects: the test's own answer.
fn expected(pick: impl Fn(&Known) -> bool) -> Vec<String> {
    (0..POSTS)
        .rev()
        .map(known)
        .filter(|k| pick(k))
        .map(|k| k.title)
        .collect()
}

#[test]
fn selections_match_the_unfiltered_feeds_in_every_format() {
    let site = site("");
    let d = Daemon::start(&site);
    type Pick = Box<dyn Fn(&Known) -> bool>;
    let cases: Vec<(&str, &str, Pick)> = vec![
        (
            "/",
            "cat=emnews&q=%E7%BE%8E%E5%85%83&not=%E6%B8%AF%E8%82%A1",
            Box::new(|k| {
                k.category == "emnews" && k.text.contains("美元") && !k.text.contains("港股")
            }),
        ),
        ("/", "tag=C%2B%2B", Box::new(|k| k.tags.contains(&"C++"))),
        (
            "/",
            "tag=%E7%BE%8E%E8%82%A1+%E6%B8%AF%E8%82%A1",
            Box::new(|k| k.tags.contains(&"美股") && k.tags.contains(&"港股")),
        ),
        (
            "/",
            "cat=-emnews&tag=%E7%BE%8E%E8%82%A1,C%2B%2B",
            Box::new(|k| {
                k.category != "emnews" && (k.tags.contains(&"美股") || k.tags.contains(&"C++"))
            }),
        ),
        (
            "/categories/emnews/",
            "q=DOLLAR",
            Box::new(|k| k.category == "emnews" && k.text.contains("dollar")),
        ),
        (
            "/tags/%E7%BE%8E%E8%82%A1/",
            "not=%E7%BE%8E%E5%85%83",
            Box::new(|k| k.tags.contains(&"美股") && !k.text.contains("美元")),
        ),
        (
            "/custom/usd/",
            "tag=%E6%B8%AF%E8%82%A1",
            Box::new(|k| {
                k.category == "emnews" && k.text.contains("美元") && k.tags.contains(&"港股")
            }),
        ),
    ];
    for (dir, query, pick) in &cases {
        let want = expected(pick);
        assert!(!want.is_empty(), "{dir}?{query} selects something");
        for file in ["feed.xml", "rss.xml", "feed.json"] {
            let got = titles(&d, &format!("{dir}{file}?{query}"));
            assert_eq!(got, want, "{dir}{file}?{query}");
            // In the unfiltered feed's order, and every match of it is there.
            let base = titles(&d, &format!("{dir}{file}"));
            let base_matches: Vec<String> = base.into_iter().filter(|t| want.contains(t)).collect();
            assert_eq!(base_matches, want, "{dir}{file}");
        }
    }
    // limit= cuts to the newest.
    let got = titles(&d, "/feed.xml?tag=C%2B%2B&limit=2");
    assert_eq!(got, expected(|k| k.tags.contains(&"C++"))[..2].to_vec());
}

#[test]
fn canonical_links_and_validators_ignore_order_and_cache_busters() {
    let site = site("");
    let d = Daemon::start(&site);
    let a = "/feed.xml?q=%E7%BE%8E%E5%85%83&cat=emnews,xihai&utm_source=x";
    let b = "/feed.xml?_=123&cat=XIHAI,emnews&q=%E7%BE%8E%E5%85%83&q=%E7%BE%8E%E5%85%83";
    let ra = client().get(d.url(a)).send().unwrap();
    let rb = client().get(d.url(b)).send().unwrap();
    let (ea, eb) = (header(&ra, "etag"), header(&rb, "etag"));
    assert!(!ea.is_empty());
    assert_eq!(ea, eb);
    let (fa, fb) = (
        parse_feed(&ra.bytes().unwrap()),
        parse_feed(&rb.bytes().unwrap()),
    );
    let self_of = |f: &feed_rs::model::Feed| {
        (f.links.iter())
            .find(|l| l.rel.as_deref() == Some("self"))
            .map(|l| l.href.clone())
            .unwrap()
    };
    assert_eq!(self_of(&fa), self_of(&fb));
    assert_eq!(
        self_of(&fa),
        "https://t.example/feed.xml?cat=emnews,xihai&q=%E7%BE%8E%E5%85%83"
    );
    assert!(
        fa.title.unwrap().content.contains("美元"),
        "the title says what"
    );
    // 304 for either spelling.
    let r = common::get_with_headers(&client(), &d.url(b), &[("If-None-Match", &ea)]);
    assert_eq!(r.status(), StatusCode::NOT_MODIFIED);
    // Only ignored parameters: the plain feed, byte for byte.
    let plain = client()
        .get(d.url("/feed.xml"))
        .send()
        .unwrap()
        .bytes()
        .unwrap();
    let busted = client()
        .get(d.url("/feed.xml?utm_source=rss"))
        .send()
        .unwrap()
        .bytes()
        .unwrap();
    assert_eq!(plain, busted);
}

#[test]
fn malformed_queries_are_400_with_the_reason() {
    let site = site("");
    let d = Daemon::start(&site);
    let long = format!("q={}", "a".repeat(1100));
    let many: Vec<String> = (0..17).map(|i| format!("q=w{i}")).collect();
    let many = many.join("&");
    for (query, says) in [
        ("cat=", "cat= is empty"),
        ("tag=a,,b", "empty item"),
        ("tag=a+", "empty item"),
        ("q=%E7%BE", "percent-encoding"),
        ("q=%zz", "percent-encoding"),
        ("limit=0&q=x", "limit="),
        (long.as_str(), "longer than"),
        (many.as_str(), "more than 16"),
    ] {
        let r = client()
            .get(d.url(&format!("/feed.xml?{query}")))
            .send()
            .unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{query}");
        let body = r.text().unwrap();
        assert!(body.contains(says), "{query}: {body}");
        assert_eq!(body.lines().count(), 1, "one line");
    }
    // A query on a feed that does not exist is a 404, not an empty feed.
    let r = client()
        .get(d.url("/categories/nope/feed.xml?q=x"))
        .send()
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

#[test]
fn a_cached_custom_feed_follows_the_posts_it_selects() {
    // limit 3: the old post edited below is in no feed's newest entries.
    let site = site("");
    let config = std::fs::read_to_string(site.config())
        .unwrap()
        .replace("limit = 100", "limit = 3");
    std::fs::write(site.config(), config).unwrap();
    let d = Daemon::start(&site);
    let url = "/feed.xml?q=%E7%8B%AC%E5%AE%B6";
    assert!(titles(&d, url).is_empty(), "nothing says 独家 yet");
    let etag = header(&client().get(d.url(url)).send().unwrap(), "etag");
    // An unrelated new post: the cached result still holds (same validators).
    write_atomically(
        &site.path("content/_posts/2024-03-01-other.md"),
        "---\ntitle: other\ndate: 2024-03-01\n---\nx\n",
    );
    eventually("the new post is served", || {
        titles(&d, "/feed.xml")
            .contains(&"other".to_string())
            .then_some(())
    });
    assert_eq!(
        header(&client().get(d.url(url)).send().unwrap(), "etag"),
        etag
    );
    // An old post edited to match enters, though no published feed shows it.
    write_atomically(
        &site.path("content/_posts/2024-02-01-p00.md"),
        "---\ntitle: \"第0条 独家\"\ndate: 2024-02-01 09:00:00 +0800\ncategories: [\"emnews\"]\n---\n<p>old</p>\n",
    );
    eventually("the edited post enters", || {
        (titles(&d, url) == ["第0条 独家"]).then_some(())
    });
    let r = common::get_with_headers(&client(), &d.url(url), &[("If-None-Match", &etag)]);
    assert_eq!(r.status(), StatusCode::OK, "a new version");
    // Deleted: it leaves.
    std::fs::remove_file(site.path("content/_posts/2024-02-01-p00.md")).unwrap();
    eventually("the deleted post leaves", || {
        titles(&d, url).is_empty().then_some(())
    });
}

#[test]
fn a_named_custom_feed_is_built_on_disk_and_listed() {
    let site = site("");
    site.build();
    let want = expected(|k| k.category == "emnews" && k.text.contains("美元"));
    for file in ["feed.xml", "rss.xml", "feed.json"] {
        let feed = parse_feed(&site.read(&format!("out/custom/usd/{file}")));
        assert_eq!(titles_of(&feed), want, "{file}");
    }
    let opml = site.text("out/feeds.opml");
    assert!(
        opml.contains("https://t.example/custom/usd/feed.xml"),
        "{opml}"
    );
}

#[test]
fn the_builder_form_lands_on_the_feed_page() {
    let site = site("");
    let d = Daemon::start(&site);
    let index = client().get(d.url("/")).send().unwrap().text().unwrap();
    assert!(
        index.contains(r#"action="/subscribe""#),
        "the form is on the index"
    );
    // As a browser sends the form: every field, commas and spaces form-encoded.
    let form = "/subscribe?cat=emnews%2C+xihai&tag=&q=%E7%BE%8E%E5%85%83&not=";
    let r = client().get(d.url(form)).send().unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let location = header(&r, "location");
    assert_eq!(location, "/feed.xml?cat=emnews,xihai&q=%E7%BE%8E%E5%85%83");
    let page = common::get_with_headers(
        &client(),
        &d.url(&location),
        &[("Sec-Fetch-Dest", "document")],
    );
    assert_eq!(page.status(), StatusCode::OK);
    assert!(header(&page, "content-type").starts_with("text/html"));
    let html = page.text().unwrap();
    assert!(
        html.contains("https://t.example/rss.xml?cat=emnews,xihai&amp;q=%E7%BE%8E%E5%85%83"),
        "the page shows the feed's addresses"
    );
    let want = expected(|k| ["emnews", "xihai"].contains(&k.category) && k.text.contains("美元"));
    assert!(html.contains(&want[0]), "and its newest entry");
    // An empty form goes back to the index; a bad one says why.
    let r = client()
        .get(d.url("/subscribe?cat=&tag=&q=&not="))
        .send()
        .unwrap();
    assert_eq!(header(&r, "location"), "/");
    let r = client().get(d.url("/subscribe?q=%FF")).send().unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
}

#[test]
fn a_limit_at_or_above_the_feeds_own_is_the_plain_feed() {
    let site = site("");
    let d = Daemon::start(&site);
    let etag = |path: &str| header(&client().get(d.url(path)).send().unwrap(), "etag");
    let plain = etag("/feed.xml");
    assert_eq!(etag("/feed.xml?limit=100"), plain);
    assert_eq!(etag("/feed.xml?limit=999&utm_source=x"), plain);
    // Below it: a selection, titled by what it is.
    let r = client().get(d.url("/feed.json?limit=2")).send().unwrap();
    let feed = parse_feed(&r.bytes().unwrap());
    assert_eq!(feed.entries.len(), 2);
    assert_eq!(feed.title.unwrap().content, "T · limit=2");
}

/// The `href` of the one element in `xml` with `rel="<rel>"` (Atom `link`, RSS
/// `atom:link`), unescaped; this test's own scan, not feedd's parser.
fn xml_link(xml: &str, rel: &str) -> Option<String> {
    let needle = format!("rel=\"{rel}\"");
    let found: Vec<String> = (xml.match_indices(&needle))
        .map(|(at, _)| {
            let start = xml[..at].rfind('<').unwrap();
            let end = at + xml[at..].find('>').unwrap();
            let el = &xml[start..end];
            let href = el.split("href=\"").nth(1).unwrap();
            href[..href.find('"').unwrap()].replace("&amp;", "&")
        })
        .collect();
    assert!(found.len() <= 1, "{} links rel={rel}", found.len());
    found.into_iter().next()
}

/// A path on the test's server from an absolute link of the site.
fn local(url: &str) -> String {
    url.strip_prefix("https://t.example")
        .unwrap_or_else(|| panic!("{url} is not the site's"))
        .to_string()
}

/// One page of a custom feed: its titles, its next page's path, and what else the walk
/// checks on it.
struct Paged {
    titles: Vec<String>,
    next: Option<String>,
    first: Option<String>,
    hub: bool,
}

fn paged(d: &Daemon, path: &str) -> Paged {
    let r = client().get(d.url(path)).send().unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{path}");
    let bytes = r.bytes().unwrap();
    let titles = titles_of(&parse_feed(&bytes));
    if path.contains("feed.json") {
        let json: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        let hub = json["hubs"].as_array().is_some_and(|h| !h.is_empty());
        let next = json["next_url"].as_str().map(local);
        return Paged {
            titles,
            next,
            first: None,
            hub,
        };
    }
    let xml = String::from_utf8(bytes.to_vec()).unwrap();
    Paged {
        titles,
        next: xml_link(&xml, "next").map(|u| local(&u)),
        first: xml_link(&xml, "first").map(|u| local(&u)),
        hub: xml.contains("rel=\"hub\""),
    }
}

#[test]
fn a_walk_along_next_finds_every_match_once_in_order() {
    let site = site("");
    let d = Daemon::start(&site);
    type Pick = Box<dyn Fn(&Known) -> bool>;
    let cases: Vec<(&str, &str, Pick)> = vec![
        (
            "/",
            "q=%E7%BE%8E%E5%85%83",
            Box::new(|k| k.text.contains("美元")),
        ),
        (
            "/categories/emnews/",
            "tag=%E7%BE%8E%E8%82%A1",
            Box::new(|k| k.category == "emnews" && k.tags.contains(&"美股")),
        ),
        (
            "/tags/%E7%BE%8E%E8%82%A1/",
            "not=%E7%BE%8E%E5%85%83",
            Box::new(|k| k.tags.contains(&"美股") && !k.text.contains("美元")),
        ),
        (
            "/custom/usd/",
            "limit=50",
            Box::new(|k| k.category == "emnews" && k.text.contains("美元")),
        ),
        // Only a page size: the plain feed, paged.
        (
            "/categories/xihai/",
            "",
            Box::new(|k| k.category == "xihai"),
        ),
    ];
    for (dir, query, pick) in &cases {
        let want = expected(pick);
        for file in ["feed.xml", "rss.xml", "feed.json"] {
            let mut path = format!("{dir}{file}?{query}&limit=4");
            let mut got = Vec::new();
            let mut pages = 0;
            loop {
                let page = paged(&d, &path);
                pages += 1;
                assert!(page.titles.len() <= 4, "{path}");
                // Only the first page is a WebSub topic; later ones lead back to it.
                assert_eq!(page.hub, pages == 1, "{path}");
                if !file.ends_with(".json") {
                    assert_eq!(page.first.is_some(), pages > 1, "{path}");
                }
                got.extend(page.titles);
                match page.next {
                    Some(next) => {
                        assert!(next.contains("before="), "{next}");
                        path = next;
                    }
                    None => break,
                }
                assert!(pages <= POSTS, "the walk ends");
            }
            assert_eq!(got, want, "{dir}{file}?{query}");
            assert_eq!(pages, want.len().div_ceil(4).max(1), "{dir}{file}?{query}");
        }
    }
}

#[test]
fn a_cursor_keeps_its_place_while_posts_arrive_and_go() {
    let site = site("");
    let d = Daemon::start(&site);
    let want = expected(|k| k.text.contains("美元"));
    let first = paged(&d, "/feed.xml?q=%E7%BE%8E%E5%85%83&limit=3");
    let second_path = first.next.clone().unwrap();
    let second = paged(&d, &second_path);
    assert_eq!(second.titles, want[3..6]);
    let etag = header(&client().get(d.url(&second_path)).send().unwrap(), "etag");
    // A new matching post, the newest, and the deletion of the first page's posts: an
    // offset would shift; the cursor does not.
    write_atomically(
        &site.path("content/_posts/2024-03-01-new.md"),
        "---\ntitle: \"新 美元\"\ndate: 2024-03-01\n---\nx\n",
    );
    for title in &want[..3] {
        let i: usize = title[3..].split('条').next().unwrap().parse().unwrap();
        std::fs::remove_file(site.path(&format!(
            "content/_posts/2024-02-{:02}-p{i:02}.md",
            1 + i / 2
        )))
        .unwrap();
    }
    eventually("the new post is served", || {
        titles(&d, "/feed.xml?q=%E7%BE%8E%E5%85%83&limit=3")
            .first()
            .is_some_and(|t| t == "新 美元")
            .then_some(())
    });
    assert_eq!(paged(&d, &second_path).titles, want[3..6]);
    // Nothing on that page changed: still the same version.
    let r = common::get_with_headers(&client(), &d.url(&second_path), &[("If-None-Match", &etag)]);
    assert_eq!(r.status(), StatusCode::NOT_MODIFIED);
    // A browser on a paged URL gets the page for people, with the way on.
    let page = common::get_with_headers(
        &client(),
        &d.url(&second_path),
        &[("Sec-Fetch-Dest", "document")],
    );
    let html = page.text().unwrap();
    assert!(html.contains(&want[3]), "{html}");
    // It offers the subscription, not the page: no address to subscribe to has a cursor.
    assert!(
        html.contains("https://t.example/rss.xml?limit=3&amp;q=%E7%BE%8E%E5%85%83"),
        "the subscription's addresses"
    );
    assert!(
        !html.contains("https://t.example/rss.xml?before="),
        "{html}"
    );
    // Site-relative, as the pages' other links: the copy served here pages through itself.
    assert!(
        html.contains("href=\"/feed.xml?before="),
        "an older-posts link"
    );
    // A bad cursor is a 400 that says what a cursor is.
    let r = client()
        .get(d.url("/feed.xml?q=x&before=yesterday"))
        .send()
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().unwrap().contains("before="));
}
