//! Customers on web messaging: `POST /v1/guest/sessions` (no auth, rate-limited per address) and the guest
//! WebSocket. A guest sees only its conversation's transcript, agents' display names, typing and the end —
//! never codes, notes, attributes or other participants' ids.

use crate::AppState;
use crate::client_address::ClientAddress;
use crate::extract::{Q, RawBody, json};
use crate::problem::ApiError;
use axum::Extension;
use axum::Router;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};
use std::time::Instant;
use switchboard_core::command::CreateConversation;
use switchboard_core::{Actor, Channel, Command, Conversation, MediaType, Purpose, Scope};
use switchboard_engine::{ConversationRequest, Frame};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/guest/sessions", post(create_session))
        .route("/v1/guest/ws", get(guest_ws))
        .route("/v1/conversations/{id}/participants/{pid}/typing", post(typing))
}

pub use super::guest_limits::GuestLimiter;
use super::guest_limits::{MAX_SOCKETS_PER_CONVERSATION, MessageBudget, SocketClaim};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SessionBody {
    queue_id: Option<String>,
    deployment_id: Option<String>,
    deployment_key: Option<String>,
    name: String,
    attributes: Option<Value>,
}

fn origin_of(headers: &axum::http::HeaderMap) -> Option<&str> {
    headers.get(axum::http::header::ORIGIN).and_then(|v| v.to_str().ok())
}

fn origin_refused() -> ApiError {
    ApiError::new(StatusCode::FORBIDDEN, "origin_not_allowed", "this page's origin may not open guest sessions here")
}

/// Which org, queue and deployment a session lands on; enforces keys and origins.
fn resolve_entry(
    app: &AppState,
    b: &SessionBody,
    origin: Option<&str>,
) -> Result<(std::sync::Arc<switchboard_engine::OrgConfig>, String, Option<String>), ApiError> {
    let orgs = app.engine.orgs();
    if let Some(did) = &b.deployment_id {
        let (org, d) = orgs
            .iter()
            .find_map(|o| o.deployments.get(did).map(|d| (o.clone(), d.clone())))
            .ok_or_else(|| ApiError::invalid("/deploymentId", "unknown messaging deployment"))?;
        if d.require_key && b.deployment_key.as_deref() != Some(d.key.as_str()) {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "deployment_key_required",
                "this deployment requires its key (deploymentKey)",
            ));
        }
        if !d.allows_origin(origin) {
            return Err(origin_refused());
        }
        if b.queue_id.as_ref().is_some_and(|q| *q != d.queue_id) {
            return Err(ApiError::invalid("/queueId", "does not match the deployment's queue"));
        }
        return Ok((org, d.queue_id.clone(), Some(d.id.clone())));
    }
    let queue_id = b.queue_id.clone().ok_or_else(|| ApiError::invalid("/queueId", "give queueId or deploymentId"))?;
    let org = orgs
        .into_iter()
        .find(|o| o.queues.contains_key(&queue_id))
        .ok_or_else(|| ApiError::invalid("/queueId", "unknown queue"))?;
    // A queue behind a keyed or origin-restricted deployment is not reachable around it.
    if org.deployments.values().any(|d| d.queue_id == queue_id && (d.require_key || !d.allowed_origins.is_empty())) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "deployment_key_required",
            "this queue is served through a messaging deployment: send deploymentId (and its deploymentKey)",
        ));
    }
    Ok((org, queue_id, None))
}

const GUEST_TOKEN_SECS: i64 = 24 * 3600;

