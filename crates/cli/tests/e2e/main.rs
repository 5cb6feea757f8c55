//! End-to-end tests: the real `switchboard` server on port 0, real HTTP, real SQLite, manual clock.

mod analytics;
mod auth;
mod bad_input;
mod events;
mod genesys;
mod guest;
mod handover;
mod harness;
mod identity;
mod lifecycle;
mod receiver;
mod routing;
mod tenancy;
mod timers;
mod webhooks;
