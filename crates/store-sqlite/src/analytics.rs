//! Analytics in SQLite: the write (row, keys, metrics; whole or as a diff) and the details query (one SELECT
//! with an EXISTS per key group, plus a COUNT with the same WHERE). The aggregate query is in `aggregate`.
//!
//! A value list is bound as one parameter: a single value as itself (`= ?`), more as a JSON array read
//! back with `json_each` (`IN (SELECT value FROM json_each(?))`). The SQL text so depends only on which
//! filters are present, with one or several values, never on list lengths or values: the statements
//! stay few and `prepare_cached` keeps them all.

use rusqlite::types::Value;
use rusqlite::{Connection, Transaction, params, params_from_iter};
use switchboard_store::{AnalyticsRow, DetailsPage, DetailsQuery, StoreError, StoreResult};

use crate::backend;
use crate::read::read_err;

/// Writes each conversation's analytics, whole or as the diff the row describes. Runs inside the batch's
/// transaction, so a later failure in the batch undoes it too.
pub(crate) fn write(tx: &Transaction<'_>, rows: &[AnalyticsRow]) -> StoreResult<()> {
    if rows.is_empty() {
        return Ok(());
    }
    // Update first: the row nearly always exists. When it does not (a new conversation, or one from before
    // analytics existed, schema version 2) it is inserted and its facts are written whole, whatever the diff
    // says, since the diff assumes the earlier facts are stored.
    let mut update = tx
        .prepare_cached(
            "UPDATE analytics_conversations SET org_id = ?1, started_ms = ?3, media_type = ?4, state = ?5
             WHERE conversation_id = ?2",
        )
        .map_err(backend("prepare analytics update"))?;
    let mut insert = tx
        .prepare_cached(
            "INSERT INTO analytics_conversations (org_id, conversation_id, started_ms, media_type, state, doc)
             VALUES (?1, ?2, ?3, ?4, ?5, '')",
        )
        .map_err(backend("prepare analytics insert"))?;
    let mut delete_keys = tx
        .prepare_cached("DELETE FROM analytics_keys WHERE conversation_id = ?1")
        .map_err(backend("prepare analytics key delete"))?;
    let mut insert_key = tx
        .prepare_cached("INSERT OR IGNORE INTO analytics_keys (org_id, key, conversation_id) VALUES (?1, ?2, ?3)")
        .map_err(backend("prepare analytics key insert"))?;
    let mut delete_metrics = tx
        .prepare_cached("DELETE FROM analytics_metrics WHERE conversation_id = ?1")
        .map_err(backend("prepare analytics metric delete"))?;
    let mut insert_metric = tx
        .prepare_cached(
            "INSERT INTO analytics_metrics (org_id, conversation_id, participant_id, name, at_ms, value, queue_id,
                 user_id, wrapup_code_id, media_type, ord)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        )
        .map_err(backend("prepare analytics metric insert"))?;
    for row in rows {
        let id = &row.conversation_id;
        let fail = |what: &str, e: rusqlite::Error| StoreError::Backend(format!("{what} of conversation {id}: {e}"));
        let values = params![row.org_id, id, row.started_ms, row.media_type, row.state];
        let updated = update.execute(values).map_err(|e| fail("update analytics", e))? > 0;
        if !updated {
            insert.execute(values).map_err(|e| fail("insert analytics", e))?;
        }
        let (keys_changed, metrics_from) = if updated { (row.keys_changed, row.metrics_from) } else { (true, 0) };
        if keys_changed {
            delete_keys.execute([id]).map_err(|e| fail("delete analytics keys", e))?;
            for key in &row.keys {
                insert_key.execute(params![row.org_id, key, id]).map_err(|e| fail("insert analytics key", e))?;
            }
        }
        if metrics_from == 0 {
            delete_metrics.execute([id]).map_err(|e| fail("delete metrics", e))?;
        }
        for (ord, m) in row.metrics.iter().enumerate().skip(metrics_from) {
            insert_metric
                .execute(params![
                    row.org_id,
                    id,
                    m.participant_id,
                    m.name,
                    m.at_ms,
                    m.value,
                    m.queue_id,
                    m.user_id,
                    m.wrapup_code_id,
                    m.media_type,
                    ord as i64
                ])
                .map_err(|e| fail("insert metric", e))?;
        }
    }
    Ok(())
}

/// SQL text under construction with its bound values; `arg` binds a value and returns its placeholder.
#[derive(Default)]
pub(crate) struct Sql {
    pub(crate) text: String,
    pub(crate) args: Vec<Value>,
}

impl Sql {
    pub(crate) fn arg(&mut self, value: Value) -> String {
        self.args.push(value);
        format!("?{}", self.args.len())
    }

    /// The condition "`column` is one of `values`" (false for an empty list), with the values bound.
    pub(crate) fn one_of(&mut self, column: &str, values: &[String]) -> String {
        match values {
            [value] => {
                let p = self.arg(Value::Text(value.clone()));
                format!("{column} = {p}")
            }
            _ => {
                let json = serde_json::to_string(values).expect("a list of strings always serializes");
                let p = self.arg(Value::Text(json));
                format!("{column} IN (SELECT value FROM json_each({p}))")
            }
        }
    }

