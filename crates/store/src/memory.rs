//! `MemoryStore`: the reference `Store` backend, plain collections behind one mutex. Engine tests use it,
//! and every other backend must behave like it (see `conformance`).

mod analytics;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Mutex, MutexGuard};

use crate::{
    AggregateCell, AggregateQuery, AuditQuery, AuditRow, CommitBatch, ConversationFilter, ConversationPage,
    ConversationRow, DeliveryRow, DetailsPage, DetailsQuery, EntityRow, IdempotencyRow, Store, StoreError, StoreResult,
    StoredEvent, TimerRow,
};

#[derive(Default)]
struct Inner {
    /// seq → event. A map rather than a Vec so that reads by seq range stay correct whatever order
    /// batches arrive in.
    events: BTreeMap<u64, StoredEvent>,
    /// conversation id → (creation position, row).
    conversations: HashMap<String, (i64, ConversationRow)>,
    /// creation position → conversation id, for newest-first listing and cursor paging.
    by_pos: BTreeMap<i64, String>,
    last_pos: i64,
    timers: BTreeMap<(String, String), TimerRow>,
    entities: BTreeMap<(String, String, String), EntityRow>,
    idempotency: HashMap<(String, String), IdempotencyRow>,
    meta: HashMap<String, String>,
    deliveries: HashMap<String, DeliveryRow>,
    analytics: analytics::Analytics,
    audit: Vec<AuditRow>,
}

