//! The test org: an in-memory `Directory` (org settings, queues, codes incl. the system ones, users, loads) and
//! builders for queues with each ACW policy and for users.

use std::collections::BTreeMap;
use switchboard_core::config::{
    AcwSettings, Capacity, MediaSettings, OrgSettings, Queue, QueueMember, Role, RoutingStatus, User, WrapupCode,
};
use switchboard_core::{AcwPolicy, Directory, Load, Violation};

pub const DAY_MS: i64 = 24 * 3_600_000;

// ---------------------------------------------------------------------------------------------- directory

#[derive(Clone, Debug)]
pub struct TestDir {
    pub settings: OrgSettings,
    pub queues: BTreeMap<String, Queue>,
    pub codes: BTreeMap<String, WrapupCode>,
    pub users: BTreeMap<String, User>,
    /// Load held elsewhere (other conversations), set by a test.
    pub loads: BTreeMap<String, Load>,
    /// Load contributed by the world's own conversation; the `World` refreshes it before every command.
    pub own_loads: BTreeMap<String, Load>,
    /// A fake `contextSchema` per queue: the top-level keys a context document must have.
    pub schemas: BTreeMap<String, Vec<String>>,
}

impl Directory for TestDir {
    fn settings(&self) -> &OrgSettings {
        &self.settings
    }
    fn queue(&self, id: &str) -> Option<&Queue> {
        self.queues.get(id)
    }
    fn code(&self, id: &str) -> Option<&WrapupCode> {
        self.codes.get(id)
    }
    fn codes(&self) -> Vec<&WrapupCode> {
        self.codes.values().collect()
    }
    fn user(&self, id: &str) -> Option<&User> {
        self.users.get(id)
    }
    fn user_load(&self, user_id: &str) -> Load {
        let mut l = self.loads.get(user_id).copied().unwrap_or_default();
        let own = self.own_loads.get(user_id).copied().unwrap_or_default();
        l.voice += own.voice;
        l.message += own.message;
        l
    }
    /// One violation per required top-level key the document lacks, pointing at `/<key>`.
    fn context_violations(&self, queue_id: &str, doc: &serde_json::Value) -> Vec<Violation> {
        let required = self.schemas.get(queue_id).map(Vec::as_slice).unwrap_or_default();
        required
            .iter()
            .filter(|k| doc.get(k.as_str()).is_none())
            .map(|k| Violation::new(format!("/{k}"), "is required by the queue's contextSchema"))
            .collect()
    }
}

impl TestDir {
    /// An org with only the two system codes.
    pub fn empty() -> Self {
        let mut codes = BTreeMap::new();
        for c in WrapupCode::system_codes() {
            codes.insert(c.id.clone(), c);
        }
        TestDir {
            settings: OrgSettings::new("org-1".into(), "Test org".into()),
            queues: BTreeMap::new(),
            codes,
            users: BTreeMap::new(),
            loads: BTreeMap::new(),
            own_loads: BTreeMap::new(),
            schemas: BTreeMap::new(),
        }
    }

    pub fn with_code(mut self, c: WrapupCode) -> Self {
        self.codes.insert(c.id.clone(), c);
        self
    }
    pub fn with_queue(mut self, q: Queue) -> Self {
        self.queues.insert(q.id.clone(), q);
        self
    }
    /// Gives a queue a fake schema requiring these top-level keys (see `context_violations`).
    pub fn with_schema(mut self, queue_id: &str, required: &[&str]) -> Self {
        self.schemas.insert(queue_id.into(), required.iter().map(|k| (*k).to_string()).collect());
        self
    }
    pub fn with_user(mut self, u: User) -> Self {
        self.users.insert(u.id.clone(), u);
        self
    }

