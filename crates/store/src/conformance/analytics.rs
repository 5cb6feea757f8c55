//! Conformance for analytics writes and the details query: replace-whole writes, all-or-nothing batches,
//! org isolation, the interval's edges, each filter, key groups (AND across, OR within), both orders and
//! cursor paging.

use super::{commit, event};
use crate::{AggregateQuery, AnalyticsRow, CommitBatch, DetailsPage, DetailsQuery, MetricRow, Store};

// ---- builders ---------------------------------------------------------------------------------------------

pub fn analytics_row(
    org: &str,
    id: &str,
    started_ms: i64,
    media: &str,
    state: &str,
    keys: &[&str],
    metrics: Vec<MetricRow>,
) -> AnalyticsRow {
    AnalyticsRow {
        org_id: org.to_owned(),
        conversation_id: id.to_owned(),
        started_ms,
        media_type: media.to_owned(),
        state: state.to_owned(),
        keys: keys.iter().map(|k| (*k).to_owned()).collect(),
        keys_changed: true,
        metrics,
        metrics_from: 0,
    }
}

/// Diff writes: unchanged keys are kept, `metrics_from` appends after the stored prefix, 0 replaces.
pub fn analytics_partial_writes(store: &dyn Store) {
    let q = |key: &str| DetailsQuery {
        start_ms: 0,
        end_ms: 10_000,
        key_groups: vec![vec![key.to_string()]],
        limit: 10,
        ..Default::default()
    };
    let agg = |store: &dyn Store| {
        let a = AggregateQuery { start_ms: 0, end_ms: 10_000, origin_ms: 0, bucket_ms: 10_000, ..Default::default() };
        store.analytics_aggregate("org-a", &a).unwrap().iter().map(|c| (c.metric.clone(), c.count)).collect::<Vec<_>>()
    };
    let m1 = metric("nOffered", 100, 1, (Some("q1"), None, None), "voice");
    let m2 = metric("tWait", 200, 5_000, (Some("q1"), None, None), "voice");
    let first = analytics_row("org-a", "c1", 10, "voice", "active", &["queue:q1"], vec![m1.clone()]);
    commit(store, CommitBatch { analytics: vec![first.clone()], ..Default::default() });
    // Keys unchanged (the row's keys are ignored), one metric appended.
    let mut next =
        analytics_row("org-a", "c1", 10, "voice", "closed", &["queue:ignored"], vec![m1.clone(), m2.clone()]);
    next.keys_changed = false;
    next.metrics_from = 1;
    commit(store, CommitBatch { analytics: vec![next], ..Default::default() });
    assert_eq!(store.analytics_details("org-a", &q("queue:q1")).unwrap().total_hits, 1, "stored keys kept");
    assert_eq!(store.analytics_details("org-a", &q("queue:ignored")).unwrap().total_hits, 0);
    assert_eq!(agg(store), [("nOffered".to_string(), 1), ("tWait".to_string(), 1)], "appended once, prefix kept");
    // metrics_from = 0 replaces them all.
    let replace = analytics_row("org-a", "c1", 10, "voice", "closed", &["queue:q2"], vec![m2]);
    commit(store, CommitBatch { analytics: vec![replace], ..Default::default() });
    assert_eq!(agg(store), [("tWait".to_string(), 1)]);
    assert_eq!(store.analytics_details("org-a", &q("queue:q2")).unwrap().total_hits, 1);
    assert_eq!(store.analytics_details("org-a", &q("queue:q1")).unwrap().total_hits, 0);
    // A diff for a conversation with nothing stored (one from before analytics existed) is written whole.
    let mut late = analytics_row("org-a", "c-old", 10, "voice", "closed", &["queue:q3"], vec![m1.clone()]);
    late.keys_changed = false;
    late.metrics_from = 1;
    commit(store, CommitBatch { analytics: vec![late], ..Default::default() });
    assert_eq!(store.analytics_details("org-a", &q("queue:q3")).unwrap().total_hits, 1, "keys written");
    assert_eq!(agg(store), [("nOffered".to_string(), 1), ("tWait".to_string(), 1)], "every metric written");
}

