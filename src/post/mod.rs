//! One post: `Post::parse` turns a path and its text into a typed post with Jekyll's
//! rules (date, categories, tags, title, URL, id). Pure: reading the file is `read_post`.

pub mod date;
pub mod fence;
pub mod path;
mod terms;

use std::path::Path;

pub use crate::url::SiteUrl;
pub use chrono_tz::Tz;

use crate::error::{PostError, PostErrorKind};
use crate::url::{expand, post_id, style_template, PermalinkError, Placeholders};
use crate::yaml::{Yaml, YamlError};
use date::PostDate;
use path::PostPath;

/// Largest front matter we parse; real ones are a few hundred bytes.
pub const MAX_FRONT_MATTER_BYTES: usize = 64 * 1024;
/// Most categories plus tags one post may carry (each becomes a feed).
pub const MAX_TERMS: usize = 1000;

/// What `Post::parse` needs from the site configuration.
#[derive(Debug, Clone)]
pub struct PostRules {
    pub timezone: Tz,
    /// The site's permalink style or template.
    pub permalink: String,
    /// The site's `excerpt_separator` (Jekyll's default is a blank line).
    pub excerpt_separator: String,
    /// Where the site is: each post's absolute URL and id are made once, here (a
    /// normalisation of thousands of instructions that entries and archives share).
    pub site_url: SiteUrl,
}

/// A post as the feeds need it, parsed once.
#[derive(Debug, Clone, PartialEq)]
pub struct Post {
    /// Path relative to the content directory, `/`-separated; the stable tie-break.
    pub source: String,
    pub date: PostDate,
    /// `last_modified_at`, when given.
    pub updated: Option<PostDate>,
    /// The title as written (or titleized from the slug).
    pub title: String,
    pub categories: Vec<String>,
    /// The terms jekyll-feed writes as `<category>`: the singular `category` alone if
    /// set, otherwise every category.
    pub entry_categories: Vec<String>,
    pub tags: Vec<String>,
    /// Site-relative, percent-encoded URL path (`/cat/2022/03/15/slug.html`).
    pub url: String,
    /// Site-relative Jekyll `post.id` (raw slug, no extension).
    pub id: String,
    /// `url` and `id` as jekyll-feed's `absolute_url` makes them: the entry's link and id.
    pub absolute_url: String,
    pub absolute_id: String,
    pub author: Option<String>,
    pub description: Option<String>,
    /// A front-matter `excerpt`, used verbatim.
    pub excerpt: Option<String>,
    pub image: Option<String>,
    pub lang: Option<String>,
    pub published: bool,
    pub markdown: bool,
    pub excerpt_separator: String,
    /// The body as written. A loader may drop it to save memory (see `body_offset`).
    pub body: String,
    /// Where the body starts in the file's text, and the text's length: enough to read
    /// the body back from disk when `body` was dropped.
    pub body_offset: usize,
    pub file_len: usize,
    /// Things `feedd check` reports: legal, but probably not what the author meant.
    pub warnings: Vec<Warning>,
}

/// A Jekyll trap found in a post, with the file line it is on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    pub line: usize,
    pub message: String,
}

