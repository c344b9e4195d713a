//! `config.toml`: the raw serde form (unknown keys refused), validated once into `Config`.
//! A Jekyll `_config.yml` in the content directory supplies defaults for the site keys, so
//! pointing feedd at an existing Jekyll site just works; `config.toml` overrides it.
//! `Config::parse` is pure (texts in, config out); `Config::load` does the reads.

use std::path::{Path, PathBuf};

use chrono_tz::Tz;
use serde::Deserialize;

use crate::content::pages::TermPage;
use crate::error::ConfigError;
use crate::layout::Format;
use crate::post::PostRules;
use crate::yaml::Yaml;

mod archives;
mod custom;
mod pages;
mod serve;
mod stats;
mod terms;
mod websub;
pub use archives::Archives;
pub use custom::{Custom, CustomFeeds, QuerySettings};
pub use pages::{Pages, Ui};
pub use serve::Serve;
pub use stats::Stats;
use terms::RawTerms;
pub use terms::TermFeeds;
pub use websub::{Leases, WebSub, HUB_PATH};

/// Default number of newest posts per feed.
pub const DEFAULT_LIMIT: usize = 50;
/// Default largest post file we read (bigger files are skipped with an error).
pub const DEFAULT_MAX_POST_BYTES: u64 = 8 * 1024 * 1024;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    content_dir: Option<PathBuf>,
    output_dir: Option<PathBuf>,
    permalink: Option<String>,
    limit: Option<usize>,
    formats: Option<Vec<String>>,
    future: Option<bool>,
    max_post_bytes: Option<u64>,
    precompress: Option<bool>,
    #[serde(default)]
    site: RawSite,
    #[serde(default)]
    categories: RawTerms,
    #[serde(default)]
    tags: RawTerms,
    #[serde(default)]
    serve: serve::RawServe,
    #[serde(default)]
    pages: pages::RawPages,
    #[serde(default)]
    archives: archives::RawArchives,
    #[serde(default)]
    websub: websub::RawWebSub,
    #[serde(default)]
    stats: stats::RawStats,
    #[serde(default)]
    custom: Vec<custom::RawCustom>,
    #[serde(default)]
    query: custom::RawQuery,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSite {
    title: Option<String>,
    description: Option<String>,
    url: Option<String>,
    baseurl: Option<String>,
    author: Option<String>,
    lang: Option<String>,
    timezone: Option<String>,
}

/// The validated configuration every other module reads.
#[derive(Debug, Clone)]
pub struct Config {
    pub content_dir: PathBuf,
    pub output_dir: PathBuf,
    pub site: Site,
    pub rules: PostRules,
    pub limit: usize,
    /// Enabled formats, in `Format::ALL` order, never empty.
    pub formats: Vec<Format>,
    pub future: bool,
    pub max_post_bytes: u64,
    /// Precompressed copies (`.gz`, `.br`, `.zst`) beside every published file, written
    /// by `feedd build` and `feedd serve` alike.
    pub precompress: bool,
    pub categories: TermFeeds,
    pub tags: TermFeeds,
    pub serve: Serve,
    pub pages: Pages,
    pub archives: Archives,
    pub websub: WebSub,
    pub stats: Stats,
    pub custom: CustomFeeds,
    pub query: QuerySettings,
}

/// Site-wide values the feeds carry.
#[derive(Debug, Clone, PartialEq)]
pub struct Site {
    pub title: String,
    pub description: String,
    pub url: String,
    pub baseurl: String,
    pub author: Option<String>,
    pub lang: Option<String>,
    /// Whether a timezone was given (here or in `_config.yml`) rather than defaulted to UTC.
    pub timezone_configured: bool,
}

