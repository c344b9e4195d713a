//! The `/stats/` page (`[stats] public`): every feed ranked by its readers, and a chart
//! of all feeds' readers over the last 90 days. Server-rendered SVG: readable without
//! script. Pure: the report in, the page's bytes out.

use chrono::NaiveDate;
use maud::{html, Markup};

use super::Shell;
use crate::layout::FeedKey;
use crate::stats::report::Report;

/// Days in the chart.
pub const CHART_DAYS: i64 = 90;

/// The page, from the report of the last `CHART_DAYS` days.
pub fn readers_page(shell: &Shell<'_>, report: &Report) -> Vec<u8> {
    let t = shell.texts;
    let main = html! {
        h1 { (t.readers) }
        p { (t.readers_lead) }
        @if report.feeds.is_empty() {
            p { (t.no_readers) }
        } @else {
            figure {
                (chart(&site_totals(report), report.today, t.readers_chart))
                figcaption { (t.readers_chart) }
            }
            table.readers {
                thead { tr {
                    th scope="col" { (t.feed) }
                    th scope="col" { (report.last_day.format("%Y-%m-%d")) }
                    th scope="col" { (t.today) }
                    th scope="col" { (t.trend) }
                } }
                tbody {
                    @for f in &report.feeds {
                        tr {
                            td { (feed_link(shell, &f.feed)) }
                            td { (f.last_day.total) }
                            td { (f.today.total) }
                            td { (f.trend.map_or("–".to_string(), |t| format!("{:+.0}%", t * 100.0))) }
                        }
                    }
                }
            }
        }
    };
    let crumbs = html! { " › " (t.readers) };
    shell
        .page(t.readers, &[], crumbs, main)
        .into_string()
        .into_bytes()
}

/// A feed page's readers: the last complete day's count and the chart of the window.
pub fn feed_readers(shell: &Shell<'_>, readers: &crate::stats::report::FeedReaders) -> Markup {
    let t = shell.texts;
    let (first, today) = readers.window;
    html! {
        section.readers aria-labelledby="readers" {
            h2 #readers { (t.readers_count(readers.last_day)) }
            figure {
                (chart(&(first, readers.daily.clone()), today, t.readers_chart_feed))
                figcaption { (t.readers_chart_feed) }
            }
        }
    }
}

/// A feed's name as people read it (`分类 · 美元`), linked to its page when there are
/// pages and its folder names it.
fn feed_link(shell: &Shell<'_>, dir: &str) -> Markup {
    let key = FeedKey::from_dir(dir);
    let shown = match (&key, dir.is_empty()) {
        (_, true) => shell.texts.all_posts.to_string(),
        (Some(key), false) => match key.name() {
            Some(name) => format!("{} · {name}", shell.texts.kind(key.kind())),
            None => dir.to_string(),
        },
        (None, false) => dir.to_string(),
    };
    match key {
        Some(key) if shell.config.pages.enabled => {
            html! { a href=(shell.href(&key.url_path())) { (shown) } }
        }
        _ => html! { (shown) },
    }
}

/// Every day's readers of all feeds together, oldest first, and the chart's first day.
fn site_totals(report: &Report) -> (NaiveDate, Vec<(NaiveDate, u64)>) {
    let mut days = std::collections::BTreeMap::<NaiveDate, u64>::new();
    let first = report.today - chrono::Duration::days(CHART_DAYS - 1);
    for f in &report.feeds {
        for (day, total) in &f.daily {
            if *day >= first {
                *days.entry(*day).or_default() += total;
            }
        }
    }
    (first, days.into_iter().collect())
}

/// A line chart of daily values over the window from `first` to today, each day a dot
/// (a new site's single day shows), with the highest value and the window's ends
/// written beside it.
fn chart(
    (first, days): &(NaiveDate, Vec<(NaiveDate, u64)>),
    today: NaiveDate,
    label: &str,
) -> Markup {
    const W: f64 = 720.0;
    const H: f64 = 160.0;
    const PAD: f64 = 28.0;
    let span = (today - *first).num_days().max(1) as f64;
    let top = days.iter().map(|(_, n)| *n).max().unwrap_or(0).max(1) as f64;
    let point = |(d, n): &(NaiveDate, u64)| {
        let x = PAD + (W - 2.0 * PAD) * (*d - *first).num_days() as f64 / span;
        let y = H - PAD - (H - 2.0 * PAD) * (*n as f64) / top;
        (x, y)
    };
    let points: Vec<(f64, f64)> = days.iter().map(point).collect();
    let line: Vec<String> = points
        .iter()
        .map(|(x, y)| format!("{x:.1},{y:.1}"))
        .collect();
    let (base, right, below) = (H - PAD, W - PAD, H - 8.0);
    html! {
        svg.chart viewBox=(format!("0 0 {W} {H}")) role="img" aria-label=(label) {
            line x1=(PAD) y1=(base) x2=(right) y2=(base) stroke="currentColor" stroke-opacity="0.4" {}
            polyline points=(line.join(" ")) fill="none" stroke="currentColor" stroke-width="2" {}
            @for (x, y) in &points {
                circle cx=(format!("{x:.1}")) cy=(format!("{y:.1}")) r="2.5" fill="currentColor" {}
            }
            text x=(PAD) y="16" font-size="12" fill="currentColor" { (top as u64) }
            text x=(PAD) y=(below) font-size="12" fill="currentColor" { (first) }
            text x=(right) y=(below) font-size="12" fill="currentColor" text-anchor="end" { (today) }
        }
    }
}
