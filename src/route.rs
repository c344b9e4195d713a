//! Request path → what to answer. Percent-encoded and raw UTF-8 paths both work; a
//! category or tag name may also be given as written (`/tags/Alpha/…`, `/tags/Ａ股/…`,
//! `/tags/量化%2F策略/…`): a segment is read as a name and normalised as feed names are,
//! and since every folder is a spelling of its name, the folder's own URL and every
//! spelling of the name lead to that feed and no other. Only published files are ever
//! answered: no path reaches the file system.

use percent_encoding::percent_decode_str;

use crate::layout::{FeedKind, Format, PAGE_FILE};
use crate::names::FeedName;
use crate::snapshot::Snapshot;

/// What a request is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    Health,
    Metrics,
    /// A published file; for a feed, `page` is its folder's page (what a browser
    /// navigating to the feed's URL is shown).
    File {
        rel: String,
        page: Option<String>,
    },
    /// A folder URL without its slash: where it is with one.
    Redirect(String),
    NotFound,
}

/// Maps a request path (query already removed) to a route.
pub fn route(path: &str, snapshot: &Snapshot, baseurl: &str) -> Route {
    // A dot segment sent as is means "this folder" or "its parent", never a name; a
    // client resolves it before sending. (`%2E%2E` is the name `..`.)
    if path.split('/').any(|s| s == "." || s == "..") {
        return Route::NotFound;
    }
    // Decode segment by segment, so an encoded `/` inside a name stays inside it.
    let decoded: Option<Vec<String>> = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| {
            percent_decode_str(s)
                .decode_utf8()
                .ok()
                .map(|d| d.into_owned())
        })
        .collect();
    let Some(mut segments) = decoded else {
        return Route::NotFound;
    };
    let base: Vec<&str> = baseurl.split('/').filter(|s| !s.is_empty()).collect();
    if !base.is_empty() && segments.len() >= base.len() && segments[..base.len()] == base[..] {
        segments.drain(..base.len());
        if segments.is_empty() && !path.ends_with('/') {
            let base: Vec<String> = base.iter().map(|s| crate::url::encode_segment(s)).collect();
            return Route::Redirect(format!("/{}/", base.join("/")));
        }
    }
    match segments.as_slice() {
        [one] if one == "healthz" => return Route::Health,
        [one] if one == "metrics" => return Route::Metrics,
        _ => {}
    }
    let folder = path.ends_with('/') || segments.is_empty();
    let found = |rel: String| snapshot.files.contains_key(&rel).then_some(rel);
    // The path as the files are named, and with a name as written mapped to its folder
    // (a decoded `/` only ever belongs inside a name).
    let direct = (!segments.iter().any(|s| s.contains('/'))).then(|| segments.join("/"));
    let candidates = [direct, canonical(&segments)];
    for joined in candidates
        .iter()
        .flatten()
        .filter(|c| !c.is_empty() || folder)
    {
        if folder {
            if let Some(rel) = found(page_in(joined)) {
                return file(rel, snapshot);
            }
        } else if let Some(rel) = found(joined.clone()) {
            return file(rel, snapshot);
        } else if found(page_in(joined)).is_some() {
            // The path as sent, encoded as feedd's links are, minus empty segments:
            // never `//host`, which a browser would take for another site.
            let encoded: Vec<String> = (path.split('/').filter(|s| !s.is_empty()))
                .map(|s| {
                    let text = percent_decode_str(s).decode_utf8_lossy();
                    crate::url::encode_segment(&text)
                })
                .collect();
            return Route::Redirect(format!("/{}/", encoded.join("/")));
        }
    }
    Route::NotFound
}

/// `<kind>/<name as written>[/<file>]` as the build names it on disk.
fn canonical(segments: &[String]) -> Option<String> {
    let (kind, name, rest) = match segments {
        [kind, name] => (kind, name, None),
        [kind, name, file] => (kind, name, Some(file)),
        _ => return None,
    };
    FeedKind::from_folder(kind)?;
    let dir = format!("{kind}/{}", FeedName::new(name).segment());
    Some(match rest {
        Some(file) => format!("{dir}/{file}"),
        None => dir,
    })
}

fn page_in(dir: &str) -> String {
    if dir.is_empty() {
        PAGE_FILE.to_string()
    } else {
        format!("{dir}/{PAGE_FILE}")
    }
}

