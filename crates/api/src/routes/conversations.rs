//! `/v1/conversations`: create, read, list, and every lifecycle command, each a thin translation into
//! one engine request.

use crate::AppState;
use crate::auth::Caller;
use crate::extract::{Q, RawBody, WriteMeta, json, json_or_default};
use crate::problem::ApiError;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, patch, post, put};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use switchboard_core::{Actor, Command, Conversation, Scope, Timestamp};
use switchboard_engine::{ConversationFilter, ConversationOutcome, ConversationRequest, EngineError};
use switchboard_wire as wire;

pub fn routes() -> Router<AppState> {
    let p = "/v1/conversations/{id}/participants/{pid}";
    Router::new()
        .route("/v1/conversations", get(list).post(create))
        .route("/v1/conversations/{id}", get(read))
        .route(&format!("{p}/answer"), bodyless(WRITE, |participant_id| Command::Answer { participant_id }))
        .route(&format!("{p}/decline"), bodyless(WRITE, |participant_id| Command::Decline { participant_id }))
        .route(&format!("{p}/disconnect"), post(disconnect))
        .route(&format!("{p}/wrapup"), put(set_wrapup))
        .route(
            &format!("{p}/wrapup/skip"),
            bodyless(&[Scope::WrapupWrite], |participant_id| Command::SkipWrapup { participant_id }),
        )
        .route(&format!("{p}/acw-request"), post(request_acw))
        .route(&format!("{p}/wrapup-codes"), get(wrapup_codes))
        .route(&format!("{p}/attributes"), patch(participant_attributes))
        .route(&format!("{p}/hold"), bodyless(WRITE, |participant_id| Command::Hold { participant_id }))
        .route(&format!("{p}/unhold"), bodyless(WRITE, |participant_id| Command::Unhold { participant_id }))
        .route("/v1/conversations/{id}/consult", post(consult))
        .route(
            "/v1/conversations/{id}/consult/complete",
            end_consult(|participant_id| Command::CompleteConsult { participant_id }),
        )
        .route(
            "/v1/conversations/{id}/consult/cancel",
            end_consult(|participant_id| Command::CancelConsult { participant_id }),
        )
        .route("/v1/conversations/{id}/close", post(close))
        .route("/v1/conversations/{id}/transfer", post(transfer))
        .route("/v1/conversations/{id}/attributes", patch(attributes))
        .route("/v1/conversations/{id}/messages", get(messages).post(post_message))
        .route("/v1/conversations/{id}/events", get(events))
}

pub fn view_value(c: &Conversation, actor: &Actor, now: Timestamp) -> Value {
    serde_json::to_value(wire::ConversationView::new(c, actor, now)).unwrap_or(Value::Null)
}

pub(crate) fn etag(version: u64) -> HeaderValue {
    HeaderValue::from_str(&format!("\"{version}\"")).expect("a number is a valid header")
}

/// The conversation as JSON bytes, serialized once, straight from the view.
fn json_response(status: StatusCode, c: &Conversation, actor: &Actor, now: Timestamp) -> Response {
    let body = serde_json::to_vec(&wire::ConversationView::new(c, actor, now)).expect("views serialize");
    let mut resp = (status, body).into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    h.insert(header::ETAG, etag(c.version));
    resp
}

fn respond(out: ConversationOutcome, caller: &Caller, now: Timestamp) -> Response {
    let c = &out.conversation;
    let status = if out.created { StatusCode::CREATED } else { StatusCode::OK };
    let mut resp = json_response(status, c, &caller.actor, now);
    let h = resp.headers_mut();
    if out.created
        && let Ok(v) = HeaderValue::from_str(&format!("/v1/conversations/{}", c.id))
    {
        h.insert(header::LOCATION, v);
    }
    if out.replayed {
        h.insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    resp
}

struct Exec<'a> {
    app: &'a AppState,
    caller: &'a Caller,
    meta: &'a WriteMeta,
    body: &'a [u8],
}

