//! Tenancy and ownership (SECURITY.md): every operation of the OpenAPI document, called with another org's
//! admin token and with an unrelated agent's token, on ids that exist in the first org: 404 or 403 and not
//! one byte of its data. Also the `org` command against a live server.

use crate::harness::{App, PASSWORD, participant, pid};
use reqwest::Method;
use serde_json::{Value, json};
use switchboard_api::openapi::OPERATIONS;

/// Org A's data: ids to put into paths, and markers that must never reach another org or agent.
struct Fixture {
    conversation: String,
    participant: String,
    queue: String,
    code: String,
    agent: String,
    webhook: String,
    deployment: String,
    client: String,
    markers: Vec<String>,
}

async fn seed(app: &App) -> Fixture {
    let code = app.code("Secret Code A").await;
    let agent = app
        .post(
            "/v1/users",
            &app.admin,
            json!({"name": "Secret Agent Name", "username": "agent-a1", "password": PASSWORD, "roles": ["agent"]}),
        )
        .await
        .ok()["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.user("agent-a2", &["agent"]).await;
    let queue = app.queue("Secret Queue A", json!({"policy": "optional"}), &[&code], &[&agent]).await;
    app.on_queue(&agent).await;
    let conv = app
        .create(
            &app.admin,
            json!({"mediaType": "message", "queueId": queue, "from": {"name": "Secret Customer", "address": "+15550100"},
                   "attributes": {"secretKey": "secret-attr-value"}}),
        )
        .await;
    let id = conv["id"].as_str().unwrap().to_string();
    let offer = pid(participant(&conv, "agent", Some(&agent)));
    let a1 = app.login("agent-a1").await;
    app.post(&format!("/v1/conversations/{id}/participants/{offer}/answer"), &a1, json!({})).await.ok();
    app.post(&format!("/v1/conversations/{id}/messages"), &a1, json!({"text": "secret message text"})).await.ok();
    let webhook = app
        .post(
            "/v1/webhooks",
            &app.admin,
            json!({"url": "http://127.0.0.1:9/secret-hook", "eventTypes": ["*"], "secret": "0123456789abcdef0123"}),
        )
        .await
        .expect(201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    let deployment = app
        .post("/v1/messaging-deployments", &app.admin, json!({"name": "Secret Deployment", "queueId": queue}))
        .await
        .expect(201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    let client = app
        .post("/v1/clients", &app.admin, json!({"name": "Secret Client", "scopes": ["routing:read"]}))
        .await
        .ok()["clientId"]
        .as_str()
        .unwrap()
        .to_string();
    let markers = [
        "Secret Code A",
        "Secret Agent Name",
        "Secret Queue A",
        "Secret Customer",
        "secret-attr-value",
        "secret message text",
        "secret-hook",
        "Secret Deployment",
        "Secret Client",
        "agent-a1",
    ]
    .map(String::from)
    .to_vec();
    Fixture { conversation: id, participant: offer, queue, code, agent, webhook, deployment, client, markers }
}

impl Fixture {
    fn concrete(&self, path: &str) -> String {
        let id = if path.starts_with("/v1/conversations/") {
            &self.conversation
        } else if path.starts_with("/v1/queues/") {
            &self.queue
        } else if path.starts_with("/v1/wrapup-codes/") {
            &self.code
        } else if path.starts_with("/v1/users/") {
            &self.agent
        } else if path.starts_with("/v1/webhooks/") {
            &self.webhook
        } else if path.starts_with("/v1/clients/") {
            &self.client
        } else {
            &self.deployment
        };
        path.replace("{id}", id).replace("{pid}", &self.participant).replace("{did}", "d").replace("{slug}", "x")
    }

    /// A body that passes validation, so the answer is about the target, not the body.
    fn body(&self, path: &str, schema: Option<&str>) -> Option<String> {
        let handover = json!({"fromParticipantId": self.participant, "to": {"queueId": self.queue}});
        let v = match schema? {
            _ if path.ends_with("/transfer") || path.ends_with("/consult") => handover,
            "Queue" => json!({"name": "x", "acw": {"policy": "none"}}),
            "Code" | "Org" => json!({"name": "x"}),
            "User" => json!({"name": "x", "username": "walker", "roles": ["agent"]}),
            "Members" | "MemberPatch" | "IdList" => json!([]),
            "RoutingStatus" => json!({"status": "offQueue"}),
            "Webhook" => json!({"url": "http://127.0.0.1:9/x", "eventTypes": ["*"], "secret": "0123456789abcdef"}),
            "Deployment" => json!({"name": "x", "queueId": self.queue}),
            "Message" => json!({"text": "hello"}),
            "Wrapup" => json!({"codeId": self.code}),
            "Transfer" => json!({"queueId": self.queue}),
            "CreateConversation" => json!({"mediaType": "voice", "queueId": self.queue}),
            "GuestSession" => json!({"name": "g", "queueId": self.queue}),
            "StringMap" => json!({"k": "v"}),
            "Clock" => json!({"advanceMs": 0}),
            "DetailsQuery" => json!({"interval": "2026-01-01T00:00:00Z/2026-12-31T00:00:00Z"}),
            "AggregatesQuery" => json!({"interval": "2026-01-01T00:00:00Z/2026-12-31T00:00:00Z", "granularity": "P1D"}),
            _ => json!({}),
        };
        Some(v.to_string())
    }
}

/// Calls every operation with `token` and checks the answers; returns how many carried org A's ids.
async fn walk(app: &App, fx: &Fixture, token: &str, only: impl Fn(&str) -> bool) -> usize {
    let mut targeted = 0;
    for (method, path, op, _, _, schema) in OPERATIONS {
        // OAuth and the login page take forms and no bearer token; they are covered in identity.rs.
        if path.starts_with("/oauth/") || !only(path) {
            continue;
        }
        let concrete = fx.concrete(path);
        let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        let body = fx.body(path, *schema);
        let r = app.raw(m, &concrete, Some(token), body.as_deref(), &[]).await;
        let text = r.body.to_string();
        for marker in &fx.markers {
            assert!(!text.contains(marker.as_str()), "{op} ({method} {concrete}) leaked {marker:?}: {text}");
        }
        if path.contains('{') && !path.starts_with("/problems/") {
            targeted += 1;
            let s = r.status.as_u16();
            assert!([403, 404].contains(&s), "{op} ({method} {concrete}) answered {s} on another's resource: {text}");
            if s == 404 {
                assert_eq!(r.body["code"], "not_found", "{op}: a foreign id is exactly an unknown one");
            }
        }
    }
    targeted
}

#[tokio::test]
async fn another_orgs_admin_reaches_nothing_through_any_operation() {
    let app = App::spawn_with(|c| c.allow_private_webhooks = true).await;
    let fx = seed(&app).await;
    let before = app.conversation(&fx.conversation).await;
    let org = app.post("/v1/admin/orgs", &app.admin, json!({"name": "Org B"})).await.expect(201);
    let other = app
        .client_token(org["adminClient"]["clientId"].as_str().unwrap(), org["adminClient"]["secret"].as_str().unwrap())
        .await;
    let targeted = walk(&app, &fx, &other, |_| true).await;
    assert!(targeted >= 40, "the walk covered the id-bearing operations ({targeted})");
    // Nothing of org A changed.
    assert_eq!(app.conversation(&fx.conversation).await["version"], before["version"]);
    let q = app.get(&format!("/v1/queues/{}", fx.queue), &app.admin).await.ok();
    assert_eq!(q["name"], "Secret Queue A");
    app.get(&format!("/v1/webhooks/{}", fx.webhook), &app.admin).await.ok();
    app.get(&format!("/v1/messaging-deployments/{}", fx.deployment), &app.admin).await.ok();
    let agent = app.get(&format!("/v1/users/{}", fx.agent), &app.admin).await.ok();
    assert_eq!(agent["name"], "Secret Agent Name");
}

#[tokio::test]
async fn an_agent_reaches_nothing_of_another_agents_conversation() {
    let app = App::spawn_with(|c| c.allow_private_webhooks = true).await;
    let mut fx = seed(&app).await;
    let before = app.conversation(&fx.conversation).await;
    let a2 = app.login("agent-a2").await;
    // The agent may know its org's names (queues, codes, colleagues); the conversation's data is what
    // must not reach it.
    fx.markers = ["Secret Customer", "secret-attr-value", "secret message text"].map(String::from).to_vec();
    fx.markers.push(fx.participant.clone());
    let targeted = walk(&app, &fx, &a2, |p| p.starts_with("/v1/conversations/{id}")).await;
    assert!(targeted >= 20, "{targeted}");
    assert_eq!(app.conversation(&fx.conversation).await["version"], before["version"]);
    // Listing and searching do not find it either.
    let list = app.get("/v1/conversations", &a2).await.ok();
    assert!(!list.to_string().contains(&fx.conversation));
}

#[tokio::test]
async fn the_org_command_creates_and_lists_organizations_on_a_live_server() {
    let app = App::spawn().await;
    // The server runs on this test's runtime: the command must not block it.
    let run = |args: &[&str]| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_switchboard"));
        cmd.args(args)
            .args(["--url", &app.base, "--client-id", "admin"])
            .env("SWITCHBOARD_CLIENT_SECRET", crate::harness::ADMIN_SECRET);
        tokio::task::spawn_blocking(move || cmd.output())
    };
    let stdout = |out: Result<std::io::Result<std::process::Output>, tokio::task::JoinError>| {
        let out = out.unwrap().expect("the command runs");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    let created = stdout(run(&["org", "create", "--name", "Acme", "--format", "json"]).await);
    let created: Value = serde_json::from_str(&created).unwrap();
    let (id, secret) =
        (created["adminClient"]["clientId"].as_str().unwrap(), created["adminClient"]["secret"].as_str().unwrap());
    let token = app.client_token(id, secret).await;
    let me = app.get("/v1/clients/me", &token).await.ok();
    assert_eq!(me["orgId"], created["id"]);
    // The new org's audit trail starts with the operator who created it.
    let trail = app.get("/v1/audit", &token).await.ok();
    let first = &trail["entities"][0];
    assert_eq!((first["action"].as_str(), first["actor"]["id"].as_str()), (Some("org.create"), Some("admin")));
    let listed = stdout(run(&["org", "list"]).await);
    assert!(listed.lines().any(|l| l.contains("Acme") && l.contains(created["id"].as_str().unwrap())), "{listed}");
    // The org's admin is no operator: it cannot list or create orgs.
    assert_eq!(app.get("/v1/admin/orgs", &token).await.expect(403)["code"], "bootstrap_admin_only");
}
