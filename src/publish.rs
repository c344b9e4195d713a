//! Writing rendered files to the output directory: each file to a temporary file in its
//! own folder, then renamed over the old one, so readers never see half a feed.
//! Unchanged files are not rewritten (their mtime stays); feeds that vanished are removed.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use crate::error::BuildError;
use crate::render::Format;

/// What a publish did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct PublishStats {
    pub written: usize,
    pub unchanged: usize,
    pub removed: usize,
}

/// Prefix of our temporary files; leftovers from a crash are removed on the next publish.
const TEMP_PREFIX: &str = ".feedd-tmp-";

/// Publishes files one at a time (from several threads), then removes what is stale.
pub struct Publisher {
    out_dir: PathBuf,
    written: AtomicUsize,
    unchanged: AtomicUsize,
    kept: Mutex<BTreeSet<String>>,
    error: Mutex<Option<BuildError>>,
}

impl Publisher {
    pub fn new(out_dir: &Path) -> Result<Publisher, BuildError> {
        std::fs::create_dir_all(out_dir).map_err(|source| BuildError::Write {
            path: out_dir.to_path_buf(),
            source,
        })?;
        Ok(Publisher {
            out_dir: out_dir.to_path_buf(),
            written: AtomicUsize::new(0),
            unchanged: AtomicUsize::new(0),
            kept: Mutex::new(BTreeSet::new()),
            error: Mutex::new(None),
        })
    }

    /// Writes one file unless it already holds these bytes. The first error is kept and
    /// returned by `finish`.
    pub fn file(&self, rel: String, bytes: &[u8]) {
        let path = self.out_dir.join(&rel);
        let same = std::fs::metadata(&path).is_ok_and(|m| m.len() == bytes.len() as u64)
            && std::fs::read(&path).is_ok_and(|old| old == bytes);
        if same {
            self.unchanged.fetch_add(1, Ordering::Relaxed);
        } else {
            match write_atomic(&path, bytes) {
                Ok(()) => {
                    self.written.fetch_add(1, Ordering::Relaxed);
                }
                Err(source) => {
                    let mut error = self.error.lock().unwrap_or_else(|e| e.into_inner());
                    error.get_or_insert(BuildError::Write { path, source });
                }
            }
        }
        self.kept
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(rel);
    }

    /// Removes stale feeds and temp leftovers; returns the stats or the first error.
    pub fn finish(self) -> Result<PublishStats, BuildError> {
        if let Some(e) = self.error.into_inner().unwrap_or_else(|e| e.into_inner()) {
            return Err(e);
        }
        let kept = self.kept.into_inner().unwrap_or_else(|e| e.into_inner());
        let removed = remove_stale(&self.out_dir, &kept).map_err(|source| BuildError::Write {
            path: self.out_dir.clone(),
            source,
        })?;
        Ok(PublishStats {
            written: self.written.into_inner(),
            unchanged: self.unchanged.into_inner(),
            removed,
        })
    }
}

/// Writes `bytes` to `path` through a temporary file in the same folder and a rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("feed");
    let tmp = dir.join(format!("{TEMP_PREFIX}{}-{name}", std::process::id()));
    let result = (|| {
        let mut file = std::fs::File::create(&tmp)?;
        // No fsync: rename already makes the swap atomic for readers and after a crash of
        // feedd; after a power loss the feeds are rebuilt from the content anyway.
        file.write_all(bytes)?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Removes feed files we no longer produce, our temp leftovers, and emptied folders.
/// Only names feedd writes are touched; anything else in the output dir stays.
pub fn remove_stale(out_dir: &Path, keep: &BTreeSet<String>) -> std::io::Result<usize> {
    let mut removed = 0;
    let mut stack: Vec<PathBuf> = vec![out_dir.to_path_buf()];
    let mut dirs = Vec::new();
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            let name = entry.file_name().to_string_lossy().into_owned();
            if kind.is_dir() {
                stack.push(path.clone());
                dirs.push(path);
                continue;
            }
            let rel = crate::build::relative(out_dir, &path).unwrap_or_default();
            let ours = name.starts_with(TEMP_PREFIX)
                || ((Format::from_file_name(&name).is_some() || name == "feeds.opml")
                    && (dir == out_dir
                        || rel.starts_with("categories/")
                        || rel.starts_with("tags/")));
            if ours && !keep.contains(&rel) {
                std::fs::remove_file(&path)?;
                removed += 1;
            }
        }
    }
    // Deepest first, so a folder emptied of its only child folder goes too.
    dirs.sort_by_key(|d| std::cmp::Reverse(d.components().count()));
    for dir in dirs {
        let _ = std::fs::remove_dir(&dir); // fails (and stays) unless empty
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn publish(dir: &Path, pairs: &[(&str, &str)]) -> PublishStats {
        let p = Publisher::new(dir).unwrap();
        for (k, v) in pairs {
            p.file(k.to_string(), v.as_bytes());
        }
        p.finish().unwrap()
    }

    #[test]
    fn unchanged_files_keep_their_mtime_and_stale_feeds_go() {
        let dir = tempfile::tempdir().unwrap();
        let s = publish(
            dir.path(),
            &[
                ("feed.xml", "a"),
                ("tags/x/feed.xml", "b"),
                ("tags/y/feed.xml", "c"),
            ],
        );
        assert_eq!(
            s,
            PublishStats {
                written: 3,
                unchanged: 0,
                removed: 0
            }
        );
        std::fs::write(dir.path().join(".gitignore"), "*").unwrap();
        std::fs::write(
            dir.path().join(format!("{TEMP_PREFIX}9-feed.xml")),
            "partial",
        )
        .unwrap();
        let mtime = |p: &str| {
            std::fs::metadata(dir.path().join(p))
                .unwrap()
                .modified()
                .unwrap()
        };
        let before = mtime("feed.xml");
        std::thread::sleep(std::time::Duration::from_millis(20));
        let s = publish(dir.path(), &[("feed.xml", "a"), ("tags/x/feed.xml", "B")]);
        assert_eq!(
            s,
            PublishStats {
                written: 1,
                unchanged: 1,
                removed: 2
            }
        );
        assert_eq!(mtime("feed.xml"), before);
        assert!(!dir.path().join("tags/y").exists());
        assert!(dir.path().join(".gitignore").exists());
        assert_eq!(
            std::fs::read_to_string(dir.path().join("tags/x/feed.xml")).unwrap(),
            "B"
        );
    }
}
