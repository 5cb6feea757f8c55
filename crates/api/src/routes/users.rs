//! `/v1/users`, `/v1/clients` and `me`: people, their routing status, and service clients.

use super::config::{configure, org_of, render, run_config};
use crate::AppState;
use crate::auth::{Caller, hash_secret_async, new_secret};
use crate::extract::{RawBody, WriteMeta, json};
use crate::problem::ApiError;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use serde_json::{Value, json};
use switchboard_core::config::Role;
use switchboard_core::{ActorKind, Scope};
use switchboard_engine::{ConfigCommand, ConfigOutcome, RoutingStatusRequest, UserSpec};
use switchboard_wire as wire;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/users", get(list_users).post(create_user))
        .route("/v1/users/me", get(me))
        .route("/v1/users/{id}", get(get_user).put(update_user))
        .route("/v1/users/{id}/routing-status", put(set_routing_status).get(get_routing_status))
        .route("/v1/users/{id}/sessions", axum::routing::delete(revoke_sessions))
        .route("/v1/clients", get(list_clients).post(create_client))
        .route("/v1/clients/me", get(client_me))
        .route("/v1/clients/{id}", get(get_client).delete(delete_client))
        .route("/v1/clients/{id}/secret", axum::routing::post(rotate_client_secret))
}

pub(crate) fn user_value(app: &AppState, u: &switchboard_core::config::User) -> Value {
    json!(wire::UserView::new(u, app.engine.load_of(&u.id)))
}

async fn list_users(State(app): State<AppState>, caller: Caller) -> Result<Response, ApiError> {
    caller.require(&[Scope::RoutingRead])?;
    let org = org_of(&app, &caller)?;
    let users: Vec<Value> = org.users.values().map(|u| user_value(&app, u)).collect();
    Ok(super::config::listing(users))
}

async fn get_user(State(app): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<Response, ApiError> {
    if !caller.is_user(&id) {
        caller.require(&[Scope::RoutingRead])?;
    }
    let org = org_of(&app, &caller)?;
    let u = org.users.get(&id).ok_or_else(|| ApiError::not_found("user", &id))?;
    Ok(render(&app, ConfigOutcome::User(u.clone()), false))
}

async fn me(State(app): State<AppState>, caller: Caller) -> Result<Response, ApiError> {
    if caller.actor.kind != ActorKind::User {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "not_a_user",
            "this token belongs to a client: use /v1/clients/me",
        ));
    }
    let org = org_of(&app, &caller)?;
    let u = org.users.get(&caller.actor.id).ok_or_else(|| ApiError::not_found("user", &caller.actor.id))?;
    let mut v = user_value(&app, u);
    v["scopes"] = json!(caller.actor.scopes.list());
    v["orgId"] = json!(caller.org_id);
    Ok(axum::Json(v).into_response())
}

/// Signs a user out everywhere: every refresh-token family ends, with its access tokens. Users may do it
/// for themselves; for others it takes `users:admin`.
async fn revoke_sessions(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    if !caller.is_user(&id) {
        caller.require(&[Scope::UsersAdmin])?;
    }
    org_of(&app, &caller)?.users.get(&id).ok_or_else(|| ApiError::not_found("user", &id))?;
    let command = switchboard_engine::sessions::AuthCommand::RevokeUserSessions { user_id: id };
    let req =
        super::token::auth_request(&app, &caller.org_id, caller.actor.clone(), command, caller.request_id.clone());
    let revoked = match super::token::run_auth(&app, req).await? {
        switchboard_engine::sessions::AuthOutcome::Revoked(n) => n,
        _ => 0,
    };
    Ok(axum::Json(json!({ "revokedSessions": revoked })).into_response())
}

async fn spec_from(b: wire::UserBody) -> Result<UserSpec, ApiError> {
    let password_hash = match b.password {
        Some(p) if p.chars().count() < 8 || p.len() > 256 => {
            return Err(ApiError::invalid("/password", "must be 8 to 256 characters"));
        }
        Some(p) => Some(hash_secret_async(p).await?),
        None => None,
    };
    Ok(UserSpec {
        name: b.name,
        username: b.username,
        email: b.email,
        password_hash,
        roles: b.roles,
        capacity: b.capacity,
        voice_blocks_others: b.voice_blocks_others,
    })
}

