//! `/v1/wrapup-codes` and `/v1/queues`: routing configuration, each write one engine config command.

use crate::AppState;
use crate::auth::Caller;
use crate::extract::{RawBody, WriteMeta, json};
use crate::problem::ApiError;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};
use switchboard_core::Scope;
use switchboard_engine::{ConfigCommand, ConfigOutcome, ConfigRequest, OrgConfig, QueueSpec};
use switchboard_wire as wire;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/wrapup-codes", get(list_codes).post(create_code))
        .route("/v1/wrapup-codes/{id}", get(get_code).put(update_code).delete(delete_code))
        .route("/v1/queues", get(list_queues).post(create_queue))
        .route("/v1/queues/{id}", get(get_queue).put(update_queue).delete(delete_queue))
        .route("/v1/queues/{id}/members", get(get_members).put(set_members).patch(patch_members))
        .route("/v1/queues/{id}/wrapup-codes", get(get_queue_codes).put(set_queue_codes))
        .route("/v1/queues/{id}/context/validate", axum::routing::post(validate_context))
        .route("/v1/org", get(get_org).patch(patch_org))
}

/// Runs a config command for the caller and renders the outcome (201 on creation).
pub async fn run_config(
    app: &AppState,
    caller: &Caller,
    meta: &WriteMeta,
    body: &[u8],
    command: ConfigCommand,
    created: bool,
) -> Result<Response, ApiError> {
    let out = configure(app, caller, command, meta.expected_version(None)?, meta.idempotency(caller, body)).await?;
    Ok(render(app, out, created))
}

/// Runs one configuration command for the caller; the outcome is left to the handler to render.
pub async fn configure(
    app: &AppState,
    caller: &Caller,
    command: ConfigCommand,
    expected_version: Option<u64>,
    idempotency: Option<switchboard_engine::IdempotencyKey>,
) -> Result<ConfigOutcome, ApiError> {
    let req = ConfigRequest {
        org_id: caller.org_id.clone(),
        actor: caller.actor.clone(),
        command,
        expected_version,
        idempotency,
        request_id: caller.request_id.clone(),
    };
    let now = app.engine.now();
    app.engine.configure(req).await.map_err(|e| ApiError::from_engine(e, &caller.actor, now))
}

pub fn render(app: &AppState, out: ConfigOutcome, created: bool) -> Response {
    let (value, version) = match &out {
        ConfigOutcome::Code(c) => (json!(c), Some(c.version)),
        ConfigOutcome::Queue(q) => (json!(q), Some(q.version)),
        ConfigOutcome::User(u) => (super::users::user_value(app, u), Some(u.version)),
        ConfigOutcome::Client(c) => (json!(wire::ClientView::new(c, None)), Some(c.version)),
        ConfigOutcome::Org(o) => (json!(o), Some(o.version)),
        ConfigOutcome::Webhook(w) => (super::webhooks::view(w), Some(w.version)),
        ConfigOutcome::Deployment(d) => (super::deployments::view(d), Some(d.version)),
        ConfigOutcome::Deleted => return StatusCode::NO_CONTENT.into_response(),
    };
    let status = if created { StatusCode::CREATED } else { StatusCode::OK };
    let mut resp = (status, axum::Json(value)).into_response();
    if let Some(v) = version {
        resp.headers_mut().insert(header::ETAG, super::conversations::etag(v));
    }
    resp
}

pub fn org_of(app: &AppState, caller: &Caller) -> Result<std::sync::Arc<OrgConfig>, ApiError> {
    app.engine.org(&caller.org_id).ok_or_else(|| ApiError::not_found("organization", &caller.org_id))
}

/// A whole (unpaged) listing in the common envelope.
pub(crate) fn listing<T: serde::Serialize>(values: Vec<T>) -> Response {
    axum::Json(json!({"entities": values, "nextCursor": null})).into_response()
}

async fn list_codes(State(app): State<AppState>, caller: Caller) -> Result<Response, ApiError> {
    caller.require(&[Scope::RoutingRead])?;
    let org = org_of(&app, &caller)?;
    Ok(listing(org.codes.values().map(|c| json!(c)).collect()))
}

