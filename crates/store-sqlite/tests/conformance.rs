//! `SqliteStore` against the shared conformance suite, plus what only a file-backed store can show:
//! durability across reopen, idempotent migrations, atomic batches, concurrent readers and writer.

use std::sync::Arc;

use switchboard_store::conformance::{self, conversation, event, timer};
use switchboard_store::{CommitBatch, ConversationFilter, IdempotencyRow, Store};
use switchboard_store_sqlite::{MigrationReport, SqliteStore, latest_version, migrate};
use tempfile::TempDir;

/// A store in its own temporary directory; bind both as `(_dir, store)` so the store closes first.
fn temp_store() -> (TempDir, SqliteStore) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = SqliteStore::open(dir.path().join("switchboard.db")).expect("open store");
    (dir, store)
}

#[test]
fn sqlite_store_passes_conformance() {
    conformance::run_all(temp_store);
}

fn sample_batch() -> CommitBatch {
    CommitBatch {
        events: vec![event(1, "org-a", Some("c1"), "created"), event(2, "org-a", Some("c1"), "note")],
        conversations: vec![conversation("org-a", "c1", "active", "voice", &["queue:q1", "user:u1"])],
        timers_upsert: vec![timer("org-a", "c1", "alert", 500, 1)],
        entities_upsert: vec![conformance::entity("org-a", "queue", "q1", 3)],
        idempotency: vec![IdempotencyRow {
            org_id: "org-a".into(),
            key: "k".into(),
            request_hash: "h".into(),
            response: "r".into(),
            expires_at_ms: 9,
        }],
        meta: vec![("clock".into(), "42".into())],
        ..Default::default()
    }
}

fn assert_sample(store: &SqliteStore) {
    assert_eq!(store.last_seq().unwrap(), 2);
    assert_eq!(store.counts().unwrap(), (1, 2));
    assert_eq!(store.events_after("org-a", 0, 10).unwrap().len(), 2);
    let c1 = store.conversation("org-a", "c1").unwrap().expect("conversation survives");
    assert_eq!(c1, conversation("org-a", "c1", "active", "voice", &["queue:q1", "user:u1"]));
    let by_ref = ConversationFilter { refs: vec!["user:u1".into()], limit: 10, ..Default::default() };
    assert_eq!(store.list_conversations("org-a", &by_ref).unwrap().rows.len(), 1);
    assert_eq!(store.load_timers().unwrap(), vec![timer("org-a", "c1", "alert", 500, 1)]);
    assert_eq!(store.load_entities().unwrap().len(), 1);
    assert!(store.idempotency("org-a", "k").unwrap().is_some());
    assert_eq!(store.get_meta("clock").unwrap().as_deref(), Some("42"));
}

#[test]
fn data_survives_close_and_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("switchboard.db");
    {
        let store = SqliteStore::open(&path).unwrap();
        store.commit(&sample_batch()).unwrap();
        assert_sample(&store);
    }
    let store = SqliteStore::open(&path).unwrap();
    assert_sample(&store);
    // Positions continue after a reopen: a new conversation still lists first.
    store
        .commit(&CommitBatch {
            conversations: vec![conversation("org-a", "c2", "active", "chat", &[])],
            ..Default::default()
        })
        .unwrap();
    let page = store.list_conversations("org-a", &ConversationFilter { limit: 10, ..Default::default() }).unwrap();
    let ids: Vec<&str> = page.rows.iter().map(|(_, r)| r.id.as_str()).collect();
    assert_eq!(ids, vec!["c2", "c1"]);
}

#[test]
fn migrations_are_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("switchboard.db");
    let latest = latest_version();
    assert!(latest >= 1);
    assert_eq!(migrate(&path).unwrap(), MigrationReport { from_version: 0, to_version: latest });
    assert_eq!(migrate(&path).unwrap(), MigrationReport { from_version: latest, to_version: latest });

    let first = SqliteStore::open(&path).unwrap();
    assert_eq!(first.schema_version().unwrap(), latest);
    first.commit(&sample_batch()).unwrap();
    drop(first);
    let second = SqliteStore::open(&path).unwrap();
    assert_eq!(second.schema_version().unwrap(), latest);
    assert_sample(&second);
    assert!(second.database_bytes() > 0);
}

#[test]
fn newer_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("switchboard.db");
    migrate(&path).unwrap();
    // Pretend a later build migrated the file.
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.pragma_update(None, "user_version", latest_version() + 1).unwrap();
    drop(conn);
    let err = SqliteStore::open(&path).err().expect("a newer schema must not be opened");
    assert!(err.to_string().contains("newer"), "{err}");
}

