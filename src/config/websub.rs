//! `[websub]`: the built-in hub (subscriptions, leases, limits, deliveries) and the
//! external hubs feedd announces changes to.

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use crate::error::ConfigError;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawWebSub {
    hub: Option<bool>,
    hub_url: Option<String>,
    hubs: Option<Vec<String>>,
    database: Option<PathBuf>,
    lease_seconds: Option<u64>,
    min_lease_seconds: Option<u64>,
    max_lease_seconds: Option<u64>,
    allow_private_callbacks: Option<bool>,
    max_subscriptions: Option<usize>,
    max_subscriptions_per_host: Option<usize>,
    requests_per_minute: Option<u32>,
    concurrent_deliveries: Option<usize>,
    connect_timeout_ms: Option<u64>,
    timeout_ms: Option<u64>,
    retry_first_ms: Option<u64>,
    retry_max_ms: Option<u64>,
}

impl RawWebSub {
    /// Whether `database` was set (else under systemd it goes to the state directory).
    pub(super) fn database_given(&self) -> bool {
        self.database.is_some()
    }
}

/// The validated `[websub]` table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebSub {
    /// Whether feedd is a hub for its own feeds (advertised in them, `POST /websub`).
    pub hub: bool,
    /// The built-in hub's public URL; `None`: the site's URL + baseurl + `/websub`.
    pub hub_url: Option<String>,
    /// External hubs advertised too and told of every change (`hub.mode=publish`).
    pub hubs: Vec<String>,
    /// The subscription database; relative to the config's folder until `Config::load`.
    pub database: PathBuf,
    pub lease: Leases,
    pub allow_private_callbacks: bool,
    pub max_subscriptions: usize,
    pub max_subscriptions_per_host: usize,
    /// Subscription requests per minute from one client address.
    pub requests_per_minute: u32,
    pub concurrent_deliveries: usize,
    pub connect_timeout: Duration,
    /// Whole request, from connect to the last byte of the answer.
    pub timeout: Duration,
    /// The first retry after a failed delivery; each next one waits twice as long.
    pub retry_first: Duration,
    pub retry_max: Duration,
}

/// Lease bounds, in seconds: every subscription ends, none is perpetual.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Leases {
    pub default: u64,
    pub min: u64,
    pub max: u64,
}

impl Leases {
    /// The lease granted for a requested one (absent: the default), within the bounds.
    pub fn grant(&self, requested: Option<u64>) -> u64 {
        requested.unwrap_or(self.default).clamp(self.min, self.max)
    }
}

/// The longest lease that may be configured: a year (never perpetual).
const MAX_LEASE: u64 = 366 * 86_400;

/// The database file name when none is configured.
pub const DATABASE_FILE: &str = "websub.sqlite3";

impl Default for WebSub {
    fn default() -> WebSub {
        let ms = Duration::from_millis;
        WebSub {
            hub: true,
            hub_url: None,
            hubs: Vec::new(),
            database: PathBuf::from(DATABASE_FILE),
            lease: Leases {
                default: 10 * 86_400,
                min: 3_600,
                max: 31 * 86_400,
            },
            allow_private_callbacks: false,
            max_subscriptions: 100_000,
            max_subscriptions_per_host: 1_000,
            requests_per_minute: 60,
            concurrent_deliveries: 64,
            connect_timeout: ms(5_000),
            timeout: ms(15_000),
            retry_first: ms(10_000),
            retry_max: ms(3_600_000),
        }
    }
}

