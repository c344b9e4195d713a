//! The index page (the site feed's page, and the most active feeds of each kind) and the
//! complete list of each kind. Lists are in "most active" order (newest entry first, then
//! most posts); the script adds an A–Z order and a filter box. The index stays small at
//! any number of feeds (a first screen that loads at once); the lists hold every feed, so
//! without the script nothing is out of reach.

use maud::{html, Markup};

use super::{Shell, Texts};
use crate::index::FeedGroup;
use crate::layout::FeedKind;
use crate::render::site::FeedInfo;
use crate::render::{EntryParts, FeedHead};

/// Feeds of each kind the index shows before "all N …".
const ON_INDEX: usize = 30;

/// The index page: the site feed's subscribe block and newest posts, then the most
/// active categories and tags. Its head advertises the site feed only.
pub fn index(
    shell: &Shell<'_>,
    head: &FeedHead<'_>,
    site: &FeedGroup,
    (entries, infos): (&[&EntryParts], &[&FeedInfo]),
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
            (builder(shell, infos))
        }
        @for kind in [FeedKind::Custom, FeedKind::Category, FeedKind::Tag] {
            @let all = active(infos, kind);
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
fn builder(shell: &Shell<'_>, infos: &[&FeedInfo]) -> Markup {
    let t = shell.texts;
    let names = |kind| {
        let all = active(infos, kind);
        let shown: Vec<String> = (all.iter().take(SUGGESTED))
            .map(|i| i.label.clone())
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
pub fn list(shell: &Shell<'_>, kind: FeedKind, infos: &[&FeedInfo]) -> Vec<u8> {
    let t = shell.texts;
    let all = active(infos, kind);
    let heading = t.kind(kind);
    let main = html! {
        h1 { (heading) }
        p.lead { (t.list_lead(kind, all.len(), all.iter().map(|i| i.posts).sum())) }
        div.controls hidden {
            input type="search" data-filter="feeds" placeholder=(t.filter) aria-label=(t.filter);
            " "
            button type="button" data-sort="active" aria-pressed="true" { (t.most_active) }
            " "
            button type="button" data-sort="name" aria-pressed="false" { (t.a_to_z) }
        }
        (table(shell, &all, Some("feeds")))
    };
    let title = format!("{heading} · {}", shell.site_name());
    shell
        .page(&title, &[], html! {}, main)
        .into_string()
        .into_bytes()
}

/// Feeds of a kind, most active first: newest entry, then most posts, then name.
fn active<'a>(infos: &[&'a FeedInfo], kind: FeedKind) -> Vec<&'a FeedInfo> {
    let mut all: Vec<&FeedInfo> = infos.iter().copied().filter(|i| i.kind() == kind).collect();
    all.sort_by(|a, b| {
        b.updated
            .cmp(&a.updated)
            .then(b.posts.cmp(&a.posts))
            .then_with(|| a.key.cmp(&b.key))
    });
    all
}

fn table(shell: &Shell<'_>, feeds: &[&FeedInfo], id: Option<&str>) -> Markup {
    let t: &Texts = shell.texts;
    html! {
        table.feeds id=[id] {
            thead { tr { th { (t.name) } th.n { (t.posts) } th { (t.updated) } } }
            tbody {
                @for info in feeds {
                    @let display = if info.display.is_empty() { &info.label } else { &info.display };
                    tr data-name=(format!("{} {}", display.to_lowercase(), info.label.to_lowercase())) {
                        td { a href=(shell.href(&info.path)) { (display) } }
                        td.n { (info.posts) }
                        td {
                            @if !info.updated.is_empty() {
                                time datetime=(info.updated) { (info.updated.get(..10).unwrap_or("")) }
                            }
                        }
                    }
                }
            }
        }
    }
}
