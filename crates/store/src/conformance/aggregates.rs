//! Conformance for the analytics aggregate query: grouping by each dimension and by none, null
//! dimensions, count/sum/min/max, floor buckets (a fact on a boundary opens the later bucket, facts before
//! the origin round down), the interval's edges, metric and dimension filters, org isolation, and the
//! rejection of malformed queries.
//!
//! Cells are ordered by group values (dimensions in name order: mediaType, queueId, userId, wrapupCodeId;
//! a missing value first), then metric, then bucket.

use std::collections::BTreeMap;

use super::analytics::{analytics_row, metric, write_analytics};
use crate::{AggregateCell, AggregateQuery, Store};

/// (queue, user, wrap-up code) of a fact.
type Dims = (Option<&'static str>, Option<&'static str>, Option<&'static str>);

/// Six facts of org-a in two conversations and one of org-b that must never show in org-a's cells.
fn seed_facts(store: &dyn Store) {
    let d = |q, u, c| -> Dims { (q, u, c) };
    let c1 = vec![
        metric("tTalk", 100, 10, d(Some("q1"), Some("u1"), Some("k1")), "voice"),
        metric("nOffered", 100, 1, d(Some("q1"), None, None), "voice"),
        metric("tTalk", 1_500, 30, d(Some("q1"), Some("u2"), Some("k1")), "voice"),
    ];
    let c2 = vec![
        metric("tTalk", 200, 20, d(Some("q2"), Some("u1"), None), "chat"),
        metric("nOffered", 200, 1, d(Some("q2"), None, None), "chat"),
        metric("tTalk", 999, 5, d(None, Some("u1"), None), "chat"),
    ];
    let b1 = vec![metric("tTalk", 100, 1_000, d(Some("q1"), Some("u1"), Some("k1")), "voice")];
    write_analytics(
        store,
        vec![
            analytics_row("org-a", "c1", 50, "voice", "closed", &[], c1),
            analytics_row("org-b", "b1", 50, "voice", "closed", &[], b1),
            analytics_row("org-a", "c2", 150, "chat", "closed", &[], c2),
        ],
    );
}

/// One expected cell; `group` lists (dimension, value) pairs.
fn cell(group: &[(&str, Option<&str>)], metric: &str, bucket: i64, stats: (u64, i64, i64, i64)) -> AggregateCell {
    AggregateCell {
        group: group.iter().map(|(k, v)| ((*k).to_owned(), v.map(str::to_owned))).collect(),
        bucket,
        metric: metric.to_owned(),
        count: stats.0,
        sum: stats.1,
        min: stats.2,
        max: stats.3,
    }
}

fn one(v: i64) -> (u64, i64, i64, i64) {
    (1, v, v, v)
}

/// Every fact of [0, 10 000) in 1-second buckets from 0.
fn query() -> AggregateQuery {
    AggregateQuery { start_ms: 0, end_ms: 10_000, origin_ms: 0, bucket_ms: 1_000, ..Default::default() }
}

fn by(dims: &[&str]) -> AggregateQuery {
    AggregateQuery { group_by: dims.iter().map(|d| (*d).to_owned()).collect(), ..query() }
}

fn filtered(filters: &[(&str, &[&str])]) -> AggregateQuery {
    let filters: BTreeMap<String, Vec<String>> =
        filters.iter().map(|(k, vs)| ((*k).to_owned(), vs.iter().map(|v| (*v).to_owned()).collect())).collect();
    AggregateQuery { filters, ..query() }
}

fn run(store: &dyn Store, org: &str, q: &AggregateQuery) -> Vec<AggregateCell> {
    store.analytics_aggregate(org, q).unwrap_or_else(|e| panic!("aggregate {q:?}: {e}"))
}

pub fn aggregate_groups_by_each_dimension(store: &dyn Store) {
    seed_facts(store);
    let check = |q: AggregateQuery, want: Vec<AggregateCell>| assert_eq!(run(store, "org-a", &q), want, "{q:?}");
    let ungrouped = vec![
        cell(&[], "nOffered", 0, (2, 2, 1, 1)),
        cell(&[], "tTalk", 0, (3, 35, 5, 20)),
        cell(&[], "tTalk", 1, one(30)),
    ];
    check(query(), ungrouped.clone());
    check(by(&[]), ungrouped);
    let q = |v| [("queueId", v)];
    check(
        by(&["queueId"]),
        vec![
            cell(&q(None), "tTalk", 0, one(5)),
            cell(&q(Some("q1")), "nOffered", 0, one(1)),
            cell(&q(Some("q1")), "tTalk", 0, one(10)),
            cell(&q(Some("q1")), "tTalk", 1, one(30)),
            cell(&q(Some("q2")), "nOffered", 0, one(1)),
            cell(&q(Some("q2")), "tTalk", 0, one(20)),
        ],
    );
    let u = |v| [("userId", v)];
    check(
        by(&["userId"]),
        vec![
            cell(&u(None), "nOffered", 0, (2, 2, 1, 1)),
            cell(&u(Some("u1")), "tTalk", 0, (3, 35, 5, 20)),
            cell(&u(Some("u2")), "tTalk", 1, one(30)),
        ],
    );
    let k = |v| [("wrapupCodeId", v)];
    check(
        by(&["wrapupCodeId"]),
        vec![
            cell(&k(None), "nOffered", 0, (2, 2, 1, 1)),
            cell(&k(None), "tTalk", 0, (2, 25, 5, 20)),
            cell(&k(Some("k1")), "tTalk", 0, one(10)),
            cell(&k(Some("k1")), "tTalk", 1, one(30)),
        ],
    );
    let m = |v| [("mediaType", Some(v))];
    check(
        by(&["mediaType"]),
        vec![
            cell(&m("chat"), "nOffered", 0, one(1)),
            cell(&m("chat"), "tTalk", 0, (2, 25, 5, 20)),
            cell(&m("voice"), "nOffered", 0, one(1)),
            cell(&m("voice"), "tTalk", 0, one(10)),
            cell(&m("voice"), "tTalk", 1, one(30)),
        ],
    );
    // Two dimensions (one named twice): both in every group, ordered mediaType first (name order).
    let mq = |media, queue| [("mediaType", Some(media)), ("queueId", queue)];
    check(
        by(&["queueId", "mediaType", "queueId"]),
        vec![
            cell(&mq("chat", None), "tTalk", 0, one(5)),
            cell(&mq("chat", Some("q2")), "nOffered", 0, one(1)),
            cell(&mq("chat", Some("q2")), "tTalk", 0, one(20)),
            cell(&mq("voice", Some("q1")), "nOffered", 0, one(1)),
            cell(&mq("voice", Some("q1")), "tTalk", 0, one(10)),
            cell(&mq("voice", Some("q1")), "tTalk", 1, one(30)),
        ],
    );
    let all = by(&["mediaType", "queueId", "userId", "wrapupCodeId"]);
    let cells = run(store, "org-a", &all);
    assert_eq!(cells.iter().map(|c| c.count).sum::<u64>(), 6, "every fact in some cell");
    assert!(cells.iter().all(|c| c.group.len() == 4));
}

pub fn aggregate_isolated_by_org(store: &dyn Store) {
    seed_facts(store);
    let qv = [("queueId", Some("q1")), ("userId", Some("u1"))];
    assert_eq!(run(store, "org-b", &by(&["queueId", "userId"])), vec![cell(&qv, "tTalk", 0, one(1_000))]);
    assert!(run(store, "org-c", &query()).is_empty());
}

pub fn aggregate_buckets_and_interval(store: &dyn Store) {
    // Each fact's value is its time, so a cell's stats say which facts landed in it.
    let at = |t| metric("tTalk", t, t, (Some("q1"), None, None), "voice");
    let times = [840, 850, 899, 900, 999, 1_000, 1_099, 1_100, 1_299, 1_300];
    write_analytics(store, vec![analytics_row("org-a", "c1", 0, "voice", "closed", &[], times.map(at).into())]);
    let q = AggregateQuery { start_ms: 850, end_ms: 1_300, origin_ms: 1_000, bucket_ms: 100, ..Default::default() };
    assert_eq!(
        run(store, "org-a", &q),
        vec![
            cell(&[], "tTalk", -2, (2, 850 + 899, 850, 899)),
            cell(&[], "tTalk", -1, (2, 900 + 999, 900, 999)),
            cell(&[], "tTalk", 0, (2, 1_000 + 1_099, 1_000, 1_099)),
            cell(&[], "tTalk", 1, one(1_100)),
            cell(&[], "tTalk", 2, one(1_299)),
        ],
        "start inclusive, end exclusive, floor buckets on both sides of the origin"
    );
    let narrow = AggregateQuery { start_ms: 1_000, end_ms: 1_100, ..q.clone() };
    assert_eq!(run(store, "org-a", &narrow), vec![cell(&[], "tTalk", 0, (2, 2_099, 1_000, 1_099))]);
    let empty = AggregateQuery { start_ms: 1_000, end_ms: 1_000, ..q.clone() };
    assert!(run(store, "org-a", &empty).is_empty());
    let one_bucket = AggregateQuery { start_ms: 0, end_ms: 10_000, origin_ms: 0, bucket_ms: 1_000_000, ..q };
    let total: i64 = times.iter().sum();
    assert_eq!(run(store, "org-a", &one_bucket), vec![cell(&[], "tTalk", 0, (10, total, 840, 1_300))]);
}

pub fn aggregate_filters(store: &dyn Store) {
    seed_facts(store);
    let check = |q: AggregateQuery, want: Vec<AggregateCell>| assert_eq!(run(store, "org-a", &q), want, "{q:?}");
    let metrics =
        |names: &[&str]| AggregateQuery { metrics: names.iter().map(|n| (*n).to_owned()).collect(), ..query() };
    check(metrics(&["tTalk"]), vec![cell(&[], "tTalk", 0, (3, 35, 5, 20)), cell(&[], "tTalk", 1, one(30))]);
    check(metrics(&["nOffered", "missing"]), vec![cell(&[], "nOffered", 0, (2, 2, 1, 1))]);
    check(metrics(&["missing"]), vec![]);

    check(
        filtered(&[("queueId", &["q1"])]),
        vec![cell(&[], "nOffered", 0, one(1)), cell(&[], "tTalk", 0, one(10)), cell(&[], "tTalk", 1, one(30))],
    );
    // A filtered dimension excludes facts without a value (the 5 ms talk has no queue).
    check(
        filtered(&[("queueId", &["q1", "q2"])]),
        vec![
            cell(&[], "nOffered", 0, (2, 2, 1, 1)),
            cell(&[], "tTalk", 0, (2, 30, 10, 20)),
            cell(&[], "tTalk", 1, one(30)),
        ],
    );
    check(filtered(&[("queueId", &[])]), run(store, "org-a", &query()));
    check(filtered(&[("userId", &["u1"])]), vec![cell(&[], "tTalk", 0, (3, 35, 5, 20))]);
    check(filtered(&[("wrapupCodeId", &["k1"])]), vec![cell(&[], "tTalk", 0, one(10)), cell(&[], "tTalk", 1, one(30))]);
    check(
        filtered(&[("mediaType", &["chat"])]),
        vec![cell(&[], "nOffered", 0, one(1)), cell(&[], "tTalk", 0, (2, 25, 5, 20))],
    );
    check(
        AggregateQuery {
            metrics: vec!["tTalk".into()],
            ..filtered(&[("queueId", &["q1", "q2"]), ("mediaType", &["chat"])])
        },
        vec![cell(&[], "tTalk", 0, one(20))],
    );
    check(filtered(&[("queueId", &["q1"]), ("userId", &["u2"]), ("wrapupCodeId", &["k9"])]), vec![]);
    let q = |v| [("queueId", v)];
    check(
        AggregateQuery { group_by: vec!["queueId".into()], ..filtered(&[("userId", &["u1"])]) },
        vec![
            cell(&q(None), "tTalk", 0, one(5)),
            cell(&q(Some("q1")), "tTalk", 0, one(10)),
            cell(&q(Some("q2")), "tTalk", 0, one(20)),
        ],
    );

    // The interval applies to the facts' times: [100, 1 500) keeps both 100s and drops the 1 500.
    let window = |start_ms, end_ms| AggregateQuery { start_ms, end_ms, ..query() };
    check(window(100, 1_500), vec![cell(&[], "nOffered", 0, (2, 2, 1, 1)), cell(&[], "tTalk", 0, (3, 35, 5, 20))]);
    check(
        window(101, 1_501),
        vec![cell(&[], "nOffered", 0, one(1)), cell(&[], "tTalk", 0, (2, 25, 5, 20)), cell(&[], "tTalk", 1, one(30))],
    );
}

pub fn aggregate_rejects_bad_queries(store: &dyn Store) {
    seed_facts(store);
    for bucket_ms in [0, -1_000] {
        let q = AggregateQuery { bucket_ms, ..query() };
        assert!(store.analytics_aggregate("org-a", &q).is_err(), "bucket_ms {bucket_ms} must be refused");
    }
    let err = store.analytics_aggregate("org-a", &by(&["queueId", "skill"])).expect_err("unknown dimension");
    assert!(err.to_string().contains("skill"), "the error names the dimension: {err}");
    let err = store.analytics_aggregate("org-a", &filtered(&[("team", &["t1"])])).expect_err("unknown filter");
    assert!(err.to_string().contains("team"), "the error names the dimension: {err}");
    let far = AggregateQuery { origin_ms: i64::MIN, end_ms: i64::MAX, ..query() };
    assert!(store.analytics_aggregate("org-a", &far).is_err(), "offsets past i64 must be refused");
}
