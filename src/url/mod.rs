//! Post URLs and ids as Jekyll builds them (permalink templates, placeholder escaping) and
//! `absolute_url` as Jekyll's filter normalises them, so our links and entry ids are the
//! ones the Jekyll site and jekyll-feed already published.

use chrono::Datelike;
use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, CONTROLS};
use unicode_normalization::UnicodeNormalization;

use crate::post::date::PostDate;
use crate::text::{slugify, SlugMode};

/// Everything but RFC 3986 unreserved, sub-delims, `:`, `@` and `/` (Addressable's path class).
const PATH: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'[')
    .add(b'\\')
    .add(b']')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}');

/// One path segment: the path class without `/`.
const SEGMENT: &AsciiSet = &PATH.add(b'/');

/// A segment whose escapes do not decode to UTF-8: keep them, encode the rest.
const SEGMENT_KEEP_ESCAPES: &AsciiSet = &SEGMENT.remove(b'%');
const AUTHORITY: &AsciiSet = &CONTROLS.add(b' ');
const QUERY: &AsciiSet = &CONTROLS.add(b' ').add(b'"').add(b'<').add(b'>');

/// Percent-encodes one path segment (`/` included), keeping sub-delimiters readable.
pub fn encode_segment(text: &str) -> String {
    utf8_percent_encode(text, SEGMENT).to_string()
}

/// Expands a permalink style name to its template (`jekyll/configuration.rb`).
pub fn style_template(style: &str) -> &str {
    match style {
        "date" => "/:categories/:year/:month/:day/:title:output_ext",
        "pretty" => "/:categories/:year/:month/:day/:title/",
        "ordinal" => "/:categories/:year/:y_day/:title:output_ext",
        "weekdate" => "/:categories/:year/W:week/:short_day/:title:output_ext",
        "none" => "/:categories/:title:output_ext",
        other => other,
    }
}

/// The values a permalink template may use, for one post.
pub struct Placeholders<'a> {
    pub date: &'a PostDate,
    /// The slug: front-matter `slug`, else the file name's.
    pub slug: &'a str,
    /// The file's basename without extension, date included (for `:name`).
    pub basename: &'a str,
    pub categories: &'a [String],
    pub output_ext: &'a str,
    /// Path relative to the collection, without `_posts/` and extension (for `:path`).
    pub path: &'a str,
}

/// Why a permalink template could not be expanded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PermalinkError {
    /// `name` is the placeholder as written, without its `:`.
    #[error("unknown permalink placeholder `:{name}`")]
    UnknownPlaceholder { name: String },
}

/// Expands a permalink template; an unknown placeholder is an error, as in Jekyll.
pub fn expand(template: &str, p: &Placeholders<'_>) -> Result<String, PermalinkError> {
    let mut out = String::with_capacity(template.len() + 32);
    let mut rest = template;
    while let Some(i) = rest.find(':') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let len = after
            .bytes()
            .take_while(|b| b.is_ascii_lowercase() || *b == b'_')
            .count();
        if len == 0 {
            out.push(':');
            rest = after;
            continue;
        }
        let name = &after[..len];
        // Jekyll tries `name_` then `name` so `:title_` works before literal text.
        let (value, used) = match placeholder(name, p) {
            Some(v) => (v, len),
            None => match name.strip_suffix('_').and_then(|n| placeholder(n, p)) {
                Some(v) => (v, len - 1),
                None => {
                    return Err(PermalinkError::UnknownPlaceholder {
                        name: name.to_string(),
                    })
                }
            },
        };
        out.push_str(&escape_path(&value));
        rest = &after[used..];
    }
    out.push_str(rest);
    Ok(sanitize(&squeeze_slashes(&out)))
}