async fn create_user(
    State(app): State<AppState>,
    caller: Caller,
    meta: WriteMeta,
    RawBody(body): RawBody,
) -> Result<Response, ApiError> {
    caller.require(&[Scope::UsersAdmin])?;
    let b: wire::UserBody = json(&body)?;
    if b.roles.contains(&Role::Admin) {
        caller.require_role(Role::Admin, Scope::Admin)?;
    }
    let spec = spec_from(b).await?;
    run_config(&app, &caller, &meta, &body, ConfigCommand::CreateUser(spec), true).await
}

async fn update_user(
    State(app): State<AppState>,
    caller: Caller,
    meta: WriteMeta,
    Path(id): Path<String>,
    RawBody(body): RawBody,
) -> Result<Response, ApiError> {
    caller.require(&[Scope::UsersAdmin])?;
    let b: wire::UserBody = json(&body)?;
    let target_is_admin = org_of(&app, &caller)?.users.get(&id).is_some_and(|u| u.has_role(Role::Admin));
    if b.roles.contains(&Role::Admin) || target_is_admin {
        caller.require_role(Role::Admin, Scope::Admin)?;
    }
    let spec = spec_from(b).await?;
    run_config(&app, &caller, &meta, &body, ConfigCommand::UpdateUser { id, spec }, false).await
}

async fn get_routing_status(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    if !caller.is_user(&id) {
        caller.require(&[Scope::RoutingRead])?;
    }
    let org = org_of(&app, &caller)?;
    let u = org.users.get(&id).ok_or_else(|| ApiError::not_found("user", &id))?;
    let load = app.engine.load_of(&id);
    Ok(axum::Json(json!({"userId": id, "status": switchboard_core::routing::presence(u, load)})).into_response())
}

async fn set_routing_status(
    State(app): State<AppState>,
    caller: Caller,
    meta: WriteMeta,
    Path(id): Path<String>,
    RawBody(body): RawBody,
) -> Result<Response, ApiError> {
    let own = caller.is_user(&id);
    if !own && !caller.actor.is_supervisor_or_admin() {
        caller.require(&[Scope::RoutingAdmin])?;
    }
    let b: wire::RoutingStatusBody = json(&body)?;
    let status = match b.status {
        wire::RoutingStatusValue::OnQueue => RoutingStatusRequest::OnQueue,
        wire::RoutingStatusValue::OffQueue => RoutingStatusRequest::OffQueue,
    };
    let command = ConfigCommand::SetRoutingStatus { user_id: id, status };
    let out = configure(&app, &caller, command, meta.expected_version(None)?, meta.idempotency(&caller, &body)).await?;
    let ConfigOutcome::User(u) = out else { return Err(ApiError::internal("unexpected outcome")) };
    let load = app.engine.load_of(&u.id);
    Ok(axum::Json(
        json!({"userId": u.id, "status": switchboard_core::routing::presence(&u, load), "version": u.version}),
    )
    .into_response())
}

async fn list_clients(State(app): State<AppState>, caller: Caller) -> Result<Response, ApiError> {
    caller.require(&[Scope::Admin])?;
    let org = org_of(&app, &caller)?;
    let clients: Vec<Value> = org.clients.values().map(|c| json!(wire::ClientView::new(c, None))).collect();
    Ok(super::config::listing(clients))
}

async fn create_client(
    State(app): State<AppState>,
    caller: Caller,
    meta: WriteMeta,
    RawBody(body): RawBody,
) -> Result<Response, ApiError> {
    caller.require(&[Scope::Admin])?;
    let b: wire::ClientBody = json(&body)?;
    for (i, s) in b.scopes.iter().enumerate() {
        if Scope::parse(s).is_none() {
            return Err(ApiError::invalid(&format!("/scopes/{i}"), &format!("unknown scope {s:?}")));
        }
    }
    if b.scopes.is_empty() {
        return Err(ApiError::invalid("/scopes", "give at least one scope"));
    }
    if b.redirect_uris.len() > 10 {
        return Err(ApiError::invalid("/redirectUris", "at most 10"));
    }
    for (i, u) in b.redirect_uris.iter().enumerate() {
        if let Err(why) = valid_redirect_uri(u) {
            return Err(ApiError::invalid(&format!("/redirectUris/{i}"), why));
        }
    }
    let secret = new_secret();
    let secret_hash = hash_secret_async(secret.clone()).await?;
    let id = uuid::Uuid::now_v7().to_string();
    let redirect_uris = b.redirect_uris;
    let cmd = ConfigCommand::CreateClient { id, name: b.name, scopes: b.scopes, secret_hash, redirect_uris };
    let out = configure(&app, &caller, cmd, None, meta.idempotency(&caller, &body)).await?;
    let ConfigOutcome::Client(c) = out else { return Err(ApiError::internal("unexpected outcome")) };
    Ok((StatusCode::CREATED, axum::Json(json!(wire::ClientView::new(&c, Some(&secret))))).into_response())
}

