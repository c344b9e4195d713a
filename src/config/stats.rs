//! `[stats]`: counting who reads each feed (see `crate::stats`).

use std::net::IpAddr;
use std::path::PathBuf;

use serde::Deserialize;

use crate::error::ConfigError;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawStats {
    enabled: Option<bool>,
    public: Option<bool>,
    trusted_proxies: Option<Vec<String>>,
    database: Option<PathBuf>,
    save_seconds: Option<u64>,
}

impl RawStats {
    pub(super) fn database_given(&self) -> bool {
        self.database.is_some()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Stats {
    /// Whether `serve` counts polls (on by default: it stores no address).
    pub enabled: bool,
    /// Whether pages show the numbers (off by default; `/metrics` and `feedd stats`
    /// always have them).
    pub public: bool,
    /// Reverse proxies whose `X-Forwarded-For` names the client.
    pub trusted_proxies: Vec<IpAddr>,
    /// The figures' database; beside the WebSub database unless set.
    pub database: PathBuf,
    /// How often the open day is saved: at most this much counting is lost to a crash.
    pub save_every: std::time::Duration,
}

/// The database file name when none is configured.
pub const DATABASE_FILE: &str = "stats.sqlite3";

impl Default for Stats {
    fn default() -> Stats {
        Stats {
            enabled: true,
            public: false,
            trusted_proxies: Vec::new(),
            database: PathBuf::from(DATABASE_FILE),
            save_every: std::time::Duration::from_secs(60),
        }
    }
}

impl Stats {
    pub(super) fn from_raw(raw: RawStats) -> Result<Stats, ConfigError> {
        let d = Stats::default();
        let mut proxies = Vec::new();
        for text in raw.trusted_proxies.unwrap_or_default() {
            let ip = text
                .trim()
                .parse::<IpAddr>()
                .map_err(|_| ConfigError::Invalid {
                    key: "stats.trusted_proxies".into(),
                    message: format!("`{text}` is not an IP address such as `127.0.0.1`"),
                })?;
            proxies.push(ip);
        }
        Ok(Stats {
            enabled: raw.enabled.unwrap_or(d.enabled),
            public: raw.public.unwrap_or(d.public),
            trusted_proxies: proxies,
            database: raw.database.unwrap_or(d.database),
            save_every: match raw.save_seconds {
                Some(0) => {
                    return Err(ConfigError::Invalid {
                        key: "stats.save_seconds".into(),
                        message: "must be at least 1".into(),
                    })
                }
                Some(s) => std::time::Duration::from_secs(s),
                None => d.save_every,
            },
        })
    }
}
