//! Hold and consult transfer (voice): hold/unhold, consult to a user or a queue, completeConsult, cancelConsult,
//! a target that declines or times out, an initiator or target hanging up, and what each is refused.

use crate::support::*;
use switchboard_core::allowed::allowed_actions;
use switchboard_core::command::TransferTarget;
use switchboard_core::timers::TimerKind;
use switchboard_core::{
    AcwPolicy, Command, ConversationState, EndReason, EventData, MediaType, ParticipantState, Purpose, Rejection,
    StateReason, WrapupStatus,
};

/// A voice call on `queue` connected to alice, with alice consulting bob directly: (customer, alice, bob).
fn consulting_bob(queue: &str) -> (World, String, String, String) {
    let mut w = World::default();
    let (cust, alice) = w.connected_call(queue, "alice");
    w.advance(1_000);
    w.exec(&agent("alice"), consult(&alice, to_user("bob")));
    let bob = w.agent_of("bob").id.clone();
    (w, cust, alice, bob)
}

fn acds(w: &World) -> usize {
    w.conv().participants.iter().filter(|p| p.purpose == Purpose::Acd).count()
}

fn is_invalid_transition(r: &Rejection) -> bool {
    matches!(r, Rejection::InvalidTransition { .. })
}

#[test]
fn hold_and_unhold_flag_the_customer() {
    let mut w = World::default();
    let (cust, alice) = w.connected_call("q-optional", "alice");
    w.advance(5_000);
    w.exec(&agent("alice"), hold(&alice));
    assert_eq!(w.last_types(), ["participant.held"]);
    assert!(matches!(&w.last_events[0].data,
        EventData::ParticipantHeld { participant_id, by } if *participant_id == cust && *by == alice));
    assert_eq!((w.customer().held, w.customer().held_since), (true, Some(at(5_000))));
    assert!(allowed_actions(w.conv(), &agent("alice"), w.now).contains(&"unhold"));
    let r = w.reject(&agent("alice"), hold(&alice));
    assert!(matches!(&r, Rejection::InvalidTransition { participant_id: Some(p), .. } if *p == cust), "409: {r:?}");
    w.advance(1_000);
    w.exec(&agent("alice"), unhold(&alice));
    assert_eq!(w.last_types(), ["participant.unheld"]);
    assert_eq!((w.customer().held, w.customer().held_since), (false, None));
    let r = w.reject(&agent("alice"), unhold(&alice));
    assert!(is_invalid_transition(&r), "not on hold: {r:?}");
    // Someone else's agent may not hold; a supervisor may, for the agent.
    let r = w.reject(&agent("bob"), hold(&alice));
    assert!(matches!(r, Rejection::Forbidden { .. }), "{r:?}");
    w.exec(&supervisor(), hold(&alice));
    // A held customer who hangs up is no longer held.
    w.exec(&guest(), disconnect(&cust));
    assert_eq!((w.customer().held, w.customer().held_since), (false, None));
    assert_eq!(w.conv().end_reason, Some(EndReason::CustomerLeft));
}

#[test]
fn hold_is_for_a_connected_agent_on_voice() {
    let mut w = World::default();
    w.create(inbound(MediaType::Voice, "q-optional"));
    let offer = w.offer("alice");
    let r = w.reject(&agent("alice"), hold(&offer));
    assert!(is_invalid_transition(&r), "an alerting agent cannot hold: {r:?}");
    let cust = w.customer().id.clone();
    let acd = w.acd().id.clone();
    let r = w.reject(&system(), hold(&cust));
    assert!(is_invalid_transition(&r), "the customer does not hold itself: {r:?}");
    let r = w.reject(&supervisor(), hold(&acd));
    assert!(is_invalid_transition(&r), "{r:?}");
    let r = w.reject(&agent("alice"), hold("p-missing"));
    assert!(matches!(r, Rejection::NotFound { .. }), "{r:?}");
    // Message media: no hold, no consult.
    let mut w = World::default();
    w.create(inbound(MediaType::Message, "q-chat"));
    let alice = w.connect("alice");
    for cmd in [hold(&alice), unhold(&alice), consult(&alice, to_user("bob"))] {
        let r = w.reject(&agent("alice"), cmd);
        assert!(is_invalid_transition(&r), "{r:?}");
    }
    assert!(!allowed_actions(w.conv(), &agent("alice"), w.now).contains(&"hold"));
}

