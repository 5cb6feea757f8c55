//! Configuration commands (org, wrap-up codes, queues, members, users, routing status, clients), applied by
//! the writer like conversation commands: validated, versioned, staged in the same group commit.

use crate::deployments::{self, MessagingDeployment};
use crate::error::EngineError;
use crate::orgs::OrgConfig;
use crate::requests::{ConfigCommand, ConfigOutcome, QueueSpec, RoutingStatusRequest, UserSpec};
use crate::schemas::CompiledSchema;
use crate::state::State;
use crate::webhooks::Webhook;
use std::sync::Arc;
use switchboard_core::config::{
    Client, DEFAULT_ALERTING_TIMEOUT_MS, DEFAULT_INACTIVITY_TIMEOUT_MS, OrgSettings, Queue, RoutingStatus, User,
    WrapupCode,
};
use switchboard_core::{Rejection, Violation};

fn invalid(violations: Vec<Violation>) -> EngineError {
    let detail = violations.iter().map(|v| format!("{}: {}", v.pointer, v.message)).collect::<Vec<_>>().join("; ");
    EngineError::rejected(Rejection::Invalid { detail, violations })
}

fn check_version(current: u64, expected: Option<u64>) -> Result<(), EngineError> {
    match expected {
        Some(v) if v != current => Err(EngineError::rejected(Rejection::VersionMismatch { current })),
        _ => Ok(()),
    }
}

fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

