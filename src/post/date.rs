//! Post dates as Jekyll reads them: Psych types the YAML value, Ruby's `Time.parse` reads
//! strings in the site's local zone, and everything is shown in the site zone.
//!
//! Owns only the date rules; which value to read (front matter or file name) is `post`'s job.

use chrono::{
    DateTime, Datelike, Duration, FixedOffset, LocalResult, NaiveDate, NaiveDateTime, NaiveTime,
    TimeZone, Utc,
};
use chrono_tz::Tz;

use crate::yaml::Yaml;

/// A post date: the instant, shown with the site zone's offset at that instant.
pub type PostDate = DateTime<FixedOffset>;

/// Psych's timestamp pattern: date, `T` or spaces, `H:MM:SS`, optional fraction and zone.
pub fn is_yaml_timestamp(text: &str) -> bool {
    parse_parts(text, Strictness::PsychTimestamp).is_some()
}

/// Psych's date pattern `YYYY-M-D` (four-digit year).
pub fn is_yaml_date(text: &str) -> bool {
    let mut parts = text.split('-');
    let (Some(y), Some(m), Some(d), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    y.len() == 4
        && (1..=2).contains(&m.len())
        && (1..=2).contains(&d.len())
        && [y, m, d]
            .iter()
            .all(|p| p.bytes().all(|b| b.is_ascii_digit()))
}

/// Reads a front-matter `date` value the way Jekyll does.
pub fn from_yaml(value: &Yaml, tz: Tz) -> Result<PostDate, String> {
    match value {
        // Psych builds an offset-less timestamp as UTC; with an offset it is that instant.
        Yaml::Timestamp(text) => {
            let parts = parse_parts(text, Strictness::PsychTimestamp)
                .ok_or_else(|| format!("invalid date `{text}`"))?;
            let naive = parts
                .naive()
                .map_err(|_| format!("invalid date `{text}`: no such day or time"))?;
            let offset = parts.offset.unwrap_or(0);
            let fixed = FixedOffset::east_opt(offset)
                .ok_or_else(|| format!("invalid offset in `{text}`"))?;
            let instant = fixed
                .from_local_datetime(&naive)
                .single()
                .ok_or_else(|| format!("invalid date `{text}`"))?;
            Ok(in_zone(instant.with_timezone(&Utc), tz))
        }
        Yaml::Date(text) | Yaml::Str(text) => parse_string(text, tz),
        other => Err(format!(
            "invalid date `{}`: expected a date such as `2022-03-15 12:52:16 +0800`",
            other.to_ruby_string()
        )),
    }
}

/// Reads a string date (quoted, seconds-less, or date-only) like Ruby's `Time.parse`:
/// an explicit zone wins, otherwise it is local time in the site zone.
pub fn parse_string(text: &str, tz: Tz) -> Result<PostDate, String> {
    let parts = parse_parts(text, Strictness::Lenient).ok_or_else(|| {
        format!("invalid date `{text}`: expected a date such as `2022-03-15 12:52:16 +0800`")
    })?;
    let naive = parts
        .naive()
        .map_err(|_| format!("invalid date `{text}`: no such day or time"))?;
    match parts.offset {
        Some(offset) => {
            let fixed = FixedOffset::east_opt(offset)
                .ok_or_else(|| format!("invalid offset in `{text}`"))?;
            let instant = fixed
                .from_local_datetime(&naive)
                .single()
                .ok_or_else(|| format!("invalid date `{text}`"))?;
            Ok(in_zone(instant.with_timezone(&Utc), tz))
        }
        None => Ok(local(naive, tz)),
    }
}

/// The date in a post's file name, at local midnight (used when there is no `date`).
pub fn from_file_name(date: FileDate, tz: Tz) -> Result<PostDate, String> {
    let parts = Parts {
        year: expand_year(date.year, date.year_digits),
        month: date.month,
        day: date.day,
        ..Parts::default()
    };
    Ok(local(parts.naive()?, tz))
}

/// The date part of a post's file name, as written (`23-1-6` has a two-digit year).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileDate {
    pub year: u32,
    pub year_digits: usize,
    pub month: u32,
    pub day: u32,
}

/// Expands Ruby's two-digit years: 69–99 are 19xx, 00–68 are 20xx.
fn expand_year(year: u32, digits: usize) -> i32 {
    let year = year as i32;
    match digits {
        ..=2 if year < 69 => 2000 + year,
        ..=2 => 1900 + year,
        _ => year,
    }
}

/// Shows an instant with the site zone's offset.
pub fn in_zone(instant: DateTime<Utc>, tz: Tz) -> PostDate {
    instant.with_timezone(&tz).fixed_offset()
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

#[derive(Default, Debug)]
struct Parts {
    year: i32,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
    /// Seconds east of UTC, when the text names a zone.
    offset: Option<i32>,
}

impl Parts {
    /// Builds the wall time; an out-of-range day rolls over (`02-30` → `03-02`) as in Ruby.
    fn naive(&self) -> Result<NaiveDateTime, String> {
        let bad = || {
            format!(
                "invalid date {:04}-{:02}-{:02} {:02}:{:02}:{:02}",
                self.year, self.month, self.day, self.hour, self.minute, self.second
            )
        };
        if !(1..=9999).contains(&self.year) || !(1..=31).contains(&self.day) {
            return Err(bad());
        }
        let first = NaiveDate::from_ymd_opt(self.year, self.month, 1).ok_or_else(bad)?;
        let date = first
            .checked_add_signed(Duration::days(i64::from(self.day) - 1))
            .filter(|d| d.year() <= 9999)
            .ok_or_else(bad)?;
        let time =
            NaiveTime::from_hms_opt(self.hour, self.minute, self.second.min(59)).ok_or_else(bad)?;
        Ok(date.and_time(time))
    }
}

#[derive(PartialEq, Clone, Copy)]
enum Strictness {
    /// Exactly Psych's TIME regex: seconds required, `-` separators, four-digit year.
    PsychTimestamp,
    /// The forms `Time.parse` commonly meets in front matter.
    Lenient,
}

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];