#[test]
fn consult_to_a_user_holds_the_customer_and_alerts_the_target() {
    let (w, cust, alice, bob) = consulting_bob("q-mandatory");
    assert_eq!(w.last_types(), ["participant.held", "participant.alerting", "consult.started"]);
    let started = w.last_events.iter().find_map(|e| match &e.data {
        EventData::ConsultStarted { initiator_id, target_id, to, context_data } => {
            Some((initiator_id.clone(), target_id.clone(), to.clone(), context_data.clone()))
        }
        _ => None,
    });
    assert_eq!(started, Some((alice.clone(), bob.clone(), to_user("bob"), None)));
    assert!(w.customer().held);
    assert!(matches!(&w.last_events[0].data, EventData::ParticipantHeld { participant_id, by }
        if *participant_id == cust && *by == alice));
    let b = w.p(&bob);
    assert_eq!((b.state, b.direct, b.consult_for.as_deref()), (ParticipantState::Alerting, true, Some(alice.as_str())));
    assert_eq!(b.queue_id.as_deref(), Some("q-mandatory"), "a direct target's wrap-up queue is the last acd queue");
    assert_eq!(b.alerting_deadline, Some(at(1_000 + 30_000)), "the org's direct alerting timeout");
    assert_eq!(w.p(&alice).state, ParticipantState::Connected);
    assert_eq!(w.conv().transfer_count, 0, "a consult counts as a transfer only when it completes");
    let actions = allowed_actions(w.conv(), &agent("alice"), w.now);
    assert!(actions.contains(&"cancelConsult"), "{actions:?}");
    for name in ["completeConsult", "unhold", "hold", "consult", "transfer"] {
        assert!(!actions.contains(&name), "{name} listed during a consult: {actions:?}");
    }
    assert_eq!(allowed_actions(w.conv(), &agent("bob"), w.now)[..3], ["answer", "decline", "disconnect"]);
}

#[test]
fn complete_consult_hands_the_customer_to_the_target() {
    let (mut w, cust, alice, bob) = consulting_bob("q-mandatory");
    w.exec(&agent("bob"), Command::Answer { participant_id: bob.clone() });
    assert_eq!(w.last_types(), ["participant.connected"]);
    assert!(w.customer().held, "still held while the agents talk");
    assert!(allowed_actions(w.conv(), &agent("alice"), w.now).contains(&"completeConsult"));
    w.advance(2_000);
    w.exec(&agent("alice"), complete_consult(&alice));
    assert_eq!(
        w.last_types(),
        ["consult.completed", "participant.unheld", "participant.disconnected", "wrapup.pending"]
    );
    let a = w.p(&alice);
    assert_eq!((a.state_reason, a.disconnected_at), (Some(StateReason::TransferConsult), Some(at(3_000))));
    let wa = w.wrapup(&alice);
    assert_eq!((wa.policy, wa.status), (AcwPolicy::Mandatory, WrapupStatus::Pending), "alice's own queue policy");
    assert!(!w.customer().held);
    assert!(matches!(&w.last_events[1].data, EventData::ParticipantUnheld { participant_id, by }
        if *participant_id == cust && *by == bob));
    assert_eq!(w.conv().transfer_count, 1);
    assert_eq!((w.p(&bob).state, w.state()), (ParticipantState::Connected, ConversationState::Active));
    assert_eq!(w.wrapup(&bob).policy, AcwPolicy::Mandatory);
    w.hang_up("bob");
    assert_eq!(w.conv().end_reason, Some(EndReason::AgentEnded));
    assert_eq!(w.p(&bob).state_reason, Some(StateReason::Client));
}

#[test]
fn complete_consult_applies_each_initiator_policy() {
    // policy none: notRequired at once; a timed policy: pending with its deadline.
    let (mut w, _, alice, bob) = consulting_bob("q-none");
    w.exec(&agent("bob"), Command::Answer { participant_id: bob });
    w.exec(&agent("alice"), complete_consult(&alice));
    assert_eq!(w.last_types(), ["consult.completed", "participant.unheld", "participant.disconnected"]);
    assert_eq!(w.wrapup(&alice).status, WrapupStatus::NotRequired);
    let (mut w, _, alice, bob) = consulting_bob("q-timeout");
    w.exec(&agent("bob"), Command::Answer { participant_id: bob });
    w.exec(&supervisor(), complete_consult(&alice));
    let wa = w.wrapup(&alice);
    assert_eq!((wa.status, wa.deadline), (WrapupStatus::Pending, Some(at(1_000 + 60_000))));
    assert_eq!(w.p(&alice).state_reason, Some(StateReason::TransferConsult), "also when a supervisor completes");
}

