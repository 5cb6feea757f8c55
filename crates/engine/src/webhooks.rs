//! Webhooks: the entity, the target address filter (SSRF), signatures, and the delivery worker that
//! drains the durable outbox — FIFO per (webhook, conversation), exponential backoff with jitter for 24 h of
//! engine time, then dead-lettered so later events are not blocked.

use crate::clock::Clock;
use crate::view::View;
use crate::worker::Msg;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use std::collections::{HashMap, HashSet, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};
use switchboard_core::Timestamp;
use switchboard_store::{DeliveryRow, Store};
use tokio::sync::{Notify, mpsc};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Webhook {
    pub id: String,
    pub url: String,
    /// Event types to deliver (`*` for all).
    pub event_types: Vec<String>,
    /// The signing secret (HMAC needs it in clear); never shown by the API after it is set.
    pub secret: String,
    /// After a rotation the old secret also signs until `previous_secret_until`, so receivers can switch.
    pub previous_secret: Option<String>,
    pub previous_secret_until: Option<Timestamp>,
    pub created_at: Timestamp,
    pub version: u64,
}

impl Webhook {
    pub fn wants(&self, event_type: &str) -> bool {
        self.event_types.iter().any(|t| t == "*" || t == event_type)
    }
}

/// How long a delivery is retried before it is dead-lettered (engine time).
pub const RETRY_FOR_MS: i64 = 24 * 3_600_000;
const MAX_BACKOFF_MS: i64 = 3_600_000;
const MAX_IN_FLIGHT: usize = 32;
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// Backoff after the `attempts`-th failure: 1 s doubling to an hour, ±20% jitter so retries spread out.
pub fn backoff_ms(attempts: u32, jitter_unit: f64) -> i64 {
    let base = 1_000i64.saturating_mul(1i64 << attempts.saturating_sub(1).min(20)).min(MAX_BACKOFF_MS);
    (base as f64 * (0.8 + 0.4 * jitter_unit.clamp(0.0, 1.0))) as i64
}

fn jitter() -> f64 {
    let b = uuid::Uuid::new_v4().as_u128();
    (b % 10_000) as f64 / 10_000.0
}

/// Addresses a webhook may not reach unless the operator allows private targets: loopback, private,
/// link-local (cloud metadata lives there), CGNAT, unspecified, multicast and their IPv6 forms.
pub fn forbidden_ip(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_multicast()
                || v4.is_broadcast()
                || v4.is_documentation()
                || o[0] == 0
                || (o[0] == 100 && (64..=127).contains(&o[1]))
                || (o[0] == 192 && o[1] == 0 && o[2] == 0)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return forbidden_ip(IpAddr::V4(v4));
            }
            let s = v6.segments();
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00
                || (s[0] & 0xffc0) == 0xfe80
        }
    }
}

/// Parses and resolves a webhook URL; refuses forbidden targets unless `allow_private`.
pub async fn check_target(url: &str, allow_private: bool) -> Result<Vec<SocketAddr>, String> {
    let parsed = reqwest::Url::parse(url).map_err(|e| format!("not a URL: {e}"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err("only http and https URLs".into());
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err("credentials in the URL are not allowed; use the signature".into());
    }
    let host = parsed.host_str().ok_or("the URL has no host")?.trim_matches(['[', ']']).to_string();
    let port = parsed.port_or_known_default().ok_or("the URL has no port")?;
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), port))
        .await
        .map_err(|e| format!("cannot resolve {host}: {e}"))?
        .collect();
    if addrs.is_empty() {
        return Err(format!("{host} resolves to no address"));
    }
    if !allow_private && let Some(bad) = addrs.iter().find(|a| forbidden_ip(a.ip())) {
        return Err(format!("{host} resolves to {}, a loopback, private, link-local or metadata address", bad.ip()));
    }
    Ok(addrs)
}

