//! The issue's lifecycle scenarios: wrap-up on a mandatory queue, amendment and its window, atomic close by
//! a service client, close with pending wrap-ups, If-Match and Idempotency-Key.

use crate::harness::{App, participant, pid};
use reqwest::Method;
use serde_json::json;

/// A voice call is routed to an agent, the agent hangs up on a mandatory queue: wrap-up pending, then set,
/// closed, amended by a supervisor, and refused after the amendment window.
#[tokio::test]
async fn mandatory_wrapup_then_amendment_and_window() {
    let app = App::spawn().await;
    let (resolved, escalated, other) =
        (app.code("Resolved").await, app.code("Escalated").await, app.code("Other queue code").await);
    let agent = app.user("ann", &["agent"]).await;
    app.user("sam", &["supervisor"]).await;
    let q = app.queue("Support", json!({"policy": "mandatory"}), &[&resolved, &escalated], &[&agent]).await;
    app.on_queue(&agent).await;
    let gw = app.client_with(&["conversations:write", "conversations:read"]).await;
    let conv = app
        .create(&gw, json!({"mediaType": "voice", "queueId": q, "from": {"name": "Cy", "address": "+15550101"}}))
        .await;
    let id = conv["id"].as_str().unwrap().to_string();
    let offer = participant(&conv, "agent", Some(&agent));
    assert_eq!(offer["state"], "alerting", "routed at once: {conv}");
    let ann = app.login("ann").await;
    let path = |p: &str, what: &str| format!("/v1/conversations/{id}/participants/{p}/{what}");
    let c = app.post(&path(&pid(offer), "answer"), &ann, json!({})).await.ok();
    assert_eq!(participant(&c, "agent", Some(&agent))["state"], "connected");
    assert_eq!(participant(&c, "acd", None)["stateReason"], "transfer");

    let c = app.post(&path(&pid(offer), "disconnect"), &ann, json!({})).await.ok();
    let me = participant(&c, "agent", Some(&agent));
    assert_eq!(me["stateReason"], "client");
    assert_eq!(me["wrapup"]["status"], "pending");
    assert_eq!(c["state"], "wrapup");
    assert_eq!(c["pendingWrapups"], json!([pid(me)]));
    assert_eq!(participant(&c, "customer", None)["stateReason"], "peer");

    // A code that is not on the queue: 422 naming the allowed codes; nothing changes.
    let version = c["version"].as_u64().unwrap();
    let err = app.put(&path(&pid(me), "wrapup"), &ann, json!({"codeId": other})).await.expect(422);
    assert_eq!(err["code"], "wrapup_code_not_allowed");
    let allowed: Vec<&str> =
        err["allowedCodes"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap()).collect();
    assert_eq!(allowed.len(), 2);
    assert!(allowed.contains(&resolved.as_str()) && allowed.contains(&escalated.as_str()));
    assert_eq!(app.conversation(&id).await["version"], version);

    let c = app.put(&path(&pid(me), "wrapup"), &ann, json!({"codeId": resolved, "notes": "fixed"})).await.ok();
    assert_eq!(c["state"], "closed");
    let w = &participant(&c, "agent", Some(&agent))["wrapup"];
    assert_eq!((w["status"].as_str(), w["codeId"].as_str()), (Some("set"), Some(resolved.as_str())));
    assert!(w["amendableUntil"].is_string());

    // The agent may no longer change it; a supervisor amends and the history keeps the old code.
    let err = app.put(&path(&pid(me), "wrapup"), &ann, json!({"codeId": escalated})).await.expect(403);
    assert_eq!(err["code"], "forbidden");
    let sam = app.login("sam").await;
    let c = app.put(&path(&pid(me), "wrapup"), &sam, json!({"codeId": escalated})).await.ok();
    let w = &participant(&c, "agent", Some(&agent))["wrapup"];
    assert_eq!(w["codeId"], escalated.as_str());
    assert_eq!(w["notes"], "fixed", "omitted fields stay");
    assert_eq!(w["amendedFrom"][0]["codeId"], resolved.as_str());
    assert_eq!(w["amendedFrom"][0]["status"], "set");
    assert_eq!(c["state"], "closed");
    let history = app.get(&format!("/v1/conversations/{id}/events"), &sam).await.ok();
    let types: Vec<&str> = history["events"].as_array().unwrap().iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert!(types.contains(&"wrapup.set") && types.ends_with(&["wrapup.amended"]), "{types:?}");

    // 31 days later the window is closed: 409 with amendableUntil; reading is still 200.
    app.advance(31 * 24 * 3_600_000).await;
    let err = app.put(&path(&pid(me), "wrapup"), &sam, json!({"codeId": resolved})).await.expect(409);
    assert_eq!(err["code"], "amendment_window_closed");
    assert_eq!(err["amendableUntil"], w["amendableUntil"]);
    assert_eq!(app.get(&format!("/v1/conversations/{id}"), &sam).await.expect(200)["state"], "closed");
}

