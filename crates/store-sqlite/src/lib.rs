//! `SqliteStore`: the SQLite `Store` backend. One writer connection serves `commit` (SQLite allows a
//! single writer anyway, so more would only contend on the file lock); a small pool of read-only
//! connections serves reads concurrently with it, which WAL mode makes non-blocking.

mod aggregate;
mod analytics;
#[cfg(test)]
mod analytics_plans;
mod read;
mod schema;
mod write;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, TryLockError};

use rusqlite::Connection;
use switchboard_store::{
    AggregateCell, AggregateQuery, AuditQuery, AuditRow, CommitBatch, ConversationFilter, ConversationPage,
    ConversationRow, DeliveryRow, DetailsPage, DetailsQuery, EntityRow, IdempotencyRow, Store, StoreError, StoreResult,
    StoredEvent, TimerRow,
};

pub use schema::{MIGRATIONS, MigrationReport, latest_version, migrate};

/// Reader connections per store: enough for the API's concurrent reads on a small machine; each holds
/// its own page cache, so more would mostly cost memory.
const READERS: usize = 4;

pub struct SqliteStore {
    path: PathBuf,
    writer: Mutex<Connection>,
    readers: Vec<Mutex<Connection>>,
    next_reader: AtomicUsize,
}

/// Maps a rusqlite error to a backend error that says what was being done.
pub(crate) fn backend(context: &'static str) -> impl Fn(rusqlite::Error) -> StoreError {
    move |e| StoreError::Backend(format!("{context}: {e}"))
}

/// Locks a connection. A panic while a connection was held cannot leave a transaction half-applied
/// (rusqlite rolls back when the `Transaction` is dropped during unwinding), so a poisoned lock is
/// safe to take over.
fn lock(conn: &Mutex<Connection>) -> MutexGuard<'_, Connection> {
    conn.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl SqliteStore {
    /// Opens the database at `path`, creating it if missing, and applies pending migrations.
    pub fn open(path: impl AsRef<Path>) -> StoreResult<SqliteStore> {
        let path = path.as_ref().to_path_buf();
        let mut writer = schema::open_writer(&path)?;
        let report = schema::run_migrations(&mut writer)?;
        tracing::debug!(path = %path.display(), version = report.to_version, "opened sqlite store");
        // Readers are opened after the migrations so that they never see a half-created schema.
        let readers =
            (0..READERS).map(|_| schema::open_reader(&path).map(Mutex::new)).collect::<StoreResult<Vec<_>>>()?;
        Ok(SqliteStore { path, writer: Mutex::new(writer), readers, next_reader: AtomicUsize::new(0) })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The schema version (`PRAGMA user_version`) of the open database.
    pub fn schema_version(&self) -> StoreResult<u32> {
        schema::user_version(&self.reader())
    }

    /// Size of the database file proper (page_count * page_size), excluding the WAL: for benchmarks.
    /// Returns 0 if SQLite cannot be asked, since this is a measurement, not a correctness matter.
    pub fn database_bytes(&self) -> u64 {
        let conn = self.reader();
        let size =
            conn.query_row("SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()", [], |row| {
                row.get::<_, i64>(0)
            });
        match size {
            Ok(bytes) => u64::try_from(bytes).unwrap_or(0),
            Err(e) => {
                tracing::warn!(error = %e, "could not read the database size");
                0
            }
        }
    }

    /// A reader connection: the next one round-robin, skipping ahead to any idle one so a slow read
    /// does not hold up the reads queued behind it.
    fn reader(&self) -> MutexGuard<'_, Connection> {
        let start = self.next_reader.fetch_add(1, Ordering::Relaxed);
        for offset in 0..self.readers.len() {
            match self.readers[(start + offset) % self.readers.len()].try_lock() {
                Ok(guard) => return guard,
                Err(TryLockError::Poisoned(poisoned)) => return poisoned.into_inner(),
                Err(TryLockError::WouldBlock) => {}
            }
        }
        lock(&self.readers[start % self.readers.len()])
    }
}

impl Store for SqliteStore {
    fn commit(&self, batch: &CommitBatch) -> StoreResult<()> {
        if batch.is_empty() {
            // Nothing to make durable: skip the transaction and its fsync.
            return Ok(());
        }
        write::commit(&mut lock(&self.writer), batch)
    }

    fn last_seq(&self) -> StoreResult<u64> {
        read::last_seq(&self.reader())
    }

    fn get_meta(&self, key: &str) -> StoreResult<Option<String>> {
        read::get_meta(&self.reader(), key)
    }

    fn load_entities(&self) -> StoreResult<Vec<EntityRow>> {
        read::load_entities(&self.reader())
    }

    fn load_open_conversations(&self) -> StoreResult<Vec<ConversationRow>> {
        read::load_open_conversations(&self.reader())
    }

    fn load_timers(&self) -> StoreResult<Vec<TimerRow>> {
        read::load_timers(&self.reader())
    }

    fn conversation(&self, org_id: &str, id: &str) -> StoreResult<Option<ConversationRow>> {
        read::conversation(&self.reader(), org_id, id)
    }

    fn list_conversations(&self, org_id: &str, filter: &ConversationFilter) -> StoreResult<ConversationPage> {
        read::list_conversations(&self.reader(), org_id, filter)
    }

    fn conversation_events(
        &self,
        org_id: &str,
        conversation_id: &str,
        after: u64,
        event_type: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<StoredEvent>> {
        read::conversation_events(&self.reader(), org_id, conversation_id, after, event_type, limit)
    }

    fn events_after(&self, org_id: &str, after: u64, limit: usize) -> StoreResult<Vec<StoredEvent>> {
        read::events_after(&self.reader(), org_id, after, limit)
    }

    fn idempotency(&self, org_id: &str, key: &str) -> StoreResult<Option<IdempotencyRow>> {
        read::idempotency(&self.reader(), org_id, key)
    }

    fn audit(&self, org_id: &str, query: &AuditQuery) -> StoreResult<Vec<(u64, AuditRow)>> {
        read::audit(&self.reader(), org_id, query)
    }

    fn counts(&self) -> StoreResult<(u64, u64)> {
        read::counts(&self.reader())
    }

    fn pending_deliveries(&self) -> StoreResult<Vec<DeliveryRow>> {
        read::pending_deliveries(&self.reader())
    }

    fn deliveries(&self, org_id: &str, webhook_id: &str, after: u64, limit: usize) -> StoreResult<Vec<DeliveryRow>> {
        read::deliveries(&self.reader(), org_id, webhook_id, after, limit)
    }

    fn delivery(&self, org_id: &str, id: &str) -> StoreResult<Option<DeliveryRow>> {
        read::delivery(&self.reader(), org_id, id)
    }

    fn analytics_details(&self, org_id: &str, query: &DetailsQuery) -> StoreResult<DetailsPage> {
        analytics::details(&self.reader(), org_id, query)
    }

    fn analytics_aggregate(&self, org_id: &str, query: &AggregateQuery) -> StoreResult<Vec<AggregateCell>> {
        aggregate::aggregate(&self.reader(), org_id, query)
    }
}
