//! The audit trail: one row per accepted write (who, in which org, did what to what, when, in which
//! request). Rows are appended in the same commit as the write they describe.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditRow {
    pub org_id: String,
    pub at_ms: i64,
    /// `user` | `client` | `guest` | `system`
    pub actor_kind: String,
    pub actor_id: String,
    /// e.g. `conversation.setWrapup`, `queue.create`, `oauth.refresh`, `timer.wrapupTimeout`
    pub action: String,
    /// e.g. `conversation`, `queue`, `session`
    pub target_kind: String,
    pub target_id: String,
    pub conversation_id: Option<String>,
    /// The `X-Request-Id` of the HTTP request that caused the write (none for timers).
    pub request_id: Option<String>,
}

/// Filters of `Store::audit`; every set filter must match.
#[derive(Clone, Debug, Default)]
pub struct AuditQuery {
    pub actor_id: Option<String>,
    pub conversation_id: Option<String>,
    /// Only rows with a position greater than this (the paging cursor).
    pub after: u64,
    pub limit: usize,
}
