//! Customers on web messaging: a guest session, the guest socket both ways, the end reaching the guest and
//! the agent's subscription, no internal data in any guest frame, reconnect after the end, rate limits.

use crate::harness::{App, participant, pid};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn guest_socket(app: &App, token: &str) -> Ws {
    let url = format!("{}/v1/guest/ws?token={token}", app.base.replace("http", "ws"));
    tokio_tungstenite::connect_async(url).await.expect("guest socket").0
}

async fn next(ws: &mut Ws) -> Option<Value> {
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(10), ws.next()).await.expect("a frame within 10 s")?;
        match msg.ok()? {
            Message::Text(t) => return Some(serde_json::from_str(&t).unwrap()),
            Message::Close(_) => return None,
            _ => {}
        }
    }
}

/// Reads guest frames until one of `kind`, keeping every frame seen.
async fn until(ws: &mut Ws, kind: &str, seen: &mut Vec<Value>) -> Value {
    loop {
        let f = next(ws).await.unwrap_or_else(|| panic!("closed before {kind}; saw {seen:?}"));
        seen.push(f.clone());
        if f["type"] == kind {
            return f;
        }
    }
}

#[tokio::test]
async fn a_guest_chats_and_learns_the_conversation_ended() {
    let app = App::spawn().await;
    let code = app.code("Resolved").await;
    let agent = app.user("gina", &["agent"]).await;
    let q = app.queue("Chat", json!({"policy": "mandatory"}), &[&code], &[&agent]).await;
    app.on_queue(&agent).await;
    let s = app
        .raw(
            reqwest::Method::POST,
            "/v1/guest/sessions",
            None,
            Some(&json!({"queueId": q, "name": "Gus"}).to_string()),
            &[],
        )
        .await;
    assert_eq!(s.status, 201, "{}", s.body);
    let (conv_id, token) =
        (s.body["conversationId"].as_str().unwrap().to_string(), s.body["guestToken"].as_str().unwrap().to_string());
    // The guest token reaches nothing but the guest channel.
    assert_eq!(app.get(&format!("/v1/conversations/{conv_id}"), &token).await.status, 401);

    let mut ws = guest_socket(&app, &token).await;
    let mut seen = Vec::new();
    until(&mut ws, "ready", &mut seen).await;
    ws.send(Message::Text(json!({"type": "message", "text": "Hello, my order is late"}).to_string().into()))
        .await
        .unwrap();
    ws.send(Message::Text(json!({"type": "typing"}).to_string().into())).await.unwrap();
    ws.send(Message::Text(json!({"type": "nonsense"}).to_string().into())).await.unwrap();
    until(&mut ws, "message", &mut seen).await;
    assert_eq!(until(&mut ws, "error", &mut seen).await["code"], "invalid_body");

    // The agent answers, types and writes; a supervisor's subscription watches.
    let gina = app.login("gina").await;
    let conv = app.conversation(&conv_id).await;
    let offer = pid(participant(&conv, "agent", Some(&agent)));
    assert_eq!(participant(&conv, "customer", None)["name"], "Gus");
    let mut watch =
        crate::events::connect(&app, &app.admin, json!({"subscribe": [format!("conversations/{conv_id}")]})).await;
    assert_eq!(crate::events::next_frame(&mut watch).await.unwrap()["type"], "subscribed");
    app.post(&format!("/v1/conversations/{conv_id}/participants/{offer}/answer"), &gina, json!({})).await.ok();
    assert_eq!(until(&mut ws, "agentJoined", &mut seen).await["name"], "gina");
    let r = app
        .raw(
            reqwest::Method::POST,
            &format!("/v1/conversations/{conv_id}/participants/{offer}/typing"),
            Some(&gina),
            None,
            &[],
        )
        .await;
    assert_eq!(r.status, 204);
    until(&mut ws, "typing", &mut seen).await;
    app.post(&format!("/v1/conversations/{conv_id}/messages"), &gina, json!({"text": "Let me check that for you"}))
        .await
        .ok();
    let m = until(&mut ws, "message", &mut seen).await;
    assert_eq!((m["from"].as_str(), m["text"].as_str()), (Some("agent"), Some("Let me check that for you")));

    // The backend closes with a disposition: the guest sees the end, the subscription sees closed.
    let gw = app.client_with(&["conversations:close", "wrapup:write", "conversations:read"]).await;
    app.post(
        &format!("/v1/conversations/{conv_id}/close"),
        &gw,
        json!({"wrapup": {"codeId": code, "notes": "refund issued"}}),
    )
    .await
    .ok();
    assert_eq!(until(&mut ws, "conversation.ended", &mut seen).await["reason"], "closed");
    assert!(next(&mut ws).await.is_none(), "the guest socket closes after the end");
    let mut types = Vec::new();
    while !types.contains(&"conversation.closed".to_string()) {
        let f = crate::events::next_frame(&mut watch).await.unwrap();
        // Typing frames are ephemeral and carry no events.
        for e in f["events"].as_array().into_iter().flatten() {
            types.push(e["type"].as_str().unwrap().to_string());
        }
    }

    // No guest frame carries internal data.
    let all = serde_json::to_string(&seen).unwrap();
    for secret in
        ["codeId", "wrapup", "refund issued", "userId", "attributes", agent.as_str(), offer.as_str(), code.as_str()]
    {
        assert!(!all.contains(secret), "a guest frame leaked {secret:?}: {all}");
    }

    // Back after the end: the transcript and the end, then a new conversation is possible.
    let mut ws = guest_socket(&app, &token).await;
    let mut again = Vec::new();
    let transcript = until(&mut ws, "transcript", &mut again).await;
    let texts: Vec<&str> =
        transcript["messages"].as_array().unwrap().iter().map(|m| m["text"].as_str().unwrap()).collect();
    assert_eq!(texts, ["Hello, my order is late", "Let me check that for you"]);
    assert_eq!(until(&mut ws, "conversation.ended", &mut again).await["reason"], "closed");
    let s = app
        .raw(
            reqwest::Method::POST,
            "/v1/guest/sessions",
            None,
            Some(&json!({"queueId": q, "name": "Gus"}).to_string()),
            &[],
        )
        .await;
    assert_eq!(s.status, 201);
    assert_ne!(s.body["conversationId"].as_str().unwrap(), conv_id);
}

