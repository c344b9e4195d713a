//! Typed errors of the library. Messages are for the site's author: they name the file and
//! line and say how to fix the problem.

use std::path::PathBuf;

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
    #[error("{0}")]
    InvalidDate(String),
    #[error("{0}")]
    Permalink(String),
    #[error("{count} tags and categories, more than the limit of {limit}")]
    TooManyTerms { count: usize, limit: usize },
}

/// A problem with the configuration: the build cannot start.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: {message}", path.display())]
    Toml { path: PathBuf, message: String },
    #[error("{}:{line}: {message}", path.display())]
    JekyllConfig {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error("{key}: {message}")]
    Invalid { key: String, message: String },
}

/// A failure that stops a build or publish (the output directory is unusable).
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("cannot read the content directory {}: {source}", path.display())]
    Content {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}
