//! The engine in-process: changes in, outputs out; no file system, no threads, no clock.

use std::collections::BTreeMap;

use chrono::{DateTime, TimeZone, Utc};
use proptest::prelude::*;

use super::*;
use crate::names::FeedName;

pub(super) fn engine(extra: &str) -> Engine {
    let toml = format!("{extra}\n[site]\nurl = \"https://t.example\"\ntitle = \"T\"\n");
    Engine::new(Config::parse(&toml, None).unwrap())
}

pub(super) fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap()
}

pub(super) fn post(title: &str, date: &str, category: &str, tag: &str) -> String {
    format!("---\ntitle: {title}\ndate: {date}\ncategories: {category}\ntags: {tag}\n---\n<p>{title} body</p>\n")
}

pub(super) fn file(rel: &str, text: &str) -> Change {
    Change::File {
        rel: rel.to_string(),
        stamp: Stamp {
            len: text.len() as u64,
            modified: None,
        },
        content: Content::Bytes(text.as_bytes().to_vec()),
        complete: true,
    }
}

pub(super) fn gone(rel: &str) -> Change {
    Change::Gone {
        rel: rel.to_string(),
    }
}

/// Applies one batch; returns the output and the files handed to the sink.
pub(super) fn apply(
    engine: &mut Engine,
    changes: Vec<Change>,
    at: DateTime<Utc>,
) -> (Output, Vec<String>) {
    let sink = Collect::default();
    let out = engine.apply([changes], at, &sink);
    let weight: usize = engine.parts.values().map(|p| p.weight()).sum();
    assert_eq!(
        engine.parts_weight(),
        weight,
        "the kept total follows the parts"
    );
    let files = sink.into_files().into_iter().map(|(rel, _)| rel).collect();
    (out, files)
}

fn tag(name: &str) -> FeedKey {
    FeedKey::Tag(FeedName::new(name))
}

fn category(name: &str) -> FeedKey {
    FeedKey::Category(FeedName::new(name))
}

/// A feed change as (kind, entered, left, changed).
type Summary = (FeedChangeKind, Vec<String>, Vec<String>, Vec<String>);

pub(super) fn changes_of(out: &Output) -> BTreeMap<FeedKey, Summary> {
    out.feed_changes
        .iter()
        .map(|c| {
            (
                c.key.clone(),
                (c.kind, c.entered.clone(), c.left.clone(), c.changed.clone()),
            )
        })
        .collect()
}

const A: &str = "_posts/2024-01-01-a.md";
const B: &str = "_posts/2024-01-02-b.md";

#[test]
fn a_new_post_adds_its_feeds_in_every_format() {
    let mut e = engine("");
    let (out, files) = apply(
        &mut e,
        vec![file(A, &post("A", "2024-01-01", "news", "x"))],
        now(),
    );
    let changes = changes_of(&out);
    let added = (FeedChangeKind::Added, vec![A.to_string()], vec![], vec![]);
    assert_eq!(changes.get(&FeedKey::Site), Some(&added));
    assert_eq!(changes.get(&category("news")), Some(&added));
    assert_eq!(changes.get(&tag("x")), Some(&added));
    assert!(out.feed_changes.iter().all(|c| c.formats == Format::ALL));
    for want in [
        "feed.xml",
        "rss.xml",
        "feed.json",
        "categories/news/feed.xml",
        "tags/x/feed.json",
        "feeds.opml",
    ] {
        assert!(files.iter().any(|f| f == want), "{want} in {files:?}");
    }
    let (mut sent, mut said) = (files.clone(), out.published.clone());
    sent.sort();
    said.sort();
    assert_eq!(sent, said);
    assert_eq!(out.report.entries_rendered, 1);
}

#[test]
fn the_same_bytes_again_change_nothing_and_an_edit_is_reported_as_changed() {
    let mut e = engine("");
    apply(
        &mut e,
        vec![file(A, &post("A", "2024-01-01", "news", "x"))],
        now(),
    );
    let (out, files) = apply(
        &mut e,
        vec![file(A, &post("A", "2024-01-01", "news", "x"))],
        now(),
    );
    assert!(out.feed_changes.is_empty() && files.is_empty(), "{out:?}");
    let (out, _) = apply(
        &mut e,
        vec![file(A, &post("A2", "2024-01-01", "news", "x"))],
        now(),
    );
    let changed = (FeedChangeKind::Updated, vec![], vec![], vec![A.to_string()]);
    assert_eq!(changes_of(&out).get(&tag("x")), Some(&changed));
    assert_eq!(out.report.posts_changed, 1);
}

