//! Feeds as bytes. Each post that appears in some feed is rendered once into an
//! `EntryParts`: its HTML content plus, per format, the entry's XML/JSON around that
//! content (made by the `atom_syndication`, `rss` and serde writers). A feed is then the
//! format's head, its entries' parts with the content spliced in, and the tail, so the
//! costly work is shared by every feed that carries a post and nothing is held per feed.
//!
//! No I/O and no clock: a feed's date is its newest entry's, so the same input gives the
//! same bytes.

pub mod archive;
mod atom;
pub mod body;
mod dates;
mod head;
mod json;
pub mod opml;
pub mod page;
mod rss;
pub mod site;

use chrono::{DateTime, FixedOffset};

use crate::config::Site;
pub use crate::layout::Format;
use crate::post::Post;
use crate::url::SiteUrl;
use body::RenderedBody;
pub use dates::{minutes, rfc3339, write_rfc3339};
use head::site_author;
pub use head::{head, FeedHead, History, Paging, HISTORY_NS};

/// Text written before and after a piece that is spliced in (the entries of a feed, or
/// the content of an entry). An entry's frame also has its summary spliced in, at
/// `summary_at`: the summary is the largest part of each format's frame, so it is kept
/// once per entry instead of three times (a third of the memory of a large build).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Frame {
    pub before: Box<str>,
    pub after: Box<str>,
    /// Where in `before` the summary goes (escaped for the format), if it has one.
    pub summary_at: Option<usize>,
}

/// Stands for the summary while the format's writer renders an entry; private-use
/// characters, so no writer escapes or drops them and no real summary holds them.
pub(crate) const SUMMARY_MARK: &str = "\u{E000}feedd-summary\u{E001}";

impl Frame {
    /// Splits rendered text at the last occurrence of `marker`, which goes to `after`.
    fn split_at_last(text: &str, marker: &str) -> Frame {
        let at = text.rfind(marker).unwrap_or(text.len());
        Frame {
            before: text[..at].into(),
            after: text[at..].into(),
            summary_at: None,
        }
    }

    /// A frame whose `before` may hold `mark` (once) where the summary goes.
    fn with_summary(before: &str, after: String, mark: &str) -> Frame {
        match before.find(mark) {
            Some(at) => Frame {
                before: format!("{}{}", &before[..at], &before[at + mark.len()..]).into(),
                after: after.into(),
                summary_at: Some(at),
            },
            None => Frame {
                before: before.into(),
                after: after.into(),
                summary_at: None,
            },
        }
    }
}

/// Escapes text for XML element content (`&`, `<`, `>`), copying runs without them.
fn write_xml_text(text: &str, out: &mut Vec<u8>) {
    write_escaped(text, false, out);
}

/// Escapes text for a double-quoted XML attribute value (`"` too).
fn write_xml_attribute(text: &str, out: &mut Vec<u8>) {
    write_escaped(text, true, out);
}

fn write_escaped(text: &str, quotes: bool, out: &mut Vec<u8>) {
    crate::escape::xml(text, quotes, out);
}

/// One entry as all formats show it, before rendering.
pub struct Entry<'a> {
    pub post: &'a Post,
    pub body: &'a RenderedBody,
    /// Absolute jekyll-feed id (the Jekyll `post.id`).
    pub id: String,
    /// Absolute post URL.
    pub link: String,
    /// Plain-text title (smartified, tags stripped).
    pub title: String,
    /// `<category>` terms: the entry's categories, then its tags.
    pub terms: Vec<&'a str>,
    /// Absolute image URL, when the post has one.
    pub image: Option<String>,
    /// Entry author: the post's, else the site's.
    pub author: String,
}

impl Entry<'_> {
    pub fn updated(&self) -> DateTime<FixedOffset> {
        self.post.updated.unwrap_or(self.post.date)
    }
}

/// A post rendered once for all feeds and formats.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryParts {
    /// Full HTML content, spliced into every format.
    pub content: Box<str>,
    /// Plain-text summary, spliced into every format.
    pub summary: Box<str>,
    pub atom: Frame,
    pub rss: Frame,
    pub json: Frame,
    pub updated: DateTime<FixedOffset>,
    pub has_image: bool,
    /// What the HTML pages show of it (the summary is the one above).
    pub page: PageEntry,
}

/// An entry as the pages for people show it: plain values, escaped when rendered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageEntry {
    pub title: Box<str>,
    /// Absolute post URL.
    pub link: Box<str>,
    /// The post's date, in the site's zone.
    pub date: DateTime<FixedOffset>,
    /// Feed names as written (categories, then tags).
    pub categories: Box<[Box<str>]>,
    pub tags: Box<[Box<str>]>,
}

impl EntryParts {
    pub fn new(entry: &Entry<'_>) -> EntryParts {
        EntryParts {
            content: entry.body.content.as_str().into(),
            summary: entry.body.summary.as_str().into(),
            atom: atom::entry(entry),
            rss: rss::item(entry),
            json: json::item(entry),
            updated: entry.updated(),
            has_image: entry.image.is_some(),
            page: PageEntry {
                title: entry.title.as_str().into(),
                link: entry.link.as_str().into(),
                date: entry.post.date,
                categories: entry
                    .post
                    .categories
                    .iter()
                    .map(|c| c.as_str().into())
                    .collect(),
                tags: entry.post.tags.iter().map(|t| t.as_str().into()).collect(),
            },
        }
    }

