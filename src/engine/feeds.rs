//! The feed side of `apply`: which feeds changed, rendering them (in parallel, from the
//! shared entry parts), publishing only files whose bytes changed, and the feed-change
//! events that say so.

use std::collections::BTreeSet;
use std::sync::Arc;

use rayon::prelude::*;

use super::posts::Batch;
use super::{Engine, FeedChange, FeedChangeKind, Output, Sink};
use crate::index::FeedGroup;
use crate::layout::{FeedKey, FeedKind, Format, ASSETS, NOT_FOUND_FILE, OPML_FILE, PAGE_FILE};
use crate::render::site::{feed_info, opml, FeedInfo};
use crate::render::{page, EntryParts};

/// One feed rendered: its new description, the formats whose bytes changed, and its
/// page's bytes if they changed.
struct Rendered {
    key: FeedKey,
    info: FeedInfo,
    changed: Vec<(Format, usize, u128)>,
    page: Option<(usize, u128)>,
}

impl Engine {
    pub(super) fn finish(&mut self, batch: Batch, sink: &dyn Sink, out: &mut Output) {
        let mut keys = std::mem::take(&mut self.pending_feeds);
        keys.extend(batch.feeds);
        // The site feed exists even for a site without posts.
        // So do named custom feeds, even while nothing matches.
        let always = std::iter::once(FeedKey::Site)
            .chain((self.config.custom.iter()).map(|c| FeedKey::Custom(c.name.clone())));
        for key in always {
            if !self.groups.contains_key(&key) {
                keys.insert(key);
            }
        }
        let mut changed = std::mem::take(&mut self.pending_posts);
        changed.extend(batch.posts);
        out.report.posts_changed = changed.len();
        self.log_changes(&changed);
        let new: Vec<(FeedKey, Option<FeedGroup>)> = keys
            .iter()
            .map(|k| (k.clone(), self.index.feed(k, &self.config)))
            .collect();
        // Every entry of every feed to render must be rendered; otherwise ask for texts.
        let missing: BTreeSet<String> = new
            .iter()
            .filter_map(|(_, g)| g.as_ref())
            .flat_map(|g| &g.posts)
            .filter(|s| !self.parts.contains_key(*s))
            .cloned()
            .collect();
        if !missing.is_empty() {
            self.wanted.extend(missing.iter().cloned());
            out.reread = missing.into_iter().collect();
            self.pending_feeds = keys;
            self.pending_posts = changed;
            return;
        }
        let mut archived = self.update_archives(&new, &changed, sink, out);
        let formats = self.config.formats.clone();
        // Pages whose reader figures changed: rendered whatever else did.
        let restyled = std::mem::take(&mut self.pages_due);
        let mut to_render = Vec::new();
        let mut feed_set_changed = false;
        let mut dropped: Vec<String> = Vec::new();
        for (key, group) in new {
            let old = self.groups.get(&key);
            match group {
                None => {
                    if let Some(old) = self.groups.remove(&key) {
                        self.infos.remove(&key);
                        dropped.extend(old.posts.iter().cloned());
                        feed_set_changed = true;
                        let files = formats.iter().map(|f| key.file(*f));
                        for rel in files.chain([key.page_file()]) {
                            if self.published.remove(&rel).is_some() {
                                out.removed.push(rel);
                            }
                        }
                        let archives = archived.files.remove(&key).unwrap_or_default();
                        out.feed_changes.push(FeedChange {
                            key,
                            kind: FeedChangeKind::Removed,
                            formats: formats.clone(),
                            entered: Vec::new(),
                            left: old.posts,
                            changed: Vec::new(),
                            archives,
                        });
                    }
                }
                Some(group) => {
                    let same =
                        old.is_some_and(|o| o.posts == group.posts && o.label == group.label);
                    feed_set_changed |= old.is_none_or(|o| o.label != group.label);
                    // A page shows the post count; a feed does not.
                    let recount =
                        self.config.pages.enabled && old.is_some_and(|o| o.total != group.total);
                    let touched = group.posts.iter().any(|s| changed.contains(s));
                    let relinked = archived.newest_moved.contains(&key);
                    if !same || recount || touched || relinked || restyled.contains(&key) {
                        to_render.push(group);
                    } else if let Some(info) = self.infos.get(&key) {
                        // Same entries, maybe a new post count (the index page shows it).
                        if info.posts != group.total {
                            let info = FeedInfo {
                                posts: group.total,
                                ..(**info).clone()
                            };
                            self.infos.insert(key.clone(), Arc::new(info));
                        }
                        self.groups.insert(key, group);
                    }
                }
            }
        }
        out.report.feeds_rendered = to_render.len();
        // Posts that were in a re-rendered or removed feed may be in none now.
        let mut left: BTreeSet<String> = BTreeSet::new();
        let rendered = self.render(&to_render, &formats, sink);
        for (group, done) in to_render.into_iter().zip(rendered) {
            let old = self.groups.insert(done.key.clone(), group);
            if let Some(old) = &old {
                left.extend(old.posts.iter().cloned());
            }
            self.infos.insert(done.key.clone(), Arc::new(done.info));
            if let Some(print) = done.page {
                let rel = done.key.page_file();
                self.published.insert(rel.clone(), print);
                out.published.push(rel);
            }
            if done.changed.is_empty() {
                continue;
            }
            let group = &self.groups[&done.key];
            let (kind, old_posts) = match &old {
                None => (FeedChangeKind::Added, &[][..]),
                Some(o) => (FeedChangeKind::Updated, &o.posts[..]),
            };
            let mut change = FeedChange {
                key: done.key.clone(),
                kind,
                formats: Vec::new(),
                entered: group
                    .posts
                    .iter()
                    .filter(|s| !old_posts.contains(s))
                    .cloned()
                    .collect(),
                left: old_posts
                    .iter()
                    .filter(|s| !group.posts.contains(s))
                    .cloned()
                    .collect(),
                changed: group
                    .posts
                    .iter()
                    .filter(|s| old_posts.contains(s) && changed.contains(*s))
                    .cloned()
                    .collect(),
                archives: archived.files.remove(&done.key).unwrap_or_default(),
            };
            for (format, len, hash) in done.changed {
                let rel = done.key.file(format);
                self.published.insert(rel.clone(), (len, hash));
                out.published.push(rel);
                change.formats.push(format);
            }
            out.feed_changes.push(change);
        }
        // Feeds whose archives alone changed (an old post edited, back-dated or deleted).
        for (key, archives) in archived.files {
            out.feed_changes.push(FeedChange {
                key,
                kind: FeedChangeKind::Updated,
                formats: Vec::new(),
                entered: Vec::new(),
                left: Vec::new(),
                changed: Vec::new(),
                archives,
            });
        }
        let opml_due = feed_set_changed || !self.published.contains_key(OPML_FILE);
        let pages_due = self.config.pages.enabled
            && (!keys.is_empty() || !self.published.contains_key(PAGE_FILE));
        if opml_due || pages_due {
            let config = self.config.clone();
            let shell = config.pages.enabled.then(|| page::Shell::new(&config));
            self.listing.update(&self.infos, shell.as_ref(), &formats);
        }
        if opml_due {
            let lines = self.listing.outlines(&self.infos);
            let bytes = opml(lines, &self.config.site.title);
            self.publish_if_changed(OPML_FILE, bytes, sink, out);
        }
        if pages_due {
            let kinds: BTreeSet<FeedKind> = keys.iter().map(FeedKey::kind).collect();
            self.publish_pages(&kinds, sink, out);
        }
        // Rendered entries that are in no feed now: rendered in an earlier chunk and pushed
        // out by a later one, or left the feeds that were rendered again or removed. Every
        // feed such a post is in was affected, so the new groups decide.
        if !batch.rendered.is_empty() {
            let shown: BTreeSet<&str> = keys
                .iter()
                .filter_map(|k| self.groups.get(k))
                .flat_map(|g| g.posts.iter().map(String::as_str))
                .collect();
            let unshown: Vec<String> = (batch.rendered.into_iter())
                .filter(|rel| !shown.contains(rel.as_str()))
                .collect();
            for rel in unshown {
                self.drop_parts(&rel);
            }
        }
        left.extend(dropped);
        for rel in left {
            if !self.index.is_shown(&rel, &self.config) {
                self.drop_parts(&rel);
            }
        }
    }

