//! The imperative shell around core: one writer thread with group commit over a `Store`, routing, durable
//! timers, idempotency, and the read side for adapters.

mod aggregate;
pub mod bus;
pub mod clock;
mod config_cmds;
pub mod deployments;
pub mod error;
mod handle;
pub mod orgs;
pub mod requests;
mod routing;
pub mod schemas;
pub mod sessions;
mod state;
mod timers;
mod view;
pub mod webhooks;
mod worker;

pub use aggregate::{AggregateGroup, AggregateRequest, Granularity, Stats, TimeZone};
pub use bus::{EventBus, Frame, InProcessBus, Lagged, Subscription};
pub use clock::{Clock, ManualClock, SystemClock, wall_clock_ms};
pub use error::EngineError;
pub use handle::{ConversationList, Engine, EngineOptions};
pub use orgs::OrgConfig;
pub use requests::*;
pub use state::{analytics_row, conversation_row, envelope, refs_of};
pub use switchboard_store::{
    AggregateCell, AggregateQuery, AuditQuery, AuditRow, ConversationFilter, DeliveryRow, DetailsPage, DetailsQuery,
};
