//! A whole new engine from a configuration: the first build of `feedd serve` and every
//! reload. A reload takes effect only once its build succeeded, and then whole: the
//! rebuild thread swaps in the new engine and one snapshot store makes the new feeds and
//! the new HTTP settings live together.

use std::sync::Arc;

use super::writer::Writes;
use crate::config::Config;
use crate::engine::{Collect, Engine, Report};
use crate::error::ContentError;
use crate::http_settings::HttpSettings;
use crate::snapshot::Snapshot;

/// Why a reload did not take effect (the old configuration keeps serving).
#[derive(Debug, thiserror::Error)]
pub enum ReloadError {
    #[error("the new configuration cannot be built")]
    Build(#[from] ContentError),
    #[error("the rebuild thread has stopped")]
    Stopped,
}

/// A built engine with its snapshot and the disk writes that match it.
pub struct Fresh {
    pub engine: Engine,
    pub snapshot: Snapshot,
    pub writes: Writes,
    pub report: Report,
    /// Feed files whose bytes changed (`publish::Next::changed`).
    pub changed: Vec<String>,
}

/// Builds everything with `config`. `prev` is what is being served (for Last-Modified
/// of unchanged files and the rate limiter's state); nothing is changed here.
pub fn fresh(config: Config, prev: &Snapshot) -> Result<Fresh, ContentError> {
    let settings = Arc::new(HttpSettings::new(&config));
    let mut engine = Engine::new(config);
    let sink = Collect::default();
    let out = crate::apply::apply_scan(&mut engine, chrono::Utc::now(), &sink)?;
    super::shed_parts(&mut engine);
    let rendered = super::next_snapshot::Rendered {
        files: sink.into_files(),
        removed: &out.removed,
        feed_changes: &out.feed_changes,
    };
    let next = super::next_snapshot::next(
        prev,
        &engine,
        rendered,
        settings,
        std::time::SystemTime::now(),
    );
    // Files the old configuration published and the new one does not.
    let (mut snapshot, mut writes) = (next.snapshot, next.writes);
    let published: std::collections::HashSet<&str> = engine.files().collect();
    let stale: Vec<String> = snapshot
        .files
        .keys()
        .filter(|rel| !published.contains(rel.as_str()))
        .cloned()
        .collect();
    for rel in stale {
        snapshot.files.remove(&rel);
        writes.push((rel, None));
    }
    Ok(Fresh {
        engine,
        snapshot,
        writes,
        report: out.report,
        changed: next.changed,
    })
}