impl WebSub {
    pub(super) fn from_raw(raw: RawWebSub) -> Result<WebSub, ConfigError> {
        let d = WebSub::default();
        let ms = Duration::from_millis;
        let lease = Leases {
            default: raw.lease_seconds.unwrap_or(d.lease.default),
            min: raw.min_lease_seconds.unwrap_or(d.lease.min),
            max: raw.max_lease_seconds.unwrap_or(d.lease.max),
        };
        if lease.max > MAX_LEASE {
            return Err(invalid(
                "websub.max_lease_seconds",
                format!("must be at most {MAX_LEASE} (a year)"),
            ));
        }
        if lease.min == 0 || lease.min > lease.max {
            return Err(invalid(
                "websub.min_lease_seconds",
                format!(
                    "must be at least 1 and at most max_lease_seconds ({})",
                    lease.max
                ),
            ));
        }
        if !(lease.min..=lease.max).contains(&lease.default) {
            return Err(invalid(
                "websub.lease_seconds",
                format!("must lie between {} and {}", lease.min, lease.max),
            ));
        }
        let hubs = raw.hubs.unwrap_or_default();
        for (key, url) in hubs
            .iter()
            .map(|h| ("websub.hubs", h))
            .chain(raw.hub_url.iter().map(|h| ("websub.hub_url", h)))
        {
            let parsed = url::Url::parse(url).ok().filter(|u| u.host().is_some());
            if !(url.starts_with("http://") || url.starts_with("https://")) || parsed.is_none() {
                return Err(invalid(
                    key,
                    format!("`{url}` must be an absolute http(s) URL"),
                ));
            }
        }
        let websub = WebSub {
            hub: raw.hub.unwrap_or(d.hub),
            hub_url: raw.hub_url,
            hubs,
            database: raw.database.unwrap_or(d.database),
            lease,
            allow_private_callbacks: raw
                .allow_private_callbacks
                .unwrap_or(d.allow_private_callbacks),
            max_subscriptions: raw.max_subscriptions.unwrap_or(d.max_subscriptions),
            max_subscriptions_per_host: raw
                .max_subscriptions_per_host
                .unwrap_or(d.max_subscriptions_per_host),
            requests_per_minute: raw.requests_per_minute.unwrap_or(d.requests_per_minute),
            concurrent_deliveries: raw.concurrent_deliveries.unwrap_or(d.concurrent_deliveries),
            connect_timeout: raw.connect_timeout_ms.map_or(d.connect_timeout, ms),
            timeout: raw.timeout_ms.map_or(d.timeout, ms),
            retry_first: raw.retry_first_ms.map_or(d.retry_first, ms),
            retry_max: raw.retry_max_ms.map_or(d.retry_max, ms),
        };
        if websub.concurrent_deliveries == 0 {
            return Err(invalid(
                "websub.concurrent_deliveries",
                "must be at least 1".into(),
            ));
        }
        if websub.retry_first.is_zero() || websub.retry_first > websub.retry_max {
            return Err(invalid(
                "websub.retry_first_ms",
                "must be at least 1 and at most retry_max_ms".into(),
            ));
        }
        if websub.timeout.is_zero() || websub.connect_timeout.is_zero() {
            return Err(invalid("websub.timeout_ms", "must be at least 1".into()));
        }
        Ok(websub)
    }

    /// Every hub the feeds advertise: the built-in one (when on) first, then `hubs`.
    /// Without a site URL the built-in hub has no absolute URL and topics would be
    /// paths: it is not advertised then (unless `hub_url` is set).
    pub fn advertised(&self, site_url: &crate::url::SiteUrl) -> Vec<String> {
        let own = self.own(site_url);
        own.into_iter().chain(self.hubs.iter().cloned()).collect()
    }

    /// The built-in hub's URL, when it is on and has one: the only hub custom feeds
    /// asked for in a URL advertise (external hubs are told of published files only).
    pub fn own(&self, site_url: &crate::url::SiteUrl) -> Option<String> {
        let own = self.hub.then(|| match &self.hub_url {
            Some(url) => Some(url.clone()),
            None => site_url.has_origin().then(|| site_url.absolute(HUB_PATH)),
        });
        own.flatten()
    }
}

/// Where the built-in hub answers, under the site's baseurl.
pub const HUB_PATH: &str = "/websub";

fn invalid(key: &str, message: String) -> ConfigError {
    ConfigError::Invalid {
        key: key.to_string(),
        message,
    }
}
