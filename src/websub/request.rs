//! A subscription request as a subscriber POSTs it (WebSub §5.1): form fields in, a
//! checked request or the one-line reason it is refused out. Pure; the hub decides the
//! topic (is it one of ours?) and the limits.

use std::net::IpAddr;

/// Largest request body read; a real one is a few hundred bytes.
pub const MAX_BODY: usize = 16 * 1024;
/// Longest callback or topic URL accepted.
pub const MAX_URL: usize = 2048;
/// `hub.secret` must be shorter than this (WebSub §5.1).
pub const MAX_SECRET: usize = 200;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Subscribe,
    Unsubscribe,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Subscribe => "subscribe",
            Mode::Unsubscribe => "unsubscribe",
        }
    }
}

/// A well-formed request. `topic` is as the subscriber wrote it (echoed back in the
/// verification); the hub maps it to one of its feeds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub mode: Mode,
    pub topic: String,
    pub callback: url::Url,
    pub lease_seconds: Option<u64>,
    pub secret: Option<String>,
}

/// Why a request is refused (answered 400 with this line).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    #[error("{0} is missing")]
    Missing(&'static str),
    #[error("hub.mode must be subscribe or unsubscribe, not `{0}`")]
    Mode(String),
    #[error("hub.callback is not an absolute http(s) URL without credentials or fragment")]
    Callback,
    #[error("{0} is longer than {MAX_URL} bytes")]
    TooLong(&'static str),
    #[error("hub.lease_seconds must be a whole number of seconds")]
    Lease,
    #[error("hub.secret must be 1 to {} bytes of UTF-8", MAX_SECRET - 1)]
    Secret,
    #[error("hub.callback points at a private or special address ({0})")]
    Private(IpAddr),
}

impl Request {
    /// Parses an `application/x-www-form-urlencoded` body. Unknown fields are ignored;
    /// of a repeated field, the first counts.
    pub fn parse(body: &[u8], allow_private: bool) -> Result<Request, RequestError> {
        let mut fields: [Option<String>; 5] = Default::default();
        const NAMES: [&str; 5] = [
            "hub.mode",
            "hub.topic",
            "hub.callback",
            "hub.lease_seconds",
            "hub.secret",
        ];
        for (name, value) in url::form_urlencoded::parse(body) {
            if let Some(i) = NAMES.iter().position(|n| *n == name) {
                fields[i].get_or_insert_with(|| value.into_owned());
            }
        }
        let [mode, topic, callback, lease, secret] = fields;
        let mode = match mode.as_deref() {
            None | Some("") => return Err(RequestError::Missing("hub.mode")),
            Some("subscribe") => Mode::Subscribe,
            Some("unsubscribe") => Mode::Unsubscribe,
            Some(other) => {
                let shown = other.chars().filter(|c| !c.is_control()).take(40);
                return Err(RequestError::Mode(shown.collect()));
            }
        };
        let topic = topic
            .filter(|t| !t.is_empty())
            .ok_or(RequestError::Missing("hub.topic"))?;
        if topic.len() > MAX_URL {
            return Err(RequestError::TooLong("hub.topic"));
        }
        let callback = callback
            .filter(|c| !c.is_empty())
            .ok_or(RequestError::Missing("hub.callback"))?;
        if callback.len() > MAX_URL {
            return Err(RequestError::TooLong("hub.callback"));
        }
        let callback = parse_callback(&callback)?;
        if !allow_private {
            if let Some(ip) = literal_ip(&callback).filter(|ip| !super::address::is_public(*ip)) {
                return Err(RequestError::Private(ip));
            }
        }
        let lease_seconds = match lease.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(text) => Some(text.parse::<u64>().map_err(|_| RequestError::Lease)?),
        };
        let secret = match secret {
            None => None,
            // Decoding replaced bytes that are not UTF-8: the secret signed with would not
            // be the subscriber's.
            Some(s) if s.is_empty() || s.len() >= MAX_SECRET || s.contains('\u{FFFD}') => {
                return Err(RequestError::Secret)
            }
            Some(s) => Some(s),
        };
        Ok(Request {
            mode,
            topic,
            callback,
            lease_seconds,
            secret: if mode == Mode::Subscribe {
                secret
            } else {
                None
            },
        })
    }
}

fn parse_callback(text: &str) -> Result<url::Url, RequestError> {
    let url = url::Url::parse(text).map_err(|_| RequestError::Callback)?;
    let ok = matches!(url.scheme(), "http" | "https")
        && url.host().is_some()
        && url.username().is_empty()
        && url.password().is_none()
        && url.fragment().is_none();
    ok.then_some(url).ok_or(RequestError::Callback)
}

