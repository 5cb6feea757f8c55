//! Conformance checks for conversation snapshots: upsert and read, refs, listing and paging, the open set.

use super::{all, commit_conversations, conversation, list_ids, sorted};
use crate::{ConversationFilter, ConversationRow, Store};

pub fn conversation_upsert_and_read(store: &dyn Store) {
    let row = conversation("org-a", "c1", "active", "voice", &["queue:q1"]);
    commit_conversations(store, vec![row.clone()]);
    assert_eq!(store.conversation("org-a", "c1").unwrap(), Some(row.clone()));
    assert_eq!(store.conversation("org-b", "c1").unwrap(), None, "wrong org must not see the row");
    assert_eq!(store.conversation("org-a", "c2").unwrap(), None);

    let updated = ConversationRow {
        state: "wrapup".into(),
        version: 7,
        doc: r#"{"id":"c1","state":"wrapup"}"#.into(),
        ..row.clone()
    };
    commit_conversations(store, vec![updated.clone()]);
    assert_eq!(store.conversation("org-a", "c1").unwrap(), Some(updated));
    assert_eq!(store.counts().unwrap(), (1, 0), "an upsert of an existing id adds no row");
}

pub fn refs_accumulate(store: &dyn Store) {
    let mut row = conversation("org-a", "c1", "active", "chat", &["queue:q1", "queue:q1"]);
    commit_conversations(store, vec![row.clone()]);
    let read = store.conversation("org-a", "c1").unwrap().unwrap();
    assert_eq!(read.refs, vec!["queue:q1".to_owned()], "duplicate refs are stored once");

    row.refs = vec!["user:u1".into()];
    row.version = 2;
    commit_conversations(store, vec![row.clone()]);
    row.refs = vec![];
    row.version = 3;
    commit_conversations(store, vec![row.clone()]);
    row.refs = vec!["user:u1".into(), "user:u2".into()];
    row.version = 4;
    commit_conversations(store, vec![row]);

    let read = store.conversation("org-a", "c1").unwrap().unwrap();
    assert_eq!(read.version, 4);
    assert_eq!(sorted(read.refs), vec!["queue:q1", "user:u1", "user:u2"]);
    for r in ["queue:q1", "user:u1", "user:u2"] {
        let filter = ConversationFilter { refs: vec![r.into()], limit: 10, ..Default::default() };
        assert_eq!(list_ids(store, "org-a", &filter), vec!["c1"], "listing by an old ref {r}");
    }
}

/// Seven conversations in org-a interleaved with three in org-b, then one upsert of an old one.
fn seed_listing(store: &dyn Store) {
    let rows = vec![
        conversation("org-a", "a1", "closed", "voice", &["queue:q1"]),
        conversation("org-b", "b1", "active", "voice", &["queue:q1"]),
        conversation("org-a", "a2", "active", "chat", &["queue:q1", "user:u1"]),
        conversation("org-a", "a3", "active", "voice", &["queue:q2"]),
        conversation("org-b", "b2", "active", "chat", &[]),
    ];
    commit_conversations(store, rows);
    commit_conversations(store, vec![conversation("org-a", "a4", "wrapup", "voice", &["queue:q1", "user:u1"])]);
    commit_conversations(
        store,
        vec![
            conversation("org-a", "a5", "active", "voice", &["queue:q1", "user:u2"]),
            conversation("org-b", "b3", "closed", "voice", &["queue:q1"]),
            conversation("org-a", "a6", "closed", "chat", &["user:u1"]),
            conversation("org-a", "a7", "active", "voice", &[]),
        ],
    );
    // Touching an old conversation must not move it in the listing.
    let mut a2 = conversation("org-a", "a2", "wrapup", "chat", &["queue:q1", "user:u1"]);
    a2.version = 2;
    commit_conversations(store, vec![a2]);
}

