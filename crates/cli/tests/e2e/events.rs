//! Events over real sockets: the log, WebSocket replay + live with resume, SSE with Last-Event-ID,
//! per-caller visibility, and the resync of a subscriber that stops reading.

use crate::harness::{App, participant, pid};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::time::Duration;
use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest};

type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

pub async fn connect(app: &App, token: &str, subscribe: Value) -> Ws {
    let mut req = format!("{}/v1/events/ws", app.base.replace("http", "ws")).into_client_request().unwrap();
    req.headers_mut().insert("authorization", format!("Bearer {token}").parse().unwrap());
    let (mut ws, _) = tokio_tungstenite::connect_async(req).await.expect("websocket connects");
    ws.send(Message::Text(subscribe.to_string().into())).await.unwrap();
    ws
}

/// The next JSON frame (pings are skipped); bounded so a broken server fails the test instead of hanging it.
pub async fn next_frame(ws: &mut Ws) -> Option<Value> {
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(10), ws.next()).await.expect("a frame within 10 s")?;
        match msg.ok()? {
            Message::Text(t) => return Some(serde_json::from_str(&t).unwrap()),
            Message::Close(_) => return None,
            _ => {}
        }
    }
}

/// Reads frames until one with `seq >= until` or the `subscribed` marker (when `until` is 0); collects event seqs.
async fn read_until(ws: &mut Ws, until: u64, seen: &mut Vec<u64>) {
    loop {
        let f = next_frame(ws).await.expect("socket open");
        if f["type"] == "subscribed" {
            if until == 0 {
                return;
            }
            continue;
        }
        assert_eq!(f["type"], "events", "{f}");
        for e in f["events"].as_array().unwrap() {
            seen.push(e["seq"].as_u64().unwrap());
        }
        if until > 0 && f["seq"].as_u64().unwrap() >= until {
            return;
        }
    }
}

async fn log_seqs(app: &App, token: &str) -> Vec<(u64, Value)> {
    let mut out = Vec::new();
    let mut after = 0;
    loop {
        let page = app.get(&format!("/v1/events?after={after}&limit=1000"), token).await.ok();
        let events = page["events"].as_array().unwrap().clone();
        for e in &events {
            after = e["seq"].as_u64().unwrap();
            out.push((after, e.clone()));
        }
        if page["nextCursor"].is_null() {
            return out;
        }
    }
}

#[tokio::test]
async fn websocket_replays_then_streams_and_resumes_without_gap_or_duplicate() {
    let app = App::spawn().await;
    let q = app.queue("Q", json!({"policy": "none"}), &[], &[]).await;
    let a = app.create(&app.admin, json!({"mediaType": "message", "queueId": q})).await;
    let mut ws = connect(&app, &app.admin, json!({"subscribe": ["conversations"], "after": 0})).await;
    let mut seen = Vec::new();
    read_until(&mut ws, 0, &mut seen).await;
    assert!(!seen.is_empty(), "the replay brought the first conversation's events");
    // Live: a command after subscribing arrives as one frame carrying the snapshot.
    let b = app.create(&app.admin, json!({"mediaType": "message", "queueId": q})).await;
    let frame = next_frame(&mut ws).await.unwrap();
    assert_eq!(frame["conversation"]["id"], b["id"]);
    assert!(frame["committedAtUs"].as_i64().unwrap() > 0);
    for e in frame["events"].as_array().unwrap() {
        seen.push(e["seq"].as_u64().unwrap());
    }
    let last_seen = *seen.iter().max().unwrap();
    drop(ws);
    // Commands continue while the subscriber is away; it resumes after what it saw.
    for id in [&a["id"], &b["id"]] {
        app.call(
            reqwest::Method::PATCH,
            &format!("/v1/conversations/{}/attributes", id.as_str().unwrap()),
            &app.admin,
            Some(json!({"k": 1})),
        )
        .await
        .ok();
    }
    let mut ws = connect(&app, &app.admin, json!({"subscribe": ["conversations"], "after": last_seen})).await;
    read_until(&mut ws, 0, &mut seen).await;
    app.post(&format!("/v1/conversations/{}/close", a["id"].as_str().unwrap()), &app.admin, json!({})).await.ok();
    let log: Vec<(u64, Value)> = log_seqs(&app, &app.admin).await;
    let conv_seqs: Vec<u64> = log.iter().filter(|(_, e)| e["conversationId"].is_string()).map(|(s, _)| *s).collect();
    read_until(&mut ws, *conv_seqs.last().unwrap(), &mut seen).await;
    let unique: BTreeSet<u64> = seen.iter().copied().collect();
    assert_eq!(unique.len(), seen.len(), "no duplicate at the seams");
    assert_eq!(seen, conv_seqs, "exactly the log, in commit order");
}

