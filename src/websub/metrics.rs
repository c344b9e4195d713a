//! The hub's part of `/metrics`.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};

/// Upper bounds (seconds) of the change → delivered histogram.
const BUCKETS: [f64; 9] = [0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0, 60.0, 600.0];

/// Delivery outcomes counted separately.
#[derive(Debug, Clone, Copy)]
pub enum Delivery {
    Delivered,
    Failed,
    Gone,
}

#[derive(Debug, Default)]
pub struct HubMetrics {
    subscriptions: AtomicU64,
    owed: AtomicU64,
    pings_owed: AtomicU64,
    in_flight: AtomicU64,
    deliveries: [AtomicU64; 3],
    verifications: [AtomicU64; 2],
    announcements: [AtomicU64; 2],
    expired: AtomicU64,
    latency_buckets: [AtomicU64; 9],
    latency_micros: AtomicU64,
}

impl HubMetrics {
    pub fn gauges(&self, subscriptions: usize, owed: usize, pings: usize, in_flight: usize) {
        self.subscriptions
            .store(subscriptions as u64, Ordering::Relaxed);
        self.owed.store(owed as u64, Ordering::Relaxed);
        self.pings_owed.store(pings as u64, Ordering::Relaxed);
        self.in_flight.store(in_flight as u64, Ordering::Relaxed);
    }

    /// One delivery attempt; `latency` (change noted → delivered) for a success.
    pub fn delivery(&self, outcome: Delivery, latency: Option<f64>) {
        self.deliveries[outcome as usize].fetch_add(1, Ordering::Relaxed);
        if let Some(seconds) = latency {
            for (i, le) in BUCKETS.iter().enumerate() {
                if seconds <= *le {
                    self.latency_buckets[i].fetch_add(1, Ordering::Relaxed);
                }
            }
            self.latency_micros
                .fetch_add((seconds * 1e6) as u64, Ordering::Relaxed);
        }
    }

    pub fn verification(&self, ok: bool) {
        self.verifications[usize::from(!ok)].fetch_add(1, Ordering::Relaxed);
    }

    pub fn announcement(&self, ok: bool) {
        self.announcements[usize::from(!ok)].fetch_add(1, Ordering::Relaxed);
    }

    pub fn expired(&self, n: usize) {
        self.expired.fetch_add(n as u64, Ordering::Relaxed);
    }

    pub fn render(&self, out: &mut String) {
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let _ = write!(
            out,
            "# HELP feedd_websub_subscriptions Verified subscriptions of the built-in hub.\n# TYPE feedd_websub_subscriptions gauge\nfeedd_websub_subscriptions {}\n\
             # HELP feedd_websub_queue_depth Deliveries owed to subscribers (pending or being retried).\n# TYPE feedd_websub_queue_depth gauge\nfeedd_websub_queue_depth {}\n\
             # HELP feedd_websub_announcements_pending Changes still to announce to external hubs.\n# TYPE feedd_websub_announcements_pending gauge\nfeedd_websub_announcements_pending {}\n\
             # HELP feedd_websub_deliveries_in_flight Deliveries being sent now.\n# TYPE feedd_websub_deliveries_in_flight gauge\nfeedd_websub_deliveries_in_flight {}\n\
             # HELP feedd_websub_deliveries_total Delivery attempts by outcome (gone: 410, unsubscribed).\n# TYPE feedd_websub_deliveries_total counter\n\
             feedd_websub_deliveries_total{{outcome=\"delivered\"}} {}\nfeedd_websub_deliveries_total{{outcome=\"failed\"}} {}\nfeedd_websub_deliveries_total{{outcome=\"gone\"}} {}\n\
             # HELP feedd_websub_verifications_total Verifications of intent by outcome.\n# TYPE feedd_websub_verifications_total counter\n\
             feedd_websub_verifications_total{{outcome=\"verified\"}} {}\nfeedd_websub_verifications_total{{outcome=\"failed\"}} {}\n\
             # HELP feedd_websub_announcements_total Announcements to external hubs by outcome.\n# TYPE feedd_websub_announcements_total counter\n\
             feedd_websub_announcements_total{{outcome=\"ok\"}} {}\nfeedd_websub_announcements_total{{outcome=\"failed\"}} {}\n\
             # HELP feedd_websub_expired_total Subscriptions dropped at the end of their lease.\n# TYPE feedd_websub_expired_total counter\nfeedd_websub_expired_total {}\n\
             # HELP feedd_websub_delivery_latency_seconds From a feed's change to its delivery.\n# TYPE feedd_websub_delivery_latency_seconds histogram\n",
            get(&self.subscriptions),
            get(&self.owed),
            get(&self.pings_owed),
            get(&self.in_flight),
            get(&self.deliveries[0]),
            get(&self.deliveries[1]),
            get(&self.deliveries[2]),
            get(&self.verifications[0]),
            get(&self.verifications[1]),
            get(&self.announcements[0]),
            get(&self.announcements[1]),
            get(&self.expired),
        );
        for (i, le) in BUCKETS.iter().enumerate() {
            let _ = writeln!(
                out,
                "feedd_websub_delivery_latency_seconds_bucket{{le=\"{le}\"}} {}",
                get(&self.latency_buckets[i])
            );
        }
        let count = get(&self.deliveries[0]);
        let _ = write!(
            out,
            "feedd_websub_delivery_latency_seconds_bucket{{le=\"+Inf\"}} {count}\nfeedd_websub_delivery_latency_seconds_sum {}\nfeedd_websub_delivery_latency_seconds_count {count}\n",
            get(&self.latency_micros) as f64 / 1e6
        );
    }
}