/// RFC 6749 §3.1.2 and RFC 8252: absolute, no fragment; `https`, or `http` only to this machine (native and
/// development apps), so a code is never sent in clear over a network.
fn valid_redirect_uri(u: &str) -> Result<(), &'static str> {
    if u.len() > 2000 || u.contains('#') || u.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("must be an absolute URI without a fragment or spaces, at most 2000 characters");
    }
    let rest = u.strip_prefix("https://").or_else(|| u.strip_prefix("http://"));
    let Some(rest) = rest else { return Err("must start with https:// (or http:// to a loopback address)") };
    let host = rest.split(['/', '?']).next().unwrap_or_default();
    let name =
        host.rsplit_once(':').filter(|(_, port)| port.bytes().all(|b| b.is_ascii_digit())).map_or(host, |(h, _)| h);
    // A plain host name or address: the origin goes into the login page's CSP, so nothing else may pass.
    let plain = |c: char| c.is_ascii_alphanumeric() || ".-[]:".contains(c);
    if name.is_empty() || !name.chars().all(plain) {
        return Err("must name a host (letters, digits, dots, hyphens, or an IP address)");
    }
    if u.starts_with("http://") && !matches!(name, "127.0.0.1" | "localhost" | "[::1]") {
        return Err("http:// is allowed only to 127.0.0.1, [::1] or localhost; use https://");
    }
    Ok(())
}

async fn get_client(State(app): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<Response, ApiError> {
    caller.require(&[Scope::Admin])?;
    let org = org_of(&app, &caller)?;
    let c = org.clients.get(&id).ok_or_else(|| ApiError::not_found("client", &id))?;
    Ok(axum::Json(json!(wire::ClientView::new(c, None))).into_response())
}

/// Checks an admin may change this client of its org. The bootstrap client's secret comes from the server's
/// configuration: it is changed there, not here.
fn changeable_client(app: &AppState, caller: &Caller, id: &str) -> Result<(), ApiError> {
    caller.require(&[Scope::Admin])?;
    org_of(app, caller)?.clients.get(id).ok_or_else(|| ApiError::not_found("client", id))?;
    if app.config.bootstrap_client_id.as_deref() == Some(id) {
        let detail = "the bootstrap admin client is configured on the server (SWITCHBOARD_ADMIN_CLIENT_SECRET)";
        return Err(ApiError::new(StatusCode::FORBIDDEN, "bootstrap_client", detail));
    }
    Ok(())
}

/// A new secret, shown once; the old secret and every token issued with it stop working at once.
async fn rotate_client_secret(
    State(app): State<AppState>,
    caller: Caller,
    meta: WriteMeta,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    changeable_client(&app, &caller, &id)?;
    let secret = new_secret();
    let cmd = ConfigCommand::RotateClientSecret { id, secret_hash: hash_secret_async(secret.clone()).await? };
    let out = configure(&app, &caller, cmd, meta.expected_version(None)?, None).await?;
    let ConfigOutcome::Client(c) = out else { return Err(ApiError::internal("unexpected outcome")) };
    Ok(axum::Json(json!(wire::ClientView::new(&c, Some(&secret)))).into_response())
}

/// Deletes a service client; its tokens stop working at once.
async fn delete_client(
    State(app): State<AppState>,
    caller: Caller,
    meta: WriteMeta,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    changeable_client(&app, &caller, &id)?;
    configure(&app, &caller, ConfigCommand::DeleteClient { id }, meta.expected_version(None)?, None).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn client_me(State(app): State<AppState>, caller: Caller) -> Result<Response, ApiError> {
    if caller.actor.kind != ActorKind::Client {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "not_a_client",
            "this token belongs to a user: use /v1/users/me",
        ));
    }
    let org = org_of(&app, &caller)?;
    let c = org.clients.get(&caller.actor.id).ok_or_else(|| ApiError::not_found("client", &caller.actor.id))?;
    let mut v = json!(wire::ClientView::new(c, None));
    v["orgId"] = json!(caller.org_id);
    v["bootstrap"] = json!(caller.bootstrap);
    Ok(axum::Json(v).into_response())
}
