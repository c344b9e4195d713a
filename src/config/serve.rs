//! `[serve]`: how `feedd serve` listens, caches, debounces and times out.

use serde::Deserialize;

use crate::error::ConfigError;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawServe {
    listen: Option<String>,
    max_age: Option<u64>,
    stale_while_revalidate: Option<u64>,
    debounce_ms: Option<u64>,
    max_wait_ms: Option<u64>,
    max_connections: Option<usize>,
    header_timeout_ms: Option<u64>,
    idle_timeout_ms: Option<u64>,
    shutdown_timeout_ms: Option<u64>,
    full_downloads_per_minute: Option<u32>,
    body_cache_mib: Option<u64>,
    entries_mib: Option<u64>,
    workers: Option<usize>,
}

/// `feedd serve` settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Serve {
    pub listen: std::net::SocketAddr,
    pub max_age: u64,
    pub stale_while_revalidate: u64,
    /// Quiet time that ends a burst of raw writes before a rebuild.
    pub debounce: std::time::Duration,
    /// Longest a never-ending stream of writes can delay a rebuild.
    pub max_wait: std::time::Duration,
    pub max_connections: usize,
    pub header_timeout: std::time::Duration,
    pub idle_timeout: std::time::Duration,
    pub shutdown_timeout: std::time::Duration,
    /// Per-client limit on full (200) feed downloads; 0 = off.
    pub full_downloads_per_minute: u32,
    /// Memory for the bodies of the most requested files (MiB; 0 = read every one from
    /// disk).
    pub body_cache_mib: u64,
    /// Memory for rendered entries kept to render feeds again (MiB): the newest posts'
    /// fit; a feed that needs an older one reads its post file again.
    pub entries_mib: u64,
    /// Threads answering requests (0: one per core).
    pub workers: usize,
}

const DEFAULT_LISTEN: &str = "127.0.0.1:8080";

impl Default for Serve {
    fn default() -> Serve {
        let ms = std::time::Duration::from_millis;
        Serve {
            listen: std::net::SocketAddr::from(([127, 0, 0, 1], 8080)),
            max_age: 300,
            stale_while_revalidate: 60,
            debounce: ms(200),
            max_wait: ms(2000),
            max_connections: 4096,
            header_timeout: ms(10_000),
            idle_timeout: ms(60_000),
            shutdown_timeout: ms(10_000),
            full_downloads_per_minute: 0,
            body_cache_mib: 32,
            entries_mib: 64,
            workers: 0,
        }
    }
}

impl Serve {
    /// Settings a running server cannot change (its socket and connection pool): a reload
    /// that changes them logs that a restart is needed.
    pub fn needs_restart(&self, new: &Serve) -> Vec<&'static str> {
        let mut keys = Vec::new();
        if self.listen != new.listen {
            keys.push("serve.listen");
        }
        if self.max_connections != new.max_connections {
            keys.push("serve.max_connections");
        }
        if self.workers != new.workers {
            keys.push("serve.workers");
        }
        keys
    }
}

impl Serve {
    pub(super) fn from_raw(serve: &RawServe) -> Result<Serve, ConfigError> {
        let invalid = |key: &str, message: String| ConfigError::Invalid {
            key: key.to_string(),
            message,
        };
        let ms = std::time::Duration::from_millis;
        let listen = serve
            .listen
            .clone()
            .unwrap_or_else(|| DEFAULT_LISTEN.into());
        let d = Serve::default();
        let valid = Serve {
            listen: listen.parse().map_err(|_| {
                invalid(
                    "serve.listen",
                    format!("`{listen}` is not an address such as `127.0.0.1:8080`"),
                )
            })?,
            max_age: serve.max_age.unwrap_or(d.max_age),
            stale_while_revalidate: serve
                .stale_while_revalidate
                .unwrap_or(d.stale_while_revalidate),
            debounce: serve.debounce_ms.map_or(d.debounce, ms),
            max_wait: serve.max_wait_ms.map_or(d.max_wait, ms),
            max_connections: serve.max_connections.unwrap_or(d.max_connections),
            header_timeout: serve.header_timeout_ms.map_or(d.header_timeout, ms),
            idle_timeout: serve.idle_timeout_ms.map_or(d.idle_timeout, ms),
            full_downloads_per_minute: serve
                .full_downloads_per_minute
                .unwrap_or(d.full_downloads_per_minute),
            shutdown_timeout: serve.shutdown_timeout_ms.map_or(d.shutdown_timeout, ms),
            body_cache_mib: serve.body_cache_mib.unwrap_or(d.body_cache_mib),
            entries_mib: serve.entries_mib.unwrap_or(d.entries_mib),
            workers: serve.workers.unwrap_or(d.workers),
        };
        if valid.max_connections == 0 {
            return Err(invalid(
                "serve.max_connections",
                "must be at least 1".into(),
            ));
        }
        Ok(valid)
    }
}