impl Config {
    /// Reads `config.toml` and the content directory's `_config.yml` (if any); relative
    /// paths resolve against the folder of `config.toml`.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let in_toml = |source| ConfigError::Toml {
            path: path.to_path_buf(),
            source,
        };
        let raw: RawConfig = toml::from_str(&text).map_err(in_toml)?;
        let base = path.parent().unwrap_or(Path::new("."));
        let content_dir = base.join(raw.content_dir.as_deref().unwrap_or(Path::new("content")));
        let jekyll_path = content_dir.join("_config.yml");
        let jekyll = match std::fs::read_to_string(&jekyll_path) {
            Ok(text) => Some(text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(source) => {
                return Err(ConfigError::Read {
                    path: jekyll_path,
                    source,
                })
            }
        };
        let jekyll = match jekyll.as_deref().map(Yaml::parse) {
            None => Yaml::Null,
            Some(Ok(yaml)) => yaml,
            Some(Err(e)) => {
                return Err(ConfigError::JekyllConfig {
                    path: jekyll_path,
                    line: e.line,
                    source: e,
                })
            }
        };
        let database_given = raw.websub.database_given();
        let stats_database_given = raw.stats.database_given();
        let mut config = Config::validate(raw, &jekyll)?;
        config.content_dir = base.join(&config.content_dir);
        config.output_dir = base.join(&config.output_dir);
        // Never under output_dir (served as it is): it holds the subscribers' secrets.
        config.websub.database = match std::env::var_os("STATE_DIRECTORY") {
            Some(state) if !database_given => PathBuf::from(state).join(websub::DATABASE_FILE),
            _ => base.join(&config.websub.database),
        };
        let what = "subscribers' secrets";
        outside_output(
            &config.websub.database,
            &config.output_dir,
            "websub.database",
            what,
        )?;
        // Figures, not secrets; but the open day's key is private: beside the WebSub
        // database (the state directory), never under output_dir.
        config.stats.database = match stats_database_given {
            true => base.join(&config.stats.database),
            false => config.websub.database.with_file_name(stats::DATABASE_FILE),
        };
        let what = "the open day's key";
        outside_output(
            &config.stats.database,
            &config.output_dir,
            "stats.database",
            what,
        )?;
        let pages = crate::content::pages::find(&config.content_dir);
        config.add_term_pages(&pages);
        Ok(config)
    }

    /// Takes display titles and alternate links from the site's own term pages.
    pub fn add_term_pages(&mut self, pages: &[TermPage]) {
        let of = |kind| pages.iter().filter(move |p| p.kind == kind);
        self.categories
            .add_pages(of(crate::layout::FeedKind::Category));
        self.tags.add_pages(of(crate::layout::FeedKind::Tag));
    }

    /// Parses `config.toml` text and the text of the site's `_config.yml`, if any. Pure:
    /// paths stay as written (relative ones are relative to the config's folder).
    pub fn parse(toml_text: &str, jekyll_config: Option<&str>) -> Result<Config, ConfigError> {
        let raw: RawConfig = toml::from_str(toml_text).map_err(|source| ConfigError::Toml {
            path: PathBuf::from("config.toml"),
            source,
        })?;
        let jekyll = match jekyll_config.map(Yaml::parse) {
            None => Yaml::Null,
            Some(Ok(yaml)) => yaml,
            Some(Err(e)) => {
                return Err(ConfigError::JekyllConfig {
                    path: PathBuf::from("_config.yml"),
                    line: e.line,
                    source: e,
                })
            }
        };
        Config::validate(raw, &jekyll)
    }

    fn validate(raw: RawConfig, jekyll: &Yaml) -> Result<Config, ConfigError> {
        let invalid = |key: &str, message: String| ConfigError::Invalid {
            key: key.to_string(),
            message,
        };
        let jekyll_text = |key: &str| jekyll.get(key).and_then(Yaml::as_text);
        let timezone_given = raw
            .site
            .timezone
            .clone()
            .or_else(|| jekyll_text("timezone"));
        let timezone_configured = timezone_given.is_some();
        let timezone_name = timezone_given.unwrap_or_else(|| "UTC".to_string());
        let timezone: Tz = timezone_name.parse().map_err(|_| {
            invalid(
                "site.timezone",
                format!("`{timezone_name}` is not an IANA time zone name such as `Asia/Shanghai`"),
            )
        })?;
        let url = raw
            .site
            .url
            .or_else(|| jekyll_text("url"))
            .unwrap_or_default();
        if !(url.is_empty() || url.starts_with("http://") || url.starts_with("https://")) {
            return Err(invalid(
                "site.url",
                format!("`{url}` must be an absolute http(s) URL such as `https://example.com`"),
            ));
        }
        let jekyll_author = jekyll.get("author").and_then(|a| match a {
            Yaml::Map(_) => a.get("name").and_then(Yaml::as_text),
            other => other.as_text(),
        });
        let site = Site {
            title: raw
                .site
                .title
                .or_else(|| jekyll_text("title"))
                .or_else(|| jekyll_text("name"))
                .unwrap_or_default(),
            description: raw
                .site
                .description
                .or_else(|| jekyll_text("description"))
                .unwrap_or_default(),
            url: url.trim_end_matches('/').to_string(),
            baseurl: raw
                .site
                .baseurl
                .or_else(|| jekyll_text("baseurl"))
                .unwrap_or_default(),
            author: raw.site.author.or(jekyll_author).filter(|a| !a.is_empty()),
            lang: raw
                .site
                .lang
                .or_else(|| jekyll_text("lang"))
                .filter(|l| !l.is_empty()),
            timezone_configured,
        };
        let permalink = raw
            .permalink
            .or_else(|| jekyll_text("permalink"))
            .unwrap_or_else(|| "date".to_string());
        let excerpt_separator = jekyll
            .get("excerpt_separator")
            .map(Yaml::to_ruby_string)
            .unwrap_or_else(|| "\n\n".to_string());
        let limit = raw.limit.unwrap_or(DEFAULT_LIMIT);
        if limit == 0 {
            return Err(invalid("limit", "must be at least 1".into()));
        }
        let formats = match raw.formats {
            None => Format::ALL.to_vec(),
            Some(list) => {
                for name in &list {
                    if !Format::ALL.iter().any(|f| f.config_name() == name) {
                        return Err(invalid(
                            "formats",
                            format!("unknown format `{name}`; use \"atom\", \"rss\" or \"json\""),
                        ));
                    }
                }
                let on: Vec<Format> = Format::ALL
                    .into_iter()
                    .filter(|f| list.iter().any(|n| n == f.config_name()))
                    .collect();
                if on.is_empty() {
                    return Err(invalid("formats", "enable at least one format".into()));
                }
                on
            }
        };
        let serve = Serve::from_raw(&raw.serve)?;
        let pages = Pages::from_raw(raw.pages, site.lang.as_deref())?;
        let site_url = crate::url::SiteUrl::new(&site.url, &site.baseurl);
        Ok(Config {
            websub: WebSub::from_raw(raw.websub)?,
            stats: Stats::from_raw(raw.stats)?,
            custom: CustomFeeds::from_raw(raw.custom)?,
            query: QuerySettings::from_raw(raw.query)?,
            pages,
            archives: Archives::from_raw(raw.archives)?,
            serve,
            output_dir: raw.output_dir.unwrap_or_else(|| "feeds".into()),
            content_dir: raw.content_dir.unwrap_or_else(|| "content".into()),
            site,
            rules: PostRules {
                timezone,
                permalink,
                excerpt_separator,
                site_url,
            },
            limit,
            formats,
            future: raw.future.unwrap_or(false),
            max_post_bytes: raw.max_post_bytes.unwrap_or(DEFAULT_MAX_POST_BYTES),
            precompress: raw.precompress.unwrap_or(true),
            categories: TermFeeds::from_raw(raw.categories),
            tags: TermFeeds::from_raw(raw.tags),
        })
    }
}

/// A database must not be served: `output_dir` is, file by file.
fn outside_output(path: &Path, output: &Path, key: &str, holds: &str) -> Result<(), ConfigError> {
    match path.starts_with(output) {
        true => Err(ConfigError::Invalid {
            key: key.into(),
            message: format!(
                "{} is inside output_dir, which is served: it holds {holds}",
                path.display()
            ),
        }),
        false => Ok(()),
    }
}

#[cfg(test)]
mod tests;
