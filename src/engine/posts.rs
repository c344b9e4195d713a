//! The post side of `apply`: parse a chunk of changes (in parallel), update the index and
//! the waiting list, and render the posts that are in some feed while their text is here.

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use rayon::prelude::*;

use super::{Change, Content, Engine, Output, Stamp};
use crate::error::{PostError, PostErrorKind};
use crate::index::Index;
use crate::layout::FeedKey;
use crate::post::Post;
use crate::render::archive::Brief;

/// What one `apply` has touched so far.
#[derive(Default)]
pub(super) struct Batch {
    /// Feeds whose membership may have changed.
    pub feeds: BTreeSet<FeedKey>,
    /// Posts whose content or presence changed (their feeds must be rendered again).
    pub posts: BTreeSet<String>,
    /// Posts rendered in this apply; a later chunk may have pushed them out of every feed.
    pub rendered: Vec<String>,
    /// Feeds whose membership changed in the chunk being applied.
    chunk_feeds: BTreeSet<FeedKey>,
}

/// A post, its `query::searchable` text and its summary (made once, kept for rendering);
/// neither when nothing searches (`Engine::search`: the summary is made when rendered).
type Searchable = (Post, crate::index::Kept, Option<String>);

/// A live post's text while its chunk is applied: the post, its body and summary.
type Body = (Post, String, Option<String>);

/// A change, parsed (the parallel part of a chunk). Lives only within one chunk.
#[allow(clippy::large_enum_variant)]
enum Parsed {
    Gone(String),
    File {
        rel: String,
        stamp: Stamp,
        hash: u128,
        /// `None` when the bytes are the ones already applied and nothing needs them.
        /// The text is made here, in parallel.
        result: Option<Result<Option<Searchable>, PostError>>,
        complete: bool,
    },
}

impl Engine {
    pub(super) fn apply_chunk(
        &mut self,
        chunk: Vec<Change>,
        now: DateTime<Utc>,
        batch: &mut Batch,
        out: &mut Output,
    ) {
        let parsed: Vec<Parsed> = chunk.into_par_iter().map(|c| self.parse(c)).collect();
        let mut bodies: super::PathMap<Body> = super::PathMap::default();

        for change in parsed {
            match change {
                Parsed::Gone(rel) => {
                    let gone: Vec<String> = if self.folders.contains_key(&rel) {
                        // A folder gone is rare: a pass over every known file is fine.
                        let prefix = format!("{rel}/");
                        (self.files.keys())
                            .filter(|k| k.starts_with(&prefix))
                            .cloned()
                            .collect()
                    } else {
                        vec![rel]
                    };
                    for rel in gone {
                        self.forget(&rel, batch);
                        bodies.remove(&rel);
                    }
                }
                Parsed::File {
                    rel,
                    stamp,
                    hash,
                    result,
                    complete,
                } => {
                    let Some(result) = result else {
                        if let Some(known) = self.files.get_mut(&rel) {
                            known.0 = stamp;
                        }
                        continue;
                    };
                    match result {
                        Ok(Some((mut post, text, summary))) => {
                            let body = std::mem::take(&mut post.body);
                            // The bytes of the live version again (read for its text):
                            // the same bytes parse to the same post, so no change.
                            let same =
                                self.engine_hash(&rel) == Some(hash) && self.index.contains(&rel);
                            self.remember(&rel, stamp, hash);
                            self.errors.remove(&rel);
                            self.wanted.remove(&rel);
                            let live = if same {
                                Some(post)
                            } else {
                                self.unplace(&rel, batch);
                                self.place(post, text, now, batch)
                            };
                            if let Some(post) = live.filter(|_| !self.parts.contains_key(&rel)) {
                                bodies.insert(rel, (post, body, summary));
                            }
                        }
                        Ok(None) => {
                            self.forget(&rel, batch);
                            bodies.remove(&rel);
                        }
                        Err(e) if !complete && maybe_half_written(&e) => {
                            out.deferred.push(rel);
                        }
                        Err(e) => {
                            // Asked for its text, which is now broken: the previous
                            // version cannot be shown without it, so it leaves the feeds
                            // until the file is fixed.
                            if self.wanted.remove(&rel) {
                                self.unplace(&rel, batch);
                            }
                            self.remember(&rel, stamp, hash);
                            out.report.errors.push(e.to_string());
                            self.errors.insert(rel, e);
                        }
                    }
                }
            }
        }
        self.render_members(bodies, batch, out);
    }

    /// Hashes and parses one change; skips the parse when the bytes are the ones already
    /// applied and their post is not waiting for its text.
    fn parse(&self, change: Change) -> Parsed {
        let (rel, stamp, content, complete) = match change {
            Change::Gone { rel } => return Parsed::Gone(rel),
            Change::File {
                rel,
                stamp,
                content,
                complete,
            } => (rel, stamp, content, complete),
        };
        // The hash of a file that was not read is 0: its next read is a change.
        let hash = match &content {
            Content::Bytes(bytes) => crate::hash::of(bytes),
            Content::TooLarge(_) | Content::Unreadable(_) => 0,
        };
        let known =
            hash != 0 && self.engine_hash(&rel) == Some(hash) && !self.wanted.contains(&rel);
        let result = (!known).then(|| {
            let post = content.parse(&rel, &self.config)?;
            Ok(post.map(|post| {
                let archives = &self.config.archives;
                let summary = (self.search || (archives.enabled && archives.summaries))
                    .then(|| crate::render::body::summary(&post, &post.body));
                let title = crate::text::feed_title(&post.title);
                let text = match (&summary, self.search) {
                    (Some(summary), true) => crate::query::searchable(&title, summary),
                    _ => Default::default(),
                };
                let brief = archives.enabled.then(|| {
                    let summary = summary.as_deref().filter(|_| archives.summaries);
                    Arc::new(Brief::new(&post, title, summary, &self.site_url))
                });
                (post, crate::index::Kept { text, brief }, summary)
            }))
        });
        Parsed::File {
            rel,
            stamp,
            hash,
            result,
            complete,
        }
    }

