//! Custom feed queries: which posts of a feed a reader wants, from the URL's query
//! string (`/feed.xml?cat=emnews&q=美元&not=港股`). Pure: text in, a `Query` (or the one
//! line that says what is wrong) out, plus its canonical form — the same selection
//! always has the same URL, whatever the parameter order, spelling or cache-busters.
//!
//! Grammar, per parameter (several combine with *and*):
//! - `cat=` / `tag=`: alternatives separated by a raw `,` (*any of*), each a raw
//!   `+`-joined list (*all of*) of names, a leading raw `-` meaning *not*. The value is
//!   split on the raw characters before it is percent-decoded, so `%2C`, `%2B` and `%2D`
//!   are literal characters of a name (`C%2B%2B` is the tag `C++`). Names compare as feed
//!   names do (NFC, ASCII case folded).
//! - `q=` / `not=`: a word that must (must not) occur in the title or summary; matched
//!   case-insensitively after NFC, as a plain substring (no patterns: nothing for a
//!   crafted query to make slow). `+` is a space here, as in any form.
//! - `limit=`: at most this many entries (clamped to the feed's limit).
//! - `before=`: a page of the result, the posts after a position (`cursor`); each page
//!   links the next with `rel="next"`.
//!
//! Anything else is ignored. Empty values or list items, bad percent-encoding, a query
//! over 1 KiB or with more than 16 terms are errors.

use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, CONTROLS};
use unicode_normalization::UnicodeNormalization;

use crate::names::FeedName;

mod cursor;
pub mod feed;
pub mod form;
mod text;
pub use cursor::Cursor;
pub use text::SearchText;

#[cfg(test)]
mod tests;

/// Longest query string accepted, in bytes.
pub const MAX_BYTES: usize = 1024;
/// Most names and words in one query.
pub const MAX_TERMS: usize = 16;

/// A name, or its absence.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Literal {
    pub negated: bool,
    pub name: FeedName,
}

/// One `cat=` or `tag=` value: any of its alternatives, each all of its literals.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Terms(pub Vec<Vec<Literal>>);

/// A selection within a feed. Every list is sorted and free of duplicates, so equal
/// selections are equal values with one canonical form.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Query {
    pub categories: Vec<Terms>,
    pub tags: Vec<Terms>,
    /// Words (NFC, lower case) that must occur.
    pub words: Vec<String>,
    /// Words that must not.
    pub nots: Vec<String>,
    pub limit: Option<usize>,
    /// The page after this position; the first page when `None`.
    pub before: Option<Cursor>,
}

