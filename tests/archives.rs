//! RFC 5005 archived feeds end to end: a generated site of 120 posts, `feedd build` and
//! `feedd serve` (the real binary), and a walker of this test's own that starts at a
//! feed's subscription document, follows `prev-archive` (JSON Feed: `next_url`) to the
//! oldest page and back with `next-archive`, and checks what it collected against what
//! the test knows of every post it wrote (not against feedd's own selection or order).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use chrono::{DateTime, Duration, FixedOffset, NaiveDate, TimeZone, Utc};
use common::{eventually, header, identity_client, write_atomically, Daemon, Site};
use reqwest::StatusCode;

const SITE: &str = "https://example.test";
const LIMIT: usize = 10;
const PAGE_SIZE: usize = 4;
const POSTS: usize = 120;

/// About 70 posts.
const BIG_CAT: &str = "西海都市报";
const OTHER_CAT: &str = "emnews";
/// 40 posts.
const BIG_TAG: &str = "美股";
/// 24 posts.
const CN_TAG: &str = "西海都市报新闻";
/// 30 posts, in no feed under test (noise in the site feed's terms).
const NOISE_TAG: &str = "港股";
/// 3 posts: no archives.
const SMALL_TAG: &str = "C++";
/// The named custom feed: posts tagged BIG_TAG or CN_TAG.
const CUSTOM: &str = "美股新闻";

// ---------------------------------------------------------------------------------------
// The site the test writes, and what it knows of it.

#[derive(Debug, Clone)]
struct Post {
    /// Relative to the content dir.
    path: String,
    title: String,
    date: DateTime<FixedOffset>,
    category: &'static str,
    tags: Vec<&'static str>,
    body: String,
}

impl Post {
    fn text(&self) -> String {
        let tags: Vec<String> = self.tags.iter().map(|t| format!("\"{t}\"")).collect();
        format!(
            "---\ntitle: \"{}\"\ndate: {}\ncategories: [\"{}\"]\ntags: [{}]\n---\n{}",
            self.title,
            self.date.format("%Y-%m-%d %H:%M:%S %z"),
            self.category,
            tags.join(", "),
            self.body
        )
    }

    /// Jekyll's id of the post (decoded, relative to the site): `/:categories/:year/
    /// :month/:day/:slug`; its URL adds `.html`.
    fn jekyll_id(&self) -> String {
        let file = self.path.rsplit('/').next().unwrap();
        let slug = file[11..].strip_suffix(".md").unwrap();
        format!("{}/{}/{slug}", self.category, self.date.format("%Y/%m/%d"))
    }

    fn utc(&self) -> DateTime<Utc> {
        self.date.with_timezone(&Utc)
    }
}

fn cst() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).unwrap()
}

/// Post `i`'s date: two days apart, at varying times; post 61 shares post 60's date and
/// time exactly (their order is then by source path).
fn date_of(i: usize) -> DateTime<FixedOffset> {
    let i = if i == 61 { 60 } else { i };
    let day = NaiveDate::from_ymd_opt(2023, 1, 1).unwrap() + Duration::days(2 * i as i64);
    let time = day
        .and_hms_opt(8 + (i % 10) as u32, ((7 * i) % 60) as u32, 0)
        .unwrap();
    cst().from_local_datetime(&time).unwrap()
}

fn post(i: usize) -> Post {
    let date = date_of(i);
    let category = if i % 12 < 7 { BIG_CAT } else { OTHER_CAT };
    let mut tags = Vec::new();
    if i % 3 == 0 {
        tags.push(BIG_TAG);
    }
    if i % 5 == 1 {
        tags.push(CN_TAG);
    }
    if i % 4 == 2 {
        tags.push(NOISE_TAG);
    }
    if [7, 58, 111].contains(&i) {
        tags.push(SMALL_TAG);
    }
    let title = match i % 3 {
        0 => format!("第{i}条 {CN_TAG}"),
        1 => format!("Market note {i}"),
        _ => format!("快讯 {i} 号"),
    };
    let slug = if i % 7 == 0 {
        format!("p{i:03}-新闻")
    } else {
        format!("p{i:03}")
    };
    let body = format!(
        "## 小标题 {i}\n\n这是第 **{i}** 条正文，含 [链接](https://example.com/{i}) 和 `code`。\n\n- 一\n- 二\n"
    );
    Post {
        path: format!("_posts/{}-{slug}.md", date.format("%Y-%m-%d")),
        title,
        date,
        category,
        tags,
        body,
    }
}

fn posts() -> Vec<Post> {
    (0..POSTS).map(post).collect()
}

/// A post newer than every other, in the big category and the big tag (so also in the
/// custom feed): it pushes the oldest post of those feeds' subscription documents into
/// their archives.
fn newest_post() -> Post {
    Post {
        path: "_posts/2024-06-01-newest.md".into(),
        title: format!("最新 {CN_TAG}"),
        date: cst().with_ymd_and_hms(2024, 6, 1, 9, 30, 0).unwrap(),
        category: BIG_CAT,
        tags: vec![BIG_TAG],
        body: "最新的正文。\n".into(),
    }
}

/// A temp site: `content/_posts/…` and `config.toml`, output in `out/`.
fn new_site(posts: &[Post]) -> Site {
    let site = Site {
        dir: tempfile::tempdir().expect("tempdir"),
    };
    for p in posts {
        let path = site.path(&format!("content/{}", p.path));
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, p.text()).unwrap();
    }
    let config = format!(
        "content_dir = \"content\"\noutput_dir = \"out\"\nlimit = {LIMIT}\n\n[site]\nurl = \"{SITE}\"\ntitle = \"Archive test\"\ntimezone = \"Asia/Shanghai\"\n\n[archives]\npage_size = {PAGE_SIZE}\n\n[[custom]]\nname = \"{CUSTOM}\"\nquery = \"tag={BIG_TAG},{CN_TAG}\"\n"
    );
    std::fs::write(site.config(), config).unwrap();
    site
}

