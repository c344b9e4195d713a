//! Which files are posts, and what their path says: Jekyll's `DATE_FILENAME_MATCHER`,
//! `EntryFilter` and `categories_from_path`. `classify` is the one rule: the scanner, the
//! watcher and the engine all ask it, so a build and a live update never disagree.
//!
//! Where it differs from Jekyll: names that editors and copy tools use for files still
//! being written (`x.md.part`, `x.md.tmp`, `x.md.swp`, `.#x.md`, vim's `4913`, …) are not
//! posts, although Jekyll would publish `2023-01-01-x.md.part` as a post with the
//! extension `.part`. A watcher must not publish a half-copied file, and a build must
//! agree with the watcher.

use super::date::FileDate;

/// What a post's relative path tells us before the file is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostPath {
    /// Folders above `_posts`, which become categories.
    pub folder_categories: Vec<String>,
    pub date: FileDate,
    /// The slug as written (dots kept, trailing dots removed).
    pub slug: String,
    /// The basename without the extension, date included (for `:name`).
    pub basename: String,
    /// The extension with its dot, as written.
    pub ext: String,
    /// Path below the collection, without `_posts` and extension (for `:path`).
    pub collection_path: String,
}

/// Markdown extensions Jekyll converts (`markdown_ext` default).
pub const MARKDOWN_EXTS: [&str; 5] = ["md", "markdown", "mkdown", "mkdn", "mkd"];

impl PostPath {
    /// Whether kramdown (for us: the Markdown renderer) converts this post.
    pub fn is_markdown(&self) -> bool {
        let ext = self.ext.trim_start_matches('.').to_ascii_lowercase();
        MARKDOWN_EXTS.contains(&ext.as_str())
    }

    /// `:output_ext`: `.html` for Markdown, otherwise the source extension.
    pub fn output_ext(&self) -> &str {
        if self.is_markdown() {
            ".html"
        } else {
            &self.ext
        }
    }
}

/// Jekyll's `EntryFilter`: names it never walks into or reads.
pub fn is_ignored_name(name: &str) -> bool {
    name.starts_with(['_', '.', '#', '~']) || name.ends_with('~')
}

/// Folders Jekyll excludes by default besides `_`/`.`-prefixed ones.
pub const EXCLUDED_DIRS: [&str; 4] = ["node_modules", "vendor", "Gemfile", "Gemfile.lock"];

/// Whether a folder on the way to a post is walked.
pub fn is_walked_dir(name: &str) -> bool {
    !is_ignored_name(name) && !EXCLUDED_DIRS.contains(&name)
}

/// Extensions of files that editors, browsers and copy tools write before the real file.
const TEMP_EXTS: [&str; 8] = [
    ".swp",
    ".swx",
    ".swo",
    ".tmp",
    ".bak",
    ".part",
    ".crdownload",
    ".kate-swp",
];

/// Names of temporary files that could otherwise look like posts.
pub fn is_temp_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    name.ends_with('~')
        || name.starts_with(".#")
        || name == "4913"
        || TEMP_EXTS.iter().any(|ext| lower.ends_with(ext))
}

/// Classifies a `/`-separated path relative to the content directory. `None` means "not a
/// post", exactly where Jekyll skips the file silently.
pub fn classify(rel_path: &str) -> Option<PostPath> {
    let parts: Vec<&str> = rel_path.split('/').filter(|p| !p.is_empty()).collect();
    let posts_at = parts.iter().position(|p| *p == "_posts")?;
    let (above, below) = (&parts[..posts_at], &parts[posts_at + 1..]);
    let (file, subdirs) = below.split_last()?;
    if !above.iter().chain(subdirs).all(|p| is_walked_dir(p))
        || is_ignored_name(file)
        || is_temp_name(file)
    {
        return None;
    }
    let (date, rest) = split_date(file)?;
    let dot = rest.rfind('.')?;
    let (raw_slug, ext) = rest.split_at(dot);
    if ext.len() < 2 {
        return None;
    }
    let basename = &file[..file.len() - ext.len()];
    let mut collection_path: Vec<&str> = subdirs.to_vec();
    collection_path.push(basename);
    Some(PostPath {
        folder_categories: above.iter().map(|s| s.to_string()).collect(),
        date,
        slug: raw_slug.trim_end_matches('.').to_string(),
        basename: basename.to_string(),
        ext: ext.to_string(),
        collection_path: collection_path.join("/"),
    })
}

