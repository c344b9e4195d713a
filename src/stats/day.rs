//! One day's counting for every feed file: the largest count each aggregator reported,
//! and the distinct direct readers. Pure data; the driver gives it each poll and, once a
//! minute, saves it (so a restart mid-day counts nobody twice) and at the day's end
//! turns it into figures and drops it, key and all.
//!
//! A direct reader is a (client address, User-Agent) pair, hashed with a key made for
//! this day (SipHash-1-3, 128-bit key): the state holds no address or User-Agent, and
//! once the day is closed its key and hashes are gone, so the figures cannot be linked
//! back to anyone. Distinct readers are counted exactly while few and with HyperLogLog++
//! beyond (about 1.6% error: `cardinality-estimator` with 2^12 registers).

use std::collections::BTreeMap;
use std::hash::Hasher;
use std::net::IpAddr;

use cardinality_estimator::CardinalityEstimator;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::agent::Agent;

/// Distinct readers of one file.
pub type Distinct = CardinalityEstimator<u64>;

/// One day's counting.
#[derive(Serialize, Deserialize)]
pub struct Day {
    pub date: NaiveDate,
    key: [u8; 16],
    files: BTreeMap<String, FileDay>,
}

/// One file's polls on one day.
#[derive(Default, Serialize, Deserialize)]
struct FileDay {
    /// Aggregator → its feed id ("" when it gives none) → the largest count reported.
    aggregators: BTreeMap<String, BTreeMap<String, u64>>,
    direct: Distinct,
}

/// One figure of a day: a file, where its readers come from, how many.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Figure {
    pub file: String,
    /// `direct`, `websub`, or `aggregator:<name>`.
    pub source: String,
    pub readers: u64,
}

impl Day {
    /// A new day with a fresh key from the system's random source.
    pub fn new(date: NaiveDate) -> Day {
        let mut key = [0u8; 16];
        // Without randomness the counts still work; only their privacy would rest on
        // the state staying private (it is mode 0600 like the WebSub database).
        let _ = getrandom::fill(&mut key);
        Day::with_key(date, key)
    }

    pub fn with_key(date: NaiveDate, key: [u8; 16]) -> Day {
        Day {
            date,
            key,
            files: BTreeMap::new(),
        }
    }

    /// Counts one poll of a feed file (a 200 or 304 for it).
    pub fn record(&mut self, file: &str, agent: &Agent, client: IpAddr, user_agent: &str) {
        let hash = match agent {
            Agent::Reader => Some(self.reader_hash(client, user_agent)),
            _ => None,
        };
        let day = match self.files.get_mut(file) {
            Some(day) => day,
            None => self.files.entry(file.to_string()).or_default(),
        };
        match agent {
            Agent::Aggregator {
                name,
                subscribers,
                feed_id,
            } => {
                let ids = day.aggregators.entry(name.clone()).or_default();
                let seen = ids.entry(feed_id.clone().unwrap_or_default()).or_default();
                *seen = (*seen).max(*subscribers);
            }
            Agent::Reader => day.direct.insert_hash(hash.unwrap_or_default()),
            Agent::Crawler | Agent::Ignored => {}
        }
    }

    fn reader_hash(&self, client: IpAddr, user_agent: &str) -> u64 {
        let mut h = siphasher::sip::SipHasher13::new_with_key(&self.key);
        match client {
            IpAddr::V4(a) => h.write(&a.octets()),
            IpAddr::V6(a) => h.write(&a.octets()),
        }
        h.write_u8(0xff);
        h.write(user_agent.as_bytes());
        h.finish()
    }

    /// About the memory the day's counting holds, in bytes.
    pub fn heap_bytes(&self) -> usize {
        (self.files.iter())
            .map(|(file, day)| {
                let aggregators: usize = (day.aggregators.iter())
                    .map(|(name, ids)| name.len() + ids.keys().map(|k| k.len() + 64).sum::<usize>())
                    .sum();
                file.len() + 96 + aggregators + day.direct.size_of()
            })
            .sum()
    }

    /// The counting state to save while the day is open (no address or User-Agent in
    /// it: hashes, counts and the day's key).
    pub fn state(&self) -> Option<String> {
        serde_json::to_string(self).ok()
    }

