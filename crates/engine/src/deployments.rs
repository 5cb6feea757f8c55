//! Messaging deployments: the entry points of the customer widget — which queue a guest lands on, whether a
//! deployment key is required, and which web origins may open guest sessions and sockets.

use serde::{Deserialize, Serialize};
use switchboard_core::{Timestamp, Violation};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessagingDeployment {
    pub id: String,
    pub name: String,
    pub queue_id: String,
    pub require_key: bool,
    /// A publishable key the widget embeds (not a secret: it ties sessions to this deployment).
    pub key: String,
    /// `scheme://host[:port]`; empty means any origin.
    pub allowed_origins: Vec<String>,
    pub created_at: Timestamp,
    pub version: u64,
}

impl MessagingDeployment {
    pub fn allows_origin(&self, origin: Option<&str>) -> bool {
        self.allowed_origins.is_empty() || origin.is_some_and(|o| self.allowed_origins.iter().any(|a| a == o))
    }
}

/// Checks a deployment's fields; `queue_exists` answers for the org's queues.
pub fn validate(name: &str, queue_id: &str, origins: &[String], queue_exists: bool) -> Vec<Violation> {
    let mut v = Vec::new();
    if name.trim().is_empty() || name.len() > 200 {
        v.push(Violation::new("/name", "must be 1 to 200 characters"));
    }
    if !queue_exists {
        v.push(Violation::new("/queueId", format!("unknown queue {queue_id}")));
    }
    for (i, o) in origins.iter().enumerate() {
        let ok = (o.starts_with("https://") || o.starts_with("http://"))
            && !o.ends_with('/')
            && o.split("://").nth(1).is_some_and(|h| !h.is_empty() && !h.contains('/'));
        if !ok {
            v.push(Violation::new(format!("/allowedOrigins/{i}"), "an origin: scheme://host[:port], no path"));
        }
    }
    v
}
