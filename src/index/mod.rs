//! The one owner of live posts: which feeds carry them and in what order. It is updated
//! one post at a time (insert, remove) in O(log n) per feed the post is in, so the daemon's
//! cost for one changed post does not grow with the site; a full build is just many inserts.
//! Feeds hold keys (source paths) into the post map, never copies. Only what membership
//! needs is kept per post (`Listed`): a large site's index is a few hundred bytes a post.

use std::cmp::Reverse;
use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, FixedOffset, Utc};

use crate::config::{Config, TermFeeds};
pub use crate::layout::FeedKey;
use crate::names::FeedName;
use crate::post::Post;
use crate::render::archive::Brief;

/// Order of entries: newest first; equal dates by source path ascending (what
/// jekyll-feed's stable sort gives).
/// The source is shared by the post map and every feed the post is in (one allocation
/// per post instead of one per feed: a large site's index is mostly these).
pub(crate) type Member = (Reverse<DateTime<FixedOffset>>, Arc<str>);

/// The sets are persistent (`imbl`): a clone shares them, so the server gets the whole
/// index with every published version at the cost of a pointer, and queries run on it
/// while the engine goes on.
pub(crate) type Members = imbl::OrdSet<Member>;
type Posts = imbl::GenericHashMap<
    Arc<str>,
    Arc<Listed>,
    xxhash_rust::xxh3::Xxh3DefaultBuilder,
    imbl::shared_ptr::DefaultSharedPtr,
>;

#[derive(Debug, Default, Clone)]
struct Term {
    members: Members,
    /// Spellings in use and how many posts use each; the feed shows the smallest.
    spellings: BTreeMap<String, usize>,
}

/// One feed's membership: the newest posts first, cut to the feed's limit.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedGroup {
    pub key: FeedKey,
    /// The name as written (the smallest spelling when several fold together).
    pub label: String,
    /// Source paths of the entries, newest first.
    pub posts: Vec<String>,
    /// How many live posts the feed has in all (before the limit).
    pub total: usize,
    /// What pages and titles call it, when not its label (config, or the site's page).
    pub title: Option<String>,
    /// Site-relative URL of its page for people: the site's own page for the term, else
    /// feedd's (when pages are on); the feed's alternate link.
    pub page: Option<String>,
}

/// What the index keeps of a live post: its date, its terms and what custom feeds'
/// words are looked for in (`query::searchable`).
#[derive(Debug, Clone, PartialEq)]
pub struct Listed {
    pub date: DateTime<FixedOffset>,
    pub categories: Vec<String>,
    pub tags: Vec<String>,
    pub text: crate::query::SearchText,
    /// What archive documents show of it (`[archives]` on).
    pub brief: Option<Arc<Brief>>,
}

/// What the engine makes of a live post for the index, besides its membership.
#[derive(Debug, Clone, Default)]
pub struct Kept {
    pub text: crate::query::SearchText,
    pub brief: Option<Arc<Brief>>,
}

/// All live posts and the membership of every feed.
#[derive(Debug, Clone, Default)]
pub struct Index {
    posts: Posts,
    site: Members,
    terms: imbl::OrdMap<FeedKey, Arc<Term>>,
}

impl Index {
    /// Whether a post is shown now: published, and not in the future unless `future`.
    pub fn is_live(post: &Post, config: &Config, now: DateTime<Utc>) -> bool {
        post.published && (config.future || post.date.with_timezone(&Utc) <= now)
    }

    pub fn len(&self) -> usize {
        self.posts.len()
    }

    pub fn get(&self, source: &str) -> Option<&Listed> {
        self.posts.get(source).map(|p| &**p)
    }

    pub fn contains(&self, source: &str) -> bool {
        self.posts.contains_key(source)
    }

    /// Adds or replaces a post, with its `searchable` text and brief; returns the feeds
    /// whose membership may have changed.
    pub fn insert(&mut self, post: &Post, kept: Kept) -> Vec<FeedKey> {
        let mut affected = self.remove(&post.source);
        let listed = Listed {
            date: post.date,
            categories: post.categories.clone(),
            tags: post.tags.clone(),
            text: kept.text,
            brief: kept.brief,
        };
        let source: Arc<str> = post.source.as_str().into();
        let member: Member = (Reverse(post.date), source.clone());
        self.site.insert(member.clone());
        for (key, spelling) in terms_of(&listed) {
            let term = Arc::make_mut(self.terms.entry(key.clone()).or_default());
            term.members.insert(member.clone());
            *term.spellings.entry(spelling).or_default() += 1;
            affected.push(key);
        }
        affected.push(FeedKey::Site);
        self.posts.insert(source, Arc::new(listed));
        affected.sort();
        affected.dedup();
        affected
    }

