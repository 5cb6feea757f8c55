//! Conformance checks for the event log, empty and failing batches, `last_seq` and `counts`.

use super::{all, commit, conversation, entity, event, list_ids, seqs, timer};
use crate::{CommitBatch, ConversationFilter, IdempotencyRow, Store, StoredEvent};

pub fn empty_store(store: &dyn Store) {
    assert_eq!(store.last_seq().unwrap(), 0);
    assert_eq!(store.counts().unwrap(), (0, 0));
    assert_eq!(store.get_meta("missing").unwrap(), None);
    assert!(store.load_entities().unwrap().is_empty());
    assert!(store.load_open_conversations().unwrap().is_empty());
    assert!(store.load_timers().unwrap().is_empty());
    assert_eq!(store.conversation("org-a", "c1").unwrap(), None);
    assert!(store.list_conversations("org-a", &all(10)).unwrap().rows.is_empty());
    assert!(store.events_after("org-a", 0, 10).unwrap().is_empty());
    assert!(store.conversation_events("org-a", "c1", 0, None, 10).unwrap().is_empty());
    assert_eq!(store.idempotency("org-a", "k").unwrap(), None);
}

pub fn empty_batch_commits(store: &dyn Store) {
    let batch = CommitBatch::default();
    assert!(batch.is_empty());
    store.commit(&batch).expect("an empty batch commits");
    store.commit(&batch).expect("twice");
    assert_eq!(store.counts().unwrap(), (0, 0));
    assert_eq!(store.last_seq().unwrap(), 0);
}

pub fn events_read_back_in_seq_order(store: &dyn Store) {
    // Out of order within a batch on purpose: reads must still come back by seq.
    let first = vec![event(2, "org-a", Some("c1"), "t.b"), event(1, "org-a", Some("c1"), "t.a")];
    commit(store, CommitBatch { events: first.clone(), ..Default::default() });
    let second: Vec<StoredEvent> =
        (3..=7).map(|seq| event(seq, "org-a", (seq % 2 == 0).then_some("c2"), "t.c")).collect();
    commit(store, CommitBatch { events: second.clone(), ..Default::default() });

    let read = store.events_after("org-a", 0, 100).unwrap();
    assert_eq!(seqs(&read), vec![1, 2, 3, 4, 5, 6, 7]);
    // Whole rows round-trip, including a missing conversation id.
    assert_eq!(read[0], first[1]);
    assert_eq!(read[1], first[0]);
    assert_eq!(&read[2..], &second[..]);

    assert_eq!(seqs(&store.events_after("org-a", 3, 100).unwrap()), vec![4, 5, 6, 7]);
    assert_eq!(seqs(&store.events_after("org-a", 3, 2).unwrap()), vec![4, 5]);
    assert!(store.events_after("org-a", 7, 100).unwrap().is_empty());
    assert!(store.events_after("org-a", u64::MAX, 100).unwrap().is_empty());
    assert!(store.events_after("org-a", 0, 0).unwrap().is_empty(), "limit 0 returns nothing");
}

pub fn events_are_isolated_by_org(store: &dyn Store) {
    let events: Vec<StoredEvent> = (1..=10)
        .map(|seq| {
            let org = if seq % 3 == 0 { "org-b" } else { "org-a" };
            event(seq, org, Some(&format!("c-{org}")), "t")
        })
        .collect();
    commit(store, CommitBatch { events, ..Default::default() });

    let a = store.events_after("org-a", 0, 100).unwrap();
    assert_eq!(seqs(&a), vec![1, 2, 4, 5, 7, 8, 10]);
    assert!(a.iter().all(|e| e.org_id == "org-a"));
    let b = store.events_after("org-b", 0, 100).unwrap();
    assert_eq!(seqs(&b), vec![3, 6, 9]);
    // A limit counts only the org's own events.
    assert_eq!(seqs(&store.events_after("org-b", 3, 1).unwrap()), vec![6]);
    assert!(store.events_after("org-c", 0, 100).unwrap().is_empty());
    // Another org's conversation is invisible even by exact id.
    assert!(store.conversation_events("org-a", "c-org-b", 0, None, 100).unwrap().is_empty());
    assert_eq!(store.conversation_events("org-b", "c-org-b", 0, None, 100).unwrap().len(), 3);
}

