//! A custom feed asked for in a URL, from one `Catalog`: which feed the path names and
//! what the query adds to it (`plan`), the posts selected (`select`), whether a result
//! made at an older version still holds (`still_valid`), and its bytes (`render`). Pure;
//! the server caches results and reads the entries that are not rendered yet.

use std::sync::Arc;

use super::Query;
use crate::engine::Catalog;
use crate::index::{FeedGroup, FeedKey};
use crate::layout::Format;
use crate::render::{EntryParts, FeedHead, Paging};

/// What to select for one request.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The feed the path names (its title, links and folder).
    pub key: FeedKey,
    /// The set the index walks: the site's, or a category's or tag's.
    pub base: FeedKey,
    /// The request's query, and for a named custom feed its own too.
    pub query: Query,
    /// The request's query as it selects (`limit=` at or above the feed's dropped).
    asked: Query,
    /// The request's canonical query string (its `rel="self"` URL's).
    pub canonical: String,
    /// What the request selects, for the title.
    selected: String,
    pub limit: usize,
    label: String,
    title: Option<String>,
    page: Option<String>,
}

/// The plan for `query` on the feed at `key`; `None` when that feed does not exist. A
/// `limit=` at or above the feed's own is no selection (`Plan::is_plain` then, when
/// nothing else selects either).
pub fn plan(catalog: &Catalog, key: &FeedKey, query: &Query) -> Option<Plan> {
    let config = &catalog.config;
    let own_limit = catalog.index.limit(key, config);
    let mut query = query.clone();
    if query.limit.is_some_and(|n| n >= own_limit) {
        query.limit = None;
    }
    let query = &query;
    let (base, combined, limit, label, title, page) = match key {
        FeedKey::Custom(name) => {
            let custom = config.custom.get(name)?;
            let page = config.pages.enabled.then(|| key.url_path());
            let limit = custom.limit.unwrap_or(config.limit);
            let title = custom.title.clone();
            let combined = custom.query.and(query);
            (
                FeedKey::Site,
                combined,
                limit,
                custom.label.clone(),
                title,
                page,
            )
        }
        other => {
            let group = catalog.index.feed(other, config)?;
            let limit = catalog.index.limit(other, config);
            (
                other.clone(),
                query.clone(),
                limit,
                group.label,
                group.title,
                group.page,
            )
        }
    };
    Some(Plan {
        key: key.clone(),
        asked: query.clone(),
        base,
        canonical: query.canonical(),
        selected: query.describe(),
        limit: query.limit.map_or(limit, |n| n.min(limit)),
        query: combined,
        label,
        title,
        page,
    })
}

impl Plan {
    /// The request selects nothing the feed does not: answer the published file.
    pub fn is_plain(&self) -> bool {
        self.canonical.is_empty()
    }

    /// The posts of the page out of `select`'s result.
    pub fn page<'a>(&self, result: &'a [Arc<str>]) -> &'a [Arc<str>] {
        &result[..result.len().min(self.limit)]
    }

    /// The links to the pages around the one `result` gives: the next from its last post
    /// when `select` found more, and the first from any later page.
    pub fn paging(&self, catalog: &Catalog, result: &[Arc<str>]) -> Paging {
        let last = (result.len() > self.limit)
            .then(|| self.page(result).last())
            .flatten()
            .and_then(|source| catalog.index.member(source));
        let next = last.map(|(date, source)| {
            let cursor = crate::query::Cursor::after(date.0, source);
            self.asked.at(Some(cursor)).canonical()
        });
        let first = (self.asked.before.is_some()).then(|| self.asked.at(None).canonical());
        Paging { next, first }
    }

    /// Whether this is a page after the first (no WebSub topic: only the first is).
    pub fn is_later_page(&self) -> bool {
        self.asked.before.is_some()
    }
}

/// The selected posts, newest first: the page's `limit` and one more if there is one (a
/// next page follows then).
pub fn select(catalog: &Catalog, plan: &Plan) -> Vec<Arc<str>> {
    (catalog.index.select(&plan.base, &plan.query))
        .take(plan.limit + 1)
        .cloned()
        .collect()
}

