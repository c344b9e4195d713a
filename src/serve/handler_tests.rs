//! The handler as a plain function: requests in, responses out, no socket.
use super::*;
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

fn snapshot() -> Snapshot {
    let mut s = Snapshot::default();
    for rel in [
        "feed.xml",
        "tags/西海新闻/feed.xml",
        "tags/alpha/rss.xml",
        "tags/%2Fetc%2Fpasswd/feed.json",
    ] {
        let file = FeedFile::new(
            Bytes::from(format!("<feed>{rel}</feed>")),
            "application/atom+xml; charset=utf-8",
            UNIX_EPOCH + Duration::from_secs(1_700_000_000),
        );
        s.files.insert(rel.to_string(), Arc::new(file));
    }
    s
}

fn get(method: Method, path: &str, headers: &[(&str, &str)]) -> Response<Body> {
    let mut map = HeaderMap::new();
    for (k, v) in headers {
        map.insert(
            header::HeaderName::from_bytes(k.as_bytes()).unwrap(),
            HeaderValue::from_str(v).unwrap(),
        );
    }
    let snapshot = snapshot();
    let caches = crate::caches::Shared::new(&snapshot.settings).get(&snapshot.settings);
    respond(
        &method,
        path,
        None,
        &map,
        (&snapshot, &caches),
        &String::new,
        true,
    )
    .unwrap()
}

#[test]
fn feed_responses_carry_validators_and_304_when_current() {
    let r = get(Method::GET, "/feed.xml", &[]);
    assert_eq!(r.status(), StatusCode::OK);
    let etag = r.headers()[header::ETAG].to_str().unwrap().to_string();
    assert_eq!(
        r.headers()[header::CACHE_CONTROL],
        "public, max-age=300, stale-while-revalidate=60"
    );
    assert_eq!(r.headers()[header::VARY], "Accept-Encoding");
    assert!(r.headers().contains_key(header::LAST_MODIFIED));
    let r = get(Method::GET, "/feed.xml", &[("if-none-match", &etag)]);
    assert_eq!(r.status(), StatusCode::NOT_MODIFIED);
    for h in [
        header::ETAG,
        header::LAST_MODIFIED,
        header::CACHE_CONTROL,
        header::VARY,
    ] {
        assert!(r.headers().contains_key(&h), "{h}");
    }
    let r = get(Method::GET, "/feed.xml", &[("accept-encoding", "gzip")]);
    assert_eq!(r.headers()[header::CONTENT_ENCODING], "gzip");
    let gz_tag = r.headers()[header::ETAG].to_str().unwrap().to_string();
    assert_ne!(gz_tag, etag);
    let r = get(
        Method::GET,
        "/feed.xml",
        &[("if-none-match", &format!("W/{gz_tag}"))],
    );
    assert_eq!(r.status(), StatusCode::NOT_MODIFIED);
}

#[test]
fn head_has_get_headers_and_no_body() {
    let g = get(Method::GET, "/feed.xml", &[]);
    let h = get(Method::HEAD, "/feed.xml", &[]);
    assert_eq!(g.headers(), h.headers());
    assert_eq!(hyper::body::Body::size_hint(h.body()).exact(), Some(0));
}

#[test]
fn other_methods_are_405_with_allow() {
    let r = get(Method::POST, "/feed.xml", &[]);
    assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(r.headers()[header::ALLOW], "GET, HEAD");
    assert_eq!(
        get(Method::GET, "/missing.xml", &[]).status(),
        StatusCode::NOT_FOUND
    );
}
