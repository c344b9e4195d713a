//! What the server answers custom feeds from: the index and the rendered entries of
//! one published version (persistent maps, so taking them costs pointers), the
//! configuration they were built with, and which posts changed in the last applies.

use std::sync::Arc;

use super::{Engine, Parts};
use crate::config::Config;
use crate::index::Index;
use crate::url::SiteUrl;

/// Applies whose changed posts are kept: a cached custom feed older than that is
/// simply made again.
const KEPT: usize = 256;

/// An apply's version and the posts it changed.
pub(super) type Changed = (u64, Arc<[Arc<str>]>);

/// One published version, for queries.
#[derive(Clone)]
pub struct Catalog {
    pub index: Index,
    pub parts: Parts,
    pub config: Arc<Config>,
    pub site_url: SiteUrl,
    /// The WebSub hub custom feeds advertise (the built-in one, if on).
    pub hubs: Arc<[String]>,
    /// Which apply this is (`Engine::version`).
    pub version: u64,
    /// Posts changed by each of the last applies, oldest first.
    changes: Arc<[Changed]>,
}

impl std::fmt::Debug for Catalog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        (f.debug_struct("Catalog"))
            .field("version", &self.version)
            .field("posts", &self.index.len())
            .finish()
    }
}

impl Catalog {
    /// The posts changed after `version`, or `None` when that is too long ago to know.
    pub fn changed_since(&self, version: u64) -> Option<impl Iterator<Item = &str>> {
        if version >= self.version {
            return Some(None.into_iter().flatten());
        }
        let oldest = self.changes.first().map_or(self.version, |(v, _)| *v);
        if version + 1 < oldest {
            return None;
        }
        let after = self.changes.iter().filter(move |(v, _)| *v > version);
        Some(
            Some(after.flat_map(|(_, posts)| posts.iter().map(|p| &**p)))
                .into_iter()
                .flatten(),
        )
    }
}

impl Engine {
    /// Counts the applies that changed posts (the catalog's version).
    pub fn version(&self) -> u64 {
        self.version
    }

    /// The catalog of the current state.
    pub fn catalog(&self) -> Catalog {
        Catalog {
            index: self.index.clone(),
            parts: self.parts.clone(),
            config: self.config.clone(),
            site_url: self.site_url.clone(),
            hubs: self.config.websub.own(&self.site_url).into_iter().collect(),
            version: self.version,
            changes: self.changes.iter().cloned().collect(),
        }
    }

    pub(super) fn log_changes(&mut self, posts: &std::collections::BTreeSet<String>) {
        if posts.is_empty() {
            return;
        }
        self.version += 1;
        let posts: Arc<[Arc<str>]> = posts.iter().map(|p| Arc::from(p.as_str())).collect();
        self.changes.push_back((self.version, posts));
        while self.changes.len() > KEPT {
            self.changes.pop_front();
        }
    }
}
