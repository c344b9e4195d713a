//! Per-client limit on unconditional full downloads (a token bucket per IP address).
//! Conditional requests that end in 304 cost nothing and are never limited; only 200s of
//! feed bodies take a token. Off unless configured: behind a proxy every client has the
//! proxy's address.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Buckets kept at most; full ones are dropped first when there are more.
const MAX_CLIENTS: usize = 100_000;

#[derive(Debug)]
pub struct RateLimiter {
    per_minute: f64,
    buckets: Mutex<HashMap<IpAddr, (f64, Instant)>>,
}

impl RateLimiter {
    /// `per_minute` full downloads per client, with a burst of as many.
    pub fn new(per_minute: u32) -> RateLimiter {
        RateLimiter {
            per_minute: f64::from(per_minute.max(1)),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    pub fn per_minute(&self) -> u32 {
        self.per_minute as u32
    }

    /// Takes a token for `ip`, or says how long until one is free.
    pub fn take(&self, ip: IpAddr, now: Instant) -> Result<(), Duration> {
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() >= MAX_CLIENTS {
            let (rate, cap) = (self.per_minute / 60.0, self.per_minute);
            buckets.retain(|_, (tokens, at)| {
                *tokens + rate * now.duration_since(*at).as_secs_f64() < cap
            });
        }
        let (tokens, at) = buckets.entry(ip).or_insert((self.per_minute, now));
        let refill = self.per_minute / 60.0 * now.duration_since(*at).as_secs_f64();
        *tokens = (*tokens + refill).min(self.per_minute);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            Ok(())
        } else {
            let wait = (1.0 - *tokens) * 60.0 / self.per_minute;
            Err(Duration::from_secs_f64(wait.ceil().max(1.0)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_then_refill() {
        let limiter = RateLimiter::new(3);
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        let other: IpAddr = "127.0.0.2".parse().unwrap();
        let t0 = Instant::now();
        assert!((0..3).all(|_| limiter.take(ip, t0).is_ok()));
        let wait = limiter.take(ip, t0).unwrap_err();
        assert_eq!(wait, Duration::from_secs(20));
        assert!(limiter.take(other, t0).is_ok(), "clients are separate");
        assert!(limiter.take(ip, t0 + Duration::from_secs(21)).is_ok());
    }
}
