//! `[archives]`: RFC 5005 archived feeds beside every feed (see `crate::archive`).

use serde::Deserialize;

use crate::error::ConfigError;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawArchives {
    enabled: Option<bool>,
    page_size: Option<usize>,
    summaries: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Archives {
    pub enabled: bool,
    /// The mean number of posts an archive document holds (a page is at most four times
    /// that).
    pub page_size: usize,
    /// Whether archived entries carry their summary (each post's is kept in memory then,
    /// and the archives are about three times larger).
    pub summaries: bool,
}

impl Default for Archives {
    fn default() -> Archives {
        Archives {
            enabled: true,
            page_size: 50,
            summaries: false,
        }
    }
}

impl Archives {
    pub(super) fn from_raw(raw: RawArchives) -> Result<Archives, ConfigError> {
        let default = Archives::default();
        let page_size = raw.page_size.unwrap_or(default.page_size);
        if !(4..=10_000).contains(&page_size) {
            return Err(ConfigError::Invalid {
                key: "archives.page_size".into(),
                message: format!("{page_size} is not between 4 and 10000"),
            });
        }
        Ok(Archives {
            enabled: raw.enabled.unwrap_or(default.enabled),
            page_size,
            summaries: raw.summaries.unwrap_or(default.summaries),
        })
    }
}