/// A site of these posts, built with `feedd build`, and its output dir.
fn built(posts: &[Post]) -> (Site, std::path::PathBuf) {
    let site = new_site(posts);
    site.build();
    let out = site.path("out");
    (site, out)
}

/// A feed under test: where it lives and which posts the test knows belong to it.
struct Feed {
    label: &'static str,
    /// Relative to the output dir, "" or ending in `/`.
    folder: String,
    pick: fn(&Post) -> bool,
}

fn feeds() -> Vec<Feed> {
    vec![
        Feed {
            label: "site feed",
            folder: String::new(),
            pick: |_| true,
        },
        Feed {
            label: "category 西海都市报",
            folder: format!("categories/{BIG_CAT}/"),
            pick: |p| p.category == BIG_CAT,
        },
        Feed {
            label: "tag 美股",
            folder: format!("tags/{BIG_TAG}/"),
            pick: |p| p.tags.contains(&BIG_TAG),
        },
        Feed {
            label: "tag C++",
            // Names are lower-cased (ASCII), `+` is kept.
            folder: "tags/c++/".to_string(),
            pick: |p| p.tags.contains(&SMALL_TAG),
        },
        Feed {
            label: "custom 美股新闻",
            folder: format!("custom/{CUSTOM}/"),
            pick: |p| p.tags.contains(&BIG_TAG) || p.tags.contains(&CN_TAG),
        },
    ]
}

/// The feed's posts, newest first: by date (the instant), ties by source path.
fn expected<'a>(feed: &Feed, posts: &'a [Post]) -> Vec<&'a Post> {
    let mut want: Vec<&Post> = posts.iter().filter(|p| (feed.pick)(p)).collect();
    want.sort_by(|a, b| b.date.cmp(&a.date).then_with(|| a.path.cmp(&b.path)));
    want
}

// ---------------------------------------------------------------------------------------
// Reading one document.

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Fmt {
    Atom,
    Rss,
    Json,
}

impl Fmt {
    const ALL: [Fmt; 3] = [Fmt::Atom, Fmt::Rss, Fmt::Json];

    fn file(self) -> &'static str {
        match self {
            Fmt::Atom => "feed.xml",
            Fmt::Rss => "rss.xml",
            Fmt::Json => "feed.json",
        }
    }
}

/// What a document says of one entry.
#[derive(Debug, Clone, PartialEq)]
struct Item {
    id: String,
    link: String,
    title: String,
    published: DateTime<Utc>,
    /// Whether it carries the post's content.
    content: bool,
}

impl Item {
    /// What must be the same wherever the post is shown.
    fn key(&self) -> (&str, &str, &str, DateTime<Utc>) {
        (&self.id, &self.link, &self.title, self.published)
    }
}

/// One feed document as this test reads it.
#[derive(Debug, Clone)]
struct Doc {
    items: Vec<Item>,
    /// `prev-archive` (JSON Feed: `next_url`): the next older archive document.
    prev: Option<String>,
    next: Option<String>,
    current: Option<String>,
    /// `<fh:archive/>` with its namespace declared.
    fh_archive: bool,
    /// Any content element at all in the raw bytes.
    raw_content: bool,
}

/// Unescapes the few XML entities an attribute value may hold.
fn unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The value of attribute `name` in the inside of a start tag.
fn attr(el: &str, name: &str) -> Option<String> {
    let pat = format!("{name}=");
    for (at, _) in el.match_indices(&pat) {
        let before = el[..at].chars().next_back();
        if !before.is_some_and(char::is_whitespace) {
            continue;
        }
        let rest = &el[at + pat.len()..];
        let quote = rest.chars().next()?;
        if quote != '"' && quote != '\'' {
            return None;
        }
        let value = &rest[1..];
        let end = value.find(quote)?;
        return Some(unescape(&value[..end]));
    }
    None
}

/// The `(rel, href)` of every `<tag …>` element in `xml` (rel defaults to `alternate`).
fn scan_links(xml: &str, tag: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = xml;
    while let Some(at) = rest.find(tag) {
        let after = &rest[at + tag.len()..];
        let end = after.find('>').unwrap_or(after.len());
        let el = &after[..end];
        if el.starts_with(|c: char| c.is_whitespace() || c == '/') {
            if let Some(href) = attr(el, "href") {
                let rel = attr(el, "rel").unwrap_or_else(|| "alternate".into());
                out.push((rel, href));
            }
        }
        rest = &after[end..];
    }
    out
}

/// The one link of `rel` (more than one is an error).
fn one_link(links: &[(String, String)], rel: &str, ctx: &str) -> Option<String> {
    let found: Vec<&String> = (links.iter())
        .filter(|(r, _)| r == rel)
        .map(|(_, h)| h)
        .collect();
    assert!(found.len() <= 1, "{ctx}: {} links rel={rel}", found.len());
    found.first().map(|h| (*h).clone())
}

fn parse_doc(fmt: Fmt, bytes: &[u8], ctx: &str) -> Doc {
    match fmt {
        Fmt::Atom | Fmt::Rss => parse_xml(fmt, bytes, ctx),
        Fmt::Json => parse_json(bytes, ctx),
    }
}

