//! Typed errors of the library. Messages are for the site's author: they name the file and
//! line and say how to fix the problem.

use std::path::PathBuf;

use crate::post::date::DateError;
use crate::url::PermalinkError;

/// Why one post could not be read. The build skips it and goes on.
#[derive(Debug, thiserror::Error)]
#[error("{}:{line}: {kind}", path.display())]
pub struct PostError {
    pub path: PathBuf,
    pub line: usize,
    pub kind: PostErrorKind,
}

#[derive(Debug, thiserror::Error)]
pub enum PostErrorKind {
    #[error("cannot read the file: {0}")]
    Io(#[from] std::io::Error),
    #[error("the file is {size} bytes, more than the limit of {limit} (`max_post_bytes`)")]
    TooLarge { size: u64, limit: u64 },
    #[error("invalid UTF-8 at byte {0}; save the file as UTF-8")]
    InvalidUtf8(usize),
    #[error("no closing `---` for the front matter that opens on line 1")]
    UnclosedFrontMatter,
    #[error("front matter is {size} bytes, more than the limit of {limit}")]
    FrontMatterTooLarge { size: usize, limit: usize },
    #[error("front matter YAML: {0}")]
    Yaml(String),
    #[error("front matter must be a mapping of `key: value` lines, not {0}")]
    NotAMapping(&'static str),
    /// A front-matter date (`date`, `last_modified_at`).
    #[error(transparent)]
    InvalidDate(#[from] DateError),
    /// The date in the file name, used when the front matter has no `date`.
    #[error("{0} in the file name")]
    InvalidFileNameDate(DateError),
    #[error(transparent)]
    Permalink(#[from] PermalinkError),
    #[error("{count} tags and categories, more than the limit of {limit}")]
    TooManyTerms { count: usize, limit: usize },
}

/// A problem with the configuration: the build cannot start. Messages name the file;
/// the underlying error is the `source` (printed by `chain`, never twice).
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}", path.display())]
    Toml {
        path: PathBuf,
        source: toml::de::Error,
    },
    #[error("{}:{line}", path.display())]
    JekyllConfig {
        path: PathBuf,
        line: usize,
        source: crate::yaml::YamlError,
    },
    #[error("{key}: {message}")]
    Invalid { key: String, message: String },
}

/// The content directory cannot be listed: nothing can be built.
#[derive(Debug, thiserror::Error)]
#[error("cannot read the content directory {}", path.display())]
pub struct ContentError {
    pub path: PathBuf,
    pub source: std::io::Error,
}

/// A failure that stops a build or publish.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error(transparent)]
    Content(#[from] ContentError),
    #[error("cannot write {}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// An error and its sources, `: `-separated, each once (for logs and `check-config`).
pub fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(e) = source {
        let part = e.to_string();
        // `transparent` wrappers show their source's text already.
        if !text.ends_with(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = e.source();
    }
    text
}
