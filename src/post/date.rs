//! Post dates as Jekyll reads them: Psych types the YAML value, Ruby's `Time.parse` reads
//! strings in the site's local zone, and everything is shown in the site zone.
//!
//! Owns only the date rules; which value to read (front matter or file name) is `post`'s job.
//! Scanning the text is `yaml::timestamp`'s, which YAML typing shares.

use chrono::{DateTime, Duration, FixedOffset, LocalResult, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;

use crate::yaml::timestamp::{expand_year, parse_parts, Parts, Strictness};
use crate::yaml::Yaml;

/// A post date: the instant, shown with the site zone's offset at that instant.
pub type PostDate = DateTime<FixedOffset>;

/// Why a date could not be read. The text is the author's, as written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DateError {
    /// Not a form we read at all.
    #[error("invalid date `{text}`: expected a date such as `2022-03-15 12:52:16 +0800`")]
    Unrecognized { text: String },
    /// Read, but there is no such day or time.
    #[error("invalid date `{text}`: no such day or time")]
    NoSuchDay { text: String },
    /// The zone offset is not one a clock can have.
    #[error("invalid offset in `{text}`")]
    InvalidOffset { text: String },
    /// A YAML timestamp we cannot read, or a wall time that names no single instant.
    #[error("invalid date `{text}`")]
    Invalid { text: String },
    /// A date given as numbers (a file name's) that is not a real day.
    #[error("invalid date {year:04}-{month:02}-{day:02} {hour:02}:{minute:02}:{second:02}")]
    OutOfRange {
        year: i32,
        month: u32,
        day: u32,
        hour: u32,
        minute: u32,
        second: u32,
    },
}

/// Reads a front-matter `date` value the way Jekyll does.
pub fn from_yaml(value: &Yaml, tz: Tz) -> Result<PostDate, DateError> {
    match value {
        // Psych builds an offset-less timestamp as UTC; with an offset it is that instant.
        Yaml::Timestamp(text) => {
            let parts = parse_parts(text, Strictness::PsychTimestamp)
                .ok_or_else(|| DateError::Invalid { text: text.clone() })?;
            let naive = naive(&parts).map_err(|_| DateError::NoSuchDay { text: text.clone() })?;
            let offset = parts.offset.unwrap_or(0);
            Ok(in_zone(instant(text, offset, naive)?, tz))
        }
        Yaml::Date(text) | Yaml::Str(text) => parse_string(text, tz),
        other => Err(DateError::Unrecognized {
            text: other.to_ruby_string(),
        }),
    }
}

/// Reads a string date (quoted, seconds-less, or date-only) like Ruby's `Time.parse`:
/// an explicit zone wins, otherwise it is local time in the site zone.
pub fn parse_string(text: &str, tz: Tz) -> Result<PostDate, DateError> {
    let parts = parse_parts(text, Strictness::Lenient).ok_or_else(|| DateError::Unrecognized {
        text: text.to_string(),
    })?;
    let naive = naive(&parts).map_err(|_| DateError::NoSuchDay {
        text: text.to_string(),
    })?;
    match parts.offset {
        Some(offset) => Ok(in_zone(instant(text, offset, naive)?, tz)),
        None => Ok(local(naive, tz)),
    }
}

/// The date in a post's file name, at local midnight (used when there is no `date`).
pub fn from_file_name(date: FileDate, tz: Tz) -> Result<PostDate, DateError> {
    let parts = Parts {
        year: expand_year(date.year, date.year_digits),
        month: date.month,
        day: date.day,
        ..Parts::default()
    };
    Ok(local(naive(&parts)?, tz))
}

/// The date part of a post's file name, as written (`23-1-6` has a two-digit year).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileDate {
    pub year: u32,
    pub year_digits: usize,
    pub month: u32,
    pub day: u32,
}

/// Shows an instant with the site zone's offset.
pub fn in_zone(instant: DateTime<Utc>, tz: Tz) -> PostDate {
    instant.with_timezone(&tz).fixed_offset()
}

/// The wall time `naive` at `offset` seconds east of UTC; `text` is for the message.
fn instant(text: &str, offset: i32, naive: NaiveDateTime) -> Result<DateTime<Utc>, DateError> {
    let fixed = FixedOffset::east_opt(offset).ok_or_else(|| DateError::InvalidOffset {
        text: text.to_string(),
    })?;
    let instant = fixed
        .from_local_datetime(&naive)
        .single()
        .ok_or_else(|| DateError::Invalid {
            text: text.to_string(),
        })?;
    Ok(instant.with_timezone(&Utc))
}

/// The wall time of `parts`; an out-of-range day rolls over as in Ruby.
fn naive(parts: &Parts) -> Result<NaiveDateTime, DateError> {
    parts.naive().ok_or(DateError::OutOfRange {
        year: parts.year,
        month: parts.month,
        day: parts.day,
        hour: parts.hour,
        minute: parts.minute,
        second: parts.second,
    })
}

