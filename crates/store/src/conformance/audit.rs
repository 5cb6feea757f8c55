//! Conformance checks for the audit trail: append order, filters, org isolation, paging, atomicity.

use super::{commit, event};
use crate::{AuditQuery, AuditRow, CommitBatch, Store};

fn row(org: &str, actor: &str, action: &str, conversation: Option<&str>) -> AuditRow {
    AuditRow {
        org_id: org.into(),
        at_ms: 1_000,
        actor_kind: "user".into(),
        actor_id: actor.into(),
        action: action.into(),
        target_kind: "conversation".into(),
        target_id: conversation.unwrap_or("q1").into(),
        conversation_id: conversation.map(str::to_string),
        request_id: Some(format!("req-{action}")),
    }
}

fn actions(store: &dyn Store, org: &str, q: AuditQuery) -> Vec<String> {
    store.audit(org, &q).unwrap().into_iter().map(|(_, r)| r.action).collect()
}

pub fn audit_filters_pages_and_isolates(store: &dyn Store) {
    let all = |limit| AuditQuery { limit, ..Default::default() };
    assert!(store.audit("org-a", &all(10)).unwrap().is_empty());
    commit(
        store,
        CommitBatch {
            audit: vec![row("org-a", "u1", "a1", Some("c1")), row("org-b", "u1", "b1", Some("c1"))],
            ..Default::default()
        },
    );
    commit(
        store,
        CommitBatch {
            audit: vec![row("org-a", "u2", "a2", Some("c2")), row("org-a", "u1", "a3", None)],
            ..Default::default()
        },
    );
    let rows = store.audit("org-a", &all(10)).unwrap();
    assert_eq!(rows.iter().map(|(_, r)| r.action.as_str()).collect::<Vec<_>>(), ["a1", "a2", "a3"]);
    assert_eq!(rows[0].1, row("org-a", "u1", "a1", Some("c1")), "rows round-trip");
    assert!(rows.windows(2).all(|w| w[0].0 < w[1].0), "positions grow");
    assert_eq!(actions(store, "org-b", all(10)), ["b1"], "isolated by org");
    let by_actor = AuditQuery { actor_id: Some("u1".into()), ..all(10) };
    assert_eq!(actions(store, "org-a", by_actor), ["a1", "a3"]);
    let by_conv = AuditQuery { conversation_id: Some("c2".into()), ..all(10) };
    assert_eq!(actions(store, "org-a", by_conv), ["a2"]);
    let page = store.audit("org-a", &all(2)).unwrap();
    assert_eq!(page.len(), 2);
    let rest = AuditQuery { after: page[1].0, ..all(10) };
    assert_eq!(actions(store, "org-a", rest), ["a3"]);
    assert!(store.audit("org-a", &all(0)).unwrap().is_empty(), "a limit is taken literally");
}

pub fn audit_failed_batch_writes_nothing(store: &dyn Store) {
    commit(store, CommitBatch { events: vec![event(1, "org-a", Some("c1"), "x")], ..Default::default() });
    let bad = CommitBatch {
        events: vec![event(1, "org-a", Some("c1"), "again")],
        audit: vec![row("org-a", "u1", "lost", None)],
        ..Default::default()
    };
    assert!(store.commit(&bad).is_err());
    assert!(store.audit("org-a", &AuditQuery { limit: 10, ..Default::default() }).unwrap().is_empty());
}