pub fn listing_newest_first_and_filters(store: &dyn Store) {
    seed_listing(store);
    let page = store.list_conversations("org-a", &all(100)).unwrap();
    let ids: Vec<&str> = page.rows.iter().map(|(_, r)| r.id.as_str()).collect();
    assert_eq!(ids, vec!["a7", "a6", "a5", "a4", "a3", "a2", "a1"]);
    assert!(page.rows.windows(2).all(|w| w[0].0 > w[1].0), "positions strictly decrease");
    assert!(page.rows.iter().all(|(_, r)| r.org_id == "org-a"));
    let a2 = &page.rows.iter().find(|(_, r)| r.id == "a2").unwrap().1;
    assert_eq!((a2.state.as_str(), a2.version), ("wrapup", 2), "listing returns the latest snapshot");

    assert_eq!(list_ids(store, "org-b", &all(100)), vec!["b3", "b2", "b1"]);
    assert!(list_ids(store, "org-c", &all(100)).is_empty());
    assert_eq!(list_ids(store, "org-a", &all(3)), vec!["a7", "a6", "a5"]);
    assert!(list_ids(store, "org-a", &all(0)).is_empty(), "limit 0 returns nothing");

    let f = |state: Option<&str>, media: Option<&str>, refs: &[&str]| ConversationFilter {
        state: state.map(str::to_owned),
        media_type: media.map(str::to_owned),
        refs: refs.iter().map(|r| (*r).to_owned()).collect(),
        before: None,
        limit: 100,
    };
    assert_eq!(list_ids(store, "org-a", &f(Some("active"), None, &[])), vec!["a7", "a5", "a3"]);
    assert_eq!(list_ids(store, "org-a", &f(Some("closed"), None, &[])), vec!["a6", "a1"]);
    assert_eq!(list_ids(store, "org-a", &f(None, Some("chat"), &[])), vec!["a6", "a2"]);
    assert_eq!(list_ids(store, "org-a", &f(None, None, &["queue:q1"])), vec!["a5", "a4", "a2", "a1"]);
    assert_eq!(list_ids(store, "org-a", &f(None, None, &["queue:q1", "user:u1"])), vec!["a4", "a2"]);
    assert_eq!(list_ids(store, "org-a", &f(Some("wrapup"), Some("voice"), &["queue:q1", "user:u1"])), vec!["a4"]);
    assert!(list_ids(store, "org-a", &f(None, None, &["queue:q1", "queue:q2"])).is_empty());
    assert!(list_ids(store, "org-a", &f(None, None, &["queue:missing"])).is_empty());
    assert!(list_ids(store, "org-a", &f(Some("missing"), None, &[])).is_empty());

    // `before` is strict: the cursor row itself is not returned.
    let a4_pos = page.rows.iter().find(|(_, r)| r.id == "a4").unwrap().0;
    let before_a4 = ConversationFilter { before: Some(a4_pos), ..f(None, None, &["queue:q1"]) };
    assert_eq!(list_ids(store, "org-a", &before_a4), vec!["a2", "a1"]);
}

pub fn listing_pages_cover_every_row_once(store: &dyn Store) {
    seed_listing(store);
    let filters = [
        all(2),
        ConversationFilter { refs: vec!["queue:q1".into()], limit: 1, ..Default::default() },
        ConversationFilter { state: Some("active".into()), limit: 2, ..Default::default() },
        all(100),
    ];
    for filter in filters {
        let expected = list_ids(store, "org-a", &ConversationFilter { limit: 1_000, ..filter.clone() });
        let mut seen = Vec::new();
        let mut cursor = None;
        for _ in 0..100 {
            let page =
                store.list_conversations("org-a", &ConversationFilter { before: cursor, ..filter.clone() }).unwrap();
            assert!(page.rows.len() <= filter.limit);
            let Some((last_pos, _)) = page.rows.last() else {
                break;
            };
            cursor = Some(*last_pos);
            seen.extend(page.rows.into_iter().map(|(_, r)| r.id));
        }
        assert_eq!(seen, expected, "paging with {filter:?}");
    }
}

pub fn open_conversations_exclude_closed(store: &dyn Store) {
    commit_conversations(
        store,
        vec![
            conversation("org-a", "c1", "active", "voice", &[]),
            conversation("org-a", "c2", "closed", "voice", &[]),
            conversation("org-b", "c3", "wrapup", "chat", &[]),
            conversation("org-a", "c4", "active", "chat", &[]),
        ],
    );
    commit_conversations(store, vec![conversation("org-a", "c4", "closed", "chat", &[])]);
    let mut open = store.load_open_conversations().unwrap();
    open.sort_by(|a, b| a.id.cmp(&b.id));
    assert_eq!(
        open,
        vec![conversation("org-a", "c1", "active", "voice", &[]), conversation("org-b", "c3", "wrapup", "chat", &[]),]
    );
}
