//! Events: the org's log (`GET /v1/events`), WebSocket and SSE subscriptions that replay from the log and
//! then stream live frames with no gap and no duplicate at the seam.

use crate::AppState;
use crate::auth::Caller;
use crate::extract::Q;
use crate::problem::ApiError;
use axum::Router;
use axum::extract::State;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::http::HeaderMap;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::time::Duration;
use switchboard_core::{ActorKind, Scope};
use switchboard_engine::{Frame, Subscription};

pub fn routes() -> Router<AppState> {
    Router::new().route("/v1/events", get(log)).route("/v1/events/ws", get(ws)).route("/v1/events/stream", get(sse))
}

const REPLAY_PAGE: usize = 500;
const HEARTBEAT: Duration = Duration::from_secs(20);

/// What a subscriber asked for, and what it may see.
#[derive(Clone)]
pub(crate) struct Filter {
    org_id: String,
    topics: Vec<String>,
    /// Agents see only conversations they take or took part in (and their own user events).
    only_user: Option<String>,
}

impl Filter {
    fn new(caller: &Caller, topics: Vec<String>) -> Result<Self, ApiError> {
        for (i, t) in topics.iter().enumerate() {
            let ok = match t.split_once('/') {
                None => t == "conversations",
                Some((kind, id)) => ["conversations", "queues", "users"].contains(&kind) && !id.is_empty(),
            };
            if !ok {
                return Err(ApiError::invalid(
                    &format!("/subscribe/{i}"),
                    "topics are conversations, conversations/{id}, queues/{id} or users/{id}",
                ));
            }
        }
        let a = &caller.actor;
        let only_user = (a.kind == ActorKind::User && !a.is_supervisor_or_admin()).then(|| a.id.clone());
        Ok(Filter { org_id: caller.org_id.clone(), topics, only_user })
    }

    fn wants(&self, f: &Frame) -> bool {
        f.org_id == self.org_id
            && self.only_user.as_ref().is_none_or(|u| f.users.contains(u))
            && (self.topics.is_empty() || self.topics.iter().any(|t| f.matches(t)))
    }
}

type Snapshots = HashMap<String, (Vec<String>, Vec<String>)>;

/// One page of the log after `after` as frames (events grouped per command), filtered: `(frames as
/// (seq, json), last seq read)`, or `None` once the log is exhausted.
async fn replay_page(
    app: &AppState,
    filter: &Filter,
    after: u64,
    snapshots: &mut Snapshots,
) -> Result<Option<(Vec<(u64, String)>, u64)>, ()> {
    let events = app.engine.events_after(&filter.org_id, after, REPLAY_PAGE).await.map_err(|_| ())?;
    if events.is_empty() {
        return Ok(None);
    }
    let mut out = Vec::new();
    let mut last = after;
    let mut i = 0;
    while i < events.len() {
        let (conv, version) = (events[i]["conversationId"].clone(), events[i]["version"].clone());
        let mut j = i + 1;
        while j < events.len()
            && conv.is_string()
            && events[j]["conversationId"] == conv
            && events[j]["version"] == version
        {
            j += 1;
        }
        let group = &events[i..j];
        let seq = group.last().and_then(|e| e["seq"].as_u64()).unwrap_or(after);
        let (users, queues) = match conv.as_str() {
            Some(id) => {
                if !snapshots.contains_key(id) {
                    let c = app.engine.conversation(&filter.org_id, id).await.map_err(|_| ())?;
                    let refs = c.map(|c| {
                        let users = c.participants.iter().filter_map(|p| p.user_id.clone()).collect();
                        let queues = c.participants.iter().filter_map(|p| p.queue_id.clone()).collect();
                        (users, queues)
                    });
                    snapshots.insert(id.to_string(), refs.unwrap_or_default());
                }
                snapshots[id].clone()
            }
            None => (group[0]["data"]["userId"].as_str().map(String::from).into_iter().collect(), vec![]),
        };
        let frame = Frame {
            org_id: filter.org_id.clone(),
            conversation_id: conv.as_str().map(String::from),
            seq,
            users,
            queues,
            json: json!({"type": "events", "seq": seq, "replay": true, "events": group, "conversation": null})
                .to_string(),
            ephemeral: false,
        };
        if filter.wants(&frame) {
            out.push((seq, frame.json));
        }
        last = seq;
        i = j;
    }
    Ok(Some((out, last)))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct LogQuery {
    after: Option<u64>,
    limit: Option<usize>,
}

/// `GET /v1/events?after=&limit=`: the org's log in commit order.
async fn log(State(app): State<AppState>, caller: Caller, Q(q): Q<LogQuery>) -> Result<Response, ApiError> {
    caller.require(&[Scope::EventsRead])?;
    let limit = q.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::invalid("/limit", "must be between 1 and 1000"));
    }
    let filter = Filter::new(&caller, vec![])?;
    let now = app.engine.now();
    let mut after = q.after.unwrap_or(0);
    let mut out: Vec<Value> = Vec::new();
    let mut visible: HashMap<String, bool> = HashMap::new();
    // Agents' pages are filtered, so keep reading until the page is full or the log ends.
    loop {
        let events = app
            .engine
            .events_after(&caller.org_id, after, limit)
            .await
            .map_err(|e| ApiError::from_engine(e, &caller.actor, now))?;
        let exhausted = events.len() < limit;
        for e in events {
            after = e["seq"].as_u64().unwrap_or(after);
            let keep = match (&filter.only_user, e["conversationId"].as_str()) {
                (None, _) => true,
                (Some(u), None) => e["data"]["userId"] == u.as_str(),
                (Some(u), Some(id)) => match visible.get(id) {
                    Some(v) => *v,
                    None => {
                        let c = app
                            .engine
                            .conversation(&caller.org_id, id)
                            .await
                            .map_err(|e| ApiError::from_engine(e, &caller.actor, now))?;
                        let v = c.is_some_and(|c| c.has_user(u));
                        visible.insert(id.to_string(), v);
                        v
                    }
                },
            };
            if keep {
                out.push(e);
                if out.len() == limit {
                    break;
                }
            }
        }
        if exhausted || out.len() == limit {
            break;
        }
    }
    let next = (out.len() == limit).then(|| after.to_string());
    Ok(axum::Json(json!({"events": out, "nextCursor": next})).into_response())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SubscribeMessage {
    subscribe: Vec<String>,
    after: Option<u64>,
}

