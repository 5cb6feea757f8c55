//! Read queries, run on reader connections, and the mapping of rows back to store types.

use rusqlite::types::Type;
use rusqlite::{Connection, OptionalExtension, Row, ToSql, params};
use switchboard_store::{
    AuditQuery, AuditRow, ConversationFilter, ConversationPage, ConversationRow, DeliveryRow, EntityRow,
    IdempotencyRow, StoreError, StoreResult, StoredEvent, TimerRow,
};

/// Maps a read error, telling data that does not fit the store types (corruption) apart from failures
/// of SQLite itself.
pub(crate) fn read_err(context: &'static str) -> impl Fn(rusqlite::Error) -> StoreError {
    move |e| match e {
        rusqlite::Error::FromSqlConversionFailure(..) | rusqlite::Error::InvalidColumnType(..) => {
            StoreError::Corrupt(format!("{context}: {e}"))
        }
        e => StoreError::Backend(format!("{context}: {e}")),
    }
}

/// Reads a column stored from a `u64`: a negative value can only mean a damaged row.
fn get_u64(row: &Row<'_>, idx: usize) -> rusqlite::Result<u64> {
    let value: i64 = row.get(idx)?;
    u64::try_from(value).map_err(|e| rusqlite::Error::FromSqlConversionFailure(idx, Type::Integer, Box::new(e)))
}

/// Query bounds arrive as unsigned values; anything past `i64::MAX` is "no bound" for SQLite.
fn bound(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

fn limit(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}

const EVENT_COLUMNS: &str = "seq, id, org_id, conversation_id, event_type, at_ms, body";

fn event_row(row: &Row<'_>) -> rusqlite::Result<StoredEvent> {
    Ok(StoredEvent {
        seq: get_u64(row, 0)?,
        id: row.get(1)?,
        org_id: row.get(2)?,
        conversation_id: row.get(3)?,
        event_type: row.get(4)?,
        at_ms: row.get(5)?,
        body: row.get(6)?,
    })
}

/// Prefixed with `c.` because listing joins the refs table.
const CONVERSATION_COLUMNS: &str =
    "c.pos, c.org_id, c.id, c.state, c.version, c.media_type, c.started_at_ms, c.doc, c.refs";

fn conversation_row(row: &Row<'_>) -> rusqlite::Result<(i64, ConversationRow)> {
    let refs: String = row.get(8)?;
    let refs: Vec<String> = serde_json::from_str(&refs)
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(8, Type::Text, Box::new(e)))?;
    Ok((
        row.get(0)?,
        ConversationRow {
            org_id: row.get(1)?,
            id: row.get(2)?,
            state: row.get(3)?,
            version: get_u64(row, 4)?,
            media_type: row.get(5)?,
            started_at_ms: row.get(6)?,
            doc: row.get(7)?,
            refs,
        },
    ))
}

pub(crate) fn last_seq(conn: &Connection) -> StoreResult<u64> {
    // MAX over the rowid is a single b-tree descent.
    conn.prepare_cached("SELECT COALESCE(MAX(seq), 0) FROM events")
        .and_then(|mut stmt| stmt.query_row([], |row| get_u64(row, 0)))
        .map_err(read_err("read last seq"))
}

pub(crate) fn get_meta(conn: &Connection, key: &str) -> StoreResult<Option<String>> {
    conn.prepare_cached("SELECT value FROM meta WHERE key = ?1")
        .and_then(|mut stmt| stmt.query_row([key], |row| row.get(0)).optional())
        .map_err(read_err("read meta"))
}

/// Every row a parameterless query returns, mapped by `f`.
fn all_rows<T>(
    conn: &Connection,
    sql: &str,
    what: &'static str,
    f: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
) -> StoreResult<Vec<T>> {
    conn.prepare_cached(sql)
        .and_then(|mut stmt| stmt.query_map([], f).and_then(Iterator::collect))
        .map_err(read_err(what))
}

