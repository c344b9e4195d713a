//! Dates as feeds and pages write them, from the date's fields: chrono's `format` parses
//! its pattern on every call, and every entry of every feed, archive document and page
//! has its dates written (a tenth of a fresh 100k build's user CPU went to it). Dates
//! that need chrono's care (years outside 0–9999, leap seconds, offsets with seconds)
//! take chrono's way; a property test holds both ways equal.

use chrono::{DateTime, Datelike, FixedOffset, Timelike};

/// Whether the fields can be written plainly, as chrono would.
fn plain(date: &DateTime<FixedOffset>) -> bool {
    (0..=9999).contains(&date.year())
        && date.nanosecond() < 1_000_000_000
        && date.offset().local_minus_utc() % 60 == 0
}

/// RFC 3339 with seconds and a numeric offset (never `Z`), as jekyll-feed writes dates:
/// `%Y-%m-%dT%H:%M:%S%:z`.
pub fn rfc3339(date: &DateTime<FixedOffset>) -> String {
    let mut out = Vec::with_capacity(25);
    write_rfc3339(date, &mut out);
    String::from_utf8(out).unwrap_or_default()
}

/// `rfc3339` onto the end of `out` (archive entries write half a million dates).
pub fn write_rfc3339(date: &DateTime<FixedOffset>, out: &mut Vec<u8>) {
    if !plain(date) {
        let text = date.format("%Y-%m-%dT%H:%M:%S%:z").to_string();
        out.extend_from_slice(text.as_bytes());
        return;
    }
    day_and_minute(date, b'T', out);
    out.push(b':');
    two(date.naive_local().second(), out);
    let offset = date.offset().local_minus_utc();
    out.push(if offset < 0 { b'-' } else { b'+' });
    let offset = offset.unsigned_abs();
    two(offset / 3600, out);
    out.push(b':');
    two(offset / 60 % 60, out);
}

/// What pages show of a date: `%Y-%m-%d %H:%M`.
pub fn minutes(date: &DateTime<FixedOffset>) -> String {
    if !plain(date) {
        return date.format("%Y-%m-%d %H:%M").to_string();
    }
    let mut out = Vec::with_capacity(16);
    day_and_minute(date, b' ', &mut out);
    String::from_utf8(out).unwrap_or_default()
}

/// `%Y-%m-%d<between>%H:%M`. Digits are pushed one by one: `format!` with padded
/// integers costs thousands of instructions a date, and each of `DateTime`'s field
/// methods works out the local time again, so it is worked out once here.
fn day_and_minute(date: &DateTime<FixedOffset>, between: u8, out: &mut Vec<u8>) {
    let local = date.naive_local();
    let year = local.year().unsigned_abs(); // 0..=9999 (`plain`)
    two(year / 100, out);
    two(year % 100, out);
    out.push(b'-');
    two(local.month(), out);
    out.push(b'-');
    two(local.day(), out);
    out.push(between);
    two(local.hour(), out);
    out.push(b':');
    two(local.minute(), out);
}

/// `value` (under 100) as two digits.
fn two(value: u32, out: &mut Vec<u8>) {
    out.extend_from_slice(&[b'0' + (value / 10 % 10) as u8, b'0' + (value % 10) as u8]);
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn written_as_chrono_writes_them(
            secs in -70_000_000_000i64..260_000_000_000,
            nanos in prop_oneof![Just(0u32), 0u32..1_000_000_000, 1_000_000_000u32..1_999_999_999],
            offset in -86_399i32..86_399,
            whole_minutes in any::<bool>(),
        ) {
            let offset = if whole_minutes { offset / 60 * 60 } else { offset };
            let zone = FixedOffset::east_opt(offset).unwrap();
            let Some(utc) = chrono::DateTime::from_timestamp(secs, nanos) else {
                return Ok(());
            };
            let date = zone.from_utc_datetime(&utc.naive_utc());
            prop_assert_eq!(rfc3339(&date), date.format("%Y-%m-%dT%H:%M:%S%:z").to_string());
            prop_assert_eq!(minutes(&date), date.format("%Y-%m-%d %H:%M").to_string());
        }
    }

    #[test]
    fn a_shanghai_date() {
        let date = DateTime::parse_from_rfc3339("2021-12-08T22:06:00.5+08:00").unwrap();
        assert_eq!(rfc3339(&date), "2021-12-08T22:06:00+08:00");
        assert_eq!(minutes(&date), "2021-12-08 22:06");
        let west = DateTime::parse_from_rfc3339("2021-12-08T01:02:03-03:30").unwrap();
        assert_eq!(rfc3339(&west), "2021-12-08T01:02:03-03:30");
    }
}