/// A service client closes an active message conversation with a disposition in one call.
#[tokio::test]
async fn service_client_closes_with_disposition_atomically() {
    let app = App::spawn().await;
    let sale = app.code("Sale").await;
    let (a1, a2) = (app.user("a1", &["agent"]).await, app.user("a2", &["agent"]).await);
    let q = app.queue("Chat", json!({"policy": "mandatory"}), &[&sale], &[&a1]).await;
    let q2 = app.queue("Chat 2", json!({"policy": "optional"}), &[&sale], &[&a2]).await;
    app.on_queue(&a1).await;
    app.on_queue(&a2).await;
    let gw =
        app.client_with(&["conversations:write", "conversations:read", "conversations:close", "wrapup:write"]).await;
    let conv = app.create(&gw, json!({"mediaType": "message", "queueId": q})).await;
    let id = conv["id"].as_str().unwrap().to_string();
    let (t1, t2) = (app.login("a1").await, app.login("a2").await);
    let first = pid(participant(&conv, "agent", Some(&a1)));
    app.post(&format!("/v1/conversations/{id}/participants/{first}/answer"), &t1, json!({})).await.ok();
    app.post(&format!("/v1/conversations/{id}/messages"), &t1, json!({"text": "Hello, how can I help?"})).await.ok();
    // a1 hands over to the second queue: it leaves with a pending wrap-up; a2 answers there.
    let c = app
        .post(
            &format!("/v1/conversations/{id}/transfer"),
            &t1,
            json!({"fromParticipantId": first, "to": {"queueId": q2}}),
        )
        .await
        .ok();
    assert_eq!(participant(&c, "agent", Some(&a1))["stateReason"], "transfer");
    assert_eq!(participant(&c, "agent", Some(&a1))["wrapup"]["status"], "pending");
    let second = pid(participant(&c, "agent", Some(&a2)));
    let c = app.post(&format!("/v1/conversations/{id}/participants/{second}/answer"), &t2, json!({})).await.ok();
    assert_eq!(participant(&c, "agent", Some(&a2))["state"], "connected");
    let before = c["version"].as_u64().unwrap();

    let c = app
        .post(&format!("/v1/conversations/{id}/close"), &gw, json!({"wrapup": {"codeId": sale, "notes": "order 42"}}))
        .await
        .ok();
    assert_eq!(c["state"], "closed");
    assert_eq!(c["version"].as_u64().unwrap(), before + 1, "one command, one version");
    assert_eq!(c["disposition"]["codeId"], sale.as_str());
    assert_eq!(c["disposition"]["setBy"]["kind"], "client");
    for user in [&a1, &a2] {
        let agent = participant(&c, "agent", Some(user));
        assert_eq!(agent["wrapup"]["status"], "set", "{agent}");
        assert_eq!(agent["wrapup"]["codeId"], sale.as_str());
    }
    assert_eq!(participant(&c, "agent", Some(&a2))["stateReason"], "system");
    assert_eq!(c["endReason"], "closed");
    let events = app.get(&format!("/v1/conversations/{id}/events?after=0"), &gw).await.ok();
    let last: Vec<_> = events["events"].as_array().unwrap().iter().filter(|e| e["version"] == before + 1).collect();
    assert!(last.iter().any(|e| e["type"] == "conversation.closed"));

    // Closing again the same way answers 200 and changes nothing.
    let again =
        app.post(&format!("/v1/conversations/{id}/close"), &gw, json!({"wrapup": {"codeId": sale}})).await.expect(200);
    assert_eq!(again["version"], c["version"]);
    // A different code on a closed conversation: 409, amend instead.
    let other = app.code("Other").await;
    let err =
        app.post(&format!("/v1/conversations/{id}/close"), &gw, json!({"wrapup": {"codeId": other}})).await.expect(409);
    assert_eq!(err["code"], "invalid_transition");
    assert_eq!(err["state"], "closed");
}

