//! `[[custom]]` feeds (built and published like category feeds, on disk too) and
//! `[query]`, the limits of the custom feeds readers ask for in a URL (`?cat=…&q=…`).

use serde::Deserialize;

use crate::error::ConfigError;
use crate::names::FeedName;
use crate::query::Query;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCustom {
    name: String,
    query: String,
    title: Option<String>,
    limit: Option<usize>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawQuery {
    enabled: Option<bool>,
    cache_mib: Option<usize>,
}

/// One named custom feed.
#[derive(Debug, Clone, PartialEq)]
pub struct Custom {
    pub name: FeedName,
    /// The name as written: its label and folder.
    pub label: String,
    pub query: Query,
    pub title: Option<String>,
    pub limit: Option<usize>,
}

/// Every named custom feed, by name.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CustomFeeds(Vec<Custom>);

impl CustomFeeds {
    /// Whether any custom feed looks for words (`q=`, `not=`) in posts' text.
    pub fn has_words(&self) -> bool {
        (self.0.iter()).any(|c| !c.query.words.is_empty() || !c.query.nots.is_empty())
    }

    pub(super) fn from_raw(raw: Vec<RawCustom>) -> Result<CustomFeeds, ConfigError> {
        let mut feeds: Vec<Custom> = Vec::new();
        for (i, raw) in raw.into_iter().enumerate() {
            let invalid = |message: String| ConfigError::Invalid {
                key: format!("custom[{i}] ({})", raw.name),
                message,
            };
            if raw.name.trim().is_empty() || raw.name.contains('/') {
                return Err(invalid("name must be non-empty and have no `/`".into()));
            }
            let query = match Query::parse(&raw.query) {
                Ok(Some(query)) => query,
                Ok(None) => {
                    return Err(invalid(
                        "query selects nothing: use cat=, tag=, q= or not=".into(),
                    ))
                }
                Err(e) => return Err(invalid(format!("query: {e}"))),
            };
            if query.before.is_some() {
                return Err(invalid(
                    "query: before= is a reader's position in a feed, not part of one".into(),
                ));
            }
            let name = FeedName::new(&raw.name);
            if feeds.iter().any(|f| f.name == name) {
                return Err(invalid("another [[custom]] feed has this name".into()));
            }
            if raw.limit == Some(0) {
                return Err(invalid("limit must be at least 1".into()));
            }
            feeds.push(Custom {
                name,
                label: raw.name.trim().to_string(),
                limit: raw.limit.or(query.limit),
                query,
                title: raw.title,
            });
        }
        Ok(CustomFeeds(feeds))
    }

    pub fn get(&self, name: &FeedName) -> Option<&Custom> {
        self.0.iter().find(|c| c.name == *name)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Custom> {
        self.0.iter()
    }
}

/// Custom feeds asked for in a URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuerySettings {
    /// Off: a query string is ignored, as before (the plain feed).
    pub enabled: bool,
    /// Most memory the rendered results may hold (bytes).
    pub cache_bytes: usize,
}

impl QuerySettings {
    pub(super) fn from_raw(raw: RawQuery) -> Result<QuerySettings, ConfigError> {
        let cache_mib = raw.cache_mib.unwrap_or(64);
        if cache_mib == 0 {
            return Err(ConfigError::Invalid {
                key: "query.cache_mib".into(),
                message: "must be at least 1".into(),
            });
        }
        Ok(QuerySettings {
            enabled: raw.enabled.unwrap_or(true),
            cache_bytes: cache_mib << 20,
        })
    }
}
