//! Engine time: the system clock, or a manual clock that only tests and operators move.

use std::sync::atomic::{AtomicI64, Ordering};
use switchboard_core::Timestamp;

pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> Timestamp;
    /// `Some` for a manual clock: the engine fires timers only when it is advanced.
    fn as_manual(&self) -> Option<&ManualClock> {
        None
    }
}

pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp(wall_clock_ms())
    }
}

pub fn wall_clock_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// A clock that stands still until advanced (`--clock manual`, `POST /v1/admin/clock`).
pub struct ManualClock {
    now_ms: AtomicI64,
}

impl ManualClock {
    pub fn new(start: Timestamp) -> Self {
        ManualClock { now_ms: AtomicI64::new(start.0) }
    }
    pub fn set(&self, t: Timestamp) {
        self.now_ms.store(t.0, Ordering::SeqCst);
    }
    pub fn advance(&self, ms: i64) -> Timestamp {
        Timestamp(self.now_ms.fetch_add(ms, Ordering::SeqCst) + ms)
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        Timestamp(self.now_ms.load(Ordering::SeqCst))
    }
    fn as_manual(&self) -> Option<&ManualClock> {
        Some(self)
    }
}
