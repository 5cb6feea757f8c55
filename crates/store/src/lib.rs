//! Storage traits: what the engine persists and reads, backend-neutral. Rows carry JSON documents so that
//! every backend stores the same shapes; `memory` is the reference backend and `conformance` the suite
//! every backend must pass.

pub mod analytics;
pub mod audit;
pub mod conformance;
pub mod memory;

pub use analytics::{AggregateCell, AggregateQuery, AnalyticsRow, DetailsPage, DetailsQuery, MetricRow};
pub use audit::{AuditQuery, AuditRow};

use serde::{Deserialize, Serialize};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("storage failure: {0}")]
    Backend(String),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// One event as persisted: `body` is the complete JSON envelope served to readers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredEvent {
    pub seq: u64,
    pub id: String,
    pub org_id: String,
    pub conversation_id: Option<String>,
    pub event_type: String,
    pub at_ms: i64,
    pub body: String,
}

/// The current-state snapshot of one conversation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConversationRow {
    pub org_id: String,
    pub id: String,
    /// `active` | `wrapup` | `closed`
    pub state: String,
    pub version: u64,
    pub media_type: String,
    pub started_at_ms: i64,
    /// The snapshot as JSON.
    pub doc: String,
    /// Listing keys this conversation matches, e.g. `queue:<id>`, `user:<id>`. Only ever grows.
    pub refs: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TimerRow {
    pub org_id: String,
    pub conversation_id: String,
    /// Unique within the conversation (see core `TimerKind::key`).
    pub key: String,
    pub due_at_ms: i64,
    /// Creation order: timers due at the same time fire in this order.
    pub ord: u64,
    /// The timer kind as JSON.
    pub body: String,
}

/// A configuration entity (queue, user, wrap-up code, client, org) as a JSON document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EntityRow {
    pub org_id: String,
    pub kind: String,
    pub id: String,
    pub version: u64,
    pub doc: String,
}

/// A stored result of an applied write, replayed for a retried `Idempotency-Key`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdempotencyRow {
    pub org_id: String,
    /// (actor, method, path, key) joined: the scope of the key.
    pub key: String,
    /// Hash of the canonical JSON request body.
    pub request_hash: String,
    pub response: String,
    pub expires_at_ms: i64,
}

/// One event for one webhook: created in the same commit as the event, updated as delivery proceeds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeliveryRow {
    pub id: String,
    pub org_id: String,
    pub webhook_id: String,
    /// Deliveries with the same (webhook, order key) go one at a time in `seq` order: the conversation id.
    pub order_key: String,
    pub seq: u64,
    pub event_id: String,
    pub event_type: String,
    pub body: String,
    /// `pending` | `delivered` | `deadLettered`
    pub status: String,
    pub attempts: u32,
    pub created_ms: i64,
    pub next_attempt_ms: i64,
    pub last_status_code: Option<u16>,
    pub last_response_ms: Option<i64>,
    pub last_error: Option<String>,
    pub delivered_ms: Option<i64>,
}

/// Everything one group commit writes, atomically.
#[derive(Clone, Debug, Default)]
pub struct CommitBatch {
    pub events: Vec<StoredEvent>,
    pub conversations: Vec<ConversationRow>,
    pub timers_upsert: Vec<TimerRow>,
    /// (conversation id, timer key)
    pub timers_delete: Vec<(String, String)>,
    pub entities_upsert: Vec<EntityRow>,
    /// (org id, kind, id)
    pub entities_delete: Vec<(String, String, String)>,
    pub idempotency: Vec<IdempotencyRow>,
    pub meta: Vec<(String, String)>,
    /// Webhook deliveries, inserted or replaced by id.
    pub deliveries: Vec<DeliveryRow>,
    /// Analytics per conversation, replaced whole (document, keys, metrics).
    pub analytics: Vec<AnalyticsRow>,
    /// Appended to the audit trail in order; the store numbers them.
    pub audit: Vec<AuditRow>,
}

impl CommitBatch {
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
            && self.conversations.is_empty()
            && self.timers_upsert.is_empty()
            && self.timers_delete.is_empty()
            && self.entities_upsert.is_empty()
            && self.entities_delete.is_empty()
            && self.idempotency.is_empty()
            && self.meta.is_empty()
            && self.deliveries.is_empty()
            && self.analytics.is_empty()
            && self.audit.is_empty()
    }
}

#[derive(Clone, Debug, Default)]
pub struct ConversationFilter {
    pub state: Option<String>,
    pub media_type: Option<String>,
    /// Every listed ref must match (`queue:<id>`, `user:<id>`).
    pub refs: Vec<String>,
    /// Only rows strictly older (in creation order) than this cursor.
    pub before: Option<i64>,
    pub limit: usize,
}

/// A page of conversations, newest first; `position` orders rows by creation and is the paging cursor.
#[derive(Clone, Debug, Default)]
pub struct ConversationPage {
    pub rows: Vec<(i64, ConversationRow)>,
}

pub trait Store: Send + Sync + 'static {
    /// Writes the whole batch in one transaction, durably, or nothing. Conversations are upserted by id
    /// (refs are added, never removed); timers upserted by (conversation, key); entities by (org, kind, id).
    fn commit(&self, batch: &CommitBatch) -> StoreResult<()>;

    fn last_seq(&self) -> StoreResult<u64>;
    fn get_meta(&self, key: &str) -> StoreResult<Option<String>>;
    fn load_entities(&self) -> StoreResult<Vec<EntityRow>>;
    /// Conversations whose state is not `closed` (the engine keeps these in memory).
    fn load_open_conversations(&self) -> StoreResult<Vec<ConversationRow>>;
    fn load_timers(&self) -> StoreResult<Vec<TimerRow>>;

    fn conversation(&self, org_id: &str, id: &str) -> StoreResult<Option<ConversationRow>>;
    fn list_conversations(&self, org_id: &str, filter: &ConversationFilter) -> StoreResult<ConversationPage>;
    /// A conversation's events with seq > `after`, oldest first, optionally of one type only.
    fn conversation_events(
        &self,
        org_id: &str,
        conversation_id: &str,
        after: u64,
        event_type: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<StoredEvent>>;
    /// The org's log after `after`, oldest first.
    fn events_after(&self, org_id: &str, after: u64, limit: usize) -> StoreResult<Vec<StoredEvent>>;
    /// An idempotency record, whatever its expiry (the engine decides).
    fn idempotency(&self, org_id: &str, key: &str) -> StoreResult<Option<IdempotencyRow>>;
    /// Deliveries still `pending`, all orgs, in `seq` order (the delivery worker's queue at start).
    fn pending_deliveries(&self) -> StoreResult<Vec<DeliveryRow>>;
    /// One webhook's deliveries with `seq > after`, oldest first.
    fn deliveries(&self, org_id: &str, webhook_id: &str, after: u64, limit: usize) -> StoreResult<Vec<DeliveryRow>>;
    fn delivery(&self, org_id: &str, id: &str) -> StoreResult<Option<DeliveryRow>>;
    fn analytics_details(&self, org_id: &str, query: &DetailsQuery) -> StoreResult<DetailsPage>;
    fn analytics_aggregate(&self, org_id: &str, query: &AggregateQuery) -> StoreResult<Vec<AggregateCell>>;
    /// The org's audit rows after the cursor, oldest first, with their positions.
    fn audit(&self, org_id: &str, query: &AuditQuery) -> StoreResult<Vec<(u64, AuditRow)>>;
    /// Number of stored conversations (all states) and of stored events: for operators and benchmarks.
    fn counts(&self) -> StoreResult<(u64, u64)>;
}
