//! The feed layout, in one place: which feeds exist (`FeedKey`), in which formats, and
//! where each lives — its folder on disk, its URL path, its file names and content types.
//! Every other module asks here, so moving a folder or adding a format is one change.

use crate::names::FeedName;

/// The custom-feed builder's form goes here (below the baseurl); it answers with the
/// feed's URL.
pub const SUBSCRIBE_PATH: &str = "/subscribe";

/// The OPML list of every feed, at the root of the output.
pub const OPML_FILE: &str = "feeds.opml";
const OPML_CONTENT_TYPE: &str = "text/x-opml; charset=utf-8";

/// Which feed: the site's, one category's or tag's, or a named custom feed's
/// (`[[custom]]`).
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub enum FeedKey {
    Site,
    Category(FeedName),
    Tag(FeedName),
    Custom(FeedName),
}

/// A feed's kind, for grouping in lists (index page, OPML).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FeedKind {
    Site,
    Category,
    Tag,
    Custom,
}

impl FeedKind {
    /// The list of every feed of this kind, for people (`categories/index.html`).
    pub fn list_file(self) -> Option<String> {
        Some(format!("{}/{PAGE_FILE}", self.folder()?))
    }

    /// The folder that holds the feeds of this kind (`None` for the site: the root).
    pub fn folder(self) -> Option<&'static str> {
        match self {
            FeedKind::Site => None,
            FeedKind::Category => Some("categories"),
            FeedKind::Tag => Some("tags"),
            FeedKind::Custom => Some("custom"),
        }
    }

    /// The kind whose folder is `name`.
    pub fn from_folder(name: &str) -> Option<FeedKind> {
        [FeedKind::Category, FeedKind::Tag, FeedKind::Custom]
            .into_iter()
            .find(|k| k.folder() == Some(name))
    }
}

impl FeedKey {
    pub fn kind(&self) -> FeedKind {
        match self {
            FeedKey::Site => FeedKind::Site,
            FeedKey::Category(_) => FeedKind::Category,
            FeedKey::Tag(_) => FeedKind::Tag,
            FeedKey::Custom(_) => FeedKind::Custom,
        }
    }

    pub fn name(&self) -> Option<&FeedName> {
        match self {
            FeedKey::Site => None,
            FeedKey::Category(n) | FeedKey::Tag(n) | FeedKey::Custom(n) => Some(n),
        }
    }

    /// Folder under the output dir, without leading or trailing `/` (empty for the site).
    pub fn dir(&self) -> String {
        match (self.kind().folder(), self.name()) {
            (Some(folder), Some(name)) => format!("{folder}/{}", name.segment()),
            _ => String::new(),
        }
    }

    /// The feed whose folder is `dir` (as `dir` gives it), when its name can be read
    /// back from the folder (not for names so long that the folder ends in a hash).
    pub fn from_dir(dir: &str) -> Option<FeedKey> {
        if dir.is_empty() {
            return Some(FeedKey::Site);
        }
        let (folder, segment) = dir.split_once('/')?;
        let kind = FeedKind::from_folder(folder)?;
        // A folder is a spelling of its name (see `names`).
        let name = FeedName::new(segment);
        let key = match kind {
            FeedKind::Category => FeedKey::Category(name),
            FeedKind::Tag => FeedKey::Tag(name),
            FeedKind::Custom => FeedKey::Custom(name),
            FeedKind::Site => return None,
        };
        (key.dir() == dir).then_some(key)
    }

    /// The folder's URL path below the site's base, percent-encoded: `/` or `/tags/%E8…/`.
    pub fn url_path(&self) -> String {
        match (self.kind().folder(), self.name()) {
            (Some(folder), Some(name)) => format!("/{folder}/{}/", name.url_segment()),
            _ => "/".to_string(),
        }
    }

    /// Its page for people, relative to the output dir (the site's is the index page).
    pub fn page_file(&self) -> String {
        let dir = self.dir();
        if dir.is_empty() {
            PAGE_FILE.to_string()
        } else {
            format!("{dir}/{PAGE_FILE}")
        }
    }

    /// The folder of one of its archive documents (`crate::archive`), relative to the
    /// output dir.
    pub fn archive_dir(&self, page: &str) -> String {
        let dir = self.dir();
        let folder = crate::archive::FOLDER;
        match dir.is_empty() {
            true => format!("{folder}/{page}"),
            false => format!("{dir}/{folder}/{page}"),
        }
    }

    /// That folder's URL path below the site's base, like `url_path`.
    pub fn archive_url_path(&self, page: &str) -> String {
        format!("{}{}/{page}/", self.url_path(), crate::archive::FOLDER)
    }

