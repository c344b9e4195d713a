//! RSS 2.0 with the `rss` crate: `atom:link rel="self"`, `guid` = the jekyll-feed id,
//! `description` = summary, full HTML in `content:encoded` (spliced in as CDATA),
//! `dc:creator` for authors.

use std::collections::BTreeMap;

use rss::extension::atom::{AtomExtension, Link};
use rss::extension::dublincore::DublinCoreExtension;
use rss::extension::Extension;
use rss::{Category, Channel, Guid, Item};

use super::{Entry, FeedHead, Format, Frame};
use crate::text::xml_clean;

fn namespaces() -> BTreeMap<String, String> {
    BTreeMap::from([
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
    ])
}

fn write(channel: &Channel) -> String {
    match channel.write_to(Vec::new()) {
        Ok(bytes) => String::from_utf8(bytes).unwrap_or_default(),
        Err(e) => {
            tracing::error!("rss writer failed: {e}");
            String::new()
        }
    }
}

/// The channel without items; items go between `before` and `after`.
pub fn head(head: &FeedHead<'_>) -> Frame {
    let site = head.site;
    let description = if site.description.is_empty() {
        head.title.clone()
    } else {
        xml_clean(&site.description).into_owned()
    };
    let channel = Channel {
        title: head.title.clone(),
        link: head.alternate_url.clone(),
        description,
        language: site.lang.clone(),
        generator: Some(format!("feedd {}", env!("CARGO_PKG_VERSION"))),
        last_build_date: Some(head.updated.to_rfc2822()),
        atom_ext: Some(AtomExtension {
            links: std::iter::once(Link {
                href: head.self_url(Format::Rss),
                rel: "self".into(),
                mime_type: Some(crate::layout::Format::Rss.media_type().into()),
                ..Link::default()
            })
            .chain(head.hubs.iter().map(|hub| Link {
                href: hub.clone(),
                rel: "hub".into(),
                ..Link::default()
            }))
            .chain(head.links(Format::Rss).map(|(rel, href)| Link {
                href,
                rel: rel.into(),
                mime_type: Some(Format::Rss.media_type().into()),
                ..Link::default()
            }))
            .collect(),
        }),
        namespaces: namespaces(),
        ..Channel::default()
    };
    let mut channel = channel;
    if head.history.is_archive() {
        channel
            .namespaces
            .insert("fh".into(), super::HISTORY_NS.into());
        let archive = Extension {
            name: "fh:archive".into(),
            ..Extension::default()
        };
        (channel.extensions.entry("fh".into()).or_default())
            .insert("archive".into(), vec![archive]);
    }
    Frame::split_at_last(&write(&channel), "</channel>")
}

/// One `<item>`; its `content:encoded` CDATA goes between `before` and `after`.
pub fn item(e: &Entry<'_>) -> Frame {
    let item = Item {
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
                name: xml_clean(t).into_owned(),
                domain: None,
            })
            .collect(),
        description: Some(e.body.summary.as_str())
            .filter(|s| !s.is_empty())
            .map(|_| super::SUMMARY_MARK.to_string()),
        dublin_core_ext: Some(DublinCoreExtension {
            creators: vec![xml_clean(&e.author).into_owned()],
            ..DublinCoreExtension::default()
        }),
        extensions: e.image.clone().map(media_thumbnail).unwrap_or_default(),
        ..Item::default()
    };
    let channel = Channel {
        items: vec![item],
        namespaces: namespaces(),
        ..Channel::default()
    };
    let text = write(&channel);
    let start = text.find("<item>").unwrap_or(0);
    let end = text.rfind("</channel>").unwrap_or(text.len());
    let item = &text[start..end];
    let close = item.rfind("</item>").unwrap_or(item.len());
    Frame::with_summary(
        &format!("{}<content:encoded>", &item[..close]),
        format!("</content:encoded>{}", &item[close..]),
        super::SUMMARY_MARK,
    )
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
