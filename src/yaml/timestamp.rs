//! Date and time text as Ruby reads it: Psych's timestamp and date patterns, which type a
//! plain scalar, and the forms `Time.parse` commonly meets in front matter.
//!
//! Only scanning lives here, so that YAML typing does not depend on `post`; what a date
//! means (zones, errors) is `post::date`'s job.

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime};

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

/// Expands Ruby's two-digit years: 69–99 are 19xx, 00–68 are 20xx.
pub(crate) fn expand_year(year: u32, digits: usize) -> i32 {
    let year = year as i32;
    match digits {
        ..=2 if year < 69 => 2000 + year,
        ..=2 => 1900 + year,
        _ => year,
    }
}

/// The fields of a date and time as written, not yet checked.
#[derive(Default, Debug)]
pub(crate) struct Parts {
    pub year: i32,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
    /// Seconds east of UTC, when the text names a zone.
    pub offset: Option<i32>,
}

impl Parts {
    /// Builds the wall time; an out-of-range day rolls over (`02-30` → `03-02`) as in Ruby.
    /// `None` when there is no such day or time.
    pub fn naive(&self) -> Option<NaiveDateTime> {
        if !(1..=9999).contains(&self.year) || !(1..=31).contains(&self.day) {
            return None;
        }
        let first = NaiveDate::from_ymd_opt(self.year, self.month, 1)?;
        let date = first
            .checked_add_signed(Duration::days(i64::from(self.day) - 1))
            .filter(|d| d.year() <= 9999)?;
        let time = NaiveTime::from_hms_opt(self.hour, self.minute, self.second.min(59))?;
        Some(date.and_time(time))
    }
}

#[derive(PartialEq, Clone, Copy)]
pub(crate) enum Strictness {
    /// Exactly Psych's TIME regex: seconds required, `-` separators, four-digit year.
    PsychTimestamp,
    /// The forms `Time.parse` commonly meets in front matter.
    Lenient,
}

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];

pub(crate) fn parse_parts(text: &str, mode: Strictness) -> Option<Parts> {
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
