//! `EXPLAIN QUERY PLAN` checks for the analytics queries: each must search its index by org and interval
//! (never scan a table), details pages must come out of the index in order (no sort), and every key
//! group must be a point lookup. The audit trail's filters each use their own index, in order.

use rusqlite::Connection;
use switchboard_store::{AggregateQuery, DetailsQuery};

use crate::SqliteStore;

/// The plan's detail lines. Parameters are bound as NULL: the plan does not depend on them.
fn plan(conn: &Connection, sql: &str) -> Vec<String> {
    let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).expect("prepare EXPLAIN");
    let nulls = vec![rusqlite::types::Value::Null; stmt.parameter_count()];
    stmt.query_map(rusqlite::params_from_iter(nulls), |row| row.get::<_, String>(3))
        .and_then(Iterator::collect)
        .expect("run EXPLAIN")
}

fn store() -> (SqliteStore, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = SqliteStore::open(dir.path().join("plans.db")).expect("open store");
    (store, dir)
}

fn assert_no_scan(plan: &[String], what: &str) {
    for line in plan {
        let scans_table = line.starts_with("SCAN ") && !line.contains("json_each");
        assert!(!scans_table, "{what}: full scan in {plan:#?}");
    }
}

fn details_queries() -> Vec<DetailsQuery> {
    let base = DetailsQuery { start_ms: 0, end_ms: 86_400_000, limit: 50, ..Default::default() };
    let one_key = vec![vec!["queue:a".to_owned()]];
    let groups = vec![vec!["queue:a".to_owned(), "queue:b".to_owned()], vec!["code:x".to_owned()]];
    let mut out = Vec::new();
    for descending in [false, true] {
        for after in [None, Some((1_000, "c1".to_owned()))] {
            out.push(DetailsQuery { descending, after: after.clone(), ..base.clone() });
            out.push(DetailsQuery { descending, after: after.clone(), key_groups: one_key.clone(), ..base.clone() });
            out.push(DetailsQuery {
                descending,
                after,
                key_groups: groups.clone(),
                media_types: vec!["voice".into(), "chat".into()],
                states: vec!["closed".into()],
                ..base.clone()
            });
        }
    }
    out
}

#[test]
fn details_pages_read_the_index_in_order() {
    let (store, _dir) = store();
    let conn = store.reader();
    for q in details_queries() {
        let (page, count) = crate::analytics::sql_for_tests("org", &q);
        let page_plan = plan(&conn, &page);
        // With a cursor the interval parameters are narrowed to it, so this range starts at the cursor.
        // The analytics row no longer holds a document: the range reads the covering index only.
        assert!(
            page_plan[0].starts_with("SEARCH a USING")
                && page_plan[0]
                    .contains("analytics_conversations_org_started (org_id=? AND started_ms>? AND started_ms<?)"),
            "{q:?}: {page_plan:#?}"
        );
        // The snapshot document comes from one primary-key lookup per returned row.
        assert!(
            page_plan.iter().any(|l| l.starts_with("SEARCH c USING") && l.contains("(id=?)")),
            "{q:?}: {page_plan:#?}"
        );
        assert!(page_plan.iter().all(|l| !l.contains("TEMP B-TREE")), "{q:?} sorts: {page_plan:#?}");
        assert_no_scan(&page_plan, &page);
        for probe in page_plan.iter().filter(|l| l.contains(" k ")) {
            assert!(probe.contains("conversation_id=?") && probe.contains("key=?"), "{q:?}: {page_plan:#?}");
        }

        let count_plan = plan(&conn, &count);
        assert_eq!(
            count_plan[0],
            "SEARCH a USING COVERING INDEX analytics_conversations_org_started \
             (org_id=? AND started_ms>? AND started_ms<?)",
            "{q:?}: the count reads only the index: {count_plan:#?}"
        );
        assert_no_scan(&count_plan, &count);
    }
}

#[test]
fn aggregates_search_the_org_time_key() {
    let (store, _dir) = store();
    let conn = store.reader();
    let day = AggregateQuery { start_ms: 0, end_ms: 86_400_000, bucket_ms: 900_000, ..Default::default() };
    let mut filtered = AggregateQuery {
        group_by: vec!["queueId".into(), "userId".into()],
        metrics: vec!["tTalk".into(), "tHandle".into()],
        ..day.clone()
    };
    filtered.filters.insert("queueId".into(), vec!["q1".into()]);
    filtered.filters.insert("mediaType".into(), vec!["voice".into(), "chat".into()]);
    for q in [day.clone(), AggregateQuery { group_by: vec!["queueId".into()], ..day }, filtered] {
        let sql = crate::aggregate::sql_for_tests("org", &q);
        let plan = plan(&conn, &sql);
        assert_eq!(
            plan[0], "SEARCH analytics_metrics USING PRIMARY KEY (org_id=? AND at_ms>? AND at_ms<?)",
            "{q:?}: {plan:#?}"
        );
        assert_no_scan(&plan, &sql);
        assert!(plan.iter().all(|l| !l.contains("TEMP B-TREE")), "{q:?}: {plan:#?}");
    }
}

/// Prints the plans (`cargo test -p switchboard-store-sqlite print_analytics_plans -- --nocapture`).
#[test]
fn print_analytics_plans() {
    let (store, _dir) = store();
    let conn = store.reader();
    let q = &details_queries()[11];
    let (page, count) = crate::analytics::sql_for_tests("org", q);
    let mut agg = AggregateQuery { bucket_ms: 900_000, group_by: vec!["queueId".into()], ..Default::default() };
    agg.metrics = vec!["tTalk".into()];
    let agg = crate::aggregate::sql_for_tests("org", &agg);
    for sql in [page, count, agg] {
        println!("{sql}\n  {}\n", plan(&conn, &sql).join("\n  "));
    }
}

#[test]
fn audit_filters_use_their_own_index_in_order() {
    let (store, _dir) = store();
    let conn = store.reader();
    let some = |s: &str| Some(s.to_owned());
    for (actor_id, conversation_id, index) in [
        (None, None, "audit_org"),
        (some("u1"), None, "audit_actor"),
        (None, some("c1"), "audit_conversation"),
        (some("u1"), some("c1"), "audit_"),
    ] {
        let q = switchboard_store::AuditQuery { actor_id, conversation_id, after: 0, limit: 10 };
        let p = plan(&conn, &crate::read::audit_sql(&q));
        assert_no_scan(&p, "audit");
        assert!(p.iter().any(|l| l.contains(index)), "{q:?} should use {index}: {p:#?}");
        assert!(!p.iter().any(|l| l.contains("TEMP B-TREE")), "{q:?} sorts: {p:#?}");
    }
}
