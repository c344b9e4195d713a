//! The site's own category and tag pages: Jekyll pages (outside `_posts`, `_site` and
//! other `_`/`.` folders) whose front matter names a `category:` or `tag:`. Their `title`
//! is that term's display title and their URL the feed's alternate link, so a category
//! feed points readers at the site's category page and is called what the site calls it.
//! `parse` is pure; `find` walks the content dir.

use std::path::Path;

use crate::layout::FeedKind;
use crate::yaml::Yaml;

/// One page that is about a term.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TermPage {
    pub kind: FeedKind,
    pub name: String,
    pub title: Option<String>,
    /// Site-relative URL path of the page, below `baseurl` (`/category/emnews.html`).
    pub url: String,
}

/// Pages larger than this are not term pages (they are read whole).
const MAX_PAGE_BYTES: u64 = 1 << 20;

/// The term page in a file, if it is one; `rel` is its path under the content dir.
pub fn parse(rel: &str, text: &str) -> Option<TermPage> {
    let split = crate::post::fence::split(text.strip_prefix('\u{feff}').unwrap_or(text)).ok()?;
    let yaml = Yaml::parse(split.yaml?).ok()?;
    let text_of = |key: &str| {
        yaml.get(key)
            .and_then(Yaml::as_text)
            .filter(|t| !t.is_empty())
    };
    let (kind, name) = match (text_of("category"), text_of("tag")) {
        (Some(name), _) => (FeedKind::Category, name),
        (None, Some(name)) => (FeedKind::Tag, name),
        _ => return None,
    };
    // Placeholders (`:basename`, …) are Jekyll's to fill in; the default URL is then
    // the best guess that is never broken.
    let url = match text_of("permalink").filter(|p| !p.contains(':')) {
        Some(permalink) => format!("/{}", permalink.trim_start_matches('/')),
        None => default_url(rel),
    };
    Some(TermPage {
        kind,
        name,
        title: text_of("title"),
        url: crate::url::normalize(&url),
    })
}

/// Jekyll's URL for a page without a permalink: its path, Markdown becoming `.html`, an
/// `index.html` its folder.
fn default_url(rel: &str) -> String {
    let html = match rel.rsplit_once('.') {
        Some((stem, "md" | "markdown")) => format!("{stem}.html"),
        _ => rel.to_string(),
    };
    let path = html.strip_suffix("index.html").unwrap_or(&html);
    format!("/{path}")
}

/// Every term page under `dir` (unreadable files and folders are skipped: these pages
/// only name things).
pub fn find(dir: &Path) -> Vec<TermPage> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(folder) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&folder) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with(['_', '.']) || name == "node_modules" || name == "vendor" {
                continue;
            }
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            let path = entry.path();
            if kind.is_dir() {
                stack.push(path);
            } else if kind.is_file()
                && [".html", ".md", ".markdown"]
                    .iter()
                    .any(|e| name.ends_with(e))
            {
                let small = entry.metadata().is_ok_and(|m| m.len() <= MAX_PAGE_BYTES);
                let rel = crate::content::relative(dir, &path);
                if let (true, Some(rel), Ok(text)) = (small, rel, std::fs::read_to_string(&path)) {
                    found.extend(parse(&rel, &text));
                }
            }
        }
    }
    found.sort_by(|a, b| a.url.cmp(&b.url));
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn term_pages_name_their_term_title_and_url() {
        let page = |rel: &str, text: &str| parse(rel, text);
        assert_eq!(
            page(
                "category/emnews.html",
                "---\nlayout: category\ntitle: Emnews\ncategory: emnews\n---\n"
            ),
            Some(TermPage {
                kind: FeedKind::Category,
                name: "emnews".into(),
                title: Some("Emnews".into()),
                url: "/category/emnews.html".into(),
            })
        );
        let tag = page(
            "tags/滚动.md",
            "---\ntag: 滚动新闻\npermalink: /t/滚动/\n---\nbody",
        )
        .unwrap();
        assert_eq!(
            (tag.kind, tag.title, tag.url.as_str()),
            (FeedKind::Tag, None, "/t/%E6%BB%9A%E5%8A%A8/")
        );
        assert_eq!(
            page("c/index.md", "---\ncategory: x\n---\n").unwrap().url,
            "/c/"
        );
        assert_eq!(page("about.md", "---\ntitle: About\n---\n"), None);
        assert_eq!(page("plain.html", "<p>no front matter</p>"), None);
        assert_eq!(page("bad.md", "---\ncategory: [unclosed\n---\n"), None);
    }
}