#[test]
fn failed_batch_leaves_nothing_written() {
    let (_dir, store) = temp_store();
    let mut batch = sample_batch();
    // The second event reuses the first one's seq: the primary key rejects it after everything before
    // it in the transaction has been written.
    batch.events.push(event(1, "org-a", Some("c1"), "dup"));
    assert!(store.commit(&batch).is_err());
    assert_eq!(store.counts().unwrap(), (0, 0));
    assert_eq!(store.last_seq().unwrap(), 0);
    assert_eq!(store.conversation("org-a", "c1").unwrap(), None);
    assert!(store.load_timers().unwrap().is_empty());
    assert!(store.load_entities().unwrap().is_empty());
    assert_eq!(store.get_meta("clock").unwrap(), None);
    assert_eq!(store.idempotency("org-a", "k").unwrap(), None);

    // The writer is usable again after the rollback.
    store.commit(&sample_batch()).unwrap();
    assert_sample(&store);
}

#[test]
fn readers_run_alongside_the_writer() {
    let (_dir, store) = temp_store();
    let store = Arc::new(store);
    let writer = {
        let store = Arc::clone(&store);
        std::thread::spawn(move || {
            for seq in 1..=200u64 {
                let id = format!("c{seq}");
                let batch = CommitBatch {
                    events: vec![event(seq, "org-a", Some(&id), "created")],
                    conversations: vec![conversation("org-a", &id, "active", "voice", &["queue:q1"])],
                    ..Default::default()
                };
                store.commit(&batch).unwrap();
            }
        })
    };
    let readers: Vec<_> = (0..6)
        .map(|_| {
            let store = Arc::clone(&store);
            std::thread::spawn(move || {
                let mut last = 0;
                while last < 200 {
                    // What a reader sees only grows, and a committed event's conversation is there.
                    let seq = store.last_seq().unwrap();
                    assert!(seq >= last);
                    last = seq;
                    if seq > 0 {
                        assert!(store.conversation("org-a", &format!("c{seq}")).unwrap().is_some());
                    }
                    let filter = ConversationFilter { refs: vec!["queue:q1".into()], limit: 5, ..Default::default() };
                    assert!(store.list_conversations("org-a", &filter).unwrap().rows.len() <= 5);
                }
            })
        })
        .collect();
    writer.join().unwrap();
    for reader in readers {
        reader.join().unwrap();
    }
    assert_eq!(store.counts().unwrap(), (200, 200));
}

#[test]
fn version_2_database_gains_analytics_and_keeps_them_across_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("switchboard.db");
    {
        // A database left by a build that knew only the first two migrations, with data in it.
        let conn = rusqlite::Connection::open(&path).unwrap();
        for sql in &switchboard_store_sqlite::MIGRATIONS[..2] {
            conn.execute_batch(sql).unwrap();
        }
        conn.pragma_update(None, "user_version", 2).unwrap();
    }
    assert_eq!(migrate(&path).unwrap(), MigrationReport { from_version: 2, to_version: latest_version() });
    let row = conformance::analytics_row(
        "org-a",
        "c1",
        1_000,
        "voice",
        "closed",
        &["queue:q1"],
        vec![conformance::metric("tTalk", 1_500, 42, (Some("q1"), None, None), "voice")],
    );
    let details = switchboard_store::DetailsQuery {
        start_ms: 0,
        end_ms: 10_000,
        key_groups: vec![vec!["queue:q1".into()]],
        limit: 10,
        ..Default::default()
    };
    let aggregate = switchboard_store::AggregateQuery { end_ms: 10_000, bucket_ms: 1_000, ..Default::default() };
    {
        let store = SqliteStore::open(&path).unwrap();
        let conversation = switchboard_store::ConversationRow {
            org_id: "org-a".into(),
            id: "c1".into(),
            state: "closed".into(),
            version: 1,
            media_type: "voice".into(),
            started_at_ms: 1_000,
            doc: r#"{"id":"c1"}"#.into(),
            refs: vec![],
        };
        store
            .commit(&CommitBatch {
                analytics: vec![row.clone()],
                conversations: vec![conversation],
                ..Default::default()
            })
            .unwrap();
    }
    let store = SqliteStore::open(&path).unwrap();
    let page = store.analytics_details("org-a", &details).unwrap();
    assert_eq!(page.rows, vec![(1_000, "c1".to_owned(), r#"{"id":"c1"}"#.to_owned())], "the snapshot comes back");
    assert_eq!(page.total_hits, 1);
    let cells = store.analytics_aggregate("org-a", &aggregate).unwrap();
    assert_eq!(cells.iter().map(|c| (c.bucket, c.count, c.sum)).collect::<Vec<_>>(), vec![(1, 1, 42)]);
}
