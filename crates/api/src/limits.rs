//! Request budgets: a fixed one-minute window per key (a caller's identity, or a client address), bounded
//! in the keys it tracks, O(1) per request. Every response reports the budget that applied
//! (`RateLimit-Limit`, `RateLimit-Remaining`, `RateLimit-Reset`); a spent budget answers 429 with
//! `Retry-After`.

use axum::http::{HeaderMap, HeaderValue};
use std::collections::HashMap;
use std::hash::Hash;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub const WINDOW: Duration = Duration::from_secs(60);
/// Distinct keys tracked per window; past it, new keys wait for the next window (memory stays bounded
/// under a flood of spoofed identities or addresses).
const MAX_KEYS: usize = 100_000;

/// Where a budget stands after a request: what the `RateLimit-*` headers say.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Budget {
    pub limit: u32,
    pub remaining: u32,
    /// Seconds until the window resets (at least 1).
    pub reset_secs: u64,
}

impl Budget {
    pub fn write_headers(&self, headers: &mut HeaderMap) {
        headers.insert("ratelimit-limit", HeaderValue::from(self.limit));
        headers.insert("ratelimit-remaining", HeaderValue::from(self.remaining));
        headers.insert("ratelimit-reset", HeaderValue::from(self.reset_secs));
    }
}

/// A per-minute budget per key. `per_minute == 0` means unlimited (for benchmarks on loopback).
pub struct RateLimiter<K> {
    per_minute: u32,
    inner: Mutex<Window<K>>,
}

struct Window<K> {
    started: Instant,
    used: HashMap<K, u32>,
    /// Keys that arrive once the map is full share this count (and a budget of 100 keys), so a flood of
    /// distinct keys neither grows memory nor locks every newcomer out.
    overflow: u32,
}

impl<K: Hash + Eq> RateLimiter<K> {
    pub fn new(per_minute: u32) -> Self {
        let window = Window { started: Instant::now(), used: HashMap::new(), overflow: 0 };
        RateLimiter { per_minute, inner: Mutex::new(window) }
    }

    /// Spends one request of `key`'s budget: `Ok` with what is left, or `Err` when it is spent. The window
    /// is shared and fixed, so it is reset by dropping the whole map rather than by scanning it.
    pub fn take(&self, key: K) -> Result<Budget, Budget> {
        let limit = self.per_minute;
        if limit == 0 {
            return Ok(Budget { limit: u32::MAX, remaining: u32::MAX, reset_secs: WINDOW.as_secs() });
        }
        let mut w = self.inner.lock().expect("limiter lock");
        let now = Instant::now();
        if now.duration_since(w.started) >= WINDOW {
            w.started = now;
            w.used.clear();
            w.overflow = 0;
        }
        let reset_secs = WINDOW.saturating_sub(now.duration_since(w.started)).as_secs().max(1);
        let spent = Budget { limit, remaining: 0, reset_secs };
        let (used, limit) = if !w.used.contains_key(&key) && w.used.len() >= MAX_KEYS {
            (&mut w.overflow, limit.saturating_mul(100))
        } else {
            (w.used.entry(key).or_insert(0), limit)
        };
        if *used >= limit {
            return Err(Budget { limit, ..spent });
        }
        *used += 1;
        Ok(Budget { limit, remaining: limit - *used, reset_secs })
    }
}

/// The address a limit applies to: IPv6 hosts by their /64 (one subscriber usually has a whole /64 to
/// rotate through), IPv4 and IPv4-mapped addresses as themselves.
pub fn address_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(Ipv6Addr::from(u128::from(v6) & !u128::from(u64::MAX))),
        },
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ipv6_subscriber_is_one_address_and_mapped_ipv4_is_ipv4() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        let other: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(address_key(a), address_key(b));
        assert_ne!(address_key(a), address_key(other));
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        assert_eq!(address_key(mapped), "192.0.2.7".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn a_budget_counts_down_per_key_then_refuses() {
        let limiter = RateLimiter::new(2);
        assert_eq!(limiter.take("a").unwrap().remaining, 1);
        assert_eq!(limiter.take("a").unwrap().remaining, 0);
        let spent = limiter.take("a").unwrap_err();
        assert_eq!((spent.limit, spent.remaining), (2, 0));
        assert!((1..=60).contains(&spent.reset_secs));
        assert_eq!(limiter.take("b").unwrap().remaining, 1, "another key has its own budget");
        assert!(RateLimiter::new(0).take("a").is_ok(), "0 is unlimited");
    }

    #[test]
    fn a_full_map_sends_newcomers_to_a_shared_overflow_budget() {
        let limiter = RateLimiter::new(1);
        for i in 0..MAX_KEYS {
            limiter.take(i).unwrap();
        }
        assert!(limiter.take(0).is_err(), "known keys keep their own budget");
        let first = limiter.take(MAX_KEYS).unwrap();
        assert_eq!((first.limit, first.remaining), (100, 99), "a newcomer is not locked out");
        for i in 1..100 {
            limiter.take(MAX_KEYS + i).unwrap();
        }
        assert!(limiter.take(MAX_KEYS + 100).is_err(), "but the overflow is bounded too");
        assert_eq!(limiter.inner.lock().unwrap().used.len(), MAX_KEYS, "memory stays bounded");
    }
}
