//! `commit`: writes one `CommitBatch` in a single immediate transaction on the writer connection.

use std::collections::BTreeSet;

use rusqlite::{Connection, Transaction, TransactionBehavior, params};
use switchboard_store::{CommitBatch, ConversationRow, StoreError, StoreResult};

use crate::backend;

/// Converts an unsigned engine value to SQLite's signed integer, refusing rather than wrapping.
pub(crate) fn to_i64(value: u64, what: &str) -> StoreResult<i64> {
    i64::try_from(value).map_err(|_| StoreError::Backend(format!("{what} {value} does not fit a SQLite integer")))
}

/// Writes the batch atomically. Any error returns before `COMMIT`, and dropping the transaction rolls
/// it back, so a failed batch leaves nothing behind. Parts are applied in field order (upserts before
/// deletes), matching the reference backend.
pub(crate) fn commit(conn: &mut Connection, batch: &CommitBatch) -> StoreResult<()> {
    // IMMEDIATE takes the write lock up front: a deferred transaction could fail half-way with
    // SQLITE_BUSY on its first write if another process (e.g. `switchboard migrate`) holds the lock,
    // where IMMEDIATE waits through busy_timeout before doing anything.
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(backend("begin commit"))?;
    write_events(&tx, batch)?;
    for row in &batch.conversations {
        upsert_conversation(&tx, row)?;
    }
    write_timers(&tx, batch)?;
    write_entities(&tx, batch)?;
    write_idempotency_and_meta(&tx, batch)?;
    write_deliveries(&tx, batch)?;
    crate::analytics::write(&tx, &batch.analytics)?;
    write_audit(&tx, batch)?;
    tx.commit().map_err(backend("commit"))
}

