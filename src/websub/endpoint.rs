//! `POST <baseurl>/websub`: the subscriber's side of the hub. A request is checked at
//! once — form, topic, callback address literal, rate, limits — and answered 4xx with a
//! one-line reason, or 202 Accepted; verification follows asynchronously and its result
//! never changes that answer. A topic that is not one of this server's feeds is refused
//! at once with 400 (WebSub §5.1 lets a hub reject a request immediately), not with a
//! later `hub.mode=denied`.

use std::net::IpAddr;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::header::{self, HeaderValue};
use hyper::{Method, Response, StatusCode};

use super::hub::{Cmd, Hub, Refused};
use super::ledger::Key;
use super::request::{Mode, Request, MAX_BODY};

/// Time to receive a subscription request's body.
const BODY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);
/// The same body type as the server's responses.
type Body = http_body_util::Full<bytes::Bytes>;
use crate::route::{route, Route};
use crate::snapshot::Snapshot;

fn answer(status: StatusCode, message: &str) -> Response<Body> {
    let body = format!("{message}\n");
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    // Every 503 here is "later" (verifications queued to their limit, the hub busy or
    // stopping): say when, so a subscriber's retry neither hammers nor gives up.
    if status == StatusCode::SERVICE_UNAVAILABLE {
        h.insert(header::RETRY_AFTER, HeaderValue::from_static("2"));
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

impl Hub {
    /// Answers one request to the hub's URL.
    pub async fn respond(
        &self,
        request: hyper::Request<hyper::body::Incoming>,
        client: IpAddr,
        (snapshot, queries): (&Snapshot, Option<&crate::custom::QueryCache>),
    ) -> Response<Body> {
        if request.method() != Method::POST {
            let mut r = answer(
                StatusCode::METHOD_NOT_ALLOWED,
                "this is a WebSub hub: POST subscription requests here",
            );
            r.headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static("POST"));
            return r;
        }
        let form = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|t| {
                t.trim()
                    .eq_ignore_ascii_case("application/x-www-form-urlencoded")
            });
        if !form {
            return answer(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "the request must be application/x-www-form-urlencoded",
            );
        }
        if let Err(wait) = self.limiter.take(client, std::time::Instant::now()) {
            let mut r = answer(
                StatusCode::TOO_MANY_REQUESTS,
                "too many subscription requests",
            );
            r.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from(wait.as_secs().max(1)),
            );
            return r;
        }
        // Bounded in time too: a body trickled a byte at a time must not hold a slot.
        let read = Limited::new(request.into_body(), MAX_BODY).collect();
        let body = match tokio::time::timeout(BODY_TIMEOUT, read).await {
            Ok(Ok(collected)) => collected.to_bytes(),
            Ok(Err(_)) => {
                return answer(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "the request body is over 16 KiB",
                )
            }
            Err(_) => {
                return answer(
                    StatusCode::REQUEST_TIMEOUT,
                    "the request body did not arrive in time",
                )
            }
        };
        let parsed = match Request::parse(&body, self.config.allow_private_callbacks) {
            Ok(parsed) => parsed,
            Err(e) => return answer(StatusCode::BAD_REQUEST, &e.to_string()),
        };
        let (topic, rel) = match topic_file(&parsed.topic, snapshot, queries) {
            Some(rel) => (snapshot.settings.topic(&rel), rel),
            // A feed that is gone can still be unsubscribed from, by its URL as stored.
            None if parsed.mode == Mode::Unsubscribe => {
                (crate::url::normalize(&parsed.topic), String::new())
            }
            None => {
                return answer(
                    StatusCode::BAD_REQUEST,
                    "hub.topic is not a feed of this hub (use a feed's rel=\"self\" URL)",
                )
            }
        };
        let key = Key {
            topic,
            callback: parsed.callback.to_string(),
        };
        let (reply, answered) = tokio::sync::oneshot::channel();
        let sent = self.tx.send(Cmd::Request {
            request: parsed,
            key,
            rel,
            reply,
        });
        let refused = |message: &str| answer(StatusCode::SERVICE_UNAVAILABLE, message);
        if sent.is_err() {
            return refused("the hub is stopping");
        }
        match tokio::time::timeout(std::time::Duration::from_secs(5), answered).await {
            Ok(Ok(Ok(()))) => answer(StatusCode::ACCEPTED, "accepted; verification follows"),
            Ok(Ok(Err(Refused { status, message }))) => answer(
                StatusCode::from_u16(status).unwrap_or(StatusCode::FORBIDDEN),
                &message,
            ),
            _ => refused("the hub is busy; try again later"),
        }
    }
}

/// The feed file a topic URL names, if it is one of the feeds served now: the URL as a
/// reader would request it (any spelling the server routes to that feed), in any format.
/// With a query that selects, a custom feed: `<file>?<canonical query>` (so every
/// spelling of one selection is one topic); a query that selects nothing is the file. A
/// later page (`before=`) is none.
pub fn topic_file(
    topic: &str,
    snapshot: &Snapshot,
    queries: Option<&crate::custom::QueryCache>,
) -> Option<String> {
    let (origin, path) = crate::url::split_origin(topic)?;
    if origin != snapshot.settings.origin() {
        return None;
    }
    let path = if path.is_empty() { "/" } else { path };
    let (path, query) = match path.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (path, None),
    };
    if !path.starts_with('/') || path.contains('#') || query.is_some_and(|q| q.contains('#')) {
        return None;
    }
    let rel = match route(path, snapshot, &snapshot.settings.baseurl) {
        Route::File { rel, .. } => rel,
        _ => return None,
    };
    crate::layout::subscription_format(&rel)?;
    let selects = match query {
        Some(q) if queries.is_some() => crate::query::Query::parse(q).ok()?,
        _ => None,
    };
    match selects {
        // A later page of a custom feed: only the first page is a topic.
        Some(query) if query.before.is_some() => None,
        Some(query) => {
            let rel = format!("{rel}?{}", query.canonical());
            crate::custom::topic_body(snapshot, queries, &rel)?;
            Some(rel)
        }
        None => Some(rel),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_503_says_when_to_ask_again() {
        let later = answer(StatusCode::SERVICE_UNAVAILABLE, "later");
        assert_eq!(later.headers()[header::RETRY_AFTER], "2");
        for status in [StatusCode::ACCEPTED, StatusCode::FORBIDDEN] {
            assert!(!answer(status, "x")
                .headers()
                .contains_key(header::RETRY_AFTER));
        }
    }
}
