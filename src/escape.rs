//! Escaping for XML, HTML and JSON. Every feed, archive document and page passes its
//! titles, links, terms, summaries and contents through here, once per feed a post is
//! in, so the texts are scanned a block at a time (`find_byte`) instead of a byte at a
//! time as maud's and serde_json's own escaping do; the output is theirs byte for byte
//! (the tests hold them equal).

/// Escapes text for use inside HTML (and `type="html"` Atom text).
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    push_escaped_html(&mut out, text);
    out
}

/// `escape_html` onto the end of `out`.
pub fn push_escaped_html(out: &mut String, text: &str) {
    let mut rest = 0;
    for (at, entity) in Escapes::new(text.as_bytes(), true) {
        out.push_str(&text[rest..at]);
        out.push_str(entity);
        rest = at + 1;
    }
    out.push_str(&text[rest..]);
}

/// The bytes of `text` that XML and HTML escape (`&`, `<`, `>`, and `"` if `quotes`),
/// with their entities, in order (found by `find_byte`). Every feed, archive entry and
/// page passes its titles, links and terms through here.
pub struct Escapes<'a> {
    bytes: &'a [u8],
    at: usize,
    quotes: bool,
}

impl<'a> Escapes<'a> {
    pub fn new(bytes: &'a [u8], quotes: bool) -> Escapes<'a> {
        Escapes {
            bytes,
            at: 0,
            quotes,
        }
    }
}

/// The first byte of `bytes` at or after `from` that `wanted` picks. Texts are looked at
/// 32 bytes at a time by a branch-free test the compiler vectorises, and only a block
/// that holds one is looked at byte by byte: the bytes escaped in feeds are rare in CJK
/// text and URLs, so most of a text is passed over a block at a time.
pub fn find_byte(bytes: &[u8], from: usize, wanted: impl Fn(u8) -> bool) -> Option<usize> {
    const BLOCK: usize = 32;
    let mut at = from;
    while at < bytes.len() {
        let block = &bytes[at..(at + BLOCK).min(bytes.len())];
        if block.iter().fold(false, |seen, &b| seen | wanted(b)) {
            return block.iter().position(|&b| wanted(b)).map(|i| at + i);
        }
        at += block.len();
    }
    None
}

fn escaped(b: u8, quotes: bool) -> bool {
    (b == b'&') | (b == b'<') | (b == b'>') | (quotes & (b == b'"'))
}

impl Iterator for Escapes<'_> {
    /// Where the byte is, and its entity.
    type Item = (usize, &'static str);

    fn next(&mut self) -> Option<(usize, &'static str)> {
        let quotes = self.quotes;
        let i = find_byte(self.bytes, self.at, |b| escaped(b, quotes))?;
        self.at = i + 1;
        let entity = match self.bytes[i] {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            _ => "&quot;",
        };
        Some((i, entity))
    }
}

/// Writes `text` escaped for XML element content (`&`, `<`, `>`) or, with `quotes`, for a
/// double-quoted attribute value.
pub fn xml(text: &str, quotes: bool, out: &mut Vec<u8>) {
    let bytes = text.as_bytes();
    let mut from = 0;
    for (at, entity) in Escapes::new(bytes, quotes) {
        out.extend_from_slice(&bytes[from..at]);
        out.extend_from_slice(entity.as_bytes());
        from = at + 1;
    }
    out.extend_from_slice(&bytes[from..]);
}

/// Writes `text` as a JSON string literal (quotes included), escaped as serde_json escapes (`"`, `\\`,
/// and control characters: `\n`-style where JSON has one, else `\u00XX`): every
/// post's content passes here once per feed it is in, and serde_json looks at each byte
/// alone; `find_byte` passes over runs without them a block at a time.
pub fn json(text: &str, out: &mut Vec<u8>) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let bytes = text.as_bytes();
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    let mut from = 0;
    let special = |b: u8| (b < 0x20) | (b == b'"') | (b == b'\\');
    while let Some(at) = find_byte(bytes, from, special) {
        out.extend_from_slice(&bytes[from..at]);
        let b = bytes[at];
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x0c => out.extend_from_slice(b"\\f"),
            _ => out.extend_from_slice(&[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[usize::from(b >> 4)],
                HEX[usize::from(b & 0xf)],
            ]),
        }
        from = at + 1;
    }
    out.extend_from_slice(&bytes[from..]);
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The rule written plainly, a character at a time.
    fn by_chars(text: &str, quotes: bool) -> String {
        let mut out = String::new();
        for c in text.chars() {
            match c {
                '&' => out.push_str("&amp;"),
                '<' => out.push_str("&lt;"),
                '>' => out.push_str("&gt;"),
                '"' if quotes => out.push_str("&quot;"),
                c => out.push(c),
            }
        }
        out
    }

    fn escaped(text: &str, quotes: bool) -> String {
        let mut out = String::new();
        let mut rest = 0;
        for (at, entity) in Escapes::new(text.as_bytes(), quotes) {
            out.push_str(&text[rest..at]);
            out.push_str(entity);
            rest = at + 1;
        }
        out + &text[rest..]
    }

    #[test]
    fn it_escapes_in_every_block_position() {
        // Specials at the first and last byte of a block, across a block edge, and alone.
        let long = format!(
            "{}&{}\"{}<",
            "中".repeat(10),
            "a".repeat(31),
            "b".repeat(32)
        );
        for text in ["", "&", "a<b>c", "\"\"", "西海&都市报", long.as_str()] {
            assert_eq!(escaped(text, true), by_chars(text, true), "{text:?}");
            assert_eq!(escaped(text, false), by_chars(text, false), "{text:?}");
        }
        assert_eq!(
            escape_html("<a href=\"x\">&</a>"),
            by_chars("<a href=\"x\">&</a>", true)
        );
    }

    proptest! {
        #[test]
        fn it_agrees_with_the_character_rule(text in "[a&<>\"'中]{0,100}|\\PC{0,200}", quotes: bool) {
            prop_assert_eq!(escaped(&text, quotes), by_chars(&text, quotes));
        }
    }
}

#[cfg(test)]
mod json_tests {
    use super::json;
    use proptest::prelude::*;

    fn written(text: &str) -> String {
        let mut out = Vec::new();
        json(text, &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn it_escapes_as_serde_json_does() {
        let long = format!(
            "{}\"{}\\{}\u{1f}",
            "中".repeat(11),
            "a".repeat(31),
            "b".repeat(32)
        );
        for text in [
            "",
            "\"",
            "\\",
            "\u{0}\u{8}\u{9}\u{a}\u{b}\u{c}\u{d}\u{7f}",
            "<p class=\"x\">西海</p>\n",
            &long,
        ] {
            assert_eq!(
                written(text),
                serde_json::to_string(text).unwrap(),
                "{text:?}"
            );
        }
    }

    proptest! {
        #[test]
        fn it_agrees_with_serde_json(text in "[\\x00-\\x20\"\\\\a中\u{2028}]{0,80}|\\PC{0,200}") {
            prop_assert_eq!(written(&text), serde_json::to_string(&text).unwrap());
        }
    }
}
