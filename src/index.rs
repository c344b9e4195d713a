//! The one owner of posts: which are live, in what order, and which feeds carry them.
//! Groups hold indices into the sorted post list, never copies.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use crate::config::{Config, TermFeeds};
use crate::names::FeedName;
use crate::post::Post;

/// Which feed: the site's, or one category's or tag's.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FeedKey {
    Site,
    Category(FeedName),
    Tag(FeedName),
}

impl FeedKey {
    /// Folder under the output dir (and URL path prefix), without leading or trailing `/`.
    pub fn dir(&self) -> String {
        match self {
            FeedKey::Site => String::new(),
            FeedKey::Category(n) => format!("categories/{}", n.segment()),
            FeedKey::Tag(n) => format!("tags/{}", n.segment()),
        }
    }

    /// The same folder, percent-encoded for URLs.
    pub fn url_dir(&self) -> String {
        match self {
            FeedKey::Site => String::new(),
            FeedKey::Category(n) => format!("categories/{}", n.url_segment()),
            FeedKey::Tag(n) => format!("tags/{}", n.url_segment()),
        }
    }
}

/// One feed's membership: the newest posts first, cut to the feed's limit.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedGroup {
    pub key: FeedKey,
    /// The name as written (the smallest spelling when several fold together).
    pub label: String,
    /// Indices into `Index::posts`, newest first.
    pub posts: Vec<usize>,
    /// How many live posts the term has in all (before the limit).
    pub total: usize,
}

/// All live posts, sorted, and every feed's membership.
#[derive(Debug, Clone, Default)]
pub struct Index {
    /// Newest first; equal dates by source path ascending (what jekyll-feed's sort gives).
    pub posts: Vec<Post>,
    pub feeds: Vec<FeedGroup>,
}

impl Index {
    /// Builds the index from parsed posts. Unpublished posts and (unless `future`) posts
    /// dated after `now` are left out, as Jekyll does.
    pub fn build(posts: Vec<Post>, config: &Config, now: DateTime<Utc>) -> Index {
        let mut posts: Vec<Post> = posts
            .into_iter()
            .filter(|p| p.published && (config.future || p.date.with_timezone(&Utc) <= now))
            .collect();
        posts.sort_by(|a, b| b.date.cmp(&a.date).then_with(|| a.source.cmp(&b.source)));

        let mut categories: BTreeMap<FeedName, (String, Vec<usize>)> = BTreeMap::new();
        let mut tags: BTreeMap<FeedName, (String, Vec<usize>)> = BTreeMap::new();
        for (i, post) in posts.iter().enumerate() {
            add_terms(&mut categories, &post.categories, i);
            add_terms(&mut tags, &post.tags, i);
        }
        let mut feeds = vec![FeedGroup {
            key: FeedKey::Site,
            label: String::new(),
            total: posts.len(),
            posts: (0..posts.len().min(config.limit)).collect(),
        }];
        feeds.extend(groups(
            categories,
            &config.categories,
            config.limit,
            FeedKey::Category,
        ));
        feeds.extend(groups(tags, &config.tags, config.limit, FeedKey::Tag));
        Index { posts, feeds }
    }

    /// Indices of every post that appears in at least one feed (the ones to render).
    pub fn posts_in_feeds(&self) -> Vec<usize> {
        let mut used = vec![false; self.posts.len()];
        for feed in &self.feeds {
            for &i in &feed.posts {
                used[i] = true;
            }
        }
        (0..self.posts.len()).filter(|&i| used[i]).collect()
    }
}

fn add_terms(map: &mut BTreeMap<FeedName, (String, Vec<usize>)>, names: &[String], post: usize) {
    for name in names {
        let entry = map
            .entry(FeedName::new(name))
            .or_insert_with(|| (name.clone(), Vec::new()));
        if name < &entry.0 {
            entry.0 = name.clone();
        }
        // A post can carry two spellings of one name; list it once.
        if entry.1.last() != Some(&post) {
            entry.1.push(post);
        }
    }
}

fn groups(
    map: BTreeMap<FeedName, (String, Vec<usize>)>,
    filter: &TermFeeds,
    default_limit: usize,
    key: fn(FeedName) -> FeedKey,
) -> impl Iterator<Item = FeedGroup> + '_ {
    map.into_iter()
        .filter(|(name, _)| filter.wants(name))
        .map(move |(name, (label, mut posts))| {
            let limit = filter.limit(&name).unwrap_or(default_limit);
            let total = posts.len();
            posts.truncate(limit);
            FeedGroup {
                key: key(name),
                label,
                posts,
                total,
            }
        })
}