fn placeholder(name: &str, p: &Placeholders<'_>) -> Option<String> {
    let d = p.date;
    Some(match name {
        "year" => format!("{:04}", d.year()),
        "month" => format!("{:02}", d.month()),
        "day" => format!("{:02}", d.day()),
        "hour" => d.format("%H").to_string(),
        "minute" => d.format("%M").to_string(),
        "second" => d.format("%S").to_string(),
        "i_month" => d.month().to_string(),
        "i_day" => d.day().to_string(),
        "short_year" => d.format("%y").to_string(),
        "y_day" => d.format("%j").to_string(),
        "short_month" => d.format("%b").to_string(),
        "long_month" => d.format("%B").to_string(),
        "week" => d.format("%V").to_string(),
        "w_year" => d.format("%G").to_string(),
        "w_day" => d.format("%u").to_string(),
        "short_day" => d.format("%a").to_string(),
        "long_day" => d.format("%A").to_string(),
        "title" => slugify(p.slug, SlugMode::Pretty),
        "slug" => slugify(p.slug, SlugMode::Default),
        "name" => slugify(p.basename, SlugMode::Default),
        "categories" => unique(p.categories.iter().map(|c| c.to_lowercase())).join("/"),
        "slugified_categories" => {
            unique(p.categories.iter().map(|c| slugify(c, SlugMode::Default))).join("/")
        }
        "output_ext" => p.output_ext.to_string(),
        "collection" => "posts".to_string(),
        "path" => p.path.to_string(),
        _ => return None,
    })
}

fn unique(items: impl Iterator<Item = String>) -> Vec<String> {
    let mut seen = Vec::new();
    for item in items {
        if !seen.contains(&item) {
            seen.push(item);
        }
    }
    seen
}

/// Jekyll's `URL.escape_path`. We also encode `?` and `#`, which Jekyll leaves raw and
/// which would turn the rest of the link into a query or fragment.
fn escape_path(value: &str) -> String {
    let plain = value
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"./-".contains(&b));
    if plain {
        value.to_string()
    } else {
        utf8_percent_encode(value, PATH).to_string()
    }
}

fn squeeze_slashes(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if !(c == '/' && out.ends_with('/')) {
            out.push(c);
        }
    }
    out
}

/// Jekyll's `URL#sanitize_url`: `..` becomes `/`, `./` is dropped, leading `/` ensured.
fn sanitize(url: &str) -> String {
    let cleaned = url.replace("..", "/").replace("./", "");
    let cleaned = squeeze_slashes(&cleaned);
    if cleaned.starts_with('/') {
        cleaned
    } else {
        format!("/{cleaned}")
    }
}

/// Jekyll's `post.id`: the folder of the URL joined with the raw (unescaped) slug.
pub fn post_id(url: &str, slug: &str) -> String {
    let trimmed = url.trim_end_matches('/');
    let dir = match trimmed.rsplit_once('/') {
        Some((dir, _)) if !dir.is_empty() => dir,
        _ => "/",
    };
    if dir.ends_with('/') {
        format!("{dir}{slug}")
    } else {
        format!("{dir}/{slug}")
    }
}

/// The site's base for absolute URLs: `url` plus `baseurl`, as Jekyll's `absolute_url` joins them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteUrl {
    url: String,
    baseurl: String,
    /// `url` + `baseurl` normalised, without a trailing `/`: what `join` prefixes.
    base: String,
}

impl SiteUrl {
    pub fn new(url: &str, baseurl: &str) -> SiteUrl {
        let base = baseurl.trim_end_matches('/');
        let base = if base.is_empty() || base.starts_with('/') {
            base.to_string()
        } else {
            format!("/{base}")
        };
        let normalized = normalize(&format!("{url}{base}"));
        SiteUrl {
            url: url.to_string(),
            baseurl: base,
            base: normalized.trim_end_matches('/').to_string(),
        }
    }

    /// Whether the site has a URL (else every "absolute" URL is a path).
    pub fn has_origin(&self) -> bool {
        !self.url.is_empty()
    }

    /// `absolute_url(path)`: site url + baseurl + path, normalised like Addressable
    /// (segments decoded, NFKC-normalised, re-encoded; dot segments removed).
    pub fn absolute(&self, path: &str) -> String {
        let path = if path.starts_with('/') || path.is_empty() {
            path.to_string()
        } else {
            format!("/{path}")
        };
        normalize(&format!("{}{}{}", self.url, self.baseurl, path))
    }