pub(crate) fn load_entities(conn: &Connection) -> StoreResult<Vec<EntityRow>> {
    all_rows(
        conn,
        "SELECT org_id, kind, id, version, doc FROM entities ORDER BY org_id, kind, id",
        "load entities",
        |row| {
            Ok(EntityRow {
                org_id: row.get(0)?,
                kind: row.get(1)?,
                id: row.get(2)?,
                version: get_u64(row, 3)?,
                doc: row.get(4)?,
            })
        },
    )
}

pub(crate) fn load_open_conversations(conn: &Connection) -> StoreResult<Vec<ConversationRow>> {
    // The literal `state != 'closed'` matches the partial index's condition, which is what lets SQLite
    // use it; a bound parameter would not.
    let sql = format!("SELECT {CONVERSATION_COLUMNS} FROM conversations c WHERE c.state != 'closed' ORDER BY c.pos");
    all_rows(conn, &sql, "load open conversations", |row| conversation_row(row).map(|(_, c)| c))
}

pub(crate) fn load_timers(conn: &Connection) -> StoreResult<Vec<TimerRow>> {
    let sql = "SELECT org_id, conversation_id, key, due_at_ms, ord, body FROM timers
               ORDER BY due_at_ms, ord, conversation_id, key";
    all_rows(conn, sql, "load timers", |row| {
        Ok(TimerRow {
            org_id: row.get(0)?,
            conversation_id: row.get(1)?,
            key: row.get(2)?,
            due_at_ms: row.get(3)?,
            ord: get_u64(row, 4)?,
            body: row.get(5)?,
        })
    })
}

pub(crate) fn conversation(conn: &Connection, org_id: &str, id: &str) -> StoreResult<Option<ConversationRow>> {
    let sql = format!("SELECT {CONVERSATION_COLUMNS} FROM conversations c WHERE c.id = ?1 AND c.org_id = ?2");
    conn.prepare_cached(&sql)
        .and_then(|mut stmt| stmt.query_row([id, org_id], |row| conversation_row(row).map(|(_, c)| c)).optional())
        .map_err(read_err("read conversation"))
}

/// Builds the listing query for the filter's shape; values are bound, so the number of distinct SQL
/// strings (and cached statements) stays small.
fn listing_sql<'a>(filter: &'a ConversationFilter, bound: &mut Vec<Box<dyn ToSql + 'a>>) -> String {
    let mut arg = |value: Box<dyn ToSql + 'a>| {
        bound.push(value);
        format!("?{}", bound.len() + 1) // ?1 is the org
    };
    let mut sql = format!("SELECT {CONVERSATION_COLUMNS} ");
    // With refs, drive from the refs index: (org, first ref) is a contiguous key range already in
    // position order, so a newest-first page never visits non-matching conversations of the org.
    let pos = match filter.refs.split_first() {
        Some((first, rest)) => {
            sql.push_str(&format!(
                "FROM conversation_refs r0 JOIN conversations c ON c.pos = r0.pos \
                 WHERE r0.org_id = ?1 AND r0.ref = {} AND c.org_id = ?1",
                arg(Box::new(first))
            ));
            for r in rest {
                sql.push_str(&format!(
                    " AND EXISTS (SELECT 1 FROM conversation_refs rk \
                     WHERE rk.org_id = ?1 AND rk.ref = {} AND rk.pos = r0.pos)",
                    arg(Box::new(r))
                ));
            }
            "r0.pos"
        }
        None => {
            sql.push_str("FROM conversations c WHERE c.org_id = ?1");
            "c.pos"
        }
    };
    if let Some(before) = filter.before {
        sql.push_str(&format!(" AND {pos} < {}", arg(Box::new(before))));
    }
    if let Some(state) = &filter.state {
        sql.push_str(&format!(" AND c.state = {}", arg(Box::new(state))));
    }
    if let Some(media_type) = &filter.media_type {
        sql.push_str(&format!(" AND c.media_type = {}", arg(Box::new(media_type))));
    }
    sql.push_str(&format!(" ORDER BY {pos} DESC LIMIT {}", arg(Box::new(limit(filter.limit)))));
    sql
}

