//! The `switchboard` binary's library: configuration, server wiring (bootstrap, demo seed) and commands,
//! exposed so integration tests start the real server on port 0.

pub mod analytics_cmd;
pub mod bench;
pub mod demo;
pub mod server;
