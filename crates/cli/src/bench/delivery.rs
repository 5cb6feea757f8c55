//! Commit → WebSocket delivery latency to N subscribers, and the server's memory per idle connection.
//! Frames carry `committedAtUs` (stamped by the committer); each subscriber subtracts it from its own clock.

use super::load::Target;
use super::stats::{Percentiles, percentiles};
use futures_util::{SinkExt, StreamExt};
use reqwest::Method;
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest};

/// Samples kept per subscriber: bounds the generator's memory with 10,000 sockets.
const SAMPLES_PER_SUBSCRIBER: usize = 200;

pub struct DeliveryResult {
    pub subscribers: usize,
    pub connected: usize,
    pub frames: u64,
    pub latency: Percentiles,
    pub bytes_per_idle_connection: Option<f64>,
}

impl DeliveryResult {
    pub fn json(&self) -> Value {
        json!({
            "subscribers": self.subscribers, "connected": self.connected, "framesSent": self.frames,
            "latency": self.latency, "serverBytesPerIdleConnection": self.bytes_per_idle_connection.map(f64::round),
        })
    }
}

fn now_us() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_micros() as i64).unwrap_or(0)
}

/// `"committedAtUs":123` without parsing the whole frame (10,000 sockets parse every frame).
fn committed_at(text: &str) -> Option<i64> {
    let i = text.find("\"committedAtUs\":")? + 16;
    let digits: String = text[i..].chars().take_while(|c| c.is_ascii_digit()).collect();
    digits.parse().ok()
}

pub async fn measure(
    t: &Target,
    queue: &str,
    subscribers: usize,
    frames: u64,
    rate: f64,
    server_pid: Option<u32>,
) -> anyhow::Result<DeliveryResult> {
    let rss_before = server_pid.and_then(super::process::rss_bytes);
    let ready = Arc::new(AtomicU64::new(0));
    let received = Arc::new(AtomicU64::new(0));
    let (stop_tx, _) = tokio::sync::broadcast::channel::<()>(1);
    let mut tasks = Vec::with_capacity(subscribers);
    let url = format!("{}/v1/events/ws", t.base.replace("http://", "ws://"));
    let limit = Arc::new(tokio::sync::Semaphore::new(256));
    for _ in 0..subscribers {
        let (url, token, ready, received, limit) =
            (url.clone(), t.token.clone(), ready.clone(), received.clone(), limit.clone());
        let mut stop = stop_tx.subscribe();
        tasks.push(tokio::spawn(async move {
            let mut samples: Vec<u32> = Vec::new();
            let ws = {
                let _permit = limit.acquire().await.ok()?;
                let mut req = url.into_client_request().ok()?;
                req.headers_mut().insert("authorization", format!("Bearer {token}").parse().ok()?);
                let (mut ws, _) = tokio_tungstenite::connect_async(req).await.ok()?;
                ws.send(Message::Text(json!({"subscribe": ["conversations"]}).to_string().into())).await.ok()?;
                loop {
                    if let Message::Text(t) = ws.next().await?.ok()?
                        && t.contains("\"subscribed\"")
                    {
                        break;
                    }
                }
                ws
            };
            ready.fetch_add(1, Ordering::Relaxed);
            let (_, mut read) = ws.split();
            loop {
                tokio::select! {
                    m = read.next() => match m {
                        Some(Ok(Message::Text(text))) => {
                            if let Some(at) = committed_at(&text) {
                                received.fetch_add(1, Ordering::Relaxed);
                                if samples.len() < SAMPLES_PER_SUBSCRIBER {
                                    samples.push((now_us() - at).max(0) as u32);
                                }
                            }
                        }
                        Some(Ok(_)) => {}
                        _ => break,
                    },
                    _ = stop.recv() => break,
                }
            }
            Some(samples)
        }));
    }
    let deadline = Instant::now() + Duration::from_secs(120);
    while (ready.load(Ordering::Relaxed) as usize) < subscribers && Instant::now() < deadline {
        eprint!("\r[bench] delivery: {}/{subscribers} subscribers connected   ", ready.load(Ordering::Relaxed));
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    eprintln!();
    let connected = ready.load(Ordering::Relaxed) as usize;
    // Let the server settle, then read its memory with every socket open and idle.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss_idle = server_pid.and_then(super::process::rss_bytes);
    let conv =
        t.json(Method::POST, "/v1/conversations", Some(json!({"mediaType": "message", "queueId": queue}))).await?;
    let id = conv["id"].as_str().unwrap_or_default().to_string();
    let baseline = received.load(Ordering::Relaxed);
    let pace = Duration::from_secs_f64(1.0 / rate.max(0.1));
    let mut tick = tokio::time::interval(pace);
    for i in 0..frames {
        tick.tick().await;
        t.json(Method::PATCH, &format!("/v1/conversations/{id}/attributes"), Some(json!({"n": i}))).await?;
        eprint!("\r[bench] delivery to {connected}: frame {}/{frames}   ", i + 1);
    }
    eprintln!();
    let expected = baseline + frames * connected as u64;
    let deadline = Instant::now() + Duration::from_secs(30);
    while received.load(Ordering::Relaxed) < expected && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = stop_tx.send(());
    let mut all: Vec<u32> = Vec::new();
    for task in tasks {
        if let Ok(Some(s)) = task.await {
            all.extend(s);
        }
    }
    let bytes_per_idle_connection = rss_idle
        .zip(rss_before)
        .filter(|_| connected > 0)
        .map(|(after, before)| after.saturating_sub(before) as f64 / connected as f64);
    let _ = t.json(Method::POST, &format!("/v1/conversations/{id}/close"), Some(json!({}))).await;
    Ok(DeliveryResult { subscribers, connected, frames, latency: percentiles(&mut all), bytes_per_idle_connection })
}
