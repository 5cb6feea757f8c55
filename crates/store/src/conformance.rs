//! The conformance suite every `Store` backend must pass. Each check takes a freshly made, empty store
//! and panics (plain `assert!`) on a deviation, so backends call `run_all` from a `#[test]`.
//!
//! Contract points pinned here that the trait docs leave implicit:
//! - a `limit` is taken literally (`0` returns nothing);
//! - refs come back without duplicates (order is not pinned);
//! - within a batch, upserts are applied before deletes (timers, entities);
//! - a batch with an event seq that is already stored (or repeated) fails and writes nothing;
//! - analytics are replaced whole per conversation id; in a details key group, an empty group matches
//!   nothing; aggregate cells are ordered by group values (dimensions in name order), metric, bucket.

mod aggregates;
mod analytics;
mod audit;
mod conversations;
mod deliveries;
mod log;
mod rows;

pub use aggregates::*;
pub use analytics::*;
pub use audit::*;
pub use conversations::*;
pub use deliveries::*;
pub use log::*;
pub use rows::*;

use crate::{CommitBatch, ConversationFilter, ConversationRow, EntityRow, Store, StoredEvent, TimerRow};

/// One conformance check: panics if the (fresh, empty) store deviates.
pub type Check = fn(&dyn Store);

/// Runs every check, each against a store fresh from `make`, which also returns what must outlive the
/// store (a temporary directory, say); the store is dropped first.
pub fn run_all<G, S: Store>(make: impl Fn() -> (G, S)) {
    let checks: &[(&str, Check)] = &[
        ("empty_store", empty_store),
        ("empty_batch_commits", empty_batch_commits),
        ("events_read_back_in_seq_order", events_read_back_in_seq_order),
        ("events_are_isolated_by_org", events_are_isolated_by_org),
        ("conversation_events_filter", conversation_events_filter),
        ("conversation_upsert_and_read", conversation_upsert_and_read),
        ("refs_accumulate", refs_accumulate),
        ("listing_newest_first_and_filters", listing_newest_first_and_filters),
        ("listing_pages_cover_every_row_once", listing_pages_cover_every_row_once),
        ("open_conversations_exclude_closed", open_conversations_exclude_closed),
        ("timers_upsert_replace_delete", timers_upsert_replace_delete),
        ("entities_upsert_delete", entities_upsert_delete),
        ("idempotency_scoped_by_org", idempotency_scoped_by_org),
        ("meta_upsert", meta_upsert),
        ("last_seq_and_counts", last_seq_and_counts),
        ("deliveries_insert_replace_and_read", deliveries_insert_replace_and_read),
        ("analytics_partial_writes", analytics_partial_writes),
        ("failed_batch_writes_nothing", failed_batch_writes_nothing),
        ("analytics_empty", analytics_empty),
        ("analytics_replaced_whole", analytics_replaced_whole),
        ("analytics_failed_batch_writes_nothing", analytics_failed_batch_writes_nothing),
        ("analytics_details_filters", analytics_details_filters),
        ("analytics_details_isolated_by_org", analytics_details_isolated_by_org),
        ("analytics_details_paging", analytics_details_paging),
        ("aggregate_groups_by_each_dimension", aggregate_groups_by_each_dimension),
        ("aggregate_isolated_by_org", aggregate_isolated_by_org),
        ("audit_filters_pages_and_isolates", audit_filters_pages_and_isolates),
        ("audit_failed_batch_writes_nothing", audit_failed_batch_writes_nothing),
        ("aggregate_buckets_and_interval", aggregate_buckets_and_interval),
        ("aggregate_filters", aggregate_filters),
        ("aggregate_rejects_bad_queries", aggregate_rejects_bad_queries),
    ];
    for (name, check) in checks {
        let (_guard, store) = make();
        // The name goes to stderr so a failure says which check broke (the test harness shows it).
        eprintln!("conformance: {name}");
        check(&store);
    }
}

// ---- row builders -------------------------------------------------------------------------------------

pub fn event(seq: u64, org: &str, conversation: Option<&str>, event_type: &str) -> StoredEvent {
    StoredEvent {
        seq,
        id: format!("ev-{seq}"),
        org_id: org.to_owned(),
        conversation_id: conversation.map(str::to_owned),
        event_type: event_type.to_owned(),
        at_ms: 1_000 + seq as i64,
        body: format!(r#"{{"seq":{seq},"type":"{event_type}"}}"#),
    }
}

pub fn conversation(org: &str, id: &str, state: &str, media: &str, refs: &[&str]) -> ConversationRow {
    ConversationRow {
        org_id: org.to_owned(),
        id: id.to_owned(),
        state: state.to_owned(),
        version: 1,
        media_type: media.to_owned(),
        started_at_ms: 5_000,
        doc: format!(r#"{{"id":"{id}","state":"{state}"}}"#),
        refs: refs.iter().map(|r| (*r).to_owned()).collect(),
    }
}

pub fn timer(org: &str, conversation: &str, key: &str, due_at_ms: i64, ord: u64) -> TimerRow {
    TimerRow {
        org_id: org.to_owned(),
        conversation_id: conversation.to_owned(),
        key: key.to_owned(),
        due_at_ms,
        ord,
        body: format!(r#"{{"key":"{key}"}}"#),
    }
}

pub fn entity(org: &str, kind: &str, id: &str, version: u64) -> EntityRow {
    EntityRow {
        org_id: org.to_owned(),
        kind: kind.to_owned(),
        id: id.to_owned(),
        version,
        doc: format!(r#"{{"id":"{id}","v":{version}}}"#),
    }
}

// ---- helpers shared by the checks -------------------------------------------------------------------

pub(super) fn commit(store: &dyn Store, batch: CommitBatch) {
    store.commit(&batch).expect("commit should succeed");
}

pub(super) fn commit_conversations(store: &dyn Store, rows: Vec<ConversationRow>) {
    commit(store, CommitBatch { conversations: rows, ..Default::default() });
}

pub(super) fn seqs(events: &[StoredEvent]) -> Vec<u64> {
    events.iter().map(|e| e.seq).collect()
}

pub(super) fn sorted(mut refs: Vec<String>) -> Vec<String> {
    refs.sort();
    refs
}

pub(super) fn list_ids(store: &dyn Store, org: &str, filter: &ConversationFilter) -> Vec<String> {
    let page = store.list_conversations(org, filter).expect("list");
    page.rows.into_iter().map(|(_, row)| row.id).collect()
}

pub(super) fn all(limit: usize) -> ConversationFilter {
    ConversationFilter { limit, ..Default::default() }
}