    /// The day's figures so far, file by file.
    pub fn figures(&self) -> Vec<Figure> {
        let mut out = Vec::new();
        for (file, day) in &self.files {
            for (name, ids) in &day.aggregators {
                out.push(Figure {
                    file: file.clone(),
                    source: format!("aggregator:{name}"),
                    readers: ids.values().sum(),
                });
            }
            let direct = day.direct.estimate() as u64;
            if direct > 0 {
                out.push(Figure {
                    file: file.clone(),
                    source: "direct".to_string(),
                    readers: direct,
                });
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day() -> Day {
        Day::with_key(NaiveDate::from_ymd_opt(2026, 12, 3).unwrap(), [7; 16])
    }

    fn feedly(n: u64, id: Option<&str>) -> Agent {
        Agent::Aggregator {
            name: "Feedly".into(),
            subscribers: n,
            feed_id: id.map(str::to_string),
        }
    }

    #[test]
    fn an_aggregator_counts_its_largest_report_per_feed_id() {
        let mut d = day();
        let ip: IpAddr = "203.0.113.9".parse().unwrap();
        d.record("feed.xml", &feedly(10, None), ip, "");
        d.record("feed.xml", &feedly(12, None), ip, "");
        d.record("feed.xml", &feedly(11, None), ip, "");
        d.record("feed.xml", &feedly(3, Some("a")), ip, "");
        assert_eq!(
            d.figures(),
            [Figure {
                file: "feed.xml".into(),
                source: "aggregator:Feedly".into(),
                readers: 15
            }]
        );
    }

    #[test]
    fn direct_readers_are_distinct_address_and_agent_pairs() {
        let mut d = day();
        for i in 0..50u8 {
            let ip = IpAddr::from([198, 51, 100, i]);
            for _ in 0..3 {
                d.record("rss.xml", &Agent::Reader, ip, "newsboat/2.30");
            }
            d.record("rss.xml", &Agent::Reader, ip, "NetNewsWire");
            d.record("rss.xml", &Agent::Crawler, ip, "Googlebot");
        }
        let figures = d.figures();
        assert_eq!(figures.len(), 1);
        assert_eq!(figures[0].readers, 100);
    }

    /// Saved and restored mid-day (a restart), the same readers are not counted again,
    /// and the saved state holds no address or User-Agent.
    #[test]
    fn a_saved_day_counts_nobody_twice_and_holds_no_address() {
        let mut d = day();
        let ip: IpAddr = "192.0.2.77".parse().unwrap();
        d.record("feed.json", &Agent::Reader, ip, "Miniflux/2.0.51");
        let saved = serde_json::to_string(&d).unwrap();
        assert!(!saved.contains("192.0.2.77") && !saved.contains("Miniflux"));
        let mut back: Day = serde_json::from_str(&saved).unwrap();
        back.record("feed.json", &Agent::Reader, ip, "Miniflux/2.0.51");
        assert_eq!(back.figures()[0].readers, 1);
    }

    /// The budget: 100,000 distinct readers in a day, each polling three of 2,000 feeds,
    /// are counted in well under 20 MiB.
    #[test]
    fn a_hundred_thousand_readers_fit_in_the_budget() {
        let mut d = day();
        let files: Vec<String> = (0..2000).map(|i| format!("tags/t{i}/feed.xml")).collect();
        for reader in 0..100_000u32 {
            let ip = IpAddr::from(reader.to_be_bytes());
            for k in 0..3u32 {
                let file = &files
                    [((reader.wrapping_mul(2654435761) >> 3) as usize + k as usize * 7) % 2000];
                d.record(file, &Agent::Reader, ip, "newsboat");
            }
        }
        let bytes = d.heap_bytes();
        eprintln!("100,000 readers x 3 of 2,000 feeds: {bytes} bytes of counting state");
        assert!(bytes < 20 << 20, "{bytes}");
        let total: u64 = d.figures().iter().map(|f| f.readers).sum();
        assert!(
            (total as f64 - 300_000.0).abs() / 300_000.0 < 0.03,
            "{total}"
        );
    }

    /// Many readers: HyperLogLog++ within a few percent, in kilobytes.
    #[test]
    fn many_readers_are_estimated_closely() {
        let mut d = day();
        for i in 0..100_000u32 {
            let ip = IpAddr::from(i.to_be_bytes());
            d.record("feed.xml", &Agent::Reader, ip, "r");
        }
        let n = d.figures()[0].readers as f64;
        assert!((n - 100_000.0).abs() / 100_000.0 < 0.05, "{n}");
    }
}
