//! Transfers and bot handover end to end: typed context validated at the door (dry run, 422 with every
//! violation, nothing changed), the bot's outcome code, the agent's offer carrying the context, and consult.

use crate::harness::{App, participant, pid};
use reqwest::Method;
use serde_json::{Value, json};

fn schema() -> Value {
    json!({
        "type": "object",
        "required": ["orderId", "intent"],
        "properties": {
            "orderId": {"type": "string", "pattern": "^A-[0-9]+$"},
            "intent": {"enum": ["refund", "delivery", "other"]},
            "triedSelfService": {"type": "boolean"}
        }
    })
}

#[tokio::test]
async fn a_bot_hands_over_with_validated_context() {
    let app = App::spawn().await;
    let resolved = app.code("Bot resolved nothing").await;
    let agent = app.user("hal", &["agent"]).await;
    let q = app
        .post(
            "/v1/queues",
            &app.admin,
            json!({"name": "Billing", "acw": {"policy": "optional"}, "members": [agent], "contextSchema": schema()}),
        )
        .await
        .expect(201);
    let q = q["id"].as_str().unwrap().to_string();
    app.on_queue(&agent).await;
    // A schema that is not JSON Schema is refused when the queue is saved.
    let bad =
        app.post("/v1/queues", &app.admin, json!({"name": "Broken", "contextSchema": {"type": 12}})).await.expect(422);
    assert_eq!(bad["violations"][0]["pointer"], "/contextSchema");
    // The context can be checked before deploying the bot.
    let v = app.post(&format!("/v1/queues/{q}/context/validate"), &app.admin, json!({"orderId": "nope"})).await.ok();
    assert_eq!(v["valid"], false);
    let mut pointers: Vec<&str> =
        v["violations"].as_array().unwrap().iter().map(|x| x["pointer"].as_str().unwrap()).collect();
    pointers.sort();
    assert_eq!(pointers, ["/intent", "/orderId"]);

    let bot = app.client_with(&["conversations:participate"]).await;
    let conv = app.create(&bot, json!({"mediaType": "message", "botName": "Billy", "queueId": q})).await;
    let id = conv["id"].as_str().unwrap().to_string();
    let bot_pid = pid(participant(&conv, "bot", None));
    app.post(
        &format!("/v1/conversations/{id}/messages"),
        &bot,
        json!({"text": "Hi, I am Billy. What is your order number?"}),
    )
    .await
    .ok();
    let version = app.conversation(&id).await["version"].clone();

    let handover = |ctx: Value| json!({"fromParticipantId": bot_pid, "to": {"queueId": q}, "contextData": ctx, "wrapup": {"codeId": resolved}});
    // Dry run: the verdict, every violation, and no change.
    let dry = app
        .post(&format!("/v1/conversations/{id}/transfer?dryRun=true"), &bot, handover(json!({"orderId": "123"})))
        .await
        .expect(200);
    assert_eq!(dry["valid"], false);
    assert_eq!(dry["violations"].as_array().unwrap().len(), 2, "{dry}");
    assert_eq!(app.conversation(&id).await["version"], version, "a dry run never changes the version");
    // For real, invalid: 422 with every violation at once, pointers into the request body; nothing changes.
    let err = app
        .post(&format!("/v1/conversations/{id}/transfer"), &bot, handover(json!({"orderId": "123", "intent": "rant"})))
        .await
        .expect(422);
    let mut pointers: Vec<&str> =
        err["violations"].as_array().unwrap().iter().map(|x| x["pointer"].as_str().unwrap()).collect();
    pointers.sort();
    assert_eq!(pointers, ["/contextData/intent", "/contextData/orderId"]);
    assert_eq!(app.conversation(&id).await["version"], version);
    let ok_dry = app
        .post(
            &format!("/v1/conversations/{id}/transfer?dryRun=true"),
            &bot,
            handover(json!({"orderId": "A-17", "intent": "refund"})),
        )
        .await
        .ok();
    assert_eq!(ok_dry["valid"], true);
    assert_eq!(app.conversation(&id).await["version"], version);

    // Valid: the bot leaves with its outcome code, the context lands on the conversation, the agent is offered it.
    let c = app
        .post(
            &format!("/v1/conversations/{id}/transfer"),
            &bot,
            handover(json!({"orderId": "A-17", "intent": "refund", "triedSelfService": true})),
        )
        .await
        .ok();
    let b = participant(&c, "bot", None);
    assert_eq!((b["state"].as_str(), b["stateReason"].as_str()), (Some("disconnected"), Some("transfer")));
    assert_eq!(
        (b["wrapup"]["status"].as_str(), b["wrapup"]["codeId"].as_str()),
        (Some("set"), Some(resolved.as_str()))
    );
    assert_eq!(c["attributes"]["orderId"], "A-17");
    assert_eq!(participant(&c, "agent", Some(&agent))["state"], "alerting");
    let events = app.get(&format!("/v1/conversations/{id}/events"), &app.admin).await.ok();
    let alerting =
        events["events"].as_array().unwrap().iter().find(|e| e["type"] == "participant.alerting").unwrap().clone();
    assert_eq!(alerting["data"]["context"]["intent"], "refund", "the agent's offer carries the context");
    // The bot reaches only conversations it takes part in.
    let other = app.create(&app.admin, json!({"mediaType": "message", "queueId": q})).await;
    assert_eq!(app.get(&format!("/v1/conversations/{}", other["id"].as_str().unwrap()), &bot).await.status, 404);
    // Attribute changes on the conversation now in Billing keep matching its schema.
    let r = app
        .raw(
            Method::PATCH,
            &format!("/v1/conversations/{id}/attributes"),
            Some(&app.admin),
            Some(r#"{"intent": "shouting"}"#),
            &[],
        )
        .await;
    assert_eq!((r.status.as_u16(), r.body["violations"][0]["pointer"].as_str()), (422, Some("/intent")));
}

#[tokio::test]
async fn transfer_targets_are_checked() {
    let app = App::spawn().await;
    let agent = app.user("ida", &["agent"]).await;
    let q = app.queue("Q", json!({"policy": "none"}), &[], &[&agent]).await;
    let empty = app.queue("Empty", json!({"policy": "none"}), &[], &[]).await;
    app.on_queue(&agent).await;
    let conv = app.create(&app.admin, json!({"mediaType": "voice", "queueId": q})).await;
    let id = conv["id"].as_str().unwrap().to_string();
    let a = pid(participant(&conv, "agent", None));
    app.post(&format!("/v1/conversations/{id}/participants/{a}/answer"), &app.admin, json!({})).await.ok();
    let t = |to: Value| json!({"fromParticipantId": a, "to": to});
    let err = app
        .post(&format!("/v1/conversations/{id}/transfer"), &app.admin, t(json!({"queueId": "nope"})))
        .await
        .expect(422);
    assert_eq!(err["violations"][0]["pointer"], "/to/queueId");
    let err = app
        .post(&format!("/v1/conversations/{id}/transfer"), &app.admin, t(json!({"userId": "nobody"})))
        .await
        .expect(422);
    assert_eq!(err["violations"][0]["pointer"], "/to/userId");
    let err = app
        .post(&format!("/v1/conversations/{id}/transfer"), &app.admin, t(json!({"queueId": empty})))
        .await
        .expect(409);
    assert_eq!(err["code"], "queue_has_no_members");
    let acd = pid(participant(&conv, "acd", None));
    let err = app
        .post(
            &format!("/v1/conversations/{id}/transfer"),
            &app.admin,
            json!({"fromParticipantId": acd, "to": {"queueId": q}}),
        )
        .await
        .expect(409);
    assert_eq!(err["participantState"], "disconnected", "{err}");
    app.post(&format!("/v1/conversations/{id}/close"), &app.admin, json!({})).await.ok();
    let err =
        app.post(&format!("/v1/conversations/{id}/transfer"), &app.admin, t(json!({"queueId": q}))).await.expect(409);
    assert_eq!(err["state"], "closed");
}

#[tokio::test]
async fn consult_then_complete_hands_the_customer_over() {
    let app = App::spawn().await;
    let code = app.code("Done").await;
    let (a, b) = (app.user("amy", &["agent"]).await, app.user("ben", &["agent"]).await);
    let q = app.queue("Voice", json!({"policy": "mandatory"}), &[&code], &[&a]).await;
    app.on_queue(&a).await;
    let conv = app.create(&app.admin, json!({"mediaType": "voice", "queueId": q})).await;
    let id = conv["id"].as_str().unwrap().to_string();
    let first = pid(participant(&conv, "agent", Some(&a)));
    let (amy, ben) = (app.login("amy").await, app.login("ben").await);
    app.post(&format!("/v1/conversations/{id}/participants/{first}/answer"), &amy, json!({})).await.ok();
    let c = app.post(&format!("/v1/conversations/{id}/participants/{first}/hold"), &amy, json!({})).await.ok();
    assert_eq!(participant(&c, "customer", None)["held"], true);
    assert!(c["allowedActions"].as_array().unwrap().contains(&json!("unhold")));
    let c = app.post(&format!("/v1/conversations/{id}/participants/{first}/unhold"), &amy, json!({})).await.ok();
    assert_eq!(participant(&c, "customer", None)["held"], false);

    let c = app
        .post(
            &format!("/v1/conversations/{id}/consult"),
            &amy,
            json!({"fromParticipantId": first, "to": {"userId": b}, "contextData": {"note": "VIP"}}),
        )
        .await
        .ok();
    assert_eq!(participant(&c, "customer", None)["held"], true, "consulting holds the customer");
    let target = participant(&c, "agent", Some(&b)).clone();
    assert_eq!((target["state"].as_str(), target["consultFor"].as_str()), (Some("alerting"), Some(first.as_str())));
    let err = app.post(&format!("/v1/conversations/{id}/consult/complete"), &amy, json!({})).await.expect(409);
    assert_eq!(err["code"], "invalid_transition", "not before the consulted agent answers");
    app.post(&format!("/v1/conversations/{id}/participants/{}/answer", pid(&target)), &ben, json!({})).await.ok();
    let c = app.post(&format!("/v1/conversations/{id}/consult/complete"), &amy, json!({})).await.ok();
    let amy_p = participant(&c, "agent", Some(&a));
    assert_eq!(amy_p["stateReason"], "transferConsult");
    assert_eq!(amy_p["wrapup"]["status"], "pending", "the consulting agent does its own wrap-up");
    assert_eq!(participant(&c, "customer", None)["held"], false);
    assert_eq!(participant(&c, "agent", Some(&b))["state"], "connected");
    assert_eq!(c["state"], "active");
    let events = app.get(&format!("/v1/conversations/{id}/events"), &app.admin).await.ok();
    let types: Vec<&str> = events["events"].as_array().unwrap().iter().map(|e| e["type"].as_str().unwrap()).collect();
    for t in ["participant.held", "participant.unheld", "consult.started", "consult.completed"] {
        assert!(types.contains(&t), "{t} in {types:?}");
    }

    // A second consult, cancelled while ringing: the offer is withdrawn and the customer comes off hold.
    let ben_p = pid(participant(&c, "agent", Some(&b)));
    let c = app
        .post(
            &format!("/v1/conversations/{id}/consult"),
            &ben,
            json!({"fromParticipantId": ben_p, "to": {"userId": a}}),
        )
        .await;
    // amy still has a pending wrap-up on voice: no capacity for another call.
    assert_eq!(c.expect(409)["code"], "target_at_capacity");
    let set = app
        .put(&format!("/v1/conversations/{id}/participants/{}/wrapup", pid(amy_p)), &amy, json!({"codeId": code}))
        .await
        .ok();
    assert_eq!(participant(&set, "agent", Some(&a))["wrapup"]["status"], "set");
    app.post(
        &format!("/v1/conversations/{id}/consult"),
        &ben,
        json!({"fromParticipantId": ben_p, "to": {"userId": a}}),
    )
    .await
    .ok();
    let c = app.post(&format!("/v1/conversations/{id}/consult/cancel"), &ben, json!({})).await.ok();
    assert_eq!(participant(&c, "customer", None)["held"], false);
    let withdrawn = c["participants"].as_array().unwrap().iter().rev().find(|p| p["userId"] == a.as_str()).unwrap();
    assert_eq!(withdrawn["withdrawn"], true);
    assert_eq!(participant(&c, "agent", Some(&b))["state"], "connected");
}

#[tokio::test]
async fn limits_are_configurable_per_org_and_named_when_exceeded() {
    let app = App::spawn().await;
    let (a, b) = (app.user("kim", &["agent"]).await, app.user("lee", &["agent"]).await);
    let q1 = app.queue("One", json!({"policy": "none"}), &[], &[&a]).await;
    let q2 = app.queue("Two", json!({"policy": "none"}), &[], &[&b]).await;
    app.on_queue(&a).await;
    app.on_queue(&b).await;
    assert_eq!(app.get("/v1/org", &app.admin).await.ok()["maxTransfers"], 20);
    let agent = app.login("kim").await;
    assert_eq!(
        app.call(Method::PATCH, "/v1/org", &agent, Some(json!({"maxTransfers": 1}))).await.expect(403)["code"],
        "missing_scopes"
    );
    let err = app.call(Method::PATCH, "/v1/org", &app.admin, Some(json!({"id": "mine"}))).await.expect(422);
    assert_eq!(err["violations"][0]["pointer"], "/id");
    let err = app.call(Method::PATCH, "/v1/org", &app.admin, Some(json!({"maxTransfers": 0}))).await.expect(422);
    assert_eq!(err["violations"][0]["pointer"], "/maxTransfers");
    let org = app
        .call(Method::PATCH, "/v1/org", &app.admin, Some(json!({"maxTransfers": 1, "maxContextBytes": 2048})))
        .await
        .ok();
    assert_eq!((org["maxTransfers"].as_u64(), org["maxContextBytes"].as_u64()), (Some(1), Some(2048)));
    // Settings are versioned: a patch made against the version before that one is refused, not merged.
    assert_eq!(org["version"], 2);
    let auth = format!("Bearer {}", app.admin);
    let headers = [("authorization", auth.as_str()), ("if-match", "\"1\"")];
    let stale = app.raw(Method::PATCH, "/v1/org", None, Some(r#"{"voiceBlocksOthers": false}"#), &headers).await;
    assert_eq!(stale.status, 412, "{:?}", stale.body);
    let got = app.get("/v1/org", &app.admin).await;
    assert_eq!(got.headers["etag"], "\"2\"");
    assert_eq!((got.body["voiceBlocksOthers"].as_bool(), got.body["maxTransfers"].as_u64()), (Some(true), Some(1)));
    let err = app
        .call(Method::PATCH, "/v1/org", &app.admin, Some(json!({"directAcw": {"policy": "none", "timeoutMS": 5}})))
        .await
        .expect(422);
    assert!(err["violations"][0]["message"].as_str().unwrap().contains("timeoutMS"), "{err}");

    let conv = app.create(&app.admin, json!({"mediaType": "voice", "queueId": q1})).await;
    let id = conv["id"].as_str().unwrap().to_string();
    let first = pid(participant(&conv, "agent", Some(&a)));
    app.post(&format!("/v1/conversations/{id}/participants/{first}/answer"), &app.admin, json!({})).await.ok();
    let big = json!({"fromParticipantId": first, "to": {"queueId": q2}, "contextData": {"blob": "x".repeat(3000)}});
    let err = app.post(&format!("/v1/conversations/{id}/transfer"), &app.admin, big).await.expect(422);
    assert!(err["detail"].as_str().unwrap().contains("maxContextBytes"), "{err}");
    let c = app
        .post(
            &format!("/v1/conversations/{id}/transfer"),
            &app.admin,
            json!({"fromParticipantId": first, "to": {"queueId": q2}}),
        )
        .await
        .ok();
    let second = pid(participant(&c, "agent", Some(&b)));
    app.post(&format!("/v1/conversations/{id}/participants/{second}/answer"), &app.admin, json!({})).await.ok();
    let err = app
        .post(
            &format!("/v1/conversations/{id}/transfer"),
            &app.admin,
            json!({"fromParticipantId": second, "to": {"queueId": q1}}),
        )
        .await
        .expect(422);
    assert!(err["detail"].as_str().unwrap().contains("maxTransfers"), "{err}");
}
