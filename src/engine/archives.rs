//! The archive side of `apply` (RFC 5005, cut by `crate::archive`): for each feed whose
//! posts changed, the pages whose posts, neighbours or title changed, or that hold a
//! changed post, are rendered again; pages that no longer exist are removed. Only
//! those files are published, and the feed-change events list them.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use rayon::prelude::*;
use xxhash_rust::xxh3::Xxh3;

use super::{Engine, Output, Sink};
use crate::archive::{cut, Page};
use crate::index::{FeedGroup, Member};
use crate::layout::FeedKey;
use crate::render::archive::Brief;
use crate::render::{page, History};

/// One published archive document: its name, its oldest post, and a print of all it
/// shows but its posts' own values (a changed post is rendered again anyway).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Sig {
    name: Box<str>,
    first: Member,
    print: u64,
}

/// One feed's archive as published.
#[derive(Debug, Clone, Default)]
pub(super) struct Archive {
    /// What the pages' heads show of the feed (a new title renders every page again).
    title: String,
    /// Its newest archived post, where the subscription document's posts end.
    newest: Option<Member>,
    /// Oldest first.
    pages: Vec<Sig>,
}

/// How many of a feed's published pages stay as they are: those before the page that
/// holds the oldest change (a changed post's new or old place, or where the archive
/// ends, then or now). That page starts at a post older than the change, so it is still
/// there and still starts a page: the cut is content-defined and made oldest first, so
/// the pages before it, where they end and how they are named, depend only on older
/// posts, and cutting again from its first post gives every later page as a cut of all
/// would. 0: cut it all (a new title, a custom feed, a change in the first page).
fn kept(
    key: &FeedKey,
    old: &Archive,
    title: &str,
    newest: Option<&Member>,
    dirty: &[Member],
) -> usize {
    if old.title != title || matches!(key, FeedKey::Custom(_)) {
        return 0;
    }
    // In feed order the oldest is the greatest.
    let edges = [old.newest.as_ref(), newest].into_iter().flatten();
    let Some(oldest) = dirty.last().into_iter().chain(edges).max() else {
        return 0;
    };
    // Pages whose first post is older than the oldest change; the last of them holds it
    // (a change at a page's first post is held by the page before).
    let older = old.pages.partition_point(|p| p.first > *oldest);
    older.saturating_sub(1)
}

/// An archive document to render.
struct Job<'a> {
    group: &'a FeedGroup,
    page: Page<'a>,
    prev: Option<String>,
    next: Option<String>,
}

/// What to do to one feed's archives.
struct Plan<'a> {
    key: FeedKey,
    /// `None`: the feed is gone.
    new: Option<Update>,
    gone: Vec<Box<str>>,
    jobs: Vec<Job<'a>>,
}

/// A feed's archive after a change: its first `keep` pages stay, the rest are `tail`.
/// Applied in place (`Archive::update`), so a change costs the pages it cuts again, not
/// a copy of a 2,000-page site feed's list.
struct Update {
    title: String,
    newest: Option<Member>,
    keep: usize,
    tail: Vec<Sig>,
}

impl Archive {
    fn update(&mut self, update: Update) {
        self.title = update.title;
        self.newest = update.newest;
        self.pages.truncate(update.keep);
        self.pages.extend(update.tail);
    }

    fn newest_page(&self) -> Option<&str> {
        self.pages.last().map(|s| &*s.name)
    }
}

/// One rendered archive document, owned: its feed, folder, whether it is complete, and
/// its changed files (path, length, hash).
type Done = (FeedKey, String, bool, Vec<(String, usize, u128)>);

/// What `update_archives` did to the feeds' archives.
#[derive(Default)]
pub(super) struct Archived {
    /// Feeds whose newest archive document is another (or none, or a first): their
    /// subscription documents link to it.
    pub newest_moved: BTreeSet<FeedKey>,
    /// Archive files published or removed, by feed.
    pub files: BTreeMap<FeedKey, Vec<String>>,
}