#[test]
fn a_post_moving_between_tags_adds_one_feed_and_removes_the_other() {
    let mut e = engine("");
    apply(
        &mut e,
        vec![file(A, &post("A", "2024-01-01", "news", "old"))],
        now(),
    );
    let (out, files) = apply(
        &mut e,
        vec![file(A, &post("A", "2024-01-01", "news", "new"))],
        now(),
    );
    let changes = changes_of(&out);
    assert_eq!(changes[&tag("old")].0, FeedChangeKind::Removed);
    assert_eq!(changes[&tag("new")].0, FeedChangeKind::Added);
    assert!(out.removed.contains(&"tags/old/feed.xml".to_string()));
    assert!(files.contains(&"feeds.opml".to_string()));
    assert!(!e.files().any(|f| f.starts_with("tags/old/")));
}

#[test]
fn a_broken_edit_keeps_the_previous_version() {
    let mut e = engine("");
    apply(
        &mut e,
        vec![file(A, &post("A", "2024-01-01", "news", "x"))],
        now(),
    );
    let (out, files) = apply(&mut e, vec![file(A, "---\ntitle: [unclosed\n---\n")], now());
    assert!(files.is_empty() && out.feed_changes.is_empty());
    assert_eq!(out.report.errors.len(), 1);
    assert!(
        out.report.errors[0].starts_with("_posts/2024-01-01-a.md:2:"),
        "{:?}",
        out.report.errors
    );
    assert_eq!(e.posts(), 1);
    assert_eq!(e.errors().count(), 1);
    // Fixing it clears the error.
    apply(
        &mut e,
        vec![file(A, &post("A", "2024-01-01", "news", "x"))],
        now(),
    );
    assert_eq!(e.errors().count(), 0);
}

#[test]
fn half_written_files_are_deferred_and_temp_names_are_not_posts() {
    let mut e = engine("");
    let mut half = file(A, "---\ntitle: A\n");
    if let Change::File { complete, .. } = &mut half {
        *complete = false;
    }
    let (out, _) = apply(&mut e, vec![half], now());
    assert_eq!(out.deferred, [A]);
    assert_eq!(e.errors().count(), 0);
    let (out, files) = apply(
        &mut e,
        vec![file(
            "_posts/2024-01-03-copy.md.part",
            &post("P", "2024-01-03", "c", "t"),
        )],
        now(),
    );
    assert_eq!(e.posts(), 0);
    assert!(
        changes_of(&out).keys().all(|k| *k == FeedKey::Site),
        "{out:?}"
    );
    assert!(files.iter().all(|f| !f.contains("tags/")));
}

#[test]
fn a_post_that_enters_a_feed_later_is_read_again_before_the_feed_is_rendered() {
    let mut e = engine("limit = 1");
    let (out, _) = apply(
        &mut e,
        vec![
            file(A, &post("A", "2024-01-01", "news", "x")),
            file(B, &post("B", "2024-01-02", "news", "x")),
        ],
        now(),
    );
    assert_eq!(out.report.entries_rendered, 1, "only B is in a feed");
    let (out, files) = apply(&mut e, vec![gone(B)], now());
    assert_eq!(out.reread, [A]);
    assert!(files.is_empty() && out.feed_changes.is_empty());
    // The file was edited meanwhile: the new bytes are what gets published.
    let (out, _) = apply(
        &mut e,
        vec![file(A, &post("A edited", "2024-01-01", "news", "x"))],
        now(),
    );
    assert!(out.reread.is_empty());
    let site = &changes_of(&out)[&FeedKey::Site];
    assert_eq!(
        (site.1.as_slice(), site.2.as_slice()),
        (&[A.to_string()][..], &[B.to_string()][..])
    );
}

