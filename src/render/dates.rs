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
    if !plain(date) {
        return date.format("%Y-%m-%dT%H:%M:%S%:z").to_string();
    }
    let offset = date.offset().local_minus_utc();
    let (sign, offset) = if offset < 0 {
        ('-', -offset)
    } else {
        ('+', offset)
    };
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}{sign}{:02}:{:02}",
        date.year(),
        date.month(),
        date.day(),
        date.hour(),
        date.minute(),
        date.second(),
        offset / 3600,
        offset / 60 % 60
    )
}

/// What pages show of a date: `%Y-%m-%d %H:%M`.
pub fn minutes(date: &DateTime<FixedOffset>) -> String {
    if !plain(date) {
        return date.format("%Y-%m-%d %H:%M").to_string();
    }
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}",
        date.year(),
        date.month(),
        date.day(),
        date.hour(),
        date.minute()
    )
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
