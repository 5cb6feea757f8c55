//! Authentication and authorization: tokens, scopes, agents' ownership, org isolation.

use crate::harness::{ADMIN_SECRET, App, participant, pid};
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn tokens_and_scopes() {
    let app = App::spawn().await;
    // No token, garbage token, wrong secret.
    let r = app.raw(Method::GET, "/v1/queues", None, None, &[]).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.headers["content-type"], "application/problem+json");
    assert_eq!(r.headers["www-authenticate"], "Bearer");
    assert_eq!(app.get("/v1/queues", "sb1.nonsense.sig").await.expect(401)["code"], "unauthorized");
    let bad = app.form_token("grant_type=client_credentials", Some(("admin", "wrong"))).await;
    assert_eq!(bad.status, 401);
    assert_eq!(bad.body["error"], "invalid_client");
    let unsupported = app.form_token("grant_type=implicit", Some(("admin", ADMIN_SECRET))).await;
    assert_eq!(unsupported.body["error"], "unsupported_grant_type");
    // A client limited to reading gets 403 naming the missing scope.
    let reader = app.client_with(&["conversations:read"]).await;
    let err = app.post("/v1/conversations", &reader, json!({"mediaType": "voice"})).await.expect(403);
    assert_eq!(err["code"], "missing_scopes");
    let close = app.client_with(&["conversations:close"]).await;
    let q = app.queue("Q", json!({"policy": "none"}), &[], &[]).await;
    let conv = app.create(&app.admin, json!({"mediaType": "voice", "queueId": q})).await;
    let code = app.code("C").await;
    let err = app
        .post(
            &format!("/v1/conversations/{}/close", conv["id"].as_str().unwrap()),
            &close,
            json!({"wrapup": {"codeId": code}}),
        )
        .await
        .expect(403);
    assert_eq!(err["missingScopes"], json!(["wrapup:write"]));
    // Asking for a scope the client was not granted.
    let c = app.post("/v1/clients", &app.admin, json!({"name": "narrow", "scopes": ["routing:read"]})).await.ok();
    let (id, secret) = (c["clientId"].as_str().unwrap(), c["secret"].as_str().unwrap());
    let r = app.form_token("grant_type=client_credentials&scope=admin", Some((id, secret))).await;
    assert_eq!(r.body["error"], "invalid_scope");
    // The secret is shown once: listings never carry it.
    let list = app.get("/v1/clients", &app.admin).await.ok();
    assert!(list["entities"].as_array().unwrap().iter().all(|c| c.get("secret").is_none()));
    let users = app.get("/v1/users", &app.admin).await.ok();
    assert!(!users.to_string().contains("argon2"));
    // Identity endpoints.
    let me = app.get("/v1/clients/me", &app.admin).await.ok();
    assert_eq!((me["clientId"].as_str(), me["bootstrap"].as_bool()), (Some("admin"), Some(true)));
    app.user("uma", &["agent"]).await;
    let uma = app.login("uma").await;
    let me = app.get("/v1/users/me", &uma).await.ok();
    assert_eq!(me["username"], "uma");
    assert!(me["scopes"].as_array().unwrap().contains(&json!("wrapup:write")));
    // users:admin manages people but cannot mint admins (that would grant itself every scope).
    let hr = app.client_with(&["users:admin"]).await;
    let err = app
        .post(
            "/v1/users",
            &hr,
            json!({"name": "x", "username": "root2", "password": "long enough pw", "roles": ["admin"]}),
        )
        .await
        .expect(403);
    assert_eq!(err["missingScopes"], json!(["admin"]));
    app.post(
        "/v1/users",
        &hr,
        json!({"name": "y", "username": "agent9", "password": "long enough pw", "roles": ["agent"]}),
    )
    .await
    .expect(201);
    // Only the bootstrap admin moves the clock.
    let admin2 = app.client_with(&["admin"]).await;
    assert_eq!(
        app.post("/v1/admin/clock", &admin2, json!({"advanceMs": 1})).await.expect(403)["code"],
        "bootstrap_admin_only"
    );
}

#[tokio::test]
async fn an_agent_acts_only_on_its_own_participants() {
    let app = App::spawn().await;
    let (a, b) = (app.user("own", &["agent"]).await, app.user("other", &["agent"]).await);
    let q = app.queue("Q", json!({"policy": "optional"}), &[], &[&a]).await;
    app.on_queue(&a).await;
    let conv = app.create(&app.admin, json!({"mediaType": "voice", "queueId": q})).await;
    let id = conv["id"].as_str().unwrap();
    let offer = pid(participant(&conv, "agent", Some(&a)));
    let other = app.login("other").await;
    // A conversation she cannot see is not found for her, whatever she tries on it.
    let err =
        app.post(&format!("/v1/conversations/{id}/participants/{offer}/answer"), &other, json!({})).await.expect(404);
    assert_eq!(err["code"], "not_found");
    // The other agent cannot even read a conversation it never took part in.
    assert_eq!(app.get(&format!("/v1/conversations/{id}"), &other).await.expect(404)["code"], "not_found");
    let list = app.get("/v1/conversations", &other).await.ok();
    assert_eq!(list["entities"].as_array().unwrap().len(), 0);
    // Nothing leaks through a precondition either: a stale If-Match on someone else's conversation is 404,
    // not a 412 carrying the current conversation.
    let r = app
        .raw(
            Method::PATCH,
            &format!("/v1/conversations/{id}/attributes"),
            Some(&other),
            Some("{}"),
            &[("if-match", "\"0\"")],
        )
        .await;
    assert_eq!(r.status, 404, "{}", r.body);
    assert!(r.body.get("current").is_none() && r.body.get("state").is_none());
    // The owner sees it, with the actions it may take.
    let own = app.login("own").await;
    let c = app.get(&format!("/v1/conversations/{id}"), &own).await.ok();
    let actions = c["allowedActions"].as_array().unwrap();
    assert!(actions.contains(&json!("answer")) && actions.contains(&json!("decline")));
    assert!(!actions.contains(&json!("close")), "agents lack conversations:close");
    let _ = b;
}

#[tokio::test]
async fn another_orgs_ids_answer_404() {
    let app = App::spawn().await;
    let org = app.post("/v1/admin/orgs", &app.admin, json!({"name": "Other org"})).await.expect(201);
    let other = app
        .client_token(org["adminClient"]["clientId"].as_str().unwrap(), org["adminClient"]["secret"].as_str().unwrap())
        .await;
    let q = app.queue("Mine", json!({"policy": "none"}), &[], &[]).await;
    let code = app.code("Mine").await;
    let conv = app.create(&app.admin, json!({"mediaType": "voice", "queueId": q})).await;
    let id = conv["id"].as_str().unwrap();
    for path in [format!("/v1/conversations/{id}"), format!("/v1/queues/{q}"), format!("/v1/wrapup-codes/{code}")] {
        assert_eq!(app.get(&path, &other).await.expect(404)["code"], "not_found", "{path}");
    }
    let err = app.post(&format!("/v1/conversations/{id}/close"), &other, json!({})).await.expect(404);
    assert_eq!(err["code"], "not_found");
    // Creating into another org's queue is an unknown queue, not a leak.
    let err = app.post("/v1/conversations", &other, json!({"mediaType": "voice", "queueId": q})).await.expect(422);
    assert_eq!(err["violations"][0]["pointer"], "/queueId");
    assert_eq!(app.get("/v1/conversations", &other).await.ok()["entities"].as_array().unwrap().len(), 0);
    assert_eq!(app.conversation(id).await["version"], conv["version"]);
}