/// Splits `YYYY-M-D-` off a file name: 2–4 digit year, 1–2 digit month and day.
fn split_date(name: &str) -> Option<(FileDate, &str)> {
    let mut rest = name;
    let mut fields = [(0u32, 0usize); 3];
    for (i, (min, max)) in [(2, 4), (1, 2), (1, 2)].into_iter().enumerate() {
        let len = rest.bytes().take_while(u8::is_ascii_digit).count();
        if len < min || len > max {
            return None;
        }
        fields[i] = (rest[..len].parse().ok()?, len);
        rest = rest[len..].strip_prefix('-')?;
    }
    Some((
        FileDate {
            year: fields[0].0,
            year_digits: fields[0].1,
            month: fields[1].0,
            day: fields[2].0,
        },
        rest,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One row per rule of JEKYLL.md §1 "Which files are posts".
    #[test]
    fn which_files_are_posts() {
        type Want = Option<(&'static [&'static str], &'static str, &'static str)>;
        let rows: [(&str, Want); 22] = [
            ("_posts/2023-01-05-hello.md", Some((&[], "hello", ".md"))),
            (
                "_posts/sub/2023-01-06-in-subdir.md",
                Some((&[], "in-subdir", ".md")),
            ),
            (
                "news/_posts/2023-01-07-news.md",
                Some((&["news"], "news", ".md")),
            ),
            (
                "a/b/_posts/2023-01-07-x.md",
                Some((&["a", "b"], "x", ".md")),
            ),
            ("a b/_posts/2023-01-07-x.md", Some((&["a b"], "x", ".md"))),
            ("_hidden/_posts/2023-01-09-hidden.md", None),
            ("_posts/nodate.md", None),
            ("_posts/-202205262391921712.md", None),
            ("_posts/2023-01-12-noext", None),
            ("_posts/2023-01-01.md", None),
            ("_posts/.2023-01-01-x.md", None),
            ("_posts/_2023-01-01-x.md", None),
            ("_posts/2023-01-01-x.md~", None),
            // Not Jekyll's rule: temporaries of editors and copy tools (see the module doc).
            ("_posts/2023-02-03-partial.md.part", None),
            ("_posts/2023-02-03-partial.md.tmp", None),
            ("_posts/2023-02-03-partial.md.SWP", None),
            ("node_modules/_posts/2023-01-01-x.md", None),
            ("a/vendor/_posts/2023-01-01-x.md", None),
            ("_posts/4913", None),
            (
                "_posts/2023-1-6-short-date.md",
                Some((&[], "short-date", ".md")),
            ),
            (
                "_posts/2023-01-16-multi.dot.name.md",
                Some((&[], "multi.dot.name", ".md")),
            ),
            (
                "_posts/2023-01-11-text-post.txt",
                Some((&[], "text-post", ".txt")),
            ),
        ];
        for (path, want) in rows {
            let got = classify(path);
            match (got, want) {
                (None, None) => {}
                (Some(p), Some((cats, slug, ext))) => {
                    assert_eq!(p.folder_categories, cats, "{path}");
                    assert_eq!(p.slug, slug, "{path}");
                    assert_eq!(p.ext, ext, "{path}");
                }
                (got, want) => panic!("{path}: got {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn short_dates_and_output_ext() {
        let p = classify("_posts/23-1-1-x.md").unwrap();
        assert_eq!(
            (p.date.year, p.date.year_digits, p.date.month, p.date.day),
            (23, 2, 1, 1)
        );
        assert_eq!(p.output_ext(), ".html");
        assert_eq!(
            classify("_posts/2023-01-11-t.txt").unwrap().output_ext(),
            ".txt"
        );
        assert_eq!(
            classify("_posts/2023-01-11-trailing...md").unwrap().slug,
            "trailing"
        );
        assert_eq!(
            classify("_posts/sub/2023-01-11-x.md")
                .unwrap()
                .collection_path,
            "sub/2023-01-11-x"
        );
    }
}
