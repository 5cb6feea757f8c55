//! Analytics end to end: true the moment a change commits (details and aggregates), amendments visible at
//! once, every explain reason, interval edges and time zones, and stable paging under concurrent writes.

use crate::harness::{App, participant, pid};
use serde_json::{Value, json};
use std::collections::HashSet;

fn all_day(around: &str) -> String {
    let day = &around[..10];
    format!("{day}T00:00:00Z/{day}T23:59:59.999Z")
}

async fn details(app: &App, body: Value) -> Value {
    app.post("/v1/analytics/conversations/details/query", &app.admin, body).await.ok()
}

async fn aggregates(app: &App, body: Value) -> Value {
    app.post("/v1/analytics/conversations/aggregates/query", &app.admin, body).await.ok()
}

/// A voice call answered and ended by an agent of `queue`; returns (conversation id, agent participant id).
async fn handled_call(app: &App, queue: &str, user: &str) -> (String, String) {
    let conv = app.create(&app.admin, json!({"mediaType": "voice", "queueId": queue})).await;
    let id = conv["id"].as_str().unwrap().to_string();
    let a = pid(participant(&conv, "agent", Some(user)));
    app.post(&format!("/v1/conversations/{id}/participants/{a}/answer"), &app.admin, json!({})).await.ok();
    app.post(&format!("/v1/conversations/{id}/participants/{a}/disconnect"), &app.admin, json!({})).await.ok();
    (id, a)
}