    /// Removes a post; returns the feeds it was in.
    pub fn remove(&mut self, source: &str) -> Vec<FeedKey> {
        let Some((source, post)) = self.posts.remove_with_key(source) else {
            return Vec::new();
        };
        let member: Member = (Reverse(post.date), source);
        self.site.remove(&member);
        let mut affected = vec![FeedKey::Site];
        for (key, spelling) in terms_of(&post) {
            if let Some(term) = self.terms.get_mut(&key) {
                let term = Arc::make_mut(term);
                term.members.remove(&member);
                if let Some(n) = term.spellings.get_mut(&spelling) {
                    *n -= 1;
                    if *n == 0 {
                        term.spellings.remove(&spelling);
                    }
                }
                if term.members.is_empty() {
                    self.terms.remove(&key);
                }
            }
            affected.push(key);
        }
        affected.sort();
        affected.dedup();
        affected
    }

    /// Every feed the configuration wants, in key order (the site feed first).
    #[cfg(test)]
    pub fn feed_keys<'a>(&'a self, config: &'a Config) -> impl Iterator<Item = FeedKey> + 'a {
        std::iter::once(FeedKey::Site).chain(
            self.terms
                .keys()
                .filter(|k| filter(config, k).is_some_and(|(f, name)| f.wants(name)))
                .cloned(),
        )
    }

    /// One feed's entries, or `None` if the feed does not exist (no posts, or not wanted).
    /// A named custom feed exists while configured, even when nothing matches: its URL is
    /// in readers and on disk.
    pub fn feed(&self, key: &FeedKey, config: &Config) -> Option<FeedGroup> {
        let page = || config.pages.enabled.then(|| key.url_path());
        let group = |label, title, page, posts, total| FeedGroup {
            key: key.clone(),
            label,
            title,
            page,
            posts,
            total,
        };
        let sources = |members: &Members, limit| {
            (members.iter().take(limit))
                .map(|(_, s)| s.to_string())
                .collect::<Vec<_>>()
        };
        match key {
            FeedKey::Site => Some(group(
                String::new(),
                None,
                None,
                sources(&self.site, config.limit),
                self.site.len(),
            )),
            FeedKey::Custom(name) => {
                let custom = config.custom.get(name)?;
                let limit = self.limit(key, config);
                let all = self.select(&FeedKey::Site, &custom.query);
                let (mut posts, mut total) = (Vec::new(), 0);
                for source in all {
                    if posts.len() < limit {
                        posts.push(source.to_string());
                    }
                    total += 1;
                }
                Some(group(
                    custom.label.clone(),
                    custom.title.clone(),
                    page(),
                    posts,
                    total,
                ))
            }
            other => {
                let (filter, name) = filter(config, other)?;
                if !filter.wants(name) {
                    return None;
                }
                let term = self.terms.get(other)?;
                let label = term.spellings.keys().next().cloned().unwrap_or_default();
                Some(group(
                    label,
                    filter.title(name).map(str::to_string),
                    (filter.page(name).map(str::to_string)).or_else(page),
                    sources(&term.members, self.limit(other, config)),
                    term.members.len(),
                ))
            }
        }
    }

