//! `feedd build`: the engine driven once over the whole content dir, its files written
//! to the output dir as they are rendered, then stale files removed and the manifest
//! written. When the manifest shows that the posts, the config and the output are exactly
//! what the last build left, there is nothing to render and nothing to write.

use std::path::Path;
use std::time::UNIX_EPOCH;

use chrono::{DateTime, Utc};
use rayon::prelude::*;

use crate::config::Config;
use crate::content::Found;
use crate::engine::{Engine, Output};
use crate::error::BuildError;
use crate::manifest::{self, Manifest, Published};
use crate::output::{PublishStats, Publisher};

/// What a build did.
pub struct Built {
    pub output: Output,
    pub publish: PublishStats,
    /// Live posts.
    pub posts: usize,
    /// Post files found.
    pub files: usize,
    /// Feeds (site, categories, tags), each counted once across formats.
    pub feeds: usize,
    /// Whether the manifest proved the output current (nothing was parsed or rendered).
    pub unchanged: bool,
}

pub fn build(config: &Config, now: DateTime<Utc>) -> Result<Built, BuildError> {
    let found = crate::content::scan(&config.content_dir)?;
    let manifest_path = config.output_dir.join(manifest::FILE);
    let previous = std::fs::read_to_string(&manifest_path)
        .ok()
        .and_then(|text| Manifest::parse(&text));
    if let Some(built) = previous.and_then(|m| unchanged(config, now, &m, &found)) {
        return Ok(built);
    }
    // The old manifest no longer describes the output while it is being rewritten.
    let _ = std::fs::remove_file(&manifest_path);
    // No query is asked of a build but its named custom feeds'.
    let mut engine = Engine::new(config.clone()).without_search();
    let publisher = Publisher::new(&config.output_dir, config.precompress)?;
    let output = crate::apply::apply_found(&mut engine, found, now, &publisher);
    let publish = publisher.finish(engine.files(), config.pages.enabled)?;
    let built = Built {
        publish,
        posts: engine.posts(),
        files: engine.known().count(),
        feeds: engine.infos().len(),
        unchanged: false,
        output,
    };
    let manifest = record(config, &engine, &built);
    if let Err(source) = crate::output::write_atomic(&manifest_path, manifest.to_text().as_bytes())
    {
        // Only the next build's shortcut is lost.
        tracing::warn!("{}: cannot write: {source}", manifest_path.display());
    }
    // A build ends with the process: freeing a large site's posts and rendered entries
    // one allocation at a time costs most of a second (measured: 8% of a 100k build).
    std::mem::forget(engine);
    Ok(built)
}

/// The manifest of a finished build: the same record `feedd serve` keeps, so a serve
/// after a build serves its files at once. A file first published by this build, or
/// unchanged since an earlier one, was first published at its mtime.
fn record(config: &Config, engine: &Engine, built: &Built) -> Manifest {
    let posts = Some(
        engine
            .known()
            .map(|rel| {
                (
                    rel.to_string(),
                    crate::hash::tag(engine.hash(rel).unwrap_or(0)),
                )
            })
            .collect(),
    );
    let files = engine
        .files()
        .filter_map(|rel| {
            let (len, mtime) = file_stamp(&config.output_dir.join(rel))?;
            let hash = crate::hash::tag(engine.print(rel)?);
            let first_published = i64::try_from(mtime.div_euclid(1_000_000_000)).ok()?;
            let published = Published {
                len,
                mtime,
                hash,
                first_published,
            };
            Some((rel.to_string(), published))
        })
        .collect();
    Manifest {
        config: manifest::fingerprint(config),
        valid_until: engine.next_due().map(|due| due.timestamp()),
        posts,
        files,
        errors: built.output.report.errors.clone(),
        live: built.posts,
        feeds: built.feeds,
        infos: engine
            .infos()
            .values()
            .map(|info| (**info).clone())
            .collect(),
    }
}

/// Size and mtime (Unix nanoseconds) of a file.
fn file_stamp(path: &Path) -> Option<(u64, i128)> {
    let meta = std::fs::metadata(path).ok()?;
    let mtime = meta.modified().ok()?.duration_since(UNIX_EPOCH).ok()?;
    Some((meta.len(), mtime.as_nanos() as i128))
}

/// `Some` when the last build's output is current: same config, nothing due since, every
/// post file's bytes hash as recorded, and every published file untouched.
fn unchanged(config: &Config, now: DateTime<Utc>, m: &Manifest, found: &[Found]) -> Option<Built> {
    let due = m.valid_until.is_some_and(|t| now.timestamp() >= t);
    let posts = m.posts.as_ref()?;
    if m.config != manifest::fingerprint(config) || due || found.len() != posts.len() {
        return None;
    }
    let same_posts = found.par_iter().all(|f| {
        let Some(want) = posts.get(&f.rel) else {
            return false;
        };
        let hash = if f.stamp.len > config.max_post_bytes {
            0 // the engine's hash of a post it did not read
        } else {
            match std::fs::read(config.content_dir.join(&f.rel)) {
                Ok(bytes) => crate::hash::of(&bytes),
                Err(_) => return false,
            }
        };
        crate::hash::tag(hash) == *want
    });
    let same_files = same_posts
        && m.files
            .iter()
            .all(|(rel, p)| file_stamp(&config.output_dir.join(rel)) == Some((p.len, p.mtime)));
    if !same_files {
        return None;
    }
    if config.precompress {
        // Copies a run stopped before making (or deleted since) are made now.
        let made = m.files.par_iter().try_for_each(|(rel, _)| {
            let path = config.output_dir.join(rel);
            if crate::output::copies_current(&path) {
                return Ok(());
            }
            crate::output::write_copies(&path, &std::fs::read(&path)?)
        });
        made.ok()?;
    }
    let keep: std::collections::BTreeSet<String> = m.files.keys().cloned().collect();
    let removed =
        crate::output::remove_stale(&config.output_dir, &keep, config.pages.enabled).ok()?;
    let mut output = Output::default();
    output.report.errors = m.errors.clone();
    Some(Built {
        output,
        publish: PublishStats {
            written: 0,
            unchanged: m.files.len(),
            removed,
        },
        posts: m.live,
        files: posts.len(),
        feeds: m.feeds,
        unchanged: true,
    })
}