/// What is wrong with a query (answered 400 with this line).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    #[error("the query is longer than {MAX_BYTES} bytes")]
    TooLong,
    #[error("the query has more than {MAX_TERMS} names and words")]
    TooManyTerms,
    #[error("{0}= is empty")]
    Empty(&'static str),
    #[error("{0}= has an empty item (check `,`, `+` and `-`)")]
    EmptyItem(&'static str),
    #[error("{0}= has bad percent-encoding (use %XX of UTF-8 bytes)")]
    Encoding(&'static str),
    #[error("limit= must be a whole number from 1")]
    Limit,
    #[error("before= must be a position as a rel=\"next\" link gives it (<seconds>~<post path>)")]
    Cursor,
}

/// The parameters this grammar reads, as they appear in errors.
const CAT: &str = "cat";
const TAG: &str = "tag";
const Q: &str = "q";
const NOT: &str = "not";
const LIMIT: &str = "limit";
const BEFORE: &str = "before";

impl Query {
    /// Parses a raw query string (without `?`). `Ok(None)`: nothing in it selects (no
    /// query, or only parameters this grammar ignores): the plain feed.
    pub fn parse(raw: &str) -> Result<Option<Query>, QueryError> {
        if raw.len() > MAX_BYTES {
            return Err(QueryError::TooLong);
        }
        let mut query = Query::default();
        let mut selects = false;
        for pair in raw.split('&').filter(|p| !p.is_empty()) {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let Some(name) = [CAT, TAG, Q, NOT, LIMIT, BEFORE]
                .into_iter()
                .find(|n| *n == name)
            else {
                continue;
            };
            selects = true;
            if value.is_empty() {
                return Err(QueryError::Empty(name));
            }
            match name {
                CAT => query.categories.push(terms(value, CAT)?),
                TAG => query.tags.push(terms(value, TAG)?),
                Q => query.words.push(word(value, Q)?),
                NOT => query.nots.push(word(value, NOT)?),
                // One position: a second is a malformed link, not a narrower page.
                BEFORE if query.before.is_some() => return Err(QueryError::Cursor),
                BEFORE => query.before = Some(Cursor::parse(value)?),
                _ => {
                    let n: usize = value.parse().map_err(|_| QueryError::Limit)?;
                    if n == 0 {
                        return Err(QueryError::Limit);
                    }
                    query.limit = Some(query.limit.map_or(n, |m| m.min(n)));
                }
            }
        }
        if !selects {
            return Ok(None);
        }
        for list in [&mut query.categories, &mut query.tags] {
            list.sort();
            list.dedup();
        }
        for list in [&mut query.words, &mut query.nots] {
            list.sort();
            list.dedup();
        }
        // Counted once de-duplicated: a repeated word is one term.
        let names: usize = (query.categories.iter().chain(&query.tags))
            .flat_map(|t| &t.0)
            .map(Vec::len)
            .sum();
        if names + query.words.len() + query.nots.len() > MAX_TERMS {
            return Err(QueryError::TooManyTerms);
        }
        Ok(Some(query))
    }

    /// Whether it selects nothing beyond its feed: no names, no words, no limit.
    pub fn is_plain(&self) -> bool {
        *self == Query::default()
    }

    /// Both selections at once (a query on a named custom feed's URL).
    pub fn and(&self, other: &Query) -> Query {
        Query {
            categories: sorted_union(&self.categories, &other.categories),
            tags: sorted_union(&self.tags, &other.tags),
            words: sorted_union(&self.words, &other.words),
            nots: sorted_union(&self.nots, &other.nots),
            limit: match (self.limit, other.limit) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            },
            before: other.before.clone().or_else(|| self.before.clone()),
        }
    }

    /// The same selection from another position (`None`: its first page).
    pub fn at(&self, before: Option<Cursor>) -> Query {
        Query {
            before,
            ..self.clone()
        }
    }

    /// The canonical query string: parameters in a fixed order, values sorted, names and
    /// words percent-encoded (ASCII only, so it can stand in any URL).
    pub fn canonical(&self) -> String {
        let mut parts = Vec::new();
        if let Some(cursor) = &self.before {
            parts.push(format!("{BEFORE}={}", cursor.encode()));
        }
        for t in &self.categories {
            parts.push(format!("{CAT}={}", t.encode()));
        }
        if let Some(n) = self.limit {
            parts.push(format!("{LIMIT}={n}"));
        }
        for w in &self.nots {
            parts.push(format!("{NOT}={}", utf8_percent_encode(w, WORD)));
        }
        for w in &self.words {
            parts.push(format!("{Q}={}", utf8_percent_encode(w, WORD)));
        }
        for t in &self.tags {
            parts.push(format!("{TAG}={}", t.encode()));
        }
        parts.join("&")
    }

    /// Whether a post with these (normalised) categories and tags and this text (title
    /// and summary, `normalize_text`ed) is selected. The whole rule in one place: the
    /// index's evaluation must agree with it (a property test checks).
    pub fn matches(&self, categories: &[FeedName], tags: &[FeedName], text: &str) -> bool {
        let (categories, tags) = (
            |n: &FeedName| categories.contains(n),
            |n: &FeedName| tags.contains(n),
        );
        self.matches_with(categories, tags, |w| text.contains(w))
    }

    /// `matches`, asking whether the post is in a category, has a tag or a word (the
    /// index answers from its per-term sets and its `SearchText`s, without normalising
    /// the post's names again).
    pub fn matches_with(
        &self,
        in_category: impl Fn(&FeedName) -> bool,
        has_tag: impl Fn(&FeedName) -> bool,
        has_word: impl Fn(&str) -> bool,
    ) -> bool {
        self.categories.iter().all(|t| t.matches(&in_category))
            && self.tags.iter().all(|t| t.matches(&has_tag))
            && self.words.iter().all(|w| has_word(w))
            && !self.nots.iter().any(|w| has_word(w))
    }

    /// What the selection is, for the feed's title: `emnews · 美元 · -港股`.
    pub fn describe(&self) -> String {
        let mut parts: Vec<String> = (self.categories.iter().chain(&self.tags))
            .map(Terms::describe)
            .collect();
        parts.extend(self.words.iter().cloned());
        parts.extend(self.nots.iter().map(|w| format!("-{w}")));
        parts.join(" · ")
    }
}

impl Terms {
    fn matches(&self, has: &impl Fn(&FeedName) -> bool) -> bool {
        self.0
            .iter()
            .any(|all| all.iter().all(|l| has(&l.name) != l.negated))
    }

    fn encode(&self) -> String {
        let alternatives: Vec<String> = (self.0.iter())
            .map(|all| {
                let literals: Vec<String> = all
                    .iter()
                    .map(|l| {
                        let name = utf8_percent_encode(l.name.as_str(), NAME).to_string();
                        // A name's own leading `-` is a character, not *not*.
                        let name = match name.strip_prefix('-') {
                            Some(rest) => format!("%2D{rest}"),
                            None => name,
                        };
                        if l.negated {
                            format!("-{name}")
                        } else {
                            name
                        }
                    })
                    .collect();
                literals.join("+")
            })
            .collect();
        alternatives.join(",")
    }

    fn describe(&self) -> String {
        let alternatives: Vec<String> = (self.0.iter())
            .map(|all| {
                let names: Vec<String> = (all.iter())
                    .map(|l| format!("{}{}", if l.negated { "-" } else { "" }, l.name.as_str()))
                    .collect();
                names.join("+")
            })
            .collect();
        alternatives.join(", ")
    }
}

/// Both lists in one, sorted and without duplicates (the form every list of a `Query` has).
fn sorted_union<T: Ord + Clone>(a: &[T], b: &[T]) -> Vec<T> {
    let mut all: Vec<T> = a.iter().chain(b).cloned().collect();
    all.sort();
    all.dedup();
    all
}

/// What `q=`/`not=` words are compared against: NFC, lower case, runs of whitespace
/// one space.
pub fn normalize_text(text: &str) -> String {
    // Every post's title and summary goes through here. Text that is all ASCII and
    // CJK (no case, no canonical decomposition, no combining) needs one pass; anything
    // else takes the general way.
    let mut fast = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            c if c.is_ascii() => fast.push(c.to_ascii_lowercase()),
            // Punctuation (not U+2000/1, which decompose), CJK, Hangul, fullwidth forms
            // other than the capitals.
            '\u{2002}'..='\u{206F}'
            | '\u{3000}'..='\u{3098}'
            | '\u{309B}'..='\u{9FFF}'
            | '\u{AC00}'..='\u{D7A3}'
            | '\u{FF00}'..='\u{FF20}'
            | '\u{FF3B}'..='\u{FFEF}' => fast.push(c),
            _ => {
                let lower = text.nfc().collect::<String>().to_lowercase();
                return crate::text::normalize_whitespace(&lower);
            }
        }
    }
    crate::text::normalize_whitespace(&fast)
}

