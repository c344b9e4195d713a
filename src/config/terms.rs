//! `[categories]` and `[tags]`: which terms get feeds, their limits and display titles.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::content::pages::TermPage;
use crate::names::FeedName;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTerms {
    enabled: Option<bool>,
    #[serde(default)]
    allow: Vec<String>,
    #[serde(default)]
    deny: Vec<String>,
    #[serde(default)]
    limits: BTreeMap<String, usize>,
    /// Display titles by name (the name stays the URL).
    #[serde(default)]
    titles: BTreeMap<String, String>,
}

/// Which categories (or tags) get feeds, and per-feed limits.
#[derive(Debug, Clone, Default)]
pub struct TermFeeds {
    pub enabled: bool,
    allow: Vec<FeedName>,
    deny: Vec<FeedName>,
    limits: BTreeMap<FeedName, usize>,
    /// Display titles: `config.toml`'s, else the site's own page's for the term.
    titles: BTreeMap<FeedName, String>,
    /// The site's own page for a term (site-relative URL path), the feed's alternate link.
    pages: BTreeMap<FeedName, String>,
}

impl TermFeeds {
    /// Whether a term gets a feed. Names compare as feed keys (NFC, ASCII case folded).
    pub fn wants(&self, name: &FeedName) -> bool {
        self.enabled
            && (self.allow.is_empty() || self.allow.contains(name))
            && !self.deny.contains(name)
    }

    pub fn limit(&self, name: &FeedName) -> Option<usize> {
        self.limits.get(name).copied()
    }

    /// How pages and feed titles call a term, if not by its name.
    pub fn title(&self, name: &FeedName) -> Option<&str> {
        self.titles.get(name).map(String::as_str)
    }

    /// The site's own page for a term, if it has one.
    pub fn page(&self, name: &FeedName) -> Option<&str> {
        self.pages.get(name).map(String::as_str)
    }

    /// Takes titles and URLs from the site's own term pages; titles from `config.toml`
    /// win.
    pub fn add_pages<'a>(&mut self, pages: impl IntoIterator<Item = &'a TermPage>) {
        for page in pages {
            let name = FeedName::new(&page.name);
            if let Some(title) = &page.title {
                self.titles
                    .entry(name.clone())
                    .or_insert_with(|| title.clone());
            }
            self.pages.entry(name).or_insert_with(|| page.url.clone());
        }
    }

    pub(super) fn from_raw(raw: RawTerms) -> TermFeeds {
        TermFeeds {
            enabled: raw.enabled.unwrap_or(true),
            allow: raw.allow.iter().map(|n| FeedName::new(n)).collect(),
            deny: raw.deny.iter().map(|n| FeedName::new(n)).collect(),
            limits: raw
                .limits
                .into_iter()
                .map(|(n, l)| (FeedName::new(&n), l))
                .collect(),
            titles: raw
                .titles
                .into_iter()
                .filter(|(_, t)| !t.is_empty())
                .map(|(n, t)| (FeedName::new(&n), t))
                .collect(),
            pages: BTreeMap::new(),
        }
    }
}