#[tokio::test]
async fn sse_resumes_after_last_event_id_on_one_conversation() {
    let app = App::spawn().await;
    let q = app.queue("Q", json!({"policy": "none"}), &[], &[]).await;
    let c = app.create(&app.admin, json!({"mediaType": "message", "queueId": q})).await;
    let id = c["id"].as_str().unwrap().to_string();
    let other = app.create(&app.admin, json!({"mediaType": "message", "queueId": q})).await;
    let first = app.get(&format!("/v1/conversations/{id}/events"), &app.admin).await.ok();
    let after = first["events"][0]["seq"].as_u64().unwrap();
    let resp = app
        .http
        .get(format!("{}/v1/events/stream?topics=conversations/{id}", app.base))
        .bearer_auth(&app.admin)
        .header("last-event-id", after.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers()["content-type"], "text/event-stream");
    let mut body = resp.bytes_stream();
    app.call(reqwest::Method::PATCH, &format!("/v1/conversations/{id}/attributes"), &app.admin, Some(json!({"x": 1})))
        .await
        .ok();
    let final_version = app.conversation(&id).await["version"].as_u64().unwrap();
    let mut text = String::new();
    let mut versions = Vec::new();
    while versions.last() != Some(&final_version) {
        let chunk = tokio::time::timeout(Duration::from_secs(10), body.next())
            .await
            .expect("data within 10 s")
            .unwrap()
            .unwrap();
        text.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = text.find("\n\n") {
            let block: String = text.drain(..end + 2).collect();
            let data: String = block.lines().filter_map(|l| l.strip_prefix("data:")).map(str::trim).collect();
            let id_line = block.lines().find_map(|l| l.strip_prefix("id:")).map(str::trim);
            if data.is_empty() {
                continue;
            }
            let frame: Value = serde_json::from_str(&data).unwrap();
            assert_eq!(id_line.unwrap().parse::<u64>().unwrap(), frame["seq"].as_u64().unwrap());
            for e in frame["events"].as_array().unwrap() {
                assert_eq!(e["conversationId"], id.as_str(), "only the subscribed conversation");
                assert_ne!(e["conversationId"], other["id"]);
                assert!(e["seq"].as_u64().unwrap() > after, "nothing at or before Last-Event-ID");
                versions.push(e["version"].as_u64().unwrap());
            }
        }
    }
    assert_eq!(versions.first().copied(), Some(1), "the rest of create's events came first");
}

#[tokio::test]
async fn agents_see_only_their_own_conversations() {
    let app = App::spawn().await;
    let (a, b) = (app.user("evie", &["agent"]).await, app.user("finn", &["agent"]).await);
    let qa = app.queue("A", json!({"policy": "none"}), &[], &[&a]).await;
    let qb = app.queue("B", json!({"policy": "none"}), &[], &[&b]).await;
    app.on_queue(&a).await;
    app.on_queue(&b).await;
    let mine = app.create(&app.admin, json!({"mediaType": "voice", "queueId": qa})).await;
    let theirs = app.create(&app.admin, json!({"mediaType": "voice", "queueId": qb})).await;
    let evie = app.login("evie").await;
    let log = log_seqs(&app, &evie).await;
    assert!(!log.is_empty());
    for (_, e) in &log {
        match e["conversationId"].as_str() {
            Some(id) => assert_eq!(id, mine["id"].as_str().unwrap(), "{e}"),
            None => assert_eq!(e["data"]["userId"], a.as_str(), "only her own status events"),
        }
    }
    assert!(log.iter().all(|(_, e)| e["conversationId"] != theirs["id"]));
    // Live: a frame of finn's conversation never reaches her socket; her own does.
    let mut ws = connect(&app, &evie, json!({"subscribe": ["conversations"]})).await;
    assert_eq!(next_frame(&mut ws).await.unwrap()["type"], "subscribed");
    let offer_b = pid(participant(&theirs, "agent", None));
    let finn = app.login("finn").await;
    app.post(
        &format!("/v1/conversations/{}/participants/{offer_b}/answer", theirs["id"].as_str().unwrap()),
        &finn,
        json!({}),
    )
    .await
    .ok();
    let offer_a = pid(participant(&mine, "agent", None));
    app.post(
        &format!("/v1/conversations/{}/participants/{offer_a}/answer", mine["id"].as_str().unwrap()),
        &evie,
        json!({}),
    )
    .await
    .ok();
    let f = next_frame(&mut ws).await.unwrap();
    assert_eq!(f["conversation"]["id"], mine["id"], "the first frame she gets is her own conversation's");
    // Without events:read (a narrow client), the socket is refused before upgrading.
    let narrow = app.client_with(&["routing:read"]).await;
    assert_eq!(app.get("/v1/events/ws", &narrow).await.expect(403)["code"], "missing_scopes");
}

#[tokio::test]
async fn a_subscriber_that_stops_reading_gets_resync() {
    let app = App::spawn_with(|c| c.bus_capacity = 4).await;
    let q = app.queue("Q", json!({"policy": "none"}), &[], &[]).await;
    let c = app.create(&app.admin, json!({"mediaType": "message", "queueId": q})).await;
    let id = c["id"].as_str().unwrap();
    let mut ws = connect(&app, &app.admin, json!({"subscribe": ["conversations"]})).await;
    assert_eq!(next_frame(&mut ws).await.unwrap()["type"], "subscribed");
    // The client does not read while large frames pile up: socket buffers fill, the bus ring overflows.
    let big = "x".repeat(30_000);
    for i in 0..300 {
        let patch = json!({ "blob": format!("{i}{big}") });
        app.call(reqwest::Method::PATCH, &format!("/v1/conversations/{id}/attributes"), &app.admin, Some(patch))
            .await
            .ok();
    }
    let mut last_seq = 0;
    let resync = loop {
        let Some(f) = next_frame(&mut ws).await else { panic!("closed without resync") };
        match f["type"].as_str() {
            Some("resync") => break f,
            _ => last_seq = f["seq"].as_u64().unwrap_or(last_seq),
        }
    };
    assert_eq!(resync["after"].as_u64().unwrap(), last_seq, "resume right after the last frame delivered");
    assert!(next_frame(&mut ws).await.is_none(), "the server closes after resync");
    // Resuming from there yields the rest.
    let mut ws = connect(&app, &app.admin, json!({"subscribe": ["conversations"], "after": last_seq})).await;
    let mut seen = Vec::new();
    read_until(&mut ws, 0, &mut seen).await;
    assert!(!seen.is_empty() && seen.iter().all(|s| *s > last_seq));
}