impl Post {
    /// Parses a post from its relative path and text. `Ok(None)` when the path is not a
    /// post by Jekyll's rules.
    pub fn parse(rel_path: &str, text: &str, rules: &PostRules) -> Result<Option<Post>, PostError> {
        let Some(path) = path::classify(rel_path) else {
            return Ok(None);
        };
        let err = |line: usize, kind: PostErrorKind| PostError {
            path: rel_path.into(),
            line,
            kind,
        };
        let file_len = text.len();
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let bom_len = file_len - text.len();
        let split = fence::split(text).map_err(|_| err(1, PostErrorKind::UnclosedFrontMatter))?;
        let mut warnings = Vec::new();
        if let Some(line) = fence::ignored_front_matter_line(text) {
            warnings.push(Warning {
                line,
                message: "front matter ignored: the file does not start with `---` (remove the blank line before it)".into(),
            });
        }
        let fm = match split.yaml {
            Some(yaml) if yaml.len() > MAX_FRONT_MATTER_BYTES => {
                return Err(err(
                    split.yaml_line,
                    PostErrorKind::FrontMatterTooLarge {
                        size: yaml.len(),
                        limit: MAX_FRONT_MATTER_BYTES,
                    },
                ))
            }
            Some(yaml) => Yaml::parse(yaml).map_err(|YamlError { line, message }| {
                // An error noticed at the end of the YAML belongs to its last line.
                let line = line.clamp(1, yaml.lines().count().max(1));
                err(split.yaml_line + line - 1, PostErrorKind::Yaml(message))
            })?,
            None => Yaml::Map(Vec::new()),
        };
        let fm = match fm {
            Yaml::Null => Yaml::Map(Vec::new()),
            Yaml::Map(_) => fm,
            Yaml::Seq(_) => return Err(err(split.yaml_line, PostErrorKind::NotAMapping("a list"))),
            _ => {
                return Err(err(
                    split.yaml_line,
                    PostErrorKind::NotAMapping("a single value"),
                ))
            }
        };
        let line_of = |key: &str| split.yaml_line + key_line(split.yaml.unwrap_or(""), key);
        let date = match fm.get("date") {
            Some(value) => {
                if let Yaml::Timestamp(t) = value {
                    if !has_zone(t) {
                        warnings.push(Warning {
                            line: line_of("date"),
                            message: format!("`date: {t}` has no offset, so YAML reads it as UTC; add the offset (e.g. `{t} +0800`) or quote it for site-local time"),
                        });
                    }
                }
                date::from_yaml(value, rules.timezone)
                    .map_err(|e| err(line_of("date"), e.into()))?
            }
            None => date::from_file_name(path.date, rules.timezone)
                .map_err(|e| err(1, PostErrorKind::InvalidFileNameDate(e)))?,
        };
        let updated = match fm.get("last_modified_at") {
            Some(v) if v.as_text().is_some() => Some(
                date::from_yaml(v, rules.timezone)
                    .map_err(|e| err(line_of("last_modified_at"), e.into()))?,
            ),
            _ => None,
        };
        let published = fm.get("published").is_none_or(Yaml::is_truthy);
        if let Some(Yaml::Str(s)) = fm.get("published") {
            if s.eq_ignore_ascii_case("false") || s.eq_ignore_ascii_case("no") {
                warnings.push(Warning {
                    line: line_of("published"),
                    message: format!("`published: \"{s}\"` is a string, so the post IS published; write `published: false` without quotes to hide it"),
                });
            }
        }
        let terms = terms::Terms::from_front_matter(&fm, &path.folder_categories);
        warnings.extend(terms.warnings.iter().map(|m| Warning {
            line: line_of("tags"),
            message: m.clone(),
        }));
        let count = terms.categories.len() + terms.tags.len();
        if count > MAX_TERMS {
            return Err(err(
                line_of("tags"),
                PostErrorKind::TooManyTerms {
                    count,
                    limit: MAX_TERMS,
                },
            ));
        }
        let slug = fm
            .get("slug")
            .and_then(Yaml::as_text)
            .unwrap_or_else(|| path.slug.clone());
        let title = match fm.get("title") {
            None | Some(Yaml::Null) => crate::text::titleize_slug(&path.slug),
            Some(v) => v.to_ruby_string(),
        };
        let url = post_url(&path, &fm, &slug, &date, &terms.categories, rules)
            .map_err(|e| err(line_of("permalink"), e.into()))?;
        let id = post_id(&url, &slug);
        let body = split.body.to_string();
        let body_offset = bom_len + (text.len() - split.body.len());
        if body.contains("{{") || body.contains("{%") {
            warnings.push(Warning {
                line: split.body_line,
                message: "Liquid tags (`{{`, `{%`) are shown as written: feedd does not run Liquid"
                    .into(),
            });
        }
        Ok(Some(Post {
            source: rel_path.to_string(),
            date,
            updated,
            title,
            categories: terms.categories,
            entry_categories: terms.entry_categories,
            tags: terms.tags,
            absolute_url: rules.site_url.absolute(&url),
            absolute_id: rules.site_url.absolute(&id),
            url,
            id,
            author: author_name(fm.get("author").or_else(|| first(fm.get("authors")))),
            description: fm.get("description").and_then(Yaml::as_text),
            excerpt: fm.get("excerpt").and_then(Yaml::as_text),
            image: fm
                .get("image")
                .and_then(|i| i.get("path").unwrap_or(i).as_text()),
            lang: fm.get("lang").and_then(Yaml::as_text),
            published,
            markdown: path.is_markdown(),
            excerpt_separator: fm
                .get("excerpt_separator")
                .map(Yaml::to_ruby_string)
                .unwrap_or_else(|| rules.excerpt_separator.clone()),
            body,
            body_offset,
            file_len,
            warnings,
        }))
    }
}