impl State {
    pub fn configure(
        &mut self,
        org_id: &str,
        command: ConfigCommand,
        expected: Option<u64>,
    ) -> Result<ConfigOutcome, EngineError> {
        let now = self.clock.now();
        if let ConfigCommand::CreateOrg { name } = &command {
            if self.orgs.contains_key(org_id) {
                return Err(EngineError::rejected(Rejection::Conflict {
                    code: "already_exists",
                    detail: format!("organization {org_id} exists"),
                }));
            }
            let settings = OrgSettings::new(org_id.to_string(), name.clone());
            let org = OrgConfig::new(settings.clone());
            self.stage_entity(org_id, "org", org_id, 1, &settings);
            for c in org.codes.values() {
                self.stage_entity(org_id, "code", &c.id, c.version, c);
            }
            self.orgs.insert(org_id.to_string(), Arc::new(org));
            return Ok(ConfigOutcome::Org(settings));
        }
        let mut org = (*self.org(org_id)?).clone();
        let outcome = match command {
            ConfigCommand::CreateOrg { .. } => unreachable!("handled above"),
            ConfigCommand::CreateCode { name, description } => {
                validate_code_name(&org, &name, None)?;
                let code = WrapupCode { id: new_id(), name, description, archived: false, system: false, version: 1 };
                org.codes.insert(code.id.clone(), code.clone());
                self.stage_entity(org_id, "code", &code.id, 1, &code);
                ConfigOutcome::Code(code)
            }
            ConfigCommand::UpdateCode { id, name, description } => {
                let mut code =
                    org.codes.get(&id).cloned().ok_or_else(|| EngineError::not_found("wrap-up code", &id))?;
                check_version(code.version, expected)?;
                if code.system {
                    return Err(conflict("system_code", "system codes cannot be renamed, archived or deleted"));
                }
                validate_code_name(&org, &name, Some(&id))?;
                code.name = name;
                code.description = description;
                code.version += 1;
                org.codes.insert(id.clone(), code.clone());
                self.stage_entity(org_id, "code", &id, code.version, &code);
                ConfigOutcome::Code(code)
            }
            ConfigCommand::ArchiveCode { id } => {
                let mut code =
                    org.codes.get(&id).cloned().ok_or_else(|| EngineError::not_found("wrap-up code", &id))?;
                check_version(code.version, expected)?;
                if code.system {
                    return Err(conflict("system_code", "system codes cannot be renamed, archived or deleted"));
                }
                if !code.archived {
                    code.archived = true;
                    code.version += 1;
                    self.stage_entity(org_id, "code", &id, code.version, &code);
                }
                org.codes.insert(id, code.clone());
                ConfigOutcome::Code(code)
            }
            ConfigCommand::CreateQueue(spec) => {
                let queue = build_queue(new_id(), 1, spec, None);
                let schema = validate_queue(&org, &queue)?;
                install_schema(&mut org, &queue.id, schema);
                org.queues.insert(queue.id.clone(), queue.clone());
                self.stage_entity(org_id, "queue", &queue.id, 1, &queue);
                ConfigOutcome::Queue(queue)
            }
            ConfigCommand::UpdateQueue { id, spec } => {
                let old = org.queues.get(&id).cloned().ok_or_else(|| EngineError::not_found("queue", &id))?;
                check_version(old.version, expected)?;
                let queue = build_queue(id.clone(), old.version + 1, spec, Some(&old));
                let schema = validate_queue(&org, &queue)?;
                install_schema(&mut org, &id, schema);
                self.save_queue(org_id, &mut org, &old, queue)?
            }
            ConfigCommand::DeleteQueue { id } => {
                let old = org.queues.get(&id).cloned().ok_or_else(|| EngineError::not_found("queue", &id))?;
                check_version(old.version, expected)?;
                let queued: Vec<String> = self
                    .waiting
                    .values()
                    .filter(|w| w.org_id == org_id && w.waiting.queue_id == id)
                    .map(|w| w.conversation_id.clone())
                    .collect();
                let alerting =
                    self.alerting.values().flatten().any(|(_, o)| o.queue_id.as_deref() == Some(id.as_str()));
                if !queued.is_empty() || alerting {
                    return Err(conflict(
                        "queue_has_conversations",
                        &format!("the queue has queued conversations: {}", queued.join(", ")),
                    ));
                }
                org.queues.remove(&id);
                org.schemas.remove(&id);
                self.batch.entities_delete.push((org_id.to_string(), "queue".into(), id));
                ConfigOutcome::Deleted
            }
            ConfigCommand::SetMembers { queue_id, members } => {
                let old =
                    org.queues.get(&queue_id).cloned().ok_or_else(|| EngineError::not_found("queue", &queue_id))?;
                check_version(old.version, expected)?;
                let queue = Queue { members, version: old.version + 1, ..old.clone() };
                validate_members(&org, &queue)?;
                self.save_queue(org_id, &mut org, &old, queue)?
            }
            ConfigCommand::PatchMembers { queue_id, upsert, remove } => {
                let old =
                    org.queues.get(&queue_id).cloned().ok_or_else(|| EngineError::not_found("queue", &queue_id))?;
                check_version(old.version, expected)?;
                let mut queue = Queue { version: old.version + 1, ..old.clone() };
                queue.members.retain(|m| !remove.contains(&m.user_id));
                for m in upsert {
                    match queue.members.iter_mut().find(|x| x.user_id == m.user_id) {
                        Some(x) => x.joined = m.joined,
                        None => queue.members.push(m),
                    }
                }
                validate_members(&org, &queue)?;
                self.save_queue(org_id, &mut org, &old, queue)?
            }
            ConfigCommand::SetQueueCodes { queue_id, codes } => {
                let old =
                    org.queues.get(&queue_id).cloned().ok_or_else(|| EngineError::not_found("queue", &queue_id))?;
                check_version(old.version, expected)?;
                let queue = Queue { wrapup_codes: codes, version: old.version + 1, ..old.clone() };
                validate_queue(&org, &queue)?;
                self.save_queue(org_id, &mut org, &old, queue)?
            }
            ConfigCommand::CreateUser(spec) => {
                let user = build_user(new_id(), 1, spec, RoutingStatus::OffQueue);
                self.validate_user(&user)?;
                org.users.insert(user.id.clone(), user.clone());
                self.stage_entity(org_id, "user", &user.id, 1, &user);
                ConfigOutcome::User(user)
            }
            ConfigCommand::UpdateUser { id, mut spec } => {
                let old = org.users.get(&id).cloned().ok_or_else(|| EngineError::not_found("user", &id))?;
                check_version(old.version, expected)?;
                if spec.password_hash.is_none() {
                    spec.password_hash = old.password_hash.clone();
                }
                let user = build_user(id.clone(), old.version + 1, spec, old.routing_status);
                self.validate_user(&user)?;
                org.users.insert(id.clone(), user.clone());
                self.stage_entity(org_id, "user", &id, user.version, &user);
                ConfigOutcome::User(user)
            }
            ConfigCommand::SetRoutingStatus { user_id, status } => {
                let user = org.users.get(&user_id).cloned().ok_or_else(|| EngineError::not_found("user", &user_id))?;
                check_version(user.version, expected)?;
                self.orgs.insert(org_id.to_string(), Arc::new(org));
                let status = match status {
                    RoutingStatusRequest::OnQueue => RoutingStatus::OnQueue,
                    RoutingStatusRequest::OffQueue => RoutingStatus::OffQueue,
                };
                if status == RoutingStatus::OnQueue && user.routing_status != RoutingStatus::OnQueue {
                    let meta = self.agents.entry(user_id.clone()).or_default();
                    meta.idle_since = Some(now);
                }
                self.set_user_status(org_id, &user_id, status, now);
                if status == RoutingStatus::OffQueue {
                    self.withdraw_offers(org_id, &user_id, None);
                }
                let user = self.org(org_id)?.users.get(&user_id).cloned().expect("user exists");
                return Ok(ConfigOutcome::User(user));
            }
            ConfigCommand::CreateWebhook { url, event_types, secret } => {
                validate_webhook(&url, &event_types, Some(&secret))?;
                let w = Webhook {
                    id: new_id(),
                    url,
                    event_types,
                    secret,
                    previous_secret: None,
                    previous_secret_until: None,
                    created_at: now,
                    version: 1,
                };
                org.webhooks.insert(w.id.clone(), w.clone());
                self.stage_entity(org_id, "webhook", &w.id, 1, &w);
                ConfigOutcome::Webhook(w)
            }
            ConfigCommand::UpdateWebhook { id, url, event_types, secret } => {
                let mut w = org.webhooks.get(&id).cloned().ok_or_else(|| EngineError::not_found("webhook", &id))?;
                check_version(w.version, expected)?;
                validate_webhook(&url, &event_types, secret.as_deref())?;
                if let Some(new) = secret.filter(|s| *s != w.secret) {
                    w.previous_secret = Some(std::mem::replace(&mut w.secret, new));
                    w.previous_secret_until = Some(now.plus_ms(SECRET_OVERLAP_MS));
                }
                w.url = url;
                w.event_types = event_types;
                w.version += 1;
                org.webhooks.insert(id.clone(), w.clone());
                self.stage_entity(org_id, "webhook", &id, w.version, &w);
                ConfigOutcome::Webhook(w)
            }
            ConfigCommand::DeleteWebhook { id } => {
                let w = org.webhooks.get(&id).cloned().ok_or_else(|| EngineError::not_found("webhook", &id))?;
                check_version(w.version, expected)?;
                org.webhooks.remove(&id);
                self.batch.entities_delete.push((org_id.to_string(), "webhook".into(), id));
                ConfigOutcome::Deleted
            }
            ConfigCommand::CreateDeployment { name, queue_id, require_key, allowed_origins, key } => {
                let v = deployments::validate(&name, &queue_id, &allowed_origins, org.queues.contains_key(&queue_id));
                if !v.is_empty() {
                    return Err(invalid(v));
                }
                let d = MessagingDeployment {
                    id: new_id(),
                    name,
                    queue_id,
                    require_key,
                    key,
                    allowed_origins,
                    created_at: now,
                    version: 1,
                };
                org.deployments.insert(d.id.clone(), d.clone());
                self.stage_entity(org_id, "deployment", &d.id, 1, &d);
                ConfigOutcome::Deployment(d)
            }
            ConfigCommand::UpdateDeployment { id, name, queue_id, require_key, allowed_origins } => {
                let mut d =
                    org.deployments.get(&id).cloned().ok_or_else(|| EngineError::not_found("deployment", &id))?;
                check_version(d.version, expected)?;
                let v = deployments::validate(&name, &queue_id, &allowed_origins, org.queues.contains_key(&queue_id));
                if !v.is_empty() {
                    return Err(invalid(v));
                }
                (d.name, d.queue_id, d.require_key, d.allowed_origins) = (name, queue_id, require_key, allowed_origins);
                d.version += 1;
                org.deployments.insert(id.clone(), d.clone());
                self.stage_entity(org_id, "deployment", &id, d.version, &d);
                ConfigOutcome::Deployment(d)
            }
            ConfigCommand::DeleteDeployment { id } => {
                let d = org.deployments.get(&id).cloned().ok_or_else(|| EngineError::not_found("deployment", &id))?;
                check_version(d.version, expected)?;
                org.deployments.remove(&id);
                self.batch.entities_delete.push((org_id.to_string(), "deployment".into(), id));
                ConfigOutcome::Deleted
            }
            ConfigCommand::UpdateOrgSettings(patch) => {
                check_version(org.settings.version, expected)?;
                let mut merged = serde_json::json!(org.settings);
                switchboard_core::evolve::merge_patch(&mut merged, &patch);
                let new: OrgSettings = serde_json::from_value(merged)
                    .map_err(|e| EngineError::rejected(Rejection::invalid("", format!("invalid settings: {e}"))))?;
                let v = new.validate(|c| org.active_code(c));
                if !v.is_empty() {
                    return Err(invalid(v));
                }
                let version = org.settings.version + 1;
                org.settings =
                    OrgSettings { id: org.settings.id.clone(), name: org.settings.name.clone(), version, ..new };
                let settings = org.settings.clone();
                self.stage_entity(org_id, "org", org_id, version, &settings);
                ConfigOutcome::Org(settings)
            }
            ConfigCommand::CreateClient { id, name, scopes, secret_hash, redirect_uris } => {
                if self.orgs.values().any(|o| o.clients.contains_key(&id)) {
                    return Err(conflict("already_exists", &format!("client {id} exists")));
                }
                if name.trim().is_empty() {
                    return Err(EngineError::rejected(Rejection::invalid("/name", "must not be empty")));
                }
                let client =
                    Client { id: id.clone(), name, secret_hash, scopes, redirect_uris, created_at: now, version: 1 };
                org.clients.insert(id.clone(), client.clone());
                self.stage_entity(org_id, "client", &id, 1, &client);
                ConfigOutcome::Client(client)
            }
            ConfigCommand::RotateClientSecret { id, secret_hash } => {
                let c = org.clients.get_mut(&id).ok_or_else(|| EngineError::not_found("client", &id))?;
                check_version(c.version, expected)?;
                c.secret_hash = secret_hash;
                // Tokens carry the version they were issued at: a new one ends the old secret's tokens.
                c.version += 1;
                let c = c.clone();
                self.stage_entity(org_id, "client", &id, c.version, &c);
                ConfigOutcome::Client(c)
            }
            ConfigCommand::DeleteClient { id } => {
                let c = org.clients.get(&id).cloned().ok_or_else(|| EngineError::not_found("client", &id))?;
                check_version(c.version, expected)?;
                org.clients.remove(&id);
                self.batch.entities_delete.push((org_id.to_string(), "client".into(), id));
                ConfigOutcome::Deleted
            }
        };
        self.orgs.insert(org_id.to_string(), Arc::new(org));
        // Readers get the new config once the batch is durable, deletions included (they stage no entity).
        self.touched_orgs.insert(org_id.to_string());
        Ok(outcome)
    }

