//! Bad input: every malformed, mistyped, unknown, oversize or impossible request gets its own status and a
//! problem body, and changes nothing.

use crate::harness::{App, participant, pid};
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn malformed_and_invalid_requests_change_nothing() {
    let app = App::spawn().await;
    let q = app.queue("Q", json!({"policy": "mandatory"}), &[], &[]).await;
    let conv = app.create(&app.admin, json!({"mediaType": "voice", "queueId": q})).await;
    let id = conv["id"].as_str().unwrap();
    let version = conv["version"].clone();
    let post = |path: String, body: &'static str| {
        let app = &app;
        async move { app.raw(Method::POST, &path, Some(&app.admin), Some(body), &[]).await }
    };

    let r = post("/v1/conversations".into(), "{not json").await;
    assert_eq!((r.status.as_u16(), r.body["code"].as_str()), (400, Some("malformed_json")));
    assert_eq!(r.headers["content-type"], "application/problem+json");
    let r = post("/v1/conversations".into(), r#"{"mediaType": 7}"#).await;
    assert_eq!((r.status.as_u16(), r.body["code"].as_str()), (400, Some("invalid_body")));
    assert_eq!(r.body["violations"][0]["pointer"], "/mediaType");
    let r = post("/v1/conversations".into(), r#"{"mediaType": "voice", "queueID": "x"}"#).await;
    assert_eq!(r.status, 400, "unknown fields are refused: {}", r.body);
    assert!(r.body["detail"].as_str().unwrap().contains("queueID"));
    let r = post("/v1/conversations".into(), r#"{"mediaType": "fax"}"#).await;
    assert_eq!(r.status, 400);
    // Well-formed but invalid: 422 with every violation.
    let r = post(
        "/v1/conversations".into(),
        r#"{"mediaType": "voice", "queueId": "nope", "botName": "b", "attributes": 3}"#,
    )
    .await;
    assert_eq!(r.status, 422);
    let pointers: Vec<&str> =
        r.body["violations"].as_array().unwrap().iter().map(|v| v["pointer"].as_str().unwrap()).collect();
    assert!(pointers.contains(&"/queueId") && pointers.contains(&"/attributes"), "{pointers:?}");
    // Unknown ids.
    assert_eq!(app.get("/v1/conversations/0000", &app.admin).await.expect(404)["code"], "not_found");
    let r = post(format!("/v1/conversations/{id}/participants/nope/answer"), "{}").await;
    assert_eq!(r.status, 404);
    // Impossible transitions: 409 with state and allowed actions.
    let acd = pid(participant(&conv, "acd", None));
    let r = post(format!("/v1/conversations/{id}/participants/{acd}/answer"), "{}").await;
    assert_eq!(r.status, 409);
    assert_eq!(r.body["state"], "active");
    assert!(r.body["allowedActions"].as_array().unwrap().contains(&json!("close")));
    let r = post(format!("/v1/conversations/{id}/messages"), r#"{"text": "hi"}"#).await;
    assert_eq!(r.status, 409, "voice has no messages: {}", r.body);
    // Oversize body: 413.
    let big = format!(r#"{{"mediaType": "voice", "attributes": {{"x": "{}"}}}}"#, "a".repeat(300 * 1024));
    let r = app.raw(Method::POST, "/v1/conversations", Some(&app.admin), Some(&big), &[]).await;
    assert_eq!((r.status.as_u16(), r.body["code"].as_str()), (413, Some("body_too_large")));
    // Bad headers and queries.
    let r = app
        .raw(
            Method::PATCH,
            &format!("/v1/conversations/{id}/attributes"),
            Some(&app.admin),
            Some("{}"),
            &[("if-match", "abc")],
        )
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(
        app.get("/v1/conversations?limit=0", &app.admin).await.expect(422)["violations"][0]["pointer"],
        "/limit"
    );
    assert_eq!(app.get("/v1/conversations?state=open", &app.admin).await.status, 422);
    // Unknown endpoint and method.
    assert_eq!(app.get("/v1/nothing", &app.admin).await.expect(404)["code"], "not_found");
    assert_eq!(
        app.call(Method::DELETE, "/v1/conversations", &app.admin, None).await.expect(405)["code"],
        "method_not_allowed"
    );
    // Nothing changed.
    assert_eq!(app.conversation(id).await["version"], version);
    let listed = app.get("/v1/conversations", &app.admin).await.ok();
    assert_eq!(listed["entities"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn configuration_is_validated() {
    let app = App::spawn().await;
    let code = app.code("Only").await;
    let bad = app
        .post(
            "/v1/queues",
            &app.admin,
            json!({"name": "", "acw": {"policy": "mandatoryTimeout", "timeoutMs": 10, "defaultCodeId": "x"}}),
        )
        .await
        .expect(422);
    let pointers: Vec<&str> =
        bad["violations"].as_array().unwrap().iter().map(|v| v["pointer"].as_str().unwrap()).collect();
    assert_eq!(pointers, ["/name", "/acw/timeoutMs", "/acw/defaultCodeId"]);
    let q = app.queue("Q", json!({"policy": "none"}), &[&code], &[]).await;
    let err = app.put(&format!("/v1/queues/{q}/wrapup-codes"), &app.admin, json!(["WRAPUP-TIMEOUT"])).await.expect(422);
    assert_eq!(err["violations"][0]["pointer"], "/wrapupCodes/0");
    let err = app.put(&format!("/v1/queues/{q}/members"), &app.admin, json!(["ghost"])).await.expect(422);
    assert_eq!(err["violations"][0]["pointer"], "/0");
    let err = app.put("/v1/wrapup-codes/WRAPUP-SYSTEM", &app.admin, json!({"name": "mine"})).await.expect(409);
    assert_eq!(err["code"], "system_code");
    assert_eq!(
        app.post("/v1/wrapup-codes", &app.admin, json!({"name": "Only"})).await.expect(409)["code"],
        "already_exists"
    );
    // Versions on configuration: a stale If-Match is 412.
    let r = app
        .raw(
            Method::PUT,
            &format!("/v1/wrapup-codes/{code}"),
            Some(&app.admin),
            Some(r#"{"name": "Renamed"}"#),
            &[("if-match", "\"9\"")],
        )
        .await;
    assert_eq!((r.status.as_u16(), r.body["currentVersion"].as_u64()), (412, Some(1)));
    // Deleting a code archives it: it stays readable, and is no longer allowed.
    let archived = app.call(Method::DELETE, &format!("/v1/wrapup-codes/{code}"), &app.admin, None).await.ok();
    assert_eq!(archived["archived"], true);
    assert_eq!(app.get(&format!("/v1/wrapup-codes/{code}"), &app.admin).await.ok()["name"], "Only");
    let users =
        app.post("/v1/users", &app.admin, json!({"name": "x", "username": "bad name", "roles": []})).await.expect(422);
    assert_eq!(users["violations"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn openapi_lists_every_served_operation() {
    let app = App::spawn().await;
    let doc = app.get("/v1/openapi.json", &app.admin).await.ok();
    assert_eq!(doc["openapi"], "3.1.0");
    // Each documented operation is served: calling it never hits the fallback 404 or 405.
    for (method, path, op, ..) in switchboard_api::openapi::OPERATIONS {
        assert!(doc["paths"][path][method].is_object(), "{op} missing from the document");
        let concrete =
            path.replace("{id}", "x").replace("{pid}", "y").replace("{did}", "z").replace("{slug}", "not-found");
        let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        let r = app.raw(m, &concrete, Some(&app.admin), Some("{}"), &[]).await;
        assert_ne!(r.status, 405, "{method} {path} is not routed");
        assert!(!r.body.to_string().contains("no such endpoint"), "{method} {path} is not routed");
    }
    // Problem types are explained at their `type` path.
    let r = app.raw(Method::GET, "/problems/version-mismatch", None, None, &[]).await;
    assert_eq!(r.status, 200);
    assert!(r.body.as_str().unwrap().contains("If-Match"));
}