async fn ws(
    State(app): State<AppState>,
    caller: Caller,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<Response, ApiError> {
    caller.require(&[Scope::EventsRead])?;
    let upgrade =
        upgrade.map_err(|e| ApiError::bad_request(format!("this endpoint speaks WebSocket: {}", e.body_text())))?;
    // Subscribers send one small message: a 128 KiB default read buffer per socket would dominate memory.
    Ok(upgrade
        .read_buffer_size(4 * 1024)
        .write_buffer_size(0)
        .max_message_size(64 * 1024)
        .on_upgrade(move |socket| session(app, caller, socket)))
}

async fn send_text(socket: &mut WebSocket, text: String) -> bool {
    socket.send(Message::Text(text.into())).await.is_ok()
}

/// One WebSocket subscriber: `{"subscribe": [topics], "after": SEQ?}`, then replay, then live.
async fn session(app: AppState, caller: Caller, mut socket: WebSocket) {
    let first = tokio::time::timeout(Duration::from_secs(30), socket.recv()).await;
    let Ok(Some(Ok(Message::Text(text)))) = first else {
        let _ = send_text(
            &mut socket,
            json!({"type": "error", "detail": "send {\"subscribe\": [topics], \"after\": seq} first"}).to_string(),
        )
        .await;
        return;
    };
    let request: SubscribeMessage = match serde_json::from_str(&text) {
        Ok(r) => r,
        Err(e) => {
            let _ = send_text(
                &mut socket,
                json!({"type": "error", "detail": format!("bad subscribe message: {e}")}).to_string(),
            )
            .await;
            return;
        }
    };
    let filter = match Filter::new(&caller, request.subscribe) {
        Ok(f) => f,
        Err(e) => {
            let _ = send_text(
                &mut socket,
                json!({"type": "error", "detail": e.detail, "violations": e.extra.get("violations")}).to_string(),
            )
            .await;
            return;
        }
    };
    // Subscribe before replaying: whatever commits during the replay is both in the log and on the bus,
    // and the seq check below drops the second copy.
    let mut sub = app.engine.subscribe();
    let mut last = 0u64;
    if let Some(after) = request.after {
        let mut snapshots = Snapshots::new();
        last = after;
        loop {
            match replay_page(&app, &filter, last, &mut snapshots).await {
                Ok(Some((frames, seq))) => {
                    for (_, json) in frames {
                        if !send_text(&mut socket, json).await {
                            return;
                        }
                    }
                    last = seq;
                }
                Ok(None) => break,
                Err(()) => return,
            }
        }
    }
    if !send_text(&mut socket, json!({"type": "subscribed", "topics": filter.topics, "after": last}).to_string()).await
    {
        return;
    }
    let mut heartbeat = tokio::time::interval(HEARTBEAT);
    heartbeat.tick().await;
    loop {
        tokio::select! {
            next = sub.next() => match next {
                Some(Ok(frame)) => {
                    if frame.ephemeral {
                        if filter.wants(&frame) && !send_text(&mut socket, frame.json.clone()).await {
                            return;
                        }
                        continue;
                    }
                    if frame.seq <= last {
                        continue;
                    }
                    last = frame.seq;
                    if filter.wants(&frame) && !send_text(&mut socket, frame.json.clone()).await {
                        return;
                    }
                }
                Some(Err(_lagged)) => {
                    // Bounded memory: a subscriber that fell behind resumes from the log.
                    let _ = send_text(&mut socket, json!({"type": "resync", "after": last}).to_string()).await;
                    let _ = socket.send(Message::Close(None)).await;
                    return;
                }
                None => return,
            },
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                _ => {}
            },
            _ = heartbeat.tick() => {
                if socket.send(Message::Ping(Vec::new().into())).await.is_err() {
                    return;
                }
            }
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct StreamQuery {
    topics: Option<String>,
    after: Option<u64>,
}

/// `GET /v1/events/stream?topics=a,b`: Server-Sent Events; resumes after `Last-Event-ID` (or `after`).
async fn sse(
    State(app): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Q(q): Q<StreamQuery>,
) -> Result<Response, ApiError> {
    caller.require(&[Scope::EventsRead])?;
    let topics: Vec<String> =
        q.topics.unwrap_or_default().split(',').map(str::trim).filter(|t| !t.is_empty()).map(String::from).collect();
    let filter = Filter::new(&caller, topics)?;
    let last_event_id = match headers.get("last-event-id").map(|v| v.to_str().unwrap_or("").trim().parse::<u64>()) {
        Some(Ok(n)) => Some(n),
        Some(Err(_)) => return Err(ApiError::bad_request("Last-Event-ID must be a seq from an earlier event")),
        None => None,
    };
    let after = last_event_id.or(q.after);
    let sub = app.engine.subscribe();
    let (tx, rx) = tokio::sync::mpsc::channel::<SseEvent>(64);
    tokio::spawn(stream_frames(app, filter, after, sub, tx));
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|e| (Ok::<_, std::convert::Infallible>(e), rx))
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(HEARTBEAT)).into_response())
}

