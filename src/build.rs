//! A full build: find posts (I/O), parse them in parallel, index, and render every feed,
//! handing each file to a sink as soon as it is ready (the disk publisher, or memory).
//! Nothing holds the whole output: a 100k-post site renders more than a gigabyte.

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::config::Config;
use crate::error::{BuildError, PostError};
use crate::index::{FeedGroup, FeedKey, Index};
use crate::post::{path::is_ignored_name, read_post, Post};
use crate::render::{self, opml, EntryParts, Format};
use crate::snapshot::FeedInfo;
use crate::url::SiteUrl;

/// Folders Jekyll excludes by default besides `_`/`.`-prefixed ones.
const EXCLUDED_DIRS: [&str; 4] = ["node_modules", "vendor", "Gemfile", "Gemfile.lock"];

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

/// Lists the posts below `rel` (a folder relative to the content dir), with the same
/// rules as `scan`: used when a whole folder appears.
pub fn scan_under(content_dir: &Path, rel: &str) -> Vec<String> {
    let parts: Vec<&str> = rel.split('/').filter(|p| !p.is_empty()).collect();
    let posts_at = parts.iter().position(|p| *p == "_posts");
    let walked = |p: &&str| !is_ignored_name(p) && !EXCLUDED_DIRS.contains(p);
    let visible = match posts_at {
        Some(i) => {
            parts[..i].iter().all(walked) && parts[i + 1..].iter().all(|p| !is_ignored_name(p))
        }
        None => parts.iter().all(walked),
    };
    let mut found = Vec::new();
    if visible {
        let _ = walk(
            content_dir,
            &content_dir.join(rel),
            posts_at.is_some(),
            &mut found,
        );
    }
    found.sort();
    found
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
            if let Some(rel) = relative(root, &path) {
                if crate::post::path::classify(&rel).is_some() {
                    found.push(rel);
                }
            }
        }
    }
    Ok(())
}

/// `path` relative to `root`, `/`-separated; `None` if outside or not UTF-8.
pub fn relative(root: &Path, path: &Path) -> Option<String> {
    let rel = path.strip_prefix(root).ok()?;
    let parts: Option<Vec<&str>> = rel.iter().map(|c| c.to_str()).collect();
    Some(parts?.join("/"))
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

/// Reads and parses posts on all cores; one bad post never stops the others. Bodies are
/// dropped (`keep_bodies == false`) so a big site fits in memory; `DiskBodies` reads
/// them back for the posts that end up in a feed.
pub fn load(
    config: &Config,
    paths: &[String],
    keep_bodies: bool,
    on_post: &(dyn Fn() + Sync),
) -> Loaded {
    let results: Vec<Result<Option<Post>, PostError>> = paths
        .par_iter()
        .map(|rel| {
            let mut result = read_post(
                &config.content_dir,
                rel,
                &config.rules,
                config.max_post_bytes,
            );
            if let (Ok(Some(post)), false) = (&mut result, keep_bodies) {
                post.body = String::new();
            }
            on_post();
            result
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

/// Where a post's body comes from when rendering.
pub trait BodySource: Sync {
    fn body<'a>(&self, post: &'a Post) -> Cow<'a, str>;
}

/// Bodies kept in the posts (tests, small sites).
pub struct KeptBodies;

impl BodySource for KeptBodies {
    fn body<'a>(&self, post: &'a Post) -> Cow<'a, str> {
        Cow::Borrowed(&post.body)
    }
}

/// Bodies read back from the content directory (posts loaded without them).
pub struct DiskBodies {
    pub content_dir: PathBuf,
    pub rules: crate::post::PostRules,
}

impl BodySource for DiskBodies {
    fn body<'a>(&self, post: &'a Post) -> Cow<'a, str> {
        if !post.body.is_empty() || post.body_offset >= post.file_len {
            return Cow::Borrowed(&post.body);
        }
        let path = self.content_dir.join(&post.source);
        match std::fs::read_to_string(&path) {
            Ok(text) if text.len() == post.file_len && text.is_char_boundary(post.body_offset) => {
                Cow::Owned(text[post.body_offset..].to_string())
            }
            // Changed since it was parsed: take the body of what is there now.
            Ok(text) => match Post::parse(&post.source, &text, &self.rules) {
                Ok(Some(fresh)) => Cow::Owned(fresh.body),
                _ => Cow::Borrowed(""),
            },
            Err(e) => {
                tracing::warn!("{}: cannot read the body again: {e}", path.display());
                Cow::Borrowed("")
            }
        }
    }
}

/// What a render produced.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RenderStats {
    /// Feeds (site, categories, tags), each counted once across formats.
    pub feeds: usize,
    pub files: usize,
    /// Distinct posts rendered (each shared by all feeds that carry it).
    pub entries_rendered: usize,
}

/// The enabled formats, in a fixed order.
pub fn formats(config: &Config) -> Vec<Format> {
    Format::ALL
        .into_iter()
        .filter(|f| match f {
            Format::Atom => config.formats.atom,
            Format::Rss => config.formats.rss,
            Format::Json => config.formats.json,
        })
        .collect()
}

/// Rendered entries by source path, shared by every feed that carries them.
pub type Parts = std::collections::HashMap<String, std::sync::Arc<EntryParts>>;

/// Renders one entry (reads its body from `bodies`).
pub fn render_entry(post: &Post, config: &Config, bodies: &dyn BodySource) -> EntryParts {
    let site_url = SiteUrl::new(&config.site.url, &config.site.baseurl);
    let link = site_url.absolute(&post.url);
    let body = render::body::render(post, &bodies.body(post), &link);
    EntryParts::new(&render::entry(post, &body, &config.site, &site_url))
}

