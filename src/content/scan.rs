//! Walking the content directory the way Jekyll does, to list every post file with its
//! stamp (size and mtime), so a rescan can tell which files changed.

use std::path::Path;

use crate::engine::Stamp;
use crate::error::ContentError;
use crate::post::path::{classify, is_ignored_name, is_walked_dir};

/// A post file found on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// Relative to the content dir, `/`-separated.
    pub rel: String,
    pub stamp: Stamp,
}

/// Lists every post file, sorted by path. Symlinked folders are not followed (no loops,
/// nothing outside the content dir); special files are skipped.
pub fn scan(content_dir: &Path) -> Result<Vec<Found>, ContentError> {
    let mut found = Vec::new();
    walk(content_dir, content_dir, false, &mut found).map_err(|source| ContentError {
        path: content_dir.to_path_buf(),
        source,
    })?;
    found.sort_by(|a, b| a.rel.cmp(&b.rel));
    Ok(found)
}

/// Lists the posts below `rel` (a folder relative to the content dir), with the same
/// rules as `scan`: used when a whole folder appears.
pub fn scan_under(content_dir: &Path, rel: &str) -> Vec<Found> {
    let parts: Vec<&str> = rel.split('/').filter(|p| !p.is_empty()).collect();
    let posts_at = parts.iter().position(|p| *p == "_posts");
    let visible = match posts_at {
        Some(i) => {
            parts[..i].iter().all(|p| is_walked_dir(p))
                && parts[i + 1..].iter().all(|p| !is_ignored_name(p))
        }
        None => parts.iter().all(|p| is_walked_dir(p)),
    };
    let mut found = Vec::new();
    if visible {
        // A folder that cannot be read is logged by `walk` and yields nothing.
        let _ = walk(
            content_dir,
            &content_dir.join(rel),
            posts_at.is_some(),
            &mut found,
        );
    }
    found.sort_by(|a, b| a.rel.cmp(&b.rel));
    found
}

fn walk(root: &Path, dir: &Path, in_posts: bool, found: &mut Vec<Found>) -> std::io::Result<()> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        // A folder that vanished or cannot be read below the root is skipped, not fatal.
        Err(e) if dir != root => {
            tracing::warn!("{}: skipped: {e}", dir.display());
            return Ok(());
        }
        Err(e) => return Err(e),
    };
    for entry in entries.flatten() {
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        let name = entry.file_name();
        let Some(name) = name.to_str() else {
            tracing::warn!("{}: skipped: the name is not UTF-8", entry.path().display());
            continue;
        };
        let path = entry.path();
        if kind.is_dir() {
            if name == "_posts" {
                walk(root, &path, true, found)?;
            } else if is_walked_dir(name) {
                walk(root, &path, in_posts, found)?;
            }
        } else if in_posts && (kind.is_file() || (kind.is_symlink() && symlink_inside(root, &path)))
        {
            if let Some(rel) = relative(root, &path).filter(|rel| classify(rel).is_some()) {
                let stamp = if kind.is_file() {
                    entry.metadata().map(|m| Stamp::of(&m)).unwrap_or_default()
                } else {
                    stamp(&path)
                };
                found.push(Found { rel, stamp });
            }
        }
    }
    Ok(())
}

/// The stamp of a file now (the default when it cannot be read: always "changed").
pub fn stamp(path: &Path) -> Stamp {
    std::fs::metadata(path)
        .map(|m| Stamp::of(&m))
        .unwrap_or_default()
}

/// `path` relative to `root`, `/`-separated; `None` if outside or not UTF-8.
pub fn relative(root: &Path, path: &Path) -> Option<String> {
    let rel = path.strip_prefix(root).ok()?;
    let parts: Option<Vec<&str>> = rel.iter().map(|c| c.to_str()).collect();
    Some(parts?.join("/"))
}

/// A symlinked post is read only when it points at a regular file inside the content dir.
pub(super) fn symlink_inside(root: &Path, link: &Path) -> bool {
    match (std::fs::canonicalize(root), std::fs::canonicalize(link)) {
        (Ok(root), Ok(target)) => target.starts_with(root) && target.is_file(),
        _ => false,
    }
}