/// What a post's words are looked for in: its title and its summary, as the feeds show
/// them, each `normalize_text`ed, on two lines (a word has no line break, so none
/// matches across the two).
pub fn searchable(title: &str, summary: &str) -> SearchText {
    SearchText::new(&format!(
        "{}\n{}",
        normalize_text(title),
        normalize_text(summary)
    ))
}

/// Everything but unreserved characters: names and words in canonical URLs.
const NAME: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'!')
    .add(b'"')
    .add(b'#')
    .add(b'$')
    .add(b'%')
    .add(b'&')
    .add(b'\'')
    .add(b'(')
    .add(b')')
    .add(b'*')
    .add(b'+')
    .add(b',')
    .add(b'/')
    .add(b':')
    .add(b';')
    .add(b'<')
    .add(b'=')
    .add(b'>')
    .add(b'?')
    .add(b'@')
    .add(b'[')
    .add(b'\\')
    .add(b']')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}');
const WORD: &AsciiSet = NAME;

/// A `cat=`/`tag=` value: split on the raw operators, then decode each name.
fn terms(value: &str, param: &'static str) -> Result<Terms, QueryError> {
    let mut alternatives = Vec::new();
    for alternative in value.split(',') {
        let mut all = Vec::new();
        for literal in alternative.split('+') {
            let (negated, raw) = match literal.strip_prefix('-') {
                Some(rest) => (true, rest),
                None => (false, literal),
            };
            let name = decode(raw, param)?;
            if name.trim().is_empty() {
                return Err(QueryError::EmptyItem(param));
            }
            all.push(Literal {
                negated,
                name: FeedName::new(&name),
            });
        }
        all.sort();
        all.dedup();
        alternatives.push(all);
    }
    alternatives.sort();
    alternatives.dedup();
    Ok(Terms(alternatives))
}

fn word(value: &str, param: &'static str) -> Result<String, QueryError> {
    let text = decode(&value.replace('+', " "), param)?;
    let text = normalize_text(&text);
    if text.is_empty() {
        return Err(QueryError::Empty(param));
    }
    Ok(text)
}

/// Percent-decodes strictly: every `%` starts two hex digits, and the bytes are UTF-8.
fn decode(raw: &str, param: &'static str) -> Result<String, QueryError> {
    let bytes = raw.as_bytes();
    let mut i = 0;
    while let Some(at) = bytes[i..].iter().position(|b| *b == b'%') {
        let start = i + at;
        let hex = bytes.get(start + 1..start + 3);
        if !hex.is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)) {
            return Err(QueryError::Encoding(param));
        }
        i = start + 3;
    }
    percent_decode_str(raw)
        .decode_utf8()
        .map(|s| s.into_owned())
        .map_err(|_| QueryError::Encoding(param))
}