async fn create_session(
    State(app): State<AppState>,
    Extension(ClientAddress(client)): Extension<ClientAddress>,
    headers: axum::http::HeaderMap,
    request_id: Option<axum::Extension<crate::auth::RequestId>>,
    RawBody(body): RawBody,
) -> Result<Response, ApiError> {
    let budget = app
        .guest_limiter
        .take(client)
        .map_err(|spent| crate::middleware::too_many(spent, "too many guest sessions from this address"))?;
    let b: SessionBody = json(&body)?;
    if b.name.trim().is_empty() || b.name.chars().count() > 100 {
        return Err(ApiError::invalid("/name", "must be 1 to 100 characters"));
    }
    let (org, queue_id, deployment_id) = resolve_entry(&app, &b, origin_of(&headers))?;
    let org_id = org.settings.id.clone();
    let guest_id = uuid::Uuid::now_v7().to_string();
    let actor = Actor::guest(guest_id.clone());
    let create = CreateConversation {
        media_type: Some(MediaType::Message),
        channel: Some(Channel::Web),
        from_name: Some(b.name.trim().to_string()),
        queue_id: Some(queue_id),
        attributes: b.attributes,
        ..Default::default()
    };
    let req = ConversationRequest {
        org_id: org_id.clone(),
        actor: actor.clone(),
        conversation_id: None,
        command: Command::Create(create),
        expected_version: None,
        idempotency: None,
        dry_run: false,
        request_id: request_id.map(|r| r.0.0),
    };
    let now = app.engine.now();
    let out = app.engine.execute(req).await.map_err(|e| ApiError::from_engine(e, &actor, now))?;
    let conversation_id = out.conversation.id.clone();
    let expires = switchboard_engine::wall_clock_ms() / 1000 + GUEST_TOKEN_SECS;
    let claims = crate::auth::GuestClaims { org_id, guest_id, conversation_id: conversation_id.clone(), deployment_id };
    let token = app.signer.issue_guest(&claims, expires);
    let mut resp = (
        StatusCode::CREATED,
        axum::Json(json!({"conversationId": conversation_id, "guestToken": token, "expiresIn": GUEST_TOKEN_SECS})),
    )
        .into_response();
    budget.write_headers(resp.headers_mut());
    Ok(resp)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct GuestWsQuery {
    token: String,
    after: Option<u64>,
}

async fn guest_ws(
    State(app): State<AppState>,
    headers: axum::http::HeaderMap,
    Q(q): Q<GuestWsQuery>,
    request_id: Option<axum::Extension<crate::auth::RequestId>>,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<Response, ApiError> {
    let now_unix = switchboard_engine::wall_clock_ms() / 1000;
    let claims = app.signer.verify_guest(&q.token, now_unix).map_err(ApiError::unauthorized)?;
    // A session opened through a deployment keeps to that deployment's allowed origins.
    if let Some(did) = &claims.deployment_id {
        let allowed = app
            .engine
            .org(&claims.org_id)
            .and_then(|o| o.deployments.get(did).map(|d| d.allows_origin(origin_of(&headers))))
            .unwrap_or(false);
        if !allowed {
            return Err(origin_refused());
        }
    }
    let (org_id, guest_id, conversation_id) = (claims.org_id, claims.guest_id, claims.conversation_id);
    let upgrade =
        upgrade.map_err(|e| ApiError::bad_request(format!("this endpoint speaks WebSocket: {}", e.body_text())))?;
    let claim = app.guest_limiter.open_socket(&conversation_id).ok_or_else(|| {
        ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            format!("this conversation already has {MAX_SOCKETS_PER_CONVERSATION} guest sockets open"),
        )
    })?;
    let request_id = request_id.map(|r| r.0.0).unwrap_or_default();
    let guest = Guest { org_id, actor: Actor::guest(guest_id), conversation_id, request_id };
    Ok(upgrade
        .read_buffer_size(4 * 1024)
        .write_buffer_size(0)
        .max_message_size(16 * 1024)
        .on_upgrade(move |s| guest_session(app, guest, q.after, s, claim)))
}

struct Guest {
    org_id: String,
    actor: Actor,
    conversation_id: String,
    request_id: String,
}

/// Maps one logged event to what a guest may see, or nothing.
fn guest_frame(e: &Value, conv: &Conversation) -> Option<Value> {
    let seq = e["seq"].as_u64()?;
    let data = &e["data"];
    match e["type"].as_str()? {
        "message.created" => {
            let m = &data["message"];
            let sender = conv.participant(m["participantId"].as_str()?);
            let from = if m["direction"] == "inbound" { "you" } else { "agent" };
            Some(json!({
                "type": "message", "seq": seq, "id": m["id"], "from": from, "text": m["text"], "sentAt": m["sentAt"],
                "name": if from == "agent" { sender.and_then(|p| p.name.clone()) } else { None },
            }))
        }
        "participant.connected" => {
            let p = conv.participant(data["participantId"].as_str()?)?;
            (p.purpose == Purpose::Agent).then(|| json!({"type": "agentJoined", "seq": seq, "name": p.name}))
        }
        "conversation.ended" => Some(json!({"type": "conversation.ended", "seq": seq, "reason": data["reason"]})),
        _ => None,
    }
}

async fn send(socket: &mut WebSocket, v: Value) -> bool {
    socket.send(Message::Text(v.to_string().into())).await.is_ok()
}

async fn current(app: &AppState, g: &Guest) -> Option<Conversation> {
    app.engine.conversation(&g.org_id, &g.conversation_id).await.ok().flatten()
}

/// The guest's socket: replay after `after`, then live; incoming `message`, `typing` and `leave`.
/// `_claim` holds one of the conversation's socket slots until the session ends.
async fn guest_session(app: AppState, g: Guest, after: Option<u64>, mut socket: WebSocket, _claim: SocketClaim) {
    let mut sub = app.engine.subscribe();
    let mut budget = MessageBudget::default();
    let Some(mut conv) = current(&app, &g).await else { return };
    let mut last = after.unwrap_or(0);
    let history = app.engine.conversation_events(&g.org_id, &g.conversation_id, last, 10_000).await.unwrap_or_default();
    for e in &history {
        last = last.max(e["seq"].as_u64().unwrap_or(0));
        if let Some(f) = guest_frame(e, &conv)
            && !send(&mut socket, f).await
        {
            return;
        }
    }
    if conv.ended_at.is_some() {
        // Back after the end: the whole transcript and the end, then the socket closes.
        let transcript: Vec<Value> = app
            .engine
            .conversation_events(&g.org_id, &g.conversation_id, 0, 10_000)
            .await
            .unwrap_or_default()
            .iter()
            .filter_map(|e| guest_frame(e, &conv))
            .filter(|f| f["type"] == "message")
            .collect();
        let _ = send(&mut socket, json!({"type": "transcript", "messages": transcript})).await;
        let _ = send(&mut socket, json!({"type": "conversation.ended", "reason": conv.end_reason})).await;
        let _ = socket.send(Message::Close(None)).await;
        return;
    }
    if !send(&mut socket, json!({"type": "ready", "after": last})).await {
        return;
    }
    loop {
        tokio::select! {
            next = sub.next() => match next {
                Some(Ok(frame)) if frame.conversation_id.as_deref() == Some(g.conversation_id.as_str()) => {
                    if frame.ephemeral {
                        if frame.json.contains("\"from\":\"agent\"") && !send(&mut socket, json!({"type": "typing", "from": "agent"})).await {
                            return;
                        }
                        continue;
                    }
                    if frame.seq <= last {
                        continue;
                    }
                    last = frame.seq;
                    let Ok(v) = serde_json::from_str::<Value>(&frame.json) else { continue };
                    if let Ok(c) = Conversation::deserialize(&v["conversation"]) {
                        conv = c;
                    }
                    let mut ended = false;
                    for e in v["events"].as_array().into_iter().flatten() {
                        if let Some(f) = guest_frame(e, &conv) {
                            ended |= f["type"] == "conversation.ended";
                            if !send(&mut socket, f).await {
                                return;
                            }
                        }
                    }
                    if ended {
                        let _ = socket.send(Message::Close(None)).await;
                        return;
                    }
                }
                Some(Ok(_)) => {}
                Some(Err(_lagged)) => {
                    let _ = send(&mut socket, json!({"type": "resync", "after": last})).await;
                    return;
                }
                None => return,
            },
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Text(_))) if !budget.spend(Instant::now()) => {
                    let detail = format!("at most {} frames per second; this one was dropped", MessageBudget::PER_SECOND);
                    if !send(&mut socket, json!({"type": "error", "code": "rate_limited", "detail": detail})).await {
                        return;
                    }
                }
                Some(Ok(Message::Text(text)))
                    if !handle_guest_message(&app, &g, &text, &mut socket).await => {
                        return;
                    }
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                _ => {}
            },
        }
    }
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "camelCase", deny_unknown_fields)]
enum GuestMessage {
    Message { text: String },
    Typing,
    Leave,
}

