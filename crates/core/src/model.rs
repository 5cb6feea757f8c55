//! The conversation aggregate: conversation, participants, wrap-ups, messages. State is always derived.

use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

pub type ConversationId = String;
pub type ParticipantId = String;
pub type UserId = String;
pub type QueueId = String;
pub type CodeId = String;
pub type OrgId = String;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "camelCase")]
pub enum MediaType {
    Voice,
    Message,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Channel {
    Web,
    Sms,
    Whatsapp,
    Open,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Direction {
    Inbound,
    Outbound,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Purpose {
    Customer,
    Acd,
    Agent,
    Bot,
    External,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ParticipantState {
    Queued,
    Alerting,
    Contacting,
    Connected,
    Disconnected,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum StateReason {
    Client,
    Peer,
    System,
    Transfer,
    TransferConsult,
    NoAnswer,
    Declined,
    Inactivity,
    Error,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ConversationState {
    Active,
    Wrapup,
    Closed,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum EndReason {
    CustomerLeft,
    AgentEnded,
    Closed,
    Inactivity,
    NoAnswer,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum AcwPolicy {
    None,
    Optional,
    Mandatory,
    MandatoryTimeout,
    MandatoryForcedTimeout,
    AgentRequested,
}

impl AcwPolicy {
    pub fn has_deadline(self) -> bool {
        matches!(self, AcwPolicy::MandatoryTimeout | AcwPolicy::MandatoryForcedTimeout | AcwPolicy::AgentRequested)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum WrapupStatus {
    NotStarted,
    Pending,
    Set,
    Skipped,
    TimedOut,
    NotRequired,
}

impl WrapupStatus {
    /// Final statuses can only change by amendment.
    pub fn is_final(self) -> bool {
        !matches!(self, WrapupStatus::NotStarted | WrapupStatus::Pending)
    }
}

/// Who did something: stored on events and wrap-ups.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ActorRef {
    pub kind: ActorKind,
    pub id: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ActorKind {
    User,
    Client,
    Guest,
    System,
}

impl ActorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ActorKind::User => "user",
            ActorKind::Client => "client",
            ActorKind::Guest => "guest",
            ActorKind::System => "system",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Amendment {
    pub status: WrapupStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_id: Option<CodeId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<ActorRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<Timestamp>,
}

/// A participant's after-call work. Policy fields are copied at connect and never change.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Wrapup {
    pub policy: AcwPolicy,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_code_id: Option<CodeId>,
    pub status: WrapupStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_id: Option<CodeId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    pub provisional: bool,
    pub requested_by_agent: bool,
    /// True once the wrap-up went `pending`: a code was expected from someone.
    pub expected: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acw_started_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acw_ended_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub set_by: Option<ActorRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub set_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub amended_from: Vec<Amendment>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amendable_until: Option<Timestamp>,
}

impl Wrapup {
    pub fn not_started(policy: AcwPolicy, timeout_ms: Option<i64>, default_code_id: Option<CodeId>) -> Self {
        Wrapup {
            policy,
            timeout_ms,
            default_code_id,
            status: WrapupStatus::NotStarted,
            code_id: None,
            code_name: None,
            notes: None,
            tags: Vec::new(),
            provisional: false,
            requested_by_agent: false,
            expected: false,
            deadline: None,
            acw_started_at: None,
            acw_ended_at: None,
            set_by: None,
            set_at: None,
            amended_from: Vec::new(),
            amendable_until: None,
        }
    }
}

/// A stretch of time the customer was on hold, and the agent participant who held it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HoldPeriod {
    pub start: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<Timestamp>,
    pub by: ParticipantId,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Participant {
    pub id: ParticipantId,
    pub communication_id: String,
    pub purpose: Purpose,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<UserId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue_id: Option<QueueId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bot_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// The guest session (web messaging) that owns this customer participant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guest_id: Option<String>,
    pub state: ParticipantState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_reason: Option<StateReason>,
    pub held: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub held_since: Option<Timestamp>,
    /// Customers: every hold so far (analytics: hold segments and tHeld per agent).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hold_periods: Vec<HoldPeriod>,
    pub withdrawn: bool,
    pub abandoned: bool,
    /// A direct-to-user offer (not routed from an acd).
    pub direct: bool,
    /// For agents offered from a queue: the acd participant the offer came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acd_id: Option<ParticipantId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queued_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alerting_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alerting_deadline: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connected_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disconnected_at: Option<Timestamp>,
    /// A consult target (or its acd): the agent participant that started the consult.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consult_for: Option<ParticipantId>,
    /// For acd participants: agents who declined, timed out or were withdrawn from this entry.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tried_user_ids: Vec<UserId>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attributes: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wrapup: Option<Wrapup>,
}

impl Participant {
    pub fn new(id: ParticipantId, communication_id: String, purpose: Purpose, state: ParticipantState) -> Self {
        Participant {
            id,
            communication_id,
            purpose,
            name: None,
            address: None,
            user_id: None,
            queue_id: None,
            bot_name: None,
            client_id: None,
            guest_id: None,
            state,
            state_reason: None,
            held: false,
            held_since: None,
            hold_periods: Vec::new(),
            withdrawn: false,
            abandoned: false,
            direct: false,
            acd_id: None,
            queued_at: None,
            alerting_at: None,
            alerting_deadline: None,
            consult_for: None,
            connected_at: None,
            disconnected_at: None,
            tried_user_ids: Vec::new(),
            attributes: BTreeMap::new(),
            wrapup: None,
        }
    }

    pub fn is_live(&self) -> bool {
        self.state != ParticipantState::Disconnected
    }

    /// DOMAIN.md: a handler is an agent, bot, acd or external participant that is queued, alerting or connected.
    pub fn is_handler(&self) -> bool {
        matches!(self.purpose, Purpose::Agent | Purpose::Bot | Purpose::Acd | Purpose::External)
            && matches!(self.state, ParticipantState::Queued | ParticipantState::Alerting | ParticipantState::Connected)
    }

    pub fn wrapup_pending(&self) -> bool {
        self.wrapup.as_ref().is_some_and(|w| w.status == WrapupStatus::Pending)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Disposition {
    pub code_id: CodeId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    pub set_by: ActorRef,
    pub set_at: Timestamp,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Conversation {
    pub id: ConversationId,
    pub org_id: OrgId,
    pub media_type: MediaType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<Channel>,
    pub direction: Direction,
    pub version: u64,
    pub started_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_reason: Option<EndReason>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_at: Option<Timestamp>,
    /// Time of the last applied command: a timer firing never happens before it.
    pub last_event_at: Timestamp,
    pub attributes: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disposition: Option<Disposition>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inactivity_deadline: Option<Timestamp>,
    /// Where a direct offer falls back to when nobody answers and no acd queue was visited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fallback_queue_id: Option<QueueId>,
    pub transfer_count: u32,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub participants: Vec<Participant>,
}

impl Conversation {
    /// DOMAIN.md "Conversation states": never stored as truth, always computed from participants.
    pub fn state(&self) -> ConversationState {
        if self.participants.iter().any(Participant::is_live) {
            ConversationState::Active
        } else if self.participants.iter().any(Participant::wrapup_pending) {
            ConversationState::Wrapup
        } else {
            ConversationState::Closed
        }
    }

    pub fn participant(&self, id: &str) -> Option<&Participant> {
        self.participants.iter().find(|p| p.id == id)
    }

    pub fn participant_mut(&mut self, id: &str) -> Option<&mut Participant> {
        self.participants.iter_mut().find(|p| p.id == id)
    }

    pub fn customer(&self) -> Option<&Participant> {
        self.participants.iter().find(|p| p.purpose == Purpose::Customer)
    }

    /// The queue of the most recently created acd participant.
    pub fn last_acd_queue(&self) -> Option<&QueueId> {
        self.participants.iter().rev().find(|p| p.purpose == Purpose::Acd).and_then(|p| p.queue_id.as_ref())
    }

    pub fn pending_wrapup_participants(&self) -> Vec<&Participant> {
        self.participants.iter().filter(|p| p.wrapup_pending()).collect()
    }

    pub fn has_user(&self, user_id: &str) -> bool {
        self.participants.iter().any(|p| p.user_id.as_deref() == Some(user_id))
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum MessageDirection {
    Inbound,
    Outbound,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Message {
    pub id: String,
    pub participant_id: ParticipantId,
    pub direction: MessageDirection,
    pub text: String,
    pub sent_at: Timestamp,
}