fn write_events(tx: &Transaction<'_>, batch: &CommitBatch) -> StoreResult<()> {
    if batch.events.is_empty() {
        return Ok(());
    }
    let mut insert = tx
        .prepare_cached(
            "INSERT INTO events (seq, id, org_id, conversation_id, event_type, at_ms, body)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )
        .map_err(backend("prepare event insert"))?;
    for e in &batch.events {
        let seq = to_i64(e.seq, "event seq")?;
        insert
            .execute(params![seq, e.id, e.org_id, e.conversation_id, e.event_type, e.at_ms, e.body])
            .map_err(|err| StoreError::Backend(format!("insert event seq {} (id {}): {err}", e.seq, e.id)))?;
    }
    Ok(())
}

/// Canonical stored form of a ref set: a JSON array, sorted and without duplicates.
fn refs_json(refs: &BTreeSet<&str>) -> String {
    serde_json::to_string(refs).expect("a set of strings always serializes")
}

fn upsert_conversation(tx: &Transaction<'_>, row: &ConversationRow) -> StoreResult<()> {
    let fail = |what: &str, err: rusqlite::Error| StoreError::Backend(format!("{what} conversation {}: {err}", row.id));
    let new_refs: BTreeSet<&str> = row.refs.iter().map(String::as_str).collect();
    let version = to_i64(row.version, "conversation version")?;
    if new_refs.is_empty() {
        // The common case (the engine sends only new refs): a plain upsert, no RETURNING, no refs work.
        let mut upsert = tx
            .prepare_cached(
                "INSERT INTO conversations (id, org_id, state, version, media_type, started_at_ms, doc, refs)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, '[]')
                 ON CONFLICT (id) DO UPDATE SET
                     state = excluded.state,
                     version = excluded.version,
                     media_type = excluded.media_type,
                     started_at_ms = excluded.started_at_ms,
                     doc = excluded.doc",
            )
            .map_err(|e| fail("prepare upsert of", e))?;
        upsert
            .execute(params![row.id, row.org_id, row.state, version, row.media_type, row.started_at_ms, row.doc])
            .map_err(|e| fail("upsert", e))?;
        return Ok(());
    }
    // One statement for both cases. On conflict the position, the owning org and the stored refs are
    // kept; RETURNING hands back the stored refs (or, for a fresh row, the ones just inserted) so they
    // can be merged without a separate lookup.
    let mut upsert = tx
        .prepare_cached(
            "INSERT INTO conversations (id, org_id, state, version, media_type, started_at_ms, doc, refs)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
             ON CONFLICT (id) DO UPDATE SET
                 state = excluded.state,
                 version = excluded.version,
                 media_type = excluded.media_type,
                 started_at_ms = excluded.started_at_ms,
                 doc = excluded.doc
             RETURNING pos, org_id, refs",
        )
        .map_err(|e| fail("prepare upsert of", e))?;
    let (pos, org_id, stored_refs): (i64, String, String) = upsert
        .query_row(
            params![
                row.id,
                row.org_id,
                row.state,
                version,
                row.media_type,
                row.started_at_ms,
                row.doc,
                refs_json(&new_refs)
            ],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .map_err(|e| fail("upsert", e))?;

    let stored: Vec<String> = serde_json::from_str(&stored_refs)
        .map_err(|e| StoreError::Corrupt(format!("refs of conversation {}: {e}", row.id)))?;
    let mut merged: BTreeSet<&str> = stored.iter().map(String::as_str).collect();
    let before = merged.len();
    merged.extend(new_refs.iter().copied());
    if merged.len() != before {
        tx.prepare_cached("UPDATE conversations SET refs = ?2 WHERE pos = ?1")
            .and_then(|mut update| update.execute(params![pos, refs_json(&merged)]))
            .map_err(|e| fail("update refs of", e))?;
    }
    // Every given ref goes into the listing index, not just the new ones: a fresh row's refs come back
    // from RETURNING as already "stored", and OR IGNORE makes the known ones a cheap key lookup.
    let mut index = tx
        .prepare_cached("INSERT OR IGNORE INTO conversation_refs (org_id, ref, pos) VALUES (?1, ?2, ?3)")
        .map_err(|e| fail("prepare ref index of", e))?;
    for r in &new_refs {
        index.execute(params![org_id, r, pos]).map_err(|e| fail("index refs of", e))?;
    }
    Ok(())
}

fn write_timers(tx: &Transaction<'_>, batch: &CommitBatch) -> StoreResult<()> {
    if !batch.timers_upsert.is_empty() {
        let mut upsert = tx
            .prepare_cached(
                "INSERT INTO timers (conversation_id, key, org_id, due_at_ms, ord, body)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (conversation_id, key) DO UPDATE SET
                     org_id = excluded.org_id,
                     due_at_ms = excluded.due_at_ms,
                     ord = excluded.ord,
                     body = excluded.body",
            )
            .map_err(backend("prepare timer upsert"))?;
        for t in &batch.timers_upsert {
            let ord = to_i64(t.ord, "timer ord")?;
            upsert.execute(params![t.conversation_id, t.key, t.org_id, t.due_at_ms, ord, t.body]).map_err(|e| {
                StoreError::Backend(format!("upsert timer {} of conversation {}: {e}", t.key, t.conversation_id))
            })?;
        }
    }
    if !batch.timers_delete.is_empty() {
        let mut delete = tx
            .prepare_cached("DELETE FROM timers WHERE conversation_id = ?1 AND key = ?2")
            .map_err(backend("prepare timer delete"))?;
        for (conversation_id, key) in &batch.timers_delete {
            delete.execute(params![conversation_id, key]).map_err(|e| {
                StoreError::Backend(format!("delete timer {key} of conversation {conversation_id}: {e}"))
            })?;
        }
    }
    Ok(())
}

fn write_entities(tx: &Transaction<'_>, batch: &CommitBatch) -> StoreResult<()> {
    if !batch.entities_upsert.is_empty() {
        let mut upsert = tx
            .prepare_cached(
                "INSERT INTO entities (org_id, kind, id, version, doc) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (org_id, kind, id) DO UPDATE SET version = excluded.version, doc = excluded.doc",
            )
            .map_err(backend("prepare entity upsert"))?;
        for e in &batch.entities_upsert {
            let version = to_i64(e.version, "entity version")?;
            upsert
                .execute(params![e.org_id, e.kind, e.id, version, e.doc])
                .map_err(|err| StoreError::Backend(format!("upsert {} {} of org {}: {err}", e.kind, e.id, e.org_id)))?;
        }
    }
    if !batch.entities_delete.is_empty() {
        let mut delete = tx
            .prepare_cached("DELETE FROM entities WHERE org_id = ?1 AND kind = ?2 AND id = ?3")
            .map_err(backend("prepare entity delete"))?;
        for (org_id, kind, id) in &batch.entities_delete {
            delete
                .execute(params![org_id, kind, id])
                .map_err(|e| StoreError::Backend(format!("delete {kind} {id} of org {org_id}: {e}")))?;
        }
    }
    Ok(())
}

fn write_idempotency_and_meta(tx: &Transaction<'_>, batch: &CommitBatch) -> StoreResult<()> {
    if !batch.idempotency.is_empty() {
        let mut upsert = tx
            .prepare_cached(
                "INSERT INTO idempotency (org_id, key, request_hash, response, expires_at_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (org_id, key) DO UPDATE SET
                     request_hash = excluded.request_hash,
                     response = excluded.response,
                     expires_at_ms = excluded.expires_at_ms",
            )
            .map_err(backend("prepare idempotency upsert"))?;
        for r in &batch.idempotency {
            upsert
                .execute(params![r.org_id, r.key, r.request_hash, r.response, r.expires_at_ms])
                .map_err(|e| StoreError::Backend(format!("upsert idempotency key of org {}: {e}", r.org_id)))?;
        }
    }
    if !batch.meta.is_empty() {
        let mut upsert = tx
            .prepare_cached(
                "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            )
            .map_err(backend("prepare meta upsert"))?;
        for (key, value) in &batch.meta {
            upsert.execute(params![key, value]).map_err(|e| StoreError::Backend(format!("upsert meta {key}: {e}")))?;
        }
    }
    Ok(())
}

fn write_deliveries(tx: &Transaction<'_>, batch: &CommitBatch) -> StoreResult<()> {
    if batch.deliveries.is_empty() {
        return Ok(());
    }
    let mut upsert = tx
        .prepare_cached(
            "INSERT OR REPLACE INTO deliveries (id, org_id, webhook_id, order_key, seq, event_id, event_type, body,
                 status, attempts, created_ms, next_attempt_ms, last_status_code, last_response_ms, last_error,
                 delivered_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
        )
        .map_err(backend("prepare delivery upsert"))?;
    for d in &batch.deliveries {
        let seq = to_i64(d.seq, "delivery seq")?;
        upsert
            .execute(params![
                d.id,
                d.org_id,
                d.webhook_id,
                d.order_key,
                seq,
                d.event_id,
                d.event_type,
                d.body,
                d.status,
                d.attempts,
                d.created_ms,
                d.next_attempt_ms,
                d.last_status_code,
                d.last_response_ms,
                d.last_error,
                d.delivered_ms
            ])
            .map_err(|e| StoreError::Backend(format!("upsert delivery {}: {e}", d.id)))?;
    }
    Ok(())
}

fn write_audit(tx: &Transaction<'_>, batch: &CommitBatch) -> StoreResult<()> {
    if batch.audit.is_empty() {
        return Ok(());
    }
    let mut insert = tx
        .prepare_cached(
            "INSERT INTO audit (org_id, at_ms, actor_kind, actor_id, action, target_kind, target_id,
                                conversation_id, request_id)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        )
        .map_err(backend("prepare audit insert"))?;
    for a in &batch.audit {
        insert
            .execute(params![
                a.org_id,
                a.at_ms,
                a.actor_kind,
                a.actor_id,
                a.action,
                a.target_kind,
                a.target_id,
                a.conversation_id,
                a.request_id
            ])
            .map_err(backend("insert audit row"))?;
    }
    Ok(())
}