#[tokio::test]
async fn a_guest_leaving_ends_the_conversation_and_sessions_are_rate_limited() {
    let app = App::spawn_with(|c| c.guest_sessions_per_minute = 2).await;
    let q = app.queue("Chat", json!({"policy": "none"}), &[], &[]).await;
    let open = |name: &'static str| {
        let (app, q) = (&app, q.clone());
        async move {
            app.raw(
                reqwest::Method::POST,
                "/v1/guest/sessions",
                None,
                Some(&json!({"queueId": q, "name": name}).to_string()),
                &[],
            )
            .await
        }
    };
    let first = open("Ann").await;
    let token = first.body["guestToken"].as_str().unwrap().to_string();
    let mut ws = guest_socket(&app, &token).await;
    until(&mut ws, "ready", &mut Vec::new()).await;
    ws.send(Message::Text(json!({"type": "leave"}).to_string().into())).await.unwrap();
    assert_eq!(until(&mut ws, "conversation.ended", &mut Vec::new()).await["reason"], "customerLeft");
    let c = app.conversation(first.body["conversationId"].as_str().unwrap()).await;
    assert_eq!(participant(&c, "acd", None)["abandoned"], true);
    // An unknown queue is refused (and still counts); the third session in a minute is 429 with Retry-After.
    assert_eq!(
        app.raw(reqwest::Method::POST, "/v1/guest/sessions", None, Some(r#"{"queueId": "nope", "name": "x"}"#), &[])
            .await
            .status,
        422
    );
    let limited = open("Bo").await;
    assert_eq!(limited.status, 429, "{}", limited.body);
    assert!(limited.headers["retry-after"].to_str().unwrap().parse::<u64>().unwrap() >= 1);
    assert_eq!(limited.body["code"], "rate_limited");
    // A forged or expired guest token is refused before upgrading.
    let r = app.raw(reqwest::Method::GET, "/v1/guest/ws?token=sb1.forged.sig", None, None, &[]).await;
    assert_eq!(r.status, 401);
}

#[tokio::test]
async fn deployments_require_their_key_and_origin() {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let app = App::spawn().await;
    let q = app.queue("Web", json!({"policy": "none"}), &[], &[]).await;
    let bad = app
        .post(
            "/v1/messaging-deployments",
            &app.admin,
            json!({"name": "Site", "queueId": "nope", "allowedOrigins": ["shop.example/"]}),
        )
        .await
        .expect(422);
    let pointers: Vec<&str> =
        bad["violations"].as_array().unwrap().iter().map(|v| v["pointer"].as_str().unwrap()).collect();
    assert_eq!(pointers, ["/queueId", "/allowedOrigins/0"]);
    let d = app
        .post(
            "/v1/messaging-deployments",
            &app.admin,
            json!({"name": "Site", "queueId": q, "requireKey": true, "allowedOrigins": ["https://shop.example"]}),
        )
        .await
        .expect(201);
    let (did, key) = (d["id"].as_str().unwrap().to_string(), d["key"].as_str().unwrap().to_string());
    let session = |body: Value, origin: Option<&'static str>| {
        let app = &app;
        async move {
            let headers: Vec<(&str, &str)> = origin.map(|o| vec![("origin", o)]).unwrap_or_default();
            app.raw(reqwest::Method::POST, "/v1/guest/sessions", None, Some(&body.to_string()), &headers).await
        }
    };
    let code = |r: &crate::harness::Resp| (r.status.as_u16(), r.body["code"].as_str().map(String::from));
    let r = session(json!({"queueId": q, "name": "Eve"}), Some("https://shop.example")).await;
    assert_eq!(
        code(&r),
        (403, Some("deployment_key_required".into())),
        "the queue is not reachable around its deployment"
    );
    let r = session(json!({"deploymentId": did, "name": "Eve"}), Some("https://shop.example")).await;
    assert_eq!(code(&r), (403, Some("deployment_key_required".into())));
    let r =
        session(json!({"deploymentId": did, "deploymentKey": "wrong", "name": "Eve"}), Some("https://shop.example"))
            .await;
    assert_eq!(code(&r), (403, Some("deployment_key_required".into())));
    let r =
        session(json!({"deploymentId": did, "deploymentKey": key, "name": "Eve"}), Some("https://evil.example")).await;
    assert_eq!(code(&r), (403, Some("origin_not_allowed".into())));
    let r = session(json!({"deploymentId": did, "deploymentKey": key, "name": "Eve"}), None).await;
    assert_eq!(code(&r), (403, Some("origin_not_allowed".into())));
    let ok =
        session(json!({"deploymentId": did, "deploymentKey": key, "name": "Eve"}), Some("https://shop.example")).await;
    assert_eq!(ok.status, 201, "{}", ok.body);
    let token = ok.body["guestToken"].as_str().unwrap();
    // The guest socket checks Origin too: refused before upgrading from another site, fine from the shop.
    let url = format!("{}/v1/guest/ws?token={token}", app.base.replace("http", "ws"));
    let mut evil = url.as_str().into_client_request().unwrap();
    evil.headers_mut().insert("origin", "https://evil.example".parse().unwrap());
    assert!(tokio_tungstenite::connect_async(evil).await.is_err(), "a foreign origin cannot open the guest socket");
    let mut good = url.as_str().into_client_request().unwrap();
    good.headers_mut().insert("origin", "https://shop.example".parse().unwrap());
    let (mut ws, _) = tokio_tungstenite::connect_async(good).await.expect("the shop's page connects");
    until(&mut ws, "ready", &mut Vec::new()).await;
}

