//! Atom 1.0 (RFC 4287) with `atom_syndication`, shaped like jekyll-feed's `feed.xml`. The
//! crate writes the feed head and each entry; the content is spliced in as CDATA.

use std::collections::BTreeMap;

use atom_syndication::extension::Extension;
use atom_syndication::{Category, Feed, Generator, Link, Person, Text, WriteConfig};

use super::{Entry, FeedHead, Format, Frame};
use crate::escape::escape_html;
use crate::text::xml_clean;

const MEDIA_NS: &str = "http://search.yahoo.com/mrss/";

fn write(feed: &Feed, declaration: bool) -> String {
    let config = WriteConfig {
        write_document_declaration: declaration,
        ..WriteConfig::default()
    };
    match feed.write_with_config(Vec::new(), config) {
        Ok(bytes) => String::from_utf8(bytes).unwrap_or_default(),
        Err(e) => {
            tracing::error!("atom writer failed: {e}");
            String::new()
        }
    }
}

/// Everything of the feed but its entries; entries go between `before` and `after`.
pub fn head(head: &FeedHead<'_>) -> Frame {
    let site = head.site;
    let self_url = head.self_url(Format::Atom);
    let mut feed = Feed {
        title: Text::plain(head.title.clone()),
        id: self_url.clone(),
        updated: head.updated,
        authors: vec![person(head.author())],
        generator: Some(Generator {
            value: "feedd".into(),
            uri: Some("https://github.com/feedd/feedd".into()),
            version: Some(env!("CARGO_PKG_VERSION").into()),
        }),
        links: vec![
            Link {
                href: self_url,
                rel: "self".into(),
                mime_type: Some(crate::layout::Format::Atom.media_type().into()),
                ..Link::default()
            },
            Link {
                href: head.alternate_url.clone(),
                rel: "alternate".into(),
                mime_type: Some("text/html".into()),
                hreflang: site.lang.clone(),
                ..Link::default()
            },
        ],
        subtitle: Some(site.description.clone())
            .filter(|d| !d.is_empty())
            .map(|d| Text::plain(xml_clean(&d).into_owned())),
        lang: site.lang.clone(),
        ..Feed::default()
    };
    feed.links.extend(head.hubs.iter().map(|hub| Link {
        href: hub.clone(),
        rel: "hub".into(),
        ..Link::default()
    }));
    feed.links
        .extend(head.links(Format::Atom).map(|(rel, href)| Link {
            href,
            rel: rel.into(),
            mime_type: Some(Format::Atom.media_type().into()),
            ..Link::default()
        }));
    if head.media {
        feed.namespaces.insert("media".into(), MEDIA_NS.into());
    }
    if head.history.is_archive() {
        feed.namespaces
            .insert("fh".into(), super::HISTORY_NS.into());
        let archive = Extension {
            name: "fh:archive".into(),
            ..Extension::default()
        };
        (feed.extensions.entry("fh".into()).or_default()).insert("archive".into(), vec![archive]);
    }
    Frame::split_at_last(&write(&feed, true), "</feed>")
}

fn person(name: String) -> Person {
    Person {
        name: xml_clean(&name).into_owned(),
        ..Person::default()
    }
}

/// One `<entry>`; its `<content>` goes between `before` and `after`.
pub fn entry(e: &Entry<'_>) -> Frame {
    let lang = e.post.lang.clone();
    let mut entry = atom_syndication::Entry {
        title: Text {
            lang: lang.clone(),
            ..Text::plain(e.title.clone())
        },
        id: e.id.clone(),
        updated: e.updated(),
        published: Some(e.post.date),
        authors: vec![person(e.author.clone())],
        links: vec![Link {
            href: e.link.clone(),
            rel: "alternate".into(),
            mime_type: Some("text/html".into()),
            title: Some(e.title.clone()),
            ..Link::default()
        }],
        categories: e
            .terms
            .iter()
            .map(|t| Category {
                term: xml_clean(t).into_owned(),
                ..Category::default()
            })
            .collect(),
        summary: Some(e.body.summary.as_str())
            .filter(|s| !s.is_empty())
            .map(|_| Text::plain(super::SUMMARY_MARK)),
        ..atom_syndication::Entry::default()
    };
    if let Some(image) = &e.image {
        let thumb = Extension {
            name: "media:thumbnail".into(),
            attrs: BTreeMap::from([("url".to_string(), image.clone())]),
            ..Extension::default()
        };
        entry
            .extensions
            .entry("media".into())
            .or_default()
            .insert("thumbnail".into(), vec![thumb]);
    }
    let feed = Feed {
        entries: vec![entry],
        ..Feed::default()
    };
    let text = write(&feed, false);
    let start = text.find("<entry>").unwrap_or(0);
    let end = text.rfind("</feed>").unwrap_or(text.len());
    let entry = &text[start..end];
    let close = entry.rfind("</entry>").unwrap_or(entry.len());
    let lang_attr = lang
        .map(|l| format!(" xml:lang=\"{}\"", escape_html(&xml_clean(&l))))
        .unwrap_or_default();
    let before = format!(
        "{}<content type=\"html\" xml:base=\"{}\"{lang_attr}>",
        &entry[..close],
        escape_html(&e.link)
    );
    Frame::with_summary(
        &before,
        format!("</content>{}", &entry[close..]),
        super::SUMMARY_MARK,
    )
}
