//! `switchboard bench flood`: what a password-guessing flood on `/oauth/token` costs another tenant. It
//! starts a server (default OAuth budget), measures a second tenant's API calls and token requests alone,
//! then again while workers guess passwords from one loopback address, then from many (each address with
//! its own budget, so the argon2 work is real). Loopback only, bounded in time.

use super::process::ServerProcess;
use super::stats::{Percentiles, percentiles};
use anyhow::Context;
use clap::Args;
use serde_json::{Value, json};
use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

#[derive(Args, Debug, Clone)]
pub struct FloodArgs {
    /// Seconds per phase (baseline, one address, many addresses).
    #[arg(long, default_value_t = 10.0)]
    pub secs: f64,
    /// Concurrent guessing workers.
    #[arg(long, default_value_t = 32)]
    pub workers: usize,
    /// Source addresses of the distributed phase (127.0.1.1 ...).
    #[arg(long, default_value_t = 64)]
    pub addresses: usize,
    #[arg(long, default_value = "bench-flood.json")]
    pub out: std::path::PathBuf,
}

fn client_from(ip: &str) -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder().local_address(ip.parse::<IpAddr>()?).build()?)
}

async fn token(http: &reqwest::Client, base: &str, id: &str, secret: &str) -> anyhow::Result<(u16, String)> {
    let r = http
        .post(format!("{base}/oauth/token"))
        .basic_auth(id, Some(secret))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials")
        .send()
        .await?;
    let status = r.status().as_u16();
    let v: Value = r.json().await.unwrap_or(Value::Null);
    Ok((status, v["access_token"].as_str().unwrap_or_default().to_string()))
}

/// The victim tenant's view during one phase: API call latency and token request latency.
async fn tenant_phase(base: &str, id: &str, secret: &str, api_token: &str, secs: f64) -> anyhow::Result<Value> {
    let api = reqwest::Client::new();
    // The tenant's integrations log in from their own addresses, each well inside its OAuth budget.
    let tokens: Vec<reqwest::Client> =
        (1..=50).map(|i| client_from(&format!("127.0.200.{i}"))).collect::<Result<_, _>>()?;
    let deadline = Instant::now() + Duration::from_secs_f64(secs);
    let (mut api_us, mut token_us, mut token_failures) = (Vec::new(), Vec::new(), 0u64);
    while Instant::now() < deadline {
        let t = Instant::now();
        let r = api.get(format!("{base}/v1/queues")).bearer_auth(api_token).send().await?;
        anyhow::ensure!(r.status().is_success(), "the tenant's call failed: {}", r.status());
        r.bytes().await?;
        api_us.push(t.elapsed().as_micros() as u32);
        // One token request per 50 calls: the tenant's integrations log in too, but not constantly.
        if api_us.len() % 50 == 0 {
            let t = Instant::now();
            let from = &tokens[token_us.len() % tokens.len()];
            let (status, _) = token(from, base, id, secret).await?;
            token_us.push(t.elapsed().as_micros() as u32);
            token_failures += u64::from(status != 200);
        }
    }
    let calls = api_us.len();
    let (api, tokens): (Percentiles, Percentiles) = (percentiles(&mut api_us), percentiles(&mut token_us));
    Ok(json!({"apiCallsPerSec": (calls as f64 / secs).round(), "api": api, "tokenRequests": tokens,
              "tokenFailures": token_failures}))
}

/// Guessing workers until `stop`; counts answers by kind.
fn start_flood(
    base: &str,
    sources: Vec<reqwest::Client>,
    workers: usize,
    stop: Arc<AtomicBool>,
) -> Vec<tokio::task::JoinHandle<(u64, u64)>> {
    (0..workers)
        .map(|w| {
            let (http, base, stop) = (sources[w % sources.len()].clone(), base.to_string(), stop.clone());
            tokio::spawn(async move {
                let (mut refused, mut limited) = (0u64, 0u64);
                while !stop.load(Ordering::Relaxed) {
                    let r = http
                        .post(format!("{base}/oauth/token"))
                        .header("content-type", "application/x-www-form-urlencoded")
                        .body("grant_type=password&username=flood-target&password=guess")
                        .send()
                        .await;
                    // A failed connection is neither answer; the phase is bounded in time either way.
                    match r.map(|r| r.status().as_u16()) {
                        Ok(429) => limited += 1,
                        Ok(_) => refused += 1,
                        Err(_) => {}
                    }
                }
                (refused, limited)
            })
        })
        .collect()
}

