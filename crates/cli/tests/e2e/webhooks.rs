//! Webhooks end to end with a real receiver on loopback: retries until it recovers (per-conversation order,
//! valid signatures), refused targets, and no acknowledged event lost when the server is SIGKILLed.

use crate::harness::{ADMIN_SECRET, App};
use crate::receiver::{Receiver, verify};
use reqwest::Method;
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader};
use std::time::Duration;

const SECRET: &str = "whsec-0123456789abcdef";

/// Every conversation event in the log, by event id.
async fn log_event_ids(app: &App) -> HashSet<String> {
    let page = app.get("/v1/events?limit=1000", &app.admin).await.ok();
    page["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["conversationId"].is_string())
        .map(|e| e["id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn deliveries_retry_until_the_receiver_recovers_in_order_and_signed() {
    let mut recv = Receiver::start(500).await;
    let app = App::spawn_with(|c| c.allow_private_webhooks = true).await;
    let hook = app
        .post("/v1/webhooks", &app.admin, json!({"url": recv.url, "eventTypes": ["*"], "secret": SECRET}))
        .await
        .expect(201);
    assert!(hook.get("secret").is_none(), "the secret is never shown");
    let hook_id = hook["id"].as_str().unwrap().to_string();
    let q = app.queue("Q", json!({"policy": "none"}), &[], &[]).await;
    let mut convs = Vec::new();
    for _ in 0..2 {
        let c = app.create(&app.admin, json!({"mediaType": "message", "queueId": q})).await;
        convs.push(c["id"].as_str().unwrap().to_string());
    }
    for id in &convs {
        for n in 0..3 {
            app.call(
                reqwest::Method::PATCH,
                &format!("/v1/conversations/{id}/attributes"),
                &app.admin,
                Some(json!({"n": n})),
            )
            .await
            .ok();
        }
    }
    // Each conversation's first event is tried and refused; nothing behind it is sent meanwhile.
    let mut refused = HashSet::new();
    while refused.len() < 2 {
        let r = recv.next().await;
        assert_eq!(r.status, 500);
        let body: Value = serde_json::from_str(&r.body).unwrap();
        refused.insert(body["conversationId"].as_str().unwrap().to_string());
    }
    recv.answer(200);
    app.advance(3_600_000).await;
    let expected = log_event_ids(&app).await;
    let mut delivered: HashSet<String> = HashSet::new();
    let mut last_seq: HashMap<String, u64> = HashMap::new();
    while delivered.len() < expected.len() {
        let r = recv.next().await;
        assert!(verify(&r.signature, SECRET, &r.body), "signature verifies: {}", r.signature);
        if r.status != 200 {
            continue;
        }
        let body: Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(body["id"], r.event_id.as_str(), "the event id header names the event");
        let (conv, seq) = (body["conversationId"].as_str().unwrap().to_string(), body["seq"].as_u64().unwrap());
        let prev = last_seq.insert(conv, seq).unwrap_or(0);
        assert!(seq > prev || delivered.contains(&r.event_id), "per-conversation order: {seq} after {prev}");
        delivered.insert(r.event_id);
    }
    assert_eq!(delivered, expected, "every event, none extra");
    // The deliveries list shows the retries, status codes and response times (persisted by the writer).
    let path = format!("/v1/webhooks/{hook_id}/deliveries?limit=1000");
    let rows = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let page = app.get(&path, &app.admin).await.ok();
            let rows = page["entities"].as_array().unwrap().clone();
            if rows.len() == expected.len() && rows.iter().all(|d| d["status"] == "delivered") {
                return rows;
            }
        }
    })
    .await
    .expect("outcomes persisted");
    assert!(rows.iter().any(|d| d["attempts"].as_u64().unwrap() >= 2), "the first ones were retried");
    assert!(rows.iter().all(|d| d["lastStatusCode"] == 200 && d["lastResponseMs"].is_i64()));
    // Redelivery queues one again, and it arrives again with the same event id.
    let did = rows[0]["id"].as_str().unwrap();
    let again =
        app.post(&format!("/v1/webhooks/{hook_id}/deliveries/{did}/redeliver"), &app.admin, json!({})).await.ok();
    assert_eq!(again["status"], "pending");
    assert_eq!(recv.next().await.event_id, rows[0]["eventId"].as_str().unwrap());
}