/// Regression: the target keeps `consultFor` after the consult completed, and core once treated that as a
/// consult still in progress, so the new owner could not unhold or consult, a second complete or cancel
/// was accepted (cancel disconnected the new owner and left the customer with no handler), and its hang-up
/// emitted a spurious `consult.cancelled`.
#[test]
fn after_a_completed_consult_the_new_owner_is_a_normal_agent() {
    let (mut w, _, alice, bob) = consulting_bob("q-optional");
    w.exec(&agent("bob"), Command::Answer { participant_id: bob.clone() });
    w.exec(&agent("alice"), complete_consult(&alice));
    for cmd in [complete_consult(&alice), cancel_consult(&alice)] {
        let r = w.reject(&supervisor(), cmd);
        assert!(is_invalid_transition(&r), "the consult is over: {r:?}");
    }
    w.exec(&agent("bob"), hold(&bob));
    w.exec(&agent("bob"), unhold(&bob));
    assert_eq!(w.last_types(), ["participant.unheld"]);
    w.exec(&agent("bob"), consult(&bob, to_user("carol")));
    assert_eq!(w.agent_of("carol").consult_for.as_deref(), Some(bob.as_str()));
    w.exec(&agent("bob"), cancel_consult(&bob));
    w.hang_up("bob");
    assert!(!w.last_types().contains(&"consult.cancelled"), "{:?}", w.last_types());
    assert_eq!(w.conv().end_reason, Some(EndReason::AgentEnded));
}

#[test]
fn cancel_consult_with_the_target_alerting_withdraws_the_offer() {
    let (mut w, _, alice, bob) = consulting_bob("q-mandatory");
    w.advance(3_000);
    w.exec(&agent("alice"), cancel_consult(&alice));
    assert_eq!(
        w.last_types(),
        ["participant.offerWithdrawn", "participant.disconnected", "consult.cancelled", "participant.unheld"]
    );
    let b = w.p(&bob);
    assert_eq!((b.state_reason, b.withdrawn, b.wrapup.is_none()), (Some(StateReason::System), true, true));
    assert!(!w.customer().held);
    assert_eq!((w.p(&alice).state, w.conv().transfer_count), (ParticipantState::Connected, 0));
    assert!(w.due().is_empty(), "the target's alerting timer is moot");
    let r = w.reject(&agent("alice"), cancel_consult(&alice));
    assert!(is_invalid_transition(&r), "nothing left to cancel: {r:?}");
}

#[test]
fn cancel_consult_with_the_target_connected_ends_the_target_with_its_wrapup() {
    let (mut w, _, alice, bob) = consulting_bob("q-mandatory");
    w.exec(&agent("bob"), Command::Answer { participant_id: bob.clone() });
    w.exec(&agent("alice"), cancel_consult(&alice));
    assert_eq!(
        w.last_types(),
        ["participant.disconnected", "wrapup.pending", "consult.cancelled", "participant.unheld"]
    );
    let b = w.p(&bob);
    assert_eq!((b.state_reason, b.withdrawn), (Some(StateReason::System), false));
    assert_eq!((w.wrapup(&bob).policy, w.wrapup(&bob).status), (AcwPolicy::Mandatory, WrapupStatus::Pending));
    assert!(!w.customer().held);
    assert_eq!((w.p(&alice).state, w.conv().transfer_count), (ParticipantState::Connected, 0));
    // The target's agent cannot cancel (it is the initiator's command); bob was not consulting anyone.
    let r = w.reject(&agent("bob"), cancel_consult(&alice));
    assert!(matches!(r, Rejection::Forbidden { .. }), "{r:?}");
}