#[tokio::test]
async fn guest_sockets_and_frames_are_bounded() {
    let app = App::spawn().await;
    let q = app.queue("Chat", json!({"policy": "none"}), &[], &[]).await;
    let session = app
        .raw(
            reqwest::Method::POST,
            "/v1/guest/sessions",
            None,
            Some(&json!({"queueId": q, "name": "Ann"}).to_string()),
            &[],
        )
        .await;
    let token = session.body["guestToken"].as_str().unwrap().to_string();
    let mut sockets = Vec::new();
    for _ in 0..4 {
        let mut ws = guest_socket(&app, &token).await;
        until(&mut ws, "ready", &mut Vec::new()).await;
        sockets.push(ws);
    }
    let url = format!("{}/v1/guest/ws?token={token}", app.base.replace("http", "ws"));
    match tokio_tungstenite::connect_async(url).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => assert_eq!(resp.status(), 429),
        other => panic!("a fifth socket must be refused with 429, got {:?}", other.map(|(_, r)| r.status())),
    }
    // A burst of frames beyond the budget is answered with rate_limited errors.
    let id = session.body["conversationId"].as_str().unwrap();
    let version = app.conversation(id).await["version"].clone();
    let ws = &mut sockets[0];
    for _ in 0..40 {
        ws.send(Message::Text(json!({"type": "typing"}).to_string().into())).await.unwrap();
    }
    let limited = until(ws, "error", &mut Vec::new()).await;
    assert_eq!(limited["code"], "rate_limited", "{limited}");
    assert_eq!(app.conversation(id).await["version"], version, "typing frames never reach the writer");
}
