//! Token buckets, one per key (a credential, a source address), so that nobody can try
//! credentials or start checks faster than the operator allows.
//!
//! Each bucket holds up to `per_minute` tokens and refills continuously at `per_minute`
//! a minute. A key with an empty bucket is refused with the seconds until the next token
//! (the `Retry-After` of a 429 CCE.02429001). Buckets that are full again are forgotten,
//! so the table stays as small as the set of keys active in the last minute (and never
//! grows past [`MAX_KEYS`]).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The most keys a limiter tracks; past it, full buckets are dropped, then the oldest.
pub const MAX_KEYS: usize = 100_000;

/// Token buckets by key.
#[derive(Debug)]
pub struct RateLimiter {
    per_minute: f64,
    buckets: Mutex<HashMap<String, Bucket>>,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl RateLimiter {
    /// A limiter allowing `per_minute` a minute per key, in bursts of as many; 0 disables
    /// it (everything is allowed).
    pub fn per_minute(per_minute: u32) -> Self {
        Self { per_minute: f64::from(per_minute), buckets: Mutex::new(HashMap::new()) }
    }

    /// Whether `key` has a token left, without taking it; else how long until it has.
    pub fn check(&self, key: &str) -> Result<(), Duration> {
        self.with_bucket(key, false)
    }

    /// Takes one token of `key`; or, when it has none, how long until it has.
    pub fn take(&self, key: &str) -> Result<(), Duration> {
        self.with_bucket(key, true)
    }

    fn with_bucket(&self, key: &str, take: bool) -> Result<(), Duration> {
        if self.per_minute <= 0.0 {
            return Ok(());
        }
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if buckets.len() >= MAX_KEYS && !buckets.contains_key(key) {
            self.prune(&mut buckets, now);
        }
        let full = Bucket { tokens: self.per_minute, at: now };
        let bucket = buckets.entry(key.to_owned()).or_insert(full);
        bucket.tokens = self.refilled(bucket, now);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            if take {
                bucket.tokens -= 1.0;
            }
            Ok(())
        } else {
            let per_second = self.per_minute / 60.0;
            Err(Duration::from_secs_f64((1.0 - bucket.tokens) / per_second))
        }
    }

    fn refilled(&self, bucket: &Bucket, now: Instant) -> f64 {
        let elapsed = now.duration_since(bucket.at).as_secs_f64();
        (bucket.tokens + elapsed * self.per_minute / 60.0).min(self.per_minute)
    }

    fn prune(&self, buckets: &mut HashMap<String, Bucket>, now: Instant) {
        buckets.retain(|_, b| self.refilled(b, now) < self.per_minute);
        if buckets.len() >= MAX_KEYS {
            let mut ages: Vec<Instant> = buckets.values().map(|b| b.at).collect();
            ages.sort();
            let cut = ages[ages.len() / 2];
            buckets.retain(|_, b| b.at > cut);
        }
    }

    /// How many keys are tracked now.
    pub fn tracked(&self) -> usize {
        self.buckets.lock().map_or(0, |b| b.len())
    }
}

/// Seconds to put in `Retry-After` for a wait (at least 1).
pub fn retry_after_secs(wait: Duration) -> u64 {
    wait.as_secs_f64().ceil().max(1.0) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_allows_a_burst_then_refuses_with_the_wait() {
        let limiter = RateLimiter::per_minute(3);
        for _ in 0..3 {
            limiter.take("a").unwrap();
        }
        let wait = limiter.take("a").unwrap_err();
        assert!(wait > Duration::from_secs(15) && wait <= Duration::from_secs(20), "{wait:?}");
        assert_eq!(retry_after_secs(wait), wait.as_secs() + 1);
        assert!(limiter.check("a").is_err());
        limiter.take("b").expect("another key has its own bucket");
    }

    #[test]
    fn checking_takes_nothing_and_zero_disables() {
        let limiter = RateLimiter::per_minute(1);
        for _ in 0..10 {
            limiter.check("a").unwrap();
        }
        limiter.take("a").unwrap();
        assert!(limiter.check("a").is_err());
        let off = RateLimiter::per_minute(0);
        for _ in 0..1000 {
            off.take("a").unwrap();
        }
        assert_eq!(off.tracked(), 0);
    }
}