/// The callback's host when it is an IP address literal (checked at once; names are
/// checked when resolved, at verification and at every delivery).
pub fn literal_ip(url: &url::Url) -> Option<IpAddr> {
    match url.host()? {
        url::Host::Ipv4(ip) => Some(IpAddr::V4(ip)),
        url::Host::Ipv6(ip) => Some(IpAddr::V6(ip)),
        url::Host::Domain(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(body: &str) -> Result<Request, RequestError> {
        Request::parse(body.as_bytes(), false)
    }

    const OK: &str = "hub.mode=subscribe&hub.topic=https%3A%2F%2Fsite%2Ffeed.xml\
        &hub.callback=https%3A%2F%2Freader.example%2Fcb%3Fid%3D7";

    #[test]
    fn a_plain_subscription_parses_with_its_callback_query_kept() {
        let r = parse(OK).unwrap();
        assert_eq!(r.mode, Mode::Subscribe);
        assert_eq!(r.topic, "https://site/feed.xml");
        assert_eq!(r.callback.as_str(), "https://reader.example/cb?id=7");
        assert_eq!((r.lease_seconds, r.secret), (None, None));
    }

    #[test]
    fn unknown_fields_are_ignored_and_the_first_of_a_repeated_one_counts() {
        let r = parse(&format!(
            "{OK}&hub.lease_seconds=600&foo=bar&hub.secret=s3cret&hub.mode=unsubscribe"
        ))
        .unwrap();
        assert_eq!(r.mode, Mode::Subscribe);
        assert_eq!(r.lease_seconds, Some(600));
        assert_eq!(r.secret.as_deref(), Some("s3cret"));
    }

    #[test]
    fn bad_requests_say_what_is_wrong() {
        let long = "a".repeat(MAX_SECRET);
        let cases: Vec<(String, RequestError)> = vec![
            (
                "hub.topic=x&hub.callback=https://a/".into(),
                RequestError::Missing("hub.mode"),
            ),
            (
                "hub.mode=publish&hub.topic=x&hub.callback=https://a/".into(),
                RequestError::Mode("publish".into()),
            ),
            (
                "hub.mode=subscribe&hub.callback=https://a/".into(),
                RequestError::Missing("hub.topic"),
            ),
            (
                "hub.mode=subscribe&hub.topic=x".into(),
                RequestError::Missing("hub.callback"),
            ),
            (
                "hub.mode=subscribe&hub.topic=x&hub.callback=ftp://a/".into(),
                RequestError::Callback,
            ),
            (
                "hub.mode=subscribe&hub.topic=x&hub.callback=https://u:p@a/".into(),
                RequestError::Callback,
            ),
            (
                "hub.mode=subscribe&hub.topic=x&hub.callback=https://a/%23frag#f".into(),
                RequestError::Callback,
            ),
            (format!("{OK}&hub.lease_seconds=-5"), RequestError::Lease),
            (format!("{OK}&hub.secret={long}"), RequestError::Secret),
            (format!("{OK}&hub.secret="), RequestError::Secret),
            (format!("{OK}&hub.secret=%FF%FEab"), RequestError::Secret),
            (
                "hub.mode=%1bsub%00&hub.topic=x&hub.callback=https://a/".into(),
                RequestError::Mode("sub".into()),
            ),
            (
                "hub.mode=subscribe&hub.topic=x&hub.callback=http://127.0.0.1:9/cb".into(),
                RequestError::Private("127.0.0.1".parse().unwrap()),
            ),
            (
                "hub.mode=subscribe&hub.topic=x&hub.callback=http://[::ffff:10.0.0.1]/".into(),
                RequestError::Private("::ffff:10.0.0.1".parse().unwrap()),
            ),
            (
                format!(
                    "hub.mode=subscribe&hub.topic=x&hub.callback=https://a/{}",
                    "b".repeat(MAX_URL)
                ),
                RequestError::TooLong("hub.callback"),
            ),
        ];
        for (body, want) in cases {
            assert_eq!(parse(&body), Err(want), "{body}");
        }
    }

    #[test]
    fn private_callbacks_pass_when_allowed_and_a_secret_of_199_bytes_is_fine() {
        let body = format!(
            "hub.mode=subscribe&hub.topic=x&hub.callback=http://127.0.0.1:9/cb&hub.secret={}",
            "s".repeat(MAX_SECRET - 1)
        );
        assert!(Request::parse(body.as_bytes(), true).is_ok());
    }
}
