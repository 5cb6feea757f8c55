//! The analytics aggregate query. SQL selects the facts: a range scan of the metrics table's primary key,
//! which starts with `(org_id, at_ms)`, with the metric and dimension filters applied in the WHERE clause. The grouping into
//! (dimensions, metric, bucket) cells is a hash fold over that stream, here rather than in a SQL
//! `GROUP BY`: SQLite groups by sorting every selected row, which for a busy day (a quarter of a million
//! facts) costs about twice the scan itself and alone exceeds the 100 ms budget, where the fold adds a few
//! hash lookups per row.
//!
//! Buckets follow the shared rule, `AggregateQuery::bucket`: floor division, so a fact exactly on a
//! boundary opens the later bucket and facts before the origin round down.

use std::collections::HashMap;

use rusqlite::types::{Value, ValueRef};
use rusqlite::{Connection, Row, params_from_iter};
use switchboard_store::analytics::{CheckedAggregate, Dimension};
use switchboard_store::{AggregateCell, AggregateQuery, StoreError, StoreResult};

use crate::analytics::Sql;
use crate::read::read_err;

fn column(d: Dimension) -> &'static str {
    match d {
        Dimension::MediaType => "media_type",
        Dimension::QueueId => "queue_id",
        Dimension::UserId => "user_id",
        Dimension::WrapupCodeId => "wrapup_code_id",
    }
}

/// `SELECT <group-by columns>, name, at_ms, value` over the org's interval, filtered: ?1 is the org, ?2
/// and ?3 the interval.
fn select_sql(org_id: &str, q: &AggregateQuery, checked: &CheckedAggregate<'_>) -> Sql {
    let mut sql = Sql::default();
    let org = sql.arg(Value::Text(org_id.to_owned()));
    let start = sql.arg(Value::Integer(q.start_ms));
    let end = sql.arg(Value::Integer(q.end_ms));
    let dims: String = checked.group_by.iter().map(|d| format!("{}, ", column(*d))).collect();
    sql.text = format!(
        "SELECT {dims}name, at_ms, value FROM analytics_metrics \
         WHERE org_id = {org} AND at_ms >= {start} AND at_ms < {end}"
    );
    if !q.metrics.is_empty() {
        sql.and_one_of("name", &q.metrics);
    }
    for (d, values) in &checked.filters {
        sql.and_one_of(column(*d), values);
    }
    sql
}

/// Up to one value per dimension; unused slots stay `None`.
type Group = [Option<u32>; Dimension::ALL.len()];

#[derive(Clone, Copy)]
struct Stats {
    count: u64,
    sum: i64,
    min: i64,
    max: i64,
}

/// Cells keyed by interned strings: after a value's first sighting a row costs hash lookups of borrowed
/// text and no allocation.
#[derive(Default)]
struct Fold {
    ids: HashMap<String, u32>,
    strings: Vec<String>,
    cells: HashMap<(Group, u32, i64), Stats>,
}

impl Fold {
    fn intern(&mut self, s: &str) -> u32 {
        if let Some(id) = self.ids.get(s) {
            return *id;
        }
        let id = self.strings.len() as u32;
        self.ids.insert(s.to_owned(), id);
        self.strings.push(s.to_owned());
        id
    }

    fn add(&mut self, row: &Row<'_>, dims: usize, q: &AggregateQuery) -> rusqlite::Result<Result<(), String>> {
        let mut group: Group = [None; Dimension::ALL.len()];
        for (i, slot) in group.iter_mut().enumerate().take(dims) {
            *slot = match row.get_ref(i)? {
                ValueRef::Null => None,
                value => Some(self.intern(value.as_str()?)),
            };
        }
        let name = self.intern(row.get_ref(dims)?.as_str()?);
        let (at_ms, value): (i64, i64) = (row.get(dims + 1)?, row.get(dims + 2)?);
        let stats = self.cells.entry((group, name, q.bucket(at_ms))).or_insert(Stats {
            count: 0,
            sum: 0,
            min: i64::MAX,
            max: i64::MIN,
        });
        stats.count += 1;
        let Some(sum) = stats.sum.checked_add(value) else {
            return Ok(Err(format!("the sum of {} overflows a 64-bit integer", self.strings[name as usize])));
        };
        stats.sum = sum;
        stats.min = stats.min.min(value);
        stats.max = stats.max.max(value);
        Ok(Ok(()))
    }

    /// The cells ordered by group values (dimensions in name order, a missing value first), metric, bucket.
    fn cells(self, group_by: &[Dimension]) -> Vec<AggregateCell> {
        let strings = &self.strings;
        let s = |id: Option<u32>| id.map(|id| strings[id as usize].as_str());
        let mut keyed: Vec<_> = self
            .cells
            .into_iter()
            .map(|((group, name, bucket), stats)| {
                let values: Vec<Option<&str>> = group.iter().take(group_by.len()).map(|v| s(*v)).collect();
                ((values, s(Some(name)).unwrap_or_default(), bucket), stats)
            })
            .collect();
        keyed.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        keyed
            .into_iter()
            .map(|((values, metric, bucket), st)| AggregateCell {
                group: group_by.iter().zip(values).map(|(d, v)| (d.name().to_owned(), v.map(str::to_owned))).collect(),
                bucket,
                metric: metric.to_owned(),
                count: st.count,
                sum: st.sum,
                min: st.min,
                max: st.max,
            })
            .collect()
    }
}

pub(crate) fn aggregate(conn: &Connection, org_id: &str, q: &AggregateQuery) -> StoreResult<Vec<AggregateCell>> {
    let checked = q.check()?;
    let sql = select_sql(org_id, q, &checked);
    let dims = checked.group_by.len();
    let mut stmt = conn.prepare_cached(&sql.text).map_err(read_err("prepare analytics aggregate"))?;
    let mut rows = stmt.query(params_from_iter(&sql.args)).map_err(read_err("run analytics aggregate"))?;
    let mut fold = Fold::default();
    while let Some(row) = rows.next().map_err(read_err("read analytics aggregate"))? {
        fold.add(row, dims, q)
            .map_err(read_err("read a metric fact"))?
            .map_err(|e| StoreError::Backend(format!("aggregate: {e}")))?;
    }
    Ok(fold.cells(&checked.group_by))
}

/// The SQL `aggregate` runs, for plan checks.
#[cfg(test)]
pub(crate) fn sql_for_tests(org_id: &str, q: &AggregateQuery) -> String {
    select_sql(org_id, q, &q.check().expect("a valid query")).text
}
