//! Route groups of the native API, one module per resource family.

pub mod admin;
pub mod analytics;
pub mod audit;
pub mod authorize;
pub mod config;
pub mod conversations;
pub mod deployments;
pub mod events;
pub mod guest;
pub mod guest_limits;
pub mod ops;
pub mod token;
pub mod users;
pub mod webhooks;
