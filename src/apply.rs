//! What both drivers (`feedd build`, `feedd serve`) do around the engine: a full scan fed
//! to one `apply`, and answering the engine's requests to read posts again.

use chrono::{DateTime, Utc};

use crate::engine::{Change, Engine, Output, Sink};
use crate::error::ContentError;

/// Scans the whole content dir and applies it: the first build of both drivers, and a
/// rescan (files whose stamp is unchanged are not read; vanished ones are gone).
pub fn apply_scan(
    engine: &mut Engine,
    now: DateTime<Utc>,
    sink: &dyn Sink,
) -> Result<Output, ContentError> {
    let found = crate::content::scan(&engine.config().content_dir)?;
    Ok(apply_found(engine, found, now, sink))
}

/// `apply_scan` with the scan already done.
pub fn apply_found(
    engine: &mut Engine,
    found: Vec<crate::content::Found>,
    now: DateTime<Utc>,
    sink: &dyn Sink,
) -> Output {
    let config = engine.config();
    let (content_dir, max) = (config.content_dir.clone(), config.max_post_bytes);
    let mut gone: Vec<Change> = {
        let on_disk: std::collections::HashSet<&str> =
            found.iter().map(|f| f.rel.as_str()).collect();
        engine
            .known()
            .filter(|rel| !on_disk.contains(rel))
            .map(|rel| Change::Gone {
                rel: rel.to_string(),
            })
            .collect()
    };
    let changed: Vec<_> = found
        .into_iter()
        .filter(|f| engine.stamp(&f.rel) != Some(f.stamp))
        .collect();
    let chunks = std::iter::once(std::mem::take(&mut gone)).chain(crate::content::read_all(
        &content_dir,
        changed,
        max,
    ));
    let mut out = engine.apply(chunks, now, sink);
    settle(engine, &mut out, now, sink);
    out
}

/// Reads what the engine asked for again and applies it, until it asks for nothing (a
/// few rounds at most: only a file rewritten between two reads asks again).
pub fn settle(engine: &mut Engine, out: &mut Output, now: DateTime<Utc>, sink: &dyn Sink) {
    for _ in 0..8 {
        if out.reread.is_empty() {
            return;
        }
        let config = engine.config();
        let (dir, max) = (config.content_dir.clone(), config.max_post_bytes);
        let changes: Vec<Change> = std::mem::take(&mut out.reread)
            .iter()
            .map(|rel| crate::content::read(&dir, rel, max, true))
            .collect();
        let more = engine.apply([changes], now, sink);
        out.merge(more);
    }
    if !out.reread.is_empty() {
        tracing::warn!(
            "{} posts kept changing while being read; they are read again with the next change",
            out.reread.len()
        );
    }
}
