//! Pages of a custom feed's result (`before=` cursors): a walk along `rel="next"` finds
//! every selected post once, in order, whatever changes between two pages; and a cached
//! page that `still_valid` keeps is the page a fresh selection gives.

use std::collections::BTreeMap;

use proptest::prelude::*;

use super::tests::{apply, engine, file, gone, now};
use super::*;
use crate::query::feed::{plan, select, still_valid, Plan};
use crate::query::Query;

const CONFIG: &str = "limit = 3";

fn path(n: usize) -> String {
    format!("_posts/2023-01-01-p{n:03}.md")
}

/// Post `n` on `day` of 2023 (few days: many ties, ordered by path); with the word 美元
/// when `usd`, in category `c{n % 2}`.
fn text(day: u32, usd: bool, n: usize) -> String {
    let date = chrono::NaiveDate::from_yo_opt(2023, day % 365 + 1).unwrap_or_default();
    let word = if usd { "美元" } else { "欧元" };
    format!(
        "---\ntitle: {word} {n}\ndate: {date} 08:00:00 +0800\ncategories: c{}\n---\nbody\n",
        n % 2
    )
}

/// What the test knows: each live post's day and whether it says 美元.
type Model = BTreeMap<usize, (u32, bool)>;

/// The posts `q=美元` on category `c0` selects, in every feed's order: newest first,
/// ties by path. The test's own ordering, not the index's.
fn expected(model: &Model) -> Vec<String> {
    let mut posts: Vec<(u32, String)> = (model.iter())
        .filter(|(n, (_, usd))| *usd && *n % 2 == 0)
        .map(|(n, (day, _))| (*day, path(*n)))
        .collect();
    posts.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    posts.into_iter().map(|(_, p)| p).collect()
}

fn key() -> FeedKey {
    FeedKey::Category(crate::names::FeedName::new("c0"))
}

fn plan_for(catalog: &Catalog, raw: &str) -> Plan {
    let query = Query::parse(raw).unwrap().unwrap();
    plan(catalog, &key(), &query).unwrap()
}

/// Every page from the first, following `rel="next"`: (query string, result).
fn walk(catalog: &Catalog) -> Vec<(String, Vec<Arc<str>>)> {
    let mut pages = Vec::new();
    let mut raw = "q=美元".to_string();
    loop {
        let plan = plan_for(catalog, &raw);
        let result = select(catalog, &plan);
        let paging = plan.paging(catalog, &result);
        assert_eq!(paging.first.is_some(), !pages.is_empty(), "{raw}");
        assert!(plan.page(&result).len() <= 3);
        pages.push((raw.clone(), result));
        match paging.next {
            Some(next) => raw = next,
            None => return pages,
        }
        assert!(pages.len() < 100, "the walk does not end");
    }
}

fn shown(pages: &[(String, Vec<Arc<str>>)]) -> Vec<String> {
    (pages.iter())
        .flat_map(|(_, result)| result.iter().take(3).map(|s| s.to_string()))
        .collect()
}

#[test]
fn a_walk_finds_every_post_once_and_a_cursor_outlives_its_post() {
    let mut e = engine(CONFIG);
    let mut model = Model::new();
    let mut changes = Vec::new();
    for n in 0..20 {
        let (day, usd) = (n as u32 / 3, n % 5 != 1);
        model.insert(n, (day, usd));
        changes.push(file(&path(n), &text(day, usd, n)));
    }
    apply(&mut e, changes, now());
    let catalog = e.catalog();
    let pages = walk(&catalog);
    assert_eq!(shown(&pages), expected(&model));
    assert!(pages.len() >= 3, "{}", pages.len());
    // The post a cursor names is deleted: the page after it still starts right there.
    let second = pages[1].0.clone();
    let named = pages[0].1[2].to_string();
    apply(&mut e, vec![gone(&named)], now());
    let later = e.catalog();
    let plan = plan_for(&later, &second);
    assert_eq!(select(&later, &plan), pages[1].1);
    // A malformed cursor is an error, never the first page.
    assert!(Query::parse("q=美元&before=12").is_err());
}

#[derive(Debug, Clone)]
enum Op {
    New(u32, bool),
    Edit(prop::sample::Index, u32, bool),
    Delete(prop::sample::Index),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0..12u32, any::<bool>()).prop_map(|(d, u)| Op::New(d, u)),
        (any::<prop::sample::Index>(), 0..12u32, any::<bool>())
            .prop_map(|(i, d, u)| Op::Edit(i, d, u)),
        any::<prop::sample::Index>().prop_map(Op::Delete),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn pages_under_changes(ops in prop::collection::vec(op(), 1..16)) {
        let mut e = engine(CONFIG);
        let mut model = Model::new();
        let first: Vec<Change> = (0..16)
            .map(|n| {
                let (day, usd) = (n as u32 % 7, n % 3 != 0);
                model.insert(n, (day, usd));
                file(&path(n), &text(day, usd, n))
            })
            .collect();
        apply(&mut e, first, now());
        let mut next = 16;
        let mut catalog = e.catalog();
        // Every page as cached at some version: (query, result, version).
        let mut cached: Vec<(String, Vec<Arc<str>>, u64)> = (walk(&catalog).into_iter())
            .map(|(raw, result)| (raw, result, catalog.version))
            .collect();
        for op in ops {
            let live: Vec<usize> = model.keys().copied().collect();
            let change = match op {
                Op::New(day, usd) => {
                    next += 1;
                    model.insert(next, (day, usd));
                    file(&path(next), &text(day, usd, next))
                }
                Op::Edit(i, day, usd) if !live.is_empty() => {
                    let n = live[i.index(live.len())];
                    model.insert(n, (day, usd));
                    file(&path(n), &text(day, usd, n))
                }
                Op::Delete(i) if !live.is_empty() => {
                    let n = live[i.index(live.len())];
                    model.remove(&n);
                    gone(&path(n))
                }
                _ => continue,
            };
            apply(&mut e, vec![change], now());
            catalog = e.catalog();
            let pages = walk(&catalog);
            prop_assert_eq!(shown(&pages), expected(&model));
            // A page kept as valid shows what it would show made now, with the same
            // next link; one made again is cached anew.
            for (raw, result, version) in &mut cached {
                let plan = plan_for(&catalog, raw);
                let fresh = select(&catalog, &plan);
                if still_valid(&catalog, &plan, result, *version) {
                    prop_assert_eq!(plan.page(result), plan.page(&fresh), "{}", raw);
                    prop_assert_eq!(
                        plan.paging(&catalog, result),
                        plan.paging(&catalog, &fresh),
                        "{}", raw
                    );
                } else {
                    *result = fresh;
                    *version = catalog.version;
                }
            }
            cached.extend(
                pages.into_iter().map(|(raw, result)| (raw, result, catalog.version)),
            );
        }
    }
}
