//! The embedded schema migrations, connection pragmas, and the migration runner (`switchboard migrate`).

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, TransactionBehavior};
use switchboard_store::{StoreError, StoreResult};

use crate::backend;

/// Schema migrations, applied in order; migration `i` moves the database to `user_version = i + 1`.
/// Append-only: a released migration is never edited, a change is a new entry.
pub const MIGRATIONS: &[&str] = &[
    // 1: initial schema.
    r#"
    -- seq is assigned by the engine and is the rowid: reads by seq range are rowid range scans.
    CREATE TABLE events (
        seq             INTEGER PRIMARY KEY,
        id              TEXT NOT NULL,
        org_id          TEXT NOT NULL,
        conversation_id TEXT,
        event_type      TEXT NOT NULL,
        at_ms           INTEGER NOT NULL,
        body            TEXT NOT NULL
    );
    CREATE INDEX events_org_seq ON events (org_id, seq);
    CREATE INDEX events_conversation_seq ON events (conversation_id, seq) WHERE conversation_id IS NOT NULL;

    -- pos is the creation position (the listing order and paging cursor). A plain rowid alias is
    -- enough: rows are never deleted, so max(pos)+1 never reuses a position and AUTOINCREMENT's
    -- extra bookkeeping table would buy nothing. refs (a JSON array) is the conversation's full ref
    -- set for reading back; conversation_refs is the same set as a listing index.
    CREATE TABLE conversations (
        pos           INTEGER PRIMARY KEY,
        id            TEXT NOT NULL UNIQUE,
        org_id        TEXT NOT NULL,
        state         TEXT NOT NULL,
        version       INTEGER NOT NULL,
        media_type    TEXT NOT NULL,
        started_at_ms INTEGER NOT NULL,
        doc           TEXT NOT NULL,
        refs          TEXT NOT NULL DEFAULT '[]'
    );
    CREATE INDEX conversations_org_pos ON conversations (org_id, pos);
    -- Startup loads the open set; closed conversations dominate over time, so index only the rest.
    CREATE INDEX conversations_open ON conversations (pos) WHERE state != 'closed';

    CREATE TABLE conversation_refs (
        org_id TEXT NOT NULL,
        ref    TEXT NOT NULL,
        pos    INTEGER NOT NULL,
        PRIMARY KEY (org_id, ref, pos)
    ) WITHOUT ROWID;

    CREATE TABLE timers (
        conversation_id TEXT NOT NULL,
        key             TEXT NOT NULL,
        org_id          TEXT NOT NULL,
        due_at_ms       INTEGER NOT NULL,
        ord             INTEGER NOT NULL,
        body            TEXT NOT NULL,
        PRIMARY KEY (conversation_id, key)
    );

    CREATE TABLE entities (
        org_id  TEXT NOT NULL,
        kind    TEXT NOT NULL,
        id      TEXT NOT NULL,
        version INTEGER NOT NULL,
        doc     TEXT NOT NULL,
        PRIMARY KEY (org_id, kind, id)
    );

    CREATE TABLE idempotency (
        org_id        TEXT NOT NULL,
        key           TEXT NOT NULL,
        request_hash  TEXT NOT NULL,
        response      TEXT NOT NULL,
        expires_at_ms INTEGER NOT NULL,
        PRIMARY KEY (org_id, key)
    );

    CREATE TABLE meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    "#,
    // 2: webhook deliveries (the outbox), written in the same transaction as their events.
    r#"
    CREATE TABLE deliveries (
        id               TEXT PRIMARY KEY,
        org_id           TEXT NOT NULL,
        webhook_id       TEXT NOT NULL,
        order_key        TEXT NOT NULL,
        seq              INTEGER NOT NULL,
        event_id         TEXT NOT NULL,
        event_type       TEXT NOT NULL,
        body             TEXT NOT NULL,
        status           TEXT NOT NULL,
        attempts         INTEGER NOT NULL,
        created_ms       INTEGER NOT NULL,
        next_attempt_ms  INTEGER NOT NULL,
        last_status_code INTEGER,
        last_response_ms INTEGER,
        last_error       TEXT,
        delivered_ms     INTEGER
    );
    CREATE INDEX deliveries_webhook_seq ON deliveries (org_id, webhook_id, seq);
    CREATE INDEX deliveries_pending ON deliveries (seq) WHERE status = 'pending';
    "#,
    // 3: analytics, per conversation replaced whole in the same transaction as the command that changed it.
    r#"
    -- The details document and what the details query filters on. doc is last so that reading the
    -- filter columns never touches its overflow pages.
    CREATE TABLE analytics_conversations (
        org_id          TEXT NOT NULL,
        conversation_id TEXT PRIMARY KEY,
        started_ms      INTEGER NOT NULL,
        media_type      TEXT NOT NULL,
        state           TEXT NOT NULL,
        doc             TEXT NOT NULL
    );
    -- Details pages: an org's interval in (started_ms, conversation_id) order, either direction. media_type
    -- and state ride along so that those filters, and the total count, never read the table.
    CREATE INDEX analytics_conversations_org_started
        ON analytics_conversations (org_id, started_ms, conversation_id, media_type, state);

    -- Filter keys (queue:<id>, user:<id>, code:<id>): probed per candidate conversation and key group.
    CREATE TABLE analytics_keys (
        org_id          TEXT NOT NULL,
        key             TEXT NOT NULL,
        conversation_id TEXT NOT NULL,
        PRIMARY KEY (org_id, key, conversation_id)
    ) WITHOUT ROWID;
    -- Replacing a conversation's keys deletes them by conversation; the details query's EXISTS probes
    -- use it too (its entries carry the whole key, so a probe is one lookup).
    CREATE INDEX analytics_keys_conversation ON analytics_keys (conversation_id);

    -- Metric facts. Aggregates read an org's at_ms range with every column, so the table is clustered on
    -- (org_id, at_ms): the range is one sequential read of the rows themselves, with no per-fact lookup
    -- from a separate index (at a million conversations that lookup was most of a one-day aggregate's
    -- time). ord, the fact's position in its conversation's list, keeps the key unique.
    CREATE TABLE analytics_metrics (
        org_id          TEXT NOT NULL,
        at_ms           INTEGER NOT NULL,
        conversation_id TEXT NOT NULL,
        ord             INTEGER NOT NULL,
        participant_id  TEXT NOT NULL,
        name            TEXT NOT NULL,
        value           INTEGER NOT NULL,
        queue_id        TEXT,
        user_id         TEXT,
        wrapup_code_id  TEXT,
        media_type      TEXT NOT NULL,
        PRIMARY KEY (org_id, at_ms, conversation_id, ord)
    ) WITHOUT ROWID;
    -- Replacing a conversation's facts deletes them by conversation.
    CREATE INDEX analytics_metrics_conversation ON analytics_metrics (conversation_id);
    "#,
    // 4: the audit trail, append-only; read per org by position, by actor or by conversation.
    r#"
    CREATE TABLE audit (
        pos             INTEGER PRIMARY KEY AUTOINCREMENT,
        org_id          TEXT NOT NULL,
        at_ms           INTEGER NOT NULL,
        actor_kind      TEXT NOT NULL,
        actor_id        TEXT NOT NULL,
        action          TEXT NOT NULL,
        target_kind     TEXT NOT NULL,
        target_id       TEXT NOT NULL,
        conversation_id TEXT,
        request_id      TEXT
    );
    CREATE INDEX audit_org ON audit (org_id, pos);
    CREATE INDEX audit_actor ON audit (org_id, actor_id, pos);
    CREATE INDEX audit_conversation ON audit (org_id, conversation_id, pos) WHERE conversation_id IS NOT NULL;
    "#,
];