/// Local wall time in the site zone. In a DST fold we take the earlier instant; in a gap
/// (a time that does not exist) we move one hour forward, as C's `mktime` does.
fn local(naive: NaiveDateTime, tz: Tz) -> PostDate {
    match tz.from_local_datetime(&naive) {
        LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => t.fixed_offset(),
        LocalResult::None => {
            let later = naive + Duration::hours(1);
            match tz.from_local_datetime(&later) {
                LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => t.fixed_offset(),
                LocalResult::None => in_zone(Utc.from_utc_datetime(&naive), tz),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHANGHAI: Tz = chrono_tz::Asia::Shanghai;

    fn yaml_date(line: &str, tz: Tz) -> Result<String, String> {
        let doc = Yaml::parse(&format!("date: {line}\n")).map_err(|e| e.message)?;
        let value = doc.get("date").cloned().unwrap_or(Yaml::Null);
        from_yaml(&value, tz)
            .map(|d| d.to_rfc3339())
            .map_err(|e| e.to_string())
    }

    /// One row per rule of JEKYLL.md §2, with `timezone: Asia/Shanghai`.
    #[test]
    fn front_matter_dates_follow_psych_and_time_parse() {
        let rows = [
            ("2023-03-01 10:00:00 +0800", "2023-03-01T10:00:00+08:00"),
            ("2023-03-01T10:00:00+08:00", "2023-03-01T10:00:00+08:00"),
            ("2023-03-01 10:00:00 +08:00", "2023-03-01T10:00:00+08:00"),
            ("2023-03-01 10:00 +0800", "2023-03-01T10:00:00+08:00"),
            ("2023-03-01 10:00:00", "2023-03-01T18:00:00+08:00"),
            ("2023-03-01T10:00:00", "2023-03-01T18:00:00+08:00"),
            ("2023-03-01T10:00:00Z", "2023-03-01T18:00:00+08:00"),
            ("2023-03-01 10:00", "2023-03-01T10:00:00+08:00"),
            ("\"2023-03-01 10:00:00\"", "2023-03-01T10:00:00+08:00"),
            ("2023-03-01", "2023-03-01T00:00:00+08:00"),
            ("2023/03/01 10:00", "2023-03-01T10:00:00+08:00"),
            ("March 1, 2023", "2023-03-01T00:00:00+08:00"),
            ("2023-03-01 10:00:00.5 +0800", "2023-03-01T10:00:00+08:00"),
            ("2023-03-01 23:30:00 -0500", "2023-03-02T12:30:00+08:00"),
            ("2023-02-30", "2023-03-02T00:00:00+08:00"),
            ("2021-12-08 10:46:18", "2021-12-08T18:46:18+08:00"),
        ];
        for (input, want) in rows {
            assert_eq!(
                yaml_date(input, SHANGHAI).as_deref(),
                Ok(want),
                "date: {input}"
            );
        }
    }

    #[test]
    fn invalid_dates_are_errors() {
        for input in [
            "not a date",
            "2023-13-01 10:00",
            "",
            " +0800",
            "2022-13-45",
            "99999-01-01",
        ] {
            assert!(yaml_date(input, SHANGHAI).is_err(), "date: {input}");
        }
    }

    #[test]
    fn date_without_offset_uses_site_timezone_with_dst() {
        let ny = chrono_tz::America::New_York;
        assert_eq!(
            yaml_date("2023-07-01 10:00", ny).unwrap(),
            "2023-07-01T10:00:00-04:00"
        );
        assert_eq!(
            yaml_date("2023-01-01 10:00", ny).unwrap(),
            "2023-01-01T10:00:00-05:00"
        );
        // 02:30 does not exist on 2023-03-12 in New York: one hour later.
        assert_eq!(
            yaml_date("2023-03-12 02:30", ny).unwrap(),
            "2023-03-12T03:30:00-04:00"
        );
        // 01:30 happens twice on 2023-11-05: the earlier one.
        assert_eq!(
            yaml_date("2023-11-05 01:30", ny).unwrap(),
            "2023-11-05T01:30:00-04:00"
        );
        assert_eq!(
            yaml_date("2023-03-01 10:00:00 +0800", ny).unwrap(),
            "2023-02-28T21:00:00-05:00"
        );
    }

    #[test]
    fn file_name_dates_expand_short_years_and_roll_over() {
        let d = |year: u32, month, day| {
            let year_digits = year.to_string().len();
            from_file_name(
                FileDate {
                    year,
                    year_digits,
                    month,
                    day,
                },
                SHANGHAI,
            )
            .map(|d| d.to_rfc3339())
        };
        assert_eq!(d(23, 1, 1).unwrap(), "2023-01-01T00:00:00+08:00");
        assert_eq!(d(2023, 2, 30).unwrap(), "2023-03-02T00:00:00+08:00");
        assert!(d(2023, 13, 45).is_err());
    }

    /// The messages name the text as written, so the author can find it.
    #[test]
    fn errors_say_what_was_written() {
        let rows = [
            (
                "2023-13-01 10:00:00",
                "invalid date `2023-13-01 10:00:00`: no such day or time",
            ),
            (
                "\"2023-13-01\"",
                "invalid date `2023-13-01`: no such day or time",
            ),
            (
                "not a date",
                "invalid date `not a date`: expected a date such as `2022-03-15 12:52:16 +0800`",
            ),
            (
                "[1, 2]",
                "invalid date `[\"1\", \"2\"]`: expected a date such as `2022-03-15 12:52:16 +0800`",
            ),
        ];
        for (input, want) in rows {
            assert_eq!(
                yaml_date(input, SHANGHAI),
                Err(want.to_string()),
                "date: {input}"
            );
        }
        let file_date = FileDate {
            year: 2023,
            year_digits: 4,
            month: 13,
            day: 45,
        };
        let err = from_file_name(file_date, SHANGHAI).unwrap_err();
        assert_eq!(
            err,
            DateError::OutOfRange {
                year: 2023,
                month: 13,
                day: 45,
                hour: 0,
                minute: 0,
                second: 0
            }
        );
        assert_eq!(err.to_string(), "invalid date 2023-13-45 00:00:00");
        let shown = |e: DateError| e.to_string();
        let text = || "x".to_string();
        assert_eq!(
            shown(DateError::Invalid { text: text() }),
            "invalid date `x`"
        );
        assert_eq!(
            shown(DateError::InvalidOffset { text: text() }),
            "invalid offset in `x`"
        );
    }
}
