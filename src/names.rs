//! Category and tag names as feed keys and folder names.
//!
//! A name is NFKC-normalised and ASCII case-folded into a `FeedName`: `Alpha` and `alpha`,
//! `Ａ股` and `A股`, `ﬁnance` and `finance` share one feed (full-width letters are an
//! input-method accident in Chinese text, and the names would collide on case-insensitive
//! file systems). The name becomes a folder that is safe on disk, unique, and still a
//! spelling of the name: a character a folder may not hold is written as its full-width
//! form (`/` as `／`, a leading `.` as `．`), which the normalisation maps back. So the
//! folder read as a name is the name again, and one rule routes every request: decode
//! the path segment, normalise it as a name, look for that name's folder.

use std::fmt;

use unicode_normalization::UnicodeNormalization;

/// Longest folder name we write, in bytes; longer names end in a hash (`～…`).
pub const MAX_SEGMENT_BYTES: usize = 180;

/// Marks the hash at the end of a long name's folder. A short name's folder never holds
/// it: it is the full-width form of `~`, which is safe and so never substituted.
const LONG_MARK: char = '～';

/// A normalised category or tag name: the identity of its feed. Shared text: keys are
/// cloned into every set that tracks a feed, and a clone is a reference count, not an
/// allocation.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FeedName(std::sync::Arc<str>);

impl FeedName {
    pub fn new(name: &str) -> FeedName {
        FeedName(normalize(name).into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether there is no name (an empty tag in front matter): such a name has no feed.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The folder name on disk (UTF-8, readable, safe, unique, a spelling of the name).
    pub fn segment(&self) -> String {
        segment(&self.0)
    }

    /// The folder name percent-encoded for use in a URL.
    pub fn url_segment(&self) -> String {
        crate::url::encode_segment(&self.segment())
    }
}

/// NFKC, then ASCII lower case, then NFC again (lower-casing `J` before a combining
/// caron makes a pair that composes, so the result is NFKC whatever the input). Line
/// breaks and tabs become spaces; other control characters, U+FFFD: a name cannot
/// carry them into a folder, and two names that differ only there are one feed.
fn normalize(name: &str) -> String {
    // Most names (CJK, lower-case ASCII) are already normal: checked without allocating.
    let normal = unicode_normalization::is_nfkc_quick(name.chars())
        == unicode_normalization::IsNormalized::Yes;
    if normal
        && !name
            .chars()
            .any(|c| c.is_control() || c.is_ascii_uppercase())
    {
        return name.to_string();
    }
    let mapped = name.nfkc().map(|c| match c {
        '\t' | '\n' | '\r' | '\u{b}' | '\u{c}' => ' ',
        c if c.is_control() => char::REPLACEMENT_CHARACTER,
        c => c.to_ascii_lowercase(),
    });
    mapped.nfc().collect()
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

/// The full-width form of an ASCII character (`/` → `／`), which NFKC maps back.
fn full_width(c: char) -> char {
    match c {
        ' ' => '\u{3000}',
        '!'..='~' => char::from_u32(c as u32 - 0x21 + 0xFF01).unwrap_or(c),
        c => c,
    }
}

/// Characters a folder name may not hold anywhere: the path separators and what
/// Windows file systems refuse (the output is copied, synced and served from them too).
fn is_unsafe_char(c: char) -> bool {
    matches!(c, '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|')
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

/// Maps a normalised name to its folder. See the module doc for the rules.
fn segment(name: &str) -> String {
    if name.is_empty() {
        // No feed has the empty name; this folder is still no other name's.
        return LONG_MARK.to_string();
    }
    let stem = name.split('.').next().unwrap_or("");
    // A term folder named like its kind's list page would be that page.
    let reserved = WINDOWS_RESERVED.contains(&stem) || is_own_file(name);
    let last = name.chars().count().saturating_sub(1);
    let mut out = String::with_capacity(name.len() + 8);
    for (i, c) in name.chars().enumerate() {
        let substitute = is_unsafe_char(c)
            || (i == 0 && (matches!(c, '.' | ' ' | '-') || reserved))
            || (i == last && matches!(c, '.' | ' '));
        out.push(if substitute { full_width(c) } else { c });
    }
    if out.len() > MAX_SEGMENT_BYTES {
        let hash = crate::hash::hex64(name.as_bytes());
        let mut cut = MAX_SEGMENT_BYTES - LONG_MARK.len_utf8() - hash.len();
        while !out.is_char_boundary(cut) {
            cut -= 1;
        }
        out.truncate(cut);
        out.push(LONG_MARK);
        out.push_str(&hash);
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
            ("量化/策略", "量化／策略"),
            ("..", "．．"),
            (".hidden", "．hidden"),
            ("/etc/passwd", "／etc／passwd"),
            ("%2e%2e", "%2e%2e"),
            ("a%2Fb", "a%2fb"),
            ("CON", "ｃon"),
            ("index.html", "ｉndex.html"),
            ("index.html.gz", "ｉndex.html.gz"),
            ("index.html.zst", "ｉndex.html.zst"),
            ("", "～"),
            ("a\\b", "a＼b"),
            ("tab\there", "tab here"),
            ("bell\u{7}", "bell\u{fffd}"),
            (" x ", "\u{3000}x\u{3000}"),
            ("🚀 growth", "🚀 growth"),
        ];
        for (name, want) in rows {
            assert_eq!(FeedName::new(name).segment(), want, "{name:?}");
        }
    }

    #[test]
    fn compatibility_forms_and_ascii_case_share_a_feed() {
        let same = [
            ("Cafe\u{301}", "café"),
            ("ALPHA", "alpha"),
            ("Ａ股", "a股"),
            ("Ｇｏ", "go"),
            ("x²", "x2"),
            ("①号", "1号"),
            ("ﬁnance", "finance"),
            ("J\u{30c}", "ǰ"),
        ];
        for (a, b) in same {
            assert_eq!(FeedName::new(a), FeedName::new(b), "{a:?} {b:?}");
        }
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
        assert!(seg.contains(LONG_MARK));
    }

    fn is_safe(seg: &str) -> bool {
        !seg.is_empty()
            && seg != "."
            && seg != ".."
            && !seg.starts_with('.')
            && !seg.contains(['/', '\\', '\0', ':', '*', '?', '"', '<', '>', '|'])
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

        /// A folder read as a name is the name again (the router relies on it), and a
        /// name is normalised once and for all.
        #[test]
        fn folders_are_spellings_of_their_names(name in "\\PC{0,40}|[./\\\\%~ a-zA-Z\\x00-\\x1f\u{ff01}-\u{ff5e}\u{3000}]{0,12}") {
            let key = FeedName::new(&name);
            prop_assert_eq!(FeedName::new(key.as_str()), key.clone());
            if !key.segment().contains(LONG_MARK) {
                prop_assert_eq!(FeedName::new(&key.segment()), key);
            }
        }

        #[test]
        fn distinct_names_never_collide(a in "\\PC{0,12}|[.%/a-cA-C]{0,6}", b in "\\PC{0,12}|[.%/a-cA-C]{0,6}") {
            let (ka, kb) = (FeedName::new(&a), FeedName::new(&b));
            if ka != kb {
                prop_assert_ne!(ka.segment(), kb.segment());
            }
        }

        #[test]
        fn long_distinct_names_never_collide(a in "[a-z%/.]{170,200}", b in "[a-z%/.]{170,200}") {
            let (ka, kb) = (FeedName::new(&a), FeedName::new(&b));
            if ka != kb {
                prop_assert_ne!(ka.segment(), kb.segment());
            }
        }
    }
}
