//! Why a command was refused: typed reasons that the API maps to problem+json in one place.

use crate::model::{CodeId, ParticipantId};
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Violation {
    pub pointer: String,
    pub message: String,
}

impl Violation {
    pub fn new(pointer: impl Into<String>, message: impl Into<String>) -> Self {
        Violation { pointer: pointer.into(), message: message.into() }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CodeRef {
    pub id: CodeId,
    pub name: String,
}

/// One participant's refused code (close may refuse several at once).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CodeRefusal {
    pub participant_id: ParticipantId,
    pub code_id: CodeId,
    pub pointer: String,
    pub allowed_codes: Vec<CodeRef>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Rejection {
    /// The conversation, a participant or another referenced entity does not exist (404).
    NotFound { what: &'static str, id: String },
    /// The caller may not do this to this participant (403).
    Forbidden { detail: String },
    /// The state forbids the action (409). `participant_id` names the participant whose state is wrong.
    InvalidTransition { detail: String, participant_id: Option<ParticipantId> },
    /// A 409 with its own stable code, e.g. `target_at_capacity`, `skip_not_allowed`.
    Conflict { code: &'static str, detail: String },
    /// `If-Match` named another version (412).
    VersionMismatch { current: u64 },
    /// A wrap-up code that is not allowed (422 with allowed codes per participant).
    CodeNotAllowed { refusals: Vec<CodeRefusal> },
    /// Well-formed but invalid input (422), every violation at once.
    Invalid { detail: String, violations: Vec<Violation> },
    /// The amendment window is over (409).
    AmendmentWindowClosed { amendable_until: Timestamp },
}

impl Rejection {
    pub fn invalid_transition(detail: impl Into<String>, participant_id: Option<&str>) -> Self {
        Rejection::InvalidTransition { detail: detail.into(), participant_id: participant_id.map(String::from) }
    }
    pub fn invalid(pointer: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        Rejection::Invalid {
            detail: format!("{pointer}: {message}"),
            violations: vec![Violation::new(pointer, message)],
        }
    }
    pub fn forbidden(detail: impl Into<String>) -> Self {
        Rejection::Forbidden { detail: detail.into() }
    }

    /// The stable machine-readable code API.md puts in problem bodies.
    pub fn code(&self) -> &'static str {
        match self {
            Rejection::NotFound { .. } => "not_found",
            Rejection::Forbidden { .. } => "forbidden",
            Rejection::InvalidTransition { .. } => "invalid_transition",
            Rejection::Conflict { code, .. } => code,
            Rejection::VersionMismatch { .. } => "version_mismatch",
            Rejection::CodeNotAllowed { .. } => "wrapup_code_not_allowed",
            Rejection::Invalid { .. } => "validation_failed",
            Rejection::AmendmentWindowClosed { .. } => "amendment_window_closed",
        }
    }
}
