//! A post's HTML for the feeds: Markdown → HTML (CommonMark + tables, strikethrough,
//! footnotes, smart punctuation, raw HTML passed through, as kramdown does for these posts),
//! relative links made absolute, and the summary. Rendered once per post and shared by
//! every feed that carries it.

use lol_html::{element, rewrite_str, RewriteStrSettings};
use pulldown_cmark::{html, Options, Parser};

use crate::post::Post;
use crate::text::{decode_entities, normalize_whitespace, strip_html, strip_html_until, xml_clean};

/// The parts of an entry that cost something to compute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedBody {
    /// Full HTML content, URLs absolute, XML-safe characters only.
    pub content: String,
    /// Plain-text summary (description, else excerpt), whitespace normalised.
    pub summary: String,
}

/// Longest summary, in characters; longer ones are cut at a word boundary with `…`.
/// (Jekyll's excerpt is the whole post when it has no blank line, which bloats every feed.)
pub const MAX_SUMMARY_CHARS: usize = 500;

/// Renders one post's `body` (its text after the front matter). `post_url` is its absolute
/// URL, the base for relative links.
/// `summary`: what `summary` gives for this post, when already made.
pub fn render(post: &Post, body: &str, post_url: &str, summary: Option<String>) -> RenderedBody {
    let body = xml_clean(body);
    let html = to_html(&body, post.markdown);
    let content = absolutize(html.trim(), post_url);
    RenderedBody {
        summary: summary.unwrap_or_else(|| summary_of(post, &body, Some(&html))),
        content,
    }
}

/// The summary alone, as `render` makes it: what custom feeds' `q=` words are looked
/// for in, for every post (not only those rendered into a feed).
pub fn summary(post: &Post, body: &str) -> String {
    summary_of(post, &xml_clean(body), None)
}

/// The summary of a cleaned body, given its HTML when already made.
fn summary_of(post: &Post, body: &str, html: Option<&str>) -> String {
    let summary_html = match (&post.description, &post.excerpt) {
        (Some(description), _) => description.clone(),
        (None, Some(excerpt)) => excerpt.clone(),
        (None, None) => {
            let excerpt = excerpt_source(body, &post.excerpt_separator);
            match html {
                Some(html) if excerpt.len() == body.len() => html.to_string(),
                _ => to_html(&excerpt, post.markdown),
            }
        }
    };
    summary_text(&summary_html)
}

/// The summary of some HTML: its text, entities decoded, whitespace normalised, cut.
/// Only the first MAX_SUMMARY_CHARS + 1 characters of the text count: the text of a
/// prefix of the HTML that has more than that gives the same summary (its cut falls
/// between markup and text, so no word or entity is split there).
fn summary_text(html: &str) -> String {
    let (text, cut) = strip_html_until(html, 4 * MAX_SUMMARY_CHARS);
    let summary = normalize_whitespace(&decode_entities(&text));
    let clean = xml_clean(&summary);
    if !cut || clean.chars().nth(MAX_SUMMARY_CHARS + 1).is_some() {
        return truncate(&clean, MAX_SUMMARY_CHARS);
    }
    let summary = normalize_whitespace(&decode_entities(&strip_html(html)));
    truncate(&xml_clean(&summary), MAX_SUMMARY_CHARS)
}

fn truncate(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        None => text.to_string(),
        Some((cut, _)) => {
            let head = &text[..cut];
            // Prefer a space near the end, so an English word is not cut in half.
            let cut = head.rfind(' ').filter(|&i| i > cut * 4 / 5).unwrap_or(cut);
            format!("{}…", head[..cut].trim_end())
        }
    }
}

fn to_html(text: &str, markdown: bool) -> String {
    if !markdown {
        return text.to_string();
    }
    let options = Options::ENABLE_TABLES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_SMART_PUNCTUATION;
    let mut out = String::with_capacity(text.len() + text.len() / 4);
    html::push_html(&mut out, Parser::new_ext(text, options));
    out
}

