//! The engine's one error type: a typed rejection from core, or a real fault.

use std::sync::Arc;
use switchboard_core::{Conversation, Rejection};
use switchboard_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The command was refused; `conversation` is the current state, for `state`/`allowedActions` in errors.
    #[error("rejected: {rejection:?}")]
    Rejected { rejection: Rejection, conversation: Option<Arc<Conversation>> },
    /// The same Idempotency-Key was used with another request body.
    #[error("the Idempotency-Key was already used with another request body")]
    IdempotencyMismatch,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("stored data could not be decoded: {0}")]
    Decode(String),
    /// An OAuth grant refused (RFC 6749 error code and a sentence for people).
    #[error("{error}: {description}")]
    Auth { error: &'static str, description: String },
    #[error("the engine is shutting down")]
    Unavailable,
}

impl EngineError {
    pub fn rejected(rejection: Rejection) -> Self {
        EngineError::Rejected { rejection, conversation: None }
    }
    pub fn not_found(what: &'static str, id: &str) -> Self {
        EngineError::rejected(Rejection::NotFound { what, id: id.to_string() })
    }
}

impl From<serde_json::Error> for EngineError {
    fn from(e: serde_json::Error) -> Self {
        EngineError::Decode(e.to_string())
    }
}