fn parse_xml(fmt: Fmt, bytes: &[u8], ctx: &str) -> Doc {
    let text = std::str::from_utf8(bytes).unwrap_or_else(|e| panic!("{ctx}: not UTF-8: {e}"));
    let (first_entry, link_tag, content_tag) = match fmt {
        Fmt::Atom => ("<entry", "<link", "<content"),
        _ => ("<item", "<atom:link", "<content:encoded"),
    };
    let head = &text[..text.find(first_entry).unwrap_or(text.len())];
    let links = scan_links(head, link_tag);
    let feed = feed_rs::parser::parse(bytes).unwrap_or_else(|e| panic!("{ctx}: feed-rs: {e}"));
    if fmt == Fmt::Atom {
        // feed-rs reads the same feed-level links.
        for rel in ["prev-archive", "next-archive", "current"] {
            let ours = one_link(&links, rel, ctx);
            let theirs = (feed.links.iter())
                .find(|l| l.rel.as_deref() == Some(rel))
                .map(|l| l.href.clone());
            assert_eq!(ours, theirs, "{ctx}: rel={rel} as feed-rs reads it");
        }
    }
    let items = (feed.entries.iter())
        .map(|e| Item {
            id: e.id.clone(),
            link: (e.links.first())
                .map(|l| l.href.clone())
                .unwrap_or_else(|| panic!("{ctx}: entry {} has no link", e.id)),
            title: common::entry_title(e),
            published: e
                .published
                .unwrap_or_else(|| panic!("{ctx}: entry {} has no published date", e.id)),
            content: e.content.is_some(),
        })
        .collect();
    Doc {
        items,
        prev: one_link(&links, "prev-archive", ctx),
        next: one_link(&links, "next-archive", ctx),
        current: one_link(&links, "current", ctx),
        fh_archive: text.contains("<fh:archive")
            && text.contains("xmlns:fh=\"http://purl.org/syndication/history/1.0\""),
        raw_content: text.contains(content_tag),
    }
}

fn parse_json(bytes: &[u8], ctx: &str) -> Doc {
    let v: serde_json::Value =
        serde_json::from_slice(bytes).unwrap_or_else(|e| panic!("{ctx}: JSON: {e}"));
    let s = |item: &serde_json::Value, key: &str| -> String {
        item[key]
            .as_str()
            .unwrap_or_else(|| panic!("{ctx}: item without {key}: {item}"))
            .to_string()
    };
    let items = (v["items"].as_array())
        .unwrap_or_else(|| panic!("{ctx}: no items array"))
        .iter()
        .map(|item| {
            let published = DateTime::parse_from_rfc3339(&s(item, "date_published"))
                .unwrap_or_else(|e| panic!("{ctx}: date_published: {e}"))
                .with_timezone(&Utc);
            let content = item.get("content_html").is_some();
            if !content {
                // JSON Feed requires content_html or content_text.
                assert!(
                    !s(item, "content_text").is_empty(),
                    "{ctx}: item without content_html has an empty content_text: {item}"
                );
            }
            Item {
                id: s(item, "id"),
                link: s(item, "url"),
                title: s(item, "title"),
                published,
                content,
            }
        })
        .collect::<Vec<_>>();
    let raw_content = items.iter().any(|i| i.content);
    Doc {
        items,
        prev: v["next_url"].as_str().map(str::to_string),
        next: None,
        current: None,
        fh_archive: false,
        raw_content,
    }
}

/// The output-relative path an absolute URL of the site names (percent-decoded).
fn rel_of(url: &str, ctx: &str) -> String {
    let path = (url.strip_prefix(SITE))
        .and_then(|p| p.strip_prefix('/'))
        .unwrap_or_else(|| panic!("{ctx}: {url} is not under {SITE}/"));
    assert!(
        !path.contains(['?', '#']),
        "{ctx}: {url} has a query or fragment"
    );
    percent_encoding::percent_decode_str(path)
        .decode_utf8()
        .unwrap_or_else(|e| panic!("{ctx}: {url}: {e}"))
        .into_owned()
}

/// Whether a folder name is an archive page's: `start` or `YYYYMMDD-xxxxxxxx`.
fn is_page_name(name: &str) -> bool {
    let b = name.as_bytes();
    name == "start"
        || (b.len() == 17
            && b[8] == b'-'
            && b[..8].iter().all(u8::is_ascii_digit)
            && b[9..]
                .iter()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()))
}

// ---------------------------------------------------------------------------------------
// The walker.

/// Fetches the bytes an absolute URL names (from disk or over HTTP).
type Get<'a> = &'a dyn Fn(&str, &str) -> Vec<u8>;

#[derive(Debug, Clone)]
struct Page {
    url: String,
    name: String,
    bytes: Vec<u8>,
    doc: Doc,
}

#[derive(Debug, Clone)]
struct Walk {
    sub: Page,
    /// Newest first.
    pages: Vec<Page>,
}

impl Walk {
    fn items(&self) -> impl Iterator<Item = &Item> {
        std::iter::once(&self.sub)
            .chain(&self.pages)
            .flat_map(|p| &p.doc.items)
    }

    fn names(&self) -> Vec<String> {
        self.pages.iter().map(|p| p.name.clone()).collect()
    }

    /// The pages, newest first, as `name: titles`, for messages.
    fn outline(&self) -> String {
        (self.pages.iter())
            .map(|p| {
                let titles: Vec<&str> = p.doc.items.iter().map(|i| i.title.as_str()).collect();
                format!("\n  {}: {titles:?}", p.name)
            })
            .collect()
    }

    fn page_with(&self, title: &str) -> Option<usize> {
        (self.pages.iter()).position(|p| p.doc.items.iter().any(|i| i.title == title))
    }
}

fn sub_url(feed: &Feed, fmt: Fmt) -> String {
    format!("{SITE}/{}{}", feed.folder, fmt.file())
}

