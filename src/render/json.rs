//! JSON Feed 1.1 (https://jsonfeed.org/version/1.1) with serde. Compact JSON; each item's
//! `content_html` is spliced in.

use serde::Serialize;

use super::{rfc3339, Entry, FeedHead, Format, Frame};

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
    authors: Vec<Author<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    hubs: Vec<Hub<'a>>,
    /// The archive document just older (JSON Feed's pagination).
    #[serde(skip_serializing_if = "Option::is_none")]
    next_url: Option<String>,
    /// Always last: the items are spliced in after it.
    items: [(); 0],
}

/// A WebSub hub (JSON Feed's `hubs`: `type` and `url`).
#[derive(Serialize)]
struct Hub<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    url: &'a str,
}

#[derive(Serialize)]
struct Author<'a> {
    name: &'a str,
}

#[derive(Serialize)]
struct Item<'a> {
    id: &'a str,
    url: &'a str,
    title: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    summary: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    image: Option<&'a str>,
    date_published: String,
    date_modified: String,
    authors: [Author<'a>; 1],
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    tags: &'a [&'a str],
    #[serde(skip_serializing_if = "Option::is_none")]
    language: Option<&'a str>,
}

/// The feed object; items go between `before` (ending in `[`) and `after` (`]}`).
pub fn head(head: &FeedHead<'_>) -> Frame {
    let site = head.site;
    let author = head.author();
    let feed = JsonFeed {
        version: "https://jsonfeed.org/version/1.1",
        title: &head.title,
        home_page_url: &head.alternate_url,
        feed_url: head.self_url(Format::Json),
        description: Some(site.description.as_str()).filter(|d| !d.is_empty()),
        language: site.lang.as_deref(),
        authors: vec![Author { name: &author }],
        hubs: (head.hubs.iter())
            .map(|url| Hub {
                kind: "WebSub",
                url,
            })
            .collect(),
        next_url: head.older(Format::Json),
        items: [],
    };
    let text = serde_json::to_string(&feed).unwrap_or_default();
    let mut frame = Frame::split_at_last(&text, "]}");
    frame.after = "]}\n".into();
    frame
}

/// One item object; its `content_html` string goes between `before` and `after`.
pub fn item(e: &Entry<'_>) -> Frame {
    let item = Item {
        id: &e.id,
        url: &e.link,
        title: &e.title,
        summary: if e.body.summary.is_empty() {
            ""
        } else {
            super::SUMMARY_MARK
        },
        image: e.image.as_deref(),
        date_published: rfc3339(&e.post.date),
        date_modified: rfc3339(&e.updated()),
        authors: [Author { name: &e.author }],
        tags: &e.terms,
        language: e.post.lang.as_deref(),
    };
    let text = serde_json::to_string(&item).unwrap_or_default();
    let close = text.rfind('}').unwrap_or(text.len());
    // The mark is written as a whole JSON string; `write_string` adds the quotes back.
    let mark = format!("\"{}\"", super::SUMMARY_MARK);
    Frame::with_summary(
        &format!("{},\"content_html\":", &text[..close]),
        "}".into(),
        &mark,
    )
}

/// One archived item (`render::archive`): an item without `content_html`, whose
/// `content_text` (which JSON Feed requires, with or without HTML) is its summary, or its
/// title when it has none.
pub fn archived_item(b: &super::archive::Brief, author: &str, out: &mut Vec<u8>) {
    let tags: Vec<&str> = b.terms.iter().map(|t| &**t).collect();
    let summary = b.summary.as_deref().unwrap_or("");
    let item = Item {
        id: &b.id,
        url: &b.link,
        title: &b.title,
        summary,
        image: b.image.as_deref(),
        date_published: rfc3339(&b.date),
        date_modified: rfc3339(&b.updated),
        authors: [Author { name: author }],
        tags: &tags,
        language: b.lang.as_deref(),
    };
    // `content_text` goes last, after the item's fields (as a struct that flattens the
    // item would put it, through serde's much slower map serializer).
    let start = out.len();
    if serde_json::to_writer(&mut *out, &item).is_err() {
        out.truncate(start);
        out.extend_from_slice(b"{}");
        return;
    }
    out.pop(); // the item's closing brace
    out.extend_from_slice(b",\"content_text\":");
    write_string(
        if summary.is_empty() {
            &b.title
        } else {
            summary
        },
        out,
    );
    out.push(b'}');
}

/// Writes `text` as a JSON string literal.
pub fn write_string(text: &str, out: &mut Vec<u8>) {
    crate::escape::json(text, out);
}
