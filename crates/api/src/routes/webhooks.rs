//! `/v1/webhooks`: CRUD (targets checked against private and metadata ranges), deliveries with their
//! status codes and response times, and redelivery.

use super::config::{org_of, run_config};
use crate::AppState;
use crate::auth::Caller;
use crate::extract::{Q, RawBody, WriteMeta, json};
use crate::problem::ApiError;
use axum::Router;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};
use switchboard_core::{Scope, Timestamp};
use switchboard_engine::webhooks::{Webhook, check_target};
use switchboard_engine::{ConfigCommand, DeliveryRow};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/webhooks", get(list).post(create))
        .route("/v1/webhooks/{id}", get(read).put(update).delete(remove))
        .route("/v1/webhooks/{id}/deliveries", get(deliveries))
        .route("/v1/webhooks/{id}/deliveries/{did}/redeliver", post(redeliver))
}

/// A webhook as shown: never its secret.
pub fn view(w: &Webhook) -> Value {
    json!({
        "id": w.id, "url": w.url, "eventTypes": w.event_types, "createdAt": w.created_at, "version": w.version,
        "secretRotating": w.previous_secret.is_some(), "previousSecretValidUntil": w.previous_secret_until,
    })
}

fn delivery_view(d: &DeliveryRow) -> Value {
    json!({
        "id": d.id, "eventId": d.event_id, "eventType": d.event_type, "seq": d.seq,
        "conversationId": (d.order_key != "org").then_some(&d.order_key),
        "status": d.status, "attempts": d.attempts, "lastStatusCode": d.last_status_code,
        "lastResponseMs": d.last_response_ms, "lastError": d.last_error,
        "createdAt": Timestamp(d.created_ms),
        "nextAttemptAt": (d.status == "pending").then_some(Timestamp(d.next_attempt_ms)),
        "deliveredAt": d.delivered_ms.map(Timestamp),
        // A dead-lettered delivery is a gap in this receiver's stream: later events went on without it.
        "gap": d.status == "deadLettered",
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct WebhookBody {
    url: String,
    event_types: Vec<String>,
    secret: Option<String>,
}

async fn checked(app: &AppState, url: &str) -> Result<(), ApiError> {
    check_target(url, app.engine.allow_private_webhooks()).await.map(|_| ()).map_err(|e| ApiError::invalid("/url", &e))
}

async fn list(State(app): State<AppState>, caller: Caller) -> Result<Response, ApiError> {
    caller.require(&[Scope::WebhooksAdmin])?;
    let org = org_of(&app, &caller)?;
    let hooks: Vec<Value> = org.webhooks.values().map(view).collect();
    Ok(super::config::listing(hooks))
}

async fn read(State(app): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<Response, ApiError> {
    caller.require(&[Scope::WebhooksAdmin])?;
    let org = org_of(&app, &caller)?;
    let w = org.webhooks.get(&id).ok_or_else(|| ApiError::not_found("webhook", &id))?;
    Ok(axum::Json(view(w)).into_response())
}

async fn create(
    State(app): State<AppState>,
    caller: Caller,
    meta: WriteMeta,
    RawBody(body): RawBody,
) -> Result<Response, ApiError> {
    caller.require(&[Scope::WebhooksAdmin])?;
    let b: WebhookBody = json(&body)?;
    let secret = b.secret.ok_or_else(|| ApiError::invalid("/secret", "is required (16 to 256 characters)"))?;
    checked(&app, &b.url).await?;
    let cmd = ConfigCommand::CreateWebhook { url: b.url, event_types: b.event_types, secret };
    run_config(&app, &caller, &meta, &body, cmd, true).await
}

async fn update(
    State(app): State<AppState>,
    caller: Caller,
    meta: WriteMeta,
    Path(id): Path<String>,
    RawBody(body): RawBody,
) -> Result<Response, ApiError> {
    caller.require(&[Scope::WebhooksAdmin])?;
    let b: WebhookBody = json(&body)?;
    checked(&app, &b.url).await?;
    let cmd = ConfigCommand::UpdateWebhook { id, url: b.url, event_types: b.event_types, secret: b.secret };
    run_config(&app, &caller, &meta, &body, cmd, false).await
}

async fn remove(
    State(app): State<AppState>,
    caller: Caller,
    meta: WriteMeta,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    caller.require(&[Scope::WebhooksAdmin])?;
    run_config(&app, &caller, &meta, b"", ConfigCommand::DeleteWebhook { id }, false).await
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct DeliveriesQuery {
    after: Option<u64>,
    limit: Option<usize>,
}

async fn deliveries(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Q(q): Q<DeliveriesQuery>,
) -> Result<Response, ApiError> {
    caller.require(&[Scope::WebhooksAdmin])?;
    org_of(&app, &caller)?.webhooks.get(&id).ok_or_else(|| ApiError::not_found("webhook", &id))?;
    let limit = q.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::invalid("/limit", "must be between 1 and 1000"));
    }
    let now = app.engine.now();
    let rows = app
        .engine
        .deliveries(&caller.org_id, &id, q.after.unwrap_or(0), limit)
        .await
        .map_err(|e| ApiError::from_engine(e, &caller.actor, now))?;
    let next = (rows.len() == limit).then(|| rows.last().map(|d| d.seq.to_string())).flatten();
    let entities: Vec<Value> = rows.iter().map(delivery_view).collect();
    Ok(axum::Json(json!({"entities": entities, "nextCursor": next})).into_response())
}

async fn redeliver(
    State(app): State<AppState>,
    caller: Caller,
    Path((id, did)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    caller.require(&[Scope::WebhooksAdmin])?;
    org_of(&app, &caller)?.webhooks.get(&id).ok_or_else(|| ApiError::not_found("webhook", &id))?;
    let now = app.engine.now();
    let d = app
        .engine
        .redeliver(caller.attribution(), &did)
        .await
        .map_err(|e| ApiError::from_engine(e, &caller.actor, now))?;
    if d.webhook_id != id {
        return Err(ApiError::not_found("delivery", &did));
    }
    Ok(axum::Json(delivery_view(&d)).into_response())
}