/// Walks one feed in one format from its subscription document to its oldest archive
/// document and back, checking every document on the way and the whole against `want`.
fn walk(get: Get<'_>, feed: &Feed, fmt: Fmt, want: &[&Post]) -> Walk {
    let ctx = format!("{} {fmt:?}", feed.label);
    let ctx = ctx.as_str();
    let xml = fmt != Fmt::Json;
    let sub_rel = format!("{}{}", feed.folder, fmt.file());
    let url = sub_url(feed, fmt);
    let bytes = get(&url, ctx);
    let doc = parse_doc(fmt, &bytes, ctx);
    assert!(
        !doc.fh_archive,
        "{ctx}: the subscription document has fh:archive"
    );
    assert_eq!(
        doc.current, None,
        "{ctx}: subscription document's rel=current"
    );
    assert_eq!(
        doc.next, None,
        "{ctx}: subscription document's next-archive"
    );
    assert_eq!(
        doc.items.len(),
        want.len().min(LIMIT),
        "{ctx}: entries in the subscription document"
    );
    assert!(
        doc.items.iter().all(|i| i.content),
        "{ctx}: a subscription entry without content"
    );
    if want.len() <= LIMIT {
        assert_eq!(
            doc.prev,
            None,
            "{ctx}: {} posts fit in the subscription document, yet it links an archive",
            want.len()
        );
    } else {
        assert!(
            doc.prev.is_some(),
            "{ctx}: {} posts, limit {LIMIT}, but the subscription document has no prev-archive",
            want.len()
        );
    }
    let sub = Page {
        url,
        name: String::new(),
        bytes,
        doc,
    };

    // Back in time with prev-archive (next_url).
    let mut pages: Vec<Page> = Vec::new();
    let mut seen = BTreeSet::new();
    let mut older = sub.doc.prev.clone();
    while let Some(url) = older {
        assert!(seen.insert(url.clone()), "{ctx}: a loop: {url} again");
        assert!(pages.len() < 1000, "{ctx}: endless archive chain");
        let rel = rel_of(&url, ctx);
        let name = (rel.strip_prefix(&format!("{}archive/", feed.folder)))
            .and_then(|r| r.strip_suffix(&format!("/{}", fmt.file())))
            .unwrap_or_else(|| panic!("{ctx}: {url} is not an archive document of the feed"));
        assert!(is_page_name(name), "{ctx}: page name {name:?} in {url}");
        let pctx = format!("{ctx} archive page {name}");
        let bytes = get(&url, &pctx);
        let doc = parse_doc(fmt, &bytes, &pctx);
        if xml {
            assert!(doc.fh_archive, "{pctx}: no <fh:archive/>");
            let current =
                (doc.current.as_deref()).unwrap_or_else(|| panic!("{pctx}: no rel=current"));
            assert_eq!(rel_of(current, &pctx), sub_rel, "{pctx}: rel=current");
            let newer = pages.last().map(|p: &Page| p.url.clone());
            assert_eq!(
                doc.next, newer,
                "{pctx}: next-archive is not the newer page"
            );
        }
        assert!(!doc.items.is_empty(), "{pctx}: an empty archive document");
        assert!(
            doc.items.len() <= 4 * PAGE_SIZE,
            "{pctx}: {} entries, more than 4 × page_size",
            doc.items.len()
        );
        assert!(
            !doc.raw_content && doc.items.iter().all(|i| !i.content),
            "{pctx}: an archived entry with content"
        );
        older = doc.prev.clone();
        pages.push(Page {
            url,
            name: name.to_string(),
            bytes,
            doc,
        });
    }

    // Forward again with next-archive, from the oldest page.
    if xml {
        if let Some(oldest) = pages.last() {
            let mut forward = vec![oldest.url.clone()];
            let mut newer = oldest.doc.next.clone();
            while let Some(url) = newer {
                assert!(
                    forward.len() <= pages.len(),
                    "{ctx}: next-archive leads past the newest page"
                );
                let doc = parse_doc(fmt, &get(&url, ctx), ctx);
                forward.push(url);
                newer = doc.next;
            }
            let back: Vec<String> = pages.iter().rev().map(|p| p.url.clone()).collect();
            assert_eq!(forward, back, "{ctx}: next-archive from the oldest page");
        }
    }

    let w = Walk { sub, pages };
    let got: Vec<&str> = w.items().map(|i| i.title.as_str()).collect();
    let titles: Vec<&str> = want.iter().map(|p| p.title.as_str()).collect();
    assert_eq!(
        got, titles,
        "{ctx}: the walk's entries are not every post of the feed once, newest first"
    );
    for (item, post) in w.items().zip(want) {
        assert_eq!(
            item.published,
            post.utc(),
            "{ctx}: published date of {}",
            post.title
        );
        let id = post.jekyll_id();
        assert_eq!(rel_of(&item.id, ctx), id, "{ctx}: id of {}", post.title);
        assert_eq!(
            rel_of(&item.link, ctx),
            format!("{id}.html"),
            "{ctx}: link of {}",
            post.title
        );
    }
    let ids: BTreeSet<&str> = w.items().map(|i| i.id.as_str()).collect();
    assert_eq!(ids.len(), want.len(), "{ctx}: ids are not unique");
    w
}

