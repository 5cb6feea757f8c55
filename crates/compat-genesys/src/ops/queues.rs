//! Queues: CRUD with `acwSettings` and `mediaSettings`, their wrap-up codes and their members.
//! Vendor PUTs are merged over the current queue and submitted with its version, so fields the vendor model
//! lacks (`contextSchema`, `defaultCodeId`, a native `none` policy) survive a read-modify-write.

use super::codes::{code_json, name_matches, visible};
use super::{Ctx, ok};
use crate::listing::{Page, listing};
use crate::request::required_body;
use crate::{GcError, Op, map};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use switchboard_core::Scope;
use switchboard_core::config::{MediaSetting, MediaSettings, Queue, QueueMember, ServiceLevel};
use switchboard_engine::{ConfigCommand, ConfigOutcome, QueueSpec};

pub fn implements(op: Op) -> bool {
    matches!(
        op,
        Op::GetRoutingQueues
            | Op::PostRoutingQueues
            | Op::GetRoutingQueue
            | Op::PutRoutingQueue
            | Op::DeleteRoutingQueue
            | Op::GetRoutingQueueWrapupcodes
            | Op::PostRoutingQueueWrapupcodes
            | Op::DeleteRoutingQueueWrapupcode
            | Op::GetRoutingQueueMembers
            | Op::PostRoutingQueueMembers
            | Op::PatchRoutingQueueMembers
    )
}

pub async fn run(ctx: Ctx) -> Result<Response, GcError> {
    match ctx.matched.op {
        Op::GetRoutingQueues => list(&ctx),
        Op::PostRoutingQueues => create(&ctx).await,
        Op::GetRoutingQueue => get(&ctx),
        Op::PutRoutingQueue => update(&ctx).await,
        Op::DeleteRoutingQueue => delete(&ctx).await,
        Op::GetRoutingQueueWrapupcodes => list_codes(&ctx),
        Op::PostRoutingQueueWrapupcodes => add_codes(&ctx).await,
        Op::DeleteRoutingQueueWrapupcode => remove_code(&ctx).await,
        Op::GetRoutingQueueMembers => list_members(&ctx),
        Op::PostRoutingQueueMembers => post_members(&ctx).await,
        Op::PatchRoutingQueueMembers => patch_members(&ctx).await,
        op => Err(GcError::not_implemented(op)),
    }
}

fn media_json(q: &Queue, m: switchboard_core::model::MediaType) -> Value {
    let mut v = json!({
        "alertingTimeoutSeconds": q.alerting_timeout_for(m) / 1000,
        "enableAutoAnswer": q.auto_answer_for(m),
    });
    if let Some(sl) = &q.service_level {
        // Native percentages are 0–100; the vendor's are fractions.
        v["serviceLevel"] = json!({"percentage": sl.percentage / 100.0, "durationMs": sl.duration_ms});
    }
    v
}

pub fn queue_json(org_id: &str, q: &Queue) -> Value {
    use switchboard_core::model::MediaType;
    let mut acw = json!({});
    if let Some(p) = map::acw_prompt(q.acw.policy) {
        acw["wrapupPrompt"] = json!(p);
    }
    if let Some(t) = q.acw.timeout_ms {
        acw["timeoutMs"] = json!(t);
    }
    let joined = q.members.iter().filter(|m| m.joined).count();
    json!({
        "id": q.id,
        "name": q.name,
        "division": map::division(org_id),
        "memberCount": q.members.len(),
        "userMemberCount": q.members.len(),
        "joinedMemberCount": joined,
        "acwSettings": acw,
        "mediaSettings": {"call": media_json(q, MediaType::Voice), "message": media_json(q, MediaType::Message)},
        "selfUri": format!("/api/v2/routing/queues/{}", q.id),
    })
}

fn find<'a>(org: &'a switchboard_engine::OrgConfig, id: &str) -> Result<&'a Queue, GcError> {
    org.queues.get(id).ok_or_else(|| GcError::not_found(format!("queue {id} does not exist")))
}

