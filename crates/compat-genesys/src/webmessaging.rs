//! The web messaging guest socket (`/v1?deploymentId=`): the vendor's `action` frames in, `{type, class,
//! code, body}` frames out. A session is keyed by the client-chosen `token` (kept in memory: a restart starts
//! new sessions); its conversation starts with the first message, on the deployment's queue, as a guest.

use crate::Facade;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;
use switchboard_core::command::CreateConversation;
use switchboard_core::model::{Channel, MediaType};
use switchboard_core::{Actor, Command};
use switchboard_engine::ConversationRequest;

/// Per socket: 5 frames a second, bursts of 20 (as the native guest socket).
const FRAMES_PER_SEC: f64 = 5.0;
const FRAME_BURST: f64 = 20.0;
const MAX_TEXT: usize = 4_000;

#[derive(Clone, Debug)]
struct Session {
    org_id: String,
    guest_id: String,
    queue_id: String,
    conversation_id: Option<String>,
    /// The conversation ended: the guest may read, not write, until it starts a new one.
    read_only: bool,
    last_used: Instant,
}

/// Sessions a guest may resume, by (deployment, token): a token never reaches another deployment's session.
/// Bounded: idle sessions expire after a day, and the oldest go first beyond `MAX_SESSIONS`.
#[derive(Default)]
pub struct GuestSessions(Mutex<HashMap<(String, String), Session>>);

const MAX_SESSIONS: usize = 50_000;
const SESSION_IDLE: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