#[tokio::test]
async fn private_and_metadata_targets_are_refused() {
    let app = App::spawn().await;
    for url in [
        "http://127.0.0.1:9/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://10.0.0.5/x",
        "http://[::1]:8080/",
    ] {
        let err = app
            .post("/v1/webhooks", &app.admin, json!({"url": url, "eventTypes": ["*"], "secret": SECRET}))
            .await
            .expect(422);
        assert_eq!(err["violations"][0]["pointer"], "/url", "{url}: {err}");
    }
    let err = app
        .post("/v1/webhooks", &app.admin, json!({"url": "ftp://example.com/", "eventTypes": ["*"], "secret": SECRET}))
        .await
        .expect(422);
    assert_eq!(err["violations"][0]["pointer"], "/url");
    let narrow = app.client_with(&["conversations:read"]).await;
    assert_eq!(app.get("/v1/webhooks", &narrow).await.expect(403)["missingScopes"], json!(["webhooks:admin"]));
    // Validation of the rest happens only for allowed targets.
    let open = App::spawn_with(|c| c.allow_private_webhooks = true).await;
    let err = open
        .post(
            "/v1/webhooks",
            &open.admin,
            json!({"url": "http://127.0.0.1:9/", "eventTypes": ["nope"], "secret": "short"}),
        )
        .await
        .expect(422);
    let pointers: Vec<&str> =
        err["violations"].as_array().unwrap().iter().map(|v| v["pointer"].as_str().unwrap()).collect();
    assert_eq!(pointers, ["/eventTypes/0", "/secret"]);
}

/// The real binary, so it can be SIGKILLed. Returns once it prints that it listens.
fn spawn_server(db: &std::path::Path, port: u16) -> std::process::Child {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .args(["serve", "--clock", "manual", "--allow-private-webhooks", "--db"])
        .arg(db)
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .env("SWITCHBOARD_ADMIN_CLIENT_SECRET", ADMIN_SECRET)
        .env("RUST_LOG", "error")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("the server starts");
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    loop {
        let line = lines.next().expect("the server printed its address").unwrap();
        if line.contains("listening on") {
            break;
        }
    }
    // Keep draining stdout so the child never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    child
}

