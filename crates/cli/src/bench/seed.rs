//! `switchboard bench seed`: fills a database with N closed conversations quickly (the bulk path), then
//! measures how long a cold `serve` takes to be ready on it. Templates come from the real core: each is a
//! full lifecycle decided against the org's real configuration, so stored shapes are exactly production's.

use crate::server::{self, ServeConfig};
use anyhow::Context;
use clap::Args;
use serde_json::{Value, json};
use std::path::PathBuf;
use std::time::Instant;
use switchboard_core::command::CreateConversation;
use switchboard_core::config::{AcwSettings, QueueMember, Role};
use switchboard_core::{Actor, AcwPolicy, Command, Conversation, Ctx, Event, MediaType, WrapupInput, decide};
use switchboard_engine::orgs::Dir;
use switchboard_engine::{
    ConfigCommand, ConfigOutcome, QueueSpec, UserSpec, analytics_row, conversation_row, envelope, refs_of,
};
use switchboard_store::{CommitBatch, Store, StoredEvent};
use switchboard_store_sqlite::SqliteStore;

#[derive(Args, Debug, Clone)]
pub struct SeedArgs {
    #[arg(long, env = "SWITCHBOARD_DB", default_value = "switchboard.db")]
    pub db: PathBuf,
    #[arg(long, default_value_t = 100_000)]
    pub conversations: u64,
    /// Conversations per transaction.
    #[arg(long, default_value_t = 5_000)]
    pub batch: u64,
    /// Then start `serve` on the database this many times and report the time until it answers.
    #[arg(long, default_value_t = 3)]
    pub restarts: usize,
    /// Analytics queries of each kind to time afterwards (details page, one-day aggregate).
    #[arg(long, default_value_t = 50)]
    pub queries: usize,
}

const SEED_DAYS: i64 = 30;

fn queue_spec(agent: &str, code: &str) -> QueueSpec {
    QueueSpec {
        name: String::new(),
        acw: AcwSettings { policy: AcwPolicy::Mandatory, timeout_ms: None, default_code_id: None },
        wrapup_codes: Some(vec![code.to_string()]),
        members: Some(vec![QueueMember { user_id: agent.to_string(), joined: true }]),
        ..Default::default()
    }
}

/// The marker every template-local id starts with; each copy replaces it with a fresh UUIDv7.
const MARKER: &str = "SEEDID";

struct Template {
    analytics: switchboard_store::AnalyticsRow,
    doc: String,
    refs: Vec<String>,
    state: String,
    media: String,
    started_at_ms: i64,
    events: Vec<(Event, String)>,
}