impl GuestSessions {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<(String, String), Session>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
    fn get(&self, key: &(String, String)) -> Option<Session> {
        self.lock().get(key).filter(|s| s.last_used.elapsed() < SESSION_IDLE).cloned()
    }
    fn put(&self, key: (String, String), mut s: Session) {
        s.last_used = Instant::now();
        let mut all = self.lock();
        if all.len() >= MAX_SESSIONS && !all.contains_key(&key) {
            all.retain(|_, x| x.last_used.elapsed() < SESSION_IDLE);
            if all.len() >= MAX_SESSIONS
                && let Some(oldest) = all.iter().min_by_key(|(_, x)| x.last_used).map(|(k, _)| k.clone())
            {
                all.remove(&oldest);
            }
        }
        all.insert(key, s);
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Params {
    deployment_id: Option<String>,
}

pub async fn upgrade(State(f): State<Facade>, Query(p): Query<Params>, parts: Parts, ws: WebSocketUpgrade) -> Response {
    if let Err(r) = f.identify.admit_guest(&parts) {
        return crate::GcError::from_native(r.status, &r.native_code, &r.message).into_response();
    }
    let origin = parts.headers.get(axum::http::header::ORIGIN).and_then(|v| v.to_str().ok()).map(String::from);
    let Some(id) = p.deployment_id else {
        return crate::GcError::bad_request("deploymentId is required").into_response();
    };
    let found = f.engine.orgs().iter().find_map(|o| o.deployments.get(&id).map(|d| (o.settings.id.clone(), d.clone())));
    let Some((org_id, d)) = found else {
        return crate::GcError::not_found(format!("deployment {id} does not exist")).into_response();
    };
    if !d.allows_origin(origin.as_deref()) {
        return crate::GcError::new(
            axum::http::StatusCode::FORBIDDEN,
            "not.authorized",
            "this origin may not use the deployment",
        )
        .into_response();
    }
    ws.max_message_size(16 * 1024).on_upgrade(move |s| session(f, org_id, d, s))
}

fn frame(kind: &str, class: &str, code: u16, body: Value) -> String {
    json!({"type": kind, "class": class, "code": code, "body": body}).to_string()
}

fn error(code: u16, message: &str) -> String {
    frame("response", "Error", code, json!(message))
}

fn session_response(s: &Session, new: bool) -> String {
    frame("response", "SessionResponse", 200, json!({"connected": true, "newSession": new, "readOnly": s.read_only}))
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Incoming {
    action: Option<String>,
    token: Option<String>,
    start_new: Option<bool>,
    message: Option<IncomingMessage>,
    channel: Option<Value>,
}

#[derive(Deserialize, Default)]
struct IncomingMessage {
    text: Option<String>,
}

fn valid_token(t: &str) -> bool {
    (16..=128).contains(&t.len()) && t.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// A committed event as the guest sees it: messages both ways, and the end as a Presence Disconnect.
fn guest_frame(e: &Value, agent_name: impl Fn(&str) -> Option<String>) -> Option<String> {
    match e["type"].as_str()? {
        "message.created" => {
            let m = &e["data"]["message"];
            let inbound = m["direction"] == "inbound";
            let mut channel = json!({"time": m["sentAt"], "messageId": m["id"]});
            if !inbound && let Some(name) = m["participantId"].as_str().and_then(agent_name) {
                channel["from"] = json!({"nickname": name});
            }
            let body = json!({
                "id": m["id"], "text": m["text"], "type": "Text",
                "direction": if inbound { "Inbound" } else { "Outbound" },
                "channel": channel, "originatingEntity": "Human",
            });
            Some(frame("message", "StructuredMessage", 200, body))
        }
        "conversation.ended" => {
            let body = json!({
                "type": "Event", "direction": "Outbound",
                "events": [{"eventType": "Presence", "presence": {"type": "Disconnect"}}],
                "channel": {"time": e["at"]},
            });
            Some(frame("message", "StructuredMessage", 200, body))
        }
        _ => None,
    }
}

async fn send(socket: &mut WebSocket, text: String) -> bool {
    socket.send(Message::Text(text.into())).await.is_ok()
}

/// One socket's state: the session it configured (kept here; the map is only for resuming).
#[derive(Default)]
struct Socket {
    key: Option<(String, String)>,
    session: Option<Session>,
}

async fn session(
    f: Facade,
    org_id: String,
    d: switchboard_engine::deployments::MessagingDeployment,
    mut socket: WebSocket,
) {
    let mut sub = f.engine.subscribe();
    let mut me = Socket::default();
    let (mut allowance, mut last) = (FRAME_BURST, Instant::now());
    loop {
        tokio::select! {
            frame = sub.next() => {
                let Some(Ok(frame)) = frame else { break };
                let (Some(key), Some(s)) = (&me.key, &mut me.session) else { continue };
                if frame.ephemeral || frame.org_id != s.org_id || s.conversation_id.is_none() || frame.conversation_id != s.conversation_id {
                    continue;
                }
                let Ok(v) = serde_json::from_str::<Value>(&frame.json) else { continue };
                let conv: Option<switchboard_core::Conversation> = serde_json::from_value(v["conversation"].clone()).ok();
                let name = |pid: &str| conv.as_ref().and_then(|c| c.participant(pid)).and_then(|p| p.name.clone());
                for e in v["events"].as_array().into_iter().flatten() {
                    if e["type"] == "conversation.ended" {
                        s.read_only = true;
                        f.guests.put(key.clone(), s.clone());
                    }
                    if let Some(out) = guest_frame(e, name)
                        && !send(&mut socket, out).await
                    {
                        return;
                    }
                }
            }
            msg = socket.recv() => {
                let text = match msg {
                    Some(Ok(Message::Text(t))) => t,
                    Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                    Some(Ok(_)) => continue,
                };
                let now = Instant::now();
                allowance = (allowance + now.duration_since(last).as_secs_f64() * FRAMES_PER_SEC).min(FRAME_BURST);
                last = now;
                if allowance < 1.0 {
                    let body = json!({"name": "TooManyRequests", "message": "slow down: at most 5 frames a second", "retryAfter": 1});
                    if !send(&mut socket, frame("response", "TooManyRequestsErrorMessage", 429, body)).await { return; }
                    continue;
                }
                allowance -= 1.0;
                match handle(&f, &org_id, &d, &mut me, &text).await {
                    Reply::Send(out) => if !send(&mut socket, out).await { return },
                    Reply::Close(out) => {
                        let _ = send(&mut socket, out).await;
                        let _ = socket.send(Message::Close(None)).await;
                        return;
                    }
                    Reply::Nothing => {}
                }
            }
        }
    }
}

enum Reply {
    Send(String),
    Close(String),
    Nothing,
}

/// Whether the session's conversation has ended, as the engine has it (it may have ended while no socket was open).
async fn ended(f: &Facade, s: &Session) -> bool {
    let Some(id) = &s.conversation_id else { return false };
    matches!(f.engine.conversation(&s.org_id, id).await, Ok(Some(c)) if c.ended_at.is_some())
}

async fn handle(
    f: &Facade,
    org_id: &str,
    d: &switchboard_engine::deployments::MessagingDeployment,
    me: &mut Socket,
    text: &str,
) -> Reply {
    let Ok(m) = serde_json::from_str::<Incoming>(text) else {
        return Reply::Send(error(400, "frames are JSON objects with an action"));
    };
    let Some(t) = m.token.as_deref().filter(|t| valid_token(t)) else {
        return Reply::Send(error(400, "token is required: 16 to 128 letters, digits, - or _"));
    };
    let key = (d.id.clone(), t.to_string());
    if me.key.as_ref().is_some_and(|mine| *mine != key) {
        return Reply::Send(error(400, "this socket belongs to another session token"));
    }
    match m.action.as_deref() {
        Some("configureSession") => {
            if d.require_key {
                return Reply::Send(error(
                    4001,
                    "this deployment requires a key, which the web messaging protocol cannot carry",
                ));
            }
            let resumed = match f.guests.get(&key) {
                Some(mut s) => {
                    s.read_only = s.read_only || ended(f, &s).await;
                    (!(s.read_only && m.start_new == Some(true))).then_some(s)
                }
                None => None,
            };
            let new = resumed.is_none();
            let s = resumed.unwrap_or_else(|| Session {
                org_id: org_id.into(),
                guest_id: format!("wm-{}", uuid::Uuid::now_v7()),
                queue_id: d.queue_id.clone(),
                conversation_id: None,
                read_only: false,
                last_used: Instant::now(),
            });
            f.guests.put(key.clone(), s.clone());
            let reply = session_response(&s, new);
            (me.key, me.session) = (Some(key), Some(s));
            Reply::Send(reply)
        }
        Some("onMessage") => {
            let Some(s) = me.session.as_mut() else {
                return Reply::Send(error(400, "send configureSession first"));
            };
            s.read_only = s.read_only || ended(f, s).await;
            if s.read_only {
                f.guests.put(key, s.clone());
                return Reply::Send(error(
                    4006,
                    "the conversation ended: the session is read-only; configureSession with startNew to begin again",
                ));
            }
            let body = m.message.and_then(|m| m.text).filter(|x| !x.trim().is_empty() && x.len() <= MAX_TEXT);
            let Some(body) = body else {
                return Reply::Send(error(400, "message.text is required (at most 4000 bytes)"));
            };
            let reply = post(f, s, body, m.channel).await;
            f.guests.put(key, s.clone());
            reply
        }
        Some("echo") => {
            let text = m.message.and_then(|m| m.text).unwrap_or_default();
            Reply::Send(frame(
                "message",
                "StructuredMessage",
                200,
                json!({"text": text, "type": "Text", "direction": "Inbound"}),
            ))
        }
        Some("closeSession") => {
            Reply::Close(frame("response", "ConnectionClosedEvent", 200, json!({"reasonCode": "closeSession"})))
        }
        Some(other) => Reply::Send(error(
            400,
            &format!("{other} is not supported: configureSession, onMessage, echo, closeSession"),
        )),
        None => Reply::Send(error(400, "action is required")),
    }
}

/// An engine refusal as an `Error` frame with the vendor status.
fn refused(e: switchboard_engine::EngineError) -> Reply {
    let e = crate::GcError::from_engine(e);
    Reply::Send(error(e.status.as_u16(), &e.message))
}

/// The guest's message: the conversation starts with the first one (custom attributes become its attributes).
async fn post(f: &Facade, s: &mut Session, text: String, channel: Option<Value>) -> Reply {
    let actor = Actor::guest(s.guest_id.clone());
    let run = |conversation_id: Option<String>, command: Command| ConversationRequest {
        org_id: s.org_id.clone(),
        actor: actor.clone(),
        conversation_id,
        command,
        expected_version: None,
        idempotency: None,
        dry_run: false,
        request_id: None,
    };
    if s.conversation_id.is_none() {
        let attributes =
            channel.and_then(|c| c.pointer("/metadata/customAttributes").cloned()).filter(Value::is_object);
        let create = CreateConversation {
            media_type: Some(MediaType::Message),
            channel: Some(Channel::Web),
            from_name: Some("Guest".into()),
            queue_id: Some(s.queue_id.clone()),
            attributes,
            ..Default::default()
        };
        match f.engine.execute(run(None, Command::Create(create))).await {
            Ok(out) => s.conversation_id = Some(out.conversation.id.clone()),
            Err(e) => return refused(e),
        }
    }
    match f.engine.execute(run(s.conversation_id.clone(), Command::PostMessage { participant_id: None, text })).await {
        Ok(_) => Reply::Nothing,
        Err(e) => refused(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_end_is_a_presence_disconnect_and_messages_keep_their_direction() {
        let end = guest_frame(&json!({"type": "conversation.ended", "at": "x"}), |_| None).unwrap();
        let v: Value = serde_json::from_str(&end).unwrap();
        assert_eq!(v["body"]["events"][0]["presence"]["type"], "Disconnect");
        assert_eq!(v["body"]["type"], "Event");
        let m = json!({"type": "message.created", "data": {"message": {"id": "m", "direction": "outbound", "text": "hi", "participantId": "a"}}});
        let v: Value = serde_json::from_str(&guest_frame(&m, |_| Some("Ann".into())).unwrap()).unwrap();
        assert_eq!(
            (v["body"]["direction"].as_str(), v["body"]["channel"]["from"]["nickname"].as_str()),
            (Some("Outbound"), Some("Ann"))
        );
        assert!(guest_frame(&json!({"type": "participant.held"}), |_| None).is_none());
    }

    #[test]
    fn tokens_are_bounded() {
        assert!(valid_token("0123456789abcdef"));
        assert!(!valid_token("short"));
        assert!(!valid_token("0123456789abcdef ghi"));
    }
}
