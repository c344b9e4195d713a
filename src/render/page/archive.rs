//! An archive document's page for people ("older posts"): the posts of one archive
//! document, newest first, with links to the newer and older pages, so a person can
//! browse a feed's whole history on the cut its archive documents use.

use std::sync::Arc;

use maud::html;

use super::{Esc, Shell};
use crate::render::archive::Brief;
use crate::render::FeedHead;

/// Site-relative paths of the pages around one archive page.
pub struct Around {
    /// The feed's own page.
    pub feed: String,
    /// The newer archive page (`None`: the newest; the feed's page is newer).
    pub newer: Option<String>,
    pub older: Option<String>,
}

/// The page of one archive document; `head` is the document's.
pub fn archive_page(
    shell: &Shell<'_>,
    head: &FeedHead<'_>,
    around: &Around,
    briefs: &[Arc<Brief>],
) -> Vec<u8> {
    let t = shell.texts;
    // The site feed's page is the index, which the top bar links already.
    let site = head.display.is_empty();
    let name = if site {
        shell.site_name()
    } else {
        &head.display
    };
    let crumbs = html! {
        @if !site {
            " › " a href=(around.feed) { (name) }
        }
    };
    let nav = html! {
        nav.pager {
            a href=(around.newer.as_deref().unwrap_or(&around.feed)) { (t.newer) }
            @if let Some(older) = &around.older {
                " " a href=(older) { (t.older) }
            }
        }
    };
    let main = html! {
        h1 { (name) " · " (t.older_posts) }
        (nav)
        ol.entries {
            @for b in briefs {
                li {
                    article {
                        h2 { a href=(Esc(&b.link)) { (Esc(&b.title)) } }
                        p.meta {
                            time datetime=(crate::render::rfc3339(&b.date)) { (crate::render::minutes(&b.date)) }
                        }
                        @if let Some(summary) = &b.summary {
                            p.excerpt { (Esc(&super::excerpt(summary))) }
                        }
                    }
                }
            }
        }
        (nav)
    };
    let title = format!("{name} · {}", t.older_posts);
    shell
        .page(&title, &shell.alternates(head), crumbs, main)
        .into_string()
        .into_bytes()
}
