//! `GET /v1/audit`: the org's audit trail for admins (every accepted write: who, what, when, which request).

use crate::AppState;
use crate::auth::Caller;
use crate::extract::Q;
use crate::problem::ApiError;
use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use serde_json::json;
use switchboard_core::Scope;
use switchboard_engine::AuditQuery;

pub fn routes() -> Router<AppState> {
    Router::new().route("/v1/audit", get(list))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct AuditParams {
    actor: Option<String>,
    conversation_id: Option<String>,
    #[serde(default)]
    after: u64,
    limit: Option<usize>,
}

async fn list(State(app): State<AppState>, caller: Caller, Q(p): Q<AuditParams>) -> Result<Response, ApiError> {
    caller.require(&[Scope::Admin])?;
    if p.after > i64::MAX as u64 {
        return Err(ApiError::invalid("/after", "is not a position of this trail"));
    }
    let limit = p.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::invalid("/limit", "must be between 1 and 1000"));
    }
    let q = AuditQuery { actor_id: p.actor, conversation_id: p.conversation_id, after: p.after, limit };
    let (actor, now) = (caller.actor.clone(), app.engine.now());
    let rows = app.engine.audit(&caller.org_id, q).await.map_err(|e| ApiError::from_engine(e, &actor, now))?;
    let next_after = (rows.len() == limit).then(|| rows.last().map(|(pos, _)| *pos)).flatten();
    let entities: Vec<_> = rows
        .into_iter()
        .map(|(pos, r)| {
            json!({
                "position": pos,
                "at": switchboard_core::Timestamp(r.at_ms),
                "actor": {"kind": r.actor_kind, "id": r.actor_id},
                "action": r.action,
                "target": {"kind": r.target_kind, "id": r.target_id},
                "conversationId": r.conversation_id,
                "requestId": r.request_id,
            })
        })
        .collect();
    Ok(axum::Json(json!({"entities": entities, "nextAfter": next_after})).into_response())
}