/// The schema version this build writes.
pub fn latest_version() -> u32 {
    MIGRATIONS.len() as u32
}

/// What `migrate` did: the schema version found and the one left behind (equal when nothing was pending).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MigrationReport {
    pub from_version: u32,
    pub to_version: u32,
}

/// Opens (creating if needed) the database at `path` and applies pending migrations.
pub fn migrate(path: impl AsRef<Path>) -> StoreResult<MigrationReport> {
    let mut conn = open_writer(path.as_ref())?;
    run_migrations(&mut conn)
}

/// Per-connection settings shared by the writer and the readers.
fn common_pragmas(conn: &Connection, cache_kib: i64) -> StoreResult<()> {
    // Set first so that the journal-mode switch below waits for other processes instead of failing.
    conn.busy_timeout(Duration::from_millis(5_000)).map_err(backend("set busy_timeout"))?;
    // WAL: readers never block the writer nor each other. The mode is persistent in the file; asking
    // again on each connection is a cheap no-op and checks nothing forced it back.
    let mode: String = conn
        .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))
        .map_err(backend("set journal_mode=WAL"))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::Backend(format!("set journal_mode=WAL: database stayed in {mode} mode")));
    }
    // No foreign keys in the schema; keep enforcement off so no hidden lookups run per write.
    conn.pragma_update(None, "foreign_keys", false).map_err(backend("set foreign_keys"))?;
    // Negative cache_size is in KiB.
    conn.pragma_update(None, "cache_size", -cache_kib).map_err(backend("set cache_size"))?;
    conn.pragma_update(None, "temp_store", "MEMORY").map_err(backend("set temp_store"))?;
    // Listing builds one statement shape per filter combination; keep them all cached.
    conn.set_prepared_statement_cache_capacity(64);
    Ok(())
}

