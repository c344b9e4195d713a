//! A custom feed asked for in a URL, from one `Catalog`: which feed the path names and
//! what the query adds to it (`plan`), the posts selected (`select`), whether a result
//! made at an older version still holds (`still_valid`), and its bytes (`render`). Pure;
//! the server caches results and reads the entries that are not rendered yet.

use std::sync::Arc;

use super::Query;
use crate::engine::Catalog;
use crate::index::{FeedGroup, FeedKey};
use crate::layout::Format;
use crate::render::{EntryParts, FeedHead};

/// What to select for one request.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The feed the path names (its title, links and folder).
    pub key: FeedKey,
    /// The set the index walks: the site's, or a category's or tag's.
    pub base: FeedKey,
    /// The request's query, and for a named custom feed its own too.
    pub query: Query,
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
}

/// The selected posts, newest first, at most `limit`.
pub fn select(catalog: &Catalog, plan: &Plan) -> Vec<Arc<str>> {
    (catalog.index.select(&plan.base, &plan.query))
        .take(plan.limit)
        .cloned()
        .collect()
}

/// Whether `result`, selected at catalog version `since`, is still what `select` gives:
/// no post changed since is in it, and none that changed would enter it now.
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
    let last = result.last().and_then(|s| index.member(s));
    changed.all(|post| {
        if result.iter().any(|r| &**r == post) {
            return false;
        }
        match index.selects(&plan.base, &plan.query, post) {
            None => true,
            Some(member) => {
                result.len() >= plan.limit && last.as_ref().is_some_and(|last| member > *last)
            }
        }
    })
}

/// The feed's bytes in one format. Its title says what was selected; its `rel="self"`
/// (the canonical URL) is a WebSub topic like any feed's.
pub fn render(
    catalog: &Catalog,
    plan: &Plan,
    entries: &[Arc<EntryParts>],
    format: Format,
) -> Vec<u8> {
    let (_, entries, head) = parts(catalog, plan, entries);
    let mut out = Vec::new();
    crate::render::render(format, &head, &entries, &mut out);
    out
}

/// Its page for people: what a browser navigating to its URL (the builder's form) gets.
pub fn page(catalog: &Catalog, plan: &Plan, entries: &[Arc<EntryParts>]) -> Vec<u8> {
    let (group, entries, head) = parts(catalog, plan, entries);
    let shell = crate::render::page::Shell::new(&catalog.config);
    crate::render::page::feed_page(&shell, &head, &group, (&entries, &[]), None)
}

fn parts<'a>(
    catalog: &'a Catalog,
    plan: &Plan,
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
    let mut head = crate::render::head(site, &catalog.hubs, &catalog.site_url, &group, &entries);
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
    (group, entries, head)
}