async fn get_code(State(app): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<Response, ApiError> {
    caller.require(&[Scope::RoutingRead])?;
    let org = org_of(&app, &caller)?;
    let c = org.codes.get(&id).ok_or_else(|| ApiError::not_found("wrap-up code", &id))?;
    Ok(render(&app, ConfigOutcome::Code(c.clone()), false))
}

async fn create_code(
    State(app): State<AppState>,
    caller: Caller,
    meta: WriteMeta,
    RawBody(body): RawBody,
) -> Result<Response, ApiError> {
    caller.require(&[Scope::RoutingAdmin])?;
    let b: wire::CodeBody = json(&body)?;
    run_config(
        &app,
        &caller,
        &meta,
        &body,
        ConfigCommand::CreateCode { name: b.name, description: b.description },
        true,
    )
    .await
}

async fn update_code(
    State(app): State<AppState>,
    caller: Caller,
    meta: WriteMeta,
    Path(id): Path<String>,
    RawBody(body): RawBody,
) -> Result<Response, ApiError> {
    caller.require(&[Scope::RoutingAdmin])?;
    let b: wire::CodeBody = json(&body)?;
    let cmd = ConfigCommand::UpdateCode { id, name: b.name, description: b.description };
    run_config(&app, &caller, &meta, &body, cmd, false).await
}

async fn delete_code(
    State(app): State<AppState>,
    caller: Caller,
    meta: WriteMeta,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    caller.require(&[Scope::RoutingAdmin])?;
    run_config(&app, &caller, &meta, b"", ConfigCommand::ArchiveCode { id }, false).await
}

async fn list_queues(State(app): State<AppState>, caller: Caller) -> Result<Response, ApiError> {
    caller.require(&[Scope::RoutingRead])?;
    let org = org_of(&app, &caller)?;
    Ok(listing(org.queues.values().map(|q| json!(q)).collect()))
}

async fn get_queue(State(app): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<Response, ApiError> {
    caller.require(&[Scope::RoutingRead])?;
    let org = org_of(&app, &caller)?;
    let q = org.queues.get(&id).ok_or_else(|| ApiError::not_found("queue", &id))?;
    Ok(render(&app, ConfigOutcome::Queue(q.clone()), false))
}

fn queue_spec(b: wire::QueueBody) -> QueueSpec {
    QueueSpec {
        name: b.name,
        acw: b.acw.unwrap_or_default(),
        alerting_timeout_ms: b.alerting_timeout_ms,
        auto_answer: b.auto_answer,
        inactivity_timeout_ms: b.inactivity_timeout_ms,
        service_level: b.service_level,
        context_schema: b.context_schema,
        media_settings: b.media_settings,
        wrapup_codes: b.wrapup_codes,
        members: b.members.map(|m| m.into_iter().map(wire::MemberEntry::member).collect()),
    }
}

async fn create_queue(
    State(app): State<AppState>,
    caller: Caller,
    meta: WriteMeta,
    RawBody(body): RawBody,
) -> Result<Response, ApiError> {
    caller.require(&[Scope::RoutingAdmin])?;
    let b: wire::QueueBody = json(&body)?;
    run_config(&app, &caller, &meta, &body, ConfigCommand::CreateQueue(queue_spec(b)), true).await
}

async fn update_queue(
    State(app): State<AppState>,
    caller: Caller,
    meta: WriteMeta,
    Path(id): Path<String>,
    RawBody(body): RawBody,
) -> Result<Response, ApiError> {
    caller.require(&[Scope::RoutingAdmin])?;
    let b: wire::QueueBody = json(&body)?;
    run_config(&app, &caller, &meta, &body, ConfigCommand::UpdateQueue { id, spec: queue_spec(b) }, false).await
}

async fn delete_queue(
    State(app): State<AppState>,
    caller: Caller,
    meta: WriteMeta,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    caller.require(&[Scope::RoutingAdmin])?;
    run_config(&app, &caller, &meta, b"", ConfigCommand::DeleteQueue { id }, false).await
}

async fn get_members(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    caller.require(&[Scope::RoutingRead])?;
    let org = org_of(&app, &caller)?;
    let q = org.queues.get(&id).ok_or_else(|| ApiError::not_found("queue", &id))?;
    Ok(listing(q.members.iter().map(|m| json!(m)).collect()))
}

async fn set_members(
    State(app): State<AppState>,
    caller: Caller,
    meta: WriteMeta,
    Path(id): Path<String>,
    RawBody(body): RawBody,
) -> Result<Response, ApiError> {
    caller.require(&[Scope::RoutingAdmin])?;
    let b: Vec<wire::MemberEntry> = json(&body)?;
    let members = b.into_iter().map(wire::MemberEntry::member).collect();
    run_config(&app, &caller, &meta, &body, ConfigCommand::SetMembers { queue_id: id, members }, false).await
}

async fn patch_members(
    State(app): State<AppState>,
    caller: Caller,
    meta: WriteMeta,
    Path(id): Path<String>,
    RawBody(body): RawBody,
) -> Result<Response, ApiError> {
    caller.require(&[Scope::RoutingAdmin])?;
    let b: Vec<wire::MemberPatch> = json(&body)?;
    let (remove, upsert): (Vec<_>, Vec<_>) = b.into_iter().partition(|m| m.remove);
    let cmd = ConfigCommand::PatchMembers {
        queue_id: id,
        upsert: upsert
            .into_iter()
            .map(|m| switchboard_core::config::QueueMember { user_id: m.user_id, joined: m.joined })
            .collect(),
        remove: remove.into_iter().map(|m| m.user_id).collect(),
    };
    run_config(&app, &caller, &meta, &body, cmd, false).await
}

async fn get_queue_codes(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    caller.require(&[Scope::RoutingRead])?;
    let org = org_of(&app, &caller)?;
    let q = org.queues.get(&id).ok_or_else(|| ApiError::not_found("queue", &id))?;
    Ok(listing(q.wrapup_codes.iter().filter_map(|c| org.codes.get(c)).map(|c| json!(c)).collect()))
}

async fn set_queue_codes(
    State(app): State<AppState>,
    caller: Caller,
    meta: WriteMeta,
    Path(id): Path<String>,
    RawBody(body): RawBody,
) -> Result<Response, ApiError> {
    caller.require(&[Scope::RoutingAdmin])?;
    let codes: Vec<String> = json(&body)?;
    run_config(&app, &caller, &meta, &body, ConfigCommand::SetQueueCodes { queue_id: id, codes }, false).await
}

/// A dry run of a context document against the queue's `contextSchema`: `{valid, violations}`.
async fn validate_context(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    RawBody(body): RawBody,
) -> Result<Response, ApiError> {
    caller.require_any(&[Scope::RoutingRead, Scope::ConversationsWrite, Scope::ConversationsParticipate])?;
    let org = org_of(&app, &caller)?;
    org.queues.get(&id).ok_or_else(|| ApiError::not_found("queue", &id))?;
    let doc: Value = json(&body)?;
    let violations = org.schemas.get(&id).map(|s| s.violations(&doc)).unwrap_or_default();
    Ok(axum::Json(
        json!({"valid": violations.is_empty(), "violations": violations, "hasSchema": org.schemas.contains_key(&id)}),
    )
    .into_response())
}

async fn get_org(State(app): State<AppState>, caller: Caller) -> Result<Response, ApiError> {
    caller.require(&[Scope::RoutingRead])?;
    Ok(render(&app, ConfigOutcome::Org(org_of(&app, &caller)?.settings.clone()), false))
}

/// Changes some of the org's settings (merge): `directAlertingTimeoutMs`, `directAcw`, `voiceBlocksOthers`,
/// `amendmentWindowMs`, `maxTransfers`, `maxContextBytes`.
async fn patch_org(
    State(app): State<AppState>,
    caller: Caller,
    meta: WriteMeta,
    RawBody(body): RawBody,
) -> Result<Response, ApiError> {
    caller.require(&[Scope::Admin])?;
    let patch: Value = json(&body)?;
    let Some(fields) = patch.as_object() else { return Err(ApiError::invalid("", "must be a JSON object")) };
    const EDITABLE: [&str; 6] = [
        "directAlertingTimeoutMs",
        "directAcw",
        "voiceBlocksOthers",
        "amendmentWindowMs",
        "maxTransfers",
        "maxContextBytes",
    ];
    if let Some(k) = fields.keys().find(|k| !EDITABLE.contains(&k.as_str())) {
        return Err(ApiError::invalid(
            &format!("/{k}"),
            &format!("not an editable setting; editable: {}", EDITABLE.join(", ")),
        ));
    }
    run_config(&app, &caller, &meta, &body, ConfigCommand::UpdateOrgSettings(patch), false).await
}