    /// Stores a changed queue and withdraws offers of members who left or unjoined.
    fn save_queue(
        &mut self,
        org_id: &str,
        org: &mut OrgConfig,
        old: &Queue,
        queue: Queue,
    ) -> Result<ConfigOutcome, EngineError> {
        let gone: Vec<String> =
            old.members.iter().filter(|m| !queue.is_joined_member(&m.user_id)).map(|m| m.user_id.clone()).collect();
        org.queues.insert(queue.id.clone(), queue.clone());
        self.stage_entity(org_id, "queue", &queue.id, queue.version, &queue);
        self.orgs.insert(org_id.to_string(), Arc::new(org.clone()));
        for user_id in gone {
            self.withdraw_offers(org_id, &user_id, Some(&queue.id));
        }
        *org = (*self.org(org_id)?).clone();
        Ok(ConfigOutcome::Queue(queue))
    }

    fn validate_user(&self, user: &User) -> Result<(), EngineError> {
        let mut v = Vec::new();
        if user.name.trim().is_empty() {
            v.push(Violation::new("/name", "must not be empty"));
        }
        let valid_username = !user.username.is_empty()
            && user.username.len() <= 100
            && user.username.chars().all(|c| c.is_ascii_alphanumeric() || "._-@+".contains(c));
        if !valid_username {
            v.push(Violation::new("/username", "1 to 100 characters: letters, digits and . _ - @ +"));
        }
        let taken =
            self.orgs.values().flat_map(|o| o.users.values()).any(|u| u.username == user.username && u.id != user.id);
        if taken {
            v.push(Violation::new("/username", "is already taken"));
        }
        if user.roles.is_empty() {
            v.push(Violation::new("/roles", "give at least one role"));
        }
        if user.capacity.voice > 10 || user.capacity.message > 50 {
            v.push(Violation::new("/capacity", "at most 10 voice and 50 message interactions"));
        }
        if v.is_empty() { Ok(()) } else { Err(invalid(v)) }
    }
}

