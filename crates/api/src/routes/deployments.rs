//! `/v1/messaging-deployments`: the customer widget's entry points (queue, key requirement, allowed origins).

use super::config::{org_of, run_config};
use crate::AppState;
use crate::auth::{Caller, new_secret};
use crate::extract::{RawBody, WriteMeta, json};
use crate::problem::ApiError;
use axum::Router;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use serde_json::{Value, json};
use switchboard_core::Scope;
use switchboard_engine::ConfigCommand;
use switchboard_engine::deployments::MessagingDeployment;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/messaging-deployments", get(list).post(create))
        .route("/v1/messaging-deployments/{id}", get(read).put(update).delete(remove))
}

pub fn view(d: &MessagingDeployment) -> Value {
    json!(d)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct DeploymentBody {
    name: String,
    queue_id: String,
    #[serde(default)]
    require_key: bool,
    #[serde(default)]
    allowed_origins: Vec<String>,
}

async fn list(State(app): State<AppState>, caller: Caller) -> Result<Response, ApiError> {
    caller.require(&[Scope::RoutingRead])?;
    let org = org_of(&app, &caller)?;
    let all: Vec<Value> = org.deployments.values().map(view).collect();
    Ok(super::config::listing(all))
}

async fn read(State(app): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<Response, ApiError> {
    caller.require(&[Scope::RoutingRead])?;
    let org = org_of(&app, &caller)?;
    let d = org.deployments.get(&id).ok_or_else(|| ApiError::not_found("messaging deployment", &id))?;
    Ok(axum::Json(view(d)).into_response())
}

async fn create(
    State(app): State<AppState>,
    caller: Caller,
    meta: WriteMeta,
    RawBody(body): RawBody,
) -> Result<Response, ApiError> {
    caller.require(&[Scope::RoutingAdmin])?;
    let b: DeploymentBody = json(&body)?;
    let cmd = ConfigCommand::CreateDeployment {
        name: b.name,
        queue_id: b.queue_id,
        require_key: b.require_key,
        allowed_origins: b.allowed_origins,
        key: new_secret()[..32].to_string(),
    };
    run_config(&app, &caller, &meta, &body, cmd, true).await
}

async fn update(
    State(app): State<AppState>,
    caller: Caller,
    meta: WriteMeta,
    Path(id): Path<String>,
    RawBody(body): RawBody,
) -> Result<Response, ApiError> {
    caller.require(&[Scope::RoutingAdmin])?;
    let b: DeploymentBody = json(&body)?;
    let cmd = ConfigCommand::UpdateDeployment {
        id,
        name: b.name,
        queue_id: b.queue_id,
        require_key: b.require_key,
        allowed_origins: b.allowed_origins,
    };
    run_config(&app, &caller, &meta, &body, cmd, false).await
}

async fn remove(
    State(app): State<AppState>,
    caller: Caller,
    meta: WriteMeta,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    caller.require(&[Scope::RoutingAdmin])?;
    run_config(&app, &caller, &meta, b"", ConfigCommand::DeleteDeployment { id }, false).await
}
