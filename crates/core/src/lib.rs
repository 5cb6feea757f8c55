//! Switchboard's pure core: the conversation model, `decide` and `evolve`, routing rules and derived timers.
//! No I/O, no clock reads, no async: time and new ids are inputs (see ARCHITECTURE.md).

pub mod actor;
pub mod allowed;
pub mod analytics;
pub mod command;
pub mod config;
pub mod decide;
pub mod directory;
pub mod event;
pub mod evolve;
pub mod explain;
pub mod model;
pub mod rejection;
pub mod routing;
pub mod time;
pub mod timers;

pub use actor::{Actor, Scope, Scopes};
pub use command::{Command, Patch, WrapupInput};
pub use decide::{AgentEffect, Ctx, Decision, allowed_codes, decide};
pub use directory::{Directory, Load};
pub use event::{Event, EventData};
pub use evolve::{evolve, replay};
pub use model::*;
pub use rejection::{CodeRef, CodeRefusal, Rejection, Violation};
pub use time::Timestamp;