/// Runs what the guest sent; errors go back on the socket. Returns false when the socket is gone.
async fn handle_guest_message(app: &AppState, g: &Guest, text: &str, socket: &mut WebSocket) -> bool {
    let msg: GuestMessage = match serde_json::from_str(text) {
        Ok(m) => m,
        Err(e) => {
            return send(socket, json!({"type": "error", "code": "invalid_body", "detail": format!("send {{\"type\": \"message\", \"text\": ...}}, {{\"type\": \"typing\"}} or {{\"type\": \"leave\"}}: {e}")})).await;
        }
    };
    let command = match msg {
        GuestMessage::Message { text } => Command::PostMessage { participant_id: None, text },
        GuestMessage::Typing => {
            app.engine.publish_ephemeral(Frame {
                org_id: g.org_id.clone(),
                conversation_id: Some(g.conversation_id.clone()),
                seq: 0,
                users: vec![],
                queues: vec![],
                json: json!({"type": "typing", "conversationId": g.conversation_id, "from": "customer"}).to_string(),
                ephemeral: true,
            });
            return true;
        }
        GuestMessage::Leave => {
            let Some(conv) = current(app, g).await else { return false };
            let Some(me) = conv.participants.iter().find(|p| g.actor.is_own(p)) else { return false };
            Command::Disconnect {
                participant_id: me.id.clone(),
                wrapup: None,
                skip_wrapup: false,
                reason: Some("guest left".into()),
            }
        }
    };
    let req = ConversationRequest {
        org_id: g.org_id.clone(),
        actor: g.actor.clone(),
        conversation_id: Some(g.conversation_id.clone()),
        command,
        expected_version: None,
        idempotency: None,
        dry_run: false,
        // Every frame of a socket carries the id of the request that opened it.
        request_id: Some(g.request_id.clone()),
    };
    let now = app.engine.now();
    match app.engine.execute(req).await {
        Ok(_) => true,
        Err(e) => {
            let err = ApiError::from_engine(e, &g.actor, now);
            send(socket, json!({"type": "error", "code": err.code, "detail": err.detail})).await
        }
    }
}

