//! An independent WebSub subscriber against the hub: Flask-WebSub 0.4.1 (PyPI) discovers
//! the hub from a feed's Link header, subscribes with a secret, and receives the signed
//! notification of a change; its body must equal the feed as served. The library's venv
//! is made by `scripts/install-deps test` (target/peer-venv).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;
use std::process::Command;

use common::{Daemon, Site};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn flask_websub_subscribes_and_receives_a_signed_notification() {
    let python = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/peer-venv/bin/python");
    assert!(
        python.exists(),
        "{} is missing: run scripts/install-deps test (it installs Flask-WebSub 0.4.1)",
        python.display()
    );
    let (port, callback_port) = (free_port(), free_port());
    // The hub's and the topics' URLs must be where the subscriber can reach them.
    let site = Site::fixture(
        "site",
        &format!(
            "[site]\nurl = \"http://127.0.0.1:{port}\"\n[websub]\nallow_private_callbacks = true\n"
        ),
    );
    let d = Daemon::start_on(&site, &format!("127.0.0.1:{port}"));
    let feed = d.url("/categories/emnews/feed.xml");
    let out = site.path("notification.xml");
    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/peer/flask_websub_subscriber.py");
    let run = Command::new(&python)
        .arg(script)
        .arg(&feed)
        .arg(callback_port.to_string())
        .arg(site.path("content/_posts/2021-12-08-000002.md"))
        .arg("同行订阅者测试")
        .arg(&out)
        .output()
        .expect("run python");
    assert!(
        run.status.success(),
        "Flask-WebSub: {}\n{}\nfeedd: {}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr),
        d.log()
    );
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        stdout.contains(&format!("'hub_url': 'http://127.0.0.1:{port}/websub'")),
        "{stdout}"
    );
    let served = common::identity_client()
        .get(&feed)
        .send()
        .unwrap()
        .bytes()
        .unwrap();
    assert_eq!(std::fs::read(&out).unwrap(), served.to_vec());
}
