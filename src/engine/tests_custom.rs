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
