//! Custom feeds' selection: the posts of a feed that a `Query` picks, newest first. The
//! walk starts from the smallest set the query allows (the base feed's, or the union of
//! the sets one `cat=`/`tag=` value needs) and checks each post there against the rest
//! by set membership and its searchable text; it is lazy, so a feed of `limit` entries
//! stops at the `limit`-th match instead of visiting every post.

use std::sync::Arc;

use super::{FeedKey, Index, Member, Members};
use crate::names::FeedName;
use crate::query::{Query, Terms};

/// The set of each name the query mentions, looked up once per query (`None`: no post
/// has it).
struct Sets<'a> {
    categories: Vec<(&'a FeedName, Option<&'a Members>)>,
    tags: Vec<(&'a FeedName, Option<&'a Members>)>,
}

impl Index {
    /// The posts of `base` that `query` selects, newest first (ties by source, as in
    /// every feed). `limit` is the caller's to apply (`take`); `count` is the total.
    pub fn select<'a>(
        &'a self,
        base: &FeedKey,
        query: &'a Query,
    ) -> Box<dyn Iterator<Item = &'a Arc<str>> + Send + 'a> {
        let base_set = match base {
            FeedKey::Site => Some(&self.site),
            key => self.terms.get(key).map(|t| &t.members),
        };
        let Some(base_set) = base_set else {
            return Box::new(std::iter::empty());
        };
        let sets = Sets::resolve(self, query);
        let mut start = (base_set.len(), vec![base_set], true);
        let drivers = (query
            .categories
            .iter()
            .map(|t| sets.driver(t, &sets.categories)))
        .chain(query.tags.iter().map(|t| sets.driver(t, &sets.tags)));
        for driver in drivers.flatten() {
            let size = driver.iter().map(|s| s.len()).sum();
            if size < start.0 {
                start = (size, driver, false);
            }
        }
        let (_, driver, is_base) = start;
        let after = query.before.as_ref().map(|c| c.member());
        Box::new(
            merged(driver, after)
                .filter(move |m| (is_base || base_set.contains(*m)) && sets.selects(self, query, m))
                .map(|(_, source)| source),
        )
    }

    /// Whether `query` selects this live post among all posts (a named custom feed's
    /// membership, asked when the post changes).
    pub fn picks(&self, query: &Query, source: &str) -> bool {
        self.selects(&FeedKey::Site, query, source).is_some()
    }

    /// Where this live post would be in `select(base, query)`'s order, if it is there
    /// (a cached custom feed asks whether a changed post enters it).
    pub fn selects(&self, base: &FeedKey, query: &Query, source: &str) -> Option<Member> {
        let (source, post) = self.posts.get_key_value(source)?;
        let member: Member = (std::cmp::Reverse(post.date), source.clone());
        let in_base = match base {
            FeedKey::Site => true,
            key => self
                .terms
                .get(key)
                .is_some_and(|t| t.members.contains(&member)),
        };
        (in_base && Sets::resolve(self, query).selects(self, query, &member)).then_some(member)
    }

    /// The position of a live post in every feed's order.
    pub fn member(&self, source: &str) -> Option<Member> {
        let (source, post) = self.posts.get_key_value(source)?;
        Some((std::cmp::Reverse(post.date), source.clone()))
    }
}

impl<'a> Sets<'a> {
    fn resolve(index: &'a Index, query: &'a Query) -> Sets<'a> {
        let look = |list: &'a [Terms], key: fn(FeedName) -> FeedKey| {
            let names = list.iter().flat_map(|t| &t.0).flatten().map(|l| &l.name);
            names
                .map(|name| {
                    let set = index.terms.get(&key(name.clone())).map(|t| &t.members);
                    (name, set)
                })
                .collect::<Vec<_>>()
        };
        Sets {
            categories: look(&query.categories, FeedKey::Category),
            tags: look(&query.tags, FeedKey::Tag),
        }
    }

    fn set(list: &[(&FeedName, Option<&'a Members>)], name: &FeedName) -> Option<&'a Members> {
        list.iter().find(|(n, _)| *n == name).and_then(|(_, s)| *s)
    }

    /// The sets whose union holds every post one `cat=`/`tag=` value can select: per
    /// alternative, its smallest positive name's. `None` when an alternative has only
    /// negated names (it can select posts in no set).
    fn driver(
        &self,
        terms: &Terms,
        list: &[(&FeedName, Option<&'a Members>)],
    ) -> Option<Vec<&'a Members>> {
        let mut out = Vec::new();
        for all in &terms.0 {
            let positive = all.iter().filter(|l| !l.negated);
            let sizes = positive.map(|l| Sets::set(list, &l.name));
            // An alternative naming a term no post has selects nothing.
            match sizes.min_by_key(|s| s.map_or(0, |s| s.len()))? {
                Some(set) => out.push(set),
                None => continue,
            }
        }
        Some(out)
    }

    fn selects(&self, index: &Index, query: &Query, member: &Member) -> bool {
        let Some(post) = index.posts.get(&member.1) else {
            return false;
        };
        let has = |list: &[(&FeedName, Option<&'a Members>)], name: &FeedName| {
            Sets::set(list, name).is_some_and(|s| s.contains(member))
        };
        query.matches_with(
            |n| has(&self.categories, n),
            |n| has(&self.tags, n),
            |w| post.text.contains(w),
        )
    }
}

/// The union of sorted sets, in order, each member once; only the members after `after`
/// when given (a seek, whatever its depth).
fn merged<'a>(
    sets: Vec<&'a Members>,
    after: Option<Member>,
) -> impl Iterator<Item = &'a Member> + Send + 'a {
    use std::ops::Bound::{Excluded, Unbounded};
    let from = after.map_or(Unbounded, Excluded);
    let mut heads: Vec<_> = (sets.into_iter())
        .map(|s| s.range((from.clone(), Unbounded)).peekable())
        .collect();
    std::iter::from_fn(move || {
        let next: &'a Member = heads.iter_mut().filter_map(|h| h.peek().copied()).min()?;
        for head in &mut heads {
            if head.peek() == Some(&next) {
                head.next();
            }
        }
        Some(next)
    })
}
