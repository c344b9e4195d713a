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
/// title when it has none. Written field by field, in `Item`'s order and as serde_json
/// writes it (a test holds them equal): a 100k-post build writes half a million of
/// these, and serde's way cost a quarter of the archives' instructions.
pub fn archived_item(b: &super::archive::Brief, author: &str, out: &mut Vec<u8>) {
    let field = |name: &str, out: &mut Vec<u8>| {
        out.extend_from_slice(b",\"");
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b"\":");
    };
    let summary = b.summary.as_deref().unwrap_or("");
    out.extend_from_slice(b"{\"id\":");
    write_string(&b.id, out);
    field("url", out);
    write_string(&b.link, out);
    field("title", out);
    write_string(&b.title, out);
    if !summary.is_empty() {
        field("summary", out);
        write_string(summary, out);
    }
    if let Some(image) = &b.image {
        field("image", out);
        write_string(image, out);
    }
    // Dates need no escaping.
    for (name, date) in [("date_published", &b.date), ("date_modified", &b.updated)] {
        field(name, out);
        out.push(b'"');
        super::write_rfc3339(date, out);
        out.push(b'"');
    }
    out.extend_from_slice(b",\"authors\":[{\"name\":");
    write_string(author, out);
    out.extend_from_slice(b"}]");
    if !b.terms.is_empty() {
        field("tags", out);
        for (i, tag) in b.terms.iter().enumerate() {
            out.push(if i == 0 { b'[' } else { b',' });
            write_string(tag, out);
        }
        out.push(b']');
    }
    if let Some(lang) = &b.lang {
        field("language", out);
        write_string(lang, out);
    }
    field("content_text", out);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::archive::Brief;
    use chrono::DateTime;

    /// What serde_json writes for the item, with `content_text` after its fields.
    fn by_serde(b: &Brief, author: &str) -> String {
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
        let mut text = serde_json::to_string(&item).unwrap();
        text.pop();
        let content = if summary.is_empty() {
            &*b.title
        } else {
            summary
        };
        text + ",\"content_text\":" + &serde_json::to_string(content).unwrap() + "}"
    }

    #[test]
    fn archived_items_are_what_serde_writes() {
        let date = DateTime::parse_from_rfc3339("2024-03-11T09:30:00+08:00").unwrap();
        let full = Brief {
            title: "西海 \"quoted\" \\ <b>&\u{1}".into(),
            id: "https://example.com/2024/03/11/a\"b".into(),
            link: "https://example.com/2024/03/11/a.html?x=1&y=2".into(),
            date,
            updated: DateTime::parse_from_rfc3339("2024-03-12T01:02:03-05:30").unwrap(),
            author: Some("作者".into()),
            image: Some("https://example.com/i.png".into()),
            lang: Some("zh-CN".into()),
            terms: vec!["A股".into(), "t\"ag".into()].into(),
            summary: Some("摘要\n第二行".into()),
        };
        let bare = Brief {
            author: None,
            image: None,
            lang: None,
            terms: Vec::new().into(),
            summary: None,
            ..full.clone()
        };
        for (brief, author) in [(&full, "作者"), (&bare, "Site \"Author\"")] {
            let mut out = Vec::new();
            archived_item(brief, author, &mut out);
            assert_eq!(String::from_utf8(out).unwrap(), by_serde(brief, author));
        }
    }
}
