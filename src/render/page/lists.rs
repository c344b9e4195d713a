//! The index page (the site feed's page, and the most active feeds of each kind) and the
//! complete list of each kind. Lists are in "most active" order (newest entry first, then
//! most posts); the script adds an A–Z order and a filter box. The index stays small at
//! any number of feeds (a first screen that loads at once); the lists hold every feed, so
//! without the script nothing is out of reach.
//!
//! Each feed's row is rendered once (`row`) and kept by the engine while the feed's info
//! stays the same: every new post changes the lists, and at 2,000 feeds rendering every
//! row again was a fifth of a change's CPU.

use maud::{html, Markup, PreEscaped};

use super::{Shell, Texts};
use crate::index::FeedGroup;
use crate::layout::FeedKind;
use crate::render::site::FeedInfo;
use crate::render::{EntryParts, FeedHead};

/// Feeds of each kind the index shows before "all N …".
const ON_INDEX: usize = 30;

/// Every feed of each kind, most active first (newest entry, then most posts, then
/// name), each with its rendered row; sorted once for the index and the lists.
pub struct Listed<'a> {
    kinds: Vec<(FeedKind, Vec<(&'a FeedInfo, &'a str)>)>,
}

impl<'a> Listed<'a> {
    /// From every feed's info and its row (`row`).
    pub fn new(feeds: impl IntoIterator<Item = (&'a FeedInfo, &'a str)>) -> Listed<'a> {
        let kinds = [
            FeedKind::Site,
            FeedKind::Custom,
            FeedKind::Category,
            FeedKind::Tag,
        ];
        let mut by_kind: Vec<(FeedKind, Vec<(&FeedInfo, &str)>)> =
            kinds.into_iter().map(|k| (k, Vec::new())).collect();
        for (info, row) in feeds {
            if let Some((_, list)) = by_kind.iter_mut().find(|(k, _)| *k == info.kind()) {
                list.push((info, row));
            }
        }
        for (_, list) in &mut by_kind {
            list.sort_by(|(a, _), (b, _)| {
                b.updated
                    .cmp(&a.updated)
                    .then(b.posts.cmp(&a.posts))
                    .then_with(|| a.key.cmp(&b.key))
            });
        }
        Listed { kinds: by_kind }
    }

    fn active(&self, kind: FeedKind) -> &[(&'a FeedInfo, &'a str)] {
        (self.kinds.iter())
            .find(|(k, _)| *k == kind)
            .map_or(&[], |(_, list)| list.as_slice())
    }

    /// Whether there is any feed of this kind.
    pub fn has(&self, kind: FeedKind) -> bool {
        !self.active(kind).is_empty()
    }
}

