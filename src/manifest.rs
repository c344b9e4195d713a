//! What a build read and wrote, kept beside the output (`.feedd-manifest`): the hash of
//! every post file, the size and mtime of every published file, the configuration and
//! when the output stops being valid (the next future post). A build whose inputs hash
//! the same and whose outputs are untouched has nothing to do, so an unchanged rebuild
//! costs one read of the posts instead of a full parse and render.
//!
//! `feedd serve` keeps one too, written by its disk writer whenever the output dir is
//! complete: it also records each file's content hash and first-published time, and the
//! feed list, so a restart serves the files on disk at once, with the same ETags and
//! Last-Modified, and rebuilds in the background. Pure: text in, text out; the drivers
//! do the reads and writes.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The file name in the output dir (a dot file: never taken for a feed, never served).
pub const FILE: &str = ".feedd-manifest";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// Changes whenever anything that shapes the output does (feedd version, config).
    pub config: String,
    /// Unix seconds from which a future-dated post is due (the output is stale then).
    pub valid_until: Option<i64>,
    /// Post path → hex xxh3-128 of its bytes (posts that failed too); `None` from
    /// `feedd serve`, which does not track them (a build after it renders everything).
    pub posts: Option<BTreeMap<String, String>>,
    /// Published path → what is on disk there.
    pub files: BTreeMap<String, Published>,
    /// The build's problems, to report them again.
    pub errors: Vec<String>,
    /// Live posts and feeds, for the summary line.
    pub live: usize,
    pub feeds: usize,
    /// The feed list (index page, OPML), from `feedd serve` only.
    #[serde(default)]
    pub infos: Vec<crate::render::site::FeedInfo>,
}

/// One published file as recorded: it is still what was published while its size and
/// mtime are these (files are replaced by rename, never rewritten in place).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Published {
    pub len: u64,
    /// mtime in Unix nanoseconds.
    pub mtime: i128,
    /// The hash its ETags are made of (`feedd serve` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hash: Option<String>,
    /// When these bytes were first published, Unix seconds (`feedd serve` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_published: Option<i64>,
}

impl Published {
    /// A file as `feedd build` records it.
    pub fn stamp(len: u64, mtime: i128) -> Published {
        Published {
            len,
            mtime,
            hash: None,
            first_published: None,
        }
    }
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
    let text = format!("{} {:?}", env!("CARGO_PKG_VERSION"), config);
    format!("{:032x}", xxhash_rust::xxh3::xxh3_128(text.as_bytes()))
}

/// How a manifest writes the engine's hash of a post's bytes.
pub fn hex(hash: u128) -> String {
    format!("{hash:032x}")
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
                hex(xxhash_rust::xxh3::xxh3_128(b"x")),
            )])),
            files: BTreeMap::from([
                ("feed.xml".into(), Published::stamp(3, -5)),
                (
                    "rss.xml".into(),
                    Published {
                        hash: Some("ab".into()),
                        first_published: Some(9),
                        ..Published::stamp(4, 6)
                    },
                ),
            ]),
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