#[test]
fn future_posts_go_live_when_their_time_comes() {
    let mut e = engine("");
    let (out, _) = apply(
        &mut e,
        vec![file(A, &post("A", "2030-01-01", "news", "x"))],
        now(),
    );
    assert_eq!(e.posts(), 0);
    assert!(!changes_of(&out).contains_key(&tag("x")));
    assert_eq!(
        e.next_due(),
        Some(Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0).unwrap())
    );
    let later = Utc.with_ymd_and_hms(2030, 1, 2, 0, 0, 0).unwrap();
    let (out, _) = apply(&mut e, vec![], later);
    assert_eq!(out.reread, [A]);
    let (out, _) = apply(
        &mut e,
        vec![file(A, &post("A", "2030-01-01", "news", "x"))],
        later,
    );
    assert_eq!(changes_of(&out)[&tag("x")].0, FeedChangeKind::Added);
}

#[test]
fn a_folder_gone_takes_its_posts_with_it() {
    let mut e = engine("");
    let desk = "desk/_posts/2024-01-05-d.md";
    let (inner, sibling) = (
        "desk/w/_posts/2024-01-06-w.md",
        "desk-2/_posts/2024-01-07-s.md",
    );
    apply(
        &mut e,
        vec![
            file(desk, &post("D", "2024-01-05", "x", "t")),
            file(inner, &post("W", "2024-01-06", "x", "t")),
            file(sibling, &post("S", "2024-01-07", "z", "v")),
            file(A, &post("A", "2024-01-01", "y", "u")),
        ],
        now(),
    );
    // A path never known (a temporary file renamed away) changes nothing.
    let (out, _) = apply(&mut e, vec![gone("desk/_posts/.tmp-1")], now());
    assert!(out.feed_changes.is_empty());
    let (out, _) = apply(&mut e, vec![gone("desk/w")], now());
    assert_eq!(changes_of(&out)[&FeedKey::Site].2, [inner]);
    let (out, _) = apply(&mut e, vec![gone("desk")], now());
    let changes = changes_of(&out);
    assert_eq!(changes[&category("desk")].0, FeedChangeKind::Removed);
    assert_eq!(changes[&tag("t")].0, FeedChangeKind::Removed);
    assert_eq!(changes[&FeedKey::Site].2, [desk]);
    let mut left: Vec<_> = e.known().collect();
    left.sort();
    assert_eq!(left, [A, sibling]);
    // The folder is forgotten with its last file: a file of that name now is a file.
    let (out, _) = apply(&mut e, vec![gone("desk")], now());
    assert!(out.feed_changes.is_empty());
}

#[test]
fn an_empty_site_still_has_its_site_feed() {
    let mut e = engine("");
    let (_, files) = apply(&mut e, vec![], now());
    assert!(files.contains(&"feed.xml".to_string()) && files.contains(&"feeds.opml".to_string()));
}

/// A small world of files for the property test: a few post paths (one a temporary
/// name), each with a few possible contents (different dates, terms, a broken one).
const PATHS: [&str; 5] = [
    "_posts/2024-01-01-a.md",
    "_posts/2024-01-02-b.md",
    "news/_posts/2024-01-03-c.md",
    "_posts/sub/2024-01-04-d.md",
    "_posts/2024-01-05-e.md.tmp",
];

fn content(variant: usize) -> String {
    match variant {
        0 => post("One", "2024-02-01 10:00:00 +0800", "news", "x"),
        1 => post("Two", "2024-02-02 10:00:00 +0800", "markets", "x"),
        2 => post("Three", "2024-02-01 10:00:00 +0800", "news", "y"),
        3 => post("Four", "2030-01-01", "later", "z"),
        4 => "---\ntitle: [broken\n---\n".to_string(),
        _ => "---\npublished: false\n---\nhidden\n".to_string(),
    }
}

#[derive(Debug, Clone)]
enum Op {
    Write(usize, usize),
    Delete(usize),
    Rename(usize, usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0..PATHS.len(), 0..6usize).prop_map(|(p, v)| Op::Write(p, v)),
        (0..PATHS.len()).prop_map(Op::Delete),
        (0..PATHS.len(), 0..PATHS.len()).prop_map(|(a, b)| Op::Rename(a, b)),
    ]
}