/// Walks one feed in every format; the formats agree on pages and entries.
fn walk_feed(get: Get<'_>, feed: &Feed, posts: &[Post]) -> BTreeMap<Fmt, Walk> {
    let want = expected(feed, posts);
    let walks: BTreeMap<Fmt, Walk> = (Fmt::ALL.iter())
        .map(|&f| (f, walk(get, feed, f, &want)))
        .collect();
    let atom = &walks[&Fmt::Atom];
    for (fmt, w) in &walks {
        let ctx = format!("{} {fmt:?} vs Atom", feed.label);
        assert_eq!(w.names(), atom.names(), "{ctx}: archive pages");
        let keys: Vec<_> = w.items().map(Item::key).collect();
        let atom_keys: Vec<_> = atom.items().map(Item::key).collect();
        assert_eq!(
            keys, atom_keys,
            "{ctx}: id, link, title, date of the entries"
        );
        for (a, b) in w.pages.iter().zip(&atom.pages) {
            assert_eq!(
                a.doc.items.len(),
                b.doc.items.len(),
                "{ctx}: entries on page {}",
                a.name
            );
        }
    }
    walks
}

type Walks = BTreeMap<(&'static str, Fmt), Walk>;

fn walk_all(get: Get<'_>, posts: &[Post]) -> Walks {
    let mut all = Walks::new();
    for feed in feeds() {
        for (fmt, w) in walk_feed(get, &feed, posts) {
            all.insert((feed.label, fmt), w);
        }
    }
    all
}

fn disk(out: &Path) -> impl Fn(&str, &str) -> Vec<u8> + '_ {
    move |url, ctx| {
        let rel = rel_of(url, ctx);
        std::fs::read(out.join(&rel)).unwrap_or_else(|e| panic!("{ctx}: {rel}: {e}"))
    }
}

fn http<'a>(
    d: &'a Daemon,
    client: &'a reqwest::blocking::Client,
) -> impl Fn(&str, &str) -> Vec<u8> + 'a {
    move |url, ctx| {
        let path = url
            .strip_prefix(SITE)
            .unwrap_or_else(|| panic!("{ctx}: {url} is not under {SITE}"));
        let r = client.get(d.url(path)).send().expect("GET");
        assert_eq!(r.status(), StatusCode::OK, "{ctx}: GET {path}");
        r.bytes().expect("body").to_vec()
    }
}

/// The archive page folders on disk of a feed.
fn pages_on_disk(out: &Path, feed: &Feed) -> BTreeSet<String> {
    let dir = out.join(&feed.folder).join("archive");
    match std::fs::read_dir(&dir) {
        Err(_) => BTreeSet::new(),
        Ok(entries) => entries
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect(),
    }
}

/// Every archive document on disk is one the walks reached, with the bytes they read
/// (`None`: the first difference).
fn disk_matches(out: &Path, walks: &Walks) -> Result<(), String> {
    for feed in feeds() {
        let atom = &walks[&(feed.label, Fmt::Atom)];
        let walked: BTreeSet<String> = atom.names().into_iter().collect();
        let on_disk = pages_on_disk(out, &feed);
        if on_disk != walked {
            return Err(format!(
                "{}: archive folders on disk {on_disk:?}, reachable {walked:?}",
                feed.label
            ));
        }
        for fmt in Fmt::ALL {
            let w = &walks[&(feed.label, fmt)];
            for page in std::iter::once(&w.sub).chain(&w.pages) {
                let rel = rel_of(&page.url, feed.label);
                if std::fs::read(out.join(&rel)).ok().as_ref() != Some(&page.bytes) {
                    return Err(format!("{rel} on disk differs from what was served"));
                }
            }
        }
    }
    Ok(())
}

/// The archive documents in `out` (path → bytes).
fn archive_files(out: &Path) -> BTreeMap<String, Vec<u8>> {
    (common::tree(out).into_iter())
        .filter(|(rel, _)| rel.contains("/archive/") || rel.starts_with("archive/"))
        .collect()
}

/// Archive files on disk changed or removed by a change are in the folders allowed to
/// change (`may_change`, ending in `/`), and most archive files kept their bytes.
fn check_disk_changes(
    before: &BTreeMap<String, Vec<u8>>,
    after: &BTreeMap<String, Vec<u8>>,
    may_change: &BTreeSet<String>,
    what: &str,
) {
    let changed: Vec<&String> = (before.iter())
        .filter(|(rel, bytes)| after.get(*rel) != Some(*bytes))
        .map(|(rel, _)| rel)
        .collect();
    let stray: Vec<&&String> = (changed.iter())
        .filter(|rel| !may_change.iter().any(|dir| rel.starts_with(dir.as_str())))
        .collect();
    assert!(
        stray.is_empty(),
        "after {what}: archive files on disk {stray:?} changed or vanished (allowed: {may_change:?})"
    );
    assert!(
        changed.len() * 5 <= before.len(),
        "after {what}: {} of {} archive files on disk changed",
        changed.len(),
        before.len()
    );
}

fn wait_for_disk(out: &Path, walks: &Walks) {
    let mut last = String::new();
    eventually("output_dir to hold what is served", || {
        match disk_matches(out, walks) {
            Ok(()) => Some(()),
            Err(e) => {
                if e != last {
                    eprintln!("waiting for the disk: {e}");
                    last = e;
                }
                None
            }
        }
    });
}

/// Titles of the site's Atom feed over HTTP, following prev-archive, checking nothing:
/// for polling (`None` on any error).
fn site_titles_over_http(d: &Daemon, client: &reqwest::blocking::Client) -> Option<Vec<String>> {
    let mut titles = Vec::new();
    let mut url = Some(format!("{SITE}/feed.xml"));
    let mut hops = 0;
    while let Some(u) = url {
        hops += 1;
        if hops > 1000 {
            return None;
        }
        let r = client.get(d.url(u.strip_prefix(SITE)?)).send().ok()?;
        if r.status() != StatusCode::OK {
            return None;
        }
        let bytes = r.bytes().ok()?;
        let feed = feed_rs::parser::parse(&bytes[..]).ok()?;
        titles.extend(common::titles_of(&feed));
        let text = String::from_utf8(bytes.to_vec()).ok()?;
        let head = &text[..text.find("<entry").unwrap_or(text.len())];
        url = (scan_links(head, "<link").into_iter())
            .find(|(rel, _)| rel == "prev-archive")
            .map(|(_, h)| h);
    }
    Some(titles)
}

