//! `serve --demo`: seeds a demo org (2 queues with different wrap-up policies, 6 codes, 4 agents, a
//! supervisor, a service client) when the database has no users yet.

use anyhow::Context;
use switchboard_api::auth;
use switchboard_core::AcwPolicy;
use switchboard_core::config::{AcwSettings, QueueMember, Role};
use switchboard_engine::{ConfigCommand, ConfigOutcome, Engine, QueueSpec, RoutingStatusRequest, UserSpec};

pub const DEMO_ADMIN_SECRET: &str = "switchboard-demo";
pub const DEMO_PASSWORD: &str = "demo-password";
pub const DEMO_CLIENT_ID: &str = "demo-gateway";
pub const DEMO_CLIENT_SECRET: &str = "demo-gateway-secret";

async fn run(engine: &Engine, org: &str, cmd: ConfigCommand) -> anyhow::Result<ConfigOutcome> {
    engine.configure_as_system(org, cmd).await.context("seeding the demo org")
}

pub async fn seed_if_empty(engine: &Engine, org: &str) -> anyhow::Result<Vec<String>> {
    let has_users = engine.org(org).is_some_and(|o| !o.users.is_empty());
    let mut notes = Vec::new();
    if has_users {
        notes.push("demo: the database already has users; nothing seeded".into());
        return Ok(notes);
    }
    let mut codes = Vec::new();
    for (name, description) in [
        ("Resolved", "The customer's issue was solved"),
        ("Callback requested", "The customer asked to be called back"),
        ("Escalated", "Handed to second-line support"),
        ("Wrong number", "The customer reached us by mistake"),
        ("Sale", "An order was placed"),
        ("No sale", "No order this time"),
    ] {
        let cmd = ConfigCommand::CreateCode { name: name.into(), description: Some(description.into()) };
        if let ConfigOutcome::Code(c) = run(engine, org, cmd).await? {
            codes.push(c.id);
        }
    }
    let hash = auth::hash_secret_async(DEMO_PASSWORD.into()).await.map_err(|e| anyhow::anyhow!("{}", e.detail))?;
    let mut agents = Vec::new();
    for i in 1..=4 {
        let spec = UserSpec {
            name: format!("Agent {i}"),
            username: format!("agent{i}"),
            email: Some(format!("agent{i}@demo.invalid")),
            password_hash: Some(hash.clone()),
            roles: vec![Role::Agent],
            capacity: None,
            voice_blocks_others: None,
        };
        if let ConfigOutcome::User(u) = run(engine, org, ConfigCommand::CreateUser(spec)).await? {
            agents.push(u.id);
        }
    }
    let supervisor = UserSpec {
        name: "Supervisor".into(),
        username: "supervisor".into(),
        email: Some("supervisor@demo.invalid".into()),
        password_hash: Some(hash),
        roles: vec![Role::Agent, Role::Supervisor],
        capacity: None,
        voice_blocks_others: None,
    };
    run(engine, org, ConfigCommand::CreateUser(supervisor)).await?;
    let member = |i: usize| QueueMember { user_id: agents[i].clone(), joined: true };
    let support = QueueSpec {
        name: "Support".into(),
        acw: AcwSettings {
            policy: AcwPolicy::MandatoryTimeout,
            timeout_ms: Some(60_000),
            default_code_id: Some(codes[0].clone()),
        },
        wrapup_codes: Some(codes[0..4].to_vec()),
        members: Some(vec![member(0), member(1)]),
        ..Default::default()
    };
    let sales = QueueSpec {
        name: "Sales".into(),
        acw: AcwSettings { policy: AcwPolicy::Optional, timeout_ms: None, default_code_id: None },
        wrapup_codes: Some(vec![codes[4].clone(), codes[5].clone(), codes[1].clone()]),
        members: Some(vec![member(1), member(2), member(3)]),
        ..Default::default()
    };
    run(engine, org, ConfigCommand::CreateQueue(support)).await?;
    run(engine, org, ConfigCommand::CreateQueue(sales)).await?;
    for a in &agents {
        run(engine, org, ConfigCommand::SetRoutingStatus { user_id: a.clone(), status: RoutingStatusRequest::OnQueue })
            .await?;
    }
    let client = ConfigCommand::CreateClient {
        redirect_uris: vec![],
        id: DEMO_CLIENT_ID.into(),
        name: "Demo gateway".into(),
        scopes: ["conversations:read", "conversations:write", "conversations:close", "wrapup:write", "routing:read"]
            .map(String::from)
            .to_vec(),
        secret_hash: auth::hash_secret_async(DEMO_CLIENT_SECRET.into())
            .await
            .map_err(|e| anyhow::anyhow!("{}", e.detail))?,
    };
    run(engine, org, client).await?;
    notes.push("demo org seeded: queues Support (mandatoryTimeout 60 s) and Sales (optional), 6 wrap-up codes".into());
    notes.push(format!("demo users agent1..agent4 (on queue) and supervisor, password {DEMO_PASSWORD}"));
    notes.push(format!(
        "demo service client {DEMO_CLIENT_ID} / {DEMO_CLIENT_SECRET}; bootstrap admin admin / {DEMO_ADMIN_SECRET}"
    ));
    notes.push("these demo credentials are public: never use --demo on a reachable server".into());
    Ok(notes)
}
