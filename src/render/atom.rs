//! Atom 1.0 (RFC 4287) with `atom_syndication`, shaped like jekyll-feed's `feed.xml`.

use std::collections::BTreeMap;

use atom_syndication::extension::Extension;
use atom_syndication::{Category, Content, Feed, Generator, Link, Person, Text, WriteConfig};

use super::{Entry, FeedHead, Format};
use crate::url::SiteUrl;

const MEDIA_NS: &str = "http://search.yahoo.com/mrss/";

pub fn render(head: &FeedHead<'_>, entries: &[Entry<'_>], site_url: &SiteUrl) -> Vec<u8> {
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
                mime_type: Some("application/atom+xml".into()),
                ..Link::default()
            },
            Link {
                href: head.home_url.clone(),
                rel: "alternate".into(),
                mime_type: Some("text/html".into()),
                hreflang: site.lang.clone(),
                ..Link::default()
            },
        ],
        subtitle: Some(site.description.clone())
            .filter(|d| !d.is_empty())
            .map(|d| Text::plain(crate::text::xml_clean(&d).into_owned())),
        lang: site.lang.clone(),
        ..Feed::default()
    };
    if entries.iter().any(|e| e.post.image.is_some()) {
        feed.namespaces.insert("media".into(), MEDIA_NS.into());
    }
    feed.entries = entries.iter().map(|e| entry(e, head, site_url)).collect();
    let mut out = Vec::with_capacity(4096 + entries.len() * 4096);
    // Writing to a Vec cannot fail for I/O reasons; XML errors cannot occur for our data.
    if let Err(e) = feed.write_with_config(&mut out, WriteConfig::default()) {
        tracing::error!("atom writer failed: {e}");
    }
    out
}

fn person(name: String) -> Person {
    Person {
        name: crate::text::xml_clean(&name).into_owned(),
        ..Person::default()
    }
}

fn entry(e: &Entry<'_>, head: &FeedHead<'_>, site_url: &SiteUrl) -> atom_syndication::Entry {
    let lang = e.post.lang.clone();
    let mut entry = atom_syndication::Entry {
        title: Text {
            lang: lang.clone(),
            ..Text::plain(e.title.clone())
        },
        id: e.id.clone(),
        updated: e.updated(),
        published: Some(e.post.date),
        authors: vec![person(
            e.post.author.clone().unwrap_or_else(|| head.author()),
        )],
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
                term: crate::text::xml_clean(t).into_owned(),
                ..Category::default()
            })
            .collect(),
        summary: Some(e.body.summary.clone())
            .filter(|s| !s.is_empty())
            .map(Text::plain),
        content: Some(Content {
            base: Some(e.link.clone()),
            lang,
            value: Some(e.body.content.clone()),
            content_type: Some("html".into()),
            ..Content::default()
        }),
        ..atom_syndication::Entry::default()
    };
    if let Some(image) = e.image(site_url) {
        let thumb = Extension {
            name: "media:thumbnail".into(),
            attrs: BTreeMap::from([("url".to_string(), image)]),
            ..Extension::default()
        };
        entry
            .extensions
            .entry("media".into())
            .or_default()
            .insert("thumbnail".into(), vec![thumb]);
    }
    entry
}
