//! Text transforms Jekyll and jekyll-feed apply to titles, slugs and summaries, plus the
//! XML 1.0 character filter every feed string passes through.

use unicode_normalization::char::is_combining_mark;

/// Removes characters XML 1.0 forbids (most C0 controls, U+FFFE/U+FFFF, lone surrogates
/// cannot occur in Rust strings), so any post still gives a well-formed feed.
pub fn xml_clean(text: &str) -> std::borrow::Cow<'_, str> {
    // A byte scan first: the characters dropped are C0 controls (one byte each) and
    // U+FFFE/U+FFFF (EF BF BE/BF), so most texts are looked at once, by vectorised scans
    // (every feed title of the OPML passes here on every new feed), and kept as they are.
    let b = text.as_bytes();
    let control = (b.iter()).fold(false, |seen, &c| {
        seen | (c < 0x20 && c != b'\t' && c != b'\n' && c != b'\r')
    });
    let bad = control
        || memchr::memchr_iter(0xEF, b)
            .any(|i| b.get(i + 1) == Some(&0xBF) && matches!(b.get(i + 2), Some(0xBE | 0xBF)));
    if !bad {
        std::borrow::Cow::Borrowed(text)
    } else {
        std::borrow::Cow::Owned(text.chars().filter(|c| is_xml_char(*c)).collect())
    }
}

fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// Liquid's `normalize_whitespace`: runs of ASCII whitespace become one space, trimmed.
/// Ruby's `\s` is ASCII-only, so U+3000 and NBSP stay.
pub fn normalize_whitespace(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let words = text.split([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    for word in words.filter(|w| !w.is_empty()) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// Liquid's `strip_html`: drops `<script>`/`<style>` elements, comments, then every tag.
pub fn strip_html(html: &str) -> String {
    strip_html_until(html, usize::MAX).0
}

/// `strip_html`, stopped at the first boundary between markup and text after `budget`
/// bytes of text: then a prefix of what `strip_html` gives (and `true`). A summary needs
/// only its first few hundred characters of a body's text.
pub fn strip_html_until(html: &str, budget: usize) -> (String, bool) {
    let mut out = String::with_capacity(html.len().min(budget.saturating_add(64)));
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        out.push_str(&rest[..start]);
        let tail = &rest[start..];
        let end = if tail.starts_with("<!--") {
            tail.find("-->").map(|i| i + 3)
        } else if starts_with_ci(tail, "<script") {
            find_ci(tail, "</script>").map(|i| i + 9)
        } else if starts_with_ci(tail, "<style") {
            find_ci(tail, "</style>").map(|i| i + 8)
        } else {
            None
        }
        .or_else(|| tail.find('>').map(|i| i + 1));
        match end {
            Some(end) => rest = &tail[end..],
            None => {
                out.push_str(tail);
                rest = "";
            }
        }
        if out.len() >= budget && !rest.is_empty() {
            return (out, true);
        }
    }
    out.push_str(rest);
    (out, false)
}

fn starts_with_ci(text: &str, prefix: &str) -> bool {
    (text.as_bytes().get(..prefix.len()))
        .is_some_and(|head| head.eq_ignore_ascii_case(prefix.as_bytes()))
}

/// Where `needle` (ASCII) first occurs in `haystack`, ignoring ASCII case.
fn find_ci(haystack: &str, needle: &str) -> Option<usize> {
    let (h, n) = (haystack.as_bytes(), needle.as_bytes());
    (0..=h.len().checked_sub(n.len())?).find(|&i| h[i..i + n.len()].eq_ignore_ascii_case(n))
}

/// Decodes the HTML entities that appear in rendered text (named basics and numeric).
pub fn decode_entities(text: &str) -> String {
    if !text.contains('&') {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        let decoded = tail.find(';').filter(|&j| j <= 10).and_then(|j| {
            let name = &tail[1..j];
            let c = match name {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                "nbsp" => Some('\u{a0}'),
                _ => name
                    .strip_prefix("#x")
                    .or_else(|| name.strip_prefix("#X"))
                    .and_then(|hex| u32::from_str_radix(hex, 16).ok())
                    .or_else(|| name.strip_prefix('#').and_then(|d| d.parse().ok()))
                    .and_then(char::from_u32),
            }?;
            Some((c, j + 1))
        });
        match decoded {
            Some((c, len)) => {
                out.push(c);
                rest = &tail[len..];
            }
            None => {
                out.push('&');
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Jekyll's `smartify` (kramdown SmartyPants): typographic quotes, dashes and ellipses.
pub fn smartify(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len() + 8);
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let prev = i.checked_sub(1).map(|p| chars[p]);
        let next = chars.get(i + 1).copied();
        let opens = prev.is_none_or(|p| p.is_whitespace() || "([{<-–—".contains(p));
        match c {
            '-' if next == Some('-') && chars.get(i + 2) == Some(&'-') => {
                out.push('—');
                i += 3;
                continue;
            }
            '-' if next == Some('-') => {
                out.push('–');
                i += 2;
                continue;
            }
            '.' if next == Some('.') && chars.get(i + 2) == Some(&'.') => {
                out.push('…');
                i += 3;
                continue;
            }
            '<' if next == Some('<') => {
                out.push('«');
                i += 2;
                continue;
            }
            '>' if next == Some('>') => {
                out.push('»');
                i += 2;
                continue;
            }
            '"' => out.push(if opens && next.is_some_and(|n| !n.is_whitespace()) {
                '“'
            } else {
                '”'
            }),
            '\'' => {
                let decade = next.is_some_and(|n| n.is_ascii_digit());
                out.push(
                    if opens && !decade && next.is_some_and(|n| !n.is_whitespace()) {
                        '‘'
                    } else {
                        '’'
                    },
                );
            }
            c => out.push(c),
        }
        i += 1;
    }
    out
}

/// The entry title jekyll-feed shows: smartify → strip_html → normalize_whitespace, as
/// plain text (entities decoded; the renderers escape for their format).
pub fn feed_title(title: &str) -> String {
    normalize_whitespace(&decode_entities(&strip_html(&smartify(&xml_clean(title)))))
}

/// Jekyll's `titleize_slug`: split on `-`, capitalize each part (Ruby `capitalize`:
/// first character upper, the rest lower), join with spaces.
pub fn titleize_slug(slug: &str) -> String {
    let mut parts: Vec<String> = slug.split('-').map(capitalize).collect();
    while parts.last().is_some_and(String::is_empty) {
        parts.pop();
    }
    parts.join(" ")
}

fn capitalize(word: &str) -> String {
    let mut chars = word.chars();
    match chars.next() {
        Some(first) => first
            .to_uppercase()
            .chain(chars.flat_map(char::to_lowercase))
            .collect(),
        None => String::new(),
    }
}

/// Jekyll's slugify modes that matter for URLs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlugMode {
    /// Runs of anything but letters, marks and digits become `-`; lower-cased.
    Default,
    /// Also keeps `._~!$&'()+,;=@` and `_`; case kept (used for `:title`).
    Pretty,
}

/// Jekyll's `Utils.slugify`.
pub fn slugify(text: &str, mode: SlugMode) -> String {
    let keep = |c: char| {
        c.is_alphabetic()
            || c.is_numeric()
            || is_combining_mark(c)
            || (mode == SlugMode::Pretty && "._~!$&'()+,;=@_".contains(c))
    };
    let mut slug = String::with_capacity(text.len());
    let mut in_run = false;
    for c in text.chars() {
        if keep(c) {
            slug.push(c);
            in_run = false;
        } else if !in_run {
            slug.push('-');
            in_run = true;
        }
    }
    let slug = slug.strip_prefix('-').unwrap_or(&slug);
    let slug = slug.strip_suffix('-').unwrap_or(slug);
    match mode {
        SlugMode::Default => slug.to_lowercase(),
        SlugMode::Pretty => slug.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titleize_slug_matches_ruby_capitalize() {
        let rows = [
            ("hello-world_foo-BAR", "Hello World_foo Bar"),
            ("你好-世界", "你好 世界"),
            ("élan-vital", "Élan Vital"),
            ("multi.dot.name", "Multi.dot.name"),
            ("ＡＢＣ１２３：test", "Ａｂｃ１２３：test"),
            ("hello world", "Hello world"),
            ("multi--dash", "Multi  Dash"),
        ];
        for (slug, want) in rows {
            assert_eq!(titleize_slug(slug), want, "{slug}");
        }
    }

    #[test]
    fn feed_title_smartifies_and_strips() {
        assert_eq!(
            feed_title(r#"He said "你好" and it's 5'6" -- ok --- fine..."#),
            "He said “你好” and it’s 5’6” – ok — fine…"
        );
        assert_eq!(feed_title("Tom & Jerry <b>bold</b>"), "Tom & Jerry bold");
        assert_eq!(feed_title("a < b"), "a < b");
        assert_eq!(feed_title("x<script>alert(1)</script>y<!-- c -->z"), "xyz");
        assert_eq!(feed_title("bad\u{1}\u{8}chars ]]>"), "badchars ]]>");
    }

    #[test]
    fn slugify_modes_match_jekyll() {
        assert_eq!(
            slugify("Hello Wörld_Ünï.code ÄÖ!", SlugMode::Default),
            "hello-wörld-ünï-code-äö"
        );
        assert_eq!(
            slugify("Hello Wörld_Ünï.code ÄÖ!", SlugMode::Pretty),
            "Hello-Wörld_Ünï.code-ÄÖ!"
        );
        assert_eq!(slugify("Tech News", SlugMode::Default), "tech-news");
        assert_eq!(slugify("C++", SlugMode::Default), "c");
    }

    #[test]
    fn normalize_whitespace_keeps_ideographic_space() {
        assert_eq!(normalize_whitespace("  a \n\t b\u{3000}c "), "a b\u{3000}c");
    }

    #[test]
    fn decode_entities_handles_numeric_and_named() {
        assert_eq!(
            decode_entities("a&amp;b&#x4e2d;&#25991;&bogus"),
            "a&b中文&bogus"
        );
    }
}

#[cfg(test)]
mod xml_clean_tests {
    use super::*;
    use proptest::prelude::*;

    /// The rule written plainly: every character XML 1.0 allows, in order.
    fn by_chars(text: &str) -> String {
        text.chars().filter(|c| is_xml_char(*c)).collect()
    }

    #[test]
    fn it_drops_exactly_what_xml_forbids() {
        for text in [
            "plain",
            "西海都市报（新闻）：ＡＢＣ",
            "a\u{FFFE}b\u{FFFF}c\u{FFFD}d\u{FFEF}e",
            "tab\tnl\ncr\rbell\u{7}nul\u{0}esc\u{1b}",
            "\u{EFBF}\u{10FFFF}",
            "",
        ] {
            let cleaned = xml_clean(text);
            assert_eq!(cleaned, by_chars(text), "{text:?}");
            let untouched = by_chars(text) == text;
            assert_eq!(matches!(cleaned, std::borrow::Cow::Borrowed(_)), untouched);
        }
    }

    proptest! {
        #[test]
        fn it_agrees_with_the_character_rule(text in "\\PC*|[\\x00-\\x1f\u{FFFD}-\u{FFFF}\u{FF00}-\u{FFEF}a]*") {
            prop_assert_eq!(xml_clean(&text), by_chars(&text));
        }
    }
}
