//! The same figures from a static deployment's access logs (nginx's `combined` format,
//! rotated `.gz` files too): each 200 or 304 for a feed file is a poll, counted into its
//! day (in the site's time zone) exactly as `serve` counts it, with a key that lives
//! only while the logs are read. WebSub cannot show in logs. Logs carry no Fetch
//! Metadata, so a browser is told by its User-Agent (Chrome, Safari, Firefox or Edge,
//! Thunderbird excepted) rather than by its navigation.

use std::collections::BTreeMap;
use std::io::BufRead;
use std::net::IpAddr;

use chrono::{DateTime, NaiveDate};
use chrono_tz::Tz;
use percent_encoding::percent_decode_str;

use super::agent::{classify, Agent};
use super::day::Day;
use super::store::Row;
use crate::layout::{FeedKey, FeedKind, Format};
use crate::names::FeedName;

/// One poll read from a log line.
#[derive(Debug, PartialEq)]
pub struct Poll {
    pub date: NaiveDate,
    pub client: IpAddr,
    pub file: String,
    pub user_agent: String,
}

/// Opens access logs for `count`, each read through gzip when its name ends in `.gz`
/// (logrotate's rotated files).
pub fn open(
    paths: &[std::path::PathBuf],
) -> Result<Vec<Box<dyn BufRead>>, super::store::StatsError> {
    let mut readers: Vec<Box<dyn BufRead>> = Vec::new();
    for path in paths {
        let file = std::fs::File::open(path).map_err(|source| super::store::StatsError::Io {
            path: path.clone(),
            source,
        })?;
        readers.push(match path.extension().is_some_and(|e| e == "gz") {
            true => Box::new(std::io::BufReader::new(flate2::read::MultiGzDecoder::new(
                file,
            ))),
            false => Box::new(std::io::BufReader::new(file)),
        });
    }
    Ok(readers)
}

/// Counts every feed poll in the logs; also how many lines were not understood.
pub fn count(
    logs: impl IntoIterator<Item = Box<dyn BufRead>>,
    baseurl: &str,
    tz: Tz,
) -> (Vec<Row>, usize) {
    let mut days: BTreeMap<NaiveDate, Day> = BTreeMap::new();
    let mut unread = 0;
    for log in logs {
        for line in log.lines() {
            let Ok(line) = line else {
                unread += 1;
                continue;
            };
            match parse(&line, baseurl, tz) {
                Ok(Some(poll)) => {
                    let agent = classify(&poll.user_agent);
                    if is_browser(&poll.user_agent, &agent) {
                        continue;
                    }
                    let day = days.entry(poll.date).or_insert_with(|| Day::new(poll.date));
                    day.record(&poll.file, &agent, poll.client, &poll.user_agent);
                }
                Ok(None) => {}
                Err(NotCombined) => unread += 1,
            }
        }
    }
    let rows = (days.into_values())
        .flat_map(|day| {
            let date = day.date;
            day.figures().into_iter().map(move |f| (date, f))
        })
        .collect();
    (rows, unread)
}

fn is_browser(user_agent: &str, agent: &Agent) -> bool {
    let browser = ["Chrome/", "Safari/", "Firefox/", "Edg/"];
    *agent == Agent::Reader
        && browser.iter().any(|b| user_agent.contains(b))
        && !user_agent.contains("Thunderbird")
}

/// A log line that is not in nginx's `combined` format.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("not a line in nginx's combined format")]
pub struct NotCombined;

/// One `combined` line: `Ok(None)` for a request that is not a feed poll.
pub fn parse(line: &str, baseurl: &str, tz: Tz) -> Result<Option<Poll>, NotCombined> {
    // ip - user [time] "request" status bytes "referer" "user agent"
    let quoted: Vec<&str> = line.split('"').collect();
    if quoted.len() < 6 {
        return Err(NotCombined);
    }
    let head = quoted[0];
    let client: IpAddr = head
        .split(' ')
        .next()
        .ok_or(NotCombined)?
        .parse()
        .map_err(|_| NotCombined)?;
    let time = head
        .split_once('[')
        .and_then(|(_, t)| t.split_once(']'))
        .ok_or(NotCombined)?
        .0;
    let at = DateTime::parse_from_str(time, "%d/%b/%Y:%H:%M:%S %z").map_err(|_| NotCombined)?;
    let mut request = quoted[1].split(' ');
    let (method, target) = (
        request.next().ok_or(NotCombined)?,
        request.next().ok_or(NotCombined)?,
    );
    let status = quoted[2].split_whitespace().next().ok_or(NotCombined)?;
    if !matches!(method, "GET" | "HEAD") || !matches!(status, "200" | "304") {
        return Ok(None);
    }
    let Some(file) = feed_file(target, baseurl) else {
        return Ok(None);
    };
    Ok(Some(Poll {
        date: at.with_timezone(&tz).date_naive(),
        client,
        file,
        user_agent: quoted[quoted.len() - 2].to_string(),
    }))
}

/// The feed file a request path names (below `baseurl`), as `serve` names it.
pub fn feed_file(target: &str, baseurl: &str) -> Option<String> {
    let path = target.split(['?', '#']).next()?;
    let base = baseurl.trim_end_matches('/');
    let path = path.strip_prefix(base).filter(|p| p.starts_with('/'))?;
    let segments: Vec<String> = (path.split('/').filter(|s| !s.is_empty()))
        .map(|s| {
            percent_decode_str(s)
                .decode_utf8()
                .ok()
                .map(|d| d.into_owned())
        })
        .collect::<Option<_>>()?;
    let (key, file) = match segments.as_slice() {
        [file] => (FeedKey::Site, file),
        [kind, name, file] => {
            let name = FeedName::new(name);
            let key = match FeedKind::from_folder(kind)? {
                FeedKind::Category => FeedKey::Category(name),
                FeedKind::Tag => FeedKey::Tag(name),
                FeedKind::Custom => FeedKey::Custom(name),
                FeedKind::Site => return None,
            };
            (key, file)
        }
        _ => return None,
    };
    Some(key.file(Format::from_file_name(file)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn combined_lines_become_polls_of_feed_files() {
        let tz: Tz = "Asia/Shanghai".parse().unwrap();
        let line = r#"203.0.113.9 - - [02/Dec/2026:17:30:00 +0000] "GET /blog/tags/%E7%BE%8E%E5%85%83/feed.xml HTTP/1.1" 304 0 "-" "newsboat/2.30.1 (Linux x86_64)""#;
        let poll = parse(line, "/blog", tz).unwrap().unwrap();
        assert_eq!(poll.file, "tags/美元/feed.xml");
        assert_eq!(poll.date.to_string(), "2026-12-03", "the site's day");
        assert_eq!(poll.user_agent, "newsboat/2.30.1 (Linux x86_64)");
        let page = r#"203.0.113.9 - - [02/Dec/2026:17:30:00 +0000] "GET /blog/tags/x/ HTTP/1.1" 200 10 "-" "x""#;
        assert_eq!(parse(page, "/blog", tz), Ok(None));
        let missing = r#"203.0.113.9 - - [02/Dec/2026:17:30:00 +0000] "GET /blog/feed.xml HTTP/1.1" 404 10 "-" "x""#;
        assert_eq!(parse(missing, "/blog", tz), Ok(None));
        assert_eq!(parse("garbage", "", tz), Err(NotCombined));
        assert_eq!(
            feed_file("/tags/Ａ股/rss.xml?x=1", ""),
            Some("tags/a股/rss.xml".into())
        );
        assert_eq!(feed_file("/feed.json", ""), Some("feed.json".into()));
    }
}
