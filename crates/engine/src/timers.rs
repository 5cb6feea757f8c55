//! The in-memory timer wheel over the durable `timers` rows: ordered by (due time, creation order).

use std::collections::{BTreeMap, HashMap};
use switchboard_core::timers::TimerKind;

#[derive(Clone, Debug)]
pub struct TimerRef {
    pub org_id: String,
    pub conversation_id: String,
    pub kind: TimerKind,
}

#[derive(Default)]
pub struct TimerWheel {
    by_due: BTreeMap<(i64, u64), TimerRef>,
    by_key: HashMap<(String, String), (i64, u64)>,
    pub next_ord: u64,
}

impl TimerWheel {
    pub fn insert(&mut self, due_ms: i64, ord: u64, t: TimerRef) {
        let key = (t.conversation_id.clone(), t.kind.key());
        if let Some(old) = self.by_key.insert(key, (due_ms, ord)) {
            self.by_due.remove(&old);
        }
        self.next_ord = self.next_ord.max(ord + 1);
        self.by_due.insert((due_ms, ord), t);
    }

    /// Returns the (due, ord) of an existing timer.
    pub fn get(&self, conversation_id: &str, key: &str) -> Option<(i64, u64)> {
        self.by_key.get(&(conversation_id.to_string(), key.to_string())).copied()
    }

    pub fn remove(&mut self, conversation_id: &str, key: &str) {
        if let Some(k) = self.by_key.remove(&(conversation_id.to_string(), key.to_string())) {
            self.by_due.remove(&k);
        }
    }

    /// The earliest timer due at or before `now_ms`.
    pub fn first_due(&self, now_ms: i64) -> Option<(i64, TimerRef)> {
        self.by_due.first_key_value().filter(|((due, _), _)| *due <= now_ms).map(|((due, _), t)| (*due, t.clone()))
    }

    pub fn next_due(&self) -> Option<i64> {
        self.by_due.first_key_value().map(|((due, _), _)| *due)
    }
}
