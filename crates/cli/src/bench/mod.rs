//! `switchboard bench`: a separate, loopback-only load generator. It starts (or targets) a server, creates
//! queues, agents and codes, measures the HTTP and store ceilings, drives full conversation lifecycles, and
//! writes a JSON report with every figure also given as a ratio to its ceiling.

mod delivery;
pub mod flood;
pub mod genesys;
mod load;
mod process;
pub mod seed;
pub mod stats;

use anyhow::Context;
use clap::Args;
use load::{LoadSpec, Target};
use reqwest::Method;
use serde_json::{Value, json};
use std::sync::Arc;

#[derive(Args, Debug, Clone)]
pub struct BenchArgs {
    /// An already running server (loopback only); default: start one on a fresh temporary database.
    #[arg(long)]
    pub target: Option<String>,
    /// The target's bootstrap admin client secret (with --target).
    #[arg(long, env = "SWITCHBOARD_ADMIN_CLIENT_SECRET", hide_env_values = true)]
    pub admin_secret: Option<String>,
    /// Lifecycles to run (upper bound).
    #[arg(long, default_value_t = 5_000)]
    pub conversations: u64,
    /// Time bound of the lifecycle phase, seconds.
    #[arg(long, default_value_t = 60.0)]
    pub max_secs: f64,
    /// Concurrent workers (each drives one lifecycle at a time).
    #[arg(long, default_value_t = 32)]
    pub concurrency: usize,
    /// Agents to create (default: twice the concurrency, so an agent is always free).
    #[arg(long)]
    pub agents: Option<usize>,
    /// Share of voice conversations in percent; the rest are messaging.
    #[arg(long, default_value_t = 50)]
    pub voice_percent: u64,
    /// Messages per messaging conversation (alternating customer and agent).
    #[arg(long, default_value_t = 2)]
    pub messages: usize,
    /// Wrap-up policies of the queues, one queue each; conversations rotate over them.
    #[arg(long, value_delimiter = ',', default_value = "none,optional,mandatory,mandatoryTimeout")]
    pub policies: Vec<String>,
    /// Pace: lifecycles per second overall (0 = as fast as possible).
    #[arg(long, default_value_t = 0.0)]
    pub rate: f64,
    /// Seconds for each ceiling measurement (0 skips them).
    #[arg(long, default_value_t = 5.0)]
    pub ceiling_secs: f64,
    /// WebSocket subscriber counts for the delivery measurement (0 skips it), e.g. 1,1000,10000.
    #[arg(long, value_delimiter = ',', default_value = "1,1000")]
    pub ws_subscribers: Vec<usize>,
    /// Frames (commands) sent during each delivery measurement, and their pace per second.
    #[arg(long, default_value_t = 200)]
    pub ws_frames: u64,
    #[arg(long, default_value_t = 50.0)]
    pub ws_rate: f64,
    /// Where to write the JSON report.
    #[arg(long, default_value = "bench-report.json")]
    pub out: std::path::PathBuf,
}

fn loopback_only(url: &str) -> anyhow::Result<()> {
    let host = url.split("://").nth(1).unwrap_or("").split(['/', ':']).next().unwrap_or("");
    anyhow::ensure!(
        matches!(host, "127.0.0.1" | "localhost" | "[") || host.starts_with("127."),
        "bench only targets loopback addresses, not {host:?}"
    );
    Ok(())
}