    /// The scenario org: one queue per ACW policy, agents alice/bob/carol, supervisor sue, admin adam.
    pub fn standard() -> Self {
        let agents = ["alice", "bob", "carol"];
        let basic = ["c-sale", "c-support"];
        let timed = ["c-sale", "c-support", "c-default"];
        let mut d = TestDir::empty()
            .with_code(code("c-sale", "Sale"))
            .with_code(code("c-support", "Support"))
            .with_code(code("c-default", "Default outcome"))
            .with_code(code("c-other", "Other"))
            .with_code(WrapupCode { archived: true, ..code("c-archived", "Archived") })
            .with_queue(queue("q-none", acw_none(), &basic, &agents))
            .with_queue(queue("q-optional", acw_optional(), &["c-sale", "c-support", "c-archived"], &agents))
            .with_queue(queue("q-mandatory", acw_mandatory(), &basic, &agents))
            .with_queue(queue("q-timeout", acw_timeout(60_000, Some("c-default")), &timed, &agents))
            .with_queue(queue("q-timeout-nodefault", acw_timeout(60_000, None), &basic, &agents))
            .with_queue(queue("q-forced", acw_forced(60_000, Some("c-default")), &timed, &agents))
            .with_queue(queue("q-requested", acw_requested(Some(30_000)), &basic, &agents))
            .with_queue(queue("q-requested-untimed", acw_requested(None), &basic, &agents))
            .with_queue(queue("q-other", acw_optional(), &["c-other"], &agents))
            .with_queue(Queue { auto_answer: true, ..queue("q-auto", acw_mandatory(), &basic, &agents) })
            .with_queue(Queue {
                inactivity_timeout_ms: 600_000,
                ..queue("q-chat", acw_optional(), &["c-sale", "c-support"], &agents)
            });
        for a in agents {
            d = d.with_user(user(a, &[Role::Agent]));
        }
        d.with_user(user("sue", &[Role::Supervisor])).with_user(user("adam", &[Role::Admin]))
    }
}

// ----------------------------------------------------------------------------------------------- builders

pub fn code(id: &str, name: &str) -> WrapupCode {
    WrapupCode { id: id.into(), name: name.into(), description: None, archived: false, system: false, version: 1 }
}

pub fn acw(policy: AcwPolicy, timeout_ms: Option<i64>, default_code: Option<&str>) -> AcwSettings {
    AcwSettings { policy, timeout_ms, default_code_id: default_code.map(String::from) }
}
pub fn acw_none() -> AcwSettings {
    acw(AcwPolicy::None, None, None)
}
pub fn acw_optional() -> AcwSettings {
    acw(AcwPolicy::Optional, None, None)
}
pub fn acw_mandatory() -> AcwSettings {
    acw(AcwPolicy::Mandatory, None, None)
}
pub fn acw_timeout(ms: i64, default_code: Option<&str>) -> AcwSettings {
    acw(AcwPolicy::MandatoryTimeout, Some(ms), default_code)
}
pub fn acw_forced(ms: i64, default_code: Option<&str>) -> AcwSettings {
    acw(AcwPolicy::MandatoryForcedTimeout, Some(ms), default_code)
}
pub fn acw_requested(ms: Option<i64>) -> AcwSettings {
    acw(AcwPolicy::AgentRequested, ms, None)
}

pub fn queue(id: &str, acw: AcwSettings, codes: &[&str], members: &[&str]) -> Queue {
    Queue {
        id: id.into(),
        name: format!("Queue {id}"),
        members: members.iter().map(|m| QueueMember { user_id: (*m).into(), joined: true }).collect(),
        wrapup_codes: codes.iter().map(|c| (*c).into()).collect(),
        acw,
        alerting_timeout_ms: 30_000,
        auto_answer: false,
        inactivity_timeout_ms: DAY_MS,
        service_level: None,
        context_schema: None,
        media_settings: MediaSettings::default(),
        version: 1,
    }
}

pub fn user(id: &str, roles: &[Role]) -> User {
    User {
        id: id.into(),
        name: format!("User {id}"),
        username: id.into(),
        email: None,
        password_hash: None,
        roles: roles.to_vec(),
        capacity: Capacity::default(),
        voice_blocks_others: None,
        routing_status: RoutingStatus::OnQueue,
        version: 1,
    }
}
