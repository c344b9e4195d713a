//! `feedd check`: every problem in the site, errors (posts that are skipped) and warnings
//! (Jekyll traps the author probably did not mean), in path order.

use rayon::prelude::*;

use crate::config::Config;
use crate::engine::Change;
use crate::error::{ContentError, PostError};
use crate::post::Post;

/// Every post parsed, and the ones that could not be.
#[derive(Debug, Default)]
pub struct Loaded {
    pub posts: Vec<Post>,
    pub errors: Vec<PostError>,
}

/// Reads and parses every post the scanner lists (the same scanner and parser the
/// engine uses; nothing is rendered).
pub fn load(config: &Config) -> Result<Loaded, ContentError> {
    let found = crate::content::scan(&config.content_dir)?;
    let results: Vec<Result<Option<Post>, PostError>> = found
        .par_iter()
        .map(|f| {
            match crate::content::read(&config.content_dir, &f.rel, config.max_post_bytes, true) {
                Change::Gone { .. } => Ok(None),
                Change::File { content, .. } => content.parse(&f.rel, config),
            }
        })
        .collect();
    let mut loaded = Loaded::default();
    for result in results {
        match result {
            Ok(Some(post)) => loaded.posts.push(post),
            Ok(None) => {}
            Err(e) => loaded.errors.push(e),
        }
    }
    Ok(loaded)
}

/// One problem to show the author.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Problem {
    pub path: String,
    pub line: usize,
    pub severity: Severity,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let label = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, "{}:{}: {label}: {}", self.path, self.line, self.message)
    }
}

/// Collects the problems of a loaded site and its configuration.
pub fn problems(config: &Config, loaded: &Loaded) -> Vec<Problem> {
    let mut out = Vec::new();
    let config_problem = |message: &str| Problem {
        path: "config".into(),
        line: 0,
        severity: Severity::Warning,
        message: message.into(),
    };
    if config.site.url.is_empty() {
        out.push(config_problem(
            "site.url is not set: links and ids will be relative, and feed readers need absolute URLs",
        ));
    }
    if !config.site.timezone_configured {
        out.push(config_problem(
            "site.timezone is not set (here or in _config.yml): dates without an offset are read as UTC",
        ));
    }
    for e in &loaded.errors {
        out.push(Problem {
            path: e.path.display().to_string(),
            line: e.line,
            severity: Severity::Error,
            message: e.kind.to_string(),
        });
    }
    for post in &loaded.posts {
        for w in &post.warnings {
            out.push(Problem {
                path: post.source.clone(),
                line: w.line,
                severity: Severity::Warning,
                message: w.message.clone(),
            });
        }
    }
    out.sort();
    out
}