    /// The path of one of its files relative to the output dir.
    pub fn file(&self, format: Format) -> String {
        let dir = self.dir();
        if dir.is_empty() {
            format.file_name().to_string()
        } else {
            format!("{dir}/{}", format.file_name())
        }
    }
}

/// One of the three syndication formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Format {
    Atom,
    Rss,
    Json,
}

impl Format {
    pub const ALL: [Format; 3] = [Format::Atom, Format::Rss, Format::Json];

    /// File name inside a feed's folder. `feed.xml` is Atom, the path jekyll-feed uses.
    pub fn file_name(self) -> &'static str {
        match self {
            Format::Atom => "feed.xml",
            Format::Rss => "rss.xml",
            Format::Json => "feed.json",
        }
    }

    /// The media type, for `type=` attributes.
    pub fn media_type(self) -> &'static str {
        match self {
            Format::Atom => "application/atom+xml",
            Format::Rss => "application/rss+xml",
            Format::Json => "application/feed+json",
        }
    }

    /// The `Content-Type` header value.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Atom => "application/atom+xml; charset=utf-8",
            Format::Rss => "application/rss+xml; charset=utf-8",
            Format::Json => "application/feed+json; charset=utf-8",
        }
    }

    /// The format's name for people.
    pub fn label(self) -> &'static str {
        match self {
            Format::Atom => "Atom",
            Format::Rss => "RSS",
            Format::Json => "JSON Feed",
        }
    }

    /// The name config.toml uses.
    pub fn config_name(self) -> &'static str {
        match self {
            Format::Atom => "atom",
            Format::Rss => "rss",
            Format::Json => "json",
        }
    }

    /// From a file name; `None` for anything else.
    pub fn from_file_name(name: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|f| f.file_name() == name)
    }
}

/// Precompressed copies written beside each published file (`feed.xml.gz`, …), so a
/// static server (nginx `gzip_static`, `brotli_static`) serves the same bytes feedd does.
/// (Defined with the names a term folder must not take.)
pub use crate::names::VARIANT_SUFFIXES;

/// The published file a precompressed copy belongs to.
pub fn variant_base(rel: &str) -> Option<&str> {
    VARIANT_SUFFIXES.iter().find_map(|s| rel.strip_suffix(s))
}

/// A folder's page for people: `index.html` at the root, in `categories/` and `tags/`,
/// and in each feed's folder, so a static server answers folder URLs with it too.
/// (Defined with the names a term folder must not take.)
pub use crate::names::PAGE_FILE;

pub const PAGE_CONTENT_TYPE: &str = "text/html; charset=utf-8";

/// The page browsers get with a 404 (nginx: `error_page 404 /404.html`).
pub const NOT_FOUND_FILE: &str = "404.html";

/// The pages' style sheet and script, at the root (no external resources).
pub const ASSETS: [(&str, &str); 2] = [
    ("feedd.css", "text/css; charset=utf-8"),
    ("feedd.js", "text/javascript; charset=utf-8"),
];

/// The content type of a file feedd publishes (by its path relative to the output dir).
pub fn content_type(rel: &str) -> Option<&'static str> {
    if rel == OPML_FILE {
        return Some(OPML_CONTENT_TYPE);
    }
    if let Some((_, t)) = ASSETS.iter().find(|(name, _)| *name == rel) {
        return Some(t);
    }
    if rel.rsplit('/').next() == Some(PAGE_FILE) || rel == NOT_FOUND_FILE {
        return Some(PAGE_CONTENT_TYPE);
    }
    Format::from_file_name(rel.rsplit('/').next().unwrap_or(rel)).map(Format::content_type)
}

/// Whether a path relative to the output dir is an archive document's (`crate::archive`):
/// `archive/<page>/<file>` at the root or in a feed's folder.
pub fn is_archive_path(rel: &str) -> bool {
    let parts: Vec<&str> = rel.split('/').collect();
    let archive = |folder: &str, page: &str, file: &str| {
        folder == crate::archive::FOLDER
            && crate::archive::is_page_name(page)
            && Format::from_file_name(file).is_some()
    };
    match parts.as_slice() {
        [a, page, file] => archive(a, page, file),
        [folder, _, a, page, file] => {
            FeedKind::from_folder(folder).is_some() && archive(a, page, file)
        }
        _ => false,
    }
}

/// The format of a subscription document: a feed file that is not an archive document.
/// Only those are WebSub topics, carry `Link` headers and count readers.
pub fn subscription_format(rel: &str) -> Option<Format> {
    match is_archive_path(rel) {
        true => None,
        false => Format::from_file_name(rel.rsplit('/').next().unwrap_or(rel)),
    }
}

