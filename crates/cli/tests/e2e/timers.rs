//! Durable timers through the real server: wrap-up deadlines across a restart, alerting timeouts, and
//! offers withdrawn when the customer leaves.

use crate::harness::{App, participant, pid};
use serde_json::json;

/// mandatoryTimeout: advancing the manual clock past the deadline applies the default code exactly once,
/// also when the server was restarted in between.
#[tokio::test]
async fn wrapup_deadline_fires_once_across_restart() {
    let mut app = App::spawn().await;
    let default = app.code("Default outcome").await;
    let agent = app.user("cat", &["agent"]).await;
    let acw = json!({"policy": "mandatoryTimeout", "timeoutMs": 60_000, "defaultCodeId": default});
    let q = app.queue("Timed", acw, &[&default], &[&agent]).await;
    app.on_queue(&agent).await;
    let conv = app.create(&app.admin, json!({"mediaType": "voice", "queueId": q})).await;
    let id = conv["id"].as_str().unwrap().to_string();
    let offer = pid(participant(&conv, "agent", None));
    let cat = app.login("cat").await;
    app.post(&format!("/v1/conversations/{id}/participants/{offer}/answer"), &cat, json!({})).await.ok();
    let c = app.post(&format!("/v1/conversations/{id}/participants/{offer}/disconnect"), &cat, json!({})).await.ok();
    let w = &participant(&c, "agent", None)["wrapup"];
    assert_eq!(w["status"], "pending");
    assert!(w["deadline"].is_string());
    let pending_version = c["version"].as_u64().unwrap();

    // Not yet due: nothing fires.
    assert_eq!(app.advance(59_000).await["fired"], 0);
    app.restart().await;
    assert_eq!(app.conversation(&id).await["version"], pending_version, "a restart fires nothing by itself");
    let out = app.advance(2_000).await;
    assert_eq!(out["fired"], 1);
    let c = app.conversation(&id).await;
    let w = &participant(&c, "agent", None)["wrapup"];
    assert_eq!(w["status"], "timedOut");
    assert_eq!(w["codeId"], default.as_str());
    assert_eq!(w["setBy"]["kind"], "system");
    assert_eq!(c["state"], "closed");
    assert_eq!(c["version"].as_u64().unwrap(), pending_version + 1);
    // The deadline is the effective time of the firing, whatever the clock says now.
    assert_eq!(w["acwEndedAt"], participant(&app.conversation(&id).await, "agent", None)["wrapup"]["deadline"]);

    // Exactly once: another restart and another advance change nothing.
    app.restart().await;
    assert_eq!(app.advance(600_000).await["fired"], 0);
    let events = app.get(&format!("/v1/conversations/{id}/events"), &app.admin).await.ok();
    let timed_out = events["events"].as_array().unwrap().iter().filter(|e| e["type"] == "wrapup.timedOut").count();
    assert_eq!(timed_out, 1);
    assert_eq!(app.conversation(&id).await["version"].as_u64().unwrap(), pending_version + 1);
}

/// An agent that does not answer goes notResponding and the offer moves to the next idle agent.
#[tokio::test]
async fn alerting_timeout_moves_offer_to_next_agent() {
    let app = App::spawn().await;
    let (a, b) = (app.user("amy", &["agent"]).await, app.user("ben", &["agent"]).await);
    let q = app.queue("Q", json!({"policy": "none"}), &[], &[&a, &b]).await;
    app.on_queue(&a).await;
    app.advance(1_000).await;
    app.on_queue(&b).await;
    let conv = app.create(&app.admin, json!({"mediaType": "voice", "queueId": q})).await;
    let id = conv["id"].as_str().unwrap();
    let first = participant(&conv, "agent", None).clone();
    assert_eq!(first["userId"], a.as_str(), "the agent idle longest gets the first offer");
    assert_eq!(app.routing_status(&a).await, "interacting");

    let out = app.advance(30_000).await;
    assert!(out["fired"].as_u64().unwrap() >= 1);
    let c = app.conversation(id).await;
    let old = c["participants"].as_array().unwrap().iter().find(|p| p["id"] == first["id"]).unwrap();
    assert_eq!(old["state"], "disconnected");
    assert_eq!(old["stateReason"], "noAnswer");
    assert_eq!(app.routing_status(&a).await, "notResponding");
    let next = participant(&c, "agent", Some(&b));
    assert_eq!(next["state"], "alerting");
    assert_eq!(participant(&c, "acd", None)["triedUserIds"], json!([a]));
    // Back onQueue, the agent is routable again.
    app.on_queue(&a).await;
    assert_eq!(app.routing_status(&a).await, "idle");
}

