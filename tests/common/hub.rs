//! Helpers for the WebSub tests: subscription requests, `feedd websub list`, edits.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use super::receiver::{Received, Receiver};
use super::{eventually, write_atomically, Daemon, Site};

/// Private callbacks allowed (everything here is on 127.0.0.1), short leases and retries.
pub const HUB: &str = "[websub]\nallow_private_callbacks = true\nmin_lease_seconds = 1\nretry_first_ms = 200\nretry_max_ms = 800\n";

pub const SITE_ATOM: &str = "https://fixture.example/feed.xml";
pub const SITE_RSS: &str = "https://fixture.example/rss.xml";
pub const EMNEWS_JSON: &str = "https://fixture.example/categories/emnews/feed.json";

pub fn post_form(d: &Daemon, fields: &[(&str, &str)]) -> (u16, String) {
    let body: String = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields)
        .finish();
    let r = reqwest::blocking::Client::new()
        .post(d.url("/websub"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .expect("POST /websub");
    (r.status().as_u16(), r.text().unwrap_or_default())
}

pub fn subscribe(d: &Daemon, topic: &str, callback: &str, extra: &[(&str, &str)]) -> (u16, String) {
    let mut fields = vec![
        ("hub.mode", "subscribe"),
        ("hub.topic", topic),
        ("hub.callback", callback),
    ];
    fields.extend_from_slice(extra);
    post_form(d, &fields)
}

/// `feedd websub list` as a user runs it, beside the running daemon.
pub fn list(site: &Site) -> String {
    let out = site.feedd(&["websub", "list"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Waits until `n` subscriptions are in the database (verification done and saved).
pub fn wait_subscribed(site: &Site, n: usize) {
    eventually(&format!("{n} subscriptions listed"), || {
        list(site)
            .contains(&format!("\n{n} subscriptions,"))
            .then_some(())
    });
}

/// Changes one post's title: the site feeds and emnews change.
pub fn edit(site: &Site, title: &str) {
    let post = site.path("content/_posts/2021-12-08-000002.md");
    let text = std::fs::read_to_string(&post).unwrap();
    let start = text.find("title:").unwrap();
    let end = start + text[start..].find('\n').unwrap();
    write_atomically(
        &post,
        &format!("{}title: {title}{}", &text[..start], &text[end..]),
    );
}

pub fn deliveries(r: &Receiver, path: &str) -> Vec<Received> {
    r.to("POST", path)
}

pub fn delivered(r: &Receiver, path: &str, containing: &str) -> bool {
    deliveries(r, path)
        .iter()
        .any(|d| String::from_utf8_lossy(&d.body).contains(containing))
}

pub fn wait_delivery(r: &Receiver, path: &str, containing: &str) -> Received {
    eventually(
        &format!("a delivery to {path} containing {containing}"),
        || {
            deliveries(r, path)
                .into_iter()
                .find(|d| String::from_utf8_lossy(&d.body).contains(containing))
        },
    )
}
