//! The Genesys Cloud facade on the real server: its error shape whichever layer refuses, and tenancy across
//! every implemented operation. What the official SDKs see is proven in compat/genesys/sdk-tests.

use crate::harness::{App, participant, pid};
use reqwest::Method;
use serde_json::{Value, json};
use switchboard_compat_genesys::{OPS, implemented};

#[track_caller]
fn assert_error_body(body: &Value, status: u16, code: &str) {
    for key in ["message", "code", "status", "messageParams", "contextId", "details", "errors"] {
        assert!(body.get(key).is_some(), "{key} missing in {body}");
    }
    assert_eq!(body["status"], status, "{body}");
    assert_eq!(body["code"], code, "{body}");
}

#[tokio::test]
async fn every_refusal_is_a_vendor_error_body_with_the_request_id() {
    let app = App::spawn_with(|c| c.rate.per_identity = 3).await;
    let r = app.raw(Method::GET, "/api/v2/users/me", None, None, &[("x-request-id", "req-123")]).await;
    assert_eq!(r.status, 401);
    assert_error_body(&r.body, 401, "authentication.required");
    assert_eq!(r.body["contextId"], "req-123");
    assert_eq!(r.headers["content-type"], "application/json");

    let r = app.raw(Method::GET, "/api/v2/nothing/here", Some(&app.admin), None, &[]).await;
    assert_error_body(&r.body, 404, "not.found");
    let r = app.raw(Method::PATCH, "/api/v2/routing/wrapupcodes", Some(&app.admin), None, &[]).await;
    assert_error_body(&r.body, 404, "not.found");
    assert!(r.body["message"].as_str().unwrap().contains("method"));

    // An operation of the spec without a translation: 501 naming it.
    let r = app.raw(Method::GET, "/api/v2/users", Some(&app.admin), None, &[]).await;
    assert_error_body(&r.body, 501, "not.implemented");
    assert_eq!(r.body["messageParams"]["operationId"], "get_users");

    // The native rate limiter's 429 is rewritten, its headers kept.
    let r = app.raw(Method::GET, "/api/v2/routing/queues", Some(&app.admin), None, &[]).await;
    assert_eq!(r.status, 429, "{}", r.body);
    assert_error_body(&r.body, 429, "too.many.requests");
    assert!(r.headers.contains_key("retry-after"));
}

