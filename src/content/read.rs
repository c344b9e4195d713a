//! Reading post files into `Change`s: the bytes and the stamp come from one open file, so
//! what the engine parses is exactly what the stamp describes. Files are read in parallel
//! chunks, so a full build holds only one chunk of raw text at a time.

use std::io::Read;
use std::path::Path;

use rayon::prelude::*;

use super::scan::Found;
use crate::engine::{Change, Content, Stamp};

/// Reads one post file. A path that is gone, or is no longer a regular file inside the
/// content dir (a FIFO, a symlink pointing elsewhere), is `Change::Gone`.
pub fn read(content_dir: &Path, rel: &str, max_bytes: u64, complete: bool) -> Change {
    let full = content_dir.join(rel);
    let gone = || Change::Gone {
        rel: rel.to_string(),
    };
    let Ok(link) = std::fs::symlink_metadata(&full) else {
        return gone();
    };
    if link.is_symlink() && !super::scan::symlink_inside(content_dir, &full) {
        return gone();
    }
    let file = match std::fs::File::open(&full) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return gone(),
        Err(e) => return unreadable(rel, Stamp::default(), e),
    };
    let meta = match file.metadata() {
        Ok(meta) => meta,
        Err(e) => return unreadable(rel, Stamp::default(), e),
    };
    if !meta.is_file() {
        return gone();
    }
    let stamp = Stamp::of(&meta);
    let content = if meta.len() > max_bytes {
        Content::TooLarge(meta.len())
    } else {
        let mut bytes = Vec::with_capacity(meta.len() as usize);
        match file.take(max_bytes + 1).read_to_end(&mut bytes) {
            Ok(_) if bytes.len() as u64 > max_bytes => Content::TooLarge(bytes.len() as u64),
            Ok(_) => Content::Bytes(bytes),
            Err(e) => Content::Unreadable(e),
        }
    };
    Change::File {
        rel: rel.to_string(),
        stamp,
        content,
        complete,
    }
}

fn unreadable(rel: &str, stamp: Stamp, e: std::io::Error) -> Change {
    Change::File {
        rel: rel.to_string(),
        stamp,
        content: Content::Unreadable(e),
        complete: true,
    }
}

/// Files per chunk: enough to keep both cores busy, small enough that a chunk's raw text
/// (a few MB) is all a full build holds at once.
const CHUNK: usize = 2048;

/// Reads `found` in chunks, each chunk in parallel. Newest file-name dates come first: a
/// full build then meets each feed's newest posts first, so almost every post it renders
/// stays in its feeds (the engine renders a post when it enters a feed's newest `limit`).
pub fn read_all(content_dir: &Path, mut found: Vec<Found>, max_bytes: u64) -> ReadChunks<'_> {
    found.sort_by_cached_key(|f| {
        let date =
            crate::post::path::classify(&f.rel).map(|p| (p.date.year, p.date.month, p.date.day));
        (std::cmp::Reverse(date), f.rel.clone())
    });
    ReadChunks {
        content_dir,
        found,
        at: 0,
        max_bytes,
    }
}

/// The chunks of `read_all`, read when asked for.
pub struct ReadChunks<'a> {
    content_dir: &'a Path,
    found: Vec<Found>,
    at: usize,
    max_bytes: u64,
}

impl Iterator for ReadChunks<'_> {
    type Item = Vec<Change>;

    fn next(&mut self) -> Option<Vec<Change>> {
        if self.at >= self.found.len() {
            return None;
        }
        let end = (self.at + CHUNK).min(self.found.len());
        let chunk = &self.found[self.at..end];
        self.at = end;
        Some(
            chunk
                .par_iter()
                .map(|f| read(self.content_dir, &f.rel, self.max_bytes, true))
                .collect(),
        )
    }
}