/// Over HTTP: every complete archive page (all but a feed's newest) is `immutable`, the
/// newest page and the subscription document are not, and each answers its ETag with a
/// 304 that carries the same Cache-Control. Returns how many complete pages there are.
fn check_caching(
    d: &Daemon,
    client: &reqwest::blocking::Client,
    walks: &Walks,
    when: &str,
) -> usize {
    let mut immutable_seen = 0;
    for ((label, fmt), w) in walks {
        let ctx = format!("{label} {fmt:?} {when}");
        let docs = std::iter::once((&w.sub, false))
            .chain((w.pages.iter().enumerate()).map(|(i, p)| (p, i > 0)));
        for (page, complete) in docs {
            let path = page.url.strip_prefix(SITE).unwrap();
            let what = match (page.name.as_str(), complete) {
                ("", _) => "the subscription document".to_string(),
                (name, false) => format!("the newest archive page {name}"),
                (name, true) => format!("the complete archive page {name}"),
            };
            let r = client.get(d.url(path)).send().expect("GET");
            assert_eq!(r.status(), StatusCode::OK, "{ctx}: {what}");
            let cc = header(&r, "cache-control");
            let etag = header(&r, "etag");
            assert!(!etag.is_empty(), "{ctx}: {what} has no ETag");
            if complete {
                immutable_seen += 1;
                assert!(
                    cc.contains("immutable") && cc.contains("max-age=31536000"),
                    "{ctx}: {what}: Cache-Control {cc:?}, want immutable"
                );
            } else {
                assert!(
                    !cc.is_empty() && !cc.contains("immutable"),
                    "{ctx}: {what}: Cache-Control {cc:?}, want the normal one"
                );
            }
            let r = common::get_with_headers(client, &d.url(path), &[("If-None-Match", &etag)]);
            assert_eq!(
                r.status(),
                StatusCode::NOT_MODIFIED,
                "{ctx}: {what} with If-None-Match: {etag}"
            );
            assert_eq!(
                header(&r, "cache-control"),
                cc,
                "{ctx}: {what}: the 304's Cache-Control"
            );
        }
    }
    immutable_seen
}

// ---------------------------------------------------------------------------------------
// The tests.

#[test]
fn every_post_is_in_exactly_one_document_and_complete_pages_are_immutable() {
    let posts = posts();
    let (site, out) = built(&posts);

    // The fixture is what the test means it to be.
    let counts: BTreeMap<&str, usize> = (feeds().iter())
        .map(|f| (f.label, expected(f, &posts).len()))
        .collect();
    assert_eq!(counts["category 西海都市报"], 70, "{counts:?}");
    assert_eq!(counts["tag 美股"], 40, "{counts:?}");
    assert_eq!(counts["tag C++"], 3, "{counts:?}");

    let from_disk = disk(&out);
    let on_disk = walk_all(&from_disk, &posts);
    for feed in feeds() {
        let w = &on_disk[&(feed.label, Fmt::Atom)];
        let n = counts[feed.label];
        if n <= LIMIT {
            assert!(w.pages.is_empty(), "{}: archive pages", feed.label);
            assert!(
                pages_on_disk(&out, &feed).is_empty(),
                "{}: archive folders on disk with {n} posts",
                feed.label
            );
        } else {
            // About page_size posts a page: many pages, not one or two.
            assert!(
                w.pages.len() >= (n - LIMIT) / (4 * PAGE_SIZE) + 2,
                "{}: {} archive pages for {} archived posts",
                feed.label,
                w.pages.len(),
                n - LIMIT
            );
        }
    }
    disk_matches(&out, &on_disk).unwrap_or_else(|e| panic!("after feedd build: {e}"));

    // Served: the same bytes, complete pages immutable, the rest not.
    let d = Daemon::start(&site);
    let client = identity_client();
    let over_http = http(&d, &client);
    let served = walk_all(&over_http, &posts);
    for ((label, fmt), w) in &served {
        let ctx = format!("{label} {fmt:?} served");
        let built = &on_disk[&(*label, *fmt)];
        assert_eq!(w.sub.bytes, built.sub.bytes, "{ctx}: subscription document");
        for (a, b) in w.pages.iter().zip(&built.pages) {
            assert_eq!(a.bytes, b.bytes, "{ctx}: page {}", a.name);
        }
    }
    let immutable_seen = check_caching(&d, &client, &served, "served after feedd build");
    assert!(immutable_seen > 50, "{immutable_seen} complete pages");
}

