//! `feedd stats`: the stored figures summed per feed. Pure: rows and the dates in, a
//! table or JSON out.
//!
//! A feed's readers on a day are the sum over its formats (Atom, RSS, JSON) of each
//! aggregator's reported count, the distinct direct readers and the WebSub
//! subscriptions. A reader polling two formats of one feed is counted in each (rare,
//! and not knowable for aggregators); that is the one overcount.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::Serialize;

use super::store::Row;

/// One feed's readers on one day, by source.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Readers {
    pub total: u64,
    /// `direct`, `websub`, `aggregator:<name>` → readers.
    pub sources: BTreeMap<String, u64>,
}

/// One feed's figures.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FeedStats {
    /// The feed's folder below the output dir (`""` for the site's feed).
    pub feed: String,
    pub last_day: Readers,
    pub today: Readers,
    /// The last complete day against the mean of the seven before it (`0.25` = +25%);
    /// none without those days.
    pub trend: Option<f64>,
    /// Every day's total in the window, oldest first.
    pub daily: Vec<(NaiveDate, u64)>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub today: NaiveDate,
    pub last_day: NaiveDate,
    pub feeds: Vec<FeedStats>,
}

/// What a feed's page shows of its readers (`[stats] public`): the last complete day's
/// total and the daily totals of the chart's window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedReaders {
    pub last_day: u64,
    /// The window's first day and today; the days with figures in it.
    pub window: (NaiveDate, NaiveDate),
    pub daily: Vec<(NaiveDate, u64)>,
}

/// What each feed's page shows of its readers, by feed.
pub type PagesTable = BTreeMap<crate::layout::FeedKey, FeedReaders>;

/// Every feed's readers for the pages (a folder that names no feed is left out).
/// Changes once a day, so pages are made again once a day.
pub fn pages_table(report: &Report, first: NaiveDate) -> PagesTable {
    (report.feeds.iter())
        .filter_map(|f| {
            let key = crate::layout::FeedKey::from_dir(&f.feed)?;
            let daily: Vec<(NaiveDate, u64)> = (f.daily.iter())
                .filter(|(d, _)| *d >= first && *d < report.today)
                .copied()
                .collect();
            // A feed first polled today has no complete day to show yet.
            if daily.is_empty() {
                return None;
            }
            let readers = FeedReaders {
                last_day: f.last_day.total,
                window: (first, report.today),
                daily,
            };
            Some((key, readers))
        })
        .collect()
}

/// The feed a file belongs to: its folder (a feed's files are `<folder>/feed.xml`, …).
pub fn feed_of(file: &str) -> &str {
    file.rsplit_once('/').map_or("", |(dir, _)| dir)
}

/// Sums the rows per feed and day; feeds ordered by the last complete day's readers.
pub fn report(rows: &[Row], today: NaiveDate, days: u32) -> Report {
    let last_day = today.pred_opt().unwrap_or(today);
    let first = today - chrono::Duration::days(i64::from(days.max(1)));
    let mut per: BTreeMap<&str, BTreeMap<NaiveDate, Readers>> = BTreeMap::new();
    for (date, figure) in rows {
        let day = per
            .entry(feed_of(&figure.file))
            .or_default()
            .entry(*date)
            .or_default();
        day.total += figure.readers;
        *day.sources.entry(figure.source.clone()).or_default() += figure.readers;
    }
    let mut feeds: Vec<FeedStats> = per
        .into_iter()
        .map(|(feed, days)| {
            let total = |d: NaiveDate| days.get(&d).map_or(0, |r| r.total);
            let before: Vec<u64> = (2..=8)
                .filter_map(|back| today.checked_sub_days(chrono::Days::new(back)))
                .filter(|d| days.contains_key(d))
                .map(total)
                .collect();
            let mean = before.iter().sum::<u64>() as f64 / before.len().max(1) as f64;
            let trend =
                (!before.is_empty() && mean > 0.0).then(|| (total(last_day) as f64 - mean) / mean);
            FeedStats {
                feed: feed.to_string(),
                last_day: days.get(&last_day).cloned().unwrap_or_default(),
                today: days.get(&today).cloned().unwrap_or_default(),
                trend,
                daily: (days.iter())
                    .filter(|(d, _)| **d >= first)
                    .map(|(d, r)| (*d, r.total))
                    .collect(),
            }
        })
        .collect();
    feeds.sort_by(|a, b| {
        (b.last_day.total, b.today.total)
            .cmp(&(a.last_day.total, a.today.total))
            .then_with(|| a.feed.cmp(&b.feed))
    });
    Report {
        today,
        last_day,
        feeds,
    }
}

