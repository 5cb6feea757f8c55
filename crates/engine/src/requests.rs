//! What callers send to the engine and what they get back.

use serde::{Deserialize, Serialize};
use std::sync::Arc;
use switchboard_core::config::{
    AcwSettings, Capacity, Client, MediaSettings, OrgSettings, Queue, QueueMember, Role, ServiceLevel, User, WrapupCode,
};
use switchboard_core::{Actor, Command, Conversation, Timestamp};

/// An `Idempotency-Key` already scoped to (actor, method, path), with the hash of the canonical body.
#[derive(Clone, Debug)]
pub struct IdempotencyKey {
    pub scope: String,
    pub request_hash: String,
}

#[derive(Clone, Debug)]
pub struct ConversationRequest {
    pub org_id: String,
    pub actor: Actor,
    /// `None` only for `create`.
    pub conversation_id: Option<String>,
    pub command: Command,
    pub expected_version: Option<u64>,
    pub idempotency: Option<IdempotencyKey>,
    /// Validate everything, change nothing.
    pub dry_run: bool,
    /// The HTTP request's id, recorded in the audit trail.
    pub request_id: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConversationOutcome {
    pub conversation: Arc<Conversation>,
    /// False when the command found nothing to do (no version, no event).
    pub changed: bool,
    pub created: bool,
    /// True when this is the stored result of an earlier request with the same Idempotency-Key.
    #[serde(skip)]
    pub replayed: bool,
    /// The message a `PostMessage` created (its id and time), for adapters that answer with it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<switchboard_core::Message>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueueSpec {
    pub name: String,
    pub acw: AcwSettings,
    pub alerting_timeout_ms: Option<i64>,
    pub auto_answer: Option<bool>,
    pub inactivity_timeout_ms: Option<i64>,
    pub service_level: Option<ServiceLevel>,
    pub context_schema: Option<serde_json::Value>,
    pub media_settings: Option<MediaSettings>,
    pub wrapup_codes: Option<Vec<String>>,
    pub members: Option<Vec<QueueMember>>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserSpec {
    pub name: String,
    pub username: String,
    pub email: Option<String>,
    pub password_hash: Option<String>,
    pub roles: Vec<Role>,
    pub capacity: Option<Capacity>,
    pub voice_blocks_others: Option<bool>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum RoutingStatusRequest {
    OnQueue,
    OffQueue,
}

#[derive(Clone, Debug)]
pub enum ConfigCommand {
    /// Creates the org named in the request (its `org_id`) with its system codes.
    CreateOrg {
        name: String,
    },
    CreateCode {
        name: String,
        description: Option<String>,
    },
    UpdateCode {
        id: String,
        name: String,
        description: Option<String>,
    },
    /// Codes are archived, never removed: history keeps pointing at them.
    ArchiveCode {
        id: String,
    },
    CreateQueue(QueueSpec),
    UpdateQueue {
        id: String,
        spec: QueueSpec,
    },
    DeleteQueue {
        id: String,
    },
    SetMembers {
        queue_id: String,
        members: Vec<QueueMember>,
    },
    /// Adds or changes the listed members' `joined`; `remove` drops members.
    PatchMembers {
        queue_id: String,
        upsert: Vec<QueueMember>,
        remove: Vec<String>,
    },
    SetQueueCodes {
        queue_id: String,
        codes: Vec<String>,
    },
    CreateUser(UserSpec),
    UpdateUser {
        id: String,
        spec: UserSpec,
    },
    SetRoutingStatus {
        user_id: String,
        status: RoutingStatusRequest,
    },
    CreateClient {
        id: String,
        name: String,
        scopes: Vec<String>,
        secret_hash: String,
        redirect_uris: Vec<String>,
    },
    /// A new secret; tokens issued with the old one stop working.
    RotateClientSecret {
        id: String,
        secret_hash: String,
    },
    DeleteClient {
        id: String,
    },
    /// The API checks the target address before sending this (the writer does no DNS).
    CreateWebhook {
        url: String,
        event_types: Vec<String>,
        secret: String,
    },
    /// A new `secret` rotates: the old one keeps signing for 24 h.
    UpdateWebhook {
        id: String,
        url: String,
        event_types: Vec<String>,
        secret: Option<String>,
    },
    DeleteWebhook {
        id: String,
    },
    CreateDeployment {
        name: String,
        queue_id: String,
        require_key: bool,
        allowed_origins: Vec<String>,
        key: String,
    },
    UpdateDeployment {
        id: String,
        name: String,
        queue_id: String,
        require_key: bool,
        allowed_origins: Vec<String>,
    },
    DeleteDeployment {
        id: String,
    },
    /// Replaces the org's settings (name and id stay).
    /// A merge patch of the editable settings, applied on the writer so concurrent patches both land.
    UpdateOrgSettings(serde_json::Value),
}

#[derive(Clone, Debug)]
pub struct ConfigRequest {
    pub org_id: String,
    pub actor: Actor,
    pub command: ConfigCommand,
    pub expected_version: Option<u64>,
    pub idempotency: Option<IdempotencyKey>,
    pub request_id: Option<String>,
}

/// Who asks for a write that is not a conversation or configuration command (audit trail).
#[derive(Clone, Debug)]
pub struct Attribution {
    pub org_id: String,
    pub actor: Actor,
    pub request_id: Option<String>,
}

impl ConfigCommand {
    /// `<entity>.<verb>`, as the audit trail records it.
    pub fn action(&self) -> &'static str {
        match self {
            ConfigCommand::CreateOrg { .. } => "org.create",
            ConfigCommand::CreateCode { .. } => "wrapupCode.create",
            ConfigCommand::UpdateCode { .. } => "wrapupCode.update",
            ConfigCommand::ArchiveCode { .. } => "wrapupCode.archive",
            ConfigCommand::CreateQueue(_) => "queue.create",
            ConfigCommand::UpdateQueue { .. } => "queue.update",
            ConfigCommand::DeleteQueue { .. } => "queue.delete",
            ConfigCommand::SetMembers { .. } => "queue.setMembers",
            ConfigCommand::PatchMembers { .. } => "queue.patchMembers",
            ConfigCommand::SetQueueCodes { .. } => "queue.setWrapupCodes",
            ConfigCommand::CreateUser(_) => "user.create",
            ConfigCommand::UpdateUser { .. } => "user.update",
            ConfigCommand::SetRoutingStatus { .. } => "user.setRoutingStatus",
            ConfigCommand::CreateClient { .. } => "client.create",
            ConfigCommand::RotateClientSecret { .. } => "client.rotateSecret",
            ConfigCommand::DeleteClient { .. } => "client.delete",
            ConfigCommand::CreateWebhook { .. } => "webhook.create",
            ConfigCommand::UpdateWebhook { .. } => "webhook.update",
            ConfigCommand::DeleteWebhook { .. } => "webhook.delete",
            ConfigCommand::CreateDeployment { .. } => "deployment.create",
            ConfigCommand::UpdateDeployment { .. } => "deployment.update",
            ConfigCommand::DeleteDeployment { .. } => "deployment.delete",
            ConfigCommand::UpdateOrgSettings(_) => "org.update",
        }
    }

    /// The id the command names, when it names one (creations get theirs from the outcome).
    pub fn target_id(&self) -> Option<&str> {
        match self {
            ConfigCommand::UpdateCode { id, .. }
            | ConfigCommand::ArchiveCode { id }
            | ConfigCommand::UpdateQueue { id, .. }
            | ConfigCommand::DeleteQueue { id }
            | ConfigCommand::UpdateUser { id, .. }
            | ConfigCommand::DeleteWebhook { id }
            | ConfigCommand::UpdateWebhook { id, .. }
            | ConfigCommand::UpdateDeployment { id, .. }
            | ConfigCommand::DeleteDeployment { id }
            | ConfigCommand::CreateClient { id, .. }
            | ConfigCommand::RotateClientSecret { id, .. }
            | ConfigCommand::DeleteClient { id } => Some(id),
            ConfigCommand::SetMembers { queue_id, .. }
            | ConfigCommand::PatchMembers { queue_id, .. }
            | ConfigCommand::SetQueueCodes { queue_id, .. } => Some(queue_id),
            ConfigCommand::SetRoutingStatus { user_id, .. } => Some(user_id),
            _ => None,
        }
    }
}

impl ConfigOutcome {
    /// The id of the entity the outcome describes.
    pub fn id(&self) -> Option<&str> {
        match self {
            ConfigOutcome::Org(o) => Some(&o.id),
            ConfigOutcome::Code(c) => Some(&c.id),
            ConfigOutcome::Queue(q) => Some(&q.id),
            ConfigOutcome::User(u) => Some(&u.id),
            ConfigOutcome::Client(c) => Some(&c.id),
            ConfigOutcome::Webhook(w) => Some(&w.id),
            ConfigOutcome::Deployment(d) => Some(&d.id),
            ConfigOutcome::Deleted => None,
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "kind", content = "value")]
pub enum ConfigOutcome {
    Org(OrgSettings),
    Code(WrapupCode),
    Queue(Queue),
    /// A user with the routing status as read back (idle / interacting / notResponding / offQueue).
    User(User),
    Client(Client),
    Webhook(crate::webhooks::Webhook),
    Deployment(crate::deployments::MessagingDeployment),
    Deleted,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClockOutcome {
    pub now: Timestamp,
    pub fired: usize,
}