/// The webhook client's resolver: host names are resolved for the connection itself and forbidden
/// addresses dropped there, so the address a delivery connects to is one that passed the filter. A check
/// before sending and a second lookup inside the client would leave a window for DNS rebinding. (IP-literal
/// URLs are never resolved; `check_target` refuses the forbidden ones before sending.)
struct GuardedResolver {
    allow_private: bool,
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let (host, allow_private) = (name.as_str().to_string(), self.allow_private);
        Box::pin(async move {
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let usable: Vec<SocketAddr> =
                found.into_iter().filter(|a| allow_private || !forbidden_ip(a.ip())).collect();
            if usable.is_empty() {
                let why = format!("{host} resolves to no address a webhook may reach");
                return Err(why.into());
            }
            Ok(Box::new(usable.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// `t=<unix>,v1=<hex HMAC-SHA256 of "t.body">` (one `v1` per valid secret during a rotation).
pub fn signature(secrets: &[&str], unix: i64, body: &str) -> String {
    let mut out = format!("t={unix}");
    for s in secrets {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(s.as_bytes()).expect("any key length");
        mac.update(format!("{unix}.{body}").as_bytes());
        let hex: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
        out.push_str(",v1=");
        out.push_str(&hex);
    }
    out
}

pub struct WorkerDeps {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub view: Arc<RwLock<View>>,
    pub writer: std::sync::mpsc::Sender<Msg>,
    pub committed: mpsc::UnboundedReceiver<DeliveryRow>,
    pub wake: Arc<Notify>,
    pub allow_private: bool,
}

type Key = (String, String);

/// The delivery loop: one in-flight delivery per (webhook, order key), up to `MAX_IN_FLIGHT` at once, so a
/// slow or dead receiver holds up only its own queue.
pub async fn run_worker(mut deps: WorkerDeps) {
    let http = reqwest::Client::builder()
        .timeout(REQUEST_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .dns_resolver(Arc::new(GuardedResolver { allow_private: deps.allow_private }))
        .build()
        .expect("the HTTP client builds");
    let mut queues: HashMap<Key, VecDeque<DeliveryRow>> = HashMap::new();
    let mut in_flight: HashSet<Key> = HashSet::new();
    match deps.store.pending_deliveries() {
        Ok(rows) => rows.into_iter().for_each(|r| enqueue(&mut queues, r)),
        Err(e) => tracing::error!(error = %e, "could not load pending webhook deliveries"),
    }
    let (done_tx, mut done_rx) = mpsc::unbounded_channel::<(Key, DeliveryRow)>();
    loop {
        let now = deps.clock.now().0;
        let mut next_due: Option<i64> = None;
        for (key, q) in &queues {
            if in_flight.contains(key) || in_flight.len() >= MAX_IN_FLIGHT {
                continue;
            }
            let Some(head) = q.front() else { continue };
            if head.next_attempt_ms > now {
                next_due = Some(next_due.map_or(head.next_attempt_ms, |d: i64| d.min(head.next_attempt_ms)));
                continue;
            }
            in_flight.insert(key.clone());
            let (http, row, view, done, clock) =
                (http.clone(), head.clone(), deps.view.clone(), done_tx.clone(), deps.clock.clone());
            let (key, allow_private) = (key.clone(), deps.allow_private);
            tokio::spawn(async move {
                let row = attempt(&http, row, &view, clock.as_ref(), allow_private).await;
                let _ = done.send((key, row));
            });
        }
        let wait = match (deps.clock.as_manual(), next_due) {
            (None, Some(due)) => Duration::from_millis((due - now).clamp(5, 1_000) as u64),
            _ => Duration::from_secs(1),
        };
        tokio::select! {
            row = deps.committed.recv() => match row {
                Some(row) => {
                    enqueue(&mut queues, row);
                    while let Ok(more) = deps.committed.try_recv() {
                        enqueue(&mut queues, more);
                    }
                }
                None => return,
            },
            Some((key, row)) = done_rx.recv() => {
                in_flight.remove(&key);
                if let Some(q) = queues.get_mut(&key) {
                    if row.status == "pending" {
                        if let Some(head) = q.front_mut() { *head = row.clone(); }
                    } else {
                        q.pop_front();
                    }
                    if q.is_empty() { queues.remove(&key); }
                }
                // The outcome is persisted through the writer, in a later group commit.
                let _ = deps.writer.send(Msg::Deliveries(vec![row]));
            }
            _ = deps.wake.notified() => {}
            _ = tokio::time::sleep(wait) => {}
        }
    }
}

/// A committed row: queued if pending (replacing an older copy of itself), dropped otherwise.
fn enqueue(queues: &mut HashMap<Key, VecDeque<DeliveryRow>>, row: DeliveryRow) {
    let key = (row.webhook_id.clone(), row.order_key.clone());
    let q = queues.entry(key.clone()).or_default();
    q.retain(|d| d.id != row.id);
    if row.status == "pending" {
        let at = q.iter().position(|d| d.seq > row.seq).unwrap_or(q.len());
        q.insert(at, row);
    }
    if q.is_empty() {
        queues.remove(&key);
    }
}

fn find_webhook(view: &RwLock<View>, org_id: &str, id: &str) -> Option<Webhook> {
    view.read().expect("view lock").orgs.get(org_id).and_then(|o| o.webhooks.get(id).cloned())
}

async fn attempt(
    http: &reqwest::Client,
    mut row: DeliveryRow,
    view: &RwLock<View>,
    clock: &dyn Clock,
    allow_private: bool,
) -> DeliveryRow {
    let started = Instant::now();
    row.attempts += 1;
    let outcome: Result<u16, String> = match find_webhook(view, &row.org_id, &row.webhook_id) {
        None => Err("the webhook was deleted".into()),
        Some(w) => match check_target(&w.url, allow_private).await {
            Err(e) => Err(e),
            Ok(_) => {
                let now = clock.now();
                let mut secrets = vec![w.secret.as_str()];
                if let (Some(old), Some(until)) = (&w.previous_secret, w.previous_secret_until)
                    && now <= until
                {
                    secrets.push(old);
                }
                let unix = crate::clock::wall_clock_ms() / 1000;
                let sent = http
                    .post(&w.url)
                    .header("content-type", "application/json")
                    .header("switchboard-signature", signature(&secrets, unix, &row.body))
                    .header("switchboard-event-id", &row.event_id)
                    .header("switchboard-event-type", &row.event_type)
                    .header("switchboard-delivery-id", &row.id)
                    .body(row.body.clone())
                    .send()
                    .await;
                match sent {
                    Ok(r) if r.status().is_success() => Ok(r.status().as_u16()),
                    Ok(r) => Err(format!("the receiver answered {}", r.status().as_u16())).inspect_err(|_e| {
                        row.last_status_code = Some(r.status().as_u16());
                    }),
                    Err(e) => Err(format!("request failed: {e}")),
                }
            }
        },
    };
    let now = clock.now().0;
    row.last_response_ms = Some(started.elapsed().as_millis() as i64);
    match outcome {
        Ok(code) => {
            row.status = "delivered".into();
            row.last_status_code = Some(code);
            row.last_error = None;
            row.delivered_ms = Some(now);
        }
        Err(e) => {
            row.last_error = Some(e);
            let gone = find_webhook(view, &row.org_id, &row.webhook_id).is_none();
            if gone || now - row.created_ms >= RETRY_FOR_MS {
                row.status = "deadLettered".into();
            } else {
                row.next_attempt_ms = now + backoff_ms(row.attempts, jitter());
            }
        }
    }
    row
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_delivery_resolver_drops_forbidden_addresses_at_connect_time() {
        use reqwest::dns::Resolve;
        let name = |h: &str| h.parse::<reqwest::dns::Name>().expect("a host name");
        let guarded = GuardedResolver { allow_private: false };
        let err = guarded.resolve(name("localhost")).await.err().expect("loopback is refused");
        assert!(err.to_string().contains("no address a webhook may reach"), "{err}");
        let open = GuardedResolver { allow_private: true };
        let addrs: Vec<SocketAddr> = open.resolve(name("localhost")).await.expect("allowed by the operator").collect();
        assert!(addrs.iter().all(|a| a.ip().is_loopback()) && !addrs.is_empty());
    }

    #[test]
    fn forbidden_ranges() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fc00::1",
            "fe80::1",
            "::ffff:10.0.0.1",
        ] {
            assert!(forbidden_ip(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["93.184.216.34", "8.8.8.8", "2606:4700::1111", "172.32.0.1"] {
            assert!(!forbidden_ip(ip.parse().unwrap()), "{ip}");
        }
    }

    #[tokio::test]
    async fn targets_are_checked() {
        assert!(check_target("http://127.0.0.1:9/x", false).await.unwrap_err().contains("loopback"));
        assert!(check_target("http://169.254.169.254/latest", false).await.is_err());
        assert!(check_target("http://127.0.0.1:9/x", true).await.is_ok());
        assert!(check_target("ftp://example.com", true).await.is_err());
        assert!(check_target("http://user:pw@127.0.0.1/", true).await.is_err());
        assert!(check_target("not a url", true).await.is_err());
    }

    #[test]
    fn backoff_doubles_with_jitter_and_caps() {
        assert_eq!(backoff_ms(1, 0.5), 1_000);
        assert_eq!(backoff_ms(2, 0.5), 2_000);
        assert_eq!(backoff_ms(30, 0.5), MAX_BACKOFF_MS);
        assert!((800..=1_200).contains(&backoff_ms(1, 0.0)) && (800..=1_200).contains(&backoff_ms(1, 1.0)));
    }

    #[test]
    fn signatures_are_hmac_sha256_over_t_dot_body() {
        // Vector from Python: hmac.new(b"secret", b'1700000000.{"a":1}', hashlib.sha256).hexdigest()
        let sig = signature(&["secret"], 1_700_000_000, r#"{"a":1}"#);
        assert_eq!(sig, "t=1700000000,v1=49f24e537407743fa4a0242bb63b94b9a47ee99cbbe071ccd8a22550ae411686");
        assert_eq!(signature(&["a", "b"], 1, "x").matches(",v1=").count(), 2);
    }
}
