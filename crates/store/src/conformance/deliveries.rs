//! Conformance: webhook deliveries are inserted and replaced by id, read per webhook in seq order, scoped
//! by org, and the pending set excludes delivered and dead-lettered ones.

use crate::{CommitBatch, DeliveryRow, Store};

pub fn delivery(id: &str, org: &str, webhook: &str, seq: u64, status: &str) -> DeliveryRow {
    DeliveryRow {
        id: id.into(),
        org_id: org.into(),
        webhook_id: webhook.into(),
        order_key: "conv-1".into(),
        seq,
        event_id: format!("ev-{seq}"),
        event_type: "conversation.created".into(),
        body: format!("{{\"seq\":{seq}}}"),
        status: status.into(),
        attempts: 0,
        created_ms: 1_000,
        next_attempt_ms: 1_000,
        last_status_code: None,
        last_response_ms: None,
        last_error: None,
        delivered_ms: None,
    }
}

pub fn deliveries_insert_replace_and_read(store: &dyn Store) {
    let batch = CommitBatch {
        deliveries: vec![
            delivery("d2", "org-a", "w1", 2, "pending"),
            delivery("d1", "org-a", "w1", 1, "pending"),
            delivery("d3", "org-a", "w2", 3, "pending"),
            delivery("d4", "org-b", "w1", 4, "pending"),
        ],
        ..Default::default()
    };
    store.commit(&batch).unwrap();
    let w1: Vec<String> = store.deliveries("org-a", "w1", 0, 10).unwrap().into_iter().map(|d| d.id).collect();
    assert_eq!(w1, ["d1", "d2"], "one webhook's deliveries in seq order, one org only");
    assert_eq!(store.deliveries("org-a", "w1", 1, 10).unwrap().len(), 1, "after is exclusive");
    assert_eq!(store.deliveries("org-a", "w1", 0, 1).unwrap().len(), 1, "limit");
    assert!(store.delivery("org-b", "d1").unwrap().is_none(), "another org's id is not found");

    let mut done = delivery("d1", "org-a", "w1", 1, "delivered");
    done.attempts = 2;
    done.last_status_code = Some(200);
    done.last_response_ms = Some(12);
    done.delivered_ms = Some(5_000);
    let mut dead = delivery("d3", "org-a", "w2", 3, "deadLettered");
    dead.last_error = Some("connection refused".into());
    store.commit(&CommitBatch { deliveries: vec![done.clone(), dead.clone()], ..Default::default() }).unwrap();
    assert_eq!(store.delivery("org-a", "d1").unwrap(), Some(done), "replaced by id, every field kept");
    assert_eq!(store.delivery("org-a", "d3").unwrap(), Some(dead));
    let pending: Vec<String> = store.pending_deliveries().unwrap().into_iter().map(|d| d.id).collect();
    assert_eq!(pending, ["d2", "d4"], "pending only, all orgs, seq order");
}