impl Engine {
    /// Brings the archive documents of these feeds (their new groups; `None`: gone) up to
    /// date.
    pub(super) fn update_archives(
        &mut self,
        feeds: &[(FeedKey, Option<FeedGroup>)],
        changed: &BTreeSet<String>,
        sink: &dyn Sink,
        out: &mut Output,
    ) -> Archived {
        let mut done = Archived::default();
        let moved = std::mem::take(&mut self.moved);
        if !self.config.archives.enabled {
            return done;
        }
        // Changed posts still live, in feed order: a page holds one if one falls within
        // its first and last (a fresh build changes every post; found by binary search).
        let mut dirty: Vec<Member> = (changed.iter())
            .filter_map(|s| self.index.member(s))
            .chain(moved)
            .collect();
        dirty.sort_unstable();
        dirty.dedup();
        let plans: Vec<Plan<'_>> = (feeds.par_iter())
            .map(|(key, group)| self.plan(key, group.as_ref(), &dirty))
            .collect();
        let jobs: Vec<&Job<'_>> = plans.iter().flat_map(|p| &p.jobs).collect();
        let rendered: Vec<Done> = self.render_archives(&jobs, sink);
        let plans: Vec<(FeedKey, Option<Update>, Vec<Box<str>>)> = (plans.into_iter())
            .map(|p| (p.key, p.new, p.gone))
            .collect();
        for (key, new, gone) in plans {
            let before: Option<Box<str>> =
                (self.archives.get(&key)).and_then(|a| a.newest_page().map(Box::from));
            for name in gone {
                let files = self.unpublish_archive(&key, &name, out);
                done.files.entry(key.clone()).or_default().extend(files);
            }
            let after = match new {
                Some(update) => {
                    let archive = self.archives.entry(key.clone()).or_default();
                    archive.update(update);
                    let after = archive.newest_page().map(Box::from);
                    if archive.pages.is_empty() && archive.newest.is_none() {
                        self.archives.remove(&key);
                    }
                    after
                }
                None => {
                    self.archives.remove(&key);
                    None
                }
            };
            if before != after {
                done.newest_moved.insert(key.clone());
            }
        }
        for (key, dir, sealed, files) in rendered {
            match sealed {
                true => self.sealed.insert(dir),
                false => self.sealed.remove(&dir),
            };
            for (rel, len, hash) in files {
                self.published.insert(rel.clone(), (len, hash));
                out.published.push(rel.clone());
                done.files.entry(key.clone()).or_default().push(rel);
            }
        }
        done
    }

