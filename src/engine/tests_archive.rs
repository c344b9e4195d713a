//! Archive documents under changes: applied one by one they end where a fresh build
//! ends, and a complete document changes only when it holds a changed post, or when
//! its feed's pages split or merged (its neighbours' links then follow).

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;

use super::tests::{drive, engine, file, fresh_build, gone, now, World};
use super::*;

const CONFIG: &str = "limit = 5\n[archives]\npage_size = 4";

fn path(n: usize) -> String {
    format!("_posts/2024-01-01-s{n:03}.md")
}

/// Post `n` dated `day` (of 2023, so none is in the future); `version` changes its title.
fn text(n: usize, day: u32, version: usize) -> String {
    let date = chrono::NaiveDate::from_yo_opt(2023, day % 365 + 1).unwrap_or_default();
    let category = ["markets", "bonds"][n % 2];
    format!(
        "---\ntitle: T{n:03} v{version}\ndate: {date} {:02}:00:00 +0800\ncategories: {category}\ntags: [t{}]\n---\nbody {n}\n",
        n % 24,
        n % 3
    )
}

#[derive(Debug, Clone)]
enum Op {
    /// A new post, the newest.
    New,
    /// A new post dated back on this day.
    Backdated(u32),
    Edit(prop::sample::Index),
    Delete(prop::sample::Index),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        Just(Op::New),
        (0..300u32).prop_map(Op::Backdated),
        any::<prop::sample::Index>().prop_map(Op::Edit),
        any::<prop::sample::Index>().prop_map(Op::Delete),
    ]
}

/// The archive folders of each feed (`…/archive/<page>`), by the feed's folder.
fn pages(served: &BTreeMap<String, Vec<u8>>) -> BTreeMap<String, BTreeSet<String>> {
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for rel in served.keys().filter(|r| crate::layout::is_archive_path(r)) {
        let Some((dir, _)) = rel.rsplit_once('/') else {
            continue;
        };
        let Some((feed, _)) = dir.split_once("archive/") else {
            continue;
        };
        out.entry(feed.to_string())
            .or_default()
            .insert(dir.to_string());
    }
    out
}

fn feed_of(rel: &str) -> &str {
    rel.split_once("archive/").map_or("", |(feed, _)| feed)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn archives_follow_changes_and_complete_ones_stay_put(
        ops in prop::collection::vec(op(), 1..20),
    ) {
        let mut live = engine(CONFIG);
        let mut world = World::default();
        let mut served = BTreeMap::new();
        let mut posts: BTreeMap<usize, (u32, usize)> = BTreeMap::new();
        let first: Vec<Change> = (0..60)
            .map(|n| {
                posts.insert(n, (n as u32 * 5, 0));
                world.write(&path(n), text(n, n as u32 * 5, 0));
                file(&path(n), &text(n, n as u32 * 5, 0))
            })
            .collect();
        drive(&mut live, first, &mut world, &mut served, now());
        prop_assert!(served.keys().any(|r| crate::layout::is_archive_path(r)));
        let mut next = 60;
        for op in ops {
            let live_posts: Vec<usize> = posts.keys().copied().collect();
            let (n, change) = match op {
                Op::New => {
                    next += 1;
                    posts.insert(next, (364, 0));
                    (next, Some((364, 0)))
                }
                Op::Backdated(day) => {
                    next += 1;
                    posts.insert(next, (day, 0));
                    (next, Some((day, 0)))
                }
                Op::Edit(i) if !live_posts.is_empty() => {
                    let n = live_posts[i.index(live_posts.len())];
                    let (day, version) = posts[&n];
                    posts.insert(n, (day, version + 1));
                    (n, Some((day, version + 1)))
                }
                Op::Delete(i) if !live_posts.is_empty() => {
                    let n = live_posts[i.index(live_posts.len())];
                    posts.remove(&n);
                    (n, None)
                }
                _ => continue,
            };
            let change = match change {
                Some((day, version)) => {
                    world.write(&path(n), text(n, day, version));
                    file(&path(n), &text(n, day, version))
                }
                None => {
                    world.delete(&path(n));
                    gone(&path(n))
                }
            };
            let before = served.clone();
            let sealed: BTreeSet<String> =
                before.keys().filter(|r| live.is_sealed(r)).cloned().collect();
            drive(&mut live, vec![change], &mut world, &mut served, now());
            let (old_pages, new_pages) = (pages(&before), pages(&served));
            let mark = format!("s{n:03}");
            for rel in &sealed {
                let after = served.get(rel);
                if after == before.get(rel) {
                    continue;
                }
                let holds = |b: Option<&Vec<u8>>| {
                    b.is_some_and(|b| String::from_utf8_lossy(b).contains(&mark))
                };
                let feed = feed_of(rel);
                let split = old_pages.get(feed) != new_pages.get(feed);
                prop_assert!(
                    holds(before.get(rel)) || holds(after) || split,
                    "{} changed without holding {} or a split",
                    rel,
                    mark
                );
            }
        }
        let (fresh, built) = fresh_build(CONFIG, &world);
        prop_assert_eq!(served.keys().collect::<Vec<_>>(), built.keys().collect::<Vec<_>>());
        for (rel, bytes) in &built {
            prop_assert!(served[rel] == *bytes, "{} differs", rel);
        }
        for rel in built.keys() {
            prop_assert_eq!(live.is_sealed(rel), fresh.is_sealed(rel), "{}", rel);
        }
    }
}
