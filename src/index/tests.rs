use super::*;
use crate::post::{Post, PostRules};

fn post(source: &str, date: &str, tags: &str) -> Post {
    let rules = PostRules {
        timezone: chrono_tz::UTC,
        permalink: "date".into(),
        excerpt_separator: "\n\n".into(),
        site_url: crate::url::SiteUrl::new("https://example.com", ""),
    };
    let text = format!("---\ndate: {date}\ntags: {tags}\n---\nbody\n");
    Post::parse(source, &text, &rules).unwrap().unwrap()
}

fn add(index: &mut Index, post: Post) -> Vec<FeedKey> {
    index.insert(&post, crate::index::Kept::default())
}

fn config(limit: usize) -> Config {
    Config::parse(&format!("limit = {limit}"), None).unwrap()
}

#[test]
fn newest_first_with_path_tie_break_and_limit() {
    let c = config(2);
    let mut index = Index::default();
    add(
        &mut index,
        post("_posts/2023-01-01-b.md", "2023-01-01 10:00:00 +0000", "x"),
    );
    add(
        &mut index,
        post("_posts/2023-01-01-a.md", "2023-01-01 10:00:00 +0000", "x"),
    );
    add(
        &mut index,
        post("_posts/2022-01-01-old.md", "2022-01-01 10:00:00 +0000", "x"),
    );
    let site = index.feed(&FeedKey::Site, &c).unwrap();
    assert_eq!(
        site.posts,
        ["_posts/2023-01-01-a.md", "_posts/2023-01-01-b.md"]
    );
    assert_eq!(site.total, 3);
}

#[test]
fn case_variants_share_a_feed_and_vanish_with_their_last_post() {
    let c = config(10);
    let mut index = Index::default();
    add(
        &mut index,
        post("_posts/2023-01-01-a.md", "2023-01-01", "Alpha"),
    );
    let affected = add(
        &mut index,
        post("_posts/2023-01-02-b.md", "2023-01-02", "alpha"),
    );
    let key = FeedKey::Tag(FeedName::new("alpha"));
    assert!(affected.contains(&key) && affected.contains(&FeedKey::Site));
    let feed = index.feed(&key, &c).unwrap();
    assert_eq!((feed.label.as_str(), feed.total), ("Alpha", 2));
    index.remove("_posts/2023-01-01-a.md");
    assert_eq!(index.feed(&key, &c).unwrap().label, "alpha");
    index.remove("_posts/2023-01-02-b.md");
    assert!(index.feed(&key, &c).is_none());
    assert_eq!(index.feed_keys(&c).count(), 1);
}

#[test]
fn replacing_a_post_moves_it_between_feeds() {
    let c = config(10);
    let mut index = Index::default();
    add(
        &mut index,
        post("_posts/2023-01-01-a.md", "2023-01-01", "old"),
    );
    let affected = add(
        &mut index,
        post("_posts/2023-01-01-a.md", "2023-01-01", "new"),
    );
    assert!(affected.contains(&FeedKey::Tag(FeedName::new("old"))));
    assert!(affected.contains(&FeedKey::Tag(FeedName::new("new"))));
    assert!(index
        .feed(&FeedKey::Tag(FeedName::new("old")), &c)
        .is_none());
    assert_eq!(index.len(), 1);
}

mod selection {
    use super::*;
    use crate::query::{searchable, Query, SearchText};
    use proptest::prelude::*;

    const CATS: [&str; 3] = ["a", "b", "C"];
    const TAGS: [&str; 3] = ["x", "y", "港股"];
    const WORDS: [&str; 3] = ["美元", "Dollar", "降准"];

    /// One post: day, categories, tags and title words, as indexes into the pools.
    type Spec = (u8, Vec<usize>, Vec<usize>, Vec<usize>);

    fn arb_post() -> impl Strategy<Value = Spec> {
        (
            0u8..20,
            proptest::collection::vec(0..3usize, 0..3),
            proptest::collection::vec(0..3usize, 0..3),
            proptest::collection::vec(0..3usize, 0..3),
        )
    }