/// Close without a code on a mandatory queue: the media ends and the response names who is still pending.
#[tokio::test]
async fn close_without_code_leaves_pending_wrapups_named() {
    let app = App::spawn().await;
    let code = app.code("Done").await;
    let agent = app.user("bo", &["agent"]).await;
    let q = app.queue("Q", json!({"policy": "mandatory"}), &[&code], &[&agent]).await;
    app.on_queue(&agent).await;
    let conv = app.create(&app.admin, json!({"mediaType": "voice", "queueId": q})).await;
    let id = conv["id"].as_str().unwrap();
    let offer = pid(participant(&conv, "agent", None));
    app.post(&format!("/v1/conversations/{id}/participants/{offer}/answer"), &app.admin, json!({})).await.ok();
    let c = app.post(&format!("/v1/conversations/{id}/close"), &app.admin, json!({})).await.ok();
    assert_eq!(c["state"], "wrapup");
    assert_eq!(c["endReason"], "closed");
    assert_eq!(c["pendingWrapups"], json!([offer]));
    assert!(c["participants"].as_array().unwrap().iter().all(|p| p["state"] == "disconnected"));
    // The agent is still busy (pending wrap-up counts as load) until it sets the code.
    assert_eq!(app.routing_status(&agent).await, "interacting");
    // pendingWrapups: system resolves it with WRAPUP-SYSTEM.
    let c =
        app.post(&format!("/v1/conversations/{id}/close"), &app.admin, json!({"pendingWrapups": "system"})).await.ok();
    assert_eq!(c["state"], "closed");
    assert_eq!(participant(&c, "agent", None)["wrapup"]["codeId"], "WRAPUP-SYSTEM");
    assert_eq!(app.routing_status(&agent).await, "idle");
}

/// A stale If-Match is 412 with currentVersion; Idempotency-Key replays; the same key with another body is 422.
#[tokio::test]
async fn preconditions_and_idempotency() {
    let app = App::spawn().await;
    let q = app.queue("Q", json!({"policy": "none"}), &[], &[]).await;
    let conv = app.create(&app.admin, json!({"mediaType": "message", "queueId": q})).await;
    let id = conv["id"].as_str().unwrap();
    let v = conv["version"].as_u64().unwrap();
    assert_eq!(app.get(&format!("/v1/conversations/{id}"), &app.admin).await.headers["etag"], format!("\"{v}\""));
    let patch = |body: &str, headers: &[(&str, &str)]| {
        let path = format!("/v1/conversations/{id}/attributes");
        let (body, headers) =
            (body.to_string(), headers.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect::<Vec<_>>());
        let app = &app;
        async move {
            let h: Vec<(&str, &str)> = headers.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
            app.raw(Method::PATCH, &path, Some(&app.admin), Some(&body), &h).await
        }
    };
    let stale = format!("\"{}\"", v + 5);
    let err = patch(r#"{"a": 1}"#, &[("if-match", &stale)]).await.expect(412);
    assert_eq!(err["code"], "version_mismatch");
    assert_eq!(err["currentVersion"], v);
    assert_eq!(err["current"]["id"], id);
    let ok = patch(r#"{"a": 1}"#, &[("if-match", &format!("\"{v}\""))]).await.ok();
    assert_eq!(ok["version"], v + 1);

    let first = patch(r#"{"b": 2}"#, &[("idempotency-key", "k-1")]).await.ok();
    let replay = patch(r#"{ "b" : 2 }"#, &[("idempotency-key", "k-1")]).await;
    assert_eq!(replay.headers["idempotent-replayed"], "true");
    assert_eq!(replay.body["version"], first["version"], "not applied twice");
    assert_eq!(app.conversation(id).await["version"], first["version"]);
    let err = patch(r#"{"b": 3}"#, &[("idempotency-key", "k-1")]).await.expect(422);
    assert_eq!(err["code"], "idempotency_key_reused");
    // Both a header and a body version that disagree: 400.
    let c = app.conversation(id).await;
    let agentless = app
        .raw(
            Method::POST,
            &format!("/v1/conversations/{id}/close"),
            Some(&app.admin),
            Some(&json!({"version": 1}).to_string()),
            &[("if-match", "\"2\"")],
        )
        .await;
    assert_eq!(agentless.status, 400);
    assert_eq!(app.conversation(id).await["version"], c["version"]);
}