    /// Renders feeds in every format on all cores; only changed files go to the sink.
    fn render(&self, groups: &[FeedGroup], formats: &[Format], sink: &dyn Sink) -> Vec<Rendered> {
        let (site, site_url) = (&self.config.site, &self.site_url);
        let shell = page::Shell::new(&self.config);
        groups
            .par_iter()
            .map(|group| {
                let entries: Vec<&EntryParts> = group
                    .posts
                    .iter()
                    .filter_map(|s| self.parts.get(s).map(|p| &**p))
                    .collect();
                let mut head = crate::render::head(site, &self.hubs, site_url, group, &entries);
                head.history.prev = self.newest_archive(&group.key);
                let mut changed = Vec::new();
                for &format in formats {
                    let mut buf = Vec::new();
                    crate::render::render(format, &head, &entries, &mut buf);
                    let print = (buf.len(), crate::hash::of(&buf));
                    let rel = group.key.file(format);
                    if self.published.get(&rel) != Some(&print) {
                        sink.file(&rel, buf);
                        changed.push((format, print.0, print.1));
                    }
                }
                let page = (self.config.pages.enabled && group.key != FeedKey::Site)
                    .then(|| {
                        let related =
                            self.index
                                .related(&group.posts, &group.key, &self.config, 12);
                        let readers = self.readers.get(&group.key).map(|r| &**r);
                        let buf =
                            page::feed_page(&shell, &head, group, (&entries, &related), readers);
                        let print = (buf.len(), crate::hash::of(&buf));
                        let rel = group.key.page_file();
                        let changed = self.published.get(&rel) != Some(&print);
                        if changed {
                            sink.file(&rel, buf);
                        }
                        changed.then_some(print)
                    })
                    .flatten();
                Rendered {
                    key: group.key.clone(),
                    info: feed_info(group, &entries, site, site_url),
                    changed,
                    page,
                }
            })
            .collect()
    }

