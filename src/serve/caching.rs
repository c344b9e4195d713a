//! Conditional requests (RFC 9110 §13): If-None-Match first (weak comparison, lists, `*`),
//! If-Modified-Since only without it and only when it is a valid HTTP date.

use std::time::SystemTime;

use crate::snapshot::FeedFile;

/// Whether the client's copy is current, so the answer is 304.
pub fn not_modified(
    file: &FeedFile,
    if_none_match: Option<&str>,
    if_modified_since: Option<&str>,
) -> bool {
    if let Some(list) = if_none_match {
        return list
            .split(',')
            .map(str::trim)
            .any(|tag| tag == "*" || file.has_tag(tag.strip_prefix("W/").unwrap_or(tag)));
    }
    match if_modified_since.and_then(|d| httpdate::parse_http_date(d.trim()).ok()) {
        Some(since) => file.last_modified <= since.max(SystemTime::UNIX_EPOCH),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use std::time::{Duration, UNIX_EPOCH};

    fn file() -> FeedFile {
        FeedFile::new(
            Bytes::from_static(b"feed"),
            "text/plain",
            UNIX_EPOCH + Duration::from_secs(1_700_000_000),
        )
    }

    #[test]
    fn conditional_request_table() {
        let f = file();
        let tag = f.etag(crate::snapshot::Encoding::Identity);
        let gz = f.etag(crate::snapshot::Encoding::Gzip);
        let lm = f.last_modified_header.clone();
        let later = httpdate::fmt_http_date(f.last_modified + Duration::from_secs(60));
        let earlier = httpdate::fmt_http_date(f.last_modified - Duration::from_secs(60));
        let rows: Vec<(Option<String>, Option<String>, bool, &str)> = vec![
            (Some(tag.clone()), None, true, "exact tag"),
            (Some(format!("W/{tag}")), None, true, "weak form of the tag"),
            (Some(gz.clone()), None, true, "the gzip variant's tag"),
            (
                Some(format!("\"x\", {tag}")),
                None,
                true,
                "list containing the tag",
            ),
            (Some("*".into()), None, true, "star"),
            (Some("\"other\"".into()), None, false, "other tag"),
            (
                Some("\"other\"".into()),
                Some(later.clone()),
                false,
                "INM wins over IMS",
            ),
            (None, Some(lm.clone()), true, "IMS equal"),
            (None, Some(later), true, "IMS later"),
            (None, Some(earlier), false, "IMS earlier"),
            (
                None,
                Some("yesterday".into()),
                false,
                "IMS garbage is ignored",
            ),
            (None, None, false, "unconditional"),
        ];
        for (inm, ims, want, what) in rows {
            assert_eq!(
                not_modified(&f, inm.as_deref(), ims.as_deref()),
                want,
                "{what}"
            );
        }
    }
}