/// A fact of participant `p1`; `dims` is (queue, user, wrap-up code).
pub fn metric(
    name: &str,
    at_ms: i64,
    value: i64,
    dims: (Option<&str>, Option<&str>, Option<&str>),
    media: &str,
) -> MetricRow {
    MetricRow {
        participant_id: "p1".into(),
        name: name.into(),
        at_ms,
        value,
        queue_id: dims.0.map(str::to_owned),
        user_id: dims.1.map(str::to_owned),
        wrapup_code_id: dims.2.map(str::to_owned),
        media_type: media.into(),
    }
}

/// The snapshot document the conformance rows carry, as the details query returns it.
pub fn doc_of(id: &str, state: &str) -> String {
    format!(r#"{{"conversationId":"{id}","state":"{state}"}}"#)
}

/// Writes analytics rows with their conversation rows (the details query returns the snapshot document).
pub(super) fn write_analytics(store: &dyn Store, rows: Vec<AnalyticsRow>) {
    let conversations = rows
        .iter()
        .map(|a| crate::ConversationRow {
            org_id: a.org_id.clone(),
            id: a.conversation_id.clone(),
            state: a.state.clone(),
            version: 1,
            media_type: a.media_type.clone(),
            started_at_ms: a.started_ms,
            doc: doc_of(&a.conversation_id, &a.state),
            refs: vec![],
        })
        .collect();
    commit(store, CommitBatch { analytics: rows, conversations, ..Default::default() });
}

pub(super) fn interval(start_ms: i64, end_ms: i64) -> DetailsQuery {
    DetailsQuery { start_ms, end_ms, limit: 1_000, ..Default::default() }
}

fn details(store: &dyn Store, org: &str, q: &DetailsQuery) -> DetailsPage {
    store.analytics_details(org, q).expect("details query")
}

/// The ids of a details page, checking that total_hits counts at least what the page holds.
fn ids(store: &dyn Store, org: &str, q: &DetailsQuery) -> Vec<String> {
    let page = details(store, org, q);
    assert!(page.total_hits as usize >= page.rows.len(), "total_hits below the page size for {q:?}");
    page.rows.into_iter().map(|(_, id, _)| id).collect()
}

fn strings(values: &[&str]) -> Vec<String> {
    values.iter().map(|v| (*v).to_owned()).collect()
}

fn groups(groups: &[&[&str]]) -> Vec<Vec<String>> {
    groups.iter().map(|g| strings(g)).collect()
}

fn all_facts(start_ms: i64, end_ms: i64) -> AggregateQuery {
    AggregateQuery { start_ms, end_ms, origin_ms: 0, bucket_ms: 1_000, ..Default::default() }
}

/// (metric, count, sum) per cell of an ungrouped aggregate over [0, 10 000).
fn totals(store: &dyn Store, org: &str) -> Vec<(String, u64, i64)> {
    let cells = store.analytics_aggregate(org, &all_facts(0, 10_000)).expect("aggregate");
    cells.into_iter().map(|c| (c.metric, c.count, c.sum)).collect()
}

// ---- checks -----------------------------------------------------------------------------------------------

pub fn analytics_empty(store: &dyn Store) {
    assert_eq!(details(store, "org-a", &interval(i64::MIN, i64::MAX)), DetailsPage::default());
    assert!(store.analytics_aggregate("org-a", &all_facts(0, 10_000)).unwrap().is_empty());
}

pub fn analytics_replaced_whole(store: &dyn Store) {
    let voice = |q| (Some(q), Some("u1"), None);
    let first = analytics_row(
        "org-a",
        "c1",
        1_000,
        "voice",
        "active",
        &["queue:q1", "user:u1", "queue:q1"],
        vec![
            metric("tTalk", 1_100, 5, voice("q1"), "voice"),
            metric("nOffered", 1_100, 1, voice("q1"), "voice"),
            // Identical facts are distinct facts: both count.
            metric("nOffered", 1_100, 1, voice("q1"), "voice"),
        ],
    );
    write_analytics(store, vec![first.clone()]);
    let q1 = DetailsQuery { key_groups: groups(&[&["queue:q1"]]), ..interval(0, 10_000) };
    assert_eq!(
        details(store, "org-a", &q1),
        DetailsPage { rows: vec![(1_000, "c1".into(), doc_of("c1", "active"))], total_hits: 1 }
    );
    assert_eq!(totals(store, "org-a"), [("nOffered".into(), 2, 2), ("tTalk".into(), 1, 5)]);

    // The second write drops the old keys and metrics and replaces every column of the row.
    let second = analytics_row(
        "org-a",
        "c1",
        2_000,
        "chat",
        "closed",
        &["queue:q2"],
        vec![metric("tTalk", 2_100, 7, voice("q2"), "chat")],
    );
    write_analytics(store, vec![second.clone()]);
    assert!(ids(store, "org-a", &q1).is_empty(), "an old key must no longer match");
    let u1 = DetailsQuery { key_groups: groups(&[&["user:u1"]]), ..interval(0, 10_000) };
    assert!(ids(store, "org-a", &u1).is_empty(), "an old key must no longer match");
    let q2 = DetailsQuery { key_groups: groups(&[&["queue:q2"]]), ..interval(0, 10_000) };
    assert_eq!(
        details(store, "org-a", &q2),
        DetailsPage { rows: vec![(2_000, "c1".into(), doc_of("c1", "closed"))], total_hits: 1 }
    );
    assert!(ids(store, "org-a", &interval(0, 2_000)).is_empty(), "started_ms is replaced");
    let closed_chat =
        DetailsQuery { states: strings(&["closed"]), media_types: strings(&["chat"]), ..interval(0, 10_000) };
    assert_eq!(ids(store, "org-a", &closed_chat), ["c1"], "state and media type are replaced");
    assert_eq!(totals(store, "org-a"), [("tTalk".into(), 1, 7)], "old metrics are dropped");

    // A write without keys or metrics leaves the conversation with none; within one batch the last
    // write of a conversation wins.
    let bare = analytics_row("org-a", "c1", 3_000, "voice", "closed", &[], vec![]);
    let last = analytics_row("org-a", "c1", 3_000, "voice", "closed", &["queue:q3"], vec![]);
    write_analytics(store, vec![last, bare.clone()]);
    assert_eq!(details(store, "org-a", &interval(0, 10_000)).rows, [(3_000, "c1".into(), doc_of("c1", "closed"))]);
    let any_key = DetailsQuery { key_groups: groups(&[&["queue:q1", "queue:q2", "queue:q3"]]), ..interval(0, 10_000) };
    assert!(ids(store, "org-a", &any_key).is_empty());
    assert!(totals(store, "org-a").is_empty());
}

pub fn analytics_failed_batch_writes_nothing(store: &dyn Store) {
    let fact = |v| vec![metric("tTalk", 1_100, v, (Some("q1"), None, None), "voice")];
    commit(
        store,
        CommitBatch {
            events: vec![event(1, "org-a", Some("c1"), "t")],
            analytics: vec![analytics_row("org-a", "c1", 1_000, "voice", "active", &["queue:q1"], fact(5))],
            ..Default::default()
        },
    );
    let before = details(store, "org-a", &interval(0, 10_000));
    let batch = CommitBatch {
        // Already stored: the whole batch must fail.
        events: vec![event(1, "org-a", Some("c1"), "t")],
        analytics: vec![
            analytics_row("org-a", "c1", 1_000, "voice", "closed", &["queue:q2"], fact(9)),
            analytics_row("org-a", "c2", 1_000, "voice", "closed", &["queue:q2"], fact(9)),
        ],
        ..Default::default()
    };
    assert!(store.commit(&batch).is_err(), "a batch with a stored seq must fail");
    assert_eq!(details(store, "org-a", &interval(0, 10_000)), before);
    let q2 = DetailsQuery { key_groups: groups(&[&["queue:q2"]]), ..interval(0, 10_000) };
    assert!(ids(store, "org-a", &q2).is_empty());
    assert_eq!(totals(store, "org-a"), [("tTalk".into(), 1, 5)]);
}

/// Org-a: d0 (just before the interval) … d6 (at its end); org-b: b1 with org-a's keys and ids nearby.
fn seed_details(store: &dyn Store) {
    let row =
        |id, started, media, state, keys: &[&str]| analytics_row("org-a", id, started, media, state, keys, vec![]);
    write_analytics(
        store,
        vec![
            row("d4", 2_000, "voice", "wrapup", &["queue:q2", "user:u2", "code:k1"]),
            row("d1", 1_000, "voice", "closed", &["queue:q1", "user:u1", "code:k1"]),
            row("d0", 999, "voice", "closed", &["queue:q1"]),
            row("d2", 1_000, "chat", "closed", &["queue:q2", "user:u1"]),
            row("d6", 3_000, "voice", "closed", &[]),
            analytics_row("org-b", "b1", 1_500, "voice", "active", &["queue:q1", "user:u1"], vec![]),
        ],
    );
    write_analytics(
        store,
        vec![row("d3", 1_500, "voice", "active", &["queue:q1"]), row("d5", 2_500, "chat", "closed", &["user:u2"])],
    );
}

pub fn analytics_details_filters(store: &dyn Store) {
    seed_details(store);
    let base = interval(1_000, 3_000);
    let page = details(store, "org-a", &base);
    let expected: Vec<(i64, String)> =
        [(1_000, "d1"), (1_000, "d2"), (1_500, "d3"), (2_000, "d4"), (2_500, "d5")].map(|(s, i)| (s, i.into())).into();
    assert_eq!(page.rows.iter().map(|(s, i, _)| (*s, i.clone())).collect::<Vec<_>>(), expected, "start in, end out");
    assert_eq!(page.total_hits, 5);
    assert_eq!(page.rows[3].2, r#"{"conversationId":"d4","state":"wrapup"}"#, "the document comes back");
    assert_eq!(ids(store, "org-a", &interval(999, 3_001)).len(), 7);
    assert!(ids(store, "org-a", &interval(1_000, 1_000)).is_empty());
    assert_eq!(ids(store, "org-a", &interval(1_000, 1_001)), ["d1", "d2"]);

    let check = |q: DetailsQuery, want: &[&str]| {
        let page = details(store, "org-a", &q);
        let got: Vec<&str> = page.rows.iter().map(|(_, id, _)| id.as_str()).collect();
        assert_eq!(got, want, "{q:?}");
        assert_eq!(page.total_hits, want.len() as u64, "{q:?}");
    };
    let b = || base.clone();
    check(DetailsQuery { media_types: strings(&["voice"]), ..b() }, &["d1", "d3", "d4"]);
    check(DetailsQuery { media_types: strings(&["chat", "voice"]), ..b() }, &["d1", "d2", "d3", "d4", "d5"]);
    check(DetailsQuery { media_types: strings(&["email"]), ..b() }, &[]);
    check(DetailsQuery { states: strings(&["closed"]), ..b() }, &["d1", "d2", "d5"]);
    check(DetailsQuery { states: strings(&["active", "wrapup"]), ..b() }, &["d3", "d4"]);
    check(DetailsQuery { conversation_ids: strings(&["d4", "d1", "d6", "b1", "zz"]), ..b() }, &["d1", "d4"]);
    check(DetailsQuery { key_groups: groups(&[&["queue:q1"]]), ..b() }, &["d1", "d3"]);
    check(DetailsQuery { key_groups: groups(&[&["queue:q1", "queue:q2"]]), ..b() }, &["d1", "d2", "d3", "d4"]);
    check(DetailsQuery { key_groups: groups(&[&["queue:q1", "queue:q2"], &["user:u1"]]), ..b() }, &["d1", "d2"]);
    check(DetailsQuery { key_groups: groups(&[&["queue:q2", "queue:q1"], &["code:k1"]]), ..b() }, &["d1", "d4"]);
    check(DetailsQuery { key_groups: groups(&[&["user:u2"], &["code:k1"]]), ..b() }, &["d4"]);
    check(DetailsQuery { key_groups: groups(&[&["user:u2"], &["code:k1"], &["queue:q1"]]), ..b() }, &[]);
    check(DetailsQuery { key_groups: groups(&[&["queue:q1"], &["queue:q2"]]), ..b() }, &[]);
    check(DetailsQuery { key_groups: groups(&[&["queue:missing"]]), ..b() }, &[]);
    check(DetailsQuery { key_groups: groups(&[&[]]), ..b() }, &[]);
    check(
        DetailsQuery {
            media_types: strings(&["voice"]),
            states: strings(&["closed", "active"]),
            key_groups: groups(&[&["user:u1", "queue:q1"]]),
            ..b()
        },
        &["d1", "d3"],
    );
    check(DetailsQuery { descending: true, states: strings(&["closed"]), ..b() }, &["d5", "d2", "d1"]);

    // The limit bounds the page, not total_hits; 0 returns no rows.
    let limited = details(store, "org-a", &DetailsQuery { limit: 2, ..b() });
    assert_eq!((limited.rows.len(), limited.total_hits), (2, 5));
    let none = details(store, "org-a", &DetailsQuery { limit: 0, ..b() });
    assert_eq!((none.rows.len(), none.total_hits), (0, 5));
}

pub fn analytics_details_isolated_by_org(store: &dyn Store) {
    seed_details(store);
    let q1 = DetailsQuery { key_groups: groups(&[&["queue:q1"]]), ..interval(0, 10_000) };
    assert_eq!(ids(store, "org-a", &q1), ["d0", "d1", "d3"]);
    assert_eq!(ids(store, "org-b", &q1), ["b1"]);
    assert_eq!(details(store, "org-b", &interval(0, 10_000)).total_hits, 1);
    let by_id = DetailsQuery { conversation_ids: strings(&["b1", "d1"]), ..interval(0, 10_000) };
    assert_eq!(ids(store, "org-a", &by_id), ["d1"]);
    assert_eq!(ids(store, "org-b", &by_id), ["b1"]);
    assert_eq!(details(store, "org-c", &interval(i64::MIN, i64::MAX)), DetailsPage::default());
}

pub fn analytics_details_paging(store: &dyn Store) {
    // Ties on started_ms, ids not in started order, and a key on every third conversation.
    let seed: Vec<(i64, String, bool)> =
        (0..13).map(|i: i64| (100 * ((i * 7) % 4), format!("p{:02}", (i * 5) % 13), i % 3 == 0)).collect();
    let rows = seed
        .iter()
        .map(|(s, id, k)| {
            analytics_row("org-a", id, *s, "voice", "closed", if *k { &["queue:q1"] } else { &[] }, vec![])
        })
        .collect();
    write_analytics(store, rows);
    write_analytics(store, vec![analytics_row("org-b", "p99", 100, "voice", "closed", &["queue:q1"], vec![])]);

    let asc = DetailsQuery { after: Some((100, "p03".into())), limit: 4, ..interval(0, 1_000) };
    assert_eq!(
        ids(store, "org-a", &asc),
        ["p09", "p04", "p10", "p11"],
        "ascending: the rest of the tie after the cursor, then later starts"
    );
    let desc = DetailsQuery { descending: true, after: Some((200, "p06".into())), limit: 3, ..interval(0, 1_000) };
    assert_eq!(ids(store, "org-a", &desc), ["p04", "p09", "p03"], "descending: strictly before the cursor");
    let absent = DetailsQuery { after: Some((150, "zz".into())), limit: 2, ..interval(0, 1_000) };
    assert_eq!(ids(store, "org-a", &absent), ["p04", "p10"], "a cursor that is not a row");
    // A cursor outside the interval does not widen it.
    let early = DetailsQuery { after: Some((0, "p00".into())), ..interval(100, 300) };
    assert_eq!(ids(store, "org-a", &early), ["p02", "p03", "p09", "p04", "p10", "p11"]);
    let late = DetailsQuery { descending: true, after: Some((400, String::new())), ..interval(100, 300) };
    assert_eq!(ids(store, "org-a", &late), ["p11", "p10", "p04", "p09", "p03", "p02"]);

    for keyed in [false, true] {
        let mut expected: Vec<(i64, String)> =
            seed.iter().filter(|(_, _, k)| *k || !keyed).map(|(s, id, _)| (*s, id.clone())).collect();
        expected.sort();
        for descending in [false, true] {
            if descending {
                expected.reverse();
            }
            for limit in [1, 2, 5, 100] {
                let key_groups = if keyed { groups(&[&["queue:q1"]]) } else { vec![] };
                let q = DetailsQuery { descending, limit, key_groups, ..interval(0, 1_000) };
                let mut seen = Vec::new();
                let mut after = None;
                for _ in 0..=expected.len() + 1 {
                    let page = details(store, "org-a", &DetailsQuery { after: after.clone(), ..q.clone() });
                    assert_eq!(page.total_hits, expected.len() as u64, "total_hits on every page of {q:?}");
                    assert!(page.rows.len() <= limit);
                    let Some((s, id, _)) = page.rows.last() else { break };
                    after = Some((*s, id.clone()));
                    seen.extend(page.rows.into_iter().map(|(s, id, _)| (s, id)));
                }
                assert_eq!(seen, expected, "every row exactly once, in order, for {q:?}");
            }
        }
    }
}
