//! What a feed says about itself, whatever its format: title, links, date, hubs, and
//! where it stands among its archive documents (RFC 5005 §4) or the pages of a custom
//! feed's result (§3).

use chrono::{DateTime, FixedOffset};

use super::EntryParts;
use crate::config::Site;
use crate::index::FeedGroup;
use crate::layout::{FeedKey, Format};
use crate::url::SiteUrl;

/// The feed-level values every format needs.
pub struct FeedHead<'a> {
    pub site: &'a Site,
    pub title: String,
    /// Absolute URL of the site's home page.
    pub home_url: String,
    /// Absolute URL of the feed's page for people (its alternate link): the site's own
    /// page for the term, else feedd's, else the home page.
    pub alternate_url: String,
    /// What the feed is called without the site's name (the term's title or name).
    pub display: String,
    /// Absolute URL of the feed's folder, ending in `/`.
    pub base_url: String,
    /// The newest entry's date; the Unix epoch for an empty feed.
    pub updated: DateTime<FixedOffset>,
    /// Whether some entry has an image (the media namespace is declared then).
    pub media: bool,
    /// WebSub hubs to advertise (`rel="hub"`), the built-in one first.
    pub hubs: &'a [String],
    /// A custom feed asked for in a URL: its canonical query string, part of its
    /// `rel="self"` URL.
    pub query: Option<String>,
    /// Its place among the feed's archive documents (RFC 5005).
    pub history: History,
    /// Its place among the pages of a custom feed's result.
    pub paging: Paging,
}

/// RFC 5005 links of a feed document: the folder URLs (ending in `/`) of the archive
/// documents around it; each format links to its own file in those folders.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct History {
    /// The archive document just older (from the subscription document: the newest).
    pub prev: Option<String>,
    /// The archive document just newer, when this is one and it is not the newest.
    pub next: Option<String>,
    /// On an archive document, the subscription document's folder (`current`).
    pub current: Option<String>,
}

impl History {
    /// Whether the document is an archive document (`fh:archive`).
    pub fn is_archive(&self) -> bool {
        self.current.is_some()
    }

    /// The links as `(rel, folder)`.
    pub fn links(&self) -> impl Iterator<Item = (&'static str, &str)> {
        [
            ("prev-archive", &self.prev),
            ("next-archive", &self.next),
            ("current", &self.current),
        ]
        .into_iter()
        .filter_map(|(rel, url)| Some((rel, url.as_deref()?)))
    }
}

/// RFC 5005 §3 links of one page of a custom feed's result: the canonical query strings
/// of the pages around it (on the same file of the same folder).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Paging {
    /// The page of older posts, when there are any.
    pub next: Option<String>,
    /// On a page after the first, the first's (empty when the first is the plain feed).
    pub first: Option<String>,
}

/// The RFC 5005 namespace of `fh:archive`.
pub const HISTORY_NS: &str = "http://purl.org/syndication/history/1.0";

impl FeedHead<'_> {
    pub fn self_url(&self, format: Format) -> String {
        self.page_url(format, self.query.as_deref().unwrap_or(""))
    }

    /// The URL of the page with this query string, in this format (`""`: the plain
    /// feed's).
    pub fn page_url(&self, format: Format, query: &str) -> String {
        match query {
            "" => format!("{}{}", self.base_url, format.file_name()),
            q => format!("{}{}?{q}", self.base_url, format.file_name()),
        }
    }

    /// Its RFC 5005 links in one format, as `(rel, URL)`: archive documents, then pages.
    pub fn links(&self, format: Format) -> impl Iterator<Item = (&'static str, String)> + '_ {
        let archives = (self.history.links())
            .map(move |(rel, folder)| (rel, format!("{folder}{}", format.file_name())));
        let pages = [("next", &self.paging.next), ("first", &self.paging.first)];
        let pages = (pages.into_iter())
            .filter_map(move |(rel, q)| Some((rel, self.page_url(format, q.as_deref()?))));
        archives.chain(pages)
    }

    /// The older posts' document in one format (JSON Feed's `next_url`): the newest
    /// archive document, or the next page.
    pub fn older(&self, format: Format) -> Option<String> {
        let archive = (self.history.prev.as_ref()).map(|f| format!("{f}{}", format.file_name()));
        let page = (self.paging.next.as_deref()).map(|q| self.page_url(format, q));
        archive.or(page)
    }

    /// Author for the feed level: the site author, else its title, else the host.
    pub fn author(&self) -> String {
        site_author(self.site, &self.home_url)
    }
}

pub(super) fn site_author(site: &Site, home_url: &str) -> String {
    site.author
        .clone()
        .or_else(|| Some(site.title.clone()).filter(|t| !t.is_empty()))
        .unwrap_or_else(|| {
            let host = home_url.split('/').nth(2).unwrap_or("");
            if host.is_empty() {
                "feedd".to_string()
            } else {
                host.to_string()
            }
        })
}

/// Builds the head of one feed from its entries.
pub fn head<'a>(
    site: &'a Site,
    hubs: &'a [String],
    site_url: &SiteUrl,
    group: &FeedGroup,
    entries: &[&EntryParts],
) -> FeedHead<'a> {
    let display = group.title.clone().unwrap_or_else(|| group.label.clone());
    let title = match &group.key {
        FeedKey::Site => site.title.clone(),
        _ if site.title.is_empty() => display.clone(),
        _ => format!("{} | {display}", site.title),
    };
    let title = crate::text::xml_clean(&title).into_owned();
    let folder = group.key.url_path();
    let base_url = site_url.join(&folder);
    let updated = entries
        .iter()
        .map(|e| e.updated)
        .max()
        .unwrap_or_else(|| DateTime::UNIX_EPOCH.fixed_offset());
    FeedHead {
        site,
        title,
        home_url: site_url.absolute("/"),
        // The feed's own page is one of feedd's folders; a page the site made is a
        // Jekyll URL, normalised as Jekyll does.
        alternate_url: match group.page.as_deref() {
            Some(page) if page == folder => base_url.clone(),
            page => site_url.absolute(page.unwrap_or("/")),
        },
        display,
        base_url,
        updated,
        media: entries.iter().any(|e| e.has_image),
        hubs,
        query: None,
        history: History::default(),
        paging: Paging::default(),
    }
}
