//! What one anonymous guest may cost: sessions per address per minute (a `RateLimiter`), sockets per conversation, and
//! messages per socket. Every structure is bounded, and every check is O(1).

use crate::limits::{Budget, RateLimiter, address_key};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// Open guest sockets per conversation (a few tabs, not a flood).
pub const MAX_SOCKETS_PER_CONVERSATION: usize = 4;

pub struct GuestLimiter {
    sessions: RateLimiter<IpAddr>,
    inner: Mutex<Inner>,
}

struct Inner {
    sockets: HashMap<String, usize>,
}

impl GuestLimiter {
    pub fn new(per_minute: u32) -> Self {
        GuestLimiter { sessions: RateLimiter::new(per_minute), inner: Mutex::new(Inner { sockets: HashMap::new() }) }
    }

    /// Takes one session for `ip` (IPv6 by its /64).
    pub fn take(&self, ip: IpAddr) -> Result<Budget, Budget> {
        self.sessions.take(address_key(ip))
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
    fn guest_sessions_share_a_budget_per_ipv6_subscriber() {
        let limiter = GuestLimiter::new(2);
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        assert_eq!(limiter.take(a).unwrap().remaining, 1);
        assert_eq!(limiter.take(b).unwrap().remaining, 0);
        assert!(limiter.take(a).is_err(), "the /64 shares one budget");
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
        let t1 = t0 + std::time::Duration::from_secs(1);
        let refilled = (0..100).take_while(|_| b.spend(t1)).count();
        assert_eq!(refilled, MessageBudget::PER_SECOND as usize);
    }
}