pub async fn run(args: BenchArgs) -> anyhow::Result<Value> {
    let server = match &args.target {
        Some(url) => {
            loopback_only(url)?;
            None
        }
        None => {
            eprintln!("[bench] starting a server on a fresh database ...");
            Some(process::ServerProcess::start().await?)
        }
    };
    let base = server.as_ref().map(|s| s.base.clone()).or(args.target.clone()).context("no target")?;
    let secret = match &server {
        Some(_) => process::BENCH_ADMIN_SECRET.to_string(),
        None => args
            .admin_secret
            .clone()
            .context("--admin-secret (or SWITCHBOARD_ADMIN_CLIENT_SECRET) is required with --target")?,
    };
    let http = reqwest::Client::builder().pool_max_idle_per_host(args.concurrency * 2).build()?;
    let token = crate::client_token(&http, &base, "admin", &secret).await?;
    let t = Target { http, base: base.clone(), token };
    let agents = args.agents.unwrap_or(args.concurrency * 2);
    eprintln!("[bench] creating {agents} agents, {} queues ...", args.policies.len());
    let fx = Arc::new(load::setup(&t, agents, &args.policies).await?);
    let pid = server.as_ref().map(|s| s.pid());

    let mut ceilings = json!(null);
    if args.ceiling_secs > 0.0 {
        eprintln!("[bench] ceiling 1/2: no-op route for {} s ...", args.ceiling_secs);
        let (n, mut s) = load::ceiling(&t, args.concurrency, args.ceiling_secs, Method::GET, "/healthz").await;
        let http_rps = n as f64 / args.ceiling_secs;
        eprintln!("[bench] ceiling 2/2: durable insert+update for {} s ...", args.ceiling_secs);
        let (m, mut s2) =
            load::ceiling(&t, args.concurrency, args.ceiling_secs, Method::POST, "/v1/admin/bench/commit").await;
        let store_tps = m as f64 / args.ceiling_secs;
        ceilings = json!({
            "httpNoopPerSec": http_rps.round(),
            "httpNoopLatency": s.summary().get("ceiling"),
            "storeInsertUpdatePerSec": store_tps.round(),
            "storeInsertUpdateLatency": s2.summary().get("ceiling"),
        });
    }

    let mut delivery = Vec::new();
    for &n in args.ws_subscribers.iter().filter(|n| **n > 0) {
        eprintln!("[bench] delivery: {n} WebSocket subscribers, {} frames at {}/s ...", args.ws_frames, args.ws_rate);
        let r = delivery::measure(&t, &fx.queues[0].0, n, args.ws_frames, args.ws_rate, pid).await?;
        delivery.push(r.json());
    }

    let db_before = server.as_ref().map(|s| s.db_bytes());
    let cpu_before = pid.and_then(process::cpu_seconds);
    let own_cpu_before = process::cpu_seconds(std::process::id());
    let rss_before = pid.and_then(process::rss_bytes);
    eprintln!(
        "[bench] lifecycles: up to {} in up to {} s with {} workers ...",
        args.conversations, args.max_secs, args.concurrency
    );
    let spec = LoadSpec {
        conversations: args.conversations,
        max_secs: args.max_secs,
        concurrency: args.concurrency,
        voice_percent: args.voice_percent,
        messages: args.messages,
        rate: args.rate,
    };
    // RSS every 30 s during the run: a soak shows whether memory stays flat.
    let rss_log = Arc::new(std::sync::Mutex::new(Vec::<Value>::new()));
    let sampler = pid.map(|pid| {
        let log = rss_log.clone();
        tokio::spawn(async move {
            let start = std::time::Instant::now();
            loop {
                if let Some(rss) = process::rss_bytes(pid) {
                    log.lock().expect("rss log").push(json!({"atSecs": start.elapsed().as_secs(), "rssBytes": rss}));
                }
                tokio::time::sleep(std::time::Duration::from_secs(30)).await;
            }
        })
    });
    let mut r = load::lifecycles(&t, fx, &spec).await;
    if let Some(task) = sampler {
        task.abort();
    }
    let rss_samples = std::mem::take(&mut *rss_log.lock().expect("rss log"));
    let cpu_after = pid.and_then(process::cpu_seconds);
    let own_cpu_after = process::cpu_seconds(std::process::id());
    let rss_after = pid.and_then(process::rss_bytes);
    let db_after = server.as_ref().map(|s| s.db_bytes());
    let commands = r.samples.total() as f64;
    let cmd_per_sec = commands / r.elapsed_secs;
    let store_ceiling = ceilings["storeInsertUpdatePerSec"].as_f64();
    let report = json!({
        "machine": {"cpus": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0), "loadGeneratorOnSameMachine": true},
        "config": {
            "conversations": args.conversations, "concurrency": args.concurrency, "agents": agents,
            "voicePercent": args.voice_percent, "messagesPerChat": args.messages, "policies": args.policies,
            "rate": args.rate, "target": if server.is_some() { "spawned" } else { "external" },
        },
        "ceilings": ceilings,
        "lifecycles": {
            "completed": r.lifecycles, "failed": r.failures, "firstError": r.first_error,
            "elapsedSecs": r.elapsed_secs,
            "conversationsPerSec": (r.lifecycles as f64 / r.elapsed_secs).round(),
            "httpCommands": commands, "commandsPerSec": cmd_per_sec.round(),
            "commandsVsStoreCeiling": store_ceiling.map(|c| (cmd_per_sec / c * 100.0).round() / 100.0),
            "latency": r.samples.summary(),
        },
        "server": {
            "cpuSecondsDuringLifecycles": cpu_after.zip(cpu_before).map(|(a, b)| a - b),
            "cpuMicrosPerCommand": cpu_after.zip(cpu_before).map(|(a, b)| ((a - b) / commands * 1e6).round()),
            "rssBytesBefore": rss_before, "rssBytesAfter": rss_after, "rssSamples": rss_samples,
            "loadGeneratorCpuSeconds": own_cpu_after.zip(own_cpu_before).map(|(a, b)| a - b),
            "dbBytesPerConversation": db_after.zip(db_before).map(|(a, b)| (a.saturating_sub(b) as f64 / r.lifecycles.max(1) as f64).round()),
        },
        "eventDelivery": delivery,
    });
    std::fs::write(&args.out, serde_json::to_string_pretty(&report)?)?;
    eprintln!("[bench] report written to {}", args.out.display());
    Ok(report)
}
