//! Blind transfer: agent to queue or user, queued work moved by a supervisor, inline wrap-up, limits.

use crate::support::*;
use serde_json::json;
use switchboard_core::command::TransferTarget;
use switchboard_core::{
    AcwPolicy, Command, ConversationState, EndReason, Load, MediaType, ParticipantState, Purpose, Rejection,
    StateReason, WrapupInput, WrapupStatus,
};

#[test]
fn blind_transfer_to_a_queue() {
    let mut w = World::default();
    w.create(switchboard_core::command::CreateConversation {
        attributes: Some(json!({"lang": "en", "case": {"id": 1}})),
        ..inbound(MediaType::Voice, "q-mandatory")
    });
    let alice = w.connect("alice");
    let old_acd = w.acd().id.clone();
    w.advance(20_000);
    let cmd = Command::Transfer {
        from_participant_id: alice.clone(),
        to: to_queue("q-timeout"),
        context_data: Some(json!({"case": {"priority": "high"}, "lang": null})),
        wrapup: None,
    };
    w.exec(&agent("alice"), cmd);
    assert_eq!(
        w.last_types(),
        ["conversation.transferred", "participant.queued", "participant.disconnected", "wrapup.pending"]
    );
    let a = w.p(&alice);
    assert_eq!((a.state_reason, a.disconnected_at), (Some(StateReason::Transfer), Some(at(20_000))));
    assert_eq!(w.wrapup(&alice).status, WrapupStatus::Pending, "the source does its own wrap-up (mandatory)");
    let acd = w.acd();
    assert_ne!(acd.id, old_acd);
    assert_eq!(
        (acd.state, acd.queue_id.as_deref(), acd.queued_at),
        (ParticipantState::Queued, Some("q-timeout"), Some(at(20_000)))
    );
    assert_eq!(w.conv().attributes, json!({"case": {"id": 1, "priority": "high"}}), "RFC 7396 merge");
    assert_eq!(w.conv().transfer_count, 1);
    assert_eq!(w.state(), ConversationState::Active);
    // The next agent's wrap-up follows the new queue.
    let bob = w.connect("bob");
    assert_eq!(w.wrapup(&bob).policy, AcwPolicy::MandatoryTimeout);
    w.exec(&agent("alice"), set_code(&alice, "c-sale"));
    assert_eq!(w.wrapup(&alice).status, WrapupStatus::Set);
    assert_eq!(w.state(), ConversationState::Active, "bob is still connected");
}

#[test]
fn blind_transfer_with_an_inline_wrapup() {
    let mut w = World::default();
    let (_, alice) = w.connected_call("q-mandatory", "alice");
    let cmd = Command::Transfer {
        from_participant_id: alice.clone(),
        to: to_queue("q-optional"),
        context_data: None,
        wrapup: Some(WrapupInput::code("c-support")),
    };
    w.exec(&agent("alice"), cmd);
    let wr = w.wrapup(&alice);
    assert_eq!((wr.status, wr.code_id.as_deref()), (WrapupStatus::Set, Some("c-support")));
    // An inline code that is not allowed refuses the whole transfer.
    let mut w = World::default();
    let (_, alice) = w.connected_call("q-mandatory", "alice");
    let cmd = Command::Transfer {
        from_participant_id: alice.clone(),
        to: to_queue("q-optional"),
        context_data: None,
        wrapup: Some(WrapupInput::code("c-other")),
    };
    let r = w.reject(&agent("alice"), cmd);
    assert!(matches!(r, Rejection::CodeNotAllowed { .. }), "{r:?}");
    assert_eq!(w.p(&alice).state, ParticipantState::Connected);
}

#[test]
fn blind_transfer_to_a_user_offers_directly_and_falls_back_to_the_last_queue() {
    let mut w = World::default();
    let (_, alice) = w.connected_call("q-mandatory", "alice");
    w.exec(&agent("alice"), transfer(&alice, to_user("bob")));
    let bob = w.agent_of("bob").clone();
    assert_eq!((bob.state, bob.direct), (ParticipantState::Alerting, true));
    assert_eq!(bob.queue_id.as_deref(), Some("q-mandatory"), "the wrap-up queue is the last acd queue");
    assert_eq!(w.p(&alice).state_reason, Some(StateReason::Transfer));
    let acds = |w: &World| w.conv().participants.iter().filter(|p| p.purpose == Purpose::Acd).count();
    assert_eq!(acds(&w), 1);
    w.exec(&agent("bob"), Command::Decline { participant_id: bob.id.clone() });
    let acd = w.acd();
    assert_eq!((acd.state, acd.queue_id.as_deref()), (ParticipantState::Queued, Some("q-mandatory")));
    assert_eq!(acds(&w), 2, "a new acd entry");
    assert_eq!(w.state(), ConversationState::Active);
}

