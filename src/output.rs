//! Writing rendered files to the output directory, the same way for `feedd build` and
//! `feedd serve`: each file to a temporary file in its own folder, then renamed over the
//! old one, so readers never see half a feed. Unchanged files are not rewritten (their
//! mtime stays); feeds that vanished are removed. With `precompress`, each file gets its
//! `.gz`, `.br` and `.zst` copies (the bytes feedd serves for those encodings), made
//! after the file, so a copy never pairs with bytes other than its file's.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::BuildError;

/// What a publish did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct PublishStats {
    pub written: usize,
    pub unchanged: usize,
    pub removed: usize,
}

/// Prefix of our temporary files; leftovers from a crash are removed on the next publish.
const TEMP_PREFIX: &str = ".feedd-tmp-";

/// Writes one file unless it already holds these bytes (so its mtime, the feed's
/// Last-Modified after a restart, stays). Returns whether it wrote.
pub fn write_if_changed(path: &Path, bytes: &[u8]) -> std::io::Result<bool> {
    let same = std::fs::metadata(path).is_ok_and(|m| m.len() == bytes.len() as u64)
        && std::fs::read(path).is_ok_and(|old| old == bytes);
    if same {
        return Ok(false);
    }
    // Precompressed copies of the old bytes go first, so a static server never pairs
    // them with the new ones (it serves identity until the new copies are written).
    remove_variants(path)?;
    write_atomic(path, bytes)?;
    Ok(true)
}

/// Whether a file's precompressed copies are all there and no older than it (a copy
/// older than its file was made for an earlier version, or the run making it stopped).
pub fn copies_current(path: &Path) -> bool {
    let Ok(file) = std::fs::metadata(path).and_then(|m| m.modified()) else {
        return true; // no file, no copies to make
    };
    crate::layout::VARIANT_SUFFIXES.iter().all(|suffix| {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        std::fs::metadata(Path::new(&name))
            .is_ok_and(|m| m.is_file() && m.modified().is_ok_and(|copy| copy >= file))
    })
}

/// Writes the precompressed copies of `bytes`, the file at `path`.
pub fn write_copies(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    for encoding in crate::compress::Encoding::COMPRESSED {
        let Some(suffix) = encoding.suffix() else {
            continue;
        };
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        write_atomic(
            Path::new(&name),
            &crate::compress::compress(bytes, encoding),
        )?;
    }
    Ok(())
}

/// Removes the precompressed copies of a published file (those that exist).
pub fn remove_variants(path: &Path) -> std::io::Result<()> {
    for suffix in crate::layout::VARIANT_SUFFIXES {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        match std::fs::remove_file(Path::new(&name)) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// The disk side of `feedd build`: a sink whose files are written by writer threads of
/// their own while rendering goes on. Creating thousands of files is mostly kernel time
/// (inode allocation, page-cache copies), so one writer per core; the queue is bounded,
/// so a slow disk slows rendering instead of filling memory.
pub struct Publisher {
    out_dir: PathBuf,
    queue: std::sync::mpsc::SyncSender<(String, Vec<u8>)>,
    /// Each writer's counts (written, unchanged) or its first error.
    writers: Vec<std::thread::JoinHandle<Result<(usize, usize), BuildError>>>,
}

impl Publisher {
    /// Writes under `out_dir`, with precompressed copies when `precompress`.
    pub fn new(out_dir: &Path, precompress: bool) -> Result<Publisher, BuildError> {
        let failed = |source| BuildError::Write {
            path: out_dir.to_path_buf(),
            source,
        };
        std::fs::create_dir_all(out_dir).map_err(failed)?;
        let (tx, rx) = std::sync::mpsc::sync_channel::<(String, Vec<u8>)>(64);
        let rx = std::sync::Arc::new(std::sync::Mutex::new(rx));
        let count = std::thread::available_parallelism().map_or(2, |n| n.get().max(2));
        let mut writers = Vec::with_capacity(count);
        for i in 0..count {
            let (dir, rx) = (out_dir.to_path_buf(), rx.clone());
            let writer = std::thread::Builder::new()
                .name(format!("feedd-write-{i}"))
                .spawn(move || {
                    let (mut written, mut unchanged) = (0, 0);
                    let mut first_error = None;
                    loop {
                        let job = rx.lock().unwrap_or_else(|e| e.into_inner()).recv();
                        let Ok((rel, bytes)) = job else {
                            break;
                        };
                        let path = dir.join(&rel);
                        let result = write_if_changed(&path, &bytes).and_then(|wrote| {
                            if precompress && (wrote || !copies_current(&path)) {
                                write_copies(&path, &bytes)?;
                            }
                            Ok(wrote)
                        });
                        match result {
                            Ok(true) => written += 1,
                            Ok(false) => unchanged += 1,
                            Err(source) => {
                                first_error.get_or_insert(BuildError::Write { path, source });
                            }
                        }
                    }
                    first_error.map_or(Ok((written, unchanged)), Err)
                })
                .map_err(failed)?;
            writers.push(writer);
        }
        Ok(Publisher {
            out_dir: out_dir.to_path_buf(),
            queue: tx,
            writers,
        })
    }

    /// Waits for the writes, then removes every published-looking file not in `keep`
    /// (stale feeds) and temp leftovers. Returns the stats or the first error.
    /// Waits for the writes, then removes what feedd published before and `keep` does
    /// not hold (`pages`: whether page names are feedd's, see `is_published_path`).
    pub fn finish<'a>(
        self,
        keep: impl IntoIterator<Item = &'a str>,
        pages: bool,
    ) -> Result<PublishStats, BuildError> {
        drop(self.queue);
        let (mut written, mut unchanged) = (0, 0);
        for writer in self.writers {
            let (w, u) = writer.join().unwrap_or(Ok((0, 0)))?;
            written += w;
            unchanged += u;
        }
        let keep: BTreeSet<String> = keep.into_iter().map(str::to_string).collect();
        let removed =
            remove_stale(&self.out_dir, &keep, pages).map_err(|source| BuildError::Write {
                path: self.out_dir.clone(),
                source,
            })?;
        Ok(PublishStats {
            written,
            unchanged,
            removed,
        })
    }
}

impl crate::engine::Sink for Publisher {
    fn file(&self, rel: &str, bytes: Vec<u8>) {
        // Blocks while the queue is full: the disk sets the pace.
        let _ = self.queue.send((rel.to_string(), bytes));
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
pub fn remove_stale(
    out_dir: &Path,
    keep: &BTreeSet<String>,
    pages: bool,
) -> std::io::Result<usize> {
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
            let rel = crate::content::relative(out_dir, &path).unwrap_or_default();
            let ours =
                name.starts_with(TEMP_PREFIX) || crate::layout::is_published_path(&rel, pages);
            let copy = crate::layout::variant_base(&rel);
            if ours && !keep.contains(copy.unwrap_or(&rel)) {
                std::fs::remove_file(&path)?;
                // Counted as published files are: a copy goes with its file.
                removed += usize::from(copy.is_none());
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
        use crate::engine::Sink;
        let p = Publisher::new(dir, false).unwrap();
        for (k, v) in pairs {
            p.file(k, v.as_bytes().to_vec());
        }
        p.finish(pairs.iter().map(|(k, _)| *k), false).unwrap()
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
