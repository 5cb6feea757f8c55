//! What the rules may look up besides the conversation itself: the org's configuration and agents' load.

use crate::config::{OrgSettings, Queue, User, WrapupCode};
use crate::model::MediaType;

/// An agent's current load per media (alerting, connected, or disconnected with a pending wrap-up).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Load {
    pub voice: u32,
    pub message: u32,
}

impl Load {
    pub fn total(self) -> u32 {
        self.voice + self.message
    }
    pub fn for_media(self, m: MediaType) -> u32 {
        match m {
            MediaType::Voice => self.voice,
            MediaType::Message => self.message,
        }
    }
    pub fn add(&mut self, m: MediaType, delta: i32) {
        let slot = match m {
            MediaType::Voice => &mut self.voice,
            MediaType::Message => &mut self.message,
        };
        *slot = slot.saturating_add_signed(delta);
    }
}

/// One org's configuration as seen by `decide`. The engine implements it over its in-memory config.
pub trait Directory {
    fn settings(&self) -> &OrgSettings;
    fn queue(&self, id: &str) -> Option<&Queue>;
    fn code(&self, id: &str) -> Option<&WrapupCode>;
    /// Every code of the org, archived and system ones included.
    fn codes(&self) -> Vec<&WrapupCode>;
    fn user(&self, id: &str) -> Option<&User>;
    fn user_load(&self, user_id: &str) -> Load;
    /// Violations of a context document against a queue's `contextSchema` (none without a schema), with
    /// JSON pointers into the document.
    fn context_violations(&self, _queue_id: &str, _doc: &serde_json::Value) -> Vec<crate::Violation> {
        Vec::new()
    }
}