pub fn conversation_events_filter(store: &dyn Store) {
    let events = vec![
        event(1, "org-a", Some("c1"), "created"),
        event(2, "org-a", Some("c2"), "created"),
        event(3, "org-a", Some("c1"), "note"),
        event(4, "org-a", None, "queue.updated"),
        event(5, "org-a", Some("c1"), "note"),
        event(6, "org-a", Some("c1"), "closed"),
    ];
    commit(store, CommitBatch { events, ..Default::default() });

    assert_eq!(seqs(&store.conversation_events("org-a", "c1", 0, None, 100).unwrap()), vec![1, 3, 5, 6]);
    assert_eq!(seqs(&store.conversation_events("org-a", "c1", 3, None, 100).unwrap()), vec![5, 6]);
    assert_eq!(seqs(&store.conversation_events("org-a", "c1", 0, None, 2).unwrap()), vec![1, 3]);
    let notes = store.conversation_events("org-a", "c1", 0, Some("note"), 100).unwrap();
    assert_eq!(seqs(&notes), vec![3, 5]);
    assert!(notes.iter().all(|e| e.event_type == "note"));
    assert_eq!(seqs(&store.conversation_events("org-a", "c1", 3, Some("note"), 100).unwrap()), vec![5]);
    assert!(store.conversation_events("org-a", "c1", 0, Some("missing"), 100).unwrap().is_empty());
    assert_eq!(seqs(&store.conversation_events("org-a", "c2", 0, None, 100).unwrap()), vec![2]);
}

pub fn last_seq_and_counts(store: &dyn Store) {
    // Seqs may have gaps; last_seq is the highest stored, counts count rows.
    commit(
        store,
        CommitBatch {
            events: vec![event(3, "org-a", Some("c1"), "t"), event(10, "org-b", None, "t")],
            conversations: vec![conversation("org-a", "c1", "active", "voice", &[])],
            ..Default::default()
        },
    );
    assert_eq!(store.last_seq().unwrap(), 10);
    assert_eq!(store.counts().unwrap(), (1, 2));
    commit(
        store,
        CommitBatch {
            events: vec![event(11, "org-a", Some("c1"), "t")],
            conversations: vec![
                conversation("org-a", "c1", "closed", "voice", &[]),
                conversation("org-b", "c2", "active", "voice", &[]),
            ],
            ..Default::default()
        },
    );
    assert_eq!(store.last_seq().unwrap(), 11);
    assert_eq!(store.counts().unwrap(), (2, 3), "closed conversations still count");
}

pub fn failed_batch_writes_nothing(store: &dyn Store) {
    commit(
        store,
        CommitBatch {
            events: vec![event(1, "org-a", Some("c1"), "t")],
            conversations: vec![conversation("org-a", "c1", "active", "voice", &["queue:q1"])],
            meta: vec![("k".into(), "before".into())],
            ..Default::default()
        },
    );
    let failing = [
        // The same seq twice in one batch.
        vec![event(2, "org-a", Some("c1"), "t"), event(2, "org-a", Some("c1"), "t")],
        // A seq that is already stored, after a good one.
        vec![event(3, "org-a", Some("c1"), "t"), event(1, "org-a", Some("c1"), "t")],
    ];
    for events in failing {
        let batch = CommitBatch {
            events,
            conversations: vec![
                conversation("org-a", "c1", "closed", "voice", &["user:u1"]),
                conversation("org-a", "c2", "active", "voice", &[]),
            ],
            timers_upsert: vec![timer("org-a", "c1", "alert", 5, 1)],
            entities_upsert: vec![entity("org-a", "queue", "q1", 1)],
            idempotency: vec![IdempotencyRow {
                org_id: "org-a".into(),
                key: "k".into(),
                request_hash: "h".into(),
                response: "r".into(),
                expires_at_ms: 1,
            }],
            meta: vec![("k".into(), "after".into())],
            ..Default::default()
        };
        assert!(store.commit(&batch).is_err(), "a duplicate seq must fail the batch");

        assert_eq!(store.last_seq().unwrap(), 1);
        assert_eq!(store.counts().unwrap(), (1, 1));
        assert_eq!(store.get_meta("k").unwrap().as_deref(), Some("before"));
        let c1 = store.conversation("org-a", "c1").unwrap().unwrap();
        assert_eq!((c1.state.as_str(), c1.refs.as_slice()), ("active", &["queue:q1".to_owned()][..]));
        assert_eq!(store.conversation("org-a", "c2").unwrap(), None);
        assert!(store.load_timers().unwrap().is_empty());
        assert!(store.load_entities().unwrap().is_empty());
        assert_eq!(store.idempotency("org-a", "k").unwrap(), None);
        let by_user = ConversationFilter { refs: vec!["user:u1".into()], limit: 10, ..Default::default() };
        assert!(list_ids(store, "org-a", &by_user).is_empty(), "refs roll back too");
    }

    // The store is still usable after a failed batch.
    commit(store, CommitBatch { events: vec![event(2, "org-a", Some("c1"), "t")], ..Default::default() });
    assert_eq!(store.last_seq().unwrap(), 2);
}