#[test]
fn a_direct_target_that_declines_or_times_out_cancels_the_consult() {
    let (mut w, _, alice, bob) = consulting_bob("q-mandatory");
    w.exec(&agent("bob"), Command::Decline { participant_id: bob.clone() });
    assert_eq!(w.last_types(), ["participant.disconnected", "consult.cancelled", "participant.unheld"]);
    assert_eq!(w.p(&bob).state_reason, Some(StateReason::Declined));
    assert_eq!(acds(&w), 1, "no fallback acd for a consult");
    assert!(!w.customer().held);
    assert_eq!(w.p(&alice).state, ParticipantState::Connected);

    let (mut w, _, alice, bob) = consulting_bob("q-mandatory");
    w.fire(TimerKind::Alerting { participant_id: bob.clone() });
    assert_eq!(w.last_types(), ["participant.disconnected", "consult.cancelled", "participant.unheld"]);
    assert_eq!(w.p(&bob).state_reason, Some(StateReason::NoAnswer));
    assert!(w.last_effects.is_empty(), "a direct offer does not make the agent notResponding");
    assert_eq!((acds(&w), w.customer().held), (1, false));
    assert_eq!(w.p(&alice).state, ParticipantState::Connected);
    // The bot-less, acd-less path too: alice is still the handler, so the call goes on.
    assert_eq!(w.state(), ConversationState::Active);
}

#[test]
fn the_connected_target_hanging_up_cancels_the_consult() {
    let (mut w, _, alice, bob) = consulting_bob("q-optional");
    w.exec(&agent("bob"), Command::Answer { participant_id: bob.clone() });
    w.hang_up("bob");
    assert_eq!(
        w.last_types(),
        ["participant.disconnected", "wrapup.pending", "consult.cancelled", "participant.unheld"]
    );
    assert_eq!(w.p(&bob).state_reason, Some(StateReason::Client));
    assert!(!w.customer().held);
    assert_eq!((w.p(&alice).state, w.conv().transfer_count), (ParticipantState::Connected, 0));
}

#[test]
fn the_initiator_hanging_up_completes_with_a_connected_target() {
    let (mut w, _, alice, bob) = consulting_bob("q-optional");
    w.exec(&agent("bob"), Command::Answer { participant_id: bob.clone() });
    w.hang_up("alice");
    assert_eq!(
        w.last_types(),
        ["consult.completed", "participant.unheld", "participant.disconnected", "wrapup.pending"]
    );
    assert_eq!(w.p(&alice).state_reason, Some(StateReason::TransferConsult), "her hanging up completed the consult");
    assert_eq!(w.metric_count("nTransferred"), 1, "a completed consult counts as a transfer");
    assert_eq!((w.conv().transfer_count, w.customer().held), (1, false));
    assert_eq!((w.p(&bob).state, w.state()), (ParticipantState::Connected, ConversationState::Active));
}

#[test]
fn the_initiator_hanging_up_cancels_an_unanswered_consult_and_tears_down() {
    let (mut w, cust, alice, bob) = consulting_bob("q-none");
    w.hang_up("alice");
    assert_eq!(
        w.last_types(),
        [
            "participant.offerWithdrawn",
            "participant.disconnected",
            "consult.cancelled",
            "participant.unheld",
            "participant.disconnected",
            "participant.disconnected",
            "conversation.ended",
            "conversation.closed"
        ]
    );
    assert_eq!((w.p(&bob).withdrawn, w.p(&alice).state_reason), (true, Some(StateReason::Client)));
    assert_eq!(w.p(&cust).state_reason, Some(StateReason::Peer));
    assert_eq!((w.conv().end_reason, w.state()), (Some(EndReason::AgentEnded), ConversationState::Closed));
    assert_eq!(w.conv().transfer_count, 0);
}

#[test]
fn complete_needs_an_answered_consult_and_transfer_waits_for_its_end() {
    let (mut w, _, alice, bob) = consulting_bob("q-optional");
    let r = w.reject(&agent("alice"), complete_consult(&alice));
    assert!(matches!(&r, Rejection::InvalidTransition { participant_id: Some(p), .. } if *p == bob), "{r:?}");
    let r = w.reject(&agent("alice"), transfer(&alice, to_queue("q-none")));
    assert!(is_invalid_transition(&r), "transfer during a consult: {r:?}");
    let r = w.reject(&agent("alice"), consult(&alice, to_user("carol")));
    assert!(is_invalid_transition(&r), "one consult at a time: {r:?}");
    let r = w.reject(&agent("alice"), unhold(&alice));
    assert!(is_invalid_transition(&r), "unhold during a consult: {r:?}");
    w.exec(&agent("bob"), Command::Answer { participant_id: bob.clone() });
    // The target may not hand the customer on either while the consult is in progress.
    let r = w.reject(&agent("bob"), transfer(&bob, to_queue("q-none")));
    assert!(is_invalid_transition(&r), "transfer by the target during a consult: {r:?}");
    assert!(!allowed_actions(w.conv(), &agent("bob"), w.now).contains(&"transfer"));
    for cmd in [hold(&bob), unhold(&bob), consult(&bob, to_user("carol"))] {
        let r = w.reject(&agent("bob"), cmd);
        assert!(is_invalid_transition(&r), "{r:?}");
    }
    // Without a consult there is nothing to complete or cancel.
    let mut w = World::default();
    let (_, alice) = w.connected_call("q-optional", "alice");
    for cmd in [complete_consult(&alice), cancel_consult(&alice)] {
        let r = w.reject(&agent("alice"), cmd);
        assert!(is_invalid_transition(&r), "{r:?}");
    }
}