#[test]
fn serve_keeps_every_post_in_one_document_as_posts_arrive() {
    let mut posts = posts();
    let site = new_site(&posts);
    let out = site.path("out");
    let d = Daemon::start(&site);
    let client = identity_client();
    let over_http = http(&d, &client);
    let before = walk_all(&over_http, &posts);
    wait_for_disk(&out, &before);
    let on_disk = archive_files(&out);

    // 1. A new newest post: the post it pushes out of the subscription document goes to
    // the newest archive page; no complete page changes.
    let newest = newest_post();
    write_atomically(
        &site.path(&format!("content/{}", newest.path)),
        &newest.text(),
    );
    posts.push(newest.clone());
    eventually("the new post in /feed.xml", || {
        let r = client.get(d.url("/feed.xml")).send().ok()?;
        r.text().ok()?.contains(&newest.title).then_some(())
    });
    let after = walk_all(&over_http, &posts);
    // The archive folders whose files may change: the newest page of each feed with the post.
    let mut may_change: BTreeSet<String> = BTreeSet::new();
    for feed in feeds() {
        let has = (feed.pick)(&newest);
        if has {
            let newest_page = &before[&(feed.label, Fmt::Atom)].pages[0].name;
            may_change.insert(format!("{}archive/{newest_page}/", feed.folder));
        }
        for fmt in Fmt::ALL {
            let ctx = format!("{} {fmt:?} after a new newest post", feed.label);
            let (b, a) = (&before[&(feed.label, fmt)], &after[&(feed.label, fmt)]);
            if has {
                assert_eq!(a.sub.doc.items[0].title, newest.title, "{ctx}");
                // The oldest entry of the subscription document moved, as it was.
                let moved = b.sub.doc.items.last().unwrap();
                if b.sub.doc.items.len() == LIMIT {
                    let first = &a.pages[0].doc.items[0];
                    assert_eq!(
                        first.key(),
                        moved.key(),
                        "{ctx}: the post pushed into the archive"
                    );
                }
            } else {
                assert_eq!(a.sub.bytes, b.sub.bytes, "{ctx}: subscription document");
            }
            let after_pages: BTreeMap<&str, &Page> =
                a.pages.iter().map(|p| (p.name.as_str(), p)).collect();
            // Complete pages: all but the newest (all of them, for a feed without the post).
            let skip = usize::from(has);
            for page in b.pages.iter().skip(skip) {
                let now = after_pages.get(page.name.as_str());
                assert!(
                    now.is_some_and(|p| p.bytes == page.bytes),
                    "{ctx}: complete archive page {} changed or vanished",
                    page.name
                );
            }
        }
    }
    wait_for_disk(&out, &after);
    let on_disk_after = archive_files(&out);
    check_disk_changes(&on_disk, &on_disk_after, &may_change, "a new newest post");

    // 2. A back-dated post, in the middle of every history it joins: the page it lands in
    // changes, and at most that page's neighbours (when it starts a page of its own).
    let before = after;
    let on_disk = on_disk_after;
    let mid = date_of(40) + Duration::hours(1);
    let back = Post {
        path: format!("_posts/{}-backdated.md", mid.format("%Y-%m-%d")),
        title: "回溯 补发的旧闻".into(),
        date: mid,
        category: BIG_CAT,
        tags: vec![BIG_TAG],
        body: "补发。\n".into(),
    };
    write_atomically(&site.path(&format!("content/{}", back.path)), &back.text());
    posts.push(back.clone());
    eventually("the back-dated post in the site feed's archives", || {
        site_titles_over_http(&d, &client)?
            .contains(&back.title)
            .then_some(())
    });
    let after = walk_all(&over_http, &posts);
    let mut changed_total = 0;
    let mut may_change: BTreeSet<String> = BTreeSet::new();
    for feed in feeds() {
        for fmt in Fmt::ALL {
            let ctx = format!("{} {fmt:?} after a back-dated post", feed.label);
            let (b, a) = (&before[&(feed.label, fmt)], &after[&(feed.label, fmt)]);
            let after_pages: BTreeMap<&str, &Page> =
                a.pages.iter().map(|p| (p.name.as_str(), p)).collect();
            let changed: Vec<&str> = (b.pages.iter())
                .filter(|p| {
                    after_pages
                        .get(p.name.as_str())
                        .is_none_or(|n| n.bytes != p.bytes)
                })
                .map(|p| p.name.as_str())
                .collect();
            if !(feed.pick)(&back) {
                assert!(changed.is_empty(), "{ctx}: pages {changed:?} changed");
                assert_eq!(a.sub.bytes, b.sub.bytes, "{ctx}: subscription document");
                continue;
            }
            let at = a
                .page_with(&back.title)
                .unwrap_or_else(|| panic!("{ctx}: the post is on no archive page"));
            // The page it landed on and its neighbours (their links, when it starts a page
            // of its own). A full page (4 × page_size) is followed by a forced cut, counted
            // from the last post that starts a page: one more post on it moves that cut, so
            // the pages after it up to the next started one, and that one's newer
            // neighbour, may change too (`crate::archive`).
            let mut allowed: BTreeSet<&str> = BTreeSet::new();
            let mut j = at;
            allowed.extend(a.pages.get(at + 1).map(|p| p.name.as_str()));
            loop {
                allowed.insert(&a.pages[j].name);
                if j == 0 {
                    break;
                }
                allowed.insert(&a.pages[j - 1].name);
                if a.pages[j].doc.items.len() < 4 * PAGE_SIZE {
                    break;
                }
                j -= 1;
            }
            // A page that is gone is allowed if its posts are all on allowed pages now.
            let allowed_titles: BTreeSet<&str> = (a.pages.iter())
                .filter(|p| allowed.contains(p.name.as_str()))
                .flat_map(|p| p.doc.items.iter().map(|i| i.title.as_str()))
                .collect();
            for p in &b.pages {
                if !after_pages.contains_key(p.name.as_str())
                    && (p.doc.items.iter()).all(|i| allowed_titles.contains(i.title.as_str()))
                {
                    allowed.insert(&p.name);
                }
            }
            let stray: Vec<&&str> = changed.iter().filter(|n| !allowed.contains(**n)).collect();
            assert!(
                stray.is_empty(),
                "{ctx}: pages {stray:?} changed, though the post landed on {} (allowed: {allowed:?})\nbefore:{}\nafter:{}",
                a.pages[at].name,
                b.outline(),
                a.outline()
            );
            assert!(!changed.is_empty(), "{ctx}: no page changed");
            changed_total += changed.len();
            may_change.extend((allowed.iter()).map(|n| format!("{}archive/{n}/", feed.folder)));
        }
    }
    assert!(changed_total > 0);
    wait_for_disk(&out, &after);
    let on_disk_after = archive_files(&out);
    check_disk_changes(&on_disk, &on_disk_after, &may_change, "a back-dated post");
}

