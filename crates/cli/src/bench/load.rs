//! The load: full conversation lifecycles driven over HTTP by concurrent workers, and the two ceilings
//! (a no-op route, a bare durable insert+update) at the same concurrency.

use super::stats::Samples;
use anyhow::Context;
use reqwest::{Client, Method};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

#[derive(Clone)]
pub struct Target {
    pub http: Client,
    pub base: String,
    pub token: String,
}

impl Target {
    pub async fn send(&self, method: Method, path: &str, body: Option<&Value>) -> anyhow::Result<(u16, Vec<u8>)> {
        let mut req = self.http.request(method, format!("{}{}", self.base, path)).bearer_auth(&self.token);
        if let Some(b) = body {
            req = req.header("content-type", "application/json").body(b.to_string());
        }
        let resp = req.send().await?;
        let status = resp.status().as_u16();
        Ok((status, resp.bytes().await?.to_vec()))
    }

    pub async fn json(&self, method: Method, path: &str, body: Option<Value>) -> anyhow::Result<Value> {
        let (status, b) = self.send(method, path, body.as_ref()).await?;
        let v: Value = serde_json::from_slice(&b).unwrap_or(Value::Null);
        anyhow::ensure!((200..300).contains(&status), "{path} answered {status}: {v}");
        Ok(v)
    }
}

/// One queue per wrap-up policy of the mix.
pub struct Fixture {
    pub queues: Vec<(String, String)>,
    pub code: String,
}

pub async fn setup(t: &Target, agents: usize, policies: &[String]) -> anyhow::Result<Fixture> {
    let code = t
        .json(Method::POST, "/v1/wrapup-codes", Some(json!({"name": format!("Bench {}", uuid::Uuid::new_v4())})))
        .await?;
    let code = code["id"].as_str().context("code id")?.to_string();
    let mut users = Vec::new();
    for i in 0..agents {
        let name = format!("bench-{}-{i}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
        let u = t
            .json(
                Method::POST,
                "/v1/users",
                Some(
                    json!({"name": name, "username": name, "roles": ["agent"], "capacity": {"voice": 1, "message": 3}}),
                ),
            )
            .await?;
        users.push(u["id"].as_str().context("user id")?.to_string());
    }
    let mut queues = Vec::new();
    for p in policies {
        let acw = match p.as_str() {
            "mandatoryTimeout" | "mandatoryForcedTimeout" => json!({"policy": p, "timeoutMs": 600_000}),
            _ => json!({"policy": p}),
        };
        let q = t
            .json(
                Method::POST,
                "/v1/queues",
                Some(json!({"name": format!("bench {p} {}", uuid::Uuid::new_v4()), "acw": acw, "wrapupCodes": [code], "members": users})),
            )
            .await?;
        queues.push((q["id"].as_str().context("queue id")?.to_string(), p.clone()));
    }
    for u in &users {
        t.json(Method::PUT, &format!("/v1/users/{u}/routing-status"), Some(json!({"status": "onQueue"}))).await?;
    }
    Ok(Fixture { queues, code })
}

/// Runs `f` from `concurrency` workers for `secs`; returns (requests, samples).
pub async fn ceiling(t: &Target, concurrency: usize, secs: f64, method: Method, path: &'static str) -> (u64, Samples) {
    let deadline = Instant::now() + Duration::from_secs_f64(secs);
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let t = t.clone();
        let method = method.clone();
        tasks.push(tokio::spawn(async move {
            let mut s = Samples::default();
            let mut n = 0u64;
            while Instant::now() < deadline {
                let start = Instant::now();
                if let Ok((status, _)) = t.send(method.clone(), path, None).await
                    && (200..300).contains(&status)
                {
                    n += 1;
                    s.record("ceiling", start.elapsed().as_micros());
                }
            }
            (n, s)
        }));
    }
    let mut total = 0;
    let mut samples = Samples::default();
    for task in tasks {
        if let Ok((n, s)) = task.await {
            total += n;
            samples.merge(s);
        }
    }
    (total, samples)
}

pub struct LoadSpec {
    pub conversations: u64,
    pub max_secs: f64,
    pub concurrency: usize,
    pub voice_percent: u64,
    pub messages: usize,
    /// Lifecycles per second across all workers; 0 = as fast as possible.
    pub rate: f64,
}

pub struct LoadResult {
    pub lifecycles: u64,
    pub failures: u64,
    pub first_error: Option<String>,
    pub elapsed_secs: f64,
    pub samples: Samples,
}

