//! The request handler: a plain function from a request and a snapshot to a response, so
//! it is tested without a socket. Only the snapshot's published files are answered (from
//! memory or their file in the output dir); no request path reaches the file system.

use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{self, HeaderMap, HeaderValue};
use hyper::{Method, Response, StatusCode};

use super::caching::not_modified;
use super::encoding::negotiate;
use crate::bodies::BodyCache;
use crate::caches::Caches;
pub use crate::http_settings::HttpSettings;
use crate::route::{route, Route};
use crate::snapshot::{Encoding, FeedFile, Snapshot};

pub type Body = Full<Bytes>;

pub(super) fn text(status: StatusCode, body: impl Into<Bytes>) -> Response<Body> {
    let body: Bytes = body.into();
    let len = body.len();
    let mut response = Response::new(Full::new(body));
    *response.status_mut() = status;
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

/// 429 for a client over its download limit: when to come back, and not to be cached.
pub fn too_many_requests(retry_after: std::time::Duration) -> Response<Body> {
    let mut response = text(
        StatusCode::TOO_MANY_REQUESTS,
        "too many full downloads; use If-None-Match / If-Modified-Since\n",
    );
    let h = response.headers_mut();
    h.insert(
        header::RETRY_AFTER,
        HeaderValue::from(retry_after.as_secs().max(1)),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// 503 for a custom feed while the work of making such feeds is over its budget: come
/// back shortly (plain feeds are answered meanwhile).
pub fn busy() -> Response<Body> {
    let mut response = text(
        StatusCode::SERVICE_UNAVAILABLE,
        "busy making other custom feeds; try again shortly\n",
    );
    let h = response.headers_mut();
    h.insert(header::RETRY_AFTER, HeaderValue::from_static("2"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// Answers one request. `metrics` renders the metrics page when asked for. A custom
/// feed that is not cached for this version takes reading and rendering: with
/// `may_work` false that is not done here and the answer is `None`, for the server to
/// ask again where such work may run (off the request workers, within a budget).
pub fn respond(
    method: &Method,
    path: &str,
    query: Option<&str>,
    headers: &HeaderMap,
    published: (&Snapshot, &Caches),
    metrics: &dyn Fn() -> String,
    may_work: bool,
) -> Option<Response<Body>> {
    match answer(method, path, query, headers, published, metrics, may_work) {
        Answer::Done(response) => Some(response),
        Answer::Work => None,
    }
}

/// A response, or the word that making it takes the work `may_work` allows.
enum Answer {
    Done(Response<Body>),
    Work,
}

impl From<Response<Body>> for Answer {
    fn from(response: Response<Body>) -> Answer {
        Answer::Done(response)
    }
}

fn answer(
    method: &Method,
    path: &str,
    query: Option<&str>,
    headers: &HeaderMap,
    (snapshot, caches): (&Snapshot, &Caches),
    metrics: &dyn Fn() -> String,
    may_work: bool,
) -> Answer {
    let hot = &caches.bodies;
    let settings = &snapshot.settings;
    if method != Method::GET && method != Method::HEAD {
        let mut response = text(StatusCode::METHOD_NOT_ALLOWED, "method not allowed\n");
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        return response.into();
    }
    let head = method == Method::HEAD;
    let browser = is_navigation(headers);
    if caches.queries.is_some() && super::custom::is_subscribe(path, &settings.baseurl) {
        return super::custom::subscribe(query.unwrap_or(""), settings, head).into();
    }
    let route = route(path, snapshot, &settings.baseurl);
    if let (Route::File { rel, page }, Some(raw)) = (&route, query.filter(|q| !q.is_empty())) {
        let page = browser && page.is_some();
        match super::custom::respond(
            rel,
            raw,
            headers,
            (snapshot, caches),
            (head, page),
            may_work,
        ) {
            super::custom::Custom::Plain => {}
            super::custom::Custom::Response(response) => return response.into(),
            super::custom::Custom::Work => return Answer::Work,
        }
    }
    let (rel, vary) = match route {
        Route::Health => {
            let mut response = text(StatusCode::OK, "ok\n");
            response
                .headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            return strip_body(response, head).into();
        }
        Route::Metrics => {
            let mut response = Response::new(Full::new(Bytes::from(metrics())));
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
            );
            response
                .headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            return strip_body(response, head).into();
        }
        // A browser navigating to a feed's URL gets the feed's page, at the same URL (so
        // the address bar shows what to paste into a reader); readers never send
        // `Sec-Fetch-Dest: document` and get the feed.
        Route::File {
            page: Some(page), ..
        } if browser => {
            // Private: a cache in front that ignores `Vary: Sec-Fetch-Dest` must never
            // hand this page to a feed reader asking for the same URL.
            let mut response = match snapshot.files.get(&page) {
                Some(file) => file_response(file, headers, (settings, hot), head, VARY_NAVIGATION),
                None => return not_found((snapshot, hot), browser, head).into(),
            };
            response.headers_mut().insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("private, no-cache"),
            );
            return response.into();
        }
        Route::File { rel, page: Some(_) } => (rel, VARY_NAVIGATION),
        Route::File { rel, page: None } => (rel, VARY_ENCODING),
        Route::Redirect(location) => return redirect(&location, settings, head).into(),
        Route::NotFound => return not_found((snapshot, hot), browser, head).into(),
    };
    match snapshot.files.get(&rel) {
        Some(file) => {
            let mut response = file_response(file, headers, (settings, hot), head, vary);
            // A reader's poll of a feed, for the subscriber counts (`stats`).
            let polled = matches!(response.status(), StatusCode::OK | StatusCode::NOT_MODIFIED)
                && crate::layout::subscription_format(&rel).is_some();
            if polled {
                (response.extensions_mut()).insert(crate::stats::live::Polled(rel));
            }
            response.into()
        }
        None => not_found((snapshot, hot), browser, head).into(),
    }
}

/// Responses whose body depends on the encoding only, and those at a feed URL, whose
/// body is the feed's page for a browser navigation: caches in front must keep them apart.
const VARY_ENCODING: &str = "Accept-Encoding";
pub(super) const VARY_NAVIGATION: &str = "Accept-Encoding, Sec-Fetch-Dest";

/// A top-level browser navigation (Fetch Metadata; every current browser sends it).
fn is_navigation(headers: &HeaderMap) -> bool {
    headers
        .get("sec-fetch-dest")
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"document"))
}

/// A 404: the HTML page with a link to the index for a browser, a line of text otherwise.
pub(super) fn not_found(
    (snapshot, hot): (&Snapshot, &BodyCache),
    browser: bool,
    head: bool,
) -> Response<Body> {
    let page = snapshot
        .files
        .get(crate::layout::NOT_FOUND_FILE)
        .filter(|_| browser)
        .and_then(|f| crate::bodies::read(f, Encoding::Identity, hot).ok());
    let mut response = match page {
        Some((bytes, _)) => {
            let len = bytes.len();
            let mut r = Response::new(Full::new(bytes));
            let h = r.headers_mut();
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(crate::layout::PAGE_CONTENT_TYPE),
            );
            h.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
            h.insert(
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            );
            page_headers(h);
            r
        }
        None => text(StatusCode::NOT_FOUND, "not found\n"),
    };
    *response.status_mut() = StatusCode::NOT_FOUND;
    // Browsers and readers get different bodies; a feed or page may appear any moment.
    let h = response.headers_mut();
    h.insert(header::VARY, HeaderValue::from_static("Sec-Fetch-Dest"));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=10"),
    );
    strip_body(response, head)
}