#[tokio::test]
async fn no_acknowledged_event_is_lost_when_the_server_is_killed() {
    let mut recv = Receiver::start(503).await;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("kill.db");
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut child = spawn_server(&db, port);
    let app = App::attach(&format!("http://127.0.0.1:{port}")).await;
    app.post("/v1/webhooks", &app.admin, json!({"url": recv.url, "eventTypes": ["*"], "secret": SECRET}))
        .await
        .expect(201);
    let q = app.queue("Q", json!({"policy": "none"}), &[], &[]).await;

    // A burst of creates; SIGKILL once 20 were acknowledged, while their deliveries are still failing.
    let (tx, mut acks) = tokio::sync::mpsc::unbounded_channel();
    for _ in 0..80 {
        let (http, url, token, tx, q) =
            (app.http.clone(), format!("{}/v1/conversations", app.base), app.admin.clone(), tx.clone(), q.clone());
        tokio::spawn(async move {
            let r = http.post(url).bearer_auth(token).json(&json!({"mediaType": "voice", "queueId": q})).send().await;
            if let Ok(r) = r
                && r.status() == 201
                && let Ok(v) = r.json::<Value>().await
            {
                let _ = tx.send(v["id"].as_str().unwrap_or_default().to_string());
            }
        });
    }
    drop(tx);
    let mut acked = Vec::new();
    while acked.len() < 20 {
        acked.push(acks.recv().await.expect("acknowledgements"));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    while let Some(id) = acks.recv().await {
        acked.push(id);
    }

    let mut child = spawn_server(&db, port);
    let app = App::attach(&format!("http://127.0.0.1:{port}")).await;
    recv.answer(200);
    app.advance(3_600_000).await;
    let mut expected: HashSet<String> = HashSet::new();
    for id in &acked {
        let events = app.get(&format!("/v1/conversations/{id}/events"), &app.admin).await.ok();
        assert!(!events["events"].as_array().unwrap().is_empty(), "an acknowledged conversation survived: {id}");
        expected.extend(events["events"].as_array().unwrap().iter().map(|e| e["id"].as_str().unwrap().to_string()));
    }
    let mut bodies: HashMap<String, String> = HashMap::new();
    let mut delivered: HashSet<String> = HashSet::new();
    while !expected.is_subset(&delivered) {
        let r = recv.next().await;
        if let Some(prev) = bodies.insert(r.event_id.clone(), r.body.clone()) {
            assert_eq!(prev, r.body, "a duplicate is the same event");
        }
        if r.status == 200 {
            delivered.insert(r.event_id);
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();
}

/// A receiver that never recovers: after 24 h of engine time the delivery is dead-lettered, the gap is
/// marked, and the events behind it go on.
#[tokio::test]
async fn a_dead_lettered_delivery_stops_blocking_later_ones() {
    let mut recv = Receiver::start(500).await;
    let app = App::spawn_with(|c| c.allow_private_webhooks = true).await;
    let hook = app
        .post(
            "/v1/webhooks",
            &app.admin,
            json!({"url": recv.url, "eventTypes": ["conversation.created", "attributes.updated"], "secret": SECRET}),
        )
        .await
        .expect(201);
    let hook_id = hook["id"].as_str().unwrap().to_string();
    let q = app.queue("Q", json!({"policy": "none"}), &[], &[]).await;
    let c = app.create(&app.admin, json!({"mediaType": "message", "queueId": q})).await;
    let id = c["id"].as_str().unwrap();
    app.call(reqwest::Method::PATCH, &format!("/v1/conversations/{id}/attributes"), &app.admin, Some(json!({"k": 1})))
        .await
        .ok();
    let first = recv.next().await;
    let path = format!("/v1/webhooks/{hook_id}/deliveries");
    // Each round: wait until the failed attempt is recorded, then move engine time past the backoff.
    let mut attempts = 1;
    loop {
        let rows = tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                let rows = app.get(&path, &app.admin).await.ok()["entities"].as_array().unwrap().clone();
                if rows[0]["attempts"].as_u64().unwrap() >= attempts {
                    return rows;
                }
            }
        })
        .await
        .expect("the outcome is recorded");
        if rows[0]["status"] == "deadLettered" {
            assert_eq!(rows[0]["gap"], true);
            assert_eq!(rows[0]["lastStatusCode"], 500);
            break;
        }
        assert!(attempts < 40, "dead-lettered within 24 h of retries");
        app.advance(3 * 3_600_000).await;
        let again = recv.next().await;
        assert_eq!(again.event_id, first.event_id, "the head is retried; nothing behind it overtakes it");
        attempts += 1;
    }
    // The next event of the conversation is no longer blocked.
    let next = recv.next().await;
    assert_ne!(next.event_id, first.event_id);
    assert!(serde_json::from_str::<Value>(&next.body).unwrap()["type"] == "attributes.updated");
}

#[tokio::test]
async fn deleted_configuration_is_gone_for_readers_at_once() {
    let app = App::spawn_with(|c| c.allow_private_webhooks = true).await;
    let q = app.queue("Q", json!({"policy": "none"}), &[], &[]).await;
    let hook = app
        .post("/v1/webhooks", &app.admin, json!({"url": "http://127.0.0.1:9/", "eventTypes": ["*"], "secret": SECRET}))
        .await
        .expect(201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    let dep =
        app.post("/v1/messaging-deployments", &app.admin, json!({"name": "D", "queueId": q})).await.expect(201)["id"]
            .as_str()
            .unwrap()
            .to_string();
    for path in [format!("/v1/webhooks/{hook}"), format!("/v1/messaging-deployments/{dep}"), format!("/v1/queues/{q}")]
    {
        app.call(Method::DELETE, &path, &app.admin, None).await.ok();
        assert_eq!(app.get(&path, &app.admin).await.status, 404, "{path} is gone as soon as its delete answered");
    }
}
