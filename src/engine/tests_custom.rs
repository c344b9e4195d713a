//! Named custom feeds (`[[custom]]`) through the engine: built, published and changed
//! like category feeds.

use super::tests::{apply, changes_of, engine, file, gone, now, post};
use super::*;
use crate::names::FeedName;

const CUSTOM: &str =
    "[[custom]]\nname = \"USD\"\nquery = \"cat=emnews&q=美元&not=港股\"\nlimit = 2\n";

fn usd() -> FeedKey {
    FeedKey::Custom(FeedName::new("usd"))
}

#[test]
fn a_named_custom_feed_is_published_and_follows_its_posts() {
    let mut e = engine(CUSTOM);
    // Exists, empty, from the first build: its URL is in readers.
    let (_, files) = apply(&mut e, vec![], now());
    assert!(
        files.contains(&"custom/usd/feed.xml".to_string()),
        "{files:?}"
    );
    let a = "_posts/2024-01-01-a.md";
    let b = "_posts/2024-01-02-b.md";
    let c = "_posts/2024-01-03-c.md";
    let d = "_posts/2024-01-04-d.md";
    let (out, files) = apply(
        &mut e,
        vec![
            file(a, &post("美元 up", "2024-01-01", "emnews", "x")),
            file(b, &post("美元 港股", "2024-01-02", "emnews", "x")),
            file(c, &post("other", "2024-01-03", "emnews", "x")),
            file(d, &post("美元 elsewhere", "2024-01-04", "other", "x")),
        ],
        now(),
    );
    assert!(files.contains(&"custom/usd/rss.xml".to_string()));
    let change = &changes_of(&out)[&usd()];
    assert_eq!(change.1, vec![a.to_string()], "only a matches");
    assert_eq!(e.index.feed(&usd(), &e.config).map(|g| g.total), Some(1));
    // An edit that makes a post match enters it; newest first, cut to the limit.
    let (out, _) = apply(
        &mut e,
        vec![file(c, &post("美元 now", "2024-01-03", "emnews", "x"))],
        now(),
    );
    let change = &changes_of(&out)[&usd()];
    assert_eq!(change.1, vec![c.to_string()]);
    let group = e.index.feed(&usd(), &e.config).unwrap();
    assert_eq!(group.posts, vec![c.to_string(), a.to_string()]);
    // A deletion leaves it; the feed stays, empty when nothing matches.
    let (out, _) = apply(&mut e, vec![gone(c), gone(a)], now());
    assert_eq!(changes_of(&out)[&usd()].2.len(), 2);
    let group = e.index.feed(&usd(), &e.config).unwrap();
    assert!(group.posts.is_empty());
    assert!(e.files().any(|f| f == "custom/usd/feed.json"));
}

#[test]
fn an_old_post_shown_only_in_a_custom_feed_keeps_its_rendered_entry() {
    // limit 1: the old matching post is in no other feed's newest.
    let mut e = engine(&format!("limit = 1\n{CUSTOM}"));
    let old = "_posts/2020-01-01-old.md";
    let new = "_posts/2024-01-01-new.md";
    apply(
        &mut e,
        vec![
            file(old, &post("美元", "2020-01-01", "emnews", "x")),
            file(new, &post("news", "2024-01-01", "emnews", "x")),
        ],
        now(),
    );
    let group = e.index.feed(&usd(), &e.config).unwrap();
    assert_eq!(group.posts, vec![old.to_string()]);
    assert!(e.parts.contains_key(old), "rendered and kept");
    // Another post changes: nothing to read again.
    let (out, _) = apply(
        &mut e,
        vec![file(new, &post("news 2", "2024-01-01", "emnews", "x"))],
        now(),
    );
    assert!(out.reread.is_empty(), "{:?}", out.reread);
}

#[test]
fn a_post_entering_only_a_custom_feed_is_read_once_and_rendered() {
    let custom = "[[custom]]\nname = \"USD\"\nquery = \"q=美元\"\nlimit = 2\n";
    let mut e = engine(&format!("limit = 1\n{custom}"));
    let (p1, p2, p3) = (
        "_posts/2020-01-03-p1.md",
        "_posts/2020-01-02-p2.md",
        "_posts/2020-01-01-p3.md",
    );
    let newest = "_posts/2024-01-01-n.md";
    let text = |title: &str, date: &str| post(title, date, "old", "x");
    apply(
        &mut e,
        vec![
            file(p1, &text("美元 1", "2020-01-03")),
            file(p2, &text("美元 2", "2020-01-02")),
            file(p3, &text("美元 3", "2020-01-01")),
            file(newest, &post("news", "2024-01-01", "new", "y")),
        ],
        now(),
    );
    // p3 enters the custom feed: its text is asked for once, then it is rendered.
    let (out, _) = apply(&mut e, vec![gone(p1)], now());
    assert_eq!(out.reread, vec![p3.to_string()]);
    let (out, _) = apply(&mut e, vec![file(p3, &text("美元 3", "2020-01-01"))], now());
    assert!(out.reread.is_empty(), "asked again: {:?}", out.reread);
    assert_eq!(e.index.feed(&usd(), &e.config).unwrap().posts, [p2, p3]);
    assert!(e.parts.contains_key(p3));
}

