//! A full build: find posts (I/O), parse them in parallel, index, and render every feed
//! into an in-memory file set (pure). Writing that set to disk is `publish`'s job.

use std::collections::BTreeMap;
use std::path::Path;

use rayon::prelude::*;

use crate::config::Config;
use crate::error::{BuildError, PostError};
use crate::index::{FeedKey, Index};
use crate::post::{path::is_ignored_name, read_post, Post};
use crate::render::{self, body::RenderedBody, opml, Entry, Format};
use crate::text::feed_title;
use crate::url::SiteUrl;

/// Folders Jekyll excludes by default besides `_`/`.`-prefixed ones.
const EXCLUDED_DIRS: [&str; 4] = ["node_modules", "vendor", "Gemfile", "Gemfile.lock"];

/// The rendered output: relative path under the output dir → bytes.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct SiteOutput {
    pub files: BTreeMap<String, Vec<u8>>,
    /// Feeds (site, categories, tags), each counted once across formats.
    pub feeds: usize,
    /// Distinct posts rendered (each shared by all feeds that carry it).
    pub entries_rendered: usize,
}

/// Lists the relative paths (`/`-separated) of every file that Jekyll would read as a post:
/// files in `_posts/` folders, walking folders the way Jekyll does. Symlinked folders are
/// not followed (no loops, nothing outside the content dir); special files are skipped.
pub fn scan(content_dir: &Path) -> Result<Vec<String>, BuildError> {
    let mut found = Vec::new();
    walk(content_dir, content_dir, false, &mut found).map_err(|source| BuildError::Content {
        path: content_dir.to_path_buf(),
        source,
    })?;
    found.sort();
    Ok(found)
}

fn walk(root: &Path, dir: &Path, in_posts: bool, found: &mut Vec<String>) -> std::io::Result<()> {
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
            } else if !is_ignored_name(name) && !EXCLUDED_DIRS.contains(&name) {
                walk(root, &path, in_posts, found)?;
            }
        } else if in_posts && (kind.is_file() || (kind.is_symlink() && symlink_inside(root, &path)))
        {
            if let Ok(rel) = path.strip_prefix(root) {
                let rel: Vec<&str> = rel.iter().filter_map(|c| c.to_str()).collect();
                let rel = rel.join("/");
                if crate::post::path::classify(&rel).is_some() {
                    found.push(rel);
                }
            }
        }
    }
    Ok(())
}

/// A symlinked post is read only when it points at a regular file inside the content dir.
fn symlink_inside(root: &Path, link: &Path) -> bool {
    match (std::fs::canonicalize(root), std::fs::canonicalize(link)) {
        (Ok(root), Ok(target)) => target.starts_with(root) && target.is_file(),
        _ => false,
    }
}

/// Posts read from disk, and the ones that could not be read.
#[derive(Debug, Default)]
pub struct Loaded {
    pub posts: Vec<Post>,
    pub errors: Vec<PostError>,
}

/// Reads and parses posts on all cores; one bad post never stops the others.
pub fn load(config: &Config, paths: &[String], on_post: &(dyn Fn() + Sync)) -> Loaded {
    let results: Vec<Result<Option<Post>, PostError>> = paths
        .par_iter()
        .map(|rel| {
            let r = read_post(
                &config.content_dir,
                rel,
                &config.rules,
                config.max_post_bytes,
            );
            on_post();
            r
        })
        .collect();
    let mut loaded = Loaded::default();
    for result in results {
        match result {
            Ok(Some(post)) => loaded.posts.push(post),
            Ok(None) => {}
            Err(e) => loaded.errors.push(e),
        }
    }
    loaded
}

/// Renders every feed of the index in every enabled format, plus `feeds.opml`. Pure.
pub fn render_site(index: &Index, config: &Config) -> SiteOutput {
    let site_url = SiteUrl::new(&config.site.url, &config.site.baseurl);
    let used = index.posts_in_feeds();
    // Render each post once; every feed that carries it shares the result.
    let rendered: Vec<(usize, RenderedBody, String, String, String)> = used
        .par_iter()
        .map(|&i| {
            let post = &index.posts[i];
            let link = site_url.absolute(&post.url);
            let id = site_url.absolute(&post.id);
            let body = render::body::render(post, &link);
            (i, body, link, id, feed_title(&post.title))
        })
        .collect();
    let mut slot: Vec<Option<usize>> = vec![None; index.posts.len()];
    for (n, (i, ..)) in rendered.iter().enumerate() {
        slot[*i] = Some(n);
    }
    let formats: Vec<Format> = Format::ALL
        .into_iter()
        .filter(|f| match f {
            Format::Atom => config.formats.atom,
            Format::Rss => config.formats.rss,
            Format::Json => config.formats.json,
        })
        .collect();
    let per_feed: Vec<Vec<(String, Vec<u8>)>> = index
        .feeds
        .par_iter()
        .map(|group| {
            let entries: Vec<Entry<'_>> = group
                .posts
                .iter()
                .filter_map(|&i| slot[i].map(|n| (i, &rendered[n])))
                .map(|(i, (_, body, link, id, title))| {
                    let post = &index.posts[i];
                    Entry {
                        post,
                        body,
                        id: id.clone(),
                        link: link.clone(),
                        title: title.clone(),
                        terms: post
                            .entry_categories
                            .iter()
                            .chain(&post.tags)
                            .map(String::as_str)
                            .collect(),
                    }
                })
                .collect();
            let head = render::head(&config.site, &site_url, group, &entries);
            let dir = group.key.dir();
            formats
                .iter()
                .map(|&format| {
                    let path = if dir.is_empty() {
                        format.file_name().to_string()
                    } else {
                        format!("{dir}/{}", format.file_name())
                    };
                    (path, render::render(format, &head, &entries, &site_url))
                })
                .collect()
        })
        .collect();
    let mut files: BTreeMap<String, Vec<u8>> = per_feed.into_iter().flatten().collect();
    files.insert(
        "feeds.opml".into(),
        render_opml(index, config, &site_url, &formats),
    );
    SiteOutput {
        files,
        feeds: index.feeds.len(),
        entries_rendered: rendered.len(),
    }
}

fn render_opml(index: &Index, config: &Config, site_url: &SiteUrl, formats: &[Format]) -> Vec<u8> {
    let preferred = formats.iter().copied().find(|f| *f != Format::Json);
    let format = preferred
        .or(formats.first().copied())
        .unwrap_or(Format::Atom);
    let kind = if format == Format::Json {
        "json"
    } else {
        "rss"
    };
    let mut groups: Vec<(&str, Vec<opml::Outline>)> = vec![
        ("Site", Vec::new()),
        ("Categories", Vec::new()),
        ("Tags", Vec::new()),
    ];
    for group in &index.feeds {
        let slot = match group.key {
            FeedKey::Site => 0,
            FeedKey::Category(_) => 1,
            FeedKey::Tag(_) => 2,
        };
        let head = render::head(&config.site, site_url, group, &[]);
        groups[slot].1.push(opml::Outline {
            title: head.title.clone(),
            xml_url: head.self_url(format),
            html_url: head.home_url.clone(),
            kind,
        });
    }
    opml::render(&config.site.title, &groups)
}
