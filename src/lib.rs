//! feedd: Jekyll posts → site, per-category and per-tag feeds (Atom 1.0, RSS 2.0,
//! JSON Feed 1.1), built and kept current by one engine.
//!
//! Data flows one way:
//!
//! ```text
//!  content/ (scan, read)        drivers: build.rs (once) · daemon/ (watch → debounce)
//!        │ Change (path, bytes, stamp | gone)
//!        ▼
//!  engine/ ── post/ (parse) ── index (membership, order) ── render/ (bytes)
//!        │ Output: files → Sink, removed, FeedChange events, report
//!        ▼
//!  publish (disk: temp + rename)      daemon/publish → snapshot → serve/ (HTTP)
//! ```
//!
//! Everything from `engine` inward is pure (no I/O, no clock); `layout` is the one
//! place that knows where each feed lives.

pub(crate) mod apply;
pub mod archive;
pub(crate) mod background;
pub mod bodies;
pub mod build;
pub mod caches;
pub mod check;
pub(crate) mod compress;
pub mod config;
pub(crate) mod content;
pub mod custom;
pub mod daemon;
pub(crate) mod engine;
pub mod error;
pub(crate) mod escape;
pub(crate) mod hash;
pub mod http_settings;
pub(crate) mod index;
pub(crate) mod layout;
pub(crate) mod manifest;
pub(crate) mod metrics;
pub mod names;
pub(crate) mod output;
pub mod post;
pub mod query;
pub mod ratelimit;
pub(crate) mod render;
pub mod route;
pub mod serve;
pub mod snapshot;
pub mod stats;
pub mod systemd;
pub(crate) mod text;
pub(crate) mod url;
pub(crate) mod watch;
pub mod websub;
pub(crate) mod yaml;
