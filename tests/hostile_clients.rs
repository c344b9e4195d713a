//! Hostile clients over raw TCP against the real binary: each gets the right 4xx or a
//! closed connection within a bounded time, and everyone else keeps being answered.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::{Daemon, Site};

fn start() -> (Site, Daemon, String) {
    let site = Site::fixture(
        "site",
        "[serve]\nheader_timeout_ms = 700\nidle_timeout_ms = 1000\nmax_connections = 2000\n",
    );
    let d = Daemon::start(&site);
    let addr = d.base.trim_start_matches("http://").to_string();
    (site, d, addr)
}

/// Sends raw bytes, returns what came back before the server closed (10 s bound).
fn raw(addr: &str, bytes: &[u8]) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let _ = s.write_all(bytes);
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

fn status(answer: &str) -> &str {
    answer.split(' ').nth(1).unwrap_or("closed")
}

fn healthy(addr: &str) -> bool {
    raw(
        addr,
        b"GET /feed.xml HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    .starts_with("HTTP/1.1 200")
}

#[test]
fn slowloris_is_cut_off_and_others_are_served() {
    let (_site, _d, addr) = start();
    let mut slow = TcpStream::connect(&addr).unwrap();
    slow.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let started = Instant::now();
    let mut closed = false;
    for b in b"GET /feed.xml HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" {
        if slow.write_all(&[*b]).is_err() {
            closed = true;
            break;
        }
        assert!(healthy(&addr), "others are still answered");
        std::thread::sleep(Duration::from_millis(100));
    }
    let mut rest = Vec::new();
    let _ = slow.read_to_end(&mut rest);
    assert!(
        closed || rest.is_empty() || String::from_utf8_lossy(&rest).starts_with("HTTP/1.1 408")
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn malformed_and_abusive_requests_get_4xx_or_a_closed_connection() {
    let (_site, _d, addr) = start();
    let big_header = format!(
        "GET / HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
        "a".repeat(64 * 1024)
    );
    let big_uri = format!(
        "GET /{} HTTP/1.1\r\nHost: x\r\n\r\n",
        "a".repeat(100 * 1024)
    );
    let rows: Vec<(&str, Vec<u8>, &[&str])> = vec![
        ("oversized header", big_header.into_bytes(), &["431", "400", "closed"]),
        ("oversized URI", big_uri.into_bytes(), &["414", "431", "400", "closed"]),
        ("unknown method", b"BREW /feed.xml HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".to_vec(), &["405"]),
        ("garbage request line", b"\x00\x01\x02 nonsense\r\n\r\n".to_vec(), &["400", "closed"]),
        ("bad version", b"GET /feed.xml HTTP/9.9\r\nHost: x\r\n\r\n".to_vec(), &["505", "400", "closed"]),
        (
            "CL and TE together (smuggling)",
            b"POST /feed.xml HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /admin HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(),
            &["400", "405", "closed"],
        ),
        ("dot-dot", b"GET /../../etc/passwd HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".to_vec(), &["404", "400"]),
        ("encoded dot-dot", b"GET /%2e%2e%2f%2e%2e%2fetc%2fpasswd HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".to_vec(), &["404"]),
        ("overlong UTF-8", b"GET /%c0%ae%c0%ae/etc/passwd HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".to_vec(), &["404"]),
        ("backslashes", b"GET /..\\..\\etc\\passwd HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".to_vec(), &["404", "400"]),
        ("NUL", b"GET /feed.xml%00.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".to_vec(), &["404"]),
    ];
    for (what, bytes, allowed) in rows {
        let started = Instant::now();
        let answer = raw(&addr, &bytes);
        let code = status(&answer);
        assert!(
            allowed.contains(&code),
            "{what}: got {code}: {}",
            &answer[..answer.len().min(200)]
        );
        assert!(!answer.contains("root:"), "{what}");
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{what}: {:?}",
            started.elapsed()
        );
        assert!(healthy(&addr), "after {what}");
    }
}

#[test]
fn pipelined_requests_are_answered_in_order() {
    let (_site, _d, addr) = start();
    let answer = raw(
        &addr,
        b"GET /feed.xml HTTP/1.1\r\nHost: x\r\n\r\nHEAD /rss.xml HTTP/1.1\r\nHost: x\r\n\r\nGET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    let codes: Vec<&str> = answer
        .match_indices("HTTP/1.1 ")
        .map(|(i, _)| &answer[i + 9..i + 12])
        .collect();
    assert_eq!(
        codes,
        ["200", "200", "404"],
        "{}",
        &answer[..answer.len().min(300)]
    );
}

#[test]
fn many_idle_connections_do_not_starve_others() {
    let (_site, _d, addr) = start();
    let idle: Vec<TcpStream> = (0..300)
        .map(|_| TcpStream::connect(&addr).unwrap())
        .collect();
    for _ in 0..20 {
        assert!(healthy(&addr));
    }
    // Idle connections are closed by the header timeout.
    std::thread::sleep(Duration::from_millis(1500));
    let mut closed = 0;
    for mut s in idle {
        s.set_read_timeout(Some(Duration::from_millis(500)))
            .unwrap();
        let mut buf = [0u8; 64];
        if matches!(s.read(&mut buf), Ok(0)) {
            closed += 1;
        }
    }
    assert_eq!(closed, 300, "idle connections were not closed");
    assert!(healthy(&addr));
}

/// An h2c connection's preface and empty SETTINGS frame.
const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00";
/// An HTTP/2 PING frame (8 bytes of opaque data, stream 0).
const H2_PING: &[u8] = b"\x00\x00\x08\x06\x00\x00\x00\x00\x00pingping";

/// Connections that keep the cap busy with HTTP/2 frames but never a request (PINGs
/// every 200 ms, or only the preface) are closed after `idle_timeout_ms`, and new
/// clients are answered again; a client that did make requests is closed the same
/// time after its last one.
#[test]
fn http2_connections_sending_only_pings_are_closed_when_idle() {
    let site = Site::fixture(
        "site",
        "[serve]\nheader_timeout_ms = 700\nidle_timeout_ms = 1000\nmax_connections = 4\n",
    );
    let d = Daemon::start(&site);
    let addr = d.base.trim_start_matches("http://").to_string();
    let open = |pings: bool| {
        let addr = addr.clone();
        std::thread::spawn(move || {
            let mut s = TcpStream::connect(&addr).unwrap();
            s.set_read_timeout(Some(Duration::from_millis(200)))
                .unwrap();
            let started = Instant::now();
            s.write_all(H2_PREFACE).unwrap();
            let mut buf = [0u8; 256];
            while started.elapsed() < Duration::from_secs(10) {
                if pings && s.write_all(H2_PING).is_err() {
                    break;
                }
                match s.read(&mut buf) {
                    Ok(0) => break,
                    Err(e)
                        if e.kind() != std::io::ErrorKind::WouldBlock
                            && e.kind() != std::io::ErrorKind::TimedOut =>
                    {
                        break
                    }
                    _ => {}
                }
            }
            started.elapsed()
        })
    };
    let idlers: Vec<_> = (0..3).map(|_| open(true)).chain([open(false)]).collect();
    std::thread::sleep(Duration::from_millis(300));
    // The cap is full: a new client waits (or is refused) while they hold it.
    let refused_at = Instant::now();
    while !healthy(&addr) {
        assert!(
            refused_at.elapsed() < Duration::from_secs(10),
            "never answered"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let waited = refused_at.elapsed();
    for idler in idlers {
        let lasted = idler.join().unwrap();
        assert!(
            lasted < Duration::from_secs(3),
            "an idle h2 connection lasted {lasted:?}"
        );
    }
    assert!(waited < Duration::from_secs(3), "{waited:?}");
}

#[test]
fn full_downloads_are_rate_limited_but_304s_are_not() {
    let site = Site::fixture("site", "[serve]\nfull_downloads_per_minute = 3\n");
    let d = Daemon::start(&site);
    let addr = d.base.trim_start_matches("http://").to_string();
    let get = |extra: &str| {
        raw(
            &addr,
            format!("GET /feed.xml HTTP/1.1\r\nHost: x\r\n{extra}Connection: close\r\n\r\n")
                .as_bytes(),
        )
    };
    let first = get("");
    let etag = first
        .lines()
        .find_map(|l| l.strip_prefix("etag: "))
        .unwrap()
        .trim()
        .to_string();
    assert_eq!(status(&get("")), "200");
    assert_eq!(status(&get("")), "200");
    let limited = get("");
    assert_eq!(status(&limited), "429", "{limited}");
    assert!(
        limited.contains("retry-after: ") && limited.contains("cache-control: no-store"),
        "{limited}"
    );
    for _ in 0..20 {
        assert_eq!(status(&get(&format!("If-None-Match: {etag}\r\n"))), "304");
    }
}

/// Reads a process's resident memory in KiB.
fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// 10,000 keep-alive connections that made a request and went quiet: a new client is
/// still answered at once. Prints the memory each idle connection costs.
#[test]
fn ten_thousand_idle_keep_alive_connections_and_a_new_client_is_answered_at_once() {
    const IDLE: usize = 10_000;
    // Both ends need a descriptor per connection (the unit allows 65,536).
    let want = (IDLE + 1_000) as libc::rlim_t;
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit write to and read from a valid rlimit.
    unsafe {
        libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit);
        if limit.rlim_cur < want {
            let raised = libc::rlimit {
                rlim_cur: want.max(limit.rlim_cur),
                rlim_max: want.max(limit.rlim_max),
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) != 0 {
                eprintln!("skipped: cannot raise the open-file limit to {want}");
                return;
            }
        }
    }
    let site = Site::fixture(
        "site",
        "[serve]\nidle_timeout_ms = 120000\nheader_timeout_ms = 120000\nmax_connections = 20000\n",
    );
    let d = Daemon::start(&site);
    let addr = d.base.trim_start_matches("http://").to_string();
    assert!(healthy(&addr));
    let before = rss_kib(d.child.id());
    let t0 = Instant::now();
    let mut idle = Vec::with_capacity(IDLE);
    for _ in 0..IDLE {
        let mut s = TcpStream::connect(&addr).unwrap();
        s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        idle.push(s);
    }
    // Every one was answered and is kept open (keep-alive).
    for s in &mut idle {
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut buf = [0u8; 512];
        let n = s.read(&mut buf).unwrap();
        assert!(buf[..n].starts_with(b"HTTP/1.1 200"));
    }
    eprintln!(
        "connected and answered in {:.1} s",
        t0.elapsed().as_secs_f64()
    );
    std::thread::sleep(Duration::from_millis(300));
    let after = rss_kib(d.child.id());
    let mut worst = Duration::ZERO;
    for _ in 0..20 {
        let started = Instant::now();
        assert!(healthy(&addr));
        worst = worst.max(started.elapsed());
    }
    eprintln!(
        "{IDLE} idle keep-alive connections: feedd RSS {before} KiB -> {after} KiB, {:.1} KiB each; a new client answered in at most {:.1} ms",
        (after.saturating_sub(before)) as f64 / IDLE as f64,
        worst.as_secs_f64() * 1e3
    );
    assert!(worst < Duration::from_millis(100), "{worst:?}");
    drop(idle);
}
