//! RSS 2.0 with the `rss` crate: `atom:link rel="self"`, `guid` = the jekyll-feed id,
//! `description` = summary, full HTML in `content:encoded`, `dc:creator` for authors.

use std::collections::BTreeMap;

use rss::extension::atom::{AtomExtension, Link};
use rss::extension::dublincore::DublinCoreExtension;
use rss::extension::Extension;
use rss::{Category, Channel, Guid, Item};

use super::{Entry, FeedHead, Format};
use crate::url::SiteUrl;

pub fn render(head: &FeedHead<'_>, entries: &[Entry<'_>], site_url: &SiteUrl) -> Vec<u8> {
    let site = head.site;
    let description = if site.description.is_empty() {
        head.title.clone()
    } else {
        crate::text::xml_clean(&site.description).into_owned()
    };
    let mut channel = Channel {
        title: head.title.clone(),
        link: head.home_url.clone(),
        description,
        language: site.lang.clone(),
        generator: Some(format!("feedd {}", env!("CARGO_PKG_VERSION"))),
        last_build_date: Some(head.updated.to_rfc2822()),
        atom_ext: Some(AtomExtension {
            links: vec![Link {
                href: head.self_url(Format::Rss),
                rel: "self".into(),
                mime_type: Some("application/rss+xml".into()),
                ..Link::default()
            }],
        }),
        namespaces: BTreeMap::from([
            (
                "atom".to_string(),
                "http://www.w3.org/2005/Atom".to_string(),
            ),
            (
                "content".to_string(),
                "http://purl.org/rss/1.0/modules/content/".to_string(),
            ),
            (
                "dc".to_string(),
                "http://purl.org/dc/elements/1.1/".to_string(),
            ),
            (
                "media".to_string(),
                "http://search.yahoo.com/mrss/".to_string(),
            ),
        ]),
        ..Channel::default()
    };
    channel.items = entries.iter().map(|e| item(e, head, site_url)).collect();
    let mut out = Vec::with_capacity(4096 + entries.len() * 4096);
    if let Err(e) = channel.write_to(&mut out) {
        tracing::error!("rss writer failed: {e}");
    }
    out
}

fn item(e: &Entry<'_>, head: &FeedHead<'_>, site_url: &SiteUrl) -> Item {
    let author = e.post.author.clone().unwrap_or_else(|| head.author());
    Item {
        title: Some(e.title.clone()),
        link: Some(e.link.clone()),
        guid: Some(Guid {
            value: e.id.clone(),
            permalink: false,
        }),
        pub_date: Some(e.post.date.to_rfc2822()),
        categories: e
            .terms
            .iter()
            .map(|t| Category {
                name: crate::text::xml_clean(t).into_owned(),
                domain: None,
            })
            .collect(),
        description: Some(e.body.summary.clone()).filter(|s| !s.is_empty()),
        content: Some(e.body.content.clone()),
        enclosure: None,
        dublin_core_ext: Some(DublinCoreExtension {
            creators: vec![crate::text::xml_clean(&author).into_owned()],
            ..DublinCoreExtension::default()
        }),
        extensions: e.image(site_url).map(media_thumbnail).unwrap_or_default(),
        ..Item::default()
    }
}

/// `<media:thumbnail url="…"/>`, as jekyll-feed writes for a post's `image`.
fn media_thumbnail(url: String) -> rss::extension::ExtensionMap {
    let thumb = Extension {
        name: "media:thumbnail".into(),
        attrs: BTreeMap::from([("url".to_string(), url)]),
        ..Extension::default()
    };
    BTreeMap::from([(
        "media".to_string(),
        BTreeMap::from([("thumbnail".to_string(), vec![thumb])]),
    )])
}