/// Whether a path relative to the output dir is one feedd may write (and so may remove
/// when it is stale): a feed file or page at the root or in a term folder, a list page,
/// the OPML list, the pages' assets, or a precompressed copy of one. Page names are
/// feedd's only while it makes pages (`pages`): otherwise an `index.html` there is the
/// user's. Anything else in the output dir is the user's and never touched.
pub fn is_published_path(rel: &str, pages: bool) -> bool {
    let rel = variant_base(rel).unwrap_or(rel);
    let parts: Vec<&str> = rel.split('/').collect();
    let page = |file: &str| pages && file == PAGE_FILE;
    let feed_file = |file: &str| page(file) || Format::from_file_name(file).is_some();
    if is_archive_path(rel) {
        return true;
    }
    // An archive document's page for people (`…/archive/<page>/index.html`).
    if let Some(dir) = rel
        .strip_suffix(PAGE_FILE)
        .and_then(|d| d.strip_suffix('/'))
    {
        if pages && is_archive_path(&format!("{dir}/{}", Format::Atom.file_name())) {
            return true;
        }
    }
    match parts.as_slice() {
        [file] => {
            *file == OPML_FILE
                || (pages && (*file == NOT_FOUND_FILE || ASSETS.iter().any(|(a, _)| a == file)))
                || feed_file(file)
        }
        [folder, file] => FeedKind::from_folder(folder).is_some() && page(file),
        [folder, _, file] => FeedKind::from_folder(folder).is_some() && feed_file(file),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_folder_names_its_feed() {
        for name in ["西海都市报新闻", "C++", "a b", "-x", "100%", "con", "x.y."] {
            for key in [
                FeedKey::Category(FeedName::new(name)),
                FeedKey::Tag(FeedName::new(name)),
                FeedKey::Custom(FeedName::new(name)),
            ] {
                assert_eq!(FeedKey::from_dir(&key.dir()), Some(key.clone()), "{name}");
            }
        }
        assert_eq!(FeedKey::from_dir(""), Some(FeedKey::Site));
        assert_eq!(FeedKey::from_dir("other/x"), None);
        let long = FeedKey::Tag(FeedName::new(&"长".repeat(200)));
        assert_eq!(
            FeedKey::from_dir(&long.dir()),
            None,
            "hashed: found by a scan"
        );
    }

    #[test]
    fn keys_paths_and_urls_agree() {
        let tag = FeedKey::Tag(FeedName::new("西海 新闻"));
        assert_eq!(tag.dir(), "tags/西海 新闻");
        assert_eq!(tag.file(Format::Rss), "tags/西海 新闻/rss.xml");
        assert_eq!(
            tag.url_path(),
            "/tags/%E8%A5%BF%E6%B5%B7%20%E6%96%B0%E9%97%BB/"
        );
        assert_eq!(FeedKey::Site.file(Format::Json), "feed.json");
        assert_eq!(FeedKey::Site.url_path(), "/");
        assert_eq!(
            content_type(&tag.file(Format::Atom)),
            Some("application/atom+xml; charset=utf-8")
        );
        assert_eq!(content_type(OPML_FILE), Some(OPML_CONTENT_TYPE));
        for format in Format::ALL {
            assert!(format.content_type().starts_with(format.media_type()));
        }
        for key in [
            FeedKey::Site,
            tag.clone(),
            FeedKey::Category(FeedName::new("x")),
        ] {
            for format in Format::ALL {
                assert!(
                    is_published_path(&key.file(format), false),
                    "{key:?} {format:?}"
                );
            }
        }
        assert!(is_published_path(OPML_FILE, false));
        assert!(
            is_published_path("tags/x/feed.xml.gz", false)
                && is_published_path("feed.json.zst", false)
        );
        assert_eq!(variant_base("rss.xml.br"), Some("rss.xml"));
        for page in [
            "index.html",
            "tags/x/index.html",
            "categories/index.html",
            "feedd.css",
        ] {
            assert!(is_published_path(page, true), "{page}");
            assert!(
                !is_published_path(page, false),
                "the user's while pages are off: {page}"
            );
        }
        assert_eq!(tag.page_file(), "tags/西海 新闻/index.html");
        assert_eq!(
            FeedKind::Tag.list_file().as_deref(),
            Some("tags/index.html")
        );
        assert_eq!(content_type("tags/x/index.html"), Some(PAGE_CONTENT_TYPE));
        for other in [
            "other.html",
            "tags/x/other.html",
            "other/index.html",
            "other/x/feed.xml",
            "a/b/c/feed.xml",
        ] {
            assert!(!is_published_path(other, true), "{other}");
        }
    }
}