    fn engine_hash(&self, rel: &str) -> Option<u128> {
        self.files.get(rel).map(|(_, hash)| *hash)
    }

    fn remember(&mut self, rel: &str, stamp: Stamp, hash: u128) {
        match self.files.get_mut(rel) {
            Some(known) => *known = (stamp, hash),
            None => {
                self.files.insert(rel.to_string(), (stamp, hash));
                for folder in folders_of(rel) {
                    *self.folders.entry(folder.to_string()).or_default() += 1;
                }
            }
        }
    }

    /// Renders, in parallel, the posts of this chunk that are among the newest of some
    /// feed, from the text they were parsed from.
    fn render_members(
        &mut self,
        mut bodies: super::PathMap<Body>,
        batch: &mut Batch,
        out: &mut Output,
    ) {
        // The feeds these posts entered, and which of the posts are among their newest;
        // a post whose bytes were applied before (read again for its text) has no new
        // feeds, so its own are looked at.
        let mut feeds = std::mem::take(&mut batch.chunk_feeds);
        for rel in bodies.keys() {
            if !batch.posts.contains(rel) {
                feeds.extend(
                    self.index
                        .get(rel)
                        .into_iter()
                        .flat_map(crate::index::feeds_of),
                );
                feeds.extend(self.index.customs_of(rel, &self.config));
            }
        }
        let mut members: Vec<Body> = Vec::new();
        for key in &feeds {
            for rel in self.index.newest(key, &self.config) {
                if let Some(member) = bodies.remove(rel) {
                    members.push(member);
                }
            }
        }
        let (site, site_url) = (&self.config.site, &self.site_url);
        let rendered: Vec<(String, super::EntryParts)> = members
            .into_par_iter()
            .map(|(post, body, summary)| {
                let parts = crate::render::site::entry_parts(&post, &body, summary, site, site_url);
                (post.source.clone(), parts)
            })
            .collect();
        out.report.entries_rendered += rendered.len();
        batch
            .rendered
            .extend(rendered.iter().map(|(rel, _)| rel.clone()));
        for (rel, parts) in rendered {
            self.keep_parts(rel, Arc::new(parts));
        }
    }

    /// Publishes future-dated posts whose time has come (they have no text yet: the
    /// feeds they enter ask for it).
    pub(super) fn promote_due(&mut self, now: DateTime<Utc>, batch: &mut Batch) {
        let due: Vec<String> = self
            .waiting
            .values()
            .filter(|(p, _)| Index::is_live(p, &self.config, now))
            .map(|(p, _)| p.source.clone())
            .collect();
        for rel in due {
            if let Some((post, text)) = self.waiting.remove(&rel) {
                batch.feeds.extend(self.index.insert(&post, text));
                batch
                    .feeds
                    .extend(self.index.customs_of(&rel, &self.config));
                batch.posts.insert(rel);
            }
        }
    }

    /// Puts a parsed post (without its body) where it belongs: the index, the waiting
    /// list, or nowhere (unpublished). Gives a live post back, for rendering.
    fn place(
        &mut self,
        post: Post,
        text: crate::index::Kept,
        now: DateTime<Utc>,
        batch: &mut Batch,
    ) -> Option<Post> {
        batch.posts.insert(post.source.clone());
        if !post.published {
            None
        } else if Index::is_live(&post, &self.config, now) {
            let mut feeds = self.index.insert(&post, text);
            feeds.extend(self.index.customs_of(&post.source, &self.config));
            batch.chunk_feeds.extend(feeds.iter().cloned());
            batch.feeds.extend(feeds);
            Some(post)
        } else {
            self.waiting.insert(post.source.clone(), (post, text));
            None
        }
    }

    /// Takes a post out of the index and the waiting list (its file stays known).
    fn unplace(&mut self, rel: &str, batch: &mut Batch) {
        self.moved.extend(self.index.member(rel));
        self.drop_parts(rel);
        self.waiting.remove(rel);
        let mut feeds = self.index.customs_of(rel, &self.config);
        feeds.extend(self.index.remove(rel));
        if !feeds.is_empty() {
            batch.posts.insert(rel.to_string());
            batch.feeds.extend(feeds);
        }
    }

    /// Forgets a post file entirely (deleted, or no longer a post).
    fn forget(&mut self, rel: &str, batch: &mut Batch) {
        self.unplace(rel, batch);
        if self.files.remove(rel).is_some() {
            for folder in folders_of(rel) {
                if let Some(n) = self.folders.get_mut(folder) {
                    *n -= 1;
                    if *n == 0 {
                        self.folders.remove(folder);
                    }
                }
            }
        }
        self.errors.remove(rel);
        self.wanted.remove(rel);
    }
}

/// The folders a path is in, innermost first (`a/b/c.md`: `a/b`, `a`).
fn folders_of(rel: &str) -> impl Iterator<Item = &str> {
    rel.rmatch_indices('/').map(|(i, _)| &rel[..i])
}

/// Errors a writer in the middle of its work can cause; retried when it is done.
fn maybe_half_written(e: &PostError) -> bool {
    matches!(
        e.kind,
        PostErrorKind::UnclosedFrontMatter | PostErrorKind::Yaml(_) | PostErrorKind::InvalidUtf8(_)
    )
}