#[tokio::test]
async fn bodies_are_read_tolerantly_and_refused_precisely() {
    let app = App::spawn().await;
    // `null` where a body is needed, a field of the wrong type, and unknown fields (ignored).
    let r = app.raw(Method::POST, "/api/v2/routing/wrapupcodes", Some(&app.admin), Some("null"), &[]).await;
    assert_error_body(&r.body, 400, "bad.request");
    let r = app.raw(Method::POST, "/api/v2/routing/wrapupcodes", Some(&app.admin), Some(r#"{"name": 5}"#), &[]).await;
    assert_error_body(&r.body, 400, "bad.request");
    let r = app
        .raw(
            Method::POST,
            "/api/v2/routing/wrapupcodes",
            Some(&app.admin),
            Some(r#"{"name":"Ok","division":{"id":"x"},"x":1}"#),
            &[],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    // A GET with Content-Type: application/json and an empty body, as the SDKs send it.
    let r = app.raw(Method::GET, "/api/v2/routing/wrapupcodes", Some(&app.admin), Some(""), &[]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["total"], 1);
    // Analytics bodies a careless client could send: an empty clause, a page beyond any bound.
    let interval = "2026-01-01T00:00:00Z/2026-01-02T00:00:00Z";
    for (path, body) in [
        ("details", json!({"interval": interval, "segmentFilters": [{"type": "and", "clauses": [{"type": "or"}]}]})),
        ("details", json!({"interval": interval, "paging": {"pageSize": 100, "pageNumber": u64::MAX}})),
        ("details", json!({"interval": "yesterday"})),
        (
            "aggregates",
            json!({"interval": interval, "metrics": ["tHandle"], "filter": {"type": "and", "clauses": [{"type": "or"}]}}),
        ),
        ("aggregates", json!({"interval": interval, "metrics": ["nSomething"]})),
    ] {
        let r = app.post(&format!("/api/v2/analytics/conversations/{path}/query"), &app.admin, body.clone()).await;
        assert_error_body(&r.body, 400, "bad.request");
        assert!(!r.body["details"].as_array().unwrap().is_empty(), "{body} names the field: {}", r.body);
    }
    let big = format!(r#"{{"name":"{}"}}"#, "x".repeat(300 * 1024));
    let r = app.raw(Method::POST, "/api/v2/routing/wrapupcodes", Some(&app.admin), Some(&big), &[]).await;
    assert_error_body(&r.body, 400, "bad.request");
}

/// Org A's ids for every path parameter the implemented operations take.
async fn seed(app: &App) -> (Vec<(&'static str, String)>, Vec<String>) {
    let code = app.code("Secret Code A").await;
    let agent = app.user("agent-a1", &["agent"]).await;
    let queue = app.queue("Secret Queue A", json!({"policy": "optional"}), &[&code], &[&agent]).await;
    app.on_queue(&agent).await;
    let conv = app
        .create(&app.admin, json!({"mediaType": "message", "queueId": queue, "from": {"name": "Secret Customer", "address": "+15550100"}}))
        .await;
    let id = conv["id"].as_str().unwrap().to_string();
    let p = participant(&conv, "agent", Some(&agent));
    let comm = p["communicationId"].as_str().unwrap_or_default().to_string();
    let channel = app.post("/api/v2/notifications/channels", &app.admin, json!(null)).await.ok()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let ids = vec![
        ("channelId", channel),
        ("codeId", code),
        ("queueId", queue),
        ("userId", agent.clone()),
        ("conversationId", id),
        ("participantId", pid(p)),
        ("communicationId", comm),
    ];
    (ids, vec!["Secret Code A".into(), "Secret Queue A".into(), "Secret Customer".into(), "agent-a1".into()])
}

#[tokio::test]
async fn another_orgs_admin_reaches_nothing_through_any_implemented_operation() {
    let app = App::spawn().await;
    let (ids, markers) = seed(&app).await;
    let before = app.get("/v1/queues", &app.admin).await.ok();
    let org = app.post("/v1/admin/orgs", &app.admin, json!({"name": "Org B"})).await.expect(201);
    let other = app
        .client_token(org["adminClient"]["clientId"].as_str().unwrap(), org["adminClient"]["secret"].as_str().unwrap())
        .await;
    let mut walked = 0;
    for spec in OPS.iter().filter(|s| implemented(s.op)) {
        let mut path = spec.path.to_string();
        for (name, value) in &ids {
            path = path.replace(&format!("{{{name}}}"), value);
        }
        assert!(!path.contains('{'), "no id for a parameter of {}", spec.path);
        let method = Method::from_bytes(spec.method.as_bytes()).unwrap();
        let body =
            if spec.path.ends_with("members") || spec.path.ends_with("wrapupcodes") && spec.path.contains("queues/") {
                // Org A's user (members) and code (queue codes): ids that exist, in the other org.
                let target = if spec.path.ends_with("members") { "userId" } else { "codeId" };
                json!([{"id": ids.iter().find(|(n, _)| *n == target).map(|(_, v)| v.clone())}])
            } else {
                json!({"name": "Hijack", "status": "IDLE", "state": "disconnected"})
            };
        let r = app.call(method, &path, &other, Some(body)).await;
        let text = r.body.to_string();
        for m in &markers {
            assert!(!text.contains(m.as_str()), "{} {} leaked {m}: {text}", spec.method, spec.path);
        }
        let s = r.status.as_u16();
        // Listings answer the caller's own (empty) org; the vendor reads an unknown user's status as OFF_QUEUE.
        let own_listing = spec.method == "GET" && !spec.path.ends_with('}');
        let status_read = spec.name == "get_user_routingstatus" && r.body["status"] == "OFF_QUEUE";
        let creation = spec.method == "POST" && !spec.path.contains('{');
        assert!(
            matches!(s, 400 | 403 | 404) || (s == 200 && (own_listing || status_read || creation)),
            "{} {} answered {s}: {text}",
            spec.method,
            spec.path
        );
        walked += 1;
    }
    assert!(walked >= 20, "walked {walked} operations");
    assert_eq!(app.get("/v1/queues", &app.admin).await.ok(), before, "nothing of org A changed");
}

#[tokio::test]
async fn web_messaging_sockets_spend_the_guest_session_budget_and_need_a_known_deployment() {
    let app = App::spawn_with(|c| c.guest_sessions_per_minute = 1).await;
    let queue = app.queue("Web", json!({"policy": "optional"}), &[], &[]).await;
    let dep =
        app.post("/v1/messaging-deployments", &app.admin, json!({"name": "Web", "queueId": queue})).await.expect(201);
    let ws = app.base.replace("http://", "ws://");
    let url = format!("{ws}/v1?deploymentId={}", dep["id"].as_str().unwrap());
    let first = tokio_tungstenite::connect_async(url.as_str()).await;
    assert!(first.is_ok(), "the first socket opens");
    match tokio_tungstenite::connect_async(url.as_str()).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => assert_eq!(resp.status(), 429),
        other => panic!("expected 429, got {other:?}"),
    }
    let app = App::spawn().await;
    match tokio_tungstenite::connect_async(format!("{}/v1?deploymentId=nope", app.base.replace("http://", "ws://")))
        .await
    {
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => assert_eq!(resp.status(), 404),
        other => panic!("expected 404, got {other:?}"),
    }
}

#[tokio::test]
async fn signing_out_everywhere_closes_the_users_notification_sockets() {
    use futures_util::StreamExt;
    let app = App::spawn_with(|c| c.genesys_heartbeat_secs = 1).await;
    let user = app.user("agent-n1", &["agent"]).await;
    let token = app.login("agent-n1").await;
    let ch = app.post("/api/v2/notifications/channels", &token, json!(null)).await.ok();
    let (mut ws, _) = tokio_tungstenite::connect_async(ch["connectUri"].as_str().unwrap()).await.expect("socket");
    let r = app.call(Method::DELETE, &format!("/v1/users/{user}/sessions"), &app.admin, None).await;
    assert!(r.status.is_success(), "{}", r.body);
    // Heartbeats come every second; the next one finds the token revoked.
    let mut closing = None;
    for _ in 0..5 {
        let Some(Ok(msg)) = ws.next().await else { break };
        let v: Value = serde_json::from_str(msg.to_text().unwrap_or("{}")).unwrap_or(Value::Null);
        if v["topicName"] == "v2.system.socket_closing" {
            closing = Some(v);
            break;
        }
    }
    let closing = closing.expect("a socket_closing frame");
    assert_eq!(closing["eventBody"]["systemTopicType"], "token_revoked");
    let head = app
        .call(Method::HEAD, &format!("/api/v2/notifications/channels/{}", ch["id"].as_str().unwrap()), &app.admin, None)
        .await;
    assert_eq!(head.status, 404, "the channel is gone");
}

#[tokio::test]
async fn an_unrelated_agent_reaches_no_conversation_through_any_implemented_operation() {
    let app = App::spawn().await;
    let (ids, _) = seed(&app).await;
    app.user("agent-stranger", &["agent"]).await;
    let stranger = app.login("agent-stranger").await;
    let id = |name: &str| ids.iter().find(|(n, _)| *n == name).map(|(_, v)| v.clone()).unwrap();
    let before = app.conversation(&id("conversationId")).await["version"].clone();
    let mut walked = 0;
    for spec in OPS.iter().filter(|s| implemented(s.op) && s.path.contains("{conversationId}")) {
        let mut path = spec.path.to_string();
        for (name, value) in &ids {
            path = path.replace(&format!("{{{name}}}"), value);
        }
        let method = Method::from_bytes(spec.method.as_bytes()).unwrap();
        let body = json!({"state": "disconnected", "wrapup": {"code": id("codeId")}, "attributes": {"k": "v"},
                          "queueId": id("queueId"), "textBody": "hi", "afterCallWorkRequired": true, "code": id("codeId")});
        let r = app.call(method, &path, &stranger, Some(body)).await;
        assert!(
            matches!(r.status.as_u16(), 403 | 404),
            "{} {} answered {}: {}",
            spec.method,
            spec.path,
            r.status,
            r.body
        );
        assert!(!r.body.to_string().contains("Secret Customer"), "{} leaked the customer", spec.path);
        walked += 1;
    }
    assert!(walked >= 30, "walked {walked} conversation operations");
    assert_eq!(app.conversation(&id("conversationId")).await["version"], before, "nothing changed");
}
