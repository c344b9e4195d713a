//! `[pages]`: the HTML pages for people (index, lists, one page per feed).

use serde::Deserialize;

use crate::error::ConfigError;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPages {
    enabled: Option<bool>,
    lang: Option<String>,
    entries: Option<usize>,
}

/// The language of the pages' own words (headings, buttons, help).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ui {
    Chinese,
    English,
}

impl Ui {
    /// From a language tag: Chinese for `zh…`, English otherwise.
    pub fn from_tag(tag: &str) -> Ui {
        let primary = tag.split(['-', '_']).next().unwrap_or("");
        if primary.eq_ignore_ascii_case("zh") {
            Ui::Chinese
        } else {
            Ui::English
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pages {
    pub enabled: bool,
    pub ui: Ui,
    /// Newest entries shown on a feed's page.
    pub entries: usize,
}

impl Pages {
    pub(super) fn from_raw(raw: RawPages, site_lang: Option<&str>) -> Result<Pages, ConfigError> {
        let ui = match raw.lang.as_deref() {
            None | Some("") => Ui::from_tag(site_lang.unwrap_or("en")),
            Some("zh") => Ui::Chinese,
            Some("en") => Ui::English,
            Some(other) => {
                return Err(invalid(
                    "pages.lang",
                    format!("`{other}` is not one of `zh`, `en`"),
                ))
            }
        };
        let entries = raw.entries.unwrap_or(20);
        if entries == 0 {
            return Err(invalid("pages.entries", "must be at least 1".into()));
        }
        Ok(Pages {
            enabled: raw.enabled.unwrap_or(true),
            ui,
            entries,
        })
    }
}

fn invalid(key: &str, message: String) -> ConfigError {
    ConfigError::Invalid {
        key: key.to_string(),
        message,
    }
}
