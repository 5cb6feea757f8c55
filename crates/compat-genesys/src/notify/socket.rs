//! The channel's WebSocket (`connectUri`): committed frames on the channel's topics in the vendor's envelope
//! `{topicName, version, eventBody, metadata: {CorrelationId}}`, heartbeats, and `pong` for `{"message":"ping"}`.
//! A subscriber that falls behind is sent `v2.system.socket_closing` and closed: the vendor protocol has no replay.

use super::topics;
use crate::Facade;
use axum::extract::State;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::http::Uri;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use switchboard_core::ActorKind;

pub async fn upgrade(State(f): State<Facade>, uri: Uri, ws: WebSocketUpgrade) -> Response {
    // The last segment of `/streaming/channels/{id}` (read from the URI: the route is nested, so `Path` sees twice).
    let id = uri.path().rsplit('/').next().unwrap_or_default().to_string();
    if f.channels.get(&id, f.engine.now()).is_none() {
        return crate::GcError::not_found("no such channel (it expired, or the server restarted)").into_response();
    }
    ws.on_upgrade(move |socket| session(f, id, socket))
}

fn envelope(topic: &str, body: Value, correlation: &str) -> String {
    json!({"topicName": topic, "version": "2", "eventBody": body, "metadata": {"CorrelationId": correlation}})
        .to_string()
}

fn metadata(message: &str) -> String {
    json!({"topicName": "channel.metadata", "eventBody": {"message": message}}).to_string()
}

async fn send(socket: &mut WebSocket, text: String) -> bool {
    socket.send(Message::Text(text.into())).await.is_ok()
}

fn revoked(f: &Facade, channel: &super::Channel) -> bool {
    let ids: Vec<&str> = channel.revocation_ids.iter().map(String::as_str).collect();
    !ids.is_empty() && f.engine.any_revoked(&ids)
}

/// The owner's token was revoked or the owner is gone: say so, as the vendor does, and drop the channel.
async fn close_revoked(f: &Facade, id: &str, socket: &mut WebSocket) {
    let body = json!({"channelId": id, "systemTopicType": "token_revoked", "reason": "user_tokens_revoked",
                      "message": "the channel's token was revoked or its owner no longer exists"});
    let _ = send(socket, envelope("v2.system.socket_closing", body, "")).await;
    f.channels.remove(id);
}

async fn session(f: Facade, id: String, mut socket: WebSocket) {
    let mut sub = f.engine.subscribe();
    let mut beat = tokio::time::interval(f.heartbeat);
    beat.tick().await;
    loop {
        tokio::select! {
            frame = sub.next() => {
                let Some(channel) = f.channels.get(&id, f.engine.now()) else { break };
                if revoked(&f, &channel) {
                    close_revoked(&f, &id, &mut socket).await;
                    break;
                }
                let frame = match frame {
                    Some(Ok(frame)) => frame,
                    Some(Err(_lagged)) => {
                        let body = json!({"channelId": id, "systemTopicType": "no_longer_subscribed", "message": "the subscriber fell behind; reconnect and re-read state"});
                        let _ = send(&mut socket, envelope("v2.system.socket_closing", body, "")).await;
                        break;
                    }
                    None => break,
                };
                if frame.ephemeral || frame.org_id != channel.org_id || !topics::wants(&frame, &channel.topics) {
                    continue;
                }
                let Some(org) = f.engine.org(&channel.org_id) else { break };
                // Rights as they are now: a deleted owner ends the socket; a demoted one keeps only what it may.
                let Some(actor) = topics::current_actor(&org, &channel.actor) else {
                    close_revoked(&f, &id, &mut socket).await;
                    break;
                };
                // Agents see only conversations they take or took part in, whatever they subscribed to.
                if actor.kind == ActorKind::User && !actor.is_supervisor_or_admin() && !frame.users.contains(&actor.id) {
                    continue;
                }
                let who = crate::Identity { org_id: channel.org_id.clone(), actor, request_id: None, revocation_ids: vec![] };
                let allowed: Vec<topics::Topic> = channel
                    .topics
                    .into_iter()
                    .filter(|t| matches!(topics::judge(&t.name, &who, &org).0, topics::Verdict::Permitted))
                    .collect();
                let Some(decoded) = topics::decode(&frame) else { continue };
                let correlation = frame.seq.to_string();
                for (topic, body) in topics::messages(&frame, &decoded, &allowed, &org) {
                    if !send(&mut socket, envelope(&topic, body, &correlation)).await {
                        return;
                    }
                }
            }
            msg = socket.recv() => match msg {
                Some(Ok(Message::Text(t))) => {
                    let ping = serde_json::from_str::<Value>(&t).ok().is_some_and(|v| v["message"] == "ping");
                    if ping && !send(&mut socket, metadata("pong")).await {
                        return;
                    }
                }
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                Some(Ok(_)) => {}
            },
            _ = beat.tick() => {
                let Some(channel) = f.channels.get(&id, f.engine.now()) else { break };
                if revoked(&f, &channel) {
                    close_revoked(&f, &id, &mut socket).await;
                    break;
                }
                if !send(&mut socket, metadata("WebSocket Heartbeat")).await {
                    break;
                }
            }
        }
    }
    let _ = socket.send(Message::Close(None)).await;
}