pub(crate) fn list_conversations(
    conn: &Connection,
    org_id: &str,
    filter: &ConversationFilter,
) -> StoreResult<ConversationPage> {
    let mut bound: Vec<Box<dyn ToSql + '_>> = Vec::new();
    let sql = listing_sql(filter, &mut bound);
    let args: Vec<&dyn ToSql> = std::iter::once(&org_id as &dyn ToSql).chain(bound.iter().map(|b| &**b)).collect();
    let mut stmt = conn.prepare_cached(&sql).map_err(read_err("prepare conversation listing"))?;
    let rows = stmt
        .query_map(args.as_slice(), conversation_row)
        .and_then(Iterator::collect)
        .map_err(read_err("list conversations"))?;
    Ok(ConversationPage { rows })
}

pub(crate) fn conversation_events(
    conn: &Connection,
    org_id: &str,
    conversation_id: &str,
    after: u64,
    event_type: Option<&str>,
    max: usize,
) -> StoreResult<Vec<StoredEvent>> {
    // Two fixed statements rather than `(?5 IS NULL OR event_type = ?5)`, which keeps each plan simple.
    let sql = match event_type {
        None => format!(
            "SELECT {EVENT_COLUMNS} FROM events \
             WHERE conversation_id = ?1 AND seq > ?2 AND org_id = ?3 ORDER BY seq LIMIT ?4"
        ),
        Some(_) => format!(
            "SELECT {EVENT_COLUMNS} FROM events \
             WHERE conversation_id = ?1 AND seq > ?2 AND org_id = ?3 AND event_type = ?5 ORDER BY seq LIMIT ?4"
        ),
    };
    let mut stmt = conn.prepare_cached(&sql).map_err(read_err("prepare conversation events"))?;
    let (after, max) = (bound(after), limit(max));
    let rows = match event_type {
        None => stmt.query_map(params![conversation_id, after, org_id, max], event_row),
        Some(t) => stmt.query_map(params![conversation_id, after, org_id, max, t], event_row),
    }
    .and_then(Iterator::collect)
    .map_err(read_err("read conversation events"))?;
    Ok(rows)
}

pub(crate) fn events_after(conn: &Connection, org_id: &str, after: u64, max: usize) -> StoreResult<Vec<StoredEvent>> {
    let sql = format!("SELECT {EVENT_COLUMNS} FROM events WHERE org_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3");
    let mut stmt = conn.prepare_cached(&sql).map_err(read_err("prepare event log read"))?;
    let rows = stmt
        .query_map(params![org_id, bound(after), limit(max)], event_row)
        .and_then(Iterator::collect)
        .map_err(read_err("read event log"))?;
    Ok(rows)
}

pub(crate) fn idempotency(conn: &Connection, org_id: &str, key: &str) -> StoreResult<Option<IdempotencyRow>> {
    conn.prepare_cached(
        "SELECT org_id, key, request_hash, response, expires_at_ms FROM idempotency WHERE org_id = ?1 AND key = ?2",
    )
    .and_then(|mut stmt| {
        stmt.query_row([org_id, key], |row| {
            Ok(IdempotencyRow {
                org_id: row.get(0)?,
                key: row.get(1)?,
                request_hash: row.get(2)?,
                response: row.get(3)?,
                expires_at_ms: row.get(4)?,
            })
        })
        .optional()
    })
    .map_err(read_err("read idempotency record"))
}

pub(crate) fn counts(conn: &Connection) -> StoreResult<(u64, u64)> {
    conn.prepare_cached("SELECT (SELECT COUNT(*) FROM conversations), (SELECT COUNT(*) FROM events)")
        .and_then(|mut stmt| stmt.query_row([], |row| Ok((get_u64(row, 0)?, get_u64(row, 1)?))))
        .map_err(read_err("count rows"))
}

const DELIVERY_COLUMNS: &str = "id, org_id, webhook_id, order_key, seq, event_id, event_type, body, status, attempts,
    created_ms, next_attempt_ms, last_status_code, last_response_ms, last_error, delivered_ms";