pub(crate) fn open_writer(path: &Path) -> StoreResult<Connection> {
    let conn =
        Connection::open(path).map_err(|e| StoreError::Backend(format!("open {} for writing: {e}", path.display())))?;
    common_pragmas(&conn, 32 * 1024)?;
    // FULL: a commit is on disk when `commit` returns. The engine groups many commands per commit,
    // so the extra fsync is paid once per group, not per command.
    conn.pragma_update(None, "synchronous", "FULL").map_err(backend("set synchronous=FULL"))?;
    Ok(conn)
}

pub(crate) fn open_reader(path: &Path) -> StoreResult<Connection> {
    // Opened read-write rather than SQLITE_OPEN_READ_ONLY: a read-only WAL connection cannot recover
    // or recreate the -shm file, which makes it fail in cases a normal one handles. `query_only` is
    // what guarantees a reader never writes.
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI;
    let conn = Connection::open_with_flags(path, flags)
        .map_err(|e| StoreError::Backend(format!("open {} for reading: {e}", path.display())))?;
    common_pragmas(&conn, 16 * 1024)?;
    conn.pragma_update(None, "query_only", true).map_err(backend("set query_only"))?;
    Ok(conn)
}

pub(crate) fn user_version(conn: &Connection) -> StoreResult<u32> {
    let version: i64 =
        conn.pragma_query_value(None, "user_version", |row| row.get(0)).map_err(backend("read user_version"))?;
    u32::try_from(version).map_err(|_| StoreError::Corrupt(format!("negative schema version {version}")))
}

/// Applies every pending migration, each in its own transaction together with its version bump, so a
/// crash mid-way leaves the database at a clean earlier version.
pub(crate) fn run_migrations(conn: &mut Connection) -> StoreResult<MigrationReport> {
    let from_version = user_version(conn)?;
    let latest = latest_version();
    if from_version > latest {
        return Err(StoreError::Backend(format!(
            "database schema version {from_version} is newer than this build supports ({latest}); \
             upgrade switchboard"
        )));
    }
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(from_version as usize) {
        let target = index as u32 + 1;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(backend("begin migration"))?;
        // Re-read under the write lock: another process may have migrated while we waited for it.
        if user_version(&tx)? >= target {
            continue;
        }
        tx.execute_batch(sql).map_err(|e| StoreError::Backend(format!("apply migration {target}: {e}")))?;
        tx.pragma_update(None, "user_version", target)
            .map_err(|e| StoreError::Backend(format!("record schema version {target}: {e}")))?;
        tx.commit().map_err(|e| StoreError::Backend(format!("commit migration {target}: {e}")))?;
        tracing::info!(version = target, "applied schema migration");
    }
    Ok(MigrationReport { from_version, to_version: user_version(conn)? })
}
