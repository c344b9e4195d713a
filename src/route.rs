//! Request path → what to answer. Percent-encoded and raw UTF-8 paths both work; a
//! category or tag name may also be given as written (`/tags/Alpha/…`). Only published
//! files are ever answered: no path reaches the file system.

use percent_encoding::percent_decode_str;

use crate::layout::{FeedKind, Format, PAGE_FILE};
use crate::names::FeedName;
use crate::snapshot::Snapshot;

/// What a request is for.
#[derive(Debug, PartialEq, Eq)]
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
            "tags/%2Fetc%2Fpasswd/feed.json",
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
            (
                "/tags/%252Fetc%252Fpasswd/feed.json",
                file("tags/%2Fetc%2Fpasswd/feed.json", None),
            ),
            (
                "/tags/%2Fetc%2Fpasswd/feed.json",
                file("tags/%2Fetc%2Fpasswd/feed.json", None),
            ),
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

    proptest! {
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
