//! Operator endpoints for the bootstrap admin client: the manual clock and organizations.

use crate::AppState;
use crate::auth::{Caller, hash_secret_async, new_secret};
use crate::extract::{RawBody, json};
use crate::problem::ApiError;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::json;
use switchboard_engine::ConfigCommand;
use switchboard_wire as wire;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/admin/clock", post(advance_clock))
        .route("/v1/admin/orgs", post(create_org).get(list_orgs))
        .route("/v1/admin/bench/commit", post(ceiling_probe))
}

fn require_bootstrap(caller: &Caller) -> Result<(), ApiError> {
    if caller.bootstrap {
        Ok(())
    } else {
        Err(ApiError::new(StatusCode::FORBIDDEN, "bootstrap_admin_only", "only the bootstrap admin client may do this"))
    }
}

/// Moves the manual clock; answers after every due timer (and what it caused) has committed.
async fn advance_clock(
    State(app): State<AppState>,
    caller: Caller,
    RawBody(body): RawBody,
) -> Result<Response, ApiError> {
    require_bootstrap(&caller)?;
    let b: wire::ClockBody = json(&body)?;
    let now = app.engine.now();
    let out = app
        .engine
        .advance_clock(b.advance_ms, caller.attribution())
        .await
        .map_err(|e| ApiError::from_engine(e, &caller.actor, now))?;
    Ok(axum::Json(out).into_response())
}

/// Creates an organization with its own admin client; the secret is shown once.
async fn create_org(State(app): State<AppState>, caller: Caller, RawBody(body): RawBody) -> Result<Response, ApiError> {
    require_bootstrap(&caller)?;
    let b: wire::OrgBody = json(&body)?;
    if b.name.trim().is_empty() || b.name.len() > 200 {
        return Err(ApiError::invalid("/name", "must be 1 to 200 characters"));
    }
    let org_id = uuid::Uuid::now_v7().to_string();
    let now = app.engine.now();
    let map = |e| ApiError::from_engine(e, &caller.actor, now);
    // The new org's audit trail starts with the operator who created it.
    let by = switchboard_engine::Attribution { org_id: org_id.clone(), ..caller.attribution() };
    app.engine.configure_by(&by, ConfigCommand::CreateOrg { name: b.name.clone() }).await.map_err(map)?;
    let secret = new_secret();
    let client_id = uuid::Uuid::now_v7().to_string();
    let cmd = ConfigCommand::CreateClient {
        id: client_id.clone(),
        name: format!("{} admin", b.name),
        scopes: vec!["admin".into()],
        secret_hash: hash_secret_async(secret.clone()).await?,
        redirect_uris: vec![],
    };
    app.engine.configure_by(&by, cmd).await.map_err(map)?;
    Ok((
        StatusCode::CREATED,
        axum::Json(json!({"id": org_id, "name": b.name, "adminClient": {"clientId": client_id, "secret": secret}})),
    )
        .into_response())
}

/// Every organization (id, name): for the operator.
async fn list_orgs(State(app): State<AppState>, caller: Caller) -> Result<Response, ApiError> {
    require_bootstrap(&caller)?;
    let mut orgs: Vec<_> =
        app.engine.orgs().iter().map(|o| json!({"id": o.settings.id, "name": o.settings.name})).collect();
    orgs.sort_by(|a, b| a["id"].as_str().cmp(&b["id"].as_str()));
    Ok(super::config::listing(orgs))
}

/// The benchmark's store ceiling: one durable insert + update through the writer, no domain logic.
async fn ceiling_probe(State(app): State<AppState>, caller: Caller) -> Result<Response, ApiError> {
    require_bootstrap(&caller)?;
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let now = app.engine.now();
    app.engine.ceiling_probe(n).await.map_err(|e| ApiError::from_engine(e, &caller.actor, now))?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