async fn flood_phase(
    base: &str,
    sources: Vec<reqwest::Client>,
    args: &FloodArgs,
    victim: (&str, &str, &str),
) -> anyhow::Result<Value> {
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let handles = start_flood(base, sources, args.workers, stop.clone());
    let tenant = tenant_phase(base, victim.0, victim.1, victim.2, args.secs).await;
    stop.store(true, Ordering::Relaxed);
    let (refused, limited) = (AtomicU64::new(0), AtomicU64::new(0));
    for h in handles {
        let (r, l) = h.await?;
        refused.fetch_add(r, Ordering::Relaxed);
        limited.fetch_add(l, Ordering::Relaxed);
    }
    let secs = started.elapsed().as_secs_f64();
    let (r, l) = (refused.into_inner(), limited.into_inner());
    Ok(
        json!({"tenant": tenant?, "floodPerSec": ((r + l) as f64 / secs).round(), "floodCheckedPerSec": (r as f64 / secs).round(),
              "flood429Share": if r + l == 0 { 0.0 } else { l as f64 / (r + l) as f64 }}),
    )
}

pub async fn run(args: FloodArgs) -> anyhow::Result<Value> {
    eprintln!("[flood] starting a server on a fresh database ...");
    let server = ServerProcess::start().await?;
    let base = server.base.clone();
    let http = reqwest::Client::new();
    let (_, admin) = token(&http, &base, "admin", super::process::BENCH_ADMIN_SECRET).await?;
    // The account the flood guesses at, and the victim: another org with its own client.
    http.post(format!("{base}/v1/users"))
        .bearer_auth(&admin)
        .json(
            &json!({"name": "Target", "username": "flood-target", "password": "the real password", "roles": ["agent"]}),
        )
        .send()
        .await?
        .error_for_status()?;
    let org: Value = http
        .post(format!("{base}/v1/admin/orgs"))
        .bearer_auth(&admin)
        .json(&json!({"name": "Victim tenant"}))
        .send()
        .await?
        .json()
        .await?;
    let (id, secret) = (
        org["adminClient"]["clientId"].as_str().context("an org admin client")?.to_string(),
        org["adminClient"]["secret"].as_str().context("its secret")?.to_string(),
    );
    let (_, victim_token) = token(&http, &base, &id, &secret).await?;
    let victim = (id.as_str(), secret.as_str(), victim_token.as_str());

    eprintln!("[flood] 1/3 baseline: the tenant alone for {} s ...", args.secs);
    let baseline = tenant_phase(&base, &id, &secret, &victim_token, args.secs).await?;
    eprintln!("[flood] 2/3 {} workers guessing from one address for {} s ...", args.workers, args.secs);
    let one = flood_phase(&base, vec![client_from("127.0.0.2")?], &args, victim).await?;
    eprintln!(
        "[flood] 3/3 {} workers guessing from {} addresses for {} s ...",
        args.workers, args.addresses, args.secs
    );
    let many: Vec<reqwest::Client> = (0..args.addresses)
        .map(|i| client_from(&format!("127.0.{}.{}", 1 + i / 250, 1 + i % 250)))
        .collect::<Result<_, _>>()?;
    let distributed = flood_phase(&base, many, &args, victim).await?;
    let report = json!({"workers": args.workers, "addresses": args.addresses, "secsPerPhase": args.secs,
        "baseline": baseline, "oneAddress": one, "manyAddresses": distributed});
    std::fs::write(&args.out, serde_json::to_vec_pretty(&report)?)?;
    eprintln!("[flood] report written to {}", args.out.display());
    Ok(report)
}
