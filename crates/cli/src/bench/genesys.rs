//! `switchboard bench genesys`: what the Genesys facade costs over the native API on the same server, the same
//! data and the same client: a read (one queue), a listing (the org's wrap-up codes), and a configuration write
//! (an agent's routing status), each as native and vendor calls interleaved so both see the same machine.

use super::process::ServerProcess;
use super::stats::{Percentiles, percentiles};
use anyhow::Context;
use clap::Args;
use reqwest::Method;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

#[derive(Args, Debug, Clone)]
pub struct GenesysArgs {
    /// Seconds of interleaved calls per pair.
    #[arg(long, default_value_t = 5.0)]
    pub secs: f64,
    /// Wrap-up codes in the org (the listing's size).
    #[arg(long, default_value_t = 50)]
    pub codes: usize,
    #[arg(long, default_value = "bench-genesys.json")]
    pub out: std::path::PathBuf,
}

struct Call {
    method: Method,
    path: String,
    body: Option<Value>,
}

async fn call(http: &reqwest::Client, base: &str, token: &str, c: &Call) -> anyhow::Result<u32> {
    let t = Instant::now();
    let mut req = http.request(c.method.clone(), format!("{base}{}", c.path)).bearer_auth(token);
    if let Some(b) = &c.body {
        req = req.json(b);
    }
    let r = req.send().await?;
    anyhow::ensure!(r.status().is_success(), "{} {} answered {}", c.method, c.path, r.status());
    r.bytes().await?;
    Ok(t.elapsed().as_micros() as u32)
}

/// Native and vendor calls alternately for `secs`: their latency percentiles and the vendor's p50 overhead.
async fn pair(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    native: Call,
    vendor: Call,
    secs: f64,
) -> anyhow::Result<Value> {
    let (mut n, mut v) = (Vec::new(), Vec::new());
    let deadline = Instant::now() + Duration::from_secs_f64(secs);
    while Instant::now() < deadline {
        n.push(call(http, base, token, &native).await?);
        v.push(call(http, base, token, &vendor).await?);
    }
    let (n, v): (Percentiles, Percentiles) = (percentiles(&mut n), percentiles(&mut v));
    let overhead_us = ((v.p50_ms - n.p50_ms) * 1000.0).round();
    Ok(json!({"native": n, "genesys": v, "p50OverheadUs": overhead_us}))
}

pub async fn run(args: GenesysArgs) -> anyhow::Result<Value> {
    eprintln!("[genesys] starting a server on a fresh database ...");
    let server = ServerProcess::start().await?;
    let base = server.base.clone();
    let http = reqwest::Client::new();
    let token = crate::client_token(&http, &base, "admin", super::process::BENCH_ADMIN_SECRET).await?;
    let post = |path: &str, body: Value| {
        let (http, base, token, path) = (http.clone(), base.clone(), token.clone(), path.to_string());
        async move {
            let v: Value = http
                .post(format!("{base}{path}"))
                .bearer_auth(&token)
                .json(&body)
                .send()
                .await?
                .error_for_status()?
                .json()
                .await?;
            anyhow::Ok(v)
        }
    };
    eprintln!("[genesys] seeding {} codes, a queue and an agent ...", args.codes);
    let mut codes = Vec::new();
    for i in 0..args.codes {
        codes.push(
            post("/v1/wrapup-codes", json!({"name": format!("Code {i:03}")})).await?["id"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
        );
    }
    let user = post("/v1/users", json!({"name": "Agent", "username": "bench-agent", "roles": ["agent"]})).await?;
    let user = user["id"].as_str().context("a user id")?.to_string();
    let queue = post(
        "/v1/queues",
        json!({"name": "Bench", "acw": {"policy": "mandatoryTimeout", "timeoutMs": 30000},
                                          "wrapupCodes": codes, "members": [user]}),
    )
    .await?;
    let queue = queue["id"].as_str().context("a queue id")?.to_string();
    let get = |path: String| Call { method: Method::GET, path, body: None };
    let put = |path: String, body: Value| Call { method: Method::PUT, path, body: Some(body) };
    eprintln!("[genesys] 1/3 one queue, {} s ...", args.secs);
    let read = pair(
        &http,
        &base,
        &token,
        get(format!("/v1/queues/{queue}")),
        get(format!("/api/v2/routing/queues/{queue}")),
        args.secs,
    )
    .await?;
    eprintln!("[genesys] 2/3 the codes listing, {} s ...", args.secs);
    let listing = pair(
        &http,
        &base,
        &token,
        get("/v1/wrapup-codes".into()),
        get("/api/v2/routing/wrapupcodes?pageSize=100".into()),
        args.secs,
    )
    .await?;
    eprintln!("[genesys] 3/3 routing status writes, {} s ...", args.secs);
    let write = pair(
        &http,
        &base,
        &token,
        put(format!("/v1/users/{user}/routing-status"), json!({"status": "onQueue"})),
        put(format!("/api/v2/users/{user}/routingstatus"), json!({"status": "IDLE"})),
        args.secs,
    )
    .await?;
    let report = json!({"secsPerPair": args.secs, "codes": args.codes, "queueRead": read, "codesListing": listing, "routingStatusWrite": write});
    std::fs::write(&args.out, serde_json::to_vec_pretty(&report)?)?;
    eprintln!("[genesys] report written to {}", args.out.display());
    Ok(report)
}