/// How long a rotated-out webhook secret keeps signing, so receivers can switch without a gap.
const SECRET_OVERLAP_MS: i64 = 24 * 3_600_000;

const EVENT_TYPES: &[&str] = &[
    "conversation.created",
    "participant.queued",
    "participant.alerting",
    "participant.connected",
    "participant.disconnected",
    "participant.offerWithdrawn",
    "participant.held",
    "participant.unheld",
    "consult.started",
    "consult.completed",
    "consult.cancelled",
    "wrapup.provisionalSaved",
    "wrapup.acwRequested",
    "wrapup.pending",
    "wrapup.set",
    "wrapup.skipped",
    "wrapup.timedOut",
    "wrapup.amended",
    "conversation.transferred",
    "attributes.updated",
    "message.created",
    "conversation.ended",
    "conversation.closed",
    "user.routingStatusChanged",
];

fn validate_webhook(url: &str, event_types: &[String], secret: Option<&str>) -> Result<(), EngineError> {
    let mut v = Vec::new();
    if !(url.starts_with("http://") || url.starts_with("https://")) || url.len() > 2_000 {
        v.push(Violation::new("/url", "an http or https URL of at most 2000 characters"));
    }
    if event_types.is_empty() {
        v.push(Violation::new("/eventTypes", "give at least one event type, or \"*\" for all"));
    }
    for (i, t) in event_types.iter().enumerate() {
        if t != "*" && !EVENT_TYPES.contains(&t.as_str()) {
            v.push(Violation::new(format!("/eventTypes/{i}"), format!("unknown event type {t:?}")));
        }
    }
    if let Some(s) = secret
        && (s.len() < 16 || s.len() > 256)
    {
        v.push(Violation::new("/secret", "must be 16 to 256 characters"));
    }
    if v.is_empty() { Ok(()) } else { Err(invalid(v)) }
}