/// `POST .../participants/{pid}/typing`: an agent's typing indicator, ephemeral (not logged, no version).
async fn typing(
    State(app): State<AppState>,
    caller: crate::auth::Caller,
    Path((id, pid)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    caller.require_any(&[Scope::ConversationsWrite, Scope::ConversationsParticipate])?;
    let conv = super::conversations::visible(&app, &caller, &id).await?;
    let p = conv.participant(&pid).ok_or_else(|| ApiError::not_found("participant", &pid))?;
    if !caller.actor.acts_for(p) {
        return Err(ApiError::new(StatusCode::FORBIDDEN, "forbidden", "you may not act on this participant"));
    }
    let from = if p.purpose == Purpose::Customer { "customer" } else { "agent" };
    app.engine.publish_ephemeral(Frame {
        org_id: caller.org_id.clone(),
        conversation_id: Some(id.clone()),
        seq: 0,
        users: conv.participants.iter().filter_map(|p| p.user_id.clone()).collect(),
        queues: conv.participants.iter().filter_map(|p| p.queue_id.clone()).collect(),
        json: json!({"type": "typing", "conversationId": id, "participantId": pid, "from": from}).to_string(),
        ephemeral: true,
    });
    Ok(StatusCode::NO_CONTENT.into_response())
}
