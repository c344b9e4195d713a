//! JSON Feed 1.1 (https://jsonfeed.org/version/1.1) with serde.

use serde::Serialize;

use super::{rfc3339, Entry, FeedHead, Format};
use crate::url::SiteUrl;

#[derive(Serialize)]
struct JsonFeed<'a> {
    version: &'static str,
    title: &'a str,
    home_page_url: &'a str,
    feed_url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    language: Option<&'a str>,
    authors: Vec<Author>,
    items: Vec<Item<'a>>,
}

#[derive(Serialize)]
struct Author {
    name: String,
}

#[derive(Serialize)]
struct Item<'a> {
    id: &'a str,
    url: &'a str,
    title: &'a str,
    content_html: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    summary: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    image: Option<String>,
    date_published: String,
    date_modified: String,
    authors: Vec<Author>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    tags: &'a [&'a str],
    #[serde(skip_serializing_if = "Option::is_none")]
    language: Option<&'a str>,
}

pub fn render(head: &FeedHead<'_>, entries: &[Entry<'_>], site_url: &SiteUrl) -> Vec<u8> {
    let site = head.site;
    let feed = JsonFeed {
        version: "https://jsonfeed.org/version/1.1",
        title: &head.title,
        home_page_url: &head.home_url,
        feed_url: head.self_url(Format::Json),
        description: Some(site.description.as_str()).filter(|d| !d.is_empty()),
        language: site.lang.as_deref(),
        authors: vec![Author {
            name: head.author(),
        }],
        items: entries
            .iter()
            .map(|e| Item {
                id: &e.id,
                url: &e.link,
                title: &e.title,
                content_html: &e.body.content,
                summary: &e.body.summary,
                image: e.image(site_url),
                date_published: rfc3339(&e.post.date),
                date_modified: rfc3339(&e.updated()),
                authors: vec![Author {
                    name: e.post.author.clone().unwrap_or_else(|| head.author()),
                }],
                tags: &e.terms,
                language: e.post.lang.as_deref(),
            })
            .collect(),
    };
    let mut out = serde_json::to_vec_pretty(&feed).unwrap_or_default();
    out.push(b'\n');
    out
}