    /// About the memory it holds, in bytes (what caches of entries count).
    pub fn weight(&self) -> usize {
        const OVERHEAD: usize = 256;
        let frames = [&self.atom, &self.rss, &self.json]
            .iter()
            .map(|f| f.before.len() + f.after.len())
            .sum::<usize>();
        let page = self.page.title.len() + self.page.link.len();
        self.content.len() + self.summary.len() + frames + page + OVERHEAD
    }

    fn frame(&self, format: Format) -> &Frame {
        match format {
            Format::Atom => &self.atom,
            Format::Rss => &self.rss,
            Format::Json => &self.json,
        }
    }

    /// Writes the entry with its content, escaped for the format.
    fn write(&self, format: Format, out: &mut Vec<u8>) {
        let frame = self.frame(format);
        match frame.summary_at {
            Some(at) => {
                out.extend_from_slice(&frame.before.as_bytes()[..at]);
                match format {
                    Format::Atom | Format::Rss => write_xml_text(&self.summary, out),
                    Format::Json => json::write_string(&self.summary, out),
                }
                out.extend_from_slice(&frame.before.as_bytes()[at..]);
            }
            None => out.extend_from_slice(frame.before.as_bytes()),
        }
        match format {
            Format::Atom | Format::Rss => write_cdata(&self.content, out),
            Format::Json => json::write_string(&self.content, out),
        }
        out.extend_from_slice(frame.after.as_bytes());
    }
}

/// Writes text as CDATA; a `]]>` inside is split across two sections, so any content
/// stays well-formed.
fn write_cdata(text: &str, out: &mut Vec<u8>) {
    // Every post's content passes here once per feed it is in: a vectorised search.
    let bytes = text.as_bytes();
    out.extend_from_slice(b"<![CDATA[");
    let mut from = 0;
    for at in memchr::memmem::find_iter(bytes, b"]]>") {
        out.extend_from_slice(&bytes[from..at]);
        out.extend_from_slice(b"]]]]><![CDATA[>");
        from = at + 3;
    }
    out.extend_from_slice(&bytes[from..]);
    out.extend_from_slice(b"]]>");
}

/// Renders one feed in one format into `out` (cleared first).
pub fn render(format: Format, head: &FeedHead<'_>, entries: &[&EntryParts], out: &mut Vec<u8>) {
    out.clear();
    let frame = match format {
        Format::Atom => atom::head(head),
        Format::Rss => rss::head(head),
        Format::Json => json::head(head),
    };
    let size: usize = entries
        .iter()
        .map(|e| e.content.len() + e.summary.len() + e.frame(format).before.len() + 64)
        .sum();
    out.reserve(frame.before.len() + size + frame.after.len());
    out.extend_from_slice(frame.before.as_bytes());
    for (i, entry) in entries.iter().enumerate() {
        if format == Format::Json && i > 0 {
            out.push(b',');
        }
        entry.write(format, out);
    }
    out.extend_from_slice(frame.after.as_bytes());
}

/// The entry for one post: links, id, title, terms, author.
pub fn entry<'a>(
    post: &'a Post,
    body: &'a RenderedBody,
    site: &Site,
    site_url: &SiteUrl,
) -> Entry<'a> {
    Entry {
        post,
        body,
        id: post.absolute_id.clone(),
        link: post.absolute_url.clone(),
        title: crate::text::feed_title(&post.title),
        terms: post
            .entry_categories
            .iter()
            .chain(&post.tags)
            .map(String::as_str)
            .collect(),
        image: image_url(post, site_url),
        author: entry_author(post, site, site_url),
    }
}

/// The absolute URL of a post's image, when it has one.
fn image_url(post: &Post, site_url: &SiteUrl) -> Option<String> {
    post.image.as_deref().map(|image| {
        if image.contains("://") {
            crate::url::normalize(image)
        } else {
            site_url.absolute(image)
        }
    })
}

/// An entry's author: the post's, else the site's.
fn entry_author(post: &Post, site: &Site, site_url: &SiteUrl) -> String {
    post.author
        .clone()
        .unwrap_or_else(|| site_author(site, &site_url.absolute("/")))
}

#[cfg(test)]
mod tests {
    #[test]
    fn cdata_splits_every_end_marker() {
        for (text, want) in [
            ("", "<![CDATA[]]>"),
            ("a]]>b", "<![CDATA[a]]]]><![CDATA[>b]]>"),
            ("]]>]]>", "<![CDATA[]]]]><![CDATA[>]]]]><![CDATA[>]]>"),
            ("]]]>>", "<![CDATA[]]]]]><![CDATA[>>]]>"),
        ] {
            let mut out = Vec::new();
            super::write_cdata(text, &mut out);
            assert_eq!(String::from_utf8(out).unwrap(), want, "{text:?}");
        }
    }
}
