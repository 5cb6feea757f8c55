//! One org's configuration in memory (copy-on-write), and the `Directory` view core reads through.

use std::collections::{BTreeMap, HashMap};
use switchboard_core::config::{Client, OrgSettings, Queue, User, WrapupCode};
use switchboard_core::{Directory, Load};

#[derive(Clone, Debug)]
pub struct OrgConfig {
    pub settings: OrgSettings,
    pub queues: BTreeMap<String, Queue>,
    pub codes: BTreeMap<String, WrapupCode>,
    pub users: BTreeMap<String, User>,
    pub clients: BTreeMap<String, Client>,
    pub webhooks: BTreeMap<String, crate::webhooks::Webhook>,
    pub deployments: BTreeMap<String, crate::deployments::MessagingDeployment>,
    /// Compiled `contextSchema` per queue (rebuilt at start, never persisted).
    pub schemas: BTreeMap<String, crate::schemas::CompiledSchema>,
}

impl OrgConfig {
    pub fn new(settings: OrgSettings) -> Self {
        let mut codes = BTreeMap::new();
        for c in WrapupCode::system_codes() {
            codes.insert(c.id.clone(), c);
        }
        OrgConfig {
            settings,
            queues: BTreeMap::new(),
            codes,
            users: BTreeMap::new(),
            clients: BTreeMap::new(),
            webhooks: BTreeMap::new(),
            deployments: BTreeMap::new(),
            schemas: BTreeMap::new(),
        }
    }

    pub fn active_code(&self, id: &str) -> bool {
        self.codes.get(id).is_some_and(|c| !c.archived && !c.system)
    }
}

/// `Directory` over an org's config plus the engine's live load index.
pub struct Dir<'a> {
    pub org: &'a OrgConfig,
    pub loads: &'a HashMap<String, Load>,
}

impl Directory for Dir<'_> {
    fn settings(&self) -> &OrgSettings {
        &self.org.settings
    }
    fn queue(&self, id: &str) -> Option<&Queue> {
        self.org.queues.get(id)
    }
    fn code(&self, id: &str) -> Option<&WrapupCode> {
        self.org.codes.get(id)
    }
    fn codes(&self) -> Vec<&WrapupCode> {
        self.org.codes.values().collect()
    }
    fn user(&self, id: &str) -> Option<&User> {
        self.org.users.get(id)
    }
    fn user_load(&self, user_id: &str) -> Load {
        self.loads.get(user_id).copied().unwrap_or_default()
    }
    fn context_violations(&self, queue_id: &str, doc: &serde_json::Value) -> Vec<switchboard_core::Violation> {
        self.org.schemas.get(queue_id).map(|s| s.violations(doc)).unwrap_or_default()
    }
}