/// Prometheus lines of one day's figures: per feed and source for the `top` feeds with
/// the most readers, the others summed per source as feed `other`.
pub fn metrics(figures: &[super::day::Figure], top: usize) -> String {
    let mut per: BTreeMap<&str, BTreeMap<&str, u64>> = BTreeMap::new();
    for f in figures {
        *per.entry(feed_of(&f.file))
            .or_default()
            .entry(&f.source)
            .or_default() += f.readers;
    }
    let mut ranked: Vec<(&str, BTreeMap<&str, u64>)> = per.into_iter().collect();
    ranked.sort_by_key(|(feed, sources)| (std::cmp::Reverse(sources.values().sum::<u64>()), *feed));
    let mut other: BTreeMap<&str, u64> = BTreeMap::new();
    let mut out = String::from(
        "# HELP feedd_readers Readers of each feed today so far, by source.\n# TYPE feedd_readers gauge\n",
    );
    for (i, (feed, sources)) in ranked.iter().enumerate() {
        for (source, n) in sources {
            if i < top {
                let feed = if feed.is_empty() { "/" } else { feed };
                out.push_str(&format!(
                    "feedd_readers{{feed=\"{}\",source=\"{}\"}} {n}\n",
                    label(feed),
                    label(source)
                ));
            } else {
                *other.entry(source).or_default() += n;
            }
        }
    }
    for (source, n) in other {
        out.push_str(&format!(
            "feedd_readers{{feed=\"other\",source=\"{}\"}} {n}\n",
            label(source)
        ));
    }
    out
}

/// A Prometheus label value: `\`, `"` and line breaks escaped.
fn label(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// The report as a table for people.
pub fn table(report: &Report) -> String {
    let mut out = format!(
        "{:<40} {:>10} {:>10} {:>7}  sources ({})\n",
        "feed",
        report.last_day.format("%m-%d"),
        "today",
        "trend",
        report.last_day
    );
    for f in &report.feeds {
        let name = if f.feed.is_empty() { "(site)" } else { &f.feed };
        let trend = f
            .trend
            .map_or("-".to_string(), |t| format!("{:+.0}%", t * 100.0));
        let sources: Vec<String> = (f.last_day.sources.iter())
            .map(|(s, n)| format!("{}={n}", s.trim_start_matches("aggregator:")))
            .collect();
        out.push_str(&format!(
            "{:<40} {:>10} {:>10} {:>7}  {}\n",
            name,
            f.last_day.total,
            f.today.total,
            trend,
            sources.join(" ")
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::day::Figure;

    fn row(date: &str, file: &str, source: &str, readers: u64) -> Row {
        (
            date.parse().unwrap(),
            Figure {
                file: file.into(),
                source: source.into(),
                readers,
            },
        )
    }

    #[test]
    fn formats_and_sources_add_up_per_feed_and_day() {
        let rows = [
            row("2026-12-02", "tags/x/feed.xml", "aggregator:Feedly", 10),
            row("2026-12-02", "tags/x/rss.xml", "direct", 3),
            row("2026-12-02", "tags/x/feed.json", "websub", 1),
            row("2026-12-02", "feed.xml", "direct", 2),
            row("2026-12-03", "tags/x/feed.xml", "aggregator:Feedly", 11),
        ];
        let today = NaiveDate::from_ymd_opt(2026, 12, 3).unwrap();
        let r = report(&rows, today, 30);
        assert_eq!(r.feeds[0].feed, "tags/x");
        assert_eq!(r.feeds[0].last_day.total, 14);
        assert_eq!(r.feeds[0].today.total, 11);
        assert_eq!(r.feeds[0].last_day.sources["aggregator:Feedly"], 10);
        assert_eq!(r.feeds[1].feed, "");
        assert!(table(&r).contains("tags/x"));
    }

    #[test]
    fn metrics_name_the_top_feeds_and_sum_the_rest() {
        let figures: Vec<Figure> = (0..5)
            .map(|i| Figure {
                file: format!("tags/t\"{i}/feed.xml"),
                source: "direct".into(),
                readers: i + 1,
            })
            .collect();
        let text = metrics(&figures, 2);
        assert!(
            text.contains("feedd_readers{feed=\"tags/t\\\"4\",source=\"direct\"} 5\n"),
            "{text}"
        );
        assert!(
            text.contains("feedd_readers{feed=\"other\",source=\"direct\"} 6\n"),
            "{text}"
        );
        assert_eq!(text.matches("feedd_readers{").count(), 3);
    }

    #[test]
    fn trend_compares_with_the_week_before() {
        let mut rows = vec![row("2026-12-02", "feed.xml", "direct", 20)];
        for day in 24..=30 {
            rows.push(row(&format!("2026-11-{day}"), "feed.xml", "direct", 10));
        }
        rows.push(row("2026-12-01", "feed.xml", "direct", 10));
        let r = report(&rows, NaiveDate::from_ymd_opt(2026, 12, 3).unwrap(), 30);
        assert_eq!(r.feeds[0].trend, Some(1.0));
    }
}