    /// The sources of one feed's entries (its newest `limit` posts), without building
    /// the whole `FeedGroup`; empty if the feed does not exist.
    pub fn newest<'a>(
        &'a self,
        key: &FeedKey,
        config: &'a Config,
    ) -> Box<dyn Iterator<Item = &'a str> + Send + 'a> {
        let found = match key {
            FeedKey::Site => Some((&self.site, config.limit)),
            FeedKey::Custom(name) => {
                let Some(custom) = config.custom.get(name) else {
                    return Box::new(std::iter::empty());
                };
                let limit = self.limit(key, config);
                let all = self.select(&FeedKey::Site, &custom.query);
                return Box::new(all.take(limit).map(|s| &**s));
            }
            other => filter(config, other)
                .filter(|(f, name)| f.wants(name))
                .and_then(|_| Some((&self.terms.get(other)?.members, self.limit(other, config)))),
        };
        Box::new(
            found
                .into_iter()
                .flat_map(|(members, limit)| members.iter().take(limit).map(|(_, s)| &**s)),
        )
    }

    /// A category's or tag's name as its feed shows it (its smallest spelling in use);
    /// `None` when no post has it.
    pub fn label(&self, key: &FeedKey) -> Option<&str> {
        let term = self.terms.get(key)?;
        term.spellings.keys().next().map(String::as_str)
    }

    /// How many entries a feed shows.
    pub fn limit(&self, key: &FeedKey, config: &Config) -> usize {
        match key {
            FeedKey::Site => config.limit,
            FeedKey::Custom(name) => (config.custom.get(name))
                .and_then(|c| c.limit)
                .unwrap_or(config.limit),
            other => filter(config, other)
                .and_then(|(f, name)| f.limit(name))
                .unwrap_or(config.limit),
        }
    }

    /// The named custom feeds that select this live post (asked before it is removed
    /// and after it is inserted: the feeds its change may affect).
    pub fn customs_of(&self, source: &str, config: &Config) -> Vec<FeedKey> {
        (config.custom.iter())
            .filter(|c| self.picks(&c.query, source))
            .map(|c| FeedKey::Custom(c.name.clone()))
            .collect()
    }

    /// The feeds that share most posts with `sources` (a feed's entries), other than
    /// `own`: for "related feeds" on its page. Label as written, and how many shared.
    pub fn related(
        &self,
        sources: &[String],
        own: &FeedKey,
        config: &Config,
        n: usize,
    ) -> Vec<(FeedKey, String, usize)> {
        // Spelled as these posts spell it (not as the whole site does), so the answer
        // depends on these posts alone.
        let mut counts: BTreeMap<FeedKey, (String, usize)> = BTreeMap::new();
        for post in sources.iter().filter_map(|s| self.posts.get(s.as_str())) {
            for (key, spelling) in terms_of(post) {
                if key != *own {
                    let slot = counts.entry(key).or_insert_with(|| (spelling.clone(), 0));
                    if spelling < slot.0 {
                        slot.0 = spelling;
                    }
                    slot.1 += 1;
                }
            }
        }
        let mut found: Vec<(FeedKey, String, usize)> = counts
            .into_iter()
            .filter(|(k, _)| filter(config, k).is_some_and(|(f, name)| f.wants(name)))
            .map(|(k, (label, count))| (k, label, count))
            .collect();
        found.sort_by(|a, b| b.2.cmp(&a.2).then_with(|| a.0.cmp(&b.0)));
        found.truncate(n);
        found
    }

    /// Whether a live post is among the newest entries of some feed it is in.
    pub fn is_shown(&self, source: &str, config: &Config) -> bool {
        self.posts.get(source).is_some_and(|post| {
            (feeds_of(post).chain(self.customs_of(source, config)))
                .any(|key| self.newest(&key, config).any(|s| s == source))
        })
    }
}

fn filter<'a>(config: &'a Config, key: &'a FeedKey) -> Option<(&'a TermFeeds, &'a FeedName)> {
    match key {
        FeedKey::Site => None,
        FeedKey::Category(n) => Some((&config.categories, n)),
        FeedKey::Tag(n) => Some((&config.tags, n)),
        FeedKey::Custom(_) => None,
    }
}

/// Every feed a post is in (wanted or not): the site's, its categories' and tags'.
pub fn feeds_of(post: &Listed) -> impl Iterator<Item = FeedKey> {
    std::iter::once(FeedKey::Site).chain(terms_of(post).into_iter().map(|(key, _)| key))
}

/// The feeds a post belongs to besides the site's, with the spelling it uses; a post
/// carrying two spellings of one name is listed once (its smallest spelling).
fn terms_of(post: &Listed) -> Vec<(FeedKey, String)> {
    let mut out: BTreeMap<FeedKey, String> = BTreeMap::new();
    let pairs = post
        .categories
        .iter()
        .map(|c| (FeedKey::Category(FeedName::new(c)), c))
        .chain(
            post.tags
                .iter()
                .map(|t| (FeedKey::Tag(FeedName::new(t)), t)),
        );
    // An empty name (`tags: [""]`) is no feed: no folder or URL could spell it.
    for (key, spelling) in pairs.filter(|(k, _)| k.name().is_some_and(|n| !n.is_empty())) {
        let slot = out.entry(key).or_insert_with(|| spelling.clone());
        if spelling < slot {
            *slot = spelling.clone();
        }
    }
    out.into_iter().collect()
}

mod archived;
mod select;
#[cfg(test)]
mod tests;
