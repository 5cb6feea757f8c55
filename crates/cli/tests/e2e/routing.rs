//! Routing through the real server: capacity, auto-answer, direct offers and their fallback, offQueue.

use crate::harness::{App, participant, pid};
use serde_json::json;

#[tokio::test]
async fn capacity_fifo_and_auto_answer() {
    let app = App::spawn().await;
    let a = app.user("solo", &["agent"]).await;
    let q = app
        .post(
            "/v1/queues",
            &app.admin,
            json!({"name": "Auto", "acw": {"policy": "none"}, "autoAnswer": true, "members": [a]}),
        )
        .await
        .ok();
    let q = q["id"].as_str().unwrap();
    app.on_queue(&a).await;
    let first = app.create(&app.admin, json!({"mediaType": "voice", "queueId": q})).await;
    assert_eq!(participant(&first, "agent", None)["state"], "connected", "auto-answer connects at once");
    // Voice capacity 1: the next call waits, FIFO.
    let second = app.create(&app.admin, json!({"mediaType": "voice", "queueId": q})).await;
    let third = app.create(&app.admin, json!({"mediaType": "voice", "queueId": q})).await;
    assert_eq!(participant(&second, "acd", None)["state"], "queued");
    assert_eq!(second["participants"].as_array().unwrap().len(), 2);
    // When the first call ends, the oldest waiting call is offered.
    let (id1, agent1) = (first["id"].as_str().unwrap(), pid(participant(&first, "agent", None)));
    app.post(&format!("/v1/conversations/{id1}/participants/{agent1}/disconnect"), &app.admin, json!({})).await.ok();
    let second = app.conversation(second["id"].as_str().unwrap()).await;
    let third = app.conversation(third["id"].as_str().unwrap()).await;
    assert_eq!(participant(&second, "agent", None)["state"], "connected");
    assert_eq!(third["participants"].as_array().unwrap().len(), 2, "still waiting: {third}");
}

#[tokio::test]
async fn direct_offer_falls_back_to_queue_and_respects_capacity() {
    let app = App::spawn().await;
    let (a, b) = (app.user("dina", &["agent"]).await, app.user("ed", &["agent"]).await);
    let q = app.queue("Fallback", json!({"policy": "none"}), &[], &[&b]).await;
    app.on_queue(&b).await;
    // Direct offers ring whatever the routing status (a is offQueue).
    let conv = app.create(&app.admin, json!({"mediaType": "voice", "userId": a, "fallbackQueueId": q})).await;
    let id = conv["id"].as_str().unwrap();
    let offer = participant(&conv, "agent", Some(&a));
    assert_eq!((offer["state"].as_str(), offer["direct"].as_bool()), (Some("alerting"), Some(true)));
    // A second voice call to the same user: no capacity left.
    let err = app.post("/v1/conversations", &app.admin, json!({"mediaType": "voice", "userId": a})).await.expect(409);
    assert_eq!(err["code"], "target_at_capacity");
    // No answer: a direct offer never makes the user notResponding; the call falls back to the queue.
    app.advance(30_000).await;
    let c = app.conversation(id).await;
    assert_eq!(participant(&c, "agent", Some(&a))["stateReason"], "noAnswer");
    assert_eq!(app.routing_status(&a).await, "offQueue");
    assert_eq!(participant(&c, "agent", Some(&b))["state"], "alerting");
}

#[tokio::test]
async fn going_off_queue_withdraws_the_offer() {
    let app = App::spawn().await;
    let a = app.user("fay", &["agent"]).await;
    let q = app.queue("Q", json!({"policy": "none"}), &[], &[&a]).await;
    app.on_queue(&a).await;
    let conv = app.create(&app.admin, json!({"mediaType": "message", "queueId": q})).await;
    let id = conv["id"].as_str().unwrap();
    let offer = pid(participant(&conv, "agent", None));
    let fay = app.login("fay").await;
    app.put(&format!("/v1/users/{a}/routing-status"), &fay, json!({"status": "offQueue"})).await.ok();
    let c = app.conversation(id).await;
    let p = participant(&c, "agent", None);
    assert_eq!((p["withdrawn"].as_bool(), p["stateReason"].as_str()), (Some(true), Some("system")));
    assert_eq!(participant(&c, "acd", None)["state"], "queued");
    let err =
        app.post(&format!("/v1/conversations/{id}/participants/{offer}/answer"), &fay, json!({})).await.expect(409);
    assert_eq!(err["code"], "invalid_transition");
    assert_eq!(app.routing_status(&a).await, "offQueue");
}

#[tokio::test]
async fn deleting_a_queue_with_waiting_conversations_is_refused() {
    let app = App::spawn().await;
    let q = app.queue("Busy", json!({"policy": "none"}), &[], &[]).await;
    let conv = app.create(&app.admin, json!({"mediaType": "voice", "queueId": q})).await;
    let err = app.call(reqwest::Method::DELETE, &format!("/v1/queues/{q}"), &app.admin, None).await.expect(409);
    assert_eq!(err["code"], "queue_has_conversations");
    assert!(err["detail"].as_str().unwrap().contains(conv["id"].as_str().unwrap()));
}
