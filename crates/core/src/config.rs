//! Organization configuration the rules read: queues, wrap-up codes, users, clients, org settings.

use crate::Violation;
use crate::model::{AcwPolicy, CodeId, MediaType, QueueId, UserId};
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub const WRAPUP_TIMEOUT: &str = "WRAPUP-TIMEOUT";
pub const WRAPUP_SYSTEM: &str = "WRAPUP-SYSTEM";
pub const ACW_TIMEOUT_MIN_MS: i64 = 1_000;
pub const ACW_TIMEOUT_MAX_MS: i64 = 3_600_000;

pub fn is_system_code(id: &str) -> bool {
    id == WRAPUP_TIMEOUT || id == WRAPUP_SYSTEM
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WrapupCode {
    pub id: CodeId,
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub archived: bool,
    #[serde(default)]
    pub system: bool,
    #[serde(default = "one")]
    pub version: u64,
}

fn one() -> u64 {
    1
}

impl WrapupCode {
    pub fn system_codes() -> [WrapupCode; 2] {
        let mk = |id: &str, name: &str, description: &str| WrapupCode {
            id: id.into(),
            name: name.into(),
            description: Some(description.into()),
            archived: false,
            system: true,
            version: 1,
        };
        [
            mk(
                WRAPUP_TIMEOUT,
                "Wrap-up timed out",
                "A timed wrap-up expired without a code and the queue names no default.",
            ),
            mk(
                WRAPUP_SYSTEM,
                "Resolved by the system",
                "A pending wrap-up resolved by a system teardown (close with pendingWrapups: system).",
            ),
        ]
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AcwSettings {
    pub policy: AcwPolicy,
    #[serde(default)]
    pub timeout_ms: Option<i64>,
    #[serde(default)]
    pub default_code_id: Option<CodeId>,
}

impl Default for AcwSettings {
    fn default() -> Self {
        AcwSettings { policy: AcwPolicy::Optional, timeout_ms: None, default_code_id: None }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueueMember {
    pub user_id: UserId,
    pub joined: bool,
}

#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MediaSetting {
    #[serde(default)]
    pub alerting_timeout_ms: Option<i64>,
    #[serde(default)]
    pub auto_answer: Option<bool>,
}

#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MediaSettings {
    #[serde(default)]
    pub voice: Option<MediaSetting>,
    #[serde(default)]
    pub message: Option<MediaSetting>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ServiceLevel {
    pub percentage: f64,
    pub duration_ms: i64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Queue {
    pub id: QueueId,
    pub name: String,
    pub members: Vec<QueueMember>,
    pub wrapup_codes: Vec<CodeId>,
    pub acw: AcwSettings,
    pub alerting_timeout_ms: i64,
    pub auto_answer: bool,
    pub inactivity_timeout_ms: i64,
    pub service_level: Option<ServiceLevel>,
    pub context_schema: Option<Value>,
    pub media_settings: MediaSettings,
    pub version: u64,
}

pub const DEFAULT_ALERTING_TIMEOUT_MS: i64 = 30_000;
pub const DEFAULT_INACTIVITY_TIMEOUT_MS: i64 = 24 * 3_600_000;

impl Queue {
    fn media(&self, media: MediaType) -> Option<&MediaSetting> {
        match media {
            MediaType::Voice => self.media_settings.voice.as_ref(),
            MediaType::Message => self.media_settings.message.as_ref(),
        }
    }
    pub fn alerting_timeout_for(&self, media: MediaType) -> i64 {
        self.media(media).and_then(|m| m.alerting_timeout_ms).unwrap_or(self.alerting_timeout_ms)
    }
    pub fn auto_answer_for(&self, media: MediaType) -> bool {
        self.media(media).and_then(|m| m.auto_answer).unwrap_or(self.auto_answer)
    }
    pub fn is_joined_member(&self, user_id: &str) -> bool {
        self.members.iter().any(|m| m.joined && m.user_id == user_id)
    }
    pub fn is_member(&self, user_id: &str) -> bool {
        self.members.iter().any(|m| m.user_id == user_id)
    }

    /// Checks a queue document against DOMAIN.md's limits; `code_exists` answers for active codes of the org.
    pub fn validate(&self, code_exists: impl Fn(&str) -> bool) -> Vec<Violation> {
        let mut v = Vec::new();
        if self.name.trim().is_empty() {
            v.push(Violation::new("/name", "must not be empty"));
        }
        if self.name.len() > 200 {
            v.push(Violation::new("/name", "must be at most 200 characters"));
        }
        let acw = &self.acw;
        match (acw.policy, acw.timeout_ms) {
            (AcwPolicy::MandatoryTimeout | AcwPolicy::MandatoryForcedTimeout, None) => {
                v.push(Violation::new("/acw/timeoutMs", "is required for this policy"))
            }
            (_, Some(t)) if !(ACW_TIMEOUT_MIN_MS..=ACW_TIMEOUT_MAX_MS).contains(&t) => v.push(Violation::new(
                "/acw/timeoutMs",
                format!("must be between {ACW_TIMEOUT_MIN_MS} and {ACW_TIMEOUT_MAX_MS}"),
            )),
            (AcwPolicy::None | AcwPolicy::Optional | AcwPolicy::Mandatory, Some(_)) => {
                v.push(Violation::new("/acw/timeoutMs", "is only allowed for policies with a deadline"))
            }
            _ => {}
        }
        if let Some(d) = &acw.default_code_id
            && !self.wrapup_codes.contains(d)
        {
            v.push(Violation::new("/acw/defaultCodeId", "must be one of the queue's wrap-up codes"));
        }
        for (i, c) in self.wrapup_codes.iter().enumerate() {
            if is_system_code(c) {
                v.push(Violation::new(format!("/wrapupCodes/{i}"), "system codes cannot be put on a queue"));
            } else if !code_exists(c) {
                v.push(Violation::new(format!("/wrapupCodes/{i}"), format!("unknown or archived wrap-up code {c}")));
            }
        }
        let positive = |ms: i64, ptr: &str, v: &mut Vec<Violation>| {
            if !(1_000..=600_000).contains(&ms) {
                v.push(Violation::new(ptr, "must be between 1000 and 600000"));
            }
        };
        positive(self.alerting_timeout_ms, "/alertingTimeoutMs", &mut v);
        for (name, m) in [("voice", &self.media_settings.voice), ("message", &self.media_settings.message)] {
            if let Some(t) = m.as_ref().and_then(|m| m.alerting_timeout_ms) {
                positive(t, &format!("/mediaSettings/{name}/alertingTimeoutMs"), &mut v);
            }
        }
        if self.inactivity_timeout_ms < 0 || self.inactivity_timeout_ms > 30 * 24 * 3_600_000 {
            v.push(Violation::new("/inactivityTimeoutMs", "must be between 0 (off) and 30 days"));
        }
        if let Some(sl) = &self.service_level {
            if !(0.0..=100.0).contains(&sl.percentage) {
                v.push(Violation::new("/serviceLevel/percentage", "must be between 0 and 100"));
            }
            if sl.duration_ms <= 0 {
                v.push(Violation::new("/serviceLevel/durationMs", "must be positive"));
            }
        }
        let mut seen = std::collections::HashSet::new();
        for (i, m) in self.members.iter().enumerate() {
            if !seen.insert(&m.user_id) {
                v.push(Violation::new(format!("/members/{i}"), "duplicate member"));
            }
        }
        v
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "camelCase")]
pub enum Role {
    Agent,
    Supervisor,
    Admin,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Capacity {
    pub voice: u32,
    pub message: u32,
}

impl Default for Capacity {
    fn default() -> Self {
        Capacity { voice: 1, message: 3 }
    }
}

impl Capacity {
    pub fn for_media(&self, m: MediaType) -> u32 {
        match m {
            MediaType::Voice => self.voice,
            MediaType::Message => self.message,
        }
    }
}

/// The status an agent chooses; `notResponding` is set by a timed-out offer until the agent goes onQueue again.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum RoutingStatus {
    OnQueue,
    OffQueue,
    NotResponding,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    pub id: UserId,
    pub name: String,
    pub username: String,
    pub email: Option<String>,
    /// Argon2id PHC string; never leaves the engine in any API view.
    pub password_hash: Option<String>,
    pub roles: Vec<Role>,
    pub capacity: Capacity,
    pub voice_blocks_others: Option<bool>,
    pub routing_status: RoutingStatus,
    pub version: u64,
}

impl User {
    pub fn has_role(&self, r: Role) -> bool {
        self.roles.contains(&r)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Client {
    pub id: String,
    pub name: String,
    pub secret_hash: String,
    pub scopes: Vec<String>,
    /// Where the authorization-code flow may send a browser back (exact match).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub redirect_uris: Vec<String>,
    pub created_at: crate::Timestamp,
    pub version: u64,
}

impl Client {
    /// The scopes granted to the client (names this build does not know are ignored).
    pub fn granted(&self) -> crate::Scopes {
        crate::Scopes::of(&self.scopes.iter().filter_map(|s| crate::Scope::parse(s)).collect::<Vec<_>>())
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrgSettings {
    pub id: String,
    pub name: String,
    pub direct_alerting_timeout_ms: i64,
    pub direct_acw: AcwSettings,
    pub voice_blocks_others: bool,
    pub amendment_window_ms: i64,
    pub max_transfers: u32,
    /// The largest context a handover (and the attributes) may carry.
    #[serde(default = "default_max_context_bytes")]
    pub max_context_bytes: usize,
    /// Bumped by every change, so concurrent edits (If-Match) cannot silently undo each other.
    #[serde(default = "first_version")]
    pub version: u64,
}

fn first_version() -> u64 {
    1
}

pub const DEFAULT_MAX_CONTEXT_BYTES: usize = 32 * 1024;

fn default_max_context_bytes() -> usize {
    DEFAULT_MAX_CONTEXT_BYTES
}

impl OrgSettings {
    /// Checks settings an admin changes (`PATCH /v1/org`).
    pub fn validate(&self, code_exists: impl Fn(&str) -> bool) -> Vec<Violation> {
        let mut v = Vec::new();
        if !(1_000..=600_000).contains(&self.direct_alerting_timeout_ms) {
            v.push(Violation::new("/directAlertingTimeoutMs", "must be between 1000 and 600000"));
        }
        if !(0..=366 * 24 * 3_600_000).contains(&self.amendment_window_ms) {
            v.push(Violation::new("/amendmentWindowMs", "must be between 0 and one year"));
        }
        if !(1..=1000).contains(&self.max_transfers) {
            v.push(Violation::new("/maxTransfers", "must be between 1 and 1000"));
        }
        if !(1024..=1024 * 1024).contains(&self.max_context_bytes) {
            v.push(Violation::new("/maxContextBytes", "must be between 1 KiB and 1 MiB"));
        }
        let acw = &self.direct_acw;
        if let Some(t) = acw.timeout_ms {
            if !(ACW_TIMEOUT_MIN_MS..=ACW_TIMEOUT_MAX_MS).contains(&t) || !acw.policy.has_deadline() {
                v.push(Violation::new("/directAcw/timeoutMs", "only for policies with a deadline, 1000 to 3600000"));
            }
        } else if matches!(acw.policy, AcwPolicy::MandatoryTimeout | AcwPolicy::MandatoryForcedTimeout) {
            v.push(Violation::new("/directAcw/timeoutMs", "is required for this policy"));
        }
        if let Some(d) = &acw.default_code_id
            && !code_exists(d)
        {
            v.push(Violation::new("/directAcw/defaultCodeId", "unknown or archived wrap-up code"));
        }
        v
    }

    pub fn new(id: String, name: String) -> Self {
        OrgSettings {
            id,
            name,
            direct_alerting_timeout_ms: DEFAULT_ALERTING_TIMEOUT_MS,
            direct_acw: AcwSettings { policy: AcwPolicy::None, timeout_ms: None, default_code_id: None },
            voice_blocks_others: true,
            amendment_window_ms: 30 * 24 * 3_600_000,
            max_transfers: 20,
            max_context_bytes: DEFAULT_MAX_CONTEXT_BYTES,
            version: first_version(),
        }
    }
}