    /// The absolute URL of one of feedd's own files or folders, from its path as
    /// `FeedKey::url_path` encodes it (ASCII, `/`-led). Unlike `absolute`, the segments are
    /// not NFKC-normalised: a folder spells `/` inside a name as `／`, which NFKC would
    /// turn back into a separator, and these URLs must name the folders as they are on
    /// disk (a static server maps them to files byte for byte).
    pub fn join(&self, encoded_path: &str) -> String {
        format!("{}{encoded_path}", self.base)
    }
}

/// A site-relative absolute path (`/feed.xml`) under the site's `baseurl`, as links
/// and the server's own paths use it: `/blog/feed.xml`, or the path itself without one.
pub fn under_base(baseurl: &str, path: &str) -> String {
    match baseurl.trim_matches('/') {
        "" => path.to_string(),
        base => format!("/{base}{path}"),
    }
}

/// An absolute URL's origin, normalised (`https://a.example`), and the rest as given.
/// For URLs a client hands back (WebSub topics): their path is routed as a request
/// path is, not normalised, since NFKC and dot-segment removal could make it another
/// feed's.
pub fn split_origin(url: &str) -> Option<(String, &str)> {
    let (_, rest) = url.split_once("://")?;
    let at = url.len() - rest.len() + rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let origin = normalize(&url[..at]);
    Some((origin.trim_end_matches('/').to_string(), &url[at..]))
}

/// Addressable `normalize` for the URLs we emit: ASCII-only, percent-encoded.
pub fn normalize(url: &str) -> String {
    let (scheme, rest) = match url.split_once("://") {
        Some((scheme, rest)) => (Some(scheme.to_ascii_lowercase()), rest),
        None => (None, url),
    };
    let (authority, path_and_more) = match scheme {
        Some(_) => match rest.find('/') {
            Some(i) => (Some(&rest[..i]), &rest[i..]),
            None => (Some(rest), ""),
        },
        None => (None, rest),
    };
    let (path, tail) = match path_and_more.find(['?', '#']) {
        Some(i) => (&path_and_more[..i], &path_and_more[i..]),
        None => (path_and_more, ""),
    };
    let mut out = String::with_capacity(url.len() + 16);
    if let (Some(scheme), Some(authority)) = (&scheme, authority) {
        let authority = authority.to_ascii_lowercase();
        let default_port = match scheme.as_str() {
            "http" => ":80",
            "https" => ":443",
            _ => "",
        };
        let authority = match authority.strip_suffix(default_port) {
            Some(a) if !default_port.is_empty() => a.to_string(),
            _ => authority,
        };
        out.push_str(scheme);
        out.push_str("://");
        out.push_str(&utf8_percent_encode(&authority, AUTHORITY).to_string());
    }
    let segments: Vec<String> = path.split('/').map(normalize_segment).collect();
    let path = remove_dot_segments(&segments);
    if path.is_empty() && authority.is_some() {
        out.push('/');
    }
    out.push_str(&path);
    out.push_str(&utf8_percent_encode(tail, QUERY).to_string());
    out
}

fn normalize_segment(segment: &str) -> String {
    // Fast path: plain ASCII needs no decoding or NFKC, only encoding of the few
    // characters a segment may not hold raw.
    if segment.bytes().all(|b| b.is_ascii_graphic() && b != b'%') {
        return utf8_percent_encode(segment, SEGMENT).to_string();
    }
    match percent_decode_str(segment).decode_utf8() {
        Ok(decoded) => {
            let nfkc: String = decoded.nfkc().collect();
            utf8_percent_encode(&nfkc, SEGMENT).to_string()
        }
        Err(_) => utf8_percent_encode(segment, SEGMENT_KEEP_ESCAPES).to_string(),
    }
}

fn remove_dot_segments(segments: &[String]) -> String {
    let mut out: Vec<&str> = Vec::with_capacity(segments.len());
    let last = segments.len().saturating_sub(1);
    for (i, seg) in segments.iter().enumerate() {
        match seg.as_str() {
            "." => {
                if i == last {
                    out.push("");
                }
            }
            ".." => {
                if out.len() > 1 {
                    out.pop();
                }
                if i == last {
                    out.push("");
                }
            }
            s => out.push(s),
        }
    }
    out.join("/")
}

#[cfg(test)]
mod tests;