#[test]
fn a_cached_selection_is_stale_when_its_base_is_spelled_anew() {
    let mut e = engine("");
    let a = "_posts/2024-01-01-a.md";
    apply(
        &mut e,
        vec![file(a, &post("美元", "2024-01-01", "emnews", "x"))],
        now(),
    );
    let catalog = e.catalog();
    let query = crate::query::Query::parse("q=美元").unwrap().unwrap();
    let key = FeedKey::Category(FeedName::new("emnews"));
    let plan = crate::query::feed::plan(&catalog, &key, &query).unwrap();
    let result = crate::query::feed::select(&catalog, &plan);
    // A post outside the result, spelling the category so that the feed's name changes.
    let b = "_posts/2024-01-02-b.md";
    apply(
        &mut e,
        vec![file(b, &post("other", "2024-01-02", "EMNews", "x"))],
        now(),
    );
    let later = e.catalog();
    assert!(!crate::query::feed::still_valid(
        &later,
        &plan,
        &result,
        catalog.version
    ));
    // An unrelated post elsewhere leaves it valid.
    let plan = crate::query::feed::plan(&later, &key, &query).unwrap();
    let result = crate::query::feed::select(&later, &plan);
    let c = "_posts/2024-01-03-c.md";
    apply(
        &mut e,
        vec![file(c, &post("other", "2024-01-03", "xihai", "x"))],
        now(),
    );
    assert!(crate::query::feed::still_valid(
        &e.catalog(),
        &plan,
        &result,
        later.version
    ));
}

/// A build keeps no searchable text unless a custom feed looks for words, and writes the
/// same bytes either way (the summary is then made when the entry is rendered).
#[test]
fn without_search_the_same_bytes_are_published() {
    let long = format!("<p>{}</p>\n\n<p>second</p>", "市场 ".repeat(400));
    let posts = |e: &mut Engine| {
        let sink = Collect::default();
        let changes = vec![
            file("_posts/2024-01-01-a.md", &post("A", "2024-01-01", "c", "t")),
            file(
                "_posts/2024-01-02-b.md",
                &format!("---\ntitle: B\ndate: 2024-01-02\ncategories: c\n---\n{long}\n"),
            ),
        ];
        e.apply([changes], now(), &sink);
        let mut files = sink.into_files();
        files.sort();
        files
    };
    let searched = posts(&mut engine(""));
    let mut plain = engine("").without_search();
    assert!(!plain.search);
    assert_eq!(posts(&mut plain), searched);
    let words = engine("[[custom]]\nname = \"m\"\nquery = \"q=市场\"").without_search();
    assert!(words.search, "a custom feed with words needs the text");
}

/// New reader figures render only the pages whose figures changed; no feed's bytes
/// change, so nothing is pushed.
#[test]
fn reader_figures_change_only_their_feeds_pages() {
    use super::tests::{apply, engine, file, now, post};
    use crate::stats::report::FeedReaders;
    let mut e = engine("");
    let a = "_posts/2024-01-01-a.md";
    apply(
        &mut e,
        vec![file(a, &post("A", "2024-01-01", "news", "x"))],
        now(),
    );
    let day = |d: u32| chrono::NaiveDate::from_ymd_opt(2024, 12, d).unwrap();
    let readers = FeedReaders {
        last_day: 1234,
        window: (day(1), day(3)),
        daily: vec![(day(1), 1000), (day(2), 1234)],
    };
    let tag = FeedKey::Tag(crate::names::FeedName::new("x"));
    let table = |r: &FeedReaders| [(tag.clone(), r.clone()), (FeedKey::Site, r.clone())];
    e.set_readers(table(&readers).into_iter().collect());
    let sink = Collect::default();
    let out = e.apply([vec![]], now(), &sink);
    let mut files = sink.into_files();
    files.sort_by(|a, b| a.0.cmp(&b.0));
    let names: Vec<&str> = files.iter().map(|(rel, _)| rel.as_str()).collect();
    assert_eq!(names, ["index.html", "tags/x/index.html"]);
    for (rel, bytes) in &files {
        let page = String::from_utf8(bytes.to_vec()).unwrap();
        assert!(
            page.contains("1,234") && page.contains("<svg"),
            "{rel}: {page}"
        );
    }
    assert!(out.feed_changes.is_empty());
    // The same figures again: nothing to do.
    e.set_readers(table(&readers).into_iter().collect());
    let sink = Collect::default();
    e.apply([vec![]], now(), &sink);
    assert!(sink.into_files().is_empty());
}