#[test]
fn a_direct_transfer_answered_uses_the_last_queue_policy() {
    let mut w = World::default();
    let (_, alice) = w.connected_call("q-timeout", "alice");
    w.exec(&agent("alice"), transfer(&alice, to_user("carol")));
    let carol = w.agent_of("carol").id.clone();
    w.exec(&agent("carol"), Command::Answer { participant_id: carol.clone() });
    assert_eq!(w.wrapup(&carol).policy, AcwPolicy::MandatoryTimeout);
    let r = w.reject(&agent("carol"), set_code(&carol, "c-other"));
    assert!(matches!(r, Rejection::CodeNotAllowed { .. }), "{r:?}");
}

#[test]
fn transfer_to_a_user_at_capacity_changes_nothing() {
    let mut w = World::default();
    let (_, alice) = w.connected_call("q-mandatory", "alice");
    w.dir.loads.insert("bob".into(), Load { voice: 1, message: 0 });
    let version = w.conv().version;
    let r = w.reject(&agent("alice"), transfer(&alice, to_user("bob")));
    assert!(matches!(r, Rejection::Conflict { code: "target_at_capacity", .. }), "{r:?}");
    assert_eq!((w.conv().version, w.p(&alice).state), (version, ParticipantState::Connected));
}

#[test]
fn a_supervisor_moves_queued_work() {
    let mut w = World::default();
    w.create(inbound(MediaType::Voice, "q-optional"));
    let old = w.acd().id.clone();
    let offer = w.offer("alice");
    let r = w.reject(&agent("alice"), transfer(&old, to_queue("q-mandatory")));
    assert!(matches!(r, Rejection::Forbidden { .. }), "{r:?}");
    w.exec(&supervisor(), transfer(&old, to_queue("q-mandatory")));
    assert_eq!(w.p(&old).state_reason, Some(StateReason::Transfer));
    assert!(!w.p(&old).abandoned);
    let o = w.p(&offer);
    assert_eq!((o.withdrawn, o.state_reason), (true, Some(StateReason::System)), "the acd's offer is withdrawn");
    assert!(w.last_effects.is_empty());
    assert_eq!(w.acd().queue_id.as_deref(), Some("q-mandatory"));
    assert_eq!(w.acd().state, ParticipantState::Queued);
    // A client with conversations:write may move queued work as well.
    let acd = w.acd().id.clone();
    w.exec(&client(&[switchboard_core::Scope::ConversationsWrite]), transfer(&acd, to_user("carol")));
    assert_eq!(w.agent_of("carol").state, ParticipantState::Alerting);
    assert_eq!(w.p(&acd).state_reason, Some(StateReason::Transfer));
}

#[test]
fn transfer_needs_a_connected_source_and_a_live_conversation() {
    let mut w = World::default();
    w.create(inbound(MediaType::Voice, "q-optional"));
    let offer = w.offer("alice");
    let r = w.reject(&agent("alice"), transfer(&offer, to_queue("q-none")));
    assert!(matches!(r, Rejection::InvalidTransition { .. }), "an alerting offer cannot transfer: {r:?}");
    w.exec(&agent("alice"), Command::Answer { participant_id: offer.clone() });
    let r = w.reject(&agent("bob"), transfer(&offer, to_queue("q-none")));
    assert!(matches!(r, Rejection::Forbidden { .. }), "{r:?}");
    let r = w.reject(&agent("alice"), transfer(&offer, to_queue("q-missing")));
    assert!(matches!(r, Rejection::Invalid { .. }), "{r:?}");
    let r = w.reject(&agent("alice"), transfer(&offer, TransferTarget::User { user_id: "nobody".into() }));
    assert!(matches!(r, Rejection::Invalid { .. }), "{r:?}");
    let cmd = Command::Transfer {
        from_participant_id: offer.clone(),
        to: to_queue("q-none"),
        context_data: Some(json!("not an object")),
        wrapup: None,
    };
    let r = w.reject(&agent("alice"), cmd);
    assert!(matches!(r, Rejection::Invalid { .. }), "{r:?}");
    w.hang_up("alice");
    assert_eq!(w.conv().end_reason, Some(EndReason::AgentEnded));
    let r = w.reject(&supervisor(), transfer(&offer, to_queue("q-none")));
    assert!(matches!(r, Rejection::InvalidTransition { .. }), "transfer after the media ended: {r:?}");
}

#[test]
fn the_org_limits_transfers() {
    let mut w = World::default();
    w.dir.settings.max_transfers = 1;
    let (_, alice) = w.connected_call("q-none", "alice");
    w.exec(&agent("alice"), transfer(&alice, to_queue("q-none")));
    let bob = w.connect("bob");
    let r = w.reject(&agent("bob"), transfer(&bob, to_queue("q-none")));
    assert!(matches!(r, Rejection::Invalid { .. }), "{r:?}");
}