impl Exec<'_> {
    async fn run(
        &self,
        conversation_id: Option<String>,
        command: Command,
        body_version: Option<u64>,
    ) -> Result<Response, ApiError> {
        self.run_with(conversation_id, command, body_version, false).await
    }

    async fn run_with(
        &self,
        conversation_id: Option<String>,
        command: Command,
        body_version: Option<u64>,
        dry_run: bool,
    ) -> Result<Response, ApiError> {
        let expected_version = self.meta.expected_version(body_version)?;
        let req = ConversationRequest {
            org_id: self.caller.org_id.clone(),
            actor: self.caller.actor.clone(),
            conversation_id,
            command,
            expected_version,
            idempotency: self.meta.idempotency(self.caller, self.body),
            dry_run,
            request_id: self.caller.request_id.clone(),
        };
        let now = self.app.engine.now();
        match self.app.engine.execute(req).await {
            Ok(_) if dry_run => Ok(axum::Json(json!({"valid": true, "violations": []})).into_response()),
            Ok(out) => Ok(respond(out, self.caller, now)),
            Err(e @ EngineError::Rejected { .. }) if dry_run => {
                let err = ApiError::from_engine(e, &self.caller.actor, now);
                let violations = err
                    .extra
                    .get("violations")
                    .cloned()
                    .unwrap_or_else(|| json!([{"pointer": "", "message": err.detail}]));
                Ok(axum::Json(
                    json!({"valid": false, "code": err.code, "detail": err.detail, "violations": violations}),
                )
                .into_response())
            }
            Err(e) => Err(ApiError::from_engine(e, &self.caller.actor, now)),
        }
    }
}

fn require_write(caller: &Caller) -> Result<(), ApiError> {
    caller.require_any(WRITE)
}

async fn create(
    State(app): State<AppState>,
    caller: Caller,
    meta: WriteMeta,
    RawBody(body): RawBody,
) -> Result<Response, ApiError> {
    require_write(&caller)?;
    let b: wire::CreateConversationBody = json(&body)?;
    let version = b.version;
    if version.is_some() {
        return Err(ApiError::invalid("/version", "a new conversation has no version to match"));
    }
    let cmd = Command::Create(b.into_command());
    Exec { app: &app, caller: &caller, meta: &meta, body: &body }.run(None, cmd, None).await
}

/// Loads a conversation the caller may see: another org's, or one an agent never took part in, is 404.
pub async fn visible(app: &AppState, caller: &Caller, id: &str) -> Result<Conversation, ApiError> {
    let now = app.engine.now();
    let conv = app
        .engine
        .conversation(&caller.org_id, id)
        .await
        .map_err(|e| ApiError::from_engine(e, &caller.actor, now))?
        .ok_or_else(|| ApiError::not_found("conversation", id))?;
    let sees = caller.actor.may_see(&conv);
    if sees { Ok(conv) } else { Err(ApiError::not_found("conversation", id)) }
}

