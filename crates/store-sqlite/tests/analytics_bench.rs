//! Analytics at scale (ignored by default): seeds N conversations (default 1,000,000) over D days (default
//! 30) with keys and ~8 metric facts each, then times details pages and one-day aggregates.
//!
//! `cargo test --release -p switchboard-store-sqlite --test analytics_bench -- --ignored --nocapture`
//! Environment: `ANALYTICS_BENCH_N`, `ANALYTICS_BENCH_DAYS`, and `ANALYTICS_BENCH_DB` to keep (and reuse)
//! the seeded database at that path instead of a temporary one.

use std::time::{Duration, Instant};

use switchboard_store::conformance::{analytics_row, metric};
use switchboard_store::{AggregateQuery, CommitBatch, DetailsQuery, Store};
use switchboard_store_sqlite::SqliteStore;

const ORG: &str = "org-bench";
const DAY_MS: i64 = 86_400_000;
const T0: i64 = 1_700_000_000_000;

fn env(name: &str, default: i64) -> i64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn seed(store: &SqliteStore, n: i64, days: i64) {
    let step = days * DAY_MS / n;
    let started = Instant::now();
    let mut batch = CommitBatch::default();
    for i in 0..n {
        let (q, u, c) =
            (format!("queue-{:02}", i % 20), format!("user-{:03}", (i * 7) % 200), format!("code-{}", i % 10));
        let media = ["voice", "voice", "chat", "message", "email"][(i % 5) as usize];
        let state = if i % 50 == 0 { "active" } else { "closed" };
        let s = T0 + i * step;
        let dims = (Some(q.as_str()), Some(u.as_str()), Some(c.as_str()));
        let mut facts = vec![
            metric("nOffered", s + 20_000, 1, (Some(&q), None, None), media),
            metric("tWait", s + 20_000, 20_000, (Some(&q), None, None), media),
            metric("tAlert", s + 25_000, 5_000, dims, media),
            metric("nConnected", s + 25_000, 1, dims, media),
            metric("tTalk", s + 200_000, 175_000, dims, media),
            metric("tAcw", s + 230_000, 30_000, dims, media),
            metric("tHandle", s + 230_000, 205_000, dims, media),
        ];
        if i % 4 == 0 {
            facts.push(metric("tHeld", s + 150_000, 30_000, dims, media));
        }
        let keys = [format!("queue:{q}"), format!("user:{u}"), format!("code:{c}")];
        let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
        let id = format!("{:08x}-0000-7000-8000-{:012x}", i, i * 2_654_435_761 % 1_000_000_007);
        let row = analytics_row(ORG, &id, s, media, state, &keys, facts);
        // The details query returns the snapshot: store one of realistic size.
        batch.conversations.push(switchboard_store::ConversationRow {
            org_id: ORG.into(),
            id: id.clone(),
            state: state.into(),
            version: 1,
            media_type: media.into(),
            started_at_ms: s,
            doc: format!(r#"{{"conversationId":"{id}","pad":"{}"}}"#, "x".repeat(2_000)),
            refs: vec![],
        });
        batch.analytics.push(row);
        if batch.analytics.len() == 1_000 || i == n - 1 {
            store.commit(&batch).unwrap();
            batch.analytics.clear();
            batch.conversations.clear();
        }
    }
    let secs = started.elapsed().as_secs_f64();
    eprintln!("seeded {n} conversations over {days} days in {secs:.1} s ({:.0}/s)", n as f64 / secs);
}

fn time<T>(label: &str, mut f: impl FnMut() -> T, describe: impl Fn(&T) -> String) {
    let mut times: Vec<Duration> = Vec::new();
    let mut last = None;
    for _ in 0..15 {
        let t = Instant::now();
        last = Some(f());
        times.push(t.elapsed());
    }
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1_000.0;
    let out = describe(last.as_ref().unwrap());
    eprintln!(
        "{label:<58} median {:7.2} ms  max {:7.2} ms  ({out})",
        ms(times[times.len() / 2]),
        ms(times[times.len() - 1])
    );
}

#[test]
#[ignore = "a benchmark: seeds a million conversations"]
fn analytics_at_scale() {
    let (n, days) = (env("ANALYTICS_BENCH_N", 1_000_000), env("ANALYTICS_BENCH_DAYS", 30));
    let dir = tempfile::tempdir().unwrap();
    let path = std::env::var("ANALYTICS_BENCH_DB").map(Into::into).unwrap_or_else(|_| dir.path().join("bench.db"));
    let fresh = !std::path::Path::new(&path).exists();
    let store = SqliteStore::open(&path).unwrap();
    if fresh {
        seed(&store, n, days);
    }
    eprintln!("database: {} MiB", store.database_bytes() / (1 << 20));
    let day = T0 + (days / 2) * DAY_MS;
    let store = &store;
    let page = |q: DetailsQuery| move || store.analytics_details(ORG, &q).unwrap();
    let d = |p: &switchboard_store::DetailsPage| format!("{} rows of {} hits", p.rows.len(), p.total_hits);
    let base = DetailsQuery { start_ms: day, end_ms: day + DAY_MS, limit: 50, ..Default::default() };
    let queue = vec![vec!["queue:queue-07".to_owned()]];
    time("details: 1 day, page 50, no filter", page(base.clone()), d);
    time("details: 1 day, queue, page 50", page(DetailsQuery { key_groups: queue.clone(), ..base.clone() }), d);
    time(
        "details: 1 day, queue, descending, page 50",
        page(DetailsQuery { key_groups: queue.clone(), descending: true, ..base.clone() }),
        d,
    );
    let filtered = DetailsQuery {
        key_groups: vec![vec!["queue:queue-07".into(), "queue:queue-08".into()], vec!["code:code-7".into()]],
        media_types: vec!["voice".into(), "chat".into()],
        states: vec!["closed".into()],
        ..base.clone()
    };
    time("details: 1 day, 2 queues x code x media x state, page 50", page(filtered.clone()), d);
    let mid = store
        .analytics_details(ORG, &DetailsQuery { limit: 1_000, key_groups: queue.clone(), ..base.clone() })
        .unwrap();
    let cursor = mid.rows.last().map(|(s, id, _)| (*s, id.clone()));
    time(
        "details: 1 day, queue, page 50 after 1000 rows",
        page(DetailsQuery { key_groups: queue.clone(), after: cursor, ..base.clone() }),
        d,
    );
    let week = DetailsQuery { end_ms: day + 7 * DAY_MS, key_groups: queue.clone(), ..base.clone() };
    time("details: 7 days, queue, page 50", page(week), d);

    let agg = |q: AggregateQuery| move || store.analytics_aggregate(ORG, &q).unwrap();
    let c = |cells: &Vec<switchboard_store::AggregateCell>| {
        format!("{} cells, {} facts", cells.len(), cells.iter().map(|c| c.count).sum::<u64>())
    };
    let one_day = AggregateQuery {
        start_ms: day,
        end_ms: day + DAY_MS,
        origin_ms: day,
        bucket_ms: 900_000,
        group_by: vec!["queueId".into()],
        ..Default::default()
    };
    time("aggregate: 1 day, by queue x 15 min, all metrics", agg(one_day.clone()), c);
    time(
        "aggregate: 1 day, by queue x user x 15 min",
        agg(AggregateQuery { group_by: vec!["queueId".into(), "userId".into()], ..one_day.clone() }),
        c,
    );
    time(
        "aggregate: 1 day, by queue x 1 h, nOffered+tHandle+tAcw",
        agg(AggregateQuery {
            bucket_ms: 3_600_000,
            metrics: vec!["nOffered".into(), "tHandle".into(), "tAcw".into()],
            ..one_day.clone()
        }),
        c,
    );
    let mut filters = std::collections::BTreeMap::new();
    filters.insert("queueId".to_owned(), vec!["queue-07".to_owned()]);
    time(
        "aggregate: 1 day, one queue, tTalk+tHandle, 15 min",
        agg(AggregateQuery { filters, metrics: vec!["tTalk".into(), "tHandle".into()], ..one_day.clone() }),
        c,
    );
}