    fn arb_query() -> impl Strategy<Value = String> {
        let name = |pool: [&'static str; 3]| {
            (any::<bool>(), 0..3usize)
                .prop_map(move |(neg, i)| format!("{}{}", if neg { "-" } else { "" }, pool[i]))
        };
        let value = |pool| {
            proptest::collection::vec(proptest::collection::vec(name(pool), 1..3), 1..3).prop_map(
                |alts| {
                    let alts: Vec<String> = alts.iter().map(|all| all.join("+")).collect();
                    alts.join(",")
                },
            )
        };
        let word = (0..3usize).prop_map(|i| WORDS[i].to_lowercase());
        (
            proptest::option::of(value(CATS)),
            proptest::option::of(value(TAGS)),
            proptest::option::of(word.clone()),
            proptest::option::of(word),
        )
            .prop_map(|(c, t, q, n)| {
                let mut parts = Vec::new();
                parts.extend(c.map(|v| format!("cat={v}")));
                parts.extend(t.map(|v| format!("tag={v}")));
                parts.extend(q.map(|v| format!("q={v}")));
                parts.extend(n.map(|v| format!("not={v}")));
                // Always selects something; its `-a` alternative cannot drive the walk.
                parts.push("cat=a,b,c,-a".into());
                parts.join("&")
            })
    }

    fn build(posts: &[Spec]) -> (Index, Vec<(Post, String)>) {
        let rules = PostRules {
            timezone: chrono_tz::UTC,
            permalink: "date".into(),
            excerpt_separator: "\n\n".into(),
            site_url: crate::url::SiteUrl::new("https://example.com", ""),
        };
        let mut index = Index::default();
        let mut all = Vec::new();
        for (i, (day, cats, tags, words)) in posts.iter().enumerate() {
            let list = |pool: [&str; 3], ix: &[usize]| {
                let names: Vec<String> = ix.iter().map(|i| format!("\"{}\"", pool[*i])).collect();
                format!("[{}]", names.join(", "))
            };
            let title: Vec<&str> = words.iter().map(|w| WORDS[*w]).collect();
            let text = format!(
                "---\ndate: 2024-01-{:02}\ntitle: \"t {}\"\ncategories: {}\ntags: {}\n---\nbody\n",
                day + 1,
                title.join(" "),
                list(CATS, cats),
                list(TAGS, tags),
            );
            let source = format!("_posts/2024-01-{:02}-p{i:03}.md", day + 1);
            let post = Post::parse(&source, &text, &rules).unwrap().unwrap();
            // The index holds the compact form; the rule below reads the plain text.
            let plain = format!("{}\n", crate::query::normalize_text(&post.title));
            assert_eq!(searchable(&post.title, ""), SearchText::new(&plain));
            index.insert(
                &post,
                crate::index::Kept {
                    text: SearchText::new(&plain),
                    brief: None,
                },
            );
            all.push((post, plain));
        }
        (index, all)
    }

    /// The rule applied to every post, one by one: what the index must agree with.
    fn naive(all: &[(Post, String)], base: &FeedKey, query: &Query) -> Vec<String> {
        let names = |list: &[String]| list.iter().map(|n| FeedName::new(n)).collect::<Vec<_>>();
        let in_base = |p: &Post| match base {
            FeedKey::Category(b) => names(&p.categories).contains(b),
            FeedKey::Tag(b) => names(&p.tags).contains(b),
            _ => true,
        };
        let mut hits: Vec<&Post> = all
            .iter()
            .filter(|(p, _)| in_base(p))
            .filter(|(p, text)| query.matches(&names(&p.categories), &names(&p.tags), text))
            .map(|(p, _)| p)
            .collect();
        hits.sort_by(|a, b| b.date.cmp(&a.date).then_with(|| a.source.cmp(&b.source)));
        hits.iter().map(|p| p.source.clone()).collect()
    }

    proptest! {
        #[test]
        fn index_selection_equals_the_naive_filter(
            posts in proptest::collection::vec(arb_post(), 0..40),
            raw in arb_query(),
        ) {
            let (index, all) = build(&posts);
            let query = Query::parse(&raw).unwrap().unwrap();
            for base in [
                FeedKey::Site,
                FeedKey::Category(FeedName::new("a")),
                FeedKey::Tag(FeedName::new("港股")),
            ] {
                let got: Vec<String> = index.select(&base, &query).map(|s| s.to_string()).collect();
                prop_assert_eq!(&got, &naive(&all, &base, &query), "{:?} {}", base, raw);
            }
            let everywhere = naive(&all, &FeedKey::Site, &query);
            for (post, _) in &all {
                prop_assert_eq!(
                    index.picks(&query, &post.source),
                    everywhere.contains(&post.source)
                );
            }
        }
    }
}
