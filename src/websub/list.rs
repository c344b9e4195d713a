//! `feedd websub list`: the database as a table for people.

use std::fmt::Write;

use super::ledger::Millis;
use super::store::Loaded;

/// One line per subscription, then a count; times in UTC.
pub fn table(loaded: &Loaded) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<60} {:<28} {:<20} {:<20} {:>8} owed",
        "topic", "callback host", "lease ends", "last delivery", "failures"
    );
    let owed: std::collections::HashSet<_> = loaded.owed.iter().map(|(k, _)| k).collect();
    for (key, sub) in &loaded.subs {
        let owed = owed.contains(key);
        let _ = writeln!(
            out,
            "{:<60} {:<28} {:<20} {:<20} {:>8} {}",
            key.topic,
            sub.host,
            time(Some(sub.expires)),
            time(sub.last_delivery),
            sub.failures,
            if owed { "yes" } else { "no" }
        );
        if let Some(error) = &sub.last_error {
            let _ = writeln!(out, "    last error: {error}");
        }
    }
    let _ = writeln!(
        out,
        "{} subscriptions, {} deliveries owed, {} announcements to external hubs owed",
        loaded.subs.len(),
        loaded.owed.len(),
        loaded.pings.len()
    );
    out
}

fn time(ms: Option<Millis>) -> String {
    let Some(ms) = ms else {
        return "never".into();
    };
    chrono::DateTime::from_timestamp_millis(ms as i64)
        .map(|t| t.format("%Y-%m-%d %H:%M:%SZ").to_string())
        .unwrap_or_else(|| "?".into())
}
