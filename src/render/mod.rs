//! Feeds as bytes: an index slice and the shared rendered entries → Atom, RSS or JSON Feed.
//! No I/O and no clock: a feed's date is its newest entry's, so rebuilding the same input
//! gives the same bytes.

mod atom;
pub mod body;
mod json;
pub mod opml;
mod rss;

use chrono::{DateTime, FixedOffset};

use crate::config::Site;
use crate::index::{FeedGroup, FeedKey};
use crate::post::Post;
use crate::url::SiteUrl;
use body::RenderedBody;

/// One of the three syndication formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Format {
    Atom,
    Rss,
    Json,
}

impl Format {
    pub const ALL: [Format; 3] = [Format::Atom, Format::Rss, Format::Json];

    /// File name inside a feed's folder. `feed.xml` is Atom, the path jekyll-feed uses.
    pub fn file_name(self) -> &'static str {
        match self {
            Format::Atom => "feed.xml",
            Format::Rss => "rss.xml",
            Format::Json => "feed.json",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Atom => "application/atom+xml; charset=utf-8",
            Format::Rss => "application/rss+xml; charset=utf-8",
            Format::Json => "application/feed+json; charset=utf-8",
        }
    }

    /// From a file name; `None` for anything else.
    pub fn from_file_name(name: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|f| f.file_name() == name)
    }
}

/// The feed-level values every format needs.
pub struct FeedHead<'a> {
    pub site: &'a Site,
    pub title: String,
    /// Absolute URL of the site's home page.
    pub home_url: String,
    /// Absolute URL of the feed's folder, ending in `/`.
    pub base_url: String,
    /// The newest entry's date; the Unix epoch for an empty feed.
    pub updated: DateTime<FixedOffset>,
}

impl FeedHead<'_> {
    pub fn self_url(&self, format: Format) -> String {
        format!("{}{}", self.base_url, format.file_name())
    }

    /// Author for the feed level: the site author, else its title, else the host.
    pub fn author(&self) -> String {
        self.site
            .author
            .clone()
            .or_else(|| Some(self.site.title.clone()).filter(|t| !t.is_empty()))
            .unwrap_or_else(|| {
                let host = self.home_url.split('/').nth(2).unwrap_or("");
                if host.is_empty() {
                    "feedd".to_string()
                } else {
                    host.to_string()
                }
            })
    }
}

/// One entry as all formats show it.
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
}

impl Entry<'_> {
    pub fn updated(&self) -> DateTime<FixedOffset> {
        self.post.updated.unwrap_or(self.post.date)
    }

    pub fn image(&self, site: &SiteUrl) -> Option<String> {
        let image = self.post.image.as_deref()?;
        Some(if image.contains("://") {
            crate::url::normalize(image)
        } else {
            site.absolute(image)
        })
    }
}

/// Builds the head of one feed.
pub fn head<'a>(
    site: &'a Site,
    site_url: &SiteUrl,
    group: &FeedGroup,
    entries: &[Entry<'_>],
) -> FeedHead<'a> {
    let title = match &group.key {
        FeedKey::Site => site.title.clone(),
        _ if site.title.is_empty() => group.label.clone(),
        _ => format!("{} | {}", site.title, group.label),
    };
    let title = crate::text::xml_clean(&title).into_owned();
    let dir = group.key.url_dir();
    let base_url = if dir.is_empty() {
        site_url.absolute("/")
    } else {
        site_url.absolute(&format!("/{dir}/"))
    };
    let updated = entries
        .iter()
        .map(Entry::updated)
        .max()
        .unwrap_or_else(|| DateTime::UNIX_EPOCH.fixed_offset());
    FeedHead {
        site,
        title,
        home_url: site_url.absolute("/"),
        base_url,
        updated,
    }
}

/// Renders one feed in one format.
pub fn render(
    format: Format,
    head: &FeedHead<'_>,
    entries: &[Entry<'_>],
    site_url: &SiteUrl,
) -> Vec<u8> {
    match format {
        Format::Atom => atom::render(head, entries, site_url),
        Format::Rss => rss::render(head, entries, site_url),
        Format::Json => json::render(head, entries, site_url),
    }
}

/// RFC 3339 with seconds and a numeric offset (never `Z`), as jekyll-feed writes dates.
pub fn rfc3339(date: &DateTime<FixedOffset>) -> String {
    date.format("%Y-%m-%dT%H:%M:%S%:z").to_string()
}