pub async fn run(args: SeedArgs) -> anyhow::Result<Value> {
    eprintln!("[seed] preparing the org on {} ...", args.db.display());
    let mut cfg = ServeConfig::new(args.db.clone());
    cfg.listen = "127.0.0.1:0".parse()?;
    cfg.admin_client_secret = Some(SEED_ADMIN_SECRET.into());
    let running = server::start(cfg, None).await?;
    let org_id = running.default_org.clone();
    let engine = running.engine.clone();
    let sys = |c| engine.configure_as_system(&org_id, c);
    let ConfigOutcome::Code(code) =
        sys(ConfigCommand::CreateCode { name: format!("Seeded {}", uuid::Uuid::now_v7()), description: None }).await?
    else {
        anyhow::bail!("unexpected outcome")
    };
    let name = format!("seed-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    let spec = UserSpec { name: name.clone(), username: name, roles: vec![Role::Agent], ..Default::default() };
    let ConfigOutcome::User(agent) = sys(ConfigCommand::CreateUser(spec)).await? else {
        anyhow::bail!("unexpected outcome")
    };
    let queue = QueueSpec { name: format!("Seeded {}", uuid::Uuid::now_v7()), ..queue_spec(&agent.id, &code.id) };
    let ConfigOutcome::Queue(queue) = sys(ConfigCommand::CreateQueue(queue.clone())).await? else {
        anyhow::bail!("unexpected outcome")
    };
    let second = QueueSpec { name: format!("Seeded {}", uuid::Uuid::now_v7()), ..queue_spec(&agent.id, &code.id) };
    let ConfigOutcome::Queue(queue2) = sys(ConfigCommand::CreateQueue(second)).await? else {
        anyhow::bail!("unexpected outcome")
    };
    let org = engine.org(&org_id).context("the org is published")?;
    // Templates spread over the last 30 days, 12 hours a day, both queues and both media, so analytics
    // queries see a realistic distribution.
    let today = switchboard_engine::wall_clock_ms() / 86_400_000 * 86_400_000;
    let mut templates = Vec::new();
    for day in 0..SEED_DAYS {
        for hour in (8..20).step_by(1) {
            for (q, media) in [(&queue.id, MediaType::Voice), (&queue2.id, MediaType::Message)] {
                let start = switchboard_core::Timestamp(today - day * 86_400_000 + hour * 3_600_000 + day * 7_000);
                templates.push(template(&org, media, q, &agent.id, &code.id, start)?);
            }
        }
    }
    let queue_ids = vec![queue.id.clone(), queue2.id.clone()];
    running.stop().await?;

    let store = SqliteStore::open(&args.db)?;
    let start = Instant::now();
    let bytes_before = store.database_bytes();
    let mut seq = store.last_seq()? + 1;
    let mut done = 0u64;
    while done < args.conversations {
        let n = args.batch.min(args.conversations - done);
        let mut batch = CommitBatch::default();
        for i in 0..n {
            let t = &templates[((done + i) % templates.len() as u64) as usize];
            let id = uuid::Uuid::now_v7().to_string();
            let conv_id = format!("{id}-00");
            for (k, (e, data)) in t.events.iter().enumerate() {
                let data = data.replace(MARKER, &id);
                let event_id = format!("{id}-e{k}");
                batch.events.push(StoredEvent {
                    seq,
                    body: envelope(seq, &event_id, &org_id, &conv_id, e, &data),
                    id: event_id,
                    org_id: org_id.clone(),
                    conversation_id: Some(conv_id.clone()),
                    event_type: e.data.type_name().to_string(),
                    at_ms: e.at.0,
                });
                seq += 1;
            }
            let mut a = t.analytics.clone();
            a.conversation_id = conv_id.clone();
            for m in &mut a.metrics {
                m.participant_id = m.participant_id.replace(MARKER, &id);
            }
            batch.analytics.push(a);
            batch.conversations.push(switchboard_store::ConversationRow {
                org_id: org_id.clone(),
                id: conv_id,
                state: t.state.clone(),
                version: t.events.last().map(|(e, _)| e.version).unwrap_or(1),
                media_type: t.media.clone(),
                started_at_ms: t.started_at_ms,
                doc: t.doc.replace(MARKER, &id),
                refs: t.refs.clone(),
            });
        }
        store.commit(&batch)?;
        done += n;
        let secs = start.elapsed().as_secs_f64();
        eprint!("\r[seed] {done}/{} conversations ({:.0}/s)   ", args.conversations, done as f64 / secs);
    }
    eprintln!();
    let seed_secs = start.elapsed().as_secs_f64();
    let bytes = store.database_bytes();
    let (conversations, events) = store.counts()?;
    drop(store);

    let mut restart_ms = Vec::new();
    for i in 0..args.restarts {
        eprintln!("[seed] cold start {}/{} of `serve` on the seeded database ...", i + 1, args.restarts);
        restart_ms.push(time_to_ready(&args.db).await?);
    }
    restart_ms.sort_by(|a, b| a.total_cmp(b));
    eprintln!("[seed] analytics queries on the seeded database ...");
    let analytics = analytics_bench(&args.db, &queue_ids, args.queries).await?;
    Ok(json!({
        "seeded": args.conversations,
        "spreadOverDays": SEED_DAYS,
        "seedSecs": seed_secs,
        "seedPerSec": (args.conversations as f64 / seed_secs).round(),
        "storedConversations": conversations,
        "storedEvents": events,
        "databaseBytes": bytes,
        "bytesPerSeededConversation": ((bytes.saturating_sub(bytes_before)) as f64 / args.conversations.max(1) as f64).round(),
        "restartToReadyMs": restart_ms,
        "restartToReadyMedianMs": restart_ms.get(restart_ms.len() / 2),
        "analytics": analytics,
    }))
}

/// One closed lifecycle decided by core: create, offer, answer, (messages), disconnect, wrap-up.
fn template(
    org: &switchboard_engine::OrgConfig,
    media: MediaType,
    queue: &str,
    agent: &str,
    code: &str,
    start: switchboard_core::Timestamp,
) -> anyhow::Result<Template> {
    let loads = Default::default();
    let dir = Dir { org, loads: &loads };
    let mut n = 0;
    let mut ids = || {
        n += 1;
        format!("{MARKER}-{n:02}")
    };
    let system = Actor::system();
    let mut now = start;
    let mut conv: Option<Conversation> = None;
    let mut events: Vec<Event> = Vec::new();
    let mut step = |cmd: Command,
                    now: switchboard_core::Timestamp,
                    conv: &mut Option<Conversation>,
                    ids: &mut dyn FnMut() -> String|
     -> anyhow::Result<()> {
        let mut ctx = Ctx { now, actor: &system, dir: &dir, ids };
        let d = decide(conv.as_ref(), &cmd, &mut ctx)
            .map_err(|r| anyhow::anyhow!("template step {} refused: {r:?}", cmd.name()))?;
        events.extend(d.events);
        *conv = Some(d.conversation);
        Ok(())
    };
    let create = CreateConversation {
        media_type: Some(media),
        queue_id: Some(queue.into()),
        from_name: Some("Seeded customer".into()),
        ..Default::default()
    };
    step(Command::Create(create), now, &mut conv, &mut ids)?;
    let acd = conv
        .as_ref()
        .and_then(|c| c.participants.iter().find(|p| p.purpose == switchboard_core::Purpose::Acd))
        .context("acd")?
        .id
        .clone();
    now = now.plus_ms(4_000);
    step(Command::Offer { acd_id: acd, user_id: agent.into() }, now, &mut conv, &mut ids)?;
    let pid = conv
        .as_ref()
        .and_then(|c| c.participants.iter().find(|p| p.purpose == switchboard_core::Purpose::Agent))
        .context("agent")?
        .id
        .clone();
    now = now.plus_ms(6_000);
    step(Command::Answer { participant_id: pid.clone() }, now, &mut conv, &mut ids)?;
    if media == MediaType::Message {
        for (k, from) in ["customer", "agent"].into_iter().enumerate() {
            let sender = conv
                .as_ref()
                .and_then(|c| c.participants.iter().find(|p| format!("{:?}", p.purpose).eq_ignore_ascii_case(from)))
                .context("sender")?
                .id
                .clone();
            now = now.plus_ms(20_000);
            step(
                Command::PostMessage { participant_id: Some(sender), text: format!("Seeded message {k}") },
                now,
                &mut conv,
                &mut ids,
            )?;
        }
    }
    now = now.plus_ms(180_000);
    step(
        Command::Disconnect { participant_id: pid.clone(), wrapup: None, skip_wrapup: false, reason: None },
        now,
        &mut conv,
        &mut ids,
    )?;
    now = now.plus_ms(30_000);
    step(Command::SetWrapup { participant_id: pid, input: WrapupInput::code(code) }, now, &mut conv, &mut ids)?;
    let conv = conv.context("conversation")?;
    anyhow::ensure!(conv.state() == switchboard_core::ConversationState::Closed, "the template must end closed");
    let row = conversation_row(&org.settings.id, &conv, refs_of(&conv));
    let events = events
        .into_iter()
        .map(|e| {
            let data = serde_json::to_string(&e.data).expect("events serialize");
            (e, data)
        })
        .collect();
    let analytics = analytics_row(&org.settings.id, &conv, &row.state, &row.media_type);
    Ok(Template {
        analytics,
        doc: row.doc,
        refs: row.refs,
        state: row.state,
        media: row.media_type,
        started_at_ms: row.started_at_ms,
        events,
    })
}

const SEED_ADMIN_SECRET: &str = "seed-admin-secret";

/// Times filtered details pages and one-day aggregates by queue × hour over HTTP, on a fresh `serve`.
async fn analytics_bench(db: &std::path::Path, queues: &[String], n: usize) -> anyhow::Result<Value> {
    let (mut child, base) = spawn_serve(db).await?;
    let http = reqwest::Client::new();
    let result = async {
        let token = crate::client_token(&http, &base, "admin", SEED_ADMIN_SECRET).await?;
        let day = switchboard_engine::wall_clock_ms() / 86_400_000 * 86_400_000 - 3 * 86_400_000;
        let interval = format!("{}/{}", switchboard_core::Timestamp(day), switchboard_core::Timestamp(day + 86_400_000));
        let mut out = serde_json::Map::new();
        for (name, path, body) in [
            ("detailsPage50", "/v1/analytics/conversations/details/query", json!({"interval": interval, "filters": {"queueIds": [queues[0]]}, "paging": {"pageSize": 50}})),
            ("aggregateDayByQueueHour", "/v1/analytics/conversations/aggregates/query", json!({"interval": interval, "granularity": "PT1H", "groupBy": ["queueId"], "metrics": ["nOffered", "tHandle", "tAcw"]})),
        ] {
            let mut samples: Vec<u32> = Vec::new();
            let mut rows = Value::Null;
            for _ in 0..n {
                let start = Instant::now();
                let r: Value = http.post(format!("{base}{path}")).bearer_auth(&token).json(&body).send().await?.json().await?;
                samples.push(start.elapsed().as_micros() as u32);
                rows = json!({"totalHits": r["totalHits"], "groups": r["results"].as_array().map(Vec::len)});
            }
            let p = super::stats::percentiles(&mut samples);
            out.insert(name.into(), json!({"latency": p, "answer": rows}));
        }
        Ok::<Value, anyhow::Error>(Value::Object(out))
    }
    .await;
    let _ = child.kill();
    let _ = child.wait();
    result
}

async fn spawn_serve(db: &std::path::Path) -> anyhow::Result<(std::process::Child, String)> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let child = std::process::Command::new(std::env::current_exe()?)
        .args(["serve", "--db"])
        .arg(db)
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .env("RUST_LOG", "warn")
        .env("SWITCHBOARD_ADMIN_CLIENT_SECRET", SEED_ADMIN_SECRET)
        // The latency loops poll readiness and query with one token: no budgets in the way.
        .env("SWITCHBOARD_RATE_PER_IDENTITY", "0")
        .env("SWITCHBOARD_RATE_PER_ADDRESS", "0")
        .stdout(std::process::Stdio::null())
        .spawn()?;
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let start = Instant::now();
    while !http.get(format!("{base}/healthz")).send().await.is_ok_and(|r| r.status().is_success()) {
        anyhow::ensure!(start.elapsed().as_secs() < 120, "the server was not ready after 120 s");
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
    Ok((child, base))
}

/// Starts `serve` as a child process and returns the milliseconds until `/healthz` answers.
async fn time_to_ready(db: &std::path::Path) -> anyhow::Result<f64> {
    let start = Instant::now();
    let (mut child, _) = spawn_serve(db).await?;
    let ms = start.elapsed().as_secs_f64() * 1000.0;
    let _ = child.kill();
    let _ = child.wait();
    Ok(ms)
}
