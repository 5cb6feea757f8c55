//! Conformance checks for timers, configuration entities, idempotency records and meta values.

use super::{commit, entity, timer};
use crate::{CommitBatch, IdempotencyRow, Store, TimerRow};

fn timer_keys(store: &dyn Store) -> Vec<(String, String, i64)> {
    let mut keys: Vec<_> =
        store.load_timers().unwrap().into_iter().map(|t| (t.conversation_id, t.key, t.due_at_ms)).collect();
    keys.sort();
    keys
}

pub fn timers_upsert_replace_delete(store: &dyn Store) {
    let t1 = timer("org-a", "c1", "alert", 100, 1);
    let t2 = timer("org-a", "c1", "wrapup", 200, 2);
    let t3 = timer("org-b", "c2", "alert", 100, 3);
    commit(store, CommitBatch { timers_upsert: vec![t1.clone(), t2, t3.clone()], ..Default::default() });
    let mut loaded = store.load_timers().unwrap();
    loaded.sort_by_key(|t| t.ord);
    assert_eq!(loaded[0], t1, "timer rows round-trip");
    assert_eq!(loaded.len(), 3);

    let replaced = TimerRow { due_at_ms: 150, ord: 4, body: r#"{"key":"alert","again":true}"#.into(), ..t1 };
    commit(
        store,
        CommitBatch {
            timers_upsert: vec![replaced.clone()],
            timers_delete: vec![("c1".into(), "wrapup".into()), ("c9".into(), "never-set".into())],
            ..Default::default()
        },
    );
    let loaded = store.load_timers().unwrap();
    assert_eq!(loaded.len(), 2);
    assert!(loaded.contains(&replaced));
    assert!(loaded.contains(&t3));

    // Upserts apply before deletes within one batch.
    commit(
        store,
        CommitBatch {
            timers_upsert: vec![timer("org-a", "c1", "idle", 300, 5)],
            timers_delete: vec![("c1".into(), "idle".into()), ("c1".into(), "alert".into())],
            ..Default::default()
        },
    );
    assert_eq!(timer_keys(store), vec![("c2".into(), "alert".into(), 100)]);
}

pub fn entities_upsert_delete(store: &dyn Store) {
    let q1 = entity("org-a", "queue", "q1", 1);
    let u1 = entity("org-a", "user", "q1", 1); // same id, other kind: a different entity
    let q1b = entity("org-b", "queue", "q1", 1); // same kind and id, other org
    commit(store, CommitBatch { entities_upsert: vec![q1.clone(), u1.clone(), q1b.clone()], ..Default::default() });
    let mut loaded = store.load_entities().unwrap();
    loaded.sort_by(|a, b| (&a.org_id, &a.kind, &a.id).cmp(&(&b.org_id, &b.kind, &b.id)));
    assert_eq!(loaded, vec![q1, u1.clone(), q1b.clone()]);

    let q1v2 = entity("org-a", "queue", "q1", 2);
    commit(store, CommitBatch { entities_upsert: vec![q1v2.clone()], ..Default::default() });
    assert!(store.load_entities().unwrap().contains(&q1v2));
    assert_eq!(store.load_entities().unwrap().len(), 3);

    commit(
        store,
        CommitBatch {
            entities_delete: vec![
                ("org-a".into(), "queue".into(), "q1".into()),
                ("org-a".into(), "queue".into(), "missing".into()),
            ],
            ..Default::default()
        },
    );
    let mut loaded = store.load_entities().unwrap();
    loaded.sort_by(|a, b| a.org_id.cmp(&b.org_id));
    assert_eq!(loaded, vec![u1, q1b.clone()]);

    // Upserts apply before deletes within one batch.
    commit(
        store,
        CommitBatch {
            entities_upsert: vec![entity("org-a", "code", "w1", 1)],
            entities_delete: vec![
                ("org-a".into(), "code".into(), "w1".into()),
                ("org-a".into(), "user".into(), "q1".into()),
            ],
            ..Default::default()
        },
    );
    assert_eq!(store.load_entities().unwrap(), vec![q1b]);
}

pub fn idempotency_scoped_by_org(store: &dyn Store) {
    let row = IdempotencyRow {
        org_id: "org-a".into(),
        key: "actor|POST|/x|k1".into(),
        request_hash: "h1".into(),
        response: r#"{"status":201}"#.into(),
        expires_at_ms: 9_000,
    };
    commit(store, CommitBatch { idempotency: vec![row.clone()], ..Default::default() });
    assert_eq!(store.idempotency("org-a", &row.key).unwrap(), Some(row.clone()));
    assert_eq!(store.idempotency("org-b", &row.key).unwrap(), None);
    assert_eq!(store.idempotency("org-a", "other").unwrap(), None);

    let other_org = IdempotencyRow { org_id: "org-b".into(), request_hash: "h2".into(), ..row.clone() };
    let replaced = IdempotencyRow { response: r#"{"status":200}"#.into(), expires_at_ms: 1, ..row.clone() };
    commit(store, CommitBatch { idempotency: vec![other_org.clone(), replaced.clone()], ..Default::default() });
    assert_eq!(store.idempotency("org-a", &row.key).unwrap(), Some(replaced), "expired rows are still returned");
    assert_eq!(store.idempotency("org-b", &row.key).unwrap(), Some(other_org));
}

pub fn meta_upsert(store: &dyn Store) {
    assert_eq!(store.get_meta("k").unwrap(), None);
    commit(store, CommitBatch { meta: vec![("k".into(), "v1".into()), ("j".into(), "".into())], ..Default::default() });
    assert_eq!(store.get_meta("k").unwrap().as_deref(), Some("v1"));
    assert_eq!(store.get_meta("j").unwrap().as_deref(), Some(""));
    commit(store, CommitBatch { meta: vec![("k".into(), "v2".into())], ..Default::default() });
    assert_eq!(store.get_meta("k").unwrap().as_deref(), Some("v2"));
    assert_eq!(store.get_meta("j").unwrap().as_deref(), Some(""));
}
