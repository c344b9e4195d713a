//! Counters for `/metrics` (Prometheus text format): requests by status, bytes sent,
//! rebuilds and their durations, posts and feeds.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};

/// Upper bounds (seconds) of the rebuild duration histogram.
const BUCKETS: [f64; 8] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1.0, 5.0];

#[derive(Debug, Default)]
pub struct Metrics {
    responses: [AtomicU64; 6],
    bytes_sent: AtomicU64,
    rebuilds: AtomicU64,
    rebuild_buckets: [AtomicU64; 8],
    rebuild_micros: AtomicU64,
    posts: AtomicU64,
    feeds: AtomicU64,
    last_rebuild_unix: AtomicU64,
    connections_refused: AtomicU64,
    pending_writes: AtomicU64,
    pending_copies: AtomicU64,
    /// The WebSub hub's counters (zero while it is off).
    pub websub: crate::websub::metrics::HubMetrics,
}

/// The status codes we count separately.
const STATUSES: [u16; 6] = [200, 304, 404, 405, 400, 0];

impl Metrics {
    pub fn response(&self, status: u16, bytes: u64) {
        let slot = STATUSES
            .iter()
            .position(|s| *s == status)
            .unwrap_or(STATUSES.len() - 1);
        self.responses[slot].fetch_add(1, Ordering::Relaxed);
        self.bytes_sent.fetch_add(bytes, Ordering::Relaxed);
    }

    /// Files published to memory but not yet on disk (a full or failing disk).
    pub fn pending_writes(&self, files: usize) {
        self.pending_writes.store(files as u64, Ordering::Relaxed);
    }

    /// Files on disk whose precompressed copies are still to be made.
    pub fn pending_copies(&self, files: usize) {
        self.pending_copies.store(files as u64, Ordering::Relaxed);
    }

    pub fn refused(&self) {
        self.connections_refused.fetch_add(1, Ordering::Relaxed);
    }

    pub fn rebuild(&self, seconds: f64, posts: usize, feeds: usize) {
        self.rebuilds.fetch_add(1, Ordering::Relaxed);
        for (i, le) in BUCKETS.iter().enumerate() {
            if seconds <= *le {
                self.rebuild_buckets[i].fetch_add(1, Ordering::Relaxed);
            }
        }
        self.rebuild_micros
            .fetch_add((seconds * 1e6) as u64, Ordering::Relaxed);
        self.posts.store(posts as u64, Ordering::Relaxed);
        self.feeds.store(feeds as u64, Ordering::Relaxed);
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        self.last_rebuild_unix.store(now, Ordering::Relaxed);
    }

    /// The Prometheus exposition text.
    pub fn render(&self) -> String {
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let mut out = String::with_capacity(2048);
        out.push_str("# HELP feedd_http_responses_total HTTP responses by status code.\n# TYPE feedd_http_responses_total counter\n");
        for (i, status) in STATUSES.iter().enumerate() {
            let label = if *status == 0 {
                "other".to_string()
            } else {
                status.to_string()
            };
            let _ = writeln!(
                out,
                "feedd_http_responses_total{{code=\"{label}\"}} {}",
                get(&self.responses[i])
            );
        }
        let ok = get(&self.responses[0]) as f64;
        let not_modified = get(&self.responses[1]) as f64;
        let ratio = if ok + not_modified > 0.0 {
            not_modified / (ok + not_modified)
        } else {
            0.0
        };
        let _ = write!(
            out,
            "# HELP feedd_http_not_modified_ratio Share of feed answers that were 304.\n# TYPE feedd_http_not_modified_ratio gauge\nfeedd_http_not_modified_ratio {ratio}\n\
             # HELP feedd_http_bytes_sent_total Body bytes sent.\n# TYPE feedd_http_bytes_sent_total counter\nfeedd_http_bytes_sent_total {}\n\
             # HELP feedd_connections_refused_total Connections closed at once (over max_connections).\n# TYPE feedd_connections_refused_total counter\nfeedd_connections_refused_total {}\n\
             # HELP feedd_rebuild_duration_seconds Time to apply changes and publish.\n# TYPE feedd_rebuild_duration_seconds histogram\n",
            get(&self.bytes_sent),
            get(&self.connections_refused)
        );
        for (i, le) in BUCKETS.iter().enumerate() {
            let _ = writeln!(
                out,
                "feedd_rebuild_duration_seconds_bucket{{le=\"{le}\"}} {}",
                get(&self.rebuild_buckets[i])
            );
        }
        let count = get(&self.rebuilds);
        let _ = write!(
            out,
            "feedd_rebuild_duration_seconds_bucket{{le=\"+Inf\"}} {count}\nfeedd_rebuild_duration_seconds_sum {}\nfeedd_rebuild_duration_seconds_count {count}\n\
             # HELP feedd_posts Live posts.\n# TYPE feedd_posts gauge\nfeedd_posts {}\n\
             # HELP feedd_feeds Feeds published (each in every enabled format).\n# TYPE feedd_feeds gauge\nfeedd_feeds {}\n\
             # HELP feedd_last_rebuild_timestamp_seconds When the last rebuild finished.\n# TYPE feedd_last_rebuild_timestamp_seconds gauge\nfeedd_last_rebuild_timestamp_seconds {}\n\
             # HELP feedd_disk_pending_writes Files served from memory that could not be written to output_dir yet (retried).\n# TYPE feedd_disk_pending_writes gauge\nfeedd_disk_pending_writes {}\n\
             # HELP feedd_disk_pending_copies Files in output_dir whose precompressed .gz/.br/.zst copies are still to be made.\n# TYPE feedd_disk_pending_copies gauge\nfeedd_disk_pending_copies {}\n",
            get(&self.rebuild_micros) as f64 / 1e6,
            get(&self.posts),
            get(&self.feeds),
            get(&self.last_rebuild_unix),
            get(&self.pending_writes),
            get(&self.pending_copies)
        );
        self.websub.render(&mut out);
        out
    }
}