async fn stream_frames(
    app: AppState,
    filter: Filter,
    after: Option<u64>,
    mut sub: Box<dyn Subscription>,
    tx: tokio::sync::mpsc::Sender<SseEvent>,
) {
    let mut last = 0;
    if let Some(after) = after {
        let mut snapshots = Snapshots::new();
        last = after;
        loop {
            match replay_page(&app, &filter, last, &mut snapshots).await {
                Ok(Some((frames, seq))) => {
                    for (frame_seq, json) in frames {
                        if tx.send(SseEvent::default().id(frame_seq.to_string()).data(json)).await.is_err() {
                            return;
                        }
                    }
                    last = seq;
                }
                Ok(None) => break,
                Err(()) => return,
            }
        }
    }
    loop {
        let next = tokio::select! {
            _ = tx.closed() => return,
            next = sub.next() => next,
        };
        let Some(next) = next else { return };
        match next {
            Ok(frame) if frame.ephemeral => {
                if filter.wants(&frame) && tx.send(SseEvent::default().data(frame.json.as_str())).await.is_err() {
                    return;
                }
            }
            Ok(frame) if frame.seq > last => {
                last = frame.seq;
                if filter.wants(&frame) {
                    let event = SseEvent::default().id(frame.seq.to_string()).data(frame.json.as_str());
                    if tx.send(event).await.is_err() {
                        return;
                    }
                }
            }
            Ok(_) => {}
            Err(_lagged) => {
                let _ = tx.send(SseEvent::default().event("resync").data(json!({"after": last}).to_string())).await;
                return;
            }
        }
    }
}