fn file(rel: String, snapshot: &Snapshot) -> Route {
    let page = match rel.rsplit_once('/') {
        Some((dir, name)) if Format::from_file_name(name).is_some() => Some(page_in(dir)),
        None if Format::from_file_name(&rel).is_some() => Some(PAGE_FILE.to_string()),
        _ => None,
    }
    .filter(|page| snapshot.files.contains_key(page));
    Route::File { rel, page }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::FeedFile;
    use bytes::Bytes;
    use proptest::prelude::*;
    use std::sync::Arc;
    use std::time::SystemTime;

    fn snapshot(files: &[&str]) -> Snapshot {
        let mut s = Snapshot::default();
        for rel in files {
            let file = FeedFile::new(
                Bytes::from_static(b"x"),
                "text/plain",
                SystemTime::UNIX_EPOCH,
            );
            s.files.insert(rel.to_string(), Arc::new(file));
        }
        s
    }

    #[test]
    fn routes_table() {
        let s = snapshot(&[
            "feed.xml",
            "index.html",
            "tags/index.html",
            "tags/西海新闻/feed.xml",
            "tags/西海新闻/index.html",
            "tags/alpha/rss.xml",
            "tags/／etc／passwd/feed.json",
            "tags/．．/feed.xml",
            "tags/a股/feed.xml",
        ]);
        let file = |p: &str, page: Option<&str>| Route::File {
            rel: p.to_string(),
            page: page.map(str::to_string),
        };
        let rows = [
            ("/", file("index.html", None)),
            ("/blog/", file("index.html", None)),
            ("/blog", Route::Redirect("/blog/".into())),
            (
                "/tags/西海新闻",
                Route::Redirect("/tags/%E8%A5%BF%E6%B5%B7%E6%96%B0%E9%97%BB/".into()),
            ),
            (
                "/tags/%e8%a5%bf%e6%b5%b7%e6%96%b0%e9%97%bb",
                Route::Redirect("/tags/%E8%A5%BF%E6%B5%B7%E6%96%B0%E9%97%BB/".into()),
            ),
            ("/index.html", file("index.html", None)),
            ("/healthz", Route::Health),
            ("/feed.xml", file("feed.xml", Some("index.html"))),
            ("/tags/", file("tags/index.html", None)),
            ("/tags", Route::Redirect("/tags/".into())),
            ("/blog/tags", Route::Redirect("/blog/tags/".into())),
            (
                "/tags/西海新闻/feed.xml",
                file("tags/西海新闻/feed.xml", Some("tags/西海新闻/index.html")),
            ),
            ("/tags/西海新闻/", file("tags/西海新闻/index.html", None)),
            (
                "/tags/%E8%A5%BF%E6%B5%B7%E6%96%B0%E9%97%BB",
                Route::Redirect("/tags/%E8%A5%BF%E6%B5%B7%E6%96%B0%E9%97%BB/".into()),
            ),
            ("/tags/Alpha/rss.xml", file("tags/alpha/rss.xml", None)),
            ("/tags/alpha/", Route::NotFound),
            // A name that looks like an escape is that name, not the escaped one.
            ("/tags/%252Fetc%252Fpasswd/feed.json", Route::NotFound),
            (
                "/tags/%2Fetc%2Fpasswd/feed.json",
                file("tags/／etc／passwd/feed.json", None),
            ),
            (
                "/tags/%EF%BC%8Fetc%EF%BC%8Fpasswd/feed.json",
                file("tags/／etc／passwd/feed.json", None),
            ),
            ("/tags/%2E%2E/feed.xml", file("tags/．．/feed.xml", None)),
            ("/tags/../feed.xml", Route::NotFound),
            ("/tags/%252E%252E/feed.xml", Route::NotFound),
            ("/tags/Ａ股/feed.xml", file("tags/a股/feed.xml", None)),
            ("/tags/A%E8%82%A1/feed.xml", file("tags/a股/feed.xml", None)),
            ("/blog/feed.xml", file("feed.xml", Some("index.html"))),
            ("/../etc/passwd", Route::NotFound),
            ("/%2e%2e/%2e%2e/etc/passwd", Route::NotFound),
            ("/tags/%C0%AE%C0%AE/feed.xml", Route::NotFound),
            ("/feed.xml%00", Route::NotFound),
            ("/tags/..%5c..%5cetc/feed.xml", Route::NotFound),
            ("/nope", Route::NotFound),
            ("/nope/", Route::NotFound),
            ("//tags", Route::Redirect("/tags/".into())),
        ];
        for (path, want) in rows {
            assert_eq!(route(path, &s, "/blog"), want, "{path}");
        }
    }

    /// Names as hostile posts carry them: compatibility and full-width forms, escapes,
    /// separators, dot names, controls, joiners, bidi marks.
    const NAMES: &str = "\\PC{0,10}|[%./\\\\ aAfF02E\u{ff01}-\u{ff5e}\u{3000}\u{200b}-\u{200f}\u{202a}-\u{202e}\u{2460}-\u{2470}\u{fb01}\u{b2}\u{301}\u{30c}\\x00-\\x1f股]{0,8}";

    proptest! {
        /// Every URL feedd gives a feed (its folder's URL as the feed links and topics
        /// write it, also after a client NFKC-normalises it) leads to that feed; every
        /// name typed into a URL leads to that name's feed or nowhere.
        #[test]
        fn every_spelling_leads_to_its_own_feed(
            names in proptest::collection::vec(proptest::string::string_regex(NAMES).unwrap(), 1..6),
            typed in proptest::string::string_regex(NAMES).unwrap(),
        ) {
            use crate::layout::FeedKey;
            let site = crate::url::SiteUrl::new("https://a.example", "/blog");
            let keys: Vec<FeedKey> = names
                .iter()
                .map(|n| FeedKey::Tag(FeedName::new(n)))
                .filter(|k| k.name().is_some_and(|n| !n.is_empty()))
                .collect();
            let files: Vec<String> = keys.iter().map(|k| k.file(Format::Atom)).collect();
            let s = snapshot(&files.iter().map(String::as_str).collect::<Vec<_>>());
            let to = |url: &str| {
                let (_, path) = crate::url::split_origin(url).unwrap();
                route(path, &s, "/blog")
            };
            for (key, rel) in keys.iter().zip(&files) {
                let advertised = format!("{}feed.xml", site.join(&key.url_path()));
                let want = Route::File { rel: rel.clone(), page: None };
                prop_assert_eq!(to(&advertised), want.clone(), "{}", advertised);
                // (A client normalising `．．` to `..` drops the segment: not a spelling.)
                let dots = key.name().is_some_and(|n| matches!(n.as_str(), "." | ".."));
                if !key.dir().contains('～') && !dots {
                    let normalized = crate::url::normalize(&advertised);
                    prop_assert_eq!(to(&normalized), want, "{}", normalized);
                }
            }
            let typed_key = FeedKey::Tag(FeedName::new(&typed));
            // A name that is a dot segment must be escaped to be a name (RFC 3986 §3.3).
            let segment = match typed.as_str() {
                "." | ".." => typed.replace('.', "%2E"),
                _ => crate::url::encode_segment(&typed),
            };
            let url = format!("https://a.example/blog/tags/{segment}/feed.xml");
            match to(&url) {
                Route::File { rel, .. } => prop_assert_eq!(rel, typed_key.file(Format::Atom)),
                Route::NotFound => prop_assert!(!keys.contains(&typed_key) || typed_key.name().is_some_and(|n| n.is_empty())),
                other => prop_assert!(false, "{:?}", other),
            }
        }

        /// Any request path routes to a snapshot key, a redirect to a folder that has a
        /// page, or to nothing: never elsewhere.
        #[test]
        fn any_path_routes_only_to_known_files(path in "(/[^/?#]{0,12}){0,5}/?|/[%./\\\\a-z0-9]{0,40}") {
            let s = snapshot(&["tags/a/feed.xml", "tags/a/index.html", "index.html"]);
            match route(&path, &s, "") {
                Route::File { rel, page } => {
                    prop_assert!(s.files.contains_key(&rel));
                    if let Some(page) = page {
                        prop_assert!(s.files.contains_key(&page));
                    }
                }
                Route::Redirect(to) => {
                    prop_assert!(to.starts_with('/') && !to.starts_with("//") && to.ends_with('/'));
                }
                _ => {}
            }
        }
    }
}
