//! The pieces of a whole site's output that are more than one feed: one post rendered
//! into its `EntryParts`, a feed's description for lists (`FeedInfo`), and the OPML list.

use super::{head, opml, EntryParts};
use crate::config::Site;
use crate::index::FeedGroup;
use crate::layout::{FeedKey, FeedKind, Format};
use crate::post::Post;
use crate::url::SiteUrl;

/// Renders one post for every feed and format, from its body as read with it.
/// `summary`: `body::summary` of this post, when already made.
pub fn entry_parts(
    post: &Post,
    body: &str,
    summary: Option<String>,
    site: &Site,
    site_url: &SiteUrl,
) -> EntryParts {
    let body = super::body::render(post, body, &post.absolute_url, summary);
    EntryParts::new(&super::entry(post, &body, site, site_url))
}

/// One feed as the index page and OPML list it (kept in `feedd serve`'s manifest).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FeedInfo {
    pub key: FeedKey,
    pub title: String,
    /// The name as written (empty for the site feed).
    pub label: String,
    /// What pages call it: its title if it has one, else its name.
    #[serde(default)]
    pub display: String,
    /// Site-relative folder URL path, percent-encoded, ending in `/` (`/tags/%E8…/`).
    pub path: String,
    /// Absolute URL of the folder (site url + baseurl + path), for OPML.
    pub base_url: String,
    /// Absolute URL of its page for people (OPML `htmlUrl`).
    pub home_url: String,
    pub posts: usize,
    /// The newest entry's date, RFC 3339; empty for an empty feed.
    pub updated: String,
}

impl FeedInfo {
    pub fn kind(&self) -> FeedKind {
        self.key.kind()
    }
}

/// The description of one feed, from its entries.
pub fn feed_info(
    group: &FeedGroup,
    entries: &[&EntryParts],
    site: &Site,
    site_url: &SiteUrl,
) -> FeedInfo {
    let head = head(site, &[], site_url, group, entries);
    FeedInfo {
        key: group.key.clone(),
        label: group.label.clone(),
        path: group.key.url_path(),
        posts: group.total,
        updated: if entries.is_empty() {
            String::new()
        } else {
            super::rfc3339(&head.updated)
        },
        title: head.title,
        display: head.display,
        base_url: head.base_url,
        home_url: head.alternate_url,
    }
}

/// The OPML kind and file name its lines list (the preferred XML format).
fn opml_format(formats: &[Format]) -> (&'static str, Format) {
    let format = (formats.iter().copied())
        .find(|f| *f != Format::Json)
        .or(formats.first().copied())
        .unwrap_or(Format::Atom);
    let kind = if format == Format::Json {
        "json"
    } else {
        "rss"
    };
    (kind, format)
}

/// One feed's line of the OPML list.
pub fn opml_line(info: &FeedInfo, formats: &[Format]) -> String {
    let (kind, format) = opml_format(formats);
    opml::outline(&opml::Outline {
        title: &info.title,
        base_url: &info.base_url,
        file_name: format.file_name(),
        html_url: &info.home_url,
        kind,
    })
}

/// The OPML list of every feed, from their infos and lines (`opml_line`).
pub fn opml<'a>(feeds: impl IntoIterator<Item = (&'a FeedInfo, &'a str)>, title: &str) -> Vec<u8> {
    let mut sections: Vec<(&str, Vec<&str>)> = vec![
        ("Site", Vec::new()),
        ("Categories", Vec::new()),
        ("Tags", Vec::new()),
        ("Custom feeds", Vec::new()),
    ];
    for (info, line) in feeds {
        let slot = match info.kind() {
            FeedKind::Site => 0,
            FeedKind::Category => 1,
            FeedKind::Tag => 2,
            FeedKind::Custom => 3,
        };
        sections[slot].1.push(line);
    }
    opml::render(title, &sections)
}