    /// Appends ` AND <column is one of values>`.
    pub(crate) fn and_one_of(&mut self, column: &str, values: &[String]) {
        let condition = self.one_of(column, values);
        self.text.push_str(" AND ");
        self.text.push_str(&condition);
    }
}

/// The details WHERE clause without the cursor: ?1 is the org, ?2 and ?3 the interval.
fn details_filter(org_id: &str, q: &DetailsQuery) -> Sql {
    let mut sql = Sql::default();
    let org = sql.arg(Value::Text(org_id.to_owned()));
    let start = sql.arg(Value::Integer(q.start_ms));
    let end = sql.arg(Value::Integer(q.end_ms));
    sql.text = format!("a.org_id = {org} AND a.started_ms >= {start} AND a.started_ms < {end}");
    for (column, values) in
        [("a.media_type", &q.media_types), ("a.state", &q.states), ("a.conversation_id", &q.conversation_ids)]
    {
        if !values.is_empty() {
            sql.and_one_of(column, values);
        }
    }
    for group in &q.key_groups {
        // Every group must match (one EXISTS each); any key of a group does. Each probe is an index
        // lookup of the whole (conversation, org, key) entry.
        let key = sql.one_of("k.key", group);
        sql.text.push_str(&format!(
            " AND EXISTS (SELECT 1 FROM analytics_keys k \
             WHERE k.org_id = {org} AND {key} AND k.conversation_id = a.conversation_id)"
        ));
    }
    sql
}

/// The details page and COUNT statements, each with its arguments.
struct DetailsSql {
    page: Sql,
    count: Sql,
}

fn details_sql(org_id: &str, q: &DetailsQuery) -> DetailsSql {
    let mut sql = details_filter(org_id, q);
    let count = Sql {
        text: format!("SELECT COUNT(*) FROM analytics_conversations a WHERE {}", sql.text),
        args: sql.args.clone(),
    };
    let (cmp, dir) = if q.descending { ("<", "DESC") } else { (">", "ASC") };
    let mut page = format!(
        "SELECT a.started_ms, a.conversation_id, coalesce(c.doc, '') FROM analytics_conversations a
             LEFT JOIN conversations c ON c.id = a.conversation_id AND c.org_id = a.org_id WHERE {}",
        sql.text
    );
    if let Some((started_ms, id)) = &q.after {
        let (s, i) = (sql.arg(Value::Integer(*started_ms)), sql.arg(Value::Text(id.clone())));
        page.push_str(&format!(" AND (a.started_ms, a.conversation_id) {cmp} ({s}, {i})"));
        // SQLite does not narrow the index range by the row value, so the interval bound on the cursor's
        // side is moved to the cursor's start (it binds the page's own copy of ?2 or ?3): a deep page
        // starts at the cursor instead of reading past every earlier row.
        let cursor = *started_ms;
        let (bound, value) = if q.descending {
            (2, cursor.checked_add(1).map_or(q.end_ms, |c| c.min(q.end_ms)))
        } else {
            (1, cursor.max(q.start_ms))
        };
        sql.args[bound] = Value::Integer(value);
    }
    let limit = sql.arg(Value::Integer(i64::try_from(q.limit).unwrap_or(i64::MAX)));
    page.push_str(&format!(" ORDER BY a.started_ms {dir}, a.conversation_id {dir} LIMIT {limit}"));
    DetailsSql { page: Sql { text: page, args: sql.args }, count }
}

pub(crate) fn details(conn: &Connection, org_id: &str, q: &DetailsQuery) -> StoreResult<DetailsPage> {
    let DetailsSql { page, count } = details_sql(org_id, q);
    // One read transaction: the page and its total come from the same snapshot.
    let tx = conn.unchecked_transaction().map_err(backend("begin details read"))?;
    let total: i64 = tx
        .prepare_cached(&count.text)
        .and_then(|mut stmt| stmt.query_row(params_from_iter(&count.args), |row| row.get(0)))
        .map_err(read_err("count analytics details"))?;
    let rows = if total == 0 || q.limit == 0 {
        Vec::new()
    } else {
        tx.prepare_cached(&page.text)
            .and_then(|mut stmt| {
                stmt.query_map(params_from_iter(&page.args), |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
                    .and_then(Iterator::collect)
            })
            .map_err(read_err("read analytics details"))?
    };
    tx.commit().map_err(backend("end details read"))?;
    let total_hits = u64::try_from(total).map_err(|_| StoreError::Corrupt(format!("negative count {total}")))?;
    Ok(DetailsPage { rows, total_hits })
}

/// The details page and count SQL, for plan checks.
#[cfg(test)]
pub(crate) fn sql_for_tests(org_id: &str, q: &DetailsQuery) -> (String, String) {
    let DetailsSql { page, count } = details_sql(org_id, q);
    (page.text, count.text)
}
