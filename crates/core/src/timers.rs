//! Durable timers derived from conversation state: the set of timers that must exist is a function of the
//! snapshot, so a command that makes a timer moot removes it in the same commit.

use crate::model::{Conversation, MediaType, ParticipantId, ParticipantState, WrapupStatus};
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum TimerKind {
    #[serde(rename_all = "camelCase")]
    Alerting {
        participant_id: ParticipantId,
    },
    #[serde(rename_all = "camelCase")]
    WrapupDeadline {
        participant_id: ParticipantId,
    },
    Inactivity,
}

impl TimerKind {
    /// The timer's name as the audit trail records it (`timer.<name>`).
    pub fn name(&self) -> &'static str {
        match self {
            TimerKind::Alerting { .. } => "alertingTimeout",
            TimerKind::WrapupDeadline { .. } => "wrapupDeadline",
            TimerKind::Inactivity => "inactivity",
        }
    }

    /// A stable key, unique within a conversation.
    pub fn key(&self) -> String {
        match self {
            TimerKind::Alerting { participant_id } => format!("alerting:{participant_id}"),
            TimerKind::WrapupDeadline { participant_id } => format!("wrapup:{participant_id}"),
            TimerKind::Inactivity => "inactivity".into(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DueTimer {
    pub kind: TimerKind,
    pub due_at: Timestamp,
}

pub fn due_timers(conv: &Conversation) -> Vec<DueTimer> {
    let mut out = Vec::new();
    for p in &conv.participants {
        if p.state == ParticipantState::Alerting
            && let Some(due_at) = p.alerting_deadline
        {
            out.push(DueTimer { kind: TimerKind::Alerting { participant_id: p.id.clone() }, due_at });
        }
        if let Some(w) = &p.wrapup
            && w.status == WrapupStatus::Pending
            && let Some(due_at) = w.deadline
        {
            out.push(DueTimer { kind: TimerKind::WrapupDeadline { participant_id: p.id.clone() }, due_at });
        }
    }
    if conv.media_type == MediaType::Message
        && conv.ended_at.is_none()
        && let Some(due_at) = conv.inactivity_deadline
    {
        out.push(DueTimer { kind: TimerKind::Inactivity, due_at });
    }
    out
}