    /// The index page, the list of each kind whose feeds changed (`kinds`), the 404 page
    /// and the pages' assets (each published only if its bytes changed). The two lists
    /// and the index are rendered in parallel: at thousands of feeds they are most of a
    /// change's rendering.
    fn publish_pages(&mut self, kinds: &BTreeSet<FeedKind>, sink: &dyn Sink, out: &mut Output) {
        let shell = page::Shell::new(&self.config);
        let listed = self.listing.listed();
        let index = || {
            let group = self.groups.get(&FeedKey::Site)?;
            let entries: Vec<&EntryParts> = (group.posts.iter())
                .filter_map(|s| self.parts.get(s).map(|p| &**p))
                .collect();
            let mut head = crate::render::head(
                &self.config.site,
                &self.hubs,
                &self.site_url,
                group,
                &entries,
            );
            head.history.prev = self.newest_archive(&FeedKey::Site);
            let readers = self.readers.get(&FeedKey::Site).map(|r| &**r);
            let bytes = page::index(&shell, &head, group, (&entries, &listed), readers);
            Some((PAGE_FILE.to_string(), bytes))
        };
        let list = |kind: FeedKind| {
            let rel = kind.list_file()?;
            let wanted = kinds.contains(&kind) || !self.published.contains_key(&rel);
            let has = listed.has(kind);
            Some((
                rel,
                (wanted && has).then(|| page::list(&shell, kind, &listed)),
                has,
            ))
        };
        let (index, ((categories, tags), custom)) = rayon::join(index, || {
            rayon::join(
                || rayon::join(|| list(FeedKind::Category), || list(FeedKind::Tag)),
                || list(FeedKind::Custom),
            )
        });
        let mut files: Vec<(String, Vec<u8>)> = index.into_iter().collect();
        for (rel, bytes, has) in [categories, tags, custom].into_iter().flatten() {
            match bytes {
                Some(bytes) => files.push((rel, bytes)),
                None if !has && self.published.remove(&rel).is_some() => out.removed.push(rel),
                None => {}
            }
        }
        files.push((NOT_FOUND_FILE.to_string(), page::not_found(&shell)));
        files.push((ASSETS[0].0.to_string(), page::CSS.as_bytes().to_vec()));
        files.push((ASSETS[1].0.to_string(), page::JS.as_bytes().to_vec()));
        for (rel, bytes) in files {
            self.publish_if_changed(&rel, bytes, sink, out);
        }
    }

    fn publish_if_changed(&mut self, rel: &str, bytes: Vec<u8>, sink: &dyn Sink, out: &mut Output) {
        let print = (bytes.len(), crate::hash::of(&bytes));
        if self.published.get(rel) != Some(&print) {
            self.published.insert(rel.to_string(), print);
            out.published.push(rel.to_string());
            sink.file(rel, bytes);
        }
    }
}
