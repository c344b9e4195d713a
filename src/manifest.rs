//! What a build read and wrote, kept beside the output (`.feedd-manifest`): the hash of
//! every post file, the size and mtime of every published file, the configuration and
//! when the output stops being valid (the next future post). A build whose inputs hash
//! the same and whose outputs are untouched has nothing to do, so an unchanged rebuild
//! costs one read of the posts instead of a full parse and render. Pure: text in, text
//! out; the build driver does the reads.

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
    /// Post path → hex xxh3-128 of its bytes (posts that failed too).
    pub posts: BTreeMap<String, String>,
    /// Published path → (length, mtime in Unix nanoseconds).
    pub files: BTreeMap<String, (u64, i128)>,
    /// The build's problems, to report them again.
    pub errors: Vec<String>,
    /// Live posts and feeds, for the summary line.
    pub live: usize,
    pub feeds: usize,
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
            posts: BTreeMap::from([(
                "_posts/2024-01-01-a.md".into(),
                hex(xxhash_rust::xxh3::xxh3_128(b"x")),
            )]),
            files: BTreeMap::from([("feed.xml".into(), (3, -5))]),
            errors: vec!["e".into()],
            live: 1,
            feeds: 2,
        };
        assert_eq!(Manifest::parse(&m.to_text()), Some(m));
        assert_eq!(Manifest::parse("{"), None);
        let a = crate::config::Config::parse("limit = 3", None).unwrap();
        let b = crate::config::Config::parse("limit = 4", None).unwrap();
        assert_ne!(fingerprint(&a), fingerprint(&b));
        assert_eq!(fingerprint(&a), fingerprint(&a.clone()));
    }
}
