//! `allowedActions`: the command names that would succeed for this caller now (API.md), as core computes them.

use crate::support::*;
use serde_json::json;
use switchboard_core::allowed::allowed_actions;
use switchboard_core::{Actor, Command, MediaType, Rejection, Scope};

fn allowed(w: &World, actor: &Actor) -> Vec<&'static str> {
    allowed_actions(w.conv(), actor, w.now)
}

#[test]
fn an_alerting_agent_may_answer_decline_and_hang_up() {
    let mut w = World::default();
    w.create(inbound(MediaType::Voice, "q-mandatory"));
    w.offer("alice");
    let expected = ["answer", "decline", "disconnect", "updateAttributes", "updateParticipantAttributes"];
    assert_eq!(allowed(&w, &agent("alice")), expected);
    assert!(allowed(&w, &agent("bob")).is_empty(), "bob has no participant here");
    let sup = allowed(&w, &supervisor());
    for name in ["answer", "close", "disconnect", "transfer", "updateAttributes"] {
        assert!(sup.contains(&name), "{name} missing for the supervisor: {sup:?}");
    }
}

#[test]
fn a_closed_conversation_only_offers_amendments_within_the_window() {
    let mut w = World::default();
    w.connected_call("q-none", "alice");
    w.hang_up("alice");
    assert!(allowed(&w, &agent("alice")).is_empty(), "the agent cannot amend");
    assert_eq!(allowed(&w, &supervisor()), ["amendWrapup"]);
    assert_eq!(allowed(&w, &client(&[Scope::WrapupAmend])), ["amendWrapup"]);
    w.advance(30 * DAY_MS + 1);
    assert!(allowed(&w, &supervisor()).is_empty());
}

#[test]
fn a_pending_optional_wrapup_may_be_set_or_skipped_by_its_agent() {
    let mut w = World::default();
    w.connected_call("q-optional", "alice");
    w.hang_up("alice");
    let expected = ["setWrapup", "skipWrapup", "updateAttributes", "updateParticipantAttributes"];
    assert_eq!(allowed(&w, &agent("alice")), expected);
    assert_eq!(allowed(&w, &client(&[Scope::WrapupWrite])), ["setWrapup", "skipWrapup"]);
}

/// Found by the `allowed_actions_agree_with_decide` property: `requestAcw` is acting on the participant (the API
/// asks for `conversations:write`), so a client with that scope but without `wrapup:write` may request ACW.
#[test]
fn request_acw_is_listed_for_a_writing_client_without_wrapup_write() {
    let mut w = World::default();
    let (_, ag) = w.connected_call("q-requested", "alice");
    let writer = client(&[Scope::ConversationsWrite]);
    assert!(allowed(&w, &writer).contains(&"requestAcw"), "{:?}", allowed(&w, &writer));
    assert!(!allowed(&w, &writer).contains(&"setWrapup"));
    w.exec(&writer, Command::RequestAcw { participant_id: ag, required: true });
}

/// Found by the same property: a client with only `conversations:participate` acts on its own participants
/// only, so moving queued work or editing a conversation it is not part of is not offered (decide refuses both).
#[test]
fn a_participate_only_client_is_not_offered_what_decide_refuses() {
    let mut w = World::default();
    w.create(inbound(MediaType::Voice, "q-optional"));
    let bot = client(&[Scope::ConversationsParticipate]);
    assert!(allowed(&w, &bot).is_empty(), "{:?}", allowed(&w, &bot));
    let acd = w.acd().id.clone();
    let r = w.reject(&bot, transfer(&acd, to_queue("q-none")));
    assert!(matches!(r, Rejection::Forbidden { .. }), "{r:?}");
    let r = w.reject(&bot, Command::UpdateAttributes { patch: json!({"k": 1}) });
    assert!(matches!(r, Rejection::Forbidden { .. }), "{r:?}");
}

/// A participate-only client drives the participants it created: the customer it brought in.
#[test]
fn a_client_owns_the_customer_it_created() {
    let mut w = World::default();
    let gateway = client(&[Scope::ConversationsParticipate]);
    w.exec(&gateway, Command::Create(inbound(MediaType::Voice, "q-optional")));
    assert_eq!(w.customer().client_id.as_deref(), Some("client-1"));
    assert_eq!(allowed(&w, &gateway), ["disconnect", "updateAttributes", "updateParticipantAttributes"]);
    let cust = w.customer().id.clone();
    w.exec(&gateway, disconnect(&cust));
    assert_eq!(w.customer().state_reason, Some(switchboard_core::StateReason::Client), "docs/RULES.md: whose customer");
    assert!(w.acd().abandoned);
}
