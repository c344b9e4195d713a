//! Custom feeds over HTTP: a query on a feed URL (the custom feed, or a 400 saying what
//! is wrong with the query), and the builder's form at `<baseurl>/subscribe` (a 303 to
//! the feed's canonical URL). What is selected, made and cached is `crate::custom`'s.

use hyper::header::{self, HeaderMap, HeaderValue};
use hyper::{Response, StatusCode};

use super::handler::{
    file_response, not_found, strip_body, text, Body, HttpSettings, VARY_NAVIGATION,
};

use crate::caches::Caches;
use crate::custom::Answer;
use crate::snapshot::Snapshot;

/// The builder's path, with or without the baseurl (as the feeds are answered).
pub fn is_subscribe(path: &str, baseurl: &str) -> bool {
    let with_base = crate::url::under_base(baseurl, crate::layout::SUBSCRIBE_PATH);
    path == crate::layout::SUBSCRIBE_PATH || path == with_base
}

/// The builder's form: sent on (303) to the custom feed's canonical URL, whose page a
/// browser is shown; to the index when the form was empty.
pub fn subscribe(raw: &str, settings: &HttpSettings, head: bool) -> Response<Body> {
    let feed = format!("/{}", crate::layout::Format::Atom.file_name());
    let location = match crate::query::form::from_form(raw) {
        Ok(Some(query)) => format!(
            "{}?{}",
            crate::url::under_base(&settings.baseurl, &feed),
            query.canonical()
        ),
        Ok(None) => crate::url::under_base(&settings.baseurl, "/"),
        Err(e) => {
            let mut r = text(StatusCode::BAD_REQUEST, format!("bad query: {e}\n"));
            r.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            return strip_body(r, head);
        }
    };
    let mut response = text(StatusCode::SEE_OTHER, "see other\n");
    let h = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&location) {
        h.insert(header::LOCATION, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    strip_body(response, head)
}

/// What a feed file asked for with a query gets.
pub enum Custom {
    /// The query selects nothing (or queries are off): the file as it is.
    Plain,
    /// The custom feed (its page for a browser), or the 400 that says what is wrong
    /// with the query.
    Response(Response<Body>),
    /// Not cached for this version, and making it is work `may_work` does not allow.
    Work,
}

/// A feed file asked for with a query: answered from the cache when the result made for
/// this version is there, else made when `may_work`.
pub fn respond(
    rel: &str,
    raw: &str,
    headers: &HeaderMap,
    (snapshot, caches): (&Snapshot, &Caches),
    (head, page): (bool, bool),
    may_work: bool,
) -> Custom {
    let settings = &snapshot.settings;
    let Some(cache) = caches.queries.as_ref() else {
        return Custom::Plain;
    };
    let (dir, _) = rel.rsplit_once('/').unwrap_or(("", rel));
    if crate::layout::subscription_format(rel).is_none() {
        return Custom::Plain;
    }
    let send = |file: std::sync::Arc<crate::snapshot::FeedFile>| {
        let mut r = file_response(
            &file,
            headers,
            (settings, &caches.bodies),
            head,
            VARY_NAVIGATION,
        );
        if page {
            r.headers_mut().insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("private, no-cache"),
            );
        }
        r
    };
    let current = (snapshot.catalog.as_ref()).and_then(|c| cache.current(c, rel, raw, page));
    if let Some(file) = current {
        return Custom::Response(send(file));
    }
    let query = match crate::query::Query::parse(raw) {
        Ok(Some(query)) => query,
        Ok(None) => return Custom::Plain,
        Err(e) => {
            let mut r = text(StatusCode::BAD_REQUEST, format!("bad query: {e}\n"));
            r.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            return Custom::Response(strip_body(r, head));
        }
    };
    let Some(catalog) = &snapshot.catalog else {
        let mut r = text(
            StatusCode::SERVICE_UNAVAILABLE,
            "custom feeds are ready once the first build is done; try again shortly\n",
        );
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
        return Custom::Response(strip_body(r, head));
    };
    if !may_work {
        return Custom::Work;
    }
    let key = crate::custom::key_of(dir, snapshot);
    let answer = match key {
        Some(key) => cache.answer(catalog, settings, (rel, raw), &key, &query, page),
        None => Answer::NotFound,
    };
    match answer {
        Answer::Plain => Custom::Plain,
        Answer::NotFound => Custom::Response(not_found((snapshot, &caches.bodies), page, head)),
        Answer::Feed(file) => Custom::Response(send(file)),
    }
}
