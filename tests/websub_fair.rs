//! The hub's fair shares against callbacks that never answer, with the real binary: on
//! loopback addresses of their own (127.0.0.2–7, so each is a host of its own), they
//! must not hold up a healthy subscriber whose callback sorts after theirs, nor a new
//! subscriber's verification, and they still get their tries. Two delivery slots and
//! the default 15 s timeout: served in (due, callback) order, the healthy one would wait
//! three timeouts.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::TcpListener;
use std::time::{Duration, Instant};

use common::hub::*;
use common::receiver::{Answer, Receiver};
use common::{eventually, Daemon, Site};

fn on(ip: &str) -> Receiver {
    Receiver::start_on(TcpListener::bind(format!("{ip}:0")).unwrap())
}

#[test]
fn callbacks_that_never_answer_hold_up_neither_deliveries_nor_verifications() {
    let site = Site::fixture("site", &format!("{HUB}concurrent_deliveries = 2\n"));
    let d = Daemon::start(&site);
    let hanging: Vec<(String, Receiver)> = (2..=7)
        .map(|i| {
            let ip = format!("127.0.0.{i}");
            let r = on(&ip);
            r.answer("/deliveries", Answer::HangDeliveries);
            r.answer("/all", Answer::Hang);
            (ip, r)
        })
        .collect();
    let healthy = on("127.0.0.9");
    let url = |ip: &str, r: &Receiver, path: &str| format!("http://{ip}:{}{path}", r.port);
    for (ip, r) in &hanging {
        assert_eq!(
            subscribe(&d, SITE_ATOM, &url(ip, r, "/deliveries"), &[]).0,
            202
        );
    }
    let last = url("127.0.0.9", &healthy, "/ok");
    assert_eq!(subscribe(&d, SITE_ATOM, &last, &[]).0, 202);
    wait_subscribed(&site, 7);

    let edited = Instant::now();
    edit(&site, "公平");
    wait_delivery(&healthy, "/ok", "公平");
    let took = edited.elapsed();
    assert!(took < Duration::from_secs(5), "delivered after {took:?}");
    for (_, r) in &hanging {
        eventually("a try at every hanging callback", || {
            (!r.to("POST", "/deliveries").is_empty()).then_some(())
        });
    }

    for (ip, r) in &hanging {
        assert_eq!(subscribe(&d, SITE_ATOM, &url(ip, r, "/all"), &[]).0, 202);
    }
    let asked = Instant::now();
    let new = url("127.0.0.9", &healthy, "/new");
    assert_eq!(subscribe(&d, SITE_ATOM, &new, &[]).0, 202);
    wait_subscribed(&site, 8);
    let took = asked.elapsed();
    assert!(took < Duration::from_secs(5), "verified after {took:?}");
}