async fn read(State(app): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<Response, ApiError> {
    caller.require_any(&[Scope::ConversationsRead, Scope::ConversationsParticipate])?;
    let conv = visible(&app, &caller, &id).await?;
    Ok(json_response(StatusCode::OK, &conv, &caller.actor, app.engine.now()))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ListQuery {
    state: Option<String>,
    queue_id: Option<String>,
    user_id: Option<String>,
    media_type: Option<String>,
    cursor: Option<String>,
    limit: Option<usize>,
}

async fn list(State(app): State<AppState>, caller: Caller, Q(q): Q<ListQuery>) -> Result<Response, ApiError> {
    caller.require(&[Scope::ConversationsRead])?;
    if let Some(s) = &q.state
        && !["active", "wrapup", "closed"].contains(&s.as_str())
    {
        return Err(ApiError::invalid("/state", "must be active, wrapup or closed"));
    }
    if let Some(m) = &q.media_type
        && !["voice", "message"].contains(&m.as_str())
    {
        return Err(ApiError::invalid("/mediaType", "must be voice or message"));
    }
    let limit = q.limit.unwrap_or(25);
    if !(1..=200).contains(&limit) {
        return Err(ApiError::invalid("/limit", "must be between 1 and 200"));
    }
    let before = match &q.cursor {
        Some(c) => {
            Some(c.parse::<i64>().map_err(|_| ApiError::invalid("/cursor", "is not a cursor from a previous page"))?)
        }
        None => None,
    };
    let mut refs = Vec::new();
    if let Some(qid) = q.queue_id {
        refs.push(format!("queue:{qid}"));
    }
    if let Some(uid) = q.user_id {
        refs.push(format!("user:{uid}"));
    }
    if !caller.sees_all_conversations() {
        refs.push(format!("user:{}", caller.actor.id));
    }
    let filter = ConversationFilter { state: q.state, media_type: q.media_type, refs, before, limit };
    let now = app.engine.now();
    let page = app
        .engine
        .list_conversations(&caller.org_id, filter)
        .await
        .map_err(|e| ApiError::from_engine(e, &caller.actor, now))?;
    let entities: Vec<Value> = page.conversations.iter().map(|c| view_value(c, &caller.actor, now)).collect();
    Ok(axum::Json(json!({"entities": entities, "nextCursor": page.next_cursor.map(|c| c.to_string())})).into_response())
}

macro_rules! exec {
    ($app:expr, $caller:expr, $meta:expr, $body:expr) => {
        Exec { app: &$app, caller: &$caller, meta: &$meta, body: &$body }
    };
}

/// The route of a participant command whose body carries at most a `version`.
fn bodyless(scopes: &'static [Scope], command: fn(String) -> Command) -> MethodRouter<AppState> {
    post(
        move |State(app): State<AppState>,
              caller: Caller,
              meta: WriteMeta,
              Path((id, pid)): Path<(String, String)>,
              RawBody(body): RawBody| async move {
            caller.require_any(scopes)?;
            let b: wire::VersionOnlyBody = json_or_default(&body)?;
            exec!(app, caller, meta, body).run(Some(id), command(pid), b.version).await
        },
    )
}

const WRITE: &[Scope] = &[Scope::ConversationsWrite, Scope::ConversationsParticipate];

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ConsultBody {
    from_participant_id: String,
    to: switchboard_core::command::TransferTarget,
    context_data: Option<Value>,
    version: Option<u64>,
}

async fn consult(
    State(app): State<AppState>,
    caller: Caller,
    meta: WriteMeta,
    Path(id): Path<String>,
    RawBody(body): RawBody,
) -> Result<Response, ApiError> {
    require_write(&caller)?;
    let b: ConsultBody = json(&body)?;
    let cmd = Command::Consult { from_participant_id: b.from_participant_id, to: b.to, context_data: b.context_data };
    exec!(app, caller, meta, body).run(Some(id), cmd, b.version).await
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ConsultEndBody {
    /// The consulting agent; by default the one whose consult is in progress (there is at most one).
    participant_id: Option<String>,
    version: Option<u64>,
}

/// The route of completing or cancelling a consult, named by its initiator or (without one) found.
fn end_consult(command: fn(String) -> Command) -> MethodRouter<AppState> {
    post(
        move |State(app): State<AppState>,
              caller: Caller,
              meta: WriteMeta,
              Path(id): Path<String>,
              RawBody(body): RawBody| async move {
            require_write(&caller)?;
            let b: ConsultEndBody = json_or_default(&body)?;
            let initiator = match b.participant_id {
                Some(p) => p,
                None => {
                    let conv = visible(&app, &caller, &id).await?;
                    switchboard_core::allowed::consult_in_progress(&conv)
                        .map(|(initiator, _)| initiator.id.clone())
                        .ok_or_else(|| {
                            ApiError::new(
                                StatusCode::CONFLICT,
                                "invalid_transition",
                                "no consult is in progress in this conversation",
                            )
                        })?
                }
            };
            exec!(app, caller, meta, body).run(Some(id), command(initiator), b.version).await
        },
    )
}

async fn disconnect(
    State(app): State<AppState>,
    caller: Caller,
    meta: WriteMeta,
    Path((id, pid)): Path<(String, String)>,
    RawBody(body): RawBody,
) -> Result<Response, ApiError> {
    require_write(&caller)?;
    let b: wire::DisconnectBody = json_or_default(&body)?;
    if b.wrapup.is_some() || b.skip_wrapup {
        caller.require(&[Scope::WrapupWrite])?;
    }
    let cmd = Command::Disconnect {
        participant_id: pid,
        wrapup: b.wrapup.map(wire::WrapupBody::input),
        skip_wrapup: b.skip_wrapup,
        reason: b.reason,
    };
    exec!(app, caller, meta, body).run(Some(id), cmd, b.version).await
}

async fn set_wrapup(
    State(app): State<AppState>,
    caller: Caller,
    meta: WriteMeta,
    Path((id, pid)): Path<(String, String)>,
    RawBody(body): RawBody,
) -> Result<Response, ApiError> {
    caller.require_any(&[Scope::WrapupWrite, Scope::WrapupAmend])?;
    let b: wire::WrapupBody = json(&body)?;
    let version = b.version;
    let cmd = Command::SetWrapup { participant_id: pid, input: b.input() };
    exec!(app, caller, meta, body).run(Some(id), cmd, version).await
}

async fn request_acw(
    State(app): State<AppState>,
    caller: Caller,
    meta: WriteMeta,
    Path((id, pid)): Path<(String, String)>,
    RawBody(body): RawBody,
) -> Result<Response, ApiError> {
    require_write(&caller)?;
    let b: wire::AcwRequestBody = json_or_default(&body)?;
    let cmd = Command::RequestAcw { participant_id: pid, required: b.required };
    exec!(app, caller, meta, body).run(Some(id), cmd, b.version).await
}

async fn wrapup_codes(
    State(app): State<AppState>,
    caller: Caller,
    Path((id, pid)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    caller.require_any(&[Scope::ConversationsRead, Scope::ConversationsParticipate])?;
    let conv = visible(&app, &caller, &id).await?;
    let p = conv.participant(&pid).ok_or_else(|| ApiError::not_found("participant", &pid))?;
    let org = super::config::org_of(&app, &caller)?;
    let loads = Default::default();
    let dir = switchboard_engine::orgs::Dir { org: &org, loads: &loads };
    let codes: Vec<Value> = switchboard_core::allowed_codes(p, &dir)
        .into_iter()
        .map(|c| json!({"id": c.id, "name": c.name, "description": c.description}))
        .collect();
    Ok(super::config::listing(codes))
}

async fn close(
    State(app): State<AppState>,
    caller: Caller,
    meta: WriteMeta,
    Path(id): Path<String>,
    RawBody(body): RawBody,
) -> Result<Response, ApiError> {
    caller.require(&[Scope::ConversationsClose])?;
    let b: wire::CloseBody = json_or_default(&body)?;
    if b.wrapup.is_some() || !b.wrapups.is_empty() {
        caller.require(&[Scope::ConversationsClose, Scope::WrapupWrite])?;
    }
    let (input, version) = b.into_input();
    exec!(app, caller, meta, body).run(Some(id), Command::Close(input), version).await
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct DryRunQuery {
    dry_run: Option<bool>,
}

async fn transfer(
    State(app): State<AppState>,
    caller: Caller,
    meta: WriteMeta,
    Path(id): Path<String>,
    Q(q): Q<DryRunQuery>,
    RawBody(body): RawBody,
) -> Result<Response, ApiError> {
    require_write(&caller)?;
    let b: wire::TransferBody = json(&body)?;
    // A bot records its own outcome with the participate scope; core checks it is its own participant.
    if b.wrapup.is_some() {
        caller.require_any(&[Scope::WrapupWrite, Scope::ConversationsParticipate])?;
    }
    let cmd = Command::Transfer {
        from_participant_id: b.from_participant_id,
        to: b.to,
        context_data: b.context_data,
        wrapup: b.wrapup.map(wire::WrapupBody::input),
    };
    exec!(app, caller, meta, body).run_with(Some(id), cmd, b.version, q.dry_run.unwrap_or(false)).await
}

async fn attributes(
    State(app): State<AppState>,
    caller: Caller,
    meta: WriteMeta,
    Path(id): Path<String>,
    RawBody(body): RawBody,
) -> Result<Response, ApiError> {
    require_write(&caller)?;
    let patch: Value = json(&body)?;
    exec!(app, caller, meta, body).run(Some(id), Command::UpdateAttributes { patch }, None).await
}

async fn participant_attributes(
    State(app): State<AppState>,
    caller: Caller,
    meta: WriteMeta,
    Path((id, pid)): Path<(String, String)>,
    RawBody(body): RawBody,
) -> Result<Response, ApiError> {
    require_write(&caller)?;
    let patch: BTreeMap<String, Option<String>> = json(&body)?;
    if patch.keys().any(|k| k.is_empty() || k.len() > 200) {
        return Err(ApiError::invalid("", "attribute names must be 1 to 200 characters"));
    }
    let cmd = Command::UpdateParticipantAttributes { participant_id: pid, patch };
    exec!(app, caller, meta, body).run(Some(id), cmd, None).await
}

async fn post_message(
    State(app): State<AppState>,
    caller: Caller,
    meta: WriteMeta,
    Path(id): Path<String>,
    RawBody(body): RawBody,
) -> Result<Response, ApiError> {
    require_write(&caller)?;
    let b: wire::MessageBody = json(&body)?;
    let cmd = Command::PostMessage { participant_id: b.participant_id, text: b.text };
    exec!(app, caller, meta, body).run(Some(id), cmd, b.version).await
}

async fn messages(State(app): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<Response, ApiError> {
    caller.require_any(&[Scope::ConversationsRead, Scope::ConversationsParticipate])?;
    visible(&app, &caller, &id).await?;
    let now = app.engine.now();
    let msgs =
        app.engine.messages(&caller.org_id, &id).await.map_err(|e| ApiError::from_engine(e, &caller.actor, now))?;
    Ok(super::config::listing(msgs))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct EventsQuery {
    after: Option<u64>,
    limit: Option<usize>,
}

async fn events(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Q(q): Q<EventsQuery>,
) -> Result<Response, ApiError> {
    caller.require_any(&[Scope::ConversationsRead, Scope::ConversationsParticipate])?;
    visible(&app, &caller, &id).await?;
    let limit = q.limit.unwrap_or(500);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::invalid("/limit", "must be between 1 and 1000"));
    }
    let now = app.engine.now();
    let events = app
        .engine
        .conversation_events(&caller.org_id, &id, q.after.unwrap_or(0), limit)
        .await
        .map_err(|e| ApiError::from_engine(e, &caller.actor, now))?;
    let next = (events.len() >= limit).then(|| events.last().map(|e| e["seq"].to_string())).flatten();
    Ok(axum::Json(json!({"events": events, "nextCursor": next})).into_response())
}