/// Jekyll's excerpt source: the raw body up to the first separator, plus the link
/// reference definitions it uses from later in the post. An empty separator means the
/// whole body.
fn excerpt_source(body: &str, separator: &str) -> String {
    if separator.is_empty() {
        return body.to_string();
    }
    let Some(cut) = memchr::memmem::find(body.as_bytes(), separator.as_bytes()) else {
        return body.to_string();
    };
    let (head, tail) = body.split_at(cut);
    let mut excerpt = head.to_string();
    let refs: Vec<&str> = tail
        .lines()
        .filter(|l| {
            let t = l.trim_start();
            t.starts_with('[') && t.contains("]:") && l.len() - t.len() <= 3
        })
        .collect();
    if !refs.is_empty() {
        excerpt.push_str("\n\n");
        excerpt.push_str(&refs.join("\n"));
    }
    excerpt
}

/// Makes `href` and `src` URLs absolute against the post URL and percent-encodes them, so
/// readers (which have no base) still find links and images. Other schemes are left alone.
pub fn absolutize(html: &str, base: &str) -> String {
    if !needs_rewrite(html) {
        return html.to_string();
    }
    let Ok(base) = url::Url::parse(base) else {
        return html.to_string();
    };
    let fix = |value: &str| -> Option<String> {
        let trimmed = value.trim();
        let scheme_end = trimmed.find(':').filter(|&i| {
            trimmed[..i]
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
        });
        if let Some(i) = scheme_end {
            let scheme = trimmed[..i].to_ascii_lowercase();
            if scheme != "http" && scheme != "https" {
                return None;
            }
        }
        base.join(trimmed).ok().map(String::from)
    };
    let result = rewrite_str(
        html,
        RewriteStrSettings {
            element_content_handlers: vec![
                element!("[href]", |el| {
                    if let Some(fixed) = el.get_attribute("href").and_then(|v| fix(&v)) {
                        el.set_attribute("href", &fixed)?;
                    }
                    Ok(())
                }),
                element!("[src]", |el| {
                    if let Some(fixed) = el.get_attribute("src").and_then(|v| fix(&v)) {
                        el.set_attribute("src", &fixed)?;
                    }
                    Ok(())
                }),
            ],
            ..RewriteStrSettings::new()
        },
    );
    result.unwrap_or_else(|_| html.to_string())
}

