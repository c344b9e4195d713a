//! Archive documents (RFC 5005): every post of a feed beyond its newest `limit`, on
//! pages cut by `crate::archive`. An archived entry is what the feeds say of the post
//! but its content, like a jekyll-feed `excerpt_only` feed: the same id, link, title,
//! dates, author and terms (and the summary if `[archives] summaries`). A complete
//! history in full would repeat every post's HTML in every feed and format it is in;
//! these stay small enough to publish every page of every feed.
//!
//! What is kept of a post for this (`Brief`) lives in the index for every live post, so
//! a page is rendered from memory without reading posts again. Entries are written here
//! directly, not by the crates' writers, which cost microseconds an entry and a large
//! build archives hundreds of thousands of entries; tests read them back with feed-rs.

use std::sync::Arc;

use chrono::{DateTime, FixedOffset};

use super::{write_rfc3339, write_xml_attribute, write_xml_text, FeedHead, Format};
use crate::post::Post;
use crate::text::xml_clean;
use crate::url::SiteUrl;

/// What an archive document shows of one post.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Brief {
    pub title: Box<str>,
    /// Absolute jekyll-feed id and link.
    pub id: Box<str>,
    pub link: Box<str>,
    pub date: DateTime<FixedOffset>,
    pub updated: DateTime<FixedOffset>,
    /// The post's author; `None` for the site's (not repeated in every post).
    pub author: Option<Box<str>>,
    pub image: Option<Box<str>>,
    pub lang: Option<Box<str>>,
    /// Categories, then tags, as `<category>` terms.
    pub terms: Box<[Box<str>]>,
    pub summary: Option<Box<str>>,
}

impl Brief {
    /// From the values every feed shows of the post (`super::entry`'s); `title` is its
    /// `text::feed_title`, made once for this and the search text.
    pub fn new(post: &Post, title: String, summary: Option<&str>, site_url: &SiteUrl) -> Brief {
        let author = post.author.as_deref().map(|a| xml_clean(a).into());
        let terms = (post.entry_categories.iter().chain(&post.tags))
            .map(|t| xml_clean(t).into())
            .collect();
        Brief {
            title: title.into(),
            id: post.absolute_id.as_str().into(),
            link: post.absolute_url.as_str().into(),
            date: post.date,
            updated: post.updated.unwrap_or(post.date),
            author,
            image: super::image_url(post, site_url).map(Into::into),
            lang: post.lang.as_deref().map(|l| xml_clean(l).into()),
            terms,
            summary: summary.filter(|s| !s.is_empty()).map(Into::into),
        }
    }
}

/// Renders one archive document in one format into `out` (cleared first). `head`
/// carries the document's own links (`History`); `author` is the site's.
pub fn render(format: Format, head: &FeedHead<'_>, briefs: &[Arc<Brief>], out: &mut Vec<u8>) {
    out.clear();
    let frame = match format {
        Format::Atom => super::atom::head(head),
        Format::Rss => super::rss::head(head),
        Format::Json => super::json::head(head),
    };
    let author = head.author();
    out.reserve(frame.before.len() + briefs.len() * 400 + frame.after.len());
    out.extend_from_slice(frame.before.as_bytes());
    for (i, brief) in briefs.iter().enumerate() {
        let author = brief.author.as_deref().unwrap_or(&author);
        match format {
            Format::Atom => atom_entry(brief, out),
            Format::Rss => rss_item(brief, out),
            Format::Json => {
                if i > 0 {
                    out.push(b',');
                }
                super::json::archived_item(brief, author, out);
            }
        }
    }
    out.extend_from_slice(frame.after.as_bytes());
}

/// `<name>`, what `body` writes, `</name>`.
fn wrapped(name: &str, out: &mut Vec<u8>, body: impl FnOnce(&mut Vec<u8>)) {
    out.push(b'<');
    out.extend_from_slice(name.as_bytes());
    out.push(b'>');
    body(out);
    out.extend_from_slice(b"</");
    out.extend_from_slice(name.as_bytes());
    out.push(b'>');
}

fn element(name: &str, text: &str, out: &mut Vec<u8>) {
    wrapped(name, out, |out| write_xml_text(text, out));
}

/// A date needs no escaping.
fn date_element(name: &str, date: &DateTime<FixedOffset>, out: &mut Vec<u8>) {
    wrapped(name, out, |out| write_rfc3339(date, out));
}

/// Writes `before`, `value` escaped for a double-quoted XML attribute, and `after`.
fn attribute(before: &str, value: &str, after: &str, out: &mut Vec<u8>) {
    out.extend_from_slice(before.as_bytes());
    write_xml_attribute(value, out);
    out.extend_from_slice(after.as_bytes());
}

fn atom_entry(b: &Brief, out: &mut Vec<u8>) {
    out.extend_from_slice(b"<entry");
    if let Some(lang) = &b.lang {
        attribute(" xml:lang=\"", lang, "\"", out);
    }
    out.push(b'>');
    element("title", &b.title, out);
    element("id", &b.id, out);
    date_element("updated", &b.updated, out);
    date_element("published", &b.date, out);
    // The site's author is the document's (an entry without one inherits it).
    if let Some(author) = &b.author {
        out.extend_from_slice(b"<author>");
        element("name", author, out);
        out.extend_from_slice(b"</author>");
    }
    attribute(
        "<link href=\"",
        &b.link,
        "\" rel=\"alternate\" type=\"text/html\"",
        out,
    );
    attribute(" title=\"", &b.title, "\"/>", out);
    for term in &b.terms {
        attribute("<category term=\"", term, "\"/>", out);
    }
    if let Some(summary) = &b.summary {
        element("summary", summary, out);
    }
    if let Some(image) = &b.image {
        attribute("<media:thumbnail url=\"", image, "\"/>", out);
    }
    out.extend_from_slice(b"</entry>");
}

fn rss_item(b: &Brief, out: &mut Vec<u8>) {
    out.extend_from_slice(b"<item>");
    element("title", &b.title, out);
    element("link", &b.link, out);
    if let Some(summary) = &b.summary {
        element("description", summary, out);
    }
    out.extend_from_slice(b"<guid isPermaLink=\"false\">");
    write_xml_text(&b.id, out);
    out.extend_from_slice(b"</guid>");
    element("pubDate", &b.date.to_rfc2822(), out);
    for term in &b.terms {
        element("category", term, out);
    }
    if let Some(author) = &b.author {
        element("dc:creator", author, out);
    }
    if let Some(image) = &b.image {
        attribute("<media:thumbnail url=\"", image, "\"/>", out);
    }
    out.extend_from_slice(b"</item>");
}
