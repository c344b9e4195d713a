//! Where a page of a custom feed starts (`before=`): the position, in every feed's order
//! (newest first, ties by source path), of the last post of the page before it. A
//! position, not a post: the next page is right after it even when that post has since
//! been edited, back-dated or deleted, and finding it is a seek into the sorted set, not
//! a count from the newest (no deep-offset scan, however far back a reader pages).
//!
//! Spelled `<Unix seconds>[.<fraction>]~<source path>`, percent-encoded like names:
//! `before=1714528800~_posts%2F2024-05-01-rates.md`.

use std::cmp::Reverse;
use std::sync::Arc;

use chrono::{DateTime, FixedOffset};
use percent_encoding::utf8_percent_encode;

use super::{decode, QueryError, NAME};

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Cursor {
    pub date: DateTime<FixedOffset>,
    pub source: Arc<str>,
}

impl Cursor {
    /// Right after this post.
    pub fn after(date: DateTime<FixedOffset>, source: Arc<str>) -> Cursor {
        Cursor { date, source }
    }

    /// Its place among the index's members: pages hold the members after it.
    pub(crate) fn member(&self) -> crate::index::Member {
        (Reverse(self.date), self.source.clone())
    }

    /// A `before=` value as sent.
    pub fn parse(value: &str) -> Result<Cursor, QueryError> {
        let (when, source) = value.split_once('~').ok_or(QueryError::Cursor)?;
        let (seconds, fraction) = match when.split_once('.') {
            Some((s, f)) => (s, Some(f)),
            None => (when, None),
        };
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        let unsigned = seconds.strip_prefix('-').unwrap_or(seconds);
        if !digits(unsigned) || fraction.is_some_and(|f| !digits(f) || f.len() > 9) {
            return Err(QueryError::Cursor);
        }
        let seconds: i64 = seconds.parse().map_err(|_| QueryError::Cursor)?;
        let nanos = fraction.map_or(0, |f| {
            let scale = 10u32.pow(9 - f.len() as u32);
            f.parse::<u32>().unwrap_or(0) * scale
        });
        let date = DateTime::from_timestamp(seconds, nanos).ok_or(QueryError::Cursor)?;
        let source = decode(source, "before")?;
        if source.is_empty() {
            return Err(QueryError::Cursor);
        }
        Ok(Cursor {
            date: date.fixed_offset(),
            source: source.into(),
        })
    }

    /// The canonical `before=` value (an instant, whatever offset the post's date had).
    pub fn encode(&self) -> String {
        let seconds = self.date.timestamp();
        let nanos = self.date.timestamp_subsec_nanos();
        let when = if nanos == 0 {
            seconds.to_string()
        } else {
            let fraction = format!("{nanos:09}");
            format!("{seconds}.{}", fraction.trim_end_matches('0'))
        };
        format!("{when}~{}", utf8_percent_encode(&self.source, NAME))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339(s).unwrap()
    }

    #[test]
    fn it_round_trips_as_an_instant() {
        let table = [
            ("2024-05-01T10:00:00+08:00", "_posts/2024-05-01-rates.md"),
            ("1969-12-31T23:59:59.25Z", "a/_posts/西海~新闻.md"),
            ("2024-05-01T02:00:00.000000001Z", "_posts/x y+z,-.md"),
        ];
        for (when, source) in table {
            let cursor = Cursor::after(date(when), source.into());
            let encoded = cursor.encode();
            assert!(encoded.is_ascii() && !encoded.contains(['&', '/', '#', '+', ',']));
            assert_eq!(Cursor::parse(&encoded).unwrap(), cursor, "{encoded}");
        }
        let c = Cursor::after(date("2024-05-01T10:00:00+08:00"), "_posts/a.md".into());
        assert_eq!(c.encode(), "1714528800~_posts%2Fa.md");
        assert_eq!(
            Cursor::parse("1714528800.5~a").unwrap().encode(),
            "1714528800.5~a"
        );
    }

    #[test]
    fn bad_spellings_are_errors() {
        for bad in [
            "",
            "1714528800",
            "~a",
            "x~a",
            "1.~a",
            "1.1234567890~a",
            "+5~a",
            "1~",
            "1~%zz",
            "99999999999999999~a",
        ] {
            assert!(Cursor::parse(bad).is_err(), "{bad}");
        }
    }
}