/// The files a fresh build must see to end where the live engine ends: the files on
/// disk, except that a broken edit keeps the previous good version of its post.
#[derive(Default)]
pub(super) struct World {
    pub(super) disk: BTreeMap<String, String>,
    pub(super) effective: BTreeMap<String, String>,
}

impl World {
    pub(super) fn write(&mut self, rel: &str, text: String) {
        if !text.contains("[broken") {
            self.effective.insert(rel.to_string(), text.clone());
        }
        self.disk.insert(rel.to_string(), text);
    }

    pub(super) fn delete(&mut self, rel: &str) -> Option<String> {
        self.effective.remove(rel);
        self.disk.remove(rel)
    }
}

/// A fresh engine's build of the files a live one ends with (`World::effective`), and
/// the files it published.
pub(super) fn fresh_build(extra: &str, world: &World) -> (Engine, BTreeMap<String, Vec<u8>>) {
    let mut fresh = engine(extra);
    let mut built = BTreeMap::new();
    let all = world
        .effective
        .iter()
        .map(|(rel, text)| file(rel, text))
        .collect();
    let mut fresh_world = World {
        disk: world.effective.clone(),
        effective: BTreeMap::new(),
    };
    drive(&mut fresh, all, &mut fresh_world, &mut built, now());
    (fresh, built)
}

/// Applies one batch and answers re-reads from the world's disk, as the drivers do;
/// keeps `served` equal to what the outputs say is published.
pub(super) fn drive(
    e: &mut Engine,
    changes: Vec<Change>,
    world: &mut World,
    served: &mut BTreeMap<String, Vec<u8>>,
    at: DateTime<Utc>,
) {
    let mut changes = changes;
    for _ in 0..4 {
        let sink = Collect::default();
        let out = e.apply([changes], at, &sink);
        for rel in &out.removed {
            served.remove(rel);
        }
        served.extend(sink.into_files());
        if out.reread.is_empty() {
            return;
        }
        changes = out
            .reread
            .iter()
            .map(|rel| match world.disk.get(rel) {
                Some(text) => {
                    if text.contains("[broken") {
                        // Its old version cannot be rendered without its text.
                        world.effective.remove(rel);
                    }
                    file(rel, text)
                }
                None => gone(rel),
            })
            .collect();
    }
    panic!("re-reads did not settle");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Changes applied one by one end exactly where one `apply` of the final files ends,
    /// also when rendered entries are let go after every change (all of them, some, or
    /// none: a long-running server keeps only `entries_mib` of them).
    #[test]
    fn one_by_one_equals_all_at_once(
        ops in prop::collection::vec(op(), 1..25),
        limit in 1..3usize,
        budget in prop_oneof![Just(0usize), Just(1500), Just(usize::MAX)],
    ) {
        let extra = format!("limit = {limit}\n[archives]\npage_size = 4");
        let mut live = engine(&extra);
        let mut world = World::default();
        let mut served = BTreeMap::new();
        drive(&mut live, vec![], &mut world, &mut served, now());
        for op in ops {
            let changes = match op {
                Op::Write(p, v) => {
                    world.write(PATHS[p], content(v));
                    vec![file(PATHS[p], &content(v))]
                }
                Op::Delete(p) => {
                    world.delete(PATHS[p]);
                    vec![gone(PATHS[p])]
                }
                Op::Rename(a, b) if a == b => vec![],
                Op::Rename(a, b) => match world.delete(PATHS[a]) {
                    Some(text) => {
                        world.write(PATHS[b], text.clone());
                        vec![gone(PATHS[a]), file(PATHS[b], &text)]
                    }
                    None => vec![gone(PATHS[a])],
                },
            };
            drive(&mut live, changes, &mut world, &mut served, now());
            live.shed_parts(budget);
        }
        let (fresh, built) = fresh_build(&extra, &world);
        prop_assert_eq!(served.keys().collect::<Vec<_>>(), built.keys().collect::<Vec<_>>());
        for (rel, bytes) in &built {
            prop_assert!(served[rel] == *bytes, "{} differs", rel);
        }
        prop_assert_eq!(live.files().collect::<Vec<_>>(), fresh.files().collect::<Vec<_>>());
    }
}