/// Whether `result`, selected at catalog version `since`, still gives the same document:
/// no post changed since is in it (or is the one past the page that makes the next
/// link), none that changed would enter the page now, and the next link would neither
/// appear nor go.
pub fn still_valid(catalog: &Catalog, plan: &Plan, result: &[Arc<str>], since: u64) -> bool {
    let Some(mut changed) = catalog.changed_since(since) else {
        return false;
    };
    let index = &catalog.index;
    // The base's name is in the title: a post outside the result can change its
    // spelling, or take the last post of the base away.
    if matches!(plan.base, FeedKey::Category(_) | FeedKey::Tag(_))
        && index.label(&plan.base) != Some(plan.label.as_str())
    {
        return false;
    }
    let after = plan.query.before.as_ref().map(|c| c.member());
    let last = plan.page(result).last().and_then(|s| index.member(s));
    let has_next = result.len() > plan.limit;
    changed.all(|post| {
        if result.iter().any(|r| &**r == post) {
            return false;
        }
        match index.selects(&plan.base, &plan.query, post) {
            None => true,
            // Newer than the page's position: on an earlier page.
            Some(member) if after.as_ref().is_some_and(|a| member <= *a) => true,
            // Older than the page's last: on a later page, which the next link already
            // leads to.
            Some(member) => has_next && last.as_ref().is_some_and(|last| member > *last),
        }
    })
}

/// The feed's bytes in one format, from `select`'s result and the page's entries. Its
/// title says what was selected; its `rel="self"` (the canonical URL) is a WebSub topic
/// like any feed's when it is the first page.
pub fn render(
    catalog: &Catalog,
    plan: &Plan,
    (result, entries): (&[Arc<str>], &[Arc<EntryParts>]),
    format: Format,
) -> Vec<u8> {
    let (_, entries, head) = parts(catalog, plan, result, entries);
    let mut out = Vec::new();
    crate::render::render(format, &head, &entries, &mut out);
    out
}

/// Its page for people: what a browser navigating to its URL (the builder's form) gets.
pub fn page(
    catalog: &Catalog,
    plan: &Plan,
    (result, entries): (&[Arc<str>], &[Arc<EntryParts>]),
) -> Vec<u8> {
    let (group, entries, mut head) = parts(catalog, plan, result, entries);
    // A later page offers the subscription (the first page's URLs), not itself: a
    // reader subscribed to a later page would get a page that never gets new posts.
    if let Some(first) = head.paging.first.clone() {
        head.query = Some(first).filter(|q| !q.is_empty());
    }
    let shell = crate::render::page::Shell::new(&catalog.config);
    crate::render::page::feed_page(&shell, &head, &group, (&entries, &[]), None)
}

fn parts<'a>(
    catalog: &'a Catalog,
    plan: &Plan,
    result: &[Arc<str>],
    entries: &'a [Arc<EntryParts>],
) -> (FeedGroup, Vec<&'a EntryParts>, FeedHead<'a>) {
    let group = FeedGroup {
        key: plan.key.clone(),
        label: plan.label.clone(),
        title: plan.title.clone(),
        page: plan.page.clone(),
        posts: Vec::new(),
        total: entries.len(),
    };
    let entries: Vec<&EntryParts> = entries.iter().map(|e| &**e).collect();
    let site = &catalog.config.site;
    // A later page is no topic: it names no hub.
    let hubs: &[String] = if plan.is_later_page() {
        &[]
    } else {
        &catalog.hubs
    };
    let mut head = crate::render::head(site, hubs, &catalog.site_url, &group, &entries);
    // Only `limit=`: say so.
    let selected = match plan.selected.as_str() {
        "" => format!("limit={}", plan.limit),
        s => s.to_string(),
    };
    head.title = crate::text::xml_clean(&format!("{} · {selected}", head.title)).into_owned();
    head.display = if head.display.is_empty() {
        selected
    } else {
        format!("{} · {selected}", head.display)
    };
    head.query = Some(plan.canonical.clone());
    head.paging = plan.paging(catalog, result);
    (group, entries, head)
}