#[test]
fn consult_checks_its_target_and_changes_nothing_when_refused() {
    let mut w = World::default();
    let (_, alice) = w.connected_call("q-optional", "alice");
    let version = w.conv().version;
    let r = w.reject(&agent("alice"), consult(&alice, to_user("alice")));
    assert!(matches!(r, Rejection::Conflict { code: "target_at_capacity", .. }), "alice is busy with this call: {r:?}");
    let r = w.reject(&agent("alice"), consult(&alice, to_user("nobody")));
    assert!(matches!(&r, Rejection::Invalid { violations, .. } if violations[0].pointer == "/to/userId"), "{r:?}");
    let r = w.reject(&agent("alice"), consult(&alice, to_queue("q-missing")));
    assert!(matches!(&r, Rejection::Invalid { violations, .. } if violations[0].pointer == "/to/queueId"), "{r:?}");
    let r = w.reject(&agent("bob"), consult(&alice, to_user("bob")));
    assert!(matches!(r, Rejection::Forbidden { .. }), "{r:?}");
    assert_eq!((w.conv().version, w.customer().held), (version, false));
    // A customer already on hold stays held without a second participant.held.
    w.exec(&agent("alice"), hold(&alice));
    w.exec(&agent("alice"), consult(&alice, to_user("carol")));
    assert_eq!(w.last_types(), ["participant.alerting", "consult.started"]);
}

#[test]
fn consult_to_a_queue_queues_an_acd_for_the_initiator() {
    let mut w = World::default();
    let (_, alice) = w.connected_call("q-mandatory", "alice");
    let first_acd = w.acd().id.clone();
    w.exec(&agent("alice"), consult(&alice, to_queue("q-optional")));
    assert_eq!(w.last_types(), ["participant.held", "participant.queued", "consult.started"]);
    let acd = w.acd().clone();
    assert_ne!(acd.id, first_acd);
    assert_eq!(
        (acd.state, acd.queue_id.as_deref(), acd.consult_for.as_deref()),
        (ParticipantState::Queued, Some("q-optional"), Some(alice.as_str()))
    );
    assert!(matches!(&w.last_events[2].data, EventData::ConsultStarted { target_id, .. } if *target_id == acd.id));
    // Routing offers it like any acd; the offer carries consultFor.
    let bob = w.offer("bob");
    let b = w.p(&bob);
    assert_eq!((b.consult_for.as_deref(), b.acd_id.as_deref()), (Some(alice.as_str()), Some(acd.id.as_str())));
    assert!(!b.direct);
    // A queue offer declined leaves the consult waiting in its queue.
    w.exec(&agent("bob"), Command::Decline { participant_id: bob.clone() });
    assert_eq!(w.last_types(), ["participant.disconnected"]);
    assert_eq!((w.p(&acd.id).state, w.customer().held), (ParticipantState::Queued, true));
    let carol = w.connect("carol");
    assert_eq!(w.p(&acd.id).state_reason, Some(StateReason::Transfer));
    assert_eq!(w.wrapup(&carol).policy, AcwPolicy::Optional, "the consult queue's policy");
    w.exec(&agent("alice"), complete_consult(&alice));
    assert_eq!(w.wrapup(&alice).policy, AcwPolicy::Mandatory, "the initiator keeps its own policy");
    assert_eq!((w.p(&alice).state_reason, w.conv().transfer_count), (Some(StateReason::TransferConsult), 1));
    assert_eq!((w.p(&carol).state, w.customer().held), (ParticipantState::Connected, false));
}