/// The index page: the site feed's subscribe block and newest posts, then the most
/// active categories and tags. Its head advertises the site feed only.
pub fn index(
    shell: &Shell<'_>,
    head: &FeedHead<'_>,
    site: &FeedGroup,
    (entries, listed): (&[&EntryParts], &Listed<'_>),
    readers: Option<&crate::stats::report::FeedReaders>,
) -> Vec<u8> {
    let t = shell.texts;
    let alternates = shell.alternates(head);
    let description = &shell.config.site.description;
    let main = html! {
        h1 { (shell.site_name()) }
        @if !description.is_empty() {
            p.lead { (description) }
        }
        @if let Some(readers) = readers {
            (super::readers::feed_readers(shell, readers))
        }
        (shell.subscribe(head))
        @if shell.config.query.enabled {
            (builder(shell, listed))
        }
        @for kind in [FeedKind::Custom, FeedKind::Category, FeedKind::Tag] {
            @let all = listed.active(kind);
            @if !all.is_empty() {
                @let id = kind.folder().unwrap_or("feeds");
                section aria-labelledby=(id) {
                    h2 id=(id) { (t.kind(kind)) }
                    (table(shell, &all[..all.len().min(ON_INDEX)], None))
                    @if let Some(folder) = kind.folder() {
                        p.all { a href=(shell.href(&format!("/{folder}/"))) { (t.all_of(kind, all.len())) } }
                    }
                }
            }
        }
        (shell.entries(entries, site.total))
        (shell.older(head))
    };
    shell
        .page(&head.title, &alternates, html! {}, main)
        .into_string()
        .into_bytes()
}

/// Names offered for the builder's fields (the most active): the page stays small on a
/// site with thousands of tags, and any other name can still be typed.
const SUGGESTED: usize = 200;

/// The custom-feed builder: a plain GET form (no script needed) that the server answers
/// with the feed's URL, whose page shows its addresses and how to subscribe.
fn builder(shell: &Shell<'_>, listed: &Listed<'_>) -> Markup {
    let t = shell.texts;
    let names = |kind| {
        let all = listed.active(kind);
        let shown: Vec<&str> = (all.iter().take(SUGGESTED))
            .map(|(i, _)| i.label.as_str())
            .collect();
        shown
    };
    let field = |label: &str, name: &str, list: Option<&str>| {
        html! {
            label {
                span { (label) }
                input type="text" name=(name) list=[list] autocomplete="off";
            }
        }
    };
    html! {
        section.builder aria-labelledby="build" {
            h2 id="build" { (t.build) }
            p { (t.build_help) }
            form action=(shell.href(crate::layout::SUBSCRIBE_PATH)) method="get" {
                (field(t.categories, "cat", Some("feedd-categories")))
                (field(t.tags, "tag", Some("feedd-tags")))
                (field(t.words_in, "q", None))
                (field(t.words_out, "not", None))
                button type="submit" { (t.build_button) }
            }
            datalist id="feedd-categories" {
                @for name in names(FeedKind::Category) { option value=(name) {} }
            }
            datalist id="feedd-tags" {
                @for name in names(FeedKind::Tag) { option value=(name) {} }
            }
        }
    }
}

/// Every feed of one kind, with a filter box and the A–Z order when scripts run.
pub fn list(shell: &Shell<'_>, kind: FeedKind, listed: &Listed<'_>) -> Vec<u8> {
    let t = shell.texts;
    let all = listed.active(kind);
    let heading = t.kind(kind);
    let main = html! {
        h1 { (heading) }
        p.lead { (t.list_lead(kind, all.len(), all.iter().map(|(i, _)| i.posts).sum())) }
        div.controls hidden {
            input type="search" data-filter="feeds" placeholder=(t.filter) aria-label=(t.filter);
            " "
            button type="button" data-sort="active" aria-pressed="true" { (t.most_active) }
            " "
            button type="button" data-sort="name" aria-pressed="false" { (t.a_to_z) }
        }
        (table(shell, all, Some("feeds")))
    };
    let title = format!("{heading} · {}", shell.site_name());
    shell
        .page(&title, &[], html! {}, main)
        .into_string()
        .into_bytes()
}

/// One feed's row of the tables, as HTML (the engine keeps it with the feed's info).
pub fn row(shell: &Shell<'_>, info: &FeedInfo) -> String {
    let display = if info.display.is_empty() {
        &info.label
    } else {
        &info.display
    };
    let name = format!("{} {}", display.to_lowercase(), info.label.to_lowercase());
    let markup = html! {
        tr data-name=(name) {
            td { a href=(shell.href(&info.path)) { (display) } }
            td.n { (info.posts) }
            td {
                @if !info.updated.is_empty() {
                    time datetime=(info.updated) { (info.updated.get(..10).unwrap_or("")) }
                }
            }
        }
    };
    markup.into_string()
}

fn table(shell: &Shell<'_>, feeds: &[(&FeedInfo, &str)], id: Option<&str>) -> Markup {
    let t: &Texts = shell.texts;
    html! {
        table.feeds id=[id] {
            thead { tr { th { (t.name) } th.n { (t.posts) } th { (t.updated) } } }
            tbody {
                @for (_, row) in feeds {
                    (PreEscaped(*row))
                }
            }
        }
    }
}