/// Whether some `href`/`src` value is not already an absolute ASCII http(s) URL (the
/// common case for scraped posts, which skips the HTML rewriter entirely).
fn needs_rewrite(html: &str) -> bool {
    let bytes = html.as_bytes();
    let mut from = 0;
    while let Some(i) = html[from..].find(['h', 's', 'H', 'S']).map(|i| i + from) {
        from = i + 1;
        let rest = &bytes[i..];
        let name_len = if rest.len() >= 4 && rest[..4].eq_ignore_ascii_case(b"href") {
            4
        } else if rest.len() >= 3 && rest[..3].eq_ignore_ascii_case(b"src") {
            3
        } else {
            continue;
        };
        let mut j = i + name_len;
        while bytes.get(j).is_some_and(|b| b.is_ascii_whitespace()) {
            j += 1;
        }
        if bytes.get(j) != Some(&b'=') {
            continue;
        }
        j += 1;
        while bytes.get(j).is_some_and(|b| b.is_ascii_whitespace()) {
            j += 1;
        }
        let quote = match bytes.get(j) {
            Some(q @ (b'"' | b'\'')) => *q,
            _ => return true,
        };
        let value_start = j + 1;
        let value_end = bytes[value_start..]
            .iter()
            .position(|b| *b == quote)
            .map_or(bytes.len(), |p| value_start + p);
        let value = &html[value_start..value_end];
        let absolute = value.starts_with("https://") || value.starts_with("http://");
        if !absolute || !value.is_ascii() || value.contains([' ', '\t', '\n']) {
            return true;
        }
        from = value_end;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// The summary made from a prefix of the HTML is the one made from all of it.
        #[test]
        fn a_summary_from_a_prefix_is_the_summary_of_the_whole(
            parts in proptest::collection::vec(proptest::sample::select(vec![
                "<p>", "</p>", "<b>", "</b>", "<script>var a = '<p>';</script>", "<!-- c -->",
                "<STYLE>p{}</style>", "&amp;", "&#x4e2d;", "&lt;", " ", "\n\n", "\u{3}",
                "word", "市场", "西海都市报新闻", "a longer English sentence", "\u{FFFE}",
            ]), 0..600)
        ) {
            let html = parts.concat();
            let whole = normalize_whitespace(&decode_entities(&strip_html(&html)));
            let whole = truncate(&xml_clean(&whole), MAX_SUMMARY_CHARS);
            proptest::prop_assert_eq!(summary_text(&html), whole);
        }
    }

    #[test]
    fn relative_links_and_images_become_absolute() {
        let html = r#"<a href="/a/b.html">x</a><img src="img/p.png"><a href="//cdn.example/x">y</a><a href="mailto:me@x">m</a><a href="https://例子.测试/路径">z</a>"#;
        let out = absolutize(html, "https://site.example/cat/2022/03/15/post.html");
        assert!(
            out.contains(r#"href="https://site.example/a/b.html""#),
            "{out}"
        );
        assert!(
            out.contains(r#"src="https://site.example/cat/2022/03/15/img/p.png""#),
            "{out}"
        );
        assert!(out.contains(r#"href="https://cdn.example/x""#), "{out}");
        assert!(out.contains(r#"href="mailto:me@x""#), "{out}");
        assert!(out.contains("xn--"), "{out}");
        assert!(out.is_ascii() || !out.contains("路径\""), "{out}");
    }

    #[test]
    fn markdown_keeps_inline_html_and_escapes_stray_angles() {
        let out = to_html(
            "<p>依托互联网</p>\n\n增长 <1% 了\n\n<>\n\n<http://x.example/a?b=1&c=2>\n",
            true,
        );
        assert!(out.contains("<p>依托互联网</p>"), "{out}");
        assert!(out.contains("&lt;1%"), "{out}");
        assert!(out.contains("&lt;&gt;"), "{out}");
        assert!(
            out.contains(r#"<a href="http://x.example/a?b=1&amp;c=2">"#),
            "{out}"
        );
    }

    #[test]
    fn rewrite_is_skipped_only_for_clean_absolute_urls() {
        assert!(!needs_rewrite(
            r#"<a href="https://x.example/a?b=1&amp;c=2">x</a> srcset"#
        ));
        assert!(needs_rewrite(r#"<a href="/a">x</a>"#));
        assert!(needs_rewrite(r#"<img SRC = 'img.png'>"#));
        assert!(needs_rewrite(r#"<a href="https://例子.测试/">x</a>"#));
        assert!(needs_rewrite("<a href=/bare>x</a>"));
        assert!(!needs_rewrite("no links, just a description of hrefs"));
    }

    #[test]
    fn long_summaries_are_cut() {
        assert_eq!(truncate("short", 10), "short");
        assert_eq!(truncate("aaaa bbbbb ccccc", 12), "aaaa bbbbb…");
        assert_eq!(truncate("一二三四五六", 3), "一二三…");
    }

    #[test]
    fn excerpt_cuts_at_separator_and_keeps_references() {
        assert_eq!(excerpt_source("one\n\ntwo", "\n\n"), "one");
        assert_eq!(
            excerpt_source("crlf\r\n\r\nmore", "\n\n"),
            "crlf\r\n\r\nmore"
        );
        assert_eq!(
            excerpt_source("a [x][r]\n\nb\n\n[r]: /u", "\n\n"),
            "a [x][r]\n\n[r]: /u"
        );
        assert_eq!(excerpt_source("one\n\ntwo", ""), "one\n\ntwo");
    }
}