fn list(ctx: &Ctx) -> Result<Response, GcError> {
    ctx.require(&[Scope::RoutingRead])?;
    let page = Page::from(&ctx.query)?;
    let org = ctx.org()?;
    let ids = ctx.query.all("id");
    let mut queues: Vec<&Queue> = org
        .queues
        .values()
        .filter(|q| ids.is_empty() || ids.contains(&q.id.as_str()))
        .filter(|q| name_matches(ctx.query.get("name"), &q.name))
        .collect();
    queues.sort_by_key(|q| (q.name.to_lowercase(), q.id.clone()));
    if ctx
        .query
        .get("sortOrder")
        .is_some_and(|o| o.eq_ignore_ascii_case("desc") || o.eq_ignore_ascii_case("descending"))
    {
        queues.reverse();
    }
    let all = queues.into_iter().map(|q| queue_json(&ctx.who.org_id, q)).collect();
    Ok(ok(listing(all, &page, "/api/v2/routing/queues")))
}

fn get(ctx: &Ctx) -> Result<Response, GcError> {
    ctx.require(&[Scope::RoutingRead])?;
    let org = ctx.org()?;
    Ok(ok(queue_json(&ctx.who.org_id, find(&org, ctx.param("queueId"))?)))
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct AcwBody {
    wrapup_prompt: Option<String>,
    timeout_ms: Option<i64>,
}

#[derive(Deserialize, Default, Clone)]
#[serde(rename_all = "camelCase")]
struct ServiceLevelBody {
    percentage: Option<f64>,
    duration_ms: Option<i64>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct MediaBody {
    alerting_timeout_seconds: Option<i64>,
    enable_auto_answer: Option<bool>,
    service_level: Option<ServiceLevelBody>,
}

#[derive(Deserialize, Default)]
struct MediaSettingsBody {
    call: Option<MediaBody>,
    message: Option<MediaBody>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct QueueBody {
    name: Option<String>,
    acw_settings: Option<AcwBody>,
    media_settings: Option<MediaSettingsBody>,
}

/// The native spec of `current` (or a new queue's defaults) with the vendor body laid over it.
fn merged_spec(current: Option<&Queue>, b: QueueBody) -> Result<QueueSpec, GcError> {
    let mut spec = match current {
        Some(q) => QueueSpec {
            name: q.name.clone(),
            acw: q.acw.clone(),
            alerting_timeout_ms: Some(q.alerting_timeout_ms),
            auto_answer: Some(q.auto_answer),
            inactivity_timeout_ms: Some(q.inactivity_timeout_ms),
            service_level: q.service_level.clone(),
            context_schema: q.context_schema.clone(),
            media_settings: Some(q.media_settings.clone()),
            wrapup_codes: Some(q.wrapup_codes.clone()),
            members: Some(q.members.clone()),
        },
        None => QueueSpec::default(),
    };
    match b.name {
        Some(n) => spec.name = n,
        None if current.is_none() => return Err(GcError::invalid_field("name", "is required")),
        None => {}
    }
    if let Some(acw) = b.acw_settings {
        if let Some(p) = acw.wrapup_prompt {
            spec.acw.policy = map::acw_policy(&p).ok_or_else(|| {
                GcError::invalid_field(
                    "acwSettings.wrapupPrompt",
                    "must be MANDATORY, OPTIONAL, MANDATORY_TIMEOUT, MANDATORY_FORCED_TIMEOUT or AGENT_REQUESTED",
                )
            })?;
        }
        // The vendor ignores a timeout on a policy without a deadline; native refuses it, so it is dropped here.
        spec.acw.timeout_ms = match spec.acw.policy {
            p if p.has_deadline() || p == switchboard_core::model::AcwPolicy::AgentRequested => {
                acw.timeout_ms.or(spec.acw.timeout_ms)
            }
            _ => None,
        };
    }
    if let Some(m) = b.media_settings {
        let mut settings = spec.media_settings.take().unwrap_or_default();
        for (body, target) in [(m.call, &mut settings.voice), (m.message, &mut settings.message)] {
            let Some(body) = body else { continue };
            let t = target.get_or_insert_with(MediaSetting::default);
            if let Some(s) = body.alerting_timeout_seconds {
                t.alerting_timeout_ms = Some(s.saturating_mul(1000));
            }
            if let Some(a) = body.enable_auto_answer {
                t.auto_answer = Some(a);
            }
            if let Some(sl) = body.service_level {
                let old = spec.service_level.clone();
                spec.service_level = Some(ServiceLevel {
                    percentage: sl.percentage.map(|p| p * 100.0).or(old.as_ref().map(|o| o.percentage)).unwrap_or(80.0),
                    duration_ms: sl.duration_ms.or(old.map(|o| o.duration_ms)).unwrap_or(20_000),
                });
            }
        }
        spec.media_settings = Some(MediaSettings { voice: settings.voice, message: settings.message });
    }
    Ok(spec)
}

async fn create(ctx: &Ctx) -> Result<Response, GcError> {
    ctx.require(&[Scope::RoutingAdmin])?;
    let spec = merged_spec(None, required_body(&ctx.body)?)?;
    queue_outcome(ctx, ctx.configure(ConfigCommand::CreateQueue(spec), None).await?)
}

async fn update(ctx: &Ctx) -> Result<Response, GcError> {
    ctx.require(&[Scope::RoutingAdmin])?;
    let id = ctx.param("queueId").to_string();
    let org = ctx.org()?;
    let current = find(&org, &id)?;
    let spec = merged_spec(Some(current), required_body(&ctx.body)?)?;
    queue_outcome(ctx, ctx.configure(ConfigCommand::UpdateQueue { id, spec }, Some(current.version)).await?)
}

async fn delete(ctx: &Ctx) -> Result<Response, GcError> {
    ctx.require(&[Scope::RoutingAdmin])?;
    let id = ctx.param("queueId").to_string();
    find(&*ctx.org()?, &id)?;
    ctx.configure(ConfigCommand::DeleteQueue { id }, None).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

fn queue_outcome(ctx: &Ctx, out: ConfigOutcome) -> Result<Response, GcError> {
    match out {
        ConfigOutcome::Queue(q) => Ok(ok(queue_json(&ctx.who.org_id, &q))),
        _ => Err(GcError::internal("unexpected outcome")),
    }
}

fn list_codes(ctx: &Ctx) -> Result<Response, GcError> {
    ctx.require(&[Scope::RoutingRead])?;
    let page = Page::from(&ctx.query)?;
    let org = ctx.org()?;
    let q = find(&org, ctx.param("queueId"))?;
    let all = q
        .wrapup_codes
        .iter()
        .filter_map(|id| org.codes.get(id))
        .filter(|c| visible(c) && name_matches(ctx.query.get("name"), &c.name))
        .map(|c| code_json(&ctx.who.org_id, c))
        .collect();
    Ok(ok(listing(all, &page, &format!("/api/v2/routing/queues/{}/wrapupcodes", q.id))))
}

#[derive(Deserialize)]
struct Ref {
    id: Option<String>,
}

fn ids_of(refs: Vec<Ref>) -> Result<Vec<String>, GcError> {
    refs.into_iter()
        .enumerate()
        .map(|(i, r)| r.id.ok_or_else(|| GcError::invalid_field(&format!("[{i}].id"), "is required")))
        .collect()
}

async fn add_codes(ctx: &Ctx) -> Result<Response, GcError> {
    ctx.require(&[Scope::RoutingAdmin])?;
    let added = ids_of(required_body(&ctx.body)?)?;
    let org = ctx.org()?;
    let q = find(&org, ctx.param("queueId"))?;
    let mut codes = q.wrapup_codes.clone();
    for id in &added {
        if !codes.contains(id) {
            codes.push(id.clone());
        }
    }
    let cmd = ConfigCommand::SetQueueCodes { queue_id: q.id.clone(), codes };
    let ConfigOutcome::Queue(_) = ctx.configure(cmd, Some(q.version)).await? else {
        return Err(GcError::internal("unexpected outcome"));
    };
    let org = ctx.org()?;
    // The vendor answers with the added codes as a bare array.
    let body: Vec<Value> =
        added.iter().filter_map(|id| org.codes.get(id)).map(|c| code_json(&ctx.who.org_id, c)).collect();
    Ok(ok(json!(body)))
}

async fn remove_code(ctx: &Ctx) -> Result<Response, GcError> {
    ctx.require(&[Scope::RoutingAdmin])?;
    let org = ctx.org()?;
    let q = find(&org, ctx.param("queueId"))?;
    let code = ctx.param("codeId");
    if !q.wrapup_codes.iter().any(|c| c == code) {
        return Err(GcError::not_found(format!("wrap-up code {code} is not on queue {}", q.id)));
    }
    let codes = q.wrapup_codes.iter().filter(|c| *c != code).cloned().collect();
    // The default code goes with it, or the queue would no longer validate.
    let cmd = if q.acw.default_code_id.as_deref() == Some(code) {
        let mut spec = merged_spec(Some(q), QueueBody::default())?;
        spec.wrapup_codes = Some(codes);
        spec.acw.default_code_id = None;
        ConfigCommand::UpdateQueue { id: q.id.clone(), spec }
    } else {
        ConfigCommand::SetQueueCodes { queue_id: q.id.clone(), codes }
    };
    ctx.configure(cmd, Some(q.version)).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

fn member_json(ctx: &Ctx, org: &switchboard_engine::OrgConfig, m: &QueueMember) -> Option<Value> {
    let u = org.users.get(&m.user_id)?;
    let presence = switchboard_core::routing::presence(u, ctx.facade.engine.load_of(&u.id));
    Some(json!({
        "id": u.id,
        "name": u.name,
        "user": super::users::user_json(ctx, u),
        "ringNumber": 1,
        "joined": m.joined,
        "memberBy": "user",
        "routingStatus": {"userId": u.id, "status": map::routing_status(presence)},
        "selfUri": format!("/api/v2/users/{}", u.id),
    }))
}

fn list_members(ctx: &Ctx) -> Result<Response, GcError> {
    ctx.require(&[Scope::RoutingRead])?;
    let page = Page::from(&ctx.query)?;
    let org = ctx.org()?;
    let q = find(&org, ctx.param("queueId"))?;
    let joined = match ctx.query.get("joined") {
        None | Some("") => None,
        Some(v) => Some(v.eq_ignore_ascii_case("true")),
    };
    let statuses = ctx.query.all("routingStatus");
    let mut members: Vec<Value> = q
        .members
        .iter()
        .filter(|m| joined.is_none_or(|j| m.joined == j))
        .filter_map(|m| member_json(ctx, &org, m))
        .filter(|v| name_matches(ctx.query.get("name"), v["name"].as_str().unwrap_or_default()))
        .filter(|v| {
            statuses.is_empty()
                || statuses
                    .iter()
                    .any(|s| v["routingStatus"]["status"].as_str().is_some_and(|x| x.eq_ignore_ascii_case(s)))
        })
        .collect();
    members.sort_by_key(|v| v["name"].as_str().unwrap_or_default().to_lowercase());
    Ok(ok(listing(members, &page, &format!("/api/v2/routing/queues/{}/members", q.id))))
}

async fn post_members(ctx: &Ctx) -> Result<Response, GcError> {
    ctx.require(&[Scope::RoutingAdmin])?;
    let ids = ids_of(required_body(&ctx.body)?)?;
    let queue_id = ctx.param("queueId").to_string();
    find(&*ctx.org()?, &queue_id)?;
    let cmd = if ctx.query.flag("delete") {
        ConfigCommand::PatchMembers { queue_id, upsert: vec![], remove: ids }
    } else {
        // New members join at once, as the vendor's default for added users.
        let upsert = ids.into_iter().map(|user_id| QueueMember { user_id, joined: true }).collect();
        ConfigCommand::PatchMembers { queue_id, upsert, remove: vec![] }
    };
    ctx.configure(cmd, None).await?;
    Ok(StatusCode::OK.into_response())
}

#[derive(Deserialize)]
struct MemberPatch {
    id: Option<String>,
    joined: Option<bool>,
}

async fn patch_members(ctx: &Ctx) -> Result<Response, GcError> {
    ctx.require(&[Scope::RoutingAdmin])?;
    let patches: Vec<MemberPatch> = required_body(&ctx.body)?;
    let org = ctx.org()?;
    let q = find(&org, ctx.param("queueId"))?;
    let mut upsert = Vec::new();
    for (i, p) in patches.into_iter().enumerate() {
        let id = p.id.ok_or_else(|| GcError::invalid_field(&format!("[{i}].id"), "is required"))?;
        let Some(current) = q.members.iter().find(|m| m.user_id == id) else {
            return Err(GcError::not_found(format!("user {id} is not a member of queue {}", q.id)));
        };
        upsert.push(QueueMember { user_id: id, joined: p.joined.unwrap_or(current.joined) });
    }
    let changed: Vec<String> = upsert.iter().map(|m| m.user_id.clone()).collect();
    ctx.configure(ConfigCommand::PatchMembers { queue_id: q.id.clone(), upsert, remove: vec![] }, None).await?;
    let org = ctx.org()?;
    let q = find(&org, &q.id)?;
    let members: Vec<Value> =
        q.members.iter().filter(|m| changed.contains(&m.user_id)).filter_map(|m| member_json(ctx, &org, m)).collect();
    Ok(ok(listing(members, &Page { size: 25, number: 1 }, &format!("/api/v2/routing/queues/{}/members", q.id))))
}