/// The reference backend. Cheap to create; holds everything in memory, so nothing survives a restart.
#[derive(Default)]
pub struct MemoryStore {
    inner: Mutex<Inner>,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock can only happen before `commit` starts mutating (validation
        // runs first, then infallible inserts), so the data behind a poisoned lock is still consistent.
        self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Merges `new` refs into `old`, keeping them sorted and unique: refs only ever grow.
fn merge_refs(old: &[String], new: &[String]) -> Vec<String> {
    let set: BTreeSet<&String> = old.iter().chain(new.iter()).collect();
    set.into_iter().cloned().collect()
}

impl Inner {
    /// Everything that could make a batch fail is checked here, before anything is touched, which is
    /// what makes `commit` all-or-nothing. The only failure a batch can hit is a duplicate event seq
    /// (the SQL backends reject it through the primary key).
    fn validate(&self, batch: &CommitBatch) -> StoreResult<()> {
        let mut seen = BTreeSet::new();
        for event in &batch.events {
            if self.events.contains_key(&event.seq) || !seen.insert(event.seq) {
                return Err(StoreError::Backend(format!(
                    "commit: event seq {} is already stored (event id {})",
                    event.seq, event.id
                )));
            }
        }
        Ok(())
    }

    fn upsert_conversation(&mut self, row: &ConversationRow) {
        match self.conversations.get_mut(&row.id) {
            Some((_, existing)) => {
                // The position and the owning org are fixed at creation; refs only accumulate.
                let refs = merge_refs(&existing.refs, &row.refs);
                let org_id = existing.org_id.clone();
                *existing = ConversationRow { org_id, refs, ..row.clone() };
            }
            None => {
                self.last_pos += 1;
                let pos = self.last_pos;
                let stored = ConversationRow { refs: merge_refs(&[], &row.refs), ..row.clone() };
                self.conversations.insert(row.id.clone(), (pos, stored));
                self.by_pos.insert(pos, row.id.clone());
            }
        }
    }
}

impl Store for MemoryStore {
    fn commit(&self, batch: &CommitBatch) -> StoreResult<()> {
        let mut inner = self.lock();
        inner.validate(batch)?;
        // Applied in field order: upserts before deletes, so a batch that both sets and cancels the
        // same timer (or entity) ends with it deleted. The SQL backends follow the same order.
        for event in &batch.events {
            inner.events.insert(event.seq, event.clone());
        }
        for row in &batch.conversations {
            inner.upsert_conversation(row);
        }
        for timer in &batch.timers_upsert {
            inner.timers.insert((timer.conversation_id.clone(), timer.key.clone()), timer.clone());
        }
        for (conversation_id, key) in &batch.timers_delete {
            inner.timers.remove(&(conversation_id.clone(), key.clone()));
        }
        for entity in &batch.entities_upsert {
            let key = (entity.org_id.clone(), entity.kind.clone(), entity.id.clone());
            inner.entities.insert(key, entity.clone());
        }
        for key in &batch.entities_delete {
            inner.entities.remove(key);
        }
        for row in &batch.idempotency {
            inner.idempotency.insert((row.org_id.clone(), row.key.clone()), row.clone());
        }
        for (key, value) in &batch.meta {
            inner.meta.insert(key.clone(), value.clone());
        }
        for d in &batch.deliveries {
            inner.deliveries.insert(d.id.clone(), d.clone());
        }
        for row in &batch.analytics {
            inner.analytics.replace(row);
        }
        inner.audit.extend(batch.audit.iter().cloned());
        Ok(())
    }

    fn audit(&self, org_id: &str, q: &AuditQuery) -> StoreResult<Vec<(u64, AuditRow)>> {
        let inner = self.lock();
        // Positions start at 1, like SQLite's rowids.
        Ok(inner
            .audit
            .iter()
            .enumerate()
            .map(|(i, row)| (i as u64 + 1, row))
            .filter(|(pos, r)| {
                *pos > q.after
                    && r.org_id == org_id
                    && q.actor_id.as_ref().is_none_or(|a| *a == r.actor_id)
                    && q.conversation_id.as_ref().is_none_or(|c| Some(c) == r.conversation_id.as_ref())
            })
            .take(q.limit)
            .map(|(pos, r)| (pos, r.clone()))
            .collect())
    }

    fn pending_deliveries(&self) -> StoreResult<Vec<DeliveryRow>> {
        let mut out: Vec<DeliveryRow> =
            self.lock().deliveries.values().filter(|d| d.status == "pending").cloned().collect();
        out.sort_by(|a, b| (a.seq, &a.id).cmp(&(b.seq, &b.id)));
        Ok(out)
    }

    fn deliveries(&self, org_id: &str, webhook_id: &str, after: u64, limit: usize) -> StoreResult<Vec<DeliveryRow>> {
        let mut out: Vec<DeliveryRow> = self
            .lock()
            .deliveries
            .values()
            .filter(|d| d.org_id == org_id && d.webhook_id == webhook_id && d.seq > after)
            .cloned()
            .collect();
        out.sort_by(|a, b| (a.seq, &a.id).cmp(&(b.seq, &b.id)));
        out.truncate(limit);
        Ok(out)
    }

    fn delivery(&self, org_id: &str, id: &str) -> StoreResult<Option<DeliveryRow>> {
        Ok(self.lock().deliveries.get(id).filter(|d| d.org_id == org_id).cloned())
    }

    fn analytics_details(&self, org_id: &str, query: &DetailsQuery) -> StoreResult<DetailsPage> {
        let inner = self.lock();
        let doc_of = |id: &str| inner.conversations.get(id).map(|(_, r)| r.doc.clone()).unwrap_or_default();
        Ok(inner.analytics.details(org_id, query, &doc_of))
    }

    fn analytics_aggregate(&self, org_id: &str, query: &AggregateQuery) -> StoreResult<Vec<AggregateCell>> {
        self.lock().analytics.aggregate(org_id, query)
    }

    fn last_seq(&self) -> StoreResult<u64> {
        Ok(self.lock().events.last_key_value().map_or(0, |(seq, _)| *seq))
    }

    fn get_meta(&self, key: &str) -> StoreResult<Option<String>> {
        Ok(self.lock().meta.get(key).cloned())
    }

    fn load_entities(&self) -> StoreResult<Vec<EntityRow>> {
        Ok(self.lock().entities.values().cloned().collect())
    }

    fn load_open_conversations(&self) -> StoreResult<Vec<ConversationRow>> {
        let inner = self.lock();
        Ok(inner
            .by_pos
            .values()
            .map(|id| &inner.conversations[id].1)
            .filter(|row| row.state != "closed")
            .cloned()
            .collect())
    }

    fn load_timers(&self) -> StoreResult<Vec<TimerRow>> {
        let mut timers: Vec<TimerRow> = self.lock().timers.values().cloned().collect();
        timers.sort_by(|a, b| {
            (a.due_at_ms, a.ord, &a.conversation_id, &a.key).cmp(&(b.due_at_ms, b.ord, &b.conversation_id, &b.key))
        });
        Ok(timers)
    }

    fn conversation(&self, org_id: &str, id: &str) -> StoreResult<Option<ConversationRow>> {
        Ok(self.lock().conversations.get(id).filter(|(_, row)| row.org_id == org_id).map(|(_, row)| row.clone()))
    }

    fn list_conversations(&self, org_id: &str, filter: &ConversationFilter) -> StoreResult<ConversationPage> {
        let inner = self.lock();
        let upper = filter.before.unwrap_or(i64::MAX);
        let rows = inner
            .by_pos
            .range(..upper)
            .rev()
            .map(|(pos, id)| (*pos, &inner.conversations[id].1))
            .filter(|(_, row)| {
                row.org_id == org_id
                    && filter.state.as_ref().is_none_or(|s| &row.state == s)
                    && filter.media_type.as_ref().is_none_or(|m| &row.media_type == m)
                    && filter.refs.iter().all(|r| row.refs.contains(r))
            })
            .take(filter.limit)
            .map(|(pos, row)| (pos, row.clone()))
            .collect();
        Ok(ConversationPage { rows })
    }

    fn conversation_events(
        &self,
        org_id: &str,
        conversation_id: &str,
        after: u64,
        event_type: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<StoredEvent>> {
        let inner = self.lock();
        Ok(inner
            .events
            .range(after.saturating_add(1)..)
            .map(|(_, e)| e)
            .filter(|e| {
                e.org_id == org_id
                    && e.conversation_id.as_deref() == Some(conversation_id)
                    && event_type.is_none_or(|t| e.event_type == t)
            })
            .take(limit)
            .cloned()
            .collect())
    }

    fn events_after(&self, org_id: &str, after: u64, limit: usize) -> StoreResult<Vec<StoredEvent>> {
        let inner = self.lock();
        Ok(inner
            .events
            .range(after.saturating_add(1)..)
            .map(|(_, e)| e)
            .filter(|e| e.org_id == org_id)
            .take(limit)
            .cloned()
            .collect())
    }

    fn idempotency(&self, org_id: &str, key: &str) -> StoreResult<Option<IdempotencyRow>> {
        Ok(self.lock().idempotency.get(&(org_id.to_owned(), key.to_owned())).cloned())
    }

    fn counts(&self) -> StoreResult<(u64, u64)> {
        let inner = self.lock();
        Ok((inner.conversations.len() as u64, inner.events.len() as u64))
    }
}

#[cfg(test)]
mod tests {
    use super::MemoryStore;
    use crate::conformance;

    #[test]
    fn memory_store_passes_conformance() {
        conformance::run_all(|| ((), MemoryStore::new()));
    }
}