fn delivery_row(row: &Row<'_>) -> rusqlite::Result<DeliveryRow> {
    Ok(DeliveryRow {
        id: row.get(0)?,
        org_id: row.get(1)?,
        webhook_id: row.get(2)?,
        order_key: row.get(3)?,
        seq: get_u64(row, 4)?,
        event_id: row.get(5)?,
        event_type: row.get(6)?,
        body: row.get(7)?,
        status: row.get(8)?,
        attempts: row.get(9)?,
        created_ms: row.get(10)?,
        next_attempt_ms: row.get(11)?,
        last_status_code: row.get(12)?,
        last_response_ms: row.get(13)?,
        last_error: row.get(14)?,
        delivered_ms: row.get(15)?,
    })
}

pub(crate) fn pending_deliveries(conn: &Connection) -> StoreResult<Vec<DeliveryRow>> {
    let sql = format!("SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE status = 'pending' ORDER BY seq, id");
    all_rows(conn, &sql, "read pending deliveries", delivery_row)
}

pub(crate) fn deliveries(
    conn: &Connection,
    org_id: &str,
    webhook_id: &str,
    after: u64,
    max: usize,
) -> StoreResult<Vec<DeliveryRow>> {
    conn.prepare_cached(&format!(
        "SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE org_id = ?1 AND webhook_id = ?2 AND seq > ?3
         ORDER BY seq, id LIMIT ?4"
    ))
    .and_then(|mut stmt| {
        stmt.query_map(params![org_id, webhook_id, bound(after), limit(max)], delivery_row).and_then(Iterator::collect)
    })
    .map_err(read_err("read deliveries"))
}

pub(crate) fn delivery(conn: &Connection, org_id: &str, id: &str) -> StoreResult<Option<DeliveryRow>> {
    conn.prepare_cached(&format!("SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE org_id = ?1 AND id = ?2"))
        .and_then(|mut stmt| stmt.query_row([org_id, id], delivery_row).optional())
        .map_err(read_err("read delivery"))
}

/// One statement per filter combination, so each uses its own index (a `?3 IS NULL OR ...` form would leave
/// SQLite with the org index and a scan of the org's whole trail). `LIMIT ?5` keeps the parameter count at
/// five whichever filters are left out.
pub(crate) fn audit_sql(q: &AuditQuery) -> String {
    let filter = match (&q.actor_id, &q.conversation_id) {
        (None, None) => "",
        (Some(_), None) => "AND actor_id = ?3",
        (None, Some(_)) => "AND conversation_id = ?4",
        (Some(_), Some(_)) => "AND actor_id = ?3 AND conversation_id = ?4",
    };
    format!(
        "SELECT pos, org_id, at_ms, actor_kind, actor_id, action, target_kind, target_id, conversation_id, request_id
         FROM audit WHERE org_id = ?1 AND pos > ?2 {filter} ORDER BY pos LIMIT ?5"
    )
}

/// The org's audit rows after `q.after`; the optional filters pick one of the three indexes.
pub(crate) fn audit(conn: &Connection, org_id: &str, q: &AuditQuery) -> StoreResult<Vec<(u64, AuditRow)>> {
    let after = crate::write::to_i64(q.after, "audit cursor")?;
    let limit = crate::write::to_i64(q.limit as u64, "audit limit")?;
    let sql = audit_sql(q);
    conn.prepare_cached(&sql)
        .and_then(|mut stmt| {
            stmt.query_map(params![org_id, after, q.actor_id, q.conversation_id, limit], |row| {
                Ok((
                    get_u64(row, 0)?,
                    AuditRow {
                        org_id: row.get(1)?,
                        at_ms: row.get(2)?,
                        actor_kind: row.get(3)?,
                        actor_id: row.get(4)?,
                        action: row.get(5)?,
                        target_kind: row.get(6)?,
                        target_id: row.get(7)?,
                        conversation_id: row.get(8)?,
                        request_id: row.get(9)?,
                    },
                ))
            })?
            .collect()
        })
        .map_err(read_err("read the audit trail"))
}
