//! Category and tag names as feed keys and path segments.
//!
//! A name is NFC-normalised and ASCII case-folded into a `FeedName`, so `Alpha` and `alpha`
//! share one feed (they would collide on case-insensitive file systems). The key becomes a
//! path segment that is safe on disk and unique: characters that are unsafe in a file name
//! are written as `%XX` (UTF-8 bytes), and `%` itself always is, so distinct names never
//! meet and no name can leave `feeds/`. CJK and other letters stay readable.

use std::fmt;

use unicode_normalization::UnicodeNormalization;

/// Longest segment we write, in bytes; longer names end in a hash (`%h…`).
pub const MAX_SEGMENT_BYTES: usize = 180;

/// A normalised category or tag name: the identity of its feed. Shared text: keys are
/// cloned into every set that tracks a feed, and a clone is a reference count, not an
/// allocation.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FeedName(std::sync::Arc<str>);

impl FeedName {
    pub fn new(name: &str) -> FeedName {
        FeedName(name.nfc().collect::<String>().to_ascii_lowercase().into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The on-disk path segment (UTF-8, readable, safe, unique).
    pub fn segment(&self) -> String {
        segment(&self.0)
    }

    /// The segment percent-encoded for use in a URL.
    pub fn url_segment(&self) -> String {
        crate::url::encode_segment(&self.segment())
    }
}

/// Written as its text; read back through `new`, so a hand-edited manifest cannot make a
/// name that is not normalised.
impl serde::Serialize for FeedName {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for FeedName {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<FeedName, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Ok(FeedName::new(&text))
    }
}

impl fmt::Display for FeedName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

const WINDOWS_RESERVED: [&str; 22] = [
    "con", "prn", "aux", "nul", "com1", "com2", "com3", "com4", "com5", "com6", "com7", "com8",
    "com9", "lpt1", "lpt2", "lpt3", "lpt4", "lpt5", "lpt6", "lpt7", "lpt8", "lpt9",
];

fn is_unsafe_char(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|' | '%' | '#'
        )
        || matches!(c, '\u{200b}'..='\u{200f}' | '\u{2028}'..='\u{202e}' | '\u{feff}')
}

fn escape_char(out: &mut String, c: char) {
    let mut buf = [0u8; 4];
    for b in c.encode_utf8(&mut buf).bytes() {
        out.push_str(&format!("%{b:02X}"));
    }
}

/// The page feedd writes in each folder (`categories/index.html`, …); `layout` names
/// it from here, so that no term folder can take its name.
pub const PAGE_FILE: &str = "index.html";

/// The suffixes of the precompressed copies feedd writes beside each file.
pub const VARIANT_SUFFIXES: [&str; 3] = [".gz", ".br", ".zst"];

/// Whether a term folder of this name would be a file feedd writes beside the term
/// folders: the kind's list page or one of its precompressed copies.
fn is_own_file(name: &str) -> bool {
    let base = VARIANT_SUFFIXES
        .iter()
        .find_map(|suffix| name.strip_suffix(suffix))
        .unwrap_or(name);
    base == PAGE_FILE
}

/// Maps a normalised name to its segment. See the module doc for the rules.
fn segment(name: &str) -> String {
    if name.is_empty() {
        // A bare `%` is never produced by escaping (which always writes `%XX`).
        return "%".to_string();
    }
    let chars: Vec<char> = name.chars().collect();
    let stem = name.split('.').next().unwrap_or("");
    // A term folder named like its kind's list page would be that page.
    let reserved = WINDOWS_RESERVED.contains(&stem) || is_own_file(name);
    let last = chars.len() - 1;
    let mut out = String::with_capacity(name.len());
    for (i, &c) in chars.iter().enumerate() {
        let unsafe_here = is_unsafe_char(c)
            || (i == 0 && (c == '.' || c == ' ' || c == '-' || reserved))
            || (i == last && (c == '.' || c == ' '));
        if unsafe_here {
            escape_char(&mut out, c);
        } else {
            out.push(c);
        }
    }
    if out.len() > MAX_SEGMENT_BYTES {
        let mut cut = MAX_SEGMENT_BYTES - 18;
        while !out.is_char_boundary(cut) {
            cut -= 1;
        }
        // A `%` inside the kept prefix must not be split from its two hex digits.
        let prefix = &out[..cut];
        let prefix = match prefix.rfind('%') {
            Some(p) if p + 3 > prefix.len() => &prefix[..p],
            _ => prefix,
        };
        let hash = crate::hash::hex64(name.as_bytes());
        return format!("{prefix}%h{hash}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn names_map_to_safe_readable_segments() {
        let rows = [
            ("西海都市报新闻", "西海都市报新闻"),
            ("Alpha", "alpha"),
            ("C++", "c++"),
            ("AI & data", "ai & data"),
            ("量化/策略", "量化%2F策略"),
            ("..", "%2E%2E"),
            (".hidden", "%2Ehidden"),
            ("/etc/passwd", "%2Fetc%2Fpasswd"),
            ("%2e%2e", "%252e%252e"),
            ("CON", "%63on"),
            ("index.html", "%69ndex.html"),
            ("index.html.gz", "%69ndex.html.gz"),
            ("index.html.zst", "%69ndex.html.zst"),
            ("", "%"),
            ("a\\b", "a%5Cb"),
            ("tab\there", "tab%09here"),
            ("🚀 growth", "🚀 growth"),
        ];
        for (name, want) in rows {
            assert_eq!(FeedName::new(name).segment(), want, "{name:?}");
        }
    }

    #[test]
    fn nfc_and_ascii_case_share_a_feed() {
        assert_eq!(FeedName::new("Cafe\u{301}"), FeedName::new("café"));
        assert_eq!(FeedName::new("ALPHA"), FeedName::new("alpha"));
        assert_ne!(
            FeedName::new("Ä"),
            FeedName::new("ä"),
            "only ASCII case is folded"
        );
    }

    #[test]
    fn long_names_are_cut_with_a_hash() {
        let long = "长".repeat(200);
        let seg = FeedName::new(&long).segment();
        assert!(seg.len() <= MAX_SEGMENT_BYTES, "{}", seg.len());
        assert!(seg.contains("%h"));
    }

    fn is_safe(seg: &str) -> bool {
        !seg.is_empty()
            && seg != "."
            && seg != ".."
            && !seg.starts_with('.')
            && !seg.contains(['/', '\\', '\0'])
            && !seg.chars().any(char::is_control)
            && seg.len() <= MAX_SEGMENT_BYTES
    }

    proptest! {
        #[test]
        fn no_name_escapes_the_feeds_dir(name in "\\PC{0,40}|[./\\\\%a-zA-Z\\x00-\\x1f]{0,12}") {
            let seg = FeedName::new(&name).segment();
            prop_assert!(is_safe(&seg), "{:?} -> {:?}", name, seg);
            let path = std::path::Path::new("feeds/tags").join(&seg).join("feed.xml");
            prop_assert!(path.components().all(|c| matches!(c, std::path::Component::Normal(_))));
        }

        #[test]
        fn distinct_names_never_collide(a in "\\PC{0,12}|[.%/a-cA-C]{0,6}", b in "\\PC{0,12}|[.%/a-cA-C]{0,6}") {
            let (ka, kb) = (FeedName::new(&a), FeedName::new(&b));
            if ka != kb {
                prop_assert_ne!(ka.segment(), kb.segment());
            }
        }

        #[test]
        fn long_distinct_names_never_collide(a in "[a-z%]{170,200}", b in "[a-z%]{170,200}") {
            let (ka, kb) = (FeedName::new(&a), FeedName::new(&b));
            if ka != kb {
                prop_assert_ne!(ka.segment(), kb.segment());
            }
        }
    }
}
