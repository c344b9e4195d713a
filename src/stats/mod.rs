//! Who reads each feed: subscriber counts per feed and day, from the aggregators' own
//! reports in their User-Agents, distinct direct readers, and WebSub subscriptions.
//! `agent` classifies a poll, `day` counts one day, `store` keeps the figures, `report`
//! sums them per feed for `feedd stats`, `access_log` counts from nginx logs, and `live`
//! is the server's side.

pub mod access_log;
pub mod agent;
pub mod day;
pub mod live;
pub mod report;
pub mod store;