/// Found while writing these tests: cancelling a queue consult whose agent was alerting withdrew the offer but
/// left the consult's acd queued, so routing would later offer a "consult" for a customer no longer held.
#[test]
fn cancelling_a_queue_consult_ends_its_acd_and_offer() {
    let mut w = World::default();
    let (_, alice) = w.connected_call("q-mandatory", "alice");
    w.exec(&agent("alice"), consult(&alice, to_queue("q-optional")));
    let acd = w.acd().id.clone();
    let bob = w.offer("bob");
    w.exec(&agent("alice"), cancel_consult(&alice));
    assert_eq!(
        w.last_types(),
        [
            "participant.offerWithdrawn",
            "participant.disconnected",
            "participant.disconnected",
            "consult.cancelled",
            "participant.unheld"
        ]
    );
    assert_eq!((w.p(&bob).withdrawn, w.p(&acd).state_reason), (true, Some(StateReason::System)));
    assert!(!w.p(&acd).abandoned);
    assert!(w.conv().participants.iter().all(|p| !p.is_live() || p.consult_for.is_none()));
    // Cancelled while still queued: the acd leaves.
    w.exec(&agent("alice"), consult(&alice, to_queue("q-none")));
    let acd = w.acd().id.clone();
    w.exec(&agent("alice"), cancel_consult(&alice));
    assert_eq!(w.last_types(), ["participant.disconnected", "consult.cancelled", "participant.unheld"]);
    assert_eq!(w.p(&acd).state_reason, Some(StateReason::System));
    assert_eq!((w.p(&alice).state, w.customer().held), (ParticipantState::Connected, false));
}

#[test]
fn the_initiator_hanging_up_during_a_queue_consult_tears_down() {
    let mut w = World::default();
    let (_, alice) = w.connected_call("q-none", "alice");
    w.exec(&agent("alice"), consult(&alice, to_queue("q-optional")));
    let acd = w.acd().id.clone();
    let bob = w.offer("bob");
    w.hang_up("alice");
    assert!(w.last_types().contains(&"consult.cancelled"));
    assert_eq!((w.p(&bob).withdrawn, w.p(&acd).state_reason), (true, Some(StateReason::System)));
    assert_eq!((w.conv().end_reason, w.state()), (Some(EndReason::AgentEnded), ConversationState::Closed));
    assert!(!w.p(&acd).abandoned, "the customer did not leave");
}

#[test]
fn the_customer_hanging_up_during_a_queue_consult_abandons_nothing() {
    let mut w = World::default();
    let (cust, alice) = w.connected_call("q-none", "alice");
    w.exec(&agent("alice"), consult(&alice, to_queue("q-optional")));
    let acd = w.acd().id.clone();
    assert!(w.p(&acd).consult_for.is_some());
    w.exec(&guest(), disconnect(&cust));
    assert_eq!(w.conv().end_reason, Some(EndReason::CustomerLeft));
    assert!(!w.p(&acd).abandoned, "the customer was with alice, not waiting in the consult queue");
    assert_eq!(w.metric_count("nAbandoned"), 0);
}

/// Found while writing these tests: an alerting direct consult target withdrawn by someone else, or a queued
/// consult acd disconnected by a supervisor, left the consult open (no `consult.cancelled`, customer held).
#[test]
fn a_consult_target_removed_by_someone_else_cancels_the_consult() {
    let (mut w, _, alice, bob) = consulting_bob("q-optional");
    w.exec(&supervisor(), disconnect(&bob));
    assert_eq!(
        w.last_types(),
        ["participant.offerWithdrawn", "participant.disconnected", "consult.cancelled", "participant.unheld"]
    );
    assert_eq!((w.p(&alice).state, w.customer().held), (ParticipantState::Connected, false));
    w.exec(&agent("alice"), consult(&alice, to_queue("q-none")));
    let acd = w.acd().id.clone();
    w.exec(&supervisor(), disconnect(&acd));
    assert_eq!(w.last_types(), ["participant.disconnected", "consult.cancelled", "participant.unheld"]);
    assert_eq!((w.p(&acd).state_reason, w.customer().held), (Some(StateReason::System), false));
    // A supervisor moving the queued consult elsewhere keeps it a consult.
    w.exec(&agent("alice"), consult(&alice, to_queue("q-none")));
    let acd = w.acd().id.clone();
    w.exec(&supervisor(), transfer(&acd, TransferTarget::Queue { queue_id: "q-optional".into() }));
    let moved = w.acd();
    assert_eq!((moved.queue_id.as_deref(), moved.consult_for.as_deref()), (Some("q-optional"), Some(alice.as_str())));
    assert!(w.customer().held);
    let carol = w.connect("carol");
    w.exec(&agent("alice"), complete_consult(&alice));
    assert_eq!(w.p(&carol).state, ParticipantState::Connected);
}