fn conflict(code: &'static str, detail: &str) -> EngineError {
    EngineError::rejected(Rejection::Conflict { code, detail: detail.to_string() })
}

fn validate_code_name(org: &OrgConfig, name: &str, except: Option<&str>) -> Result<(), EngineError> {
    if name.trim().is_empty() || name.len() > 200 {
        return Err(EngineError::rejected(Rejection::invalid("/name", "must be 1 to 200 characters")));
    }
    if org.codes.values().any(|c| c.name == name && Some(c.id.as_str()) != except && !c.archived) {
        return Err(conflict("already_exists", &format!("a wrap-up code named {name:?} exists")));
    }
    Ok(())
}

/// Keeps a queue's compiled context schema (or its absence) next to the queue.
fn install_schema(org: &mut OrgConfig, queue_id: &str, schema: Option<CompiledSchema>) {
    match schema {
        Some(s) => drop(org.schemas.insert(queue_id.to_string(), s)),
        None => drop(org.schemas.remove(queue_id)),
    }
}

/// Checks a whole queue; returns its compiled context schema, so it is compiled once per save.
fn validate_queue(org: &OrgConfig, queue: &Queue) -> Result<Option<CompiledSchema>, EngineError> {
    let mut v = queue.validate(|c| org.active_code(c));
    let schema = CompiledSchema::of(queue).unwrap_or_else(|e| {
        v.push(e);
        None
    });
    if org.queues.values().any(|q| q.name == queue.name && q.id != queue.id) {
        v.push(Violation::new("/name", "another queue has this name"));
    }
    v.extend(member_violations(org, queue));
    if v.is_empty() { Ok(schema) } else { Err(invalid(v)) }
}

