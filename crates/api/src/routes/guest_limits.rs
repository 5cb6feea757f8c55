//! What one anonymous guest may cost: sessions per address per minute, sockets per conversation, and
//! messages per socket. Every structure is bounded, and every check is O(1).

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const WINDOW: Duration = Duration::from_secs(60);
/// Distinct addresses tracked per window; past it, new addresses wait for the next window.
const MAX_ADDRESSES: usize = 100_000;
/// Open guest sockets per conversation (a few tabs, not a flood).
pub const MAX_SOCKETS_PER_CONVERSATION: usize = 4;

pub struct GuestLimiter {
    per_minute: u32,
    inner: Mutex<Inner>,
}

struct Inner {
    window_started: Instant,
    sessions: HashMap<IpAddr, u32>,
    sockets: HashMap<String, usize>,
}

/// The address a limit applies to: IPv6 hosts by their /64 (one subscriber usually has a whole /64 to
/// rotate through), IPv4 and IPv4-mapped addresses as themselves.
fn limit_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(Ipv6Addr::from(u128::from(v6) & !u128::from(u64::MAX))),
        },
        v4 => v4,
    }
}

impl GuestLimiter {
    pub fn new(per_minute: u32) -> Self {
        let inner = Inner { window_started: Instant::now(), sessions: HashMap::new(), sockets: HashMap::new() };
        GuestLimiter { per_minute, inner: Mutex::new(inner) }
    }

    /// Takes one session for `ip`: `Ok(remaining)` or `Err(seconds until the window resets)`. The window is
    /// shared and fixed, so it is reset by dropping the whole map rather than by scanning it.
    pub fn take(&self, ip: IpAddr) -> Result<u32, u64> {
        let mut inner = self.inner.lock().expect("limiter lock");
        let now = Instant::now();
        if now.duration_since(inner.window_started) >= WINDOW {
            inner.window_started = now;
            inner.sessions.clear();
        }
        let retry = WINDOW.saturating_sub(now.duration_since(inner.window_started)).as_secs().max(1);
        let key = limit_key(ip);
        if !inner.sessions.contains_key(&key) && inner.sessions.len() >= MAX_ADDRESSES {
            return Err(retry);
        }
        let used = inner.sessions.entry(key).or_insert(0);
        if *used >= self.per_minute {
            return Err(retry);
        }
        *used += 1;
        Ok(self.per_minute - *used)
    }

    /// Claims one of the conversation's guest sockets; the claim is released when the guard drops.
    pub fn open_socket(self: &Arc<Self>, conversation_id: &str) -> Option<SocketClaim> {
        let mut inner = self.inner.lock().expect("limiter lock");
        let open = inner.sockets.entry(conversation_id.to_string()).or_insert(0);
        if *open >= MAX_SOCKETS_PER_CONVERSATION {
            return None;
        }
        *open += 1;
        Some(SocketClaim { limiter: self.clone(), conversation_id: conversation_id.to_string() })
    }
}

pub struct SocketClaim {
    limiter: Arc<GuestLimiter>,
    conversation_id: String,
}

impl Drop for SocketClaim {
    fn drop(&mut self) {
        let mut inner = self.limiter.inner.lock().expect("limiter lock");
        if let Some(open) = inner.sockets.get_mut(&self.conversation_id) {
            *open -= 1;
            if *open == 0 {
                inner.sockets.remove(&self.conversation_id);
            }
        }
    }
}

/// A socket's message budget: a token bucket of `BURST` frames refilled at `PER_SECOND`. Each accepted
/// message is a committed write through the single writer, so a guest may not send faster than a person.
pub struct MessageBudget {
    tokens: f64,
    last: Instant,
}

impl Default for MessageBudget {
    fn default() -> Self {
        MessageBudget { tokens: Self::BURST, last: Instant::now() }
    }
}

impl MessageBudget {
    pub const BURST: f64 = 20.0;
    pub const PER_SECOND: f64 = 5.0;

    /// Spends one frame's token if there is one.
    pub fn spend(&mut self, now: Instant) -> bool {
        let refill = now.duration_since(self.last).as_secs_f64() * Self::PER_SECOND;
        self.tokens = (self.tokens + refill).min(Self::BURST);
        self.last = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
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
        assert_eq!(limit_key(a), limit_key(b));
        assert_ne!(limit_key(a), limit_key(other));
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        assert_eq!(limit_key(mapped), "192.0.2.7".parse::<IpAddr>().unwrap());
        let limiter = GuestLimiter::new(2);
        assert_eq!(limiter.take(a), Ok(1));
        assert_eq!(limiter.take(b), Ok(0));
        assert!(limiter.take(a).is_err(), "the /64 shares one budget");
        assert_eq!(limiter.take(other), Ok(1));
    }

    #[test]
    fn sockets_per_conversation_are_capped_and_released() {
        let limiter = Arc::new(GuestLimiter::new(10));
        let claims: Vec<_> = (0..MAX_SOCKETS_PER_CONVERSATION).map(|_| limiter.open_socket("c1").unwrap()).collect();
        assert!(limiter.open_socket("c1").is_none());
        assert!(limiter.open_socket("c2").is_some(), "another conversation has its own budget");
        drop(claims);
        assert!(limiter.open_socket("c1").is_some());
        assert!(limiter.inner.lock().unwrap().sockets.len() <= 1, "released entries are removed");
    }

    #[test]
    fn the_message_budget_allows_a_burst_then_the_refill_rate() {
        let mut b = MessageBudget::default();
        let t0 = b.last;
        let burst = (0..100).take_while(|_| b.spend(t0)).count();
        assert_eq!(burst, MessageBudget::BURST as usize);
        assert!(!b.spend(t0));
        // One second later, PER_SECOND more.
        let t1 = t0 + Duration::from_secs(1);
        let refilled = (0..100).take_while(|_| b.spend(t1)).count();
        assert_eq!(refilled, MessageBudget::PER_SECOND as usize);
    }
}
