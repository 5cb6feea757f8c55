//! Users: `users/me`, `users/{id}` and their routing status.

use super::{Ctx, ok};
use crate::{GcError, Op, map};
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value, json};
use switchboard_core::config::User;
use switchboard_core::{ActorKind, Scope};
use switchboard_engine::{ConfigCommand, ConfigOutcome, RoutingStatusRequest};

pub fn implements(op: Op) -> bool {
    matches!(op, Op::GetUsersMe | Op::GetUser | Op::GetUserRoutingstatus | Op::PutUserRoutingstatus)
}

pub async fn run(ctx: Ctx) -> Result<Response, GcError> {
    match ctx.matched.op {
        Op::GetUsersMe => me(&ctx),
        Op::GetUser => get(&ctx),
        Op::GetUserRoutingstatus => get_status(&ctx),
        Op::PutUserRoutingstatus => put_status(&ctx).await,
        op => Err(GcError::not_implemented(op)),
    }
}

fn is_self(ctx: &Ctx, id: &str) -> bool {
    ctx.who.actor.kind == ActorKind::User && ctx.who.actor.id == id
}

pub fn user_json(ctx: &Ctx, u: &User) -> Value {
    let mut v = json!({
        "id": u.id,
        "name": u.name,
        "username": u.username,
        "state": "active",
        "version": u.version,
        "division": map::division(&ctx.who.org_id),
        "acdAutoAnswer": false,
        "selfUri": format!("/api/v2/users/{}", u.id),
    });
    if let Some(e) = &u.email {
        v["email"] = json!(e);
    }
    if ctx.query.all("expand").iter().any(|e| e.eq_ignore_ascii_case("routingStatus")) {
        v["routingStatus"] = status_json(ctx, &u.id, Some(u));
    }
    v
}

fn status_json(ctx: &Ctx, id: &str, u: Option<&User>) -> Value {
    // The vendor answers OFF_QUEUE for a user that does not exist (the same for one of another org).
    let status = match u {
        Some(u) => map::routing_status(switchboard_core::routing::presence(u, ctx.facade.engine.load_of(id))),
        None => "OFF_QUEUE",
    };
    json!({"userId": id, "status": status})
}

fn me(ctx: &Ctx) -> Result<Response, GcError> {
    if ctx.who.actor.kind != ActorKind::User {
        return Err(GcError::bad_request("this operation requires a user context; the token belongs to a client"));
    }
    let org = ctx.org()?;
    let u = org.users.get(&ctx.who.actor.id).ok_or_else(|| GcError::not_found("the token's user does not exist"))?;
    Ok(ok(user_json(ctx, u)))
}

fn get(ctx: &Ctx) -> Result<Response, GcError> {
    let id = ctx.param("userId");
    if !is_self(ctx, id) {
        ctx.require(&[Scope::RoutingRead])?;
    }
    let org = ctx.org()?;
    let u = org.users.get(id).ok_or_else(|| GcError::not_found(format!("user {id} does not exist")))?;
    Ok(ok(user_json(ctx, u)))
}

fn get_status(ctx: &Ctx) -> Result<Response, GcError> {
    let id = ctx.param("userId");
    if !is_self(ctx, id) {
        ctx.require(&[Scope::RoutingRead])?;
    }
    let org = ctx.org()?;
    Ok(ok(status_json(ctx, id, org.users.get(id))))
}

#[derive(Deserialize, Default)]
struct RoutingStatusBody {
    status: Option<String>,
}

async fn put_status(ctx: &Ctx) -> Result<Response, GcError> {
    let id = ctx.param("userId").to_string();
    if !is_self(ctx, &id) && !ctx.who.actor.is_supervisor_or_admin() {
        ctx.require(&[Scope::RoutingAdmin])?;
    }
    let b: RoutingStatusBody = crate::request::required_body(&ctx.body)?;
    let status = match b.status.as_deref().map(str::to_ascii_uppercase).as_deref() {
        Some("IDLE") => RoutingStatusRequest::OnQueue,
        Some("OFF_QUEUE") => RoutingStatusRequest::OffQueue,
        _ => return Err(GcError::invalid_field("status", "must be IDLE (on queue) or OFF_QUEUE")),
    };
    let out = ctx.configure(ConfigCommand::SetRoutingStatus { user_id: id.clone(), status }, None).await?;
    let ConfigOutcome::User(u) = out else { return Err(GcError::internal("unexpected outcome")) };
    Ok(ok(status_json(ctx, &id, Some(&u))))
}