/// A customer who hangs up while an offer is alerting leaves the agent free, not notResponding.
#[tokio::test]
async fn customer_leaving_withdraws_the_offer() {
    let app = App::spawn().await;
    let a = app.user("al", &["agent"]).await;
    let q = app.queue("Q", json!({"policy": "mandatory"}), &[], &[&a]).await;
    app.on_queue(&a).await;
    let gw = app.client_with(&["conversations:write", "conversations:read"]).await;
    let conv = app.create(&gw, json!({"mediaType": "voice", "queueId": q})).await;
    let id = conv["id"].as_str().unwrap();
    let customer = pid(participant(&conv, "customer", None));
    let c = app.post(&format!("/v1/conversations/{id}/participants/{customer}/disconnect"), &gw, json!({})).await.ok();
    let offer = participant(&c, "agent", None);
    assert_eq!(offer["state"], "disconnected");
    assert_eq!(offer["withdrawn"], true);
    assert_eq!(offer["stateReason"], "system");
    assert!(offer["wrapup"].is_null(), "a withdrawn offer has no wrap-up");
    assert_eq!(participant(&c, "customer", None)["stateReason"], "client");
    assert_eq!(participant(&c, "acd", None)["abandoned"], true);
    assert_eq!(c["endReason"], "customerLeft");
    assert_eq!(c["state"], "closed");
    assert_eq!(app.routing_status(&a).await, "idle");
    // The alerting timer was cancelled with the offer: advancing fires nothing.
    assert_eq!(app.advance(60_000).await["fired"], 0);
    assert_eq!(app.routing_status(&a).await, "idle");
}

/// Messaging inactivity ends a message conversation; a message resets the deadline.
#[tokio::test]
async fn messaging_inactivity_ends_the_conversation() {
    let app = App::spawn().await;
    let q = app
        .post(
            "/v1/queues",
            &app.admin,
            json!({"name": "Chat", "acw": {"policy": "none"}, "inactivityTimeoutMs": 600_000}),
        )
        .await
        .ok();
    let q = q["id"].as_str().unwrap();
    let conv = app.create(&app.admin, json!({"mediaType": "message", "queueId": q})).await;
    let id = conv["id"].as_str().unwrap();
    let customer = pid(participant(&conv, "customer", None));
    app.advance(500_000).await;
    app.post(
        &format!("/v1/conversations/{id}/messages"),
        &app.admin,
        json!({"text": "still there?", "participantId": customer}),
    )
    .await
    .ok();
    assert_eq!(app.advance(500_000).await["fired"], 0, "the message reset the deadline");
    assert_eq!(app.advance(100_000).await["fired"], 1);
    let c = app.conversation(id).await;
    assert_eq!(c["endReason"], "inactivity");
    assert_eq!(participant(&c, "customer", None)["stateReason"], "inactivity");
    assert_eq!(c["state"], "closed");
    let msgs = app.get(&format!("/v1/conversations/{id}/messages"), &app.admin).await.ok();
    assert_eq!(msgs["entities"][0]["text"], "still there?");
    assert_eq!(msgs["entities"][0]["direction"], "inbound");
}