#[tokio::test]
async fn details_and_aggregates_are_true_at_commit() {
    let app = App::spawn().await;
    let (sale, refund) = (app.code("Sale").await, app.code("Refund").await);
    let agent = app.user("ana", &["agent"]).await;
    let q = app.queue("Sales", json!({"policy": "mandatory"}), &[&sale, &refund], &[&agent]).await;
    app.on_queue(&agent).await;
    let (id, a) = handled_call(&app, &q, &agent).await;
    app.advance(45_000).await;
    let c = app
        .put(&format!("/v1/conversations/{id}/participants/{a}/wrapup"), &app.admin, json!({"codeId": sale}))
        .await
        .ok();
    let interval = all_day(c["startedAt"].as_str().unwrap());

    // The very next request sees the code.
    let d = details(&app, json!({"interval": interval, "filters": {"wrapupCodeIds": [sale]}})).await;
    assert_eq!(d["totalHits"], 1);
    let agent_facts = d["conversations"][0]["participants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["purpose"] == "agent")
        .unwrap()
        .clone();
    assert_eq!(agent_facts["wrapup"]["codeId"], sale.as_str());
    assert_eq!(agent_facts["metrics"]["tAcw"], 45_000);
    let kinds: Vec<&str> =
        agent_facts["segments"].as_array().unwrap().iter().map(|s| s["type"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["alert", "interact", "wrapup"]);
    let by_code = |codes: Value| {
        let app = &app;
        let interval = interval.clone();
        async move {
            aggregates(app, json!({"interval": interval, "granularity": "P1D", "groupBy": ["wrapupCodeId"], "metrics": ["nConnected", "tAcw"], "filters": {"wrapupCodeIds": codes}})).await
        }
    };
    let agg = by_code(json!([sale, refund])).await;
    assert_eq!(agg["results"].as_array().unwrap().len(), 1);
    assert_eq!(agg["results"][0]["group"]["wrapupCodeId"], sale.as_str());
    assert_eq!(agg["results"][0]["data"][0]["metrics"]["nConnected"]["count"], 1);
    assert_eq!(agg["results"][0]["data"][0]["metrics"]["tAcw"]["sum"], 45_000);

    // An amendment moves the fact at once: details and aggregates agree with the conversation.
    app.put(&format!("/v1/conversations/{id}/participants/{a}/wrapup"), &app.admin, json!({"codeId": refund}))
        .await
        .ok();
    assert_eq!(
        details(&app, json!({"interval": interval, "filters": {"wrapupCodeIds": [sale]}})).await["totalHits"],
        0
    );
    assert_eq!(
        details(&app, json!({"interval": interval, "filters": {"wrapupCodeIds": [refund]}})).await["totalHits"],
        1
    );
    let agg = by_code(json!([sale, refund])).await;
    assert_eq!(agg["results"].as_array().unwrap().len(), 1);
    assert_eq!(agg["results"][0]["group"]["wrapupCodeId"], refund.as_str());
    assert_eq!(agg["results"][0]["data"][0]["metrics"]["tAcw"]["sum"], 45_000, "timings stay, only the code moved");
    // Filters combine: another queue or media finds nothing.
    let none =
        details(&app, json!({"interval": interval, "filters": {"queueIds": ["other"], "wrapupCodeIds": [refund]}}))
            .await;
    assert_eq!(none["totalHits"], 0);
    let msg = details(&app, json!({"interval": interval, "filters": {"mediaTypes": ["message"]}})).await;
    assert_eq!(msg["totalHits"], 0);
    // Bad queries are refused with a pointer.
    let r = app
        .post("/v1/analytics/conversations/details/query", &app.admin, json!({"interval": "yesterday"}))
        .await
        .expect(422);
    assert_eq!(r["violations"][0]["pointer"], "/interval");
    let r = app
        .post(
            "/v1/analytics/conversations/aggregates/query",
            &app.admin,
            json!({"interval": interval, "granularity": "P1W"}),
        )
        .await
        .expect(422);
    assert_eq!(r["violations"][0]["pointer"], "/granularity");
    let agent_token = app.login("ana").await;
    assert_eq!(
        app.post("/v1/analytics/conversations/details/query", &agent_token, json!({"interval": interval})).await.status,
        403
    );
}

#[tokio::test]
async fn interval_edges_and_time_zones() {
    let app = App::spawn().await;
    let q = app.queue("Q", json!({"policy": "none"}), &[], &[]).await;
    let c = app.create(&app.admin, json!({"mediaType": "message", "queueId": q})).await;
    let started = c["startedAt"].as_str().unwrap().to_string();
    let ms = switchboard_core::Timestamp::parse(&started).unwrap().0;
    let t = |ms: i64| switchboard_core::Timestamp(ms).to_string();
    // Start inclusive, end exclusive.
    assert_eq!(details(&app, json!({"interval": format!("{}/{}", t(ms), t(ms + 1))})).await["totalHits"], 1);
    assert_eq!(details(&app, json!({"interval": format!("{}/{}", t(ms - 60_000), t(ms))})).await["totalHits"], 0);
    // Day buckets follow the zone's calendar: UTC days start at 00:00Z, Kolkata days at 18:30Z.
    let interval = format!("{}/{}", t(ms - 2 * 86_400_000), t(ms + 2 * 86_400_000));
    let day = |tz: &'static str| {
        let (app, interval) = (&app, interval.clone());
        async move {
            let r = aggregates(
                app,
                json!({"interval": interval, "granularity": "P1D", "timeZone": tz, "metrics": ["nOffered"]}),
            )
            .await;
            r["results"][0]["data"][0]["interval"].as_str().unwrap().to_string()
        }
    };
    assert!(day("UTC").await.starts_with(&format!("{}T00:00:00.000Z", &started[..10])));
    assert!(day("Asia/Kolkata").await.contains("T18:30:00.000Z"), "{}", day("Asia/Kolkata").await);
    let r = app
        .post(
            "/v1/analytics/conversations/aggregates/query",
            &app.admin,
            json!({"interval": interval, "granularity": "P1D", "timeZone": "Mars/Olympus"}),
        )
        .await
        .expect(422);
    assert_eq!(r["violations"][0]["pointer"], "/timeZone");
    // Quarter-hour buckets are UTC slices from the interval start.
    let r = aggregates(&app, json!({"interval": format!("{}/{}", t(ms - 1000), t(ms + 3_600_000)), "granularity": "PT15M", "metrics": ["nOffered"]})).await;
    assert_eq!(r["results"][0]["data"][0]["interval"], format!("{}/{}", t(ms - 1000), t(ms - 1000 + 900_000)));
    // A day interval starting off the quarter hour still puts a fact from 00:02 into the new day.
    let midnight = (ms / 86_400_000 + 1) * 86_400_000;
    let now = switchboard_core::Timestamp::parse(app.advance(0).await["now"].as_str().unwrap()).unwrap().0;
    app.advance(midnight + 120_000 - now).await;
    app.create(&app.admin, json!({"mediaType": "message", "queueId": q})).await;
    let interval = format!("{}/{}", t(midnight - 600_000), t(midnight + 86_400_000));
    let r = aggregates(&app, json!({"interval": interval, "granularity": "P1D", "metrics": ["nOffered"]})).await;
    assert_eq!(r["results"][0]["data"][0]["interval"], format!("{}/{}", t(midnight), t(midnight + 86_400_000)), "{r}");
    assert_eq!(r["results"][0]["data"][0]["metrics"]["nOffered"]["count"], 1, "{r}");
}

#[tokio::test]
async fn paging_returns_every_row_once_while_writes_go_on() {
    let app = App::spawn().await;
    let q = app.queue("Q", json!({"policy": "none"}), &[], &[]).await;
    let mut expected = HashSet::new();
    let mut interval = String::new();
    for _ in 0..23 {
        let c = app.create(&app.admin, json!({"mediaType": "message", "queueId": q})).await;
        interval = all_day(c["startedAt"].as_str().unwrap());
        expected.insert(c["id"].as_str().unwrap().to_string());
    }
    for order in ["asc", "desc"] {
        let mut seen = Vec::new();
        let mut cursor = Value::Null;
        loop {
            let page = details(
                &app,
                json!({"interval": interval, "order": order, "paging": {"pageSize": 5, "cursor": cursor}}),
            )
            .await;
            seen.extend(
                page["conversations"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|c| c["conversationId"].as_str().unwrap().to_string()),
            );
            // A new conversation lands between pages.
            app.create(&app.admin, json!({"mediaType": "voice", "queueId": q})).await;
            cursor = page["cursor"].clone();
            if cursor.is_null() {
                break;
            }
        }
        let unique: HashSet<String> = seen.iter().cloned().collect();
        assert_eq!(unique.len(), seen.len(), "{order}: no row twice");
        assert!(expected.is_subset(&unique), "{order}: every row that existed");
    }
}

#[tokio::test]
async fn every_explain_reason() {
    let app = App::spawn().await;
    let (code, default) = (app.code("Done").await, app.code("Default").await);
    let a = app.user("eva", &["agent"]).await;
    let b = app.user("eli", &["agent", "supervisor"]).await;
    let qn = app.queue("None", json!({"policy": "none"}), &[&code], &[&a]).await;
    let qo = app.queue("Opt", json!({"policy": "optional"}), &[&code], &[&a]).await;
    let qm = app.queue("Mand", json!({"policy": "mandatory"}), &[&code], &[&a]).await;
    let qt = app
        .queue(
            "Timed",
            json!({"policy": "mandatoryTimeout", "timeoutMs": 60_000, "defaultCodeId": default}),
            &[&code, &default],
            &[&a],
        )
        .await;
    app.on_queue(&a).await;
    let reason = |conv: &str| {
        let (app, conv) = (&app, conv.to_string());
        async move {
            let e = app.get(&format!("/v1/conversations/{conv}/wrapup-explain"), &app.admin).await.ok();
            let p = e["participants"].as_array().unwrap();
            let agent = p.iter().rev().find(|p| p["purpose"] == "agent").cloned().unwrap_or(Value::Null);
            assert!(!agent["sentence"].as_str().unwrap_or("x").is_empty());
            (
                agent["reason"].as_str().unwrap_or("").to_string(),
                p.iter().find(|p| p["purpose"] == "customer").unwrap()["reason"].clone(),
            )
        }
    };
    // notStarted, then noWrapupPhase (policy none); the customer is notApplicable.
    let conv = app.create(&app.admin, json!({"mediaType": "voice", "queueId": qn})).await;
    let id = conv["id"].as_str().unwrap();
    let p = pid(participant(&conv, "agent", None));
    app.post(&format!("/v1/conversations/{id}/participants/{p}/answer"), &app.admin, json!({})).await.ok();
    assert_eq!(reason(id).await, ("notStarted".into(), json!("notApplicable")));
    app.post(&format!("/v1/conversations/{id}/participants/{p}/disconnect"), &app.admin, json!({})).await.ok();
    assert_eq!(reason(id).await.0, "noWrapupPhase");
    // offerNeverAnswered.
    let conv = app.create(&app.admin, json!({"mediaType": "voice", "queueId": qn})).await;
    let id = conv["id"].as_str().unwrap();
    let p = pid(participant(&conv, "agent", None));
    app.post(&format!("/v1/conversations/{id}/participants/{p}/decline"), &app.admin, json!({})).await.ok();
    assert_eq!(reason(id).await.0, "offerNeverAnswered");
    app.post(&format!("/v1/conversations/{id}/close"), &app.admin, json!({})).await.ok();
    // skipped.
    let (id, p) = handled_call(&app, &qo, &a).await;
    app.post(&format!("/v1/conversations/{id}/participants/{p}/wrapup/skip"), &app.admin, json!({})).await.ok();
    assert_eq!(reason(&id).await.0, "skipped");
    // pending (with the deadline), then timedOut to the default.
    let (id, p) = handled_call(&app, &qt, &a).await;
    let e = app.get(&format!("/v1/conversations/{id}/wrapup-explain"), &app.admin).await.ok();
    let agent =
        e["participants"].as_array().unwrap().iter().find(|x| x["participantId"] == p.as_str()).unwrap().clone();
    assert_eq!((agent["reason"].as_str(), agent["deadline"].is_string()), (Some("pending"), true));
    app.advance(61_000).await;
    let (r, _) = reason(&id).await;
    assert_eq!(r, "timedOut");
    let e = app.get(&format!("/v1/conversations/{id}/wrapup-explain"), &app.admin).await.ok();
    assert!(e["participants"].to_string().contains("default code"), "{e}");
    // systemTeardown.
    let (id, _) = handled_call(&app, &qm, &a).await;
    app.post(&format!("/v1/conversations/{id}/close"), &app.admin, json!({"pendingWrapups": "system"})).await.ok();
    assert_eq!(reason(&id).await.0, "systemTeardown");
    // set, then amended (from → to, by whom).
    let (id, p) = handled_call(&app, &qm, &a).await;
    app.put(&format!("/v1/conversations/{id}/participants/{p}/wrapup"), &app.admin, json!({"codeId": code})).await.ok();
    assert_eq!(reason(&id).await.0, "set");
    let eli = app.login("eli").await;
    app.put(
        &format!("/v1/conversations/{id}/participants/{p}/wrapup"),
        &eli,
        json!({"codeId": code, "notes": "checked"}),
    )
    .await
    .ok();
    let e = app.get(&format!("/v1/conversations/{id}/wrapup-explain"), &app.admin).await.ok();
    let agent =
        e["participants"].as_array().unwrap().iter().find(|x| x["participantId"] == p.as_str()).unwrap().clone();
    assert_eq!(agent["reason"], "amended");
    assert!(agent["sentence"].as_str().unwrap().contains(&format!("user {b}")), "{agent}");
    assert_eq!(agent["amendedFrom"][0]["codeId"], code.as_str());
}

#[tokio::test]
async fn the_cli_exports_details_and_aggregates() {
    let app = App::spawn().await;
    let q = app.queue("Q", json!({"policy": "none"}), &[], &[]).await;
    let mut interval = String::new();
    for _ in 0..3 {
        let c = app.create(&app.admin, json!({"mediaType": "message", "queueId": q})).await;
        interval = all_day(c["startedAt"].as_str().unwrap());
    }
    let run = |args: Vec<String>| {
        let (base, token) = (app.base.clone(), app.admin.clone());
        tokio::task::spawn_blocking(move || {
            std::process::Command::new(env!("CARGO_BIN_EXE_switchboard"))
                .arg("analytics")
                .args(args)
                .args(["--url", &base, "--token", &token])
                .output()
                .expect("the CLI runs")
        })
    };
    let out = run(vec![
        "details".into(),
        "--interval".into(),
        interval.clone(),
        "--format".into(),
        "csv".into(),
        "--queue".into(),
        q.clone(),
    ])
    .await
    .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let csv = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert!(lines[0].starts_with("conversationId,mediaType,startedAt,state,queues"), "{csv}");
    assert_eq!(lines.len(), 4, "a header and one line per conversation: {csv}");
    assert!(lines[1].contains(&q));
    assert!(String::from_utf8_lossy(&out.stderr).contains("3/3 conversations"), "progress is shown");
    let out = run(vec![
        "aggregates".into(),
        "--interval".into(),
        interval,
        "--granularity".into(),
        "P1D".into(),
        "--metric".into(),
        "nOffered".into(),
        "--format".into(),
        "json".into(),
    ])
    .await
    .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["results"][0]["data"][0]["metrics"]["nOffered"]["count"], 3);
    let bad = run(vec!["details".into(), "--interval".into(), "nonsense".into()]).await.unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("interval"), "a clear error");
}
