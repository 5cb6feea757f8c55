//! Scenario tests of DOMAIN.md's commands and rules through `decide`, one module per area. Every step also
//! asserts the invariants (see `support::World`).

mod support;

#[path = "scenarios/allowed.rs"]
mod allowed;
#[path = "scenarios/close.rs"]
mod close;
#[path = "scenarios/consult.rs"]
mod consult;
#[path = "scenarios/create.rs"]
mod create;
#[path = "scenarios/handover.rs"]
mod handover;
#[path = "scenarios/messages.rs"]
mod messages;
#[path = "scenarios/offers.rs"]
mod offers;
#[path = "scenarios/transfer.rs"]
mod transfer;
#[path = "scenarios/wrapup.rs"]
mod wrapup;