/// 301 from a folder URL without its slash to the folder.
fn redirect(location: &str, settings: &HttpSettings, head: bool) -> Response<Body> {
    let mut response = text(StatusCode::MOVED_PERMANENTLY, "moved\n");
    if let Ok(v) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, settings.cache_control.clone());
    strip_body(response, head)
}

/// The `Cache-Control` of a complete archive document (RFC 8246).
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// What every HTML page is sent with: it loads nothing from elsewhere, runs only feedd's
/// own script, and cannot be framed; the referrer leaves the site only as its origin.
fn page_headers(h: &mut HeaderMap) {
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; \
             base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
        ),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("strict-origin-when-cross-origin"),
    );
}

pub(super) fn strip_body(response: Response<Body>, head: bool) -> Response<Body> {
    if !head {
        return response;
    }
    let (parts, _) = response.into_parts();
    Response::from_parts(parts, Full::new(Bytes::new()))
}

fn header_str(headers: &HeaderMap, name: header::HeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// A feed file with validators, caching headers and content negotiation.
pub fn file_response(
    file: &FeedFile,
    headers: &HeaderMap,
    (settings, hot): (&HttpSettings, &BodyCache),
    head: bool,
    vary: &'static str,
) -> Response<Body> {
    let encoding = negotiate(header_str(headers, header::ACCEPT_ENCODING));
    let unmodified = not_modified(
        file,
        header_str(headers, header::IF_NONE_MATCH),
        header_str(headers, header::IF_MODIFIED_SINCE),
    );
    // A 304 names the variant the client would get, without reading or compressing.
    let (etag, body) = if unmodified {
        (file.etag(encoding), None)
    } else {
        match crate::bodies::read(file, encoding, hot) {
            Ok((bytes, sent)) => (file.etag(sent), Some((bytes, sent))),
            Err(e) => {
                // Only a file changed behind feedd's back gets here: say so, never send
                // bytes that do not match the validators.
                tracing::error!("{}", crate::error::chain(&e));
                let mut r = text(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "the feed file changed on disk; try again shortly\n",
                );
                r.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
                return strip_body(r, head);
            }
        }
    };
    let mut response = Response::new(Full::new(match (&body, head) {
        (Some((bytes, _)), false) => bytes.clone(),
        _ => Bytes::new(),
    }));
    let h = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    if let Ok(v) = HeaderValue::from_str(&file.last_modified_header) {
        h.insert(header::LAST_MODIFIED, v);
    }
    let cache_control = match file.immutable {
        true => HeaderValue::from_static(IMMUTABLE),
        false => settings.cache_control.clone(),
    };
    h.insert(header::CACHE_CONTROL, cache_control);
    h.insert(header::VARY, HeaderValue::from_static(vary));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if file.content_type == crate::layout::PAGE_CONTENT_TYPE {
        page_headers(h);
    }
    match body {
        None => *response.status_mut() = StatusCode::NOT_MODIFIED,
        Some((bytes, sent)) => {
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(file.content_type),
            );
            // Discovery rides on full responses; a 304 stays small (a cache keeps the
            // stored response's Link).
            if let Some(links) = &file.links {
                h.insert(header::LINK, links.clone());
            }
            if sent != Encoding::Identity {
                h.insert(
                    header::CONTENT_ENCODING,
                    HeaderValue::from_static(sent.token()),
                );
            }
            h.insert(header::CONTENT_LENGTH, HeaderValue::from(bytes.len()));
        }
    }
    response
}

#[cfg(test)]
#[path = "handler_tests.rs"]
mod tests;