/// Renders, in parallel, each post of `groups` that `parts` does not have yet.
pub fn render_missing(
    index: &Index,
    groups: &[FeedGroup],
    config: &Config,
    bodies: &dyn BodySource,
    parts: &mut Parts,
) {
    let mut wanted: Vec<&str> = groups
        .iter()
        .flat_map(|g| g.posts.iter().map(String::as_str))
        .filter(|s| !parts.contains_key(*s))
        .collect();
    wanted.sort_unstable();
    wanted.dedup();
    let rendered: Vec<(String, EntryParts)> = wanted
        .par_iter()
        .filter_map(|s| index.get(s))
        .map(|post| (post.source.clone(), render_entry(post, config, bodies)))
        .collect();
    parts.extend(
        rendered
            .into_iter()
            .map(|(s, p)| (s, std::sync::Arc::new(p))),
    );
}

/// The relative path of a feed file.
pub fn feed_path(key: &FeedKey, format: Format) -> String {
    let dir = key.dir();
    if dir.is_empty() {
        format.file_name().to_string()
    } else {
        format!("{dir}/{}", format.file_name())
    }
}

/// The index-page and OPML description of a feed.
pub fn feed_info(
    group: &FeedGroup,
    entries: &[&EntryParts],
    config: &Config,
    site_url: &SiteUrl,
) -> FeedInfo {
    let head = render::head(&config.site, site_url, group, entries);
    FeedInfo {
        kind: match group.key {
            FeedKey::Site => "site",
            FeedKey::Category(_) => "category",
            FeedKey::Tag(_) => "tag",
        },
        label: group.label.clone(),
        path: match group.key.url_dir().as_str() {
            "" => "/".to_string(),
            dir => format!("/{dir}/"),
        },
        posts: group.total,
        updated: if entries.is_empty() {
            String::new()
        } else {
            render::rfc3339(&head.updated)
        },
        title: head.title,
        base_url: head.base_url,
        home_url: head.home_url,
    }
}

/// Renders `groups` in every enabled format, handing each file to `sink` (called from
/// several threads). Every entry must be in `parts` (see `render_missing`). Returns each
/// group's `FeedInfo`, in the order of `groups`. Pure apart from the sink.
pub fn render_feeds(
    groups: &[FeedGroup],
    config: &Config,
    parts: &Parts,
    sink: &(dyn Fn(String, &[u8]) + Sync),
) -> Vec<FeedInfo> {
    let site_url = SiteUrl::new(&config.site.url, &config.site.baseurl);
    let formats = formats(config);
    groups
        .par_iter()
        .map_init(Vec::new, |buf, group| {
            let entries: Vec<&EntryParts> = group
                .posts
                .iter()
                .filter_map(|s| parts.get(s).map(|p| &**p))
                .collect();
            let head = render::head(&config.site, &site_url, group, &entries);
            for &format in &formats {
                render::render(format, &head, &entries, buf);
                sink(feed_path(&group.key, format), buf);
            }
            feed_info(group, &entries, config, &site_url)
        })
        .collect()
}

/// A full render: every feed of the index and `feeds.opml`, handed to `sink`.
pub fn render_site(
    index: &Index,
    config: &Config,
    bodies: &dyn BodySource,
    sink: &(dyn Fn(String, &[u8]) + Sync),
) -> RenderStats {
    let groups = index.feeds(config);
    let mut parts = Parts::new();
    render_missing(index, &groups, config, bodies, &mut parts);
    let infos = render_feeds(&groups, config, &parts, sink);
    sink("feeds.opml".into(), &render_opml(&infos, config));
    RenderStats {
        feeds: groups.len(),
        files: groups.len() * formats(config).len() + 1,
        entries_rendered: parts.len(),
    }
}

/// The OPML list of the feeds, grouped by kind.
pub fn render_opml<'a>(infos: impl IntoIterator<Item = &'a FeedInfo>, config: &Config) -> Vec<u8> {
    let formats = formats(config);
    let preferred = formats.iter().copied().find(|f| *f != Format::Json);
    let format = preferred
        .or(formats.first().copied())
        .unwrap_or(Format::Atom);
    let kind = if format == Format::Json {
        "json"
    } else {
        "rss"
    };
    let mut sections: Vec<(&str, Vec<opml::Outline>)> = vec![
        ("Site", Vec::new()),
        ("Categories", Vec::new()),
        ("Tags", Vec::new()),
    ];
    for info in infos {
        let slot = match info.kind {
            "site" => 0,
            "category" => 1,
            _ => 2,
        };
        sections[slot].1.push(opml::Outline {
            title: info.title.clone(),
            xml_url: format!("{}{}", info.base_url, format.file_name()),
            html_url: info.home_url.clone(),
            kind,
        });
    }
    opml::render(&config.site.title, &sections)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_post_deleted_between_listing_and_reading_is_reported_not_fatal() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("content/_posts")).unwrap();
        std::fs::write(dir.path().join("content/_posts/2023-01-01-kept.md"), "kept").unwrap();
        let config = Config::parse("", dir.path()).unwrap();
        let mut paths = scan(&config.content_dir).unwrap();
        paths.push("_posts/2023-01-02-gone.md".to_string());
        let loaded = load(&config, &paths, true, &|| {});
        assert_eq!(loaded.posts.len(), 1);
        assert_eq!(loaded.errors.len(), 1);
        assert!(
            loaded.errors[0]
                .to_string()
                .contains("2023-01-02-gone.md:1: cannot read"),
            "{}",
            loaded.errors[0]
        );
    }
}
