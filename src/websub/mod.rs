//! WebSub (W3C Recommendation): feedd as the hub of its own feeds, and as a publisher
//! that tells external hubs what changed. Pieces, from the pure core out:
//! `request` (a subscription request's form), `address` (which callbacks may be
//! reached), `ledger` (subscriptions, debts, backoff, leases), `store` (the SQLite
//! database the ledger is kept in), `client` (outgoing HTTP with the address checks),
//! `hub` (the driver: verification, distribution, announcements).

pub mod address;
pub mod client;
pub mod endpoint;
pub mod hub;
pub mod ledger;
pub mod list;
pub mod metrics;
pub mod request;
pub mod store;