    /// One feed's pages now, against those published: which to render, which are gone.
    /// Only the pages from just before the oldest change are cut again (`kept`).
    fn plan<'a>(
        &'a self,
        key: &FeedKey,
        group: Option<&'a FeedGroup>,
        dirty: &[Member],
    ) -> Plan<'a> {
        let old = self.archives.get(key);
        let old_pages = old.map_or(&[][..], |o| &o.pages[..]);
        let Some(group) = group else {
            let gone = old_pages.iter().map(|o| o.name.clone()).collect();
            return Plan {
                key: key.clone(),
                new: None,
                gone,
                jobs: Vec::new(),
            };
        };
        let title = format!("{:?}", (&group.label, &group.title));
        let newest = self.index.newest_archived(key, &self.config);
        let keep = old.map_or(0, |old| kept(key, old, &title, newest.as_ref(), dirty));
        let posts = match keep {
            0 => self.index.archived(key, &self.config),
            j => (self.index).archived_from(key, &self.config, &old_pages[j].first),
        };
        let pages = cut(posts, self.config.archives.page_size, keep > 0);
        // The names around the pages cut again: the last kept page's, then theirs.
        let base = keep.saturating_sub(1);
        let names: Vec<String> = (old_pages[base..keep].iter().map(|o| o.name.to_string()))
            .chain(pages.iter().map(|p| p.name.clone()))
            .collect();
        let around = |i: usize| {
            let prev = (i.checked_sub(1)).map(|i| names[i - base].clone());
            (prev, names.get(i + 1 - base).cloned())
        };
        let tail: Vec<Sig> = (pages.iter().enumerate())
            .filter_map(|(i, page)| {
                let mut h = Xxh3::new();
                h.update(title.as_bytes());
                h.update(&page.print.to_le_bytes());
                h.update(&(page.posts.len() as u64).to_le_bytes());
                h.update(format!("{:?}", around(keep + i)).as_bytes());
                Some(Sig {
                    name: page.name.as_str().into(),
                    first: self.index.member(page.posts.first()?)?,
                    print: h.digest(),
                })
            })
            .collect();
        let olds: HashMap<&str, u64> = (old_pages[keep..].iter())
            .map(|o| (&*o.name, o.print))
            .collect();
        let news: HashSet<&str> = tail.iter().map(|n| &*n.name).collect();
        let gone = (old_pages[keep..].iter())
            .filter(|o| !news.contains(&*o.name))
            .map(|o| o.name.clone())
            .collect();
        let mut jobs = Vec::new();
        for (i, (page, sig)) in pages.into_iter().zip(&tail).enumerate() {
            let same = olds.get(&*sig.name) == Some(&sig.print);
            // A page is a range of the feed's order: it holds a changed post (still
            // there) if one falls within its first and last.
            let touched = (page.posts.last())
                .and_then(|last| self.index.member(last))
                .is_some_and(|last| {
                    let at = dirty.partition_point(|m| *m < last);
                    dirty.get(at).is_some_and(|m| *m <= sig.first)
                });
            if !same || touched {
                let (prev, next) = around(keep + i);
                jobs.push(Job {
                    group,
                    page,
                    prev,
                    next,
                });
            }
        }
        Plan {
            key: key.clone(),
            new: Some(Update {
                title,
                newest,
                keep,
                tail,
            }),
            gone,
            jobs,
        }
    }

    fn unpublish_archive(&mut self, key: &FeedKey, name: &str, out: &mut Output) -> Vec<String> {
        let dir = key.archive_dir(name);
        self.sealed.remove(&dir);
        let mut files = Vec::new();
        let names = (self.config.formats.iter().map(|f| f.file_name())).chain(
            self.config
                .pages
                .enabled
                .then_some(crate::layout::PAGE_FILE),
        );
        for name in names {
            let rel = format!("{dir}/{name}");
            if self.published.remove(&rel).is_some() {
                out.removed.push(rel.clone());
                files.push(rel);
            }
        }
        files
    }

    /// Renders the pages in every format on all cores; only changed files go to the
    /// sink. Gives each job's changed files (path, length, hash).
    fn render_archives(&self, jobs: &[&Job<'_>], sink: &dyn Sink) -> Vec<Done> {
        let (site, site_url) = (&self.config.site, &self.site_url);
        let shell = page::Shell::new(&self.config);
        jobs.par_iter()
            .map(|job| {
                let key = &job.group.key;
                let briefs: Vec<Arc<Brief>> = (job.page.posts.iter().rev())
                    .filter_map(|s| self.index.get(s)?.brief.clone())
                    .collect();
                let folder = |name: &str| site_url.join(&key.archive_url_path(name));
                let mut head = crate::render::head(site, &[], site_url, job.group, &[]);
                head.base_url = folder(&job.page.name);
                if let Some(updated) = briefs.iter().map(|b| b.updated).max() {
                    head.updated = updated;
                }
                head.media = briefs.iter().any(|b| b.image.is_some());
                head.history = History {
                    prev: job.prev.as_deref().map(folder),
                    next: job.next.as_deref().map(folder),
                    current: Some(site_url.join(&key.url_path())),
                };
                let dir = key.archive_dir(&job.page.name);
                let mut changed = Vec::new();
                if self.config.pages.enabled {
                    let path = |name: &str| shell.href(&key.archive_url_path(name));
                    let around = page::Around {
                        feed: shell.href(&key.url_path()),
                        newer: job.next.as_deref().map(path),
                        older: job.prev.as_deref().map(path),
                    };
                    let buf = page::archive_page(&shell, &head, &around, &briefs);
                    let print = (buf.len(), crate::hash::of(&buf));
                    let rel = format!("{dir}/{}", crate::layout::PAGE_FILE);
                    if self.published.get(&rel) != Some(&print) {
                        sink.file(&rel, buf);
                        changed.push((rel, print.0, print.1));
                    }
                }
                for &format in &self.config.formats {
                    let mut buf = Vec::new();
                    crate::render::archive::render(format, &head, &briefs, &mut buf);
                    let print = (buf.len(), crate::hash::of(&buf));
                    let rel = format!("{dir}/{}", format.file_name());
                    // A page that became complete, or the newest again, is published
                    // even when its bytes are the same (a JSON Feed page links only to
                    // older ones): what it is served with changed.
                    let retagged = self.sealed.contains(&dir) != job.next.is_some();
                    if retagged || self.published.get(&rel) != Some(&print) {
                        sink.file(&rel, buf);
                        changed.push((rel, print.0, print.1));
                    }
                }
                (key.clone(), dir, job.next.is_some(), changed)
            })
            .collect()
    }

    /// The folder URL of a feed's newest archive document, if it has one.
    pub(super) fn newest_archive(&self, key: &FeedKey) -> Option<String> {
        let newest = self.archives.get(key)?.pages.last()?;
        Some(self.site_url.join(&key.archive_url_path(&newest.name)))
    }

    /// Whether a published file is a complete archive document: one with a newer one
    /// after it, which changes only if one of its own posts does (served `immutable`).
    /// (Only its feed files: its page for people shares the site's look, which changes.)
    pub fn is_sealed(&self, rel: &str) -> bool {
        rel.rsplit_once('/').is_some_and(|(dir, file)| {
            self.sealed.contains(dir) && crate::layout::Format::from_file_name(file).is_some()
        })
    }
}
