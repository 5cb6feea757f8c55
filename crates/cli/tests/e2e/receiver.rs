//! A real HTTP webhook receiver on 127.0.0.1: records every request, answers with a status the test sets.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::sync::Arc;
use std::sync::atomic::{AtomicU16, Ordering};
use tokio::sync::mpsc;

#[derive(Debug, Clone)]
pub struct Received {
    pub status: u16,
    pub event_id: String,
    pub signature: String,
    pub body: String,
}

pub struct Receiver {
    pub url: String,
    pub status: Arc<AtomicU16>,
    pub rx: mpsc::UnboundedReceiver<Received>,
}

impl Receiver {
    pub async fn start(initial_status: u16) -> Receiver {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let status = Arc::new(AtomicU16::new(initial_status));
        let (tx, rx) = mpsc::unbounded_channel();
        let app = Router::new().route("/hook", post(hook)).with_state((status.clone(), tx));
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Receiver { url, status, rx }
    }

    pub fn answer(&self, status: u16) {
        self.status.store(status, Ordering::SeqCst);
    }

    /// The next request, bounded so a broken sender fails the test instead of hanging it.
    pub async fn next(&mut self) -> Received {
        tokio::time::timeout(std::time::Duration::from_secs(20), self.rx.recv())
            .await
            .expect("a delivery within 20 s")
            .unwrap()
    }
}

type Shared = (Arc<AtomicU16>, mpsc::UnboundedSender<Received>);

async fn hook(State((status, tx)): State<Shared>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let code = status.load(Ordering::SeqCst);
    let h = |k: &str| headers.get(k).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    let _ = tx.send(Received {
        status: code,
        event_id: h("switchboard-event-id"),
        signature: h("switchboard-signature"),
        body: String::from_utf8_lossy(&body).into_owned(),
    });
    StatusCode::from_u16(code).unwrap()
}

/// Verifies `t=<unix>,v1=<hex>` as a receiver would: HMAC-SHA256 over "t.body" with the shared secret.
pub fn verify(signature: &str, secret: &str, body: &str) -> bool {
    let mut t = None;
    let mut sigs = Vec::new();
    for part in signature.split(',') {
        match part.split_once('=') {
            Some(("t", v)) => t = Some(v.to_string()),
            Some(("v1", v)) => sigs.push(v.to_string()),
            _ => return false,
        }
    }
    let Some(t) = t else { return false };
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{t}.{body}").as_bytes());
    let expected: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
    sigs.contains(&expected)
}
