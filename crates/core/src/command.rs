//! Commands: what callers (and the routing loop and timers) ask of a conversation.

use crate::model::{Channel, CodeId, Direction, MediaType, ParticipantId, QueueId, UserId};
use crate::time::Timestamp;
use crate::timers::TimerKind;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// A field of a partial update: left out, explicitly `null`, or given.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum Patch<T> {
    #[default]
    Absent,
    Null,
    Value(T),
}

impl<T> Patch<T> {
    pub fn is_absent(&self) -> bool {
        matches!(self, Patch::Absent)
    }
    /// Applies this patch to a current value.
    pub fn apply(self, current: Option<T>) -> Option<T> {
        match self {
            Patch::Absent => current,
            Patch::Null => None,
            Patch::Value(v) => Some(v),
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct WrapupInput {
    pub code_id: Option<CodeId>,
    pub notes: Patch<String>,
    pub tags: Patch<Vec<String>>,
}

impl WrapupInput {
    pub fn code(code_id: impl Into<String>) -> Self {
        WrapupInput { code_id: Some(code_id.into()), ..Default::default() }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged, rename_all = "camelCase")]
pub enum TransferTarget {
    Queue {
        #[serde(rename = "queueId")]
        queue_id: QueueId,
    },
    User {
        #[serde(rename = "userId")]
        user_id: UserId,
    },
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum PendingWrapups {
    #[default]
    Keep,
    System,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct CreateConversation {
    pub media_type: Option<MediaType>,
    pub channel: Option<Channel>,
    pub direction: Option<Direction>,
    pub from_name: Option<String>,
    pub from_address: Option<String>,
    pub to_address: Option<String>,
    pub queue_id: Option<QueueId>,
    pub user_id: Option<UserId>,
    pub bot_name: Option<String>,
    pub fallback_queue_id: Option<QueueId>,
    pub attributes: Option<Value>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct CloseInput {
    pub wrapup: Option<WrapupInput>,
    pub wrapups: Vec<(ParticipantId, WrapupInput)>,
    pub pending_wrapups: PendingWrapups,
    pub reason: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    Create(CreateConversation),
    /// Routing: offer a queued acd entry to an agent.
    Offer {
        acd_id: ParticipantId,
        user_id: UserId,
    },
    Answer {
        participant_id: ParticipantId,
    },
    Decline {
        participant_id: ParticipantId,
    },
    Disconnect {
        participant_id: ParticipantId,
        wrapup: Option<WrapupInput>,
        skip_wrapup: bool,
        reason: Option<String>,
    },
    /// A set before the wrap-up is final, an amendment after (DOMAIN.md rule 2).
    SetWrapup {
        participant_id: ParticipantId,
        input: WrapupInput,
    },
    SkipWrapup {
        participant_id: ParticipantId,
    },
    RequestAcw {
        participant_id: ParticipantId,
        required: bool,
    },
    Transfer {
        from_participant_id: ParticipantId,
        to: TransferTarget,
        context_data: Option<Value>,
        wrapup: Option<WrapupInput>,
    },
    Close(CloseInput),
    PostMessage {
        participant_id: Option<ParticipantId>,
        text: String,
    },
    UpdateAttributes {
        patch: Value,
    },
    UpdateParticipantAttributes {
        participant_id: ParticipantId,
        patch: BTreeMap<String, Option<String>>,
    },
    /// The agent puts the customer on hold (voice).
    Hold {
        participant_id: ParticipantId,
    },
    Unhold {
        participant_id: ParticipantId,
    },
    /// The agent consults another agent (or queue) with the customer held.
    Consult {
        from_participant_id: ParticipantId,
        to: TransferTarget,
        context_data: Option<Value>,
    },
    /// The initiator leaves, the target keeps the customer.
    CompleteConsult {
        participant_id: ParticipantId,
    },
    /// The target leaves, the initiator keeps the customer.
    CancelConsult {
        participant_id: ParticipantId,
    },
    /// Routing: the agent went offQueue or left the queue while the offer was alerting.
    WithdrawOffer {
        participant_id: ParticipantId,
    },
    FireTimer {
        timer: TimerKind,
        due_at: Timestamp,
    },
}

impl Command {
    /// The DOMAIN.md command name, as used in `allowedActions` and in logs.
    pub fn name(&self) -> &'static str {
        match self {
            Command::Create(_) => "create",
            Command::Offer { .. } => "offer",
            Command::Answer { .. } => "answer",
            Command::Decline { .. } => "decline",
            Command::Disconnect { .. } => "disconnect",
            Command::SetWrapup { .. } => "setWrapup",
            Command::SkipWrapup { .. } => "skipWrapup",
            Command::RequestAcw { .. } => "requestAcw",
            Command::Transfer { .. } => "transfer",
            Command::Close(_) => "close",
            Command::PostMessage { .. } => "postMessage",
            Command::UpdateAttributes { .. } => "updateAttributes",
            Command::UpdateParticipantAttributes { .. } => "updateParticipantAttributes",
            Command::WithdrawOffer { .. } => "withdrawOffer",
            Command::Hold { .. } => "hold",
            Command::Unhold { .. } => "unhold",
            Command::Consult { .. } => "consult",
            Command::CompleteConsult { .. } => "completeConsult",
            Command::CancelConsult { .. } => "cancelConsult",
            Command::FireTimer { .. } => "fireTimer",
        }
    }
}
