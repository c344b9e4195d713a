//! feedd: Jekyll posts → site, per-category and per-tag feeds (Atom 1.0, RSS 2.0,
//! JSON Feed 1.1).
//!
//! Data flows one way: `post` (parse) → `index` (group, order) → `render` (bytes) →
//! `publish` (files). Everything up to `render` is pure; `build::scan`/`load` and `publish`
//! are the I/O edges.

pub mod build;
pub mod check;
pub mod config;
pub mod daemon;
pub mod error;
pub mod hash;
pub mod index;
pub mod metrics;
pub mod names;
pub mod post;
pub mod publish;
pub mod render;
pub mod serve;
pub mod site;
pub mod snapshot;
pub mod systemd;
pub mod text;
pub mod url;
pub mod watch;
pub mod yaml;