/// The newest archive page of a feed is served with the normal Cache-Control; once a
/// newer page exists it is complete and served `immutable`, in every format, including
/// JSON Feed, whose bytes do not change then (it links only to older pages).
#[test]
fn a_page_that_stops_being_the_newest_is_served_immutable() {
    let mut posts = posts();
    let site = new_site(&posts);
    let d = Daemon::start(&site);
    let client = identity_client();
    let over_http = http(&d, &client);
    let before = walk_all(&over_http, &posts);
    check_caching(&d, &client, &before, "at start");
    let newest = newest_post();
    write_atomically(
        &site.path(&format!("content/{}", newest.path)),
        &newest.text(),
    );
    posts.push(newest.clone());
    eventually("the new post in /feed.xml", || {
        let r = client.get(d.url("/feed.xml")).send().ok()?;
        r.text().ok()?.contains(&newest.title).then_some(())
    });
    let after = walk_all(&over_http, &posts);
    // The fixture makes a new newest page in the site feed (its page before is complete
    // now), and so does the custom feed.
    for label in ["site feed", "custom 美股新闻"] {
        let (b, a) = (&before[&(label, Fmt::Atom)], &after[&(label, Fmt::Atom)]);
        assert_ne!(
            b.pages[0].name, a.pages[0].name,
            "{label}: a new newest page"
        );
    }
    check_caching(&d, &client, &after, "after a new newest post");
}

/// The reverse: when the newest archive page goes (its posts move back into the
/// subscription document), the page before it is the newest again and may change, so it
/// is no longer `immutable`, in any format.
#[test]
fn a_page_that_is_the_newest_again_is_no_longer_immutable() {
    let mut posts = posts();
    let newest = newest_post();
    posts.push(newest.clone());
    let site = new_site(&posts);
    let d = Daemon::start(&site);
    let client = identity_client();
    let over_http = http(&d, &client);
    let before = walk_all(&over_http, &posts);
    check_caching(&d, &client, &before, "at start");
    std::fs::remove_file(site.path(&format!("content/{}", newest.path))).unwrap();
    posts.pop();
    eventually("the deleted post gone from /feed.xml", || {
        let r = client.get(d.url("/feed.xml")).send().ok()?;
        (!r.text().ok()?.contains(&newest.title)).then_some(())
    });
    let after = walk_all(&over_http, &posts);
    for label in ["site feed", "custom 美股新闻"] {
        let (b, a) = (&before[&(label, Fmt::Atom)], &after[&(label, Fmt::Atom)]);
        assert_eq!(
            b.pages[1].name, a.pages[0].name,
            "{label}: the page before is the newest again"
        );
    }
    check_caching(&d, &client, &after, "after the newest post was deleted");
}

/// The `href`s of the `<a>` elements between each `open` and the next `close`.
fn hrefs_in(html: &str, open: &str, close: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for part in html.split(open).skip(1) {
        let mut rest = &part[..part.find(close).unwrap_or(part.len())];
        let mut found = Vec::new();
        while let Some(at) = rest.find("href=\"") {
            rest = &rest[at + 6..];
            let end = rest.find('"').unwrap_or(rest.len());
            found.push(unescape(&rest[..end]));
            rest = &rest[end..];
        }
        out.push(found);
    }
    out
}

/// A person starts at a feed's page and follows its "older posts" links to the end:
/// the archive pages for people list every archived post once, in the Atom walk's order.
#[test]
fn people_browse_the_whole_history_through_older_posts_pages() {
    let posts = posts();
    let (_site, out) = built(&posts);
    let read =
        |rel: &str| std::fs::read_to_string(out.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"));
    for feed in feeds() {
        let atom = walk(&disk(&out), &feed, Fmt::Atom, &expected(&feed, &posts));
        let want: Vec<String> = (atom.pages.iter())
            .flat_map(|p| p.doc.items.iter().map(|i| i.link.clone()))
            .collect();
        let page = read(&format!("{}index.html", feed.folder));
        // The feed's page: one pager, with the newest archive page's link.
        let mut older: Option<String> = hrefs_in(&page, "class=\"pager\"", "</nav>")
            .first()
            .and_then(|links| links.first().cloned());
        assert_eq!(
            older.is_some(),
            !atom.pages.is_empty(),
            "{}: older link",
            feed.label
        );
        let (mut found, mut pages) = (Vec::new(), 0);
        while let Some(url) = older.take() {
            pages += 1;
            assert!(
                pages <= atom.pages.len(),
                "{}: more pages than archives",
                feed.label
            );
            let rel = rel_of(
                &format!("{SITE}{}", url.trim_start_matches(SITE)),
                feed.label,
            );
            let html = read(&format!("{}index.html", rel.trim_start_matches('/')));
            found.extend(hrefs_in(&html, "<h2>", "</h2>").into_iter().flatten());
            // Its pager: the newer page (or the feed's), then the older one if any.
            let pager = hrefs_in(&html, "class=\"pager\"", "</nav>");
            older = pager.first().and_then(|links| links.get(1).cloned());
        }
        assert_eq!(pages, atom.pages.len(), "{}: pages", feed.label);
        assert_eq!(
            found, want,
            "{}: posts on the older-posts pages",
            feed.label
        );
    }
}