fn post_url(
    path: &PostPath,
    fm: &Yaml,
    slug: &str,
    date: &PostDate,
    categories: &[String],
    rules: &PostRules,
) -> Result<String, PermalinkError> {
    let template = fm
        .get("permalink")
        .and_then(Yaml::as_text)
        .unwrap_or_else(|| style_template(&rules.permalink).to_string());
    expand(
        &template,
        &Placeholders {
            date,
            slug,
            basename: &path.basename,
            categories,
            output_ext: path.output_ext(),
            path: &path.collection_path,
        },
    )
}

fn first(value: Option<&Yaml>) -> Option<&Yaml> {
    match value {
        Some(Yaml::Seq(items)) => items.first(),
        other => other,
    }
}

fn author_name(value: Option<&Yaml>) -> Option<String> {
    match value? {
        map @ Yaml::Map(_) => map.get("name").and_then(Yaml::as_text),
        other => other.as_text(),
    }
}

fn has_zone(timestamp: &str) -> bool {
    let time_part = timestamp.get(10..).unwrap_or("");
    time_part.contains(['+', 'Z']) || time_part.rfind('-').is_some()
}

/// Best-effort line (0-based within the YAML) of a top-level key, for messages.
fn key_line(yaml: &str, key: &str) -> usize {
    yaml.lines()
        .enumerate()
        .filter(|(_, l)| {
            l.strip_prefix(key)
                .is_some_and(|r| r.trim_start().starts_with(':'))
        })
        .map(|(i, _)| i)
        .last()
        .unwrap_or(0)
}

/// Reads and parses one post file, enforcing the size limit before reading it all.
pub fn read_post(
    content_dir: &Path,
    rel_path: &str,
    rules: &PostRules,
    max_bytes: u64,
) -> Result<Option<Post>, PostError> {
    use std::io::Read;
    let err = |kind: PostErrorKind| PostError {
        path: rel_path.into(),
        line: 1,
        kind,
    };
    let full = content_dir.join(rel_path);
    let file = std::fs::File::open(&full).map_err(|e| err(e.into()))?;
    let meta = file.metadata().map_err(|e| err(e.into()))?;
    if !meta.is_file() {
        return Ok(None);
    }
    if meta.len() > max_bytes {
        return Err(err(PostErrorKind::TooLarge {
            size: meta.len(),
            limit: max_bytes,
        }));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(max_bytes + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| err(e.into()))?;
    if bytes.len() as u64 > max_bytes {
        return Err(err(PostErrorKind::TooLarge {
            size: bytes.len() as u64,
            limit: max_bytes,
        }));
    }
    parse_bytes(rel_path, &bytes, rules)
}

/// Parses a post from the bytes of its file: `Post::parse` once they are checked to be
/// UTF-8. Pure, like `Post::parse`; `read_post` is the same with the reading.
pub fn parse_bytes(
    rel_path: &str,
    bytes: &[u8],
    rules: &PostRules,
) -> Result<Option<Post>, PostError> {
    // Validated with SIMD first (most of a CJK post's bytes are multi-byte characters,
    // which std's check takes one at a time: 7% of a build's instructions); std's
    // check runs only on a file that fails, for where it fails.
    if let Ok(text) = simdutf8::basic::from_utf8(bytes) {
        return Post::parse(rel_path, text, rules);
    }
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let at = e.valid_up_to();
        let line = 1 + bytes[..at].iter().filter(|b| **b == b'\n').count();
        PostError {
            path: rel_path.into(),
            line,
            kind: PostErrorKind::InvalidUtf8(at),
        }
    })?;
    Post::parse(rel_path, text, rules)
}

#[cfg(test)]
mod tests;