/// Drives lifecycles: create → (routed offer) → answer → messages → disconnect → wrap-up → closed.
pub async fn lifecycles(t: &Target, fx: Arc<Fixture>, spec: &LoadSpec) -> LoadResult {
    let started = Instant::now();
    let deadline = started + Duration::from_secs_f64(spec.max_secs);
    let next = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicU64::new(0));
    let progress = {
        let (done, total) = (done.clone(), spec.conversations);
        tokio::spawn(async move {
            let mut last = 0;
            loop {
                tokio::time::sleep(Duration::from_secs(1)).await;
                let d = done.load(Ordering::Relaxed);
                eprint!("\r[bench] lifecycles {d}/{total}  ({}/s)        ", d - last);
                last = d;
            }
        })
    };
    let mut tasks = Vec::new();
    for w in 0..spec.concurrency {
        let (t, fx, next, done) = (t.clone(), fx.clone(), next.clone(), done.clone());
        let (total, voice_percent, messages) = (spec.conversations, spec.voice_percent, spec.messages);
        let pace = (spec.rate > 0.0).then(|| Duration::from_secs_f64(spec.concurrency as f64 / spec.rate));
        tasks.push(tokio::spawn(async move {
            let mut s = Samples::default();
            let (mut ok, mut failed, mut first_error) = (0u64, 0u64, None);
            let mut tick = pace.map(|p| {
                let mut i = tokio::time::interval_at(tokio::time::Instant::now() + p.mul_f64(w as f64 / 8.0), p);
                i.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                i
            });
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= total || Instant::now() >= deadline {
                    break;
                }
                if let Some(t) = tick.as_mut() {
                    t.tick().await;
                }
                let voice = i % 100 < voice_percent;
                let (queue, policy) = &fx.queues[(i as usize) % fx.queues.len()];
                match one_lifecycle(&t, &mut s, voice, queue, policy, &fx.code, messages).await {
                    Ok(()) => ok += 1,
                    Err(e) => {
                        failed += 1;
                        first_error.get_or_insert_with(|| e.to_string());
                    }
                }
                done.fetch_add(1, Ordering::Relaxed);
            }
            (ok, failed, first_error, s)
        }));
    }
    let mut result =
        LoadResult { lifecycles: 0, failures: 0, first_error: None, elapsed_secs: 0.0, samples: Samples::default() };
    for task in tasks {
        if let Ok((ok, failed, err, s)) = task.await {
            result.lifecycles += ok;
            result.failures += failed;
            if result.first_error.is_none() {
                result.first_error = err;
            }
            result.samples.merge(s);
        }
    }
    progress.abort();
    eprintln!();
    result.elapsed_secs = started.elapsed().as_secs_f64();
    result
}

async fn timed(
    t: &Target,
    s: &mut Samples,
    kind: &'static str,
    method: Method,
    path: &str,
    body: Value,
) -> anyhow::Result<Value> {
    let start = Instant::now();
    let v = t.json(method, path, Some(body)).await?;
    s.record(kind, start.elapsed().as_micros());
    Ok(v)
}

/// Like `timed`, but only checks the status and returns the conversation state: parsing every full
/// response would make the load generator, which shares the machine, the bottleneck.
async fn timed_state(
    t: &Target,
    s: &mut Samples,
    kind: &'static str,
    method: Method,
    path: &str,
    body: Value,
) -> anyhow::Result<&'static str> {
    let start = Instant::now();
    let (status, bytes) = t.send(method, path, Some(&body)).await?;
    s.record(kind, start.elapsed().as_micros());
    anyhow::ensure!((200..300).contains(&status), "{path} answered {status}: {}", String::from_utf8_lossy(&bytes));
    let text = String::from_utf8_lossy(&bytes);
    Ok(["closed", "wrapup", "active"]
        .into_iter()
        .find(|st| text.contains(&format!("\"state\":\"{st}\"")))
        .unwrap_or("unknown"))
}

fn find<'a>(conv: &'a Value, purpose: &str) -> Option<&'a Value> {
    conv["participants"].as_array()?.iter().rev().find(|p| p["purpose"] == purpose)
}

async fn one_lifecycle(
    t: &Target,
    s: &mut Samples,
    voice: bool,
    queue: &str,
    policy: &str,
    code: &str,
    messages: usize,
) -> anyhow::Result<()> {
    let media = if voice { "voice" } else { "message" };
    let conv =
        timed(t, s, "create", Method::POST, "/v1/conversations", json!({"mediaType": media, "queueId": queue})).await?;
    let id = conv["id"].as_str().context("conversation id")?;
    let agent = find(&conv, "agent").context("no agent was offered (add agents or lower the concurrency)")?;
    let agent_id = agent["id"].as_str().context("agent id")?;
    let customer_id = find(&conv, "customer").and_then(|p| p["id"].as_str()).context("customer id")?;
    let p = format!("/v1/conversations/{id}/participants/{agent_id}");
    timed_state(t, s, "answer", Method::POST, &format!("{p}/answer"), json!({})).await?;
    if !voice {
        for m in 0..messages {
            let sender = if m % 2 == 0 { customer_id } else { agent_id };
            let body = json!({"text": format!("message {m}"), "participantId": sender});
            timed_state(t, s, "message", Method::POST, &format!("/v1/conversations/{id}/messages"), body).await?;
        }
    }
    let state = timed_state(t, s, "disconnect", Method::POST, &format!("{p}/disconnect"), json!({})).await?;
    if state == "wrapup" {
        let state = timed_state(t, s, "wrapup", Method::PUT, &format!("{p}/wrapup"), json!({"codeId": code})).await?;
        anyhow::ensure!(state == "closed", "not closed after wrap-up ({policy}): {state}");
    } else {
        anyhow::ensure!(state == "closed", "not closed after disconnect ({policy}): {state}");
    }
    Ok(())
}
