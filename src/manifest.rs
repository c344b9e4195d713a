//! What the output dir holds, kept beside it (`.feedd-manifest`), written by `feedd
//! build` and `feedd serve` alike: every published file with its size, mtime, hash (its
//! ETag) and first-published time, the feed list, the configuration, and when the output
//! stops being valid (the next future post). Whichever command wrote it:
//! - `feedd serve` serves the files it names at once, with the same ETags and
//!   Last-Modified, and rebuilds behind them;
//! - `feedd build` whose inputs hash as recorded (`posts`, from a build) and whose
//!   outputs are untouched has nothing to do.
//!
//! Pure: text in, text out; the drivers do the reads and writes.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The file name in the output dir (a dot file: never taken for a feed, never served).
pub const FILE: &str = ".feedd-manifest";

/// Changes when the manifest's meaning does (it is part of the fingerprint): version 2
/// records xxh3 hashes for every file, from both commands; 3: folders spell their names
/// (`names`), so a manifest naming the old `%XX` folders is not reused.
const FORMAT: u32 = 3;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// Changes whenever anything that shapes the output does (feedd version, config).
    pub config: String,
    /// Unix seconds from which a future-dated post is due (the output is stale then).
    pub valid_until: Option<i64>,
    /// Post path → `hash::tag` of its bytes (posts that failed too); `None` from
    /// `feedd serve`, which does not track them (a build after it renders everything).
    pub posts: Option<BTreeMap<String, String>>,
    /// Published path → what is on disk there.
    pub files: BTreeMap<String, Published>,
    /// The build's problems, to report them again.
    pub errors: Vec<String>,
    /// Live posts and feeds, for the summary line.
    pub live: usize,
    pub feeds: usize,
    /// The feed list (index page, OPML, `/healthz`).
    pub infos: Vec<crate::render::site::FeedInfo>,
}

/// One published file as recorded: it is still what was published while its size and
/// mtime are these (files are replaced by rename, never rewritten in place).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Published {
    pub len: u64,
    /// mtime in Unix nanoseconds.
    pub mtime: i128,
    /// `hash::tag` of the bytes: what its ETags are made of.
    pub hash: String,
    /// When these bytes were first published, Unix seconds.
    pub first_published: i64,
}

impl Manifest {
    pub fn parse(text: &str) -> Option<Manifest> {
        serde_json::from_str(text).ok()
    }

    pub fn to_text(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// A fingerprint of everything besides the posts that decides the output bytes.
pub fn fingerprint(config: &crate::config::Config) -> String {
    let text = format!("{} {FORMAT} {:?}", env!("CARGO_PKG_VERSION"), config);
    format!("{:032x}", xxhash_rust::xxh3::xxh3_128(text.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_garbage() {
        let m = Manifest {
            config: "c".into(),
            valid_until: Some(7),
            posts: Some(BTreeMap::from([(
                "_posts/2024-01-01-a.md".into(),
                crate::hash::tag(crate::hash::of(b"x")),
            )])),
            files: BTreeMap::from([(
                "rss.xml".into(),
                Published {
                    len: 4,
                    mtime: -6,
                    hash: "ab".into(),
                    first_published: 9,
                },
            )]),
            errors: vec!["e".into()],
            live: 1,
            feeds: 2,
            infos: Vec::new(),
        };
        assert_eq!(Manifest::parse(&m.to_text()), Some(m));
        assert_eq!(Manifest::parse("{"), None);
        let a = crate::config::Config::parse("limit = 3", None).unwrap();
        let b = crate::config::Config::parse("limit = 4", None).unwrap();
        assert_ne!(fingerprint(&a), fingerprint(&b));
        assert_eq!(fingerprint(&a), fingerprint(&a.clone()));
    }
}