fn parse_parts(text: &str, mode: Strictness) -> Option<Parts> {
    let text = text.trim();
    let mut s = Scanner { rest: text };
    let mut parts = Parts::default();
    // Date: Y-M-D or Y/M/D, or (lenient) "March 1, 2023" / "1 March 2023".
    if let Some(year) = s.digits(1, 4) {
        let sep = s.one_of(if mode == Strictness::Lenient {
            "-/"
        } else {
            "-"
        })?;
        if mode == Strictness::PsychTimestamp && year.1 != 4 {
            return None;
        }
        parts.year = expand_year(year.0, year.1);
        parts.month = s.digits(1, 2)?.0;
        s.one_of(&sep.to_string())?;
        parts.day = s.digits(1, 2)?.0;
    } else if mode == Strictness::Lenient {
        let month = s.word()?;
        parts.month = month_number(&month)?;
        s.spaces();
        parts.day = s.digits(1, 2)?.0;
        s.eat(",");
        s.spaces();
        let year = s.digits(4, 4)?;
        parts.year = year.0 as i32;
    } else {
        return None;
    }
    // Time.
    let had_sep = s.eat("T") || s.eat("t") || s.spaces();
    if s.rest.is_empty() {
        return (mode == Strictness::Lenient).then_some(parts);
    }
    if !had_sep {
        return None;
    }
    if let Some(hour) = s.digits(1, 2) {
        parts.hour = hour.0;
        s.one_of(":")?;
        parts.minute = s.digits(2, 2)?.0;
        if s.eat(":") {
            parts.second = s.digits(2, 2)?.0;
            if s.eat(".") {
                s.digits(0, 9);
            }
        } else if mode == Strictness::PsychTimestamp {
            return None;
        }
        s.spaces();
    } else if mode == Strictness::PsychTimestamp {
        return None;
    }
    // Zone.
    if s.rest.is_empty() {
        return Some(parts);
    }
    if s.eat("Z") || (mode == Strictness::Lenient && (s.eat("UTC") || s.eat("GMT"))) {
        parts.offset = Some(0);
    } else {
        let sign = match s.one_of("+-")? {
            '-' => -1,
            _ => 1,
        };
        let (h, m) = match s.digits(1, 4)? {
            (hhmm, 3..=4) => (hhmm / 100, hhmm % 100),
            (hh, _) => {
                let mm = if s.eat(":") { s.digits(2, 2)?.0 } else { 0 };
                (hh, mm)
            }
        };
        if h > 23 || m > 59 {
            return None;
        }
        parts.offset = Some(sign * (h as i32 * 3600 + m as i32 * 60));
    }
    s.rest.is_empty().then_some(parts)
}

fn month_number(word: &str) -> Option<u32> {
    let lower = word.to_ascii_lowercase();
    MONTHS
        .iter()
        .position(|m| lower.starts_with(m))
        .map(|i| i as u32 + 1)
}

struct Scanner<'a> {
    rest: &'a str,
}

impl Scanner<'_> {
    /// Reads `min..=max` ASCII digits; returns the value and how many digits there were.
    fn digits(&mut self, min: usize, max: usize) -> Option<(u32, usize)> {
        let len = self
            .rest
            .bytes()
            .take(max)
            .take_while(u8::is_ascii_digit)
            .count();
        if len < min || len == 0 {
            return (min == 0).then_some((0, 0));
        }
        let value = self.rest[..len].parse().ok()?;
        self.rest = &self.rest[len..];
        Some((value, len))
    }

    fn one_of(&mut self, set: &str) -> Option<char> {
        let c = self.rest.chars().next().filter(|c| set.contains(*c))?;
        self.rest = &self.rest[c.len_utf8()..];
        Some(c)
    }

    fn eat(&mut self, token: &str) -> bool {
        match self.rest.strip_prefix(token) {
            Some(rest) => {
                self.rest = rest;
                true
            }
            None => false,
        }
    }

    fn spaces(&mut self) -> bool {
        let trimmed = self.rest.trim_start_matches([' ', '\t']);
        let ate = trimmed.len() != self.rest.len();
        self.rest = trimmed;
        ate
    }

    fn word(&mut self) -> Option<String> {
        let len = self
            .rest
            .bytes()
            .take_while(u8::is_ascii_alphabetic)
            .count();
        if len == 0 {
            return None;
        }
        let word = self.rest[..len].to_string();
        self.rest = &self.rest[len..];
        Some(word)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHANGHAI: Tz = chrono_tz::Asia::Shanghai;

    fn yaml_date(line: &str, tz: Tz) -> Result<String, String> {
        let doc = Yaml::parse(&format!("date: {line}\n")).map_err(|e| e.message)?;
        let value = doc.get("date").cloned().unwrap_or(Yaml::Null);
        from_yaml(&value, tz).map(|d| d.to_rfc3339())
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
}
