//! Events: the persisted facts. Shapes are a contract: add variants, never rename or remove them.

use crate::command::TransferTarget;
use crate::model::{
    ActorRef, Channel, Direction, Disposition, EndReason, MediaType, Message, OrgId, Participant, ParticipantId,
    QueueId, StateReason, Wrapup,
};
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One event of one applied command. All events of a command share `version` and `at`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    pub version: u64,
    pub at: Timestamp,
    pub actor: ActorRef,
    #[serde(flatten)]
    pub data: EventData,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Created {
    pub id: String,
    pub org_id: OrgId,
    pub media_type: MediaType,
    pub channel: Option<Channel>,
    pub direction: Direction,
    pub attributes: Value,
    pub participants: Vec<Participant>,
    pub inactivity_deadline: Option<Timestamp>,
    pub fallback_queue_id: Option<QueueId>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data")]
pub enum EventData {
    #[serde(rename = "conversation.created")]
    ConversationCreated(Box<Created>),
    #[serde(rename = "participant.queued", rename_all = "camelCase")]
    ParticipantQueued { participant: Box<Participant> },
    /// `context`: the conversation's attributes when the offer is made (what the agent needs to know).
    #[serde(rename = "participant.alerting", rename_all = "camelCase")]
    ParticipantAlerting {
        participant: Box<Participant>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        context: Option<Value>,
    },
    #[serde(rename = "participant.connected", rename_all = "camelCase")]
    ParticipantConnected { participant_id: ParticipantId, wrapup: Option<Wrapup> },
    /// `wrapup` is the participant's wrap-up after the disconnect (its ACW phase starts here).
    #[serde(rename = "participant.disconnected", rename_all = "camelCase")]
    ParticipantDisconnected {
        participant_id: ParticipantId,
        reason: StateReason,
        note: Option<String>,
        abandoned: bool,
        wrapup: Option<Wrapup>,
    },
    #[serde(rename = "participant.offerWithdrawn", rename_all = "camelCase")]
    OfferWithdrawn { participant_id: ParticipantId },
    /// `participant_id` is the customer; `by` the agent that held it.
    #[serde(rename = "participant.held", rename_all = "camelCase")]
    ParticipantHeld { participant_id: ParticipantId, by: ParticipantId },
    #[serde(rename = "participant.unheld", rename_all = "camelCase")]
    ParticipantUnheld { participant_id: ParticipantId, by: ParticipantId },
    #[serde(rename = "consult.started", rename_all = "camelCase")]
    ConsultStarted {
        initiator_id: ParticipantId,
        target_id: ParticipantId,
        to: TransferTarget,
        context_data: Option<Value>,
    },
    #[serde(rename = "consult.completed", rename_all = "camelCase")]
    ConsultCompleted { initiator_id: ParticipantId, target_id: ParticipantId },
    #[serde(rename = "consult.cancelled", rename_all = "camelCase")]
    ConsultCancelled { initiator_id: ParticipantId, target_id: ParticipantId },
    #[serde(rename = "wrapup.provisionalSaved", rename_all = "camelCase")]
    WrapupProvisionalSaved { participant_id: ParticipantId, wrapup: Wrapup },
    #[serde(rename = "wrapup.acwRequested", rename_all = "camelCase")]
    WrapupAcwRequested { participant_id: ParticipantId, wrapup: Wrapup },
    #[serde(rename = "wrapup.pending", rename_all = "camelCase")]
    WrapupPending { participant_id: ParticipantId, wrapup: Wrapup },
    #[serde(rename = "wrapup.set", rename_all = "camelCase")]
    WrapupSet { participant_id: ParticipantId, wrapup: Wrapup },
    #[serde(rename = "wrapup.skipped", rename_all = "camelCase")]
    WrapupSkipped { participant_id: ParticipantId, wrapup: Wrapup },
    #[serde(rename = "wrapup.timedOut", rename_all = "camelCase")]
    WrapupTimedOut { participant_id: ParticipantId, wrapup: Wrapup },
    #[serde(rename = "wrapup.amended", rename_all = "camelCase")]
    WrapupAmended { participant_id: ParticipantId, wrapup: Wrapup },
    #[serde(rename = "conversation.transferred", rename_all = "camelCase")]
    ConversationTransferred { from_participant_id: ParticipantId, to: TransferTarget, context_data: Option<Value> },
    /// `participant_id` set: the participant's string map (values `null` remove keys); else the conversation's.
    #[serde(rename = "attributes.updated", rename_all = "camelCase")]
    AttributesUpdated { participant_id: Option<ParticipantId>, patch: Value },
    #[serde(rename = "message.created", rename_all = "camelCase")]
    MessageCreated { message: Message, inactivity_deadline: Option<Timestamp> },
    #[serde(rename = "conversation.ended", rename_all = "camelCase")]
    ConversationEnded { reason: EndReason },
    #[serde(rename = "conversation.closed", rename_all = "camelCase")]
    ConversationClosed { disposition: Option<Disposition>, amendable_until: Timestamp },
}

impl EventData {
    pub fn type_name(&self) -> &'static str {
        match self {
            EventData::ConversationCreated(_) => "conversation.created",
            EventData::ParticipantQueued { .. } => "participant.queued",
            EventData::ParticipantAlerting { .. } => "participant.alerting",
            EventData::ParticipantConnected { .. } => "participant.connected",
            EventData::ParticipantDisconnected { .. } => "participant.disconnected",
            EventData::OfferWithdrawn { .. } => "participant.offerWithdrawn",
            EventData::ParticipantHeld { .. } => "participant.held",
            EventData::ParticipantUnheld { .. } => "participant.unheld",
            EventData::ConsultStarted { .. } => "consult.started",
            EventData::ConsultCompleted { .. } => "consult.completed",
            EventData::ConsultCancelled { .. } => "consult.cancelled",
            EventData::WrapupProvisionalSaved { .. } => "wrapup.provisionalSaved",
            EventData::WrapupAcwRequested { .. } => "wrapup.acwRequested",
            EventData::WrapupPending { .. } => "wrapup.pending",
            EventData::WrapupSet { .. } => "wrapup.set",
            EventData::WrapupSkipped { .. } => "wrapup.skipped",
            EventData::WrapupTimedOut { .. } => "wrapup.timedOut",
            EventData::WrapupAmended { .. } => "wrapup.amended",
            EventData::ConversationTransferred { .. } => "conversation.transferred",
            EventData::AttributesUpdated { .. } => "attributes.updated",
            EventData::MessageCreated { .. } => "message.created",
            EventData::ConversationEnded { .. } => "conversation.ended",
            EventData::ConversationClosed { .. } => "conversation.closed",
        }
    }
}
