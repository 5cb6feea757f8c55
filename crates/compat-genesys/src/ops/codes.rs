//! Wrap-up codes: `/routing/wrapupcodes` CRUD with the vendor's paging, sorting and filters.

use super::{Ctx, ok};
use crate::listing::{Page, listing};
use crate::request::required_body;
use crate::{GcError, Op};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use switchboard_core::Scope;
use switchboard_core::config::WrapupCode;
use switchboard_engine::{ConfigCommand, ConfigOutcome};

pub fn implements(op: Op) -> bool {
    matches!(
        op,
        Op::GetRoutingWrapupcodes
            | Op::PostRoutingWrapupcodes
            | Op::GetRoutingWrapupcode
            | Op::PutRoutingWrapupcode
            | Op::DeleteRoutingWrapupcode
    )
}

pub async fn run(ctx: Ctx) -> Result<Response, GcError> {
    match ctx.matched.op {
        Op::GetRoutingWrapupcodes => list(&ctx),
        Op::PostRoutingWrapupcodes => create(&ctx).await,
        Op::GetRoutingWrapupcode => get(&ctx),
        Op::PutRoutingWrapupcode => update(&ctx).await,
        Op::DeleteRoutingWrapupcode => archive(&ctx).await,
        op => Err(GcError::not_implemented(op)),
    }
}

pub fn code_json(org_id: &str, c: &WrapupCode) -> Value {
    let mut v = json!({
        "id": c.id,
        "name": c.name,
        "division": crate::map::division(org_id),
        "selfUri": format!("/api/v2/routing/wrapupcodes/{}", c.id),
    });
    if let Some(d) = &c.description {
        v["description"] = json!(d);
    }
    v
}

/// The codes a vendor client sees: active, and not the engine's own system codes (they are not the org's).
pub fn visible(c: &WrapupCode) -> bool {
    !c.archived && !c.system
}

/// `name` matches case-insensitively; a trailing `*` makes it a prefix.
pub fn name_matches(filter: Option<&str>, name: &str) -> bool {
    match filter.filter(|f| !f.is_empty()) {
        None => true,
        Some(f) => match f.strip_suffix('*') {
            Some(prefix) => name.to_lowercase().starts_with(&prefix.to_lowercase()),
            None => name.eq_ignore_ascii_case(f),
        },
    }
}

fn list(ctx: &Ctx) -> Result<Response, GcError> {
    ctx.require(&[Scope::RoutingRead])?;
    let page = Page::from(&ctx.query)?;
    let org = ctx.org()?;
    let ids = ctx.query.all("id");
    let mut codes: Vec<&WrapupCode> = org
        .codes
        .values()
        .filter(|c| visible(c))
        .filter(|c| ids.is_empty() || ids.contains(&c.id.as_str()))
        .filter(|c| name_matches(ctx.query.get("name"), &c.name))
        .collect();
    match ctx.query.get("sortBy").unwrap_or("name") {
        "name" => codes.sort_by_key(|c| (c.name.to_lowercase(), c.id.clone())),
        "id" => codes.sort_by_key(|c| c.id.clone()),
        _ => return Err(GcError::invalid_field("sortBy", "must be name or id")),
    }
    match ctx.query.get("sortOrder").map(str::to_ascii_lowercase).as_deref() {
        None | Some("ascending" | "asc") => {}
        Some("descending" | "desc") => codes.reverse(),
        Some(_) => return Err(GcError::invalid_field("sortOrder", "must be ascending or descending")),
    }
    let all = codes.into_iter().map(|c| code_json(&ctx.who.org_id, c)).collect();
    Ok(ok(listing(all, &page, "/api/v2/routing/wrapupcodes")))
}

fn get(ctx: &Ctx) -> Result<Response, GcError> {
    ctx.require(&[Scope::RoutingRead])?;
    let id = ctx.param("codeId");
    let org = ctx.org()?;
    let c = org
        .codes
        .get(id)
        .filter(|c| visible(c))
        .ok_or_else(|| GcError::not_found(format!("wrap-up code {id} does not exist")))?;
    Ok(ok(code_json(&ctx.who.org_id, c)))
}

#[derive(Deserialize)]
struct CodeBody {
    name: Option<String>,
    description: Option<String>,
}

fn name_of(b: &CodeBody) -> Result<String, GcError> {
    b.name.clone().ok_or_else(|| GcError::invalid_field("name", "is required"))
}

async fn create(ctx: &Ctx) -> Result<Response, GcError> {
    ctx.require(&[Scope::RoutingAdmin])?;
    let b: CodeBody = required_body(&ctx.body)?;
    let cmd = ConfigCommand::CreateCode { name: name_of(&b)?, description: b.description };
    code_outcome(ctx, ctx.configure(cmd, None).await?)
}

async fn update(ctx: &Ctx) -> Result<Response, GcError> {
    ctx.require(&[Scope::RoutingAdmin])?;
    let id = ctx.param("codeId").to_string();
    let b: CodeBody = required_body(&ctx.body)?;
    let org = ctx.org()?;
    let current = org
        .codes
        .get(&id)
        .filter(|c| visible(c))
        .ok_or_else(|| GcError::not_found(format!("wrap-up code {id} does not exist")))?;
    // An absent description keeps the current one (clients PUT what they read, and the model has no version).
    let description = b.description.clone().or_else(|| current.description.clone());
    let cmd = ConfigCommand::UpdateCode { id, name: name_of(&b)?, description };
    code_outcome(ctx, ctx.configure(cmd, Some(current.version)).await?)
}

async fn archive(ctx: &Ctx) -> Result<Response, GcError> {
    ctx.require(&[Scope::RoutingAdmin])?;
    let id = ctx.param("codeId");
    let org = ctx.org()?;
    org.codes
        .get(id)
        .filter(|c| visible(c))
        .ok_or_else(|| GcError::not_found(format!("wrap-up code {id} does not exist")))?;
    ctx.configure(ConfigCommand::ArchiveCode { id: id.to_string() }, None).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

fn code_outcome(ctx: &Ctx, out: ConfigOutcome) -> Result<Response, GcError> {
    match out {
        ConfigOutcome::Code(c) => Ok(ok(code_json(&ctx.who.org_id, &c))),
        _ => Err(GcError::internal("unexpected outcome")),
    }
}