fn validate_members(org: &OrgConfig, queue: &Queue) -> Result<(), EngineError> {
    let v = member_violations(org, queue);
    if v.is_empty() { Ok(()) } else { Err(invalid(v)) }
}

fn member_violations(org: &OrgConfig, queue: &Queue) -> Vec<Violation> {
    let mut v = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (i, m) in queue.members.iter().enumerate() {
        if !org.users.contains_key(&m.user_id) {
            v.push(Violation::new(format!("/{i}"), format!("unknown user {}", m.user_id)));
        }
        if !seen.insert(&m.user_id) {
            v.push(Violation::new(format!("/{i}"), "duplicate member"));
        }
    }
    v
}

fn build_queue(id: String, version: u64, spec: QueueSpec, old: Option<&Queue>) -> Queue {
    Queue {
        id,
        name: spec.name,
        members: spec.members.or_else(|| old.map(|o| o.members.clone())).unwrap_or_default(),
        wrapup_codes: spec.wrapup_codes.or_else(|| old.map(|o| o.wrapup_codes.clone())).unwrap_or_default(),
        acw: spec.acw,
        alerting_timeout_ms: spec.alerting_timeout_ms.unwrap_or(DEFAULT_ALERTING_TIMEOUT_MS),
        auto_answer: spec.auto_answer.unwrap_or(false),
        inactivity_timeout_ms: spec.inactivity_timeout_ms.unwrap_or(DEFAULT_INACTIVITY_TIMEOUT_MS),
        service_level: spec.service_level,
        context_schema: spec.context_schema,
        media_settings: spec.media_settings.unwrap_or_default(),
        version,
    }
}

fn build_user(id: String, version: u64, spec: UserSpec, routing_status: RoutingStatus) -> User {
    let mut roles = spec.roles;
    roles.sort();
    roles.dedup();
    User {
        id,
        name: spec.name,
        username: spec.username,
        email: spec.email,
        password_hash: spec.password_hash,
        roles,
        capacity: spec.capacity.unwrap_or_default(),
        voice_blocks_others: spec.voice_blocks_others,
        routing_status,
        version,
    }
}
