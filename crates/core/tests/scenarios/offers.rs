//! Offers: offer, answer, decline, alerting timeout, withdrawal, direct-offer fallback, customer leaving,
//! and who may act on which participant.

use crate::support::*;
use switchboard_core::command::CreateConversation;
use switchboard_core::timers::TimerKind;
use switchboard_core::{
    AcwPolicy, AgentEffect, Command, ConversationState, EndReason, MediaType, ParticipantState, Purpose, Rejection,
    StateReason, WrapupStatus,
};

fn alerting_timer(pid: &str) -> TimerKind {
    TimerKind::Alerting { participant_id: pid.into() }
}

#[test]
fn offer_alerts_one_agent_per_acd() {
    let mut w = World::default();
    w.create(inbound(MediaType::Voice, "q-mandatory"));
    w.advance(1_000);
    let acd_id = w.acd().id.clone();
    let pid = w.offer("alice");
    let a = w.p(&pid);
    assert_eq!(
        (a.state, a.acd_id.as_deref(), a.queue_id.as_deref()),
        (ParticipantState::Alerting, Some(acd_id.as_str()), Some("q-mandatory"))
    );
    assert_eq!((a.alerting_at, a.alerting_deadline), (Some(at(1_000)), Some(at(31_000))));
    assert!(!a.direct);
    let r = w.reject(&system(), Command::Offer { acd_id: acd_id.clone(), user_id: "bob".into() });
    assert!(matches!(r, Rejection::InvalidTransition { participant_id: Some(ref p), .. } if *p == acd_id), "{r:?}");
    let cust = w.customer().id.clone();
    let r = w.reject(&system(), Command::Offer { acd_id: cust, user_id: "bob".into() });
    assert!(matches!(r, Rejection::InvalidTransition { .. }), "{r:?}");
}

#[test]
fn answer_connects_the_agent_and_the_acd_leaves_with_transfer() {
    let mut w = World::default();
    w.create(inbound(MediaType::Voice, "q-timeout"));
    let pid = w.offer("alice");
    w.advance(2_000);
    w.exec(&agent("alice"), Command::Answer { participant_id: pid.clone() });
    assert_eq!(w.last_types(), ["participant.connected", "participant.disconnected"]);
    let a = w.p(&pid);
    assert_eq!((a.state, a.connected_at), (ParticipantState::Connected, Some(at(2_000))));
    let wr = w.wrapup(&pid);
    assert_eq!((wr.policy, wr.status), (AcwPolicy::MandatoryTimeout, WrapupStatus::NotStarted));
    assert_eq!((wr.timeout_ms, wr.default_code_id.as_deref()), (Some(60_000), Some("c-default")));
    let acd = w.acd();
    assert_eq!(
        (acd.state, acd.state_reason, acd.abandoned),
        (ParticipantState::Disconnected, Some(StateReason::Transfer), false)
    );
    assert!(w.due().is_empty(), "answering cancels the alerting timer");
    // A stale alerting firing changes nothing.
    w.noop(&system(), Command::FireTimer { timer: alerting_timer(&pid), due_at: at(32_000) });
}

#[test]
fn auto_answer_alerts_and_connects_in_one_command_without_a_timer() {
    let mut w = World::default();
    w.create(inbound(MediaType::Voice, "q-auto"));
    let pid = w.offer("bob");
    assert_eq!(w.last_types(), ["participant.alerting", "participant.connected", "participant.disconnected"]);
    assert_eq!(w.p(&pid).state, ParticipantState::Connected);
    assert_eq!(w.p(&pid).alerting_deadline, None);
    assert!(w.due().is_empty());
    assert_eq!(w.conv().version, 2);
}

#[test]
fn decline_leaves_the_acd_queued_and_remembers_the_agent() {
    let mut w = World::default();
    w.create(inbound(MediaType::Voice, "q-mandatory"));
    let pid = w.offer("alice");
    w.exec(&agent("alice"), Command::Decline { participant_id: pid.clone() });
    let a = w.p(&pid);
    assert_eq!(
        (a.state, a.state_reason, a.withdrawn),
        (ParticipantState::Disconnected, Some(StateReason::Declined), false)
    );
    assert!(a.wrapup.is_none(), "an offer never answered has no wrap-up");
    assert_eq!(w.acd().state, ParticipantState::Queued);
    assert_eq!(w.acd().tried_user_ids, ["alice"]);
    assert!(w.last_effects.is_empty(), "declining does not make the agent notResponding");
    assert_eq!(w.state(), ConversationState::Active);
    // The next offer goes to someone else; declining twice is an invalid transition.
    let r = w.reject(&agent("alice"), Command::Decline { participant_id: pid });
    assert!(matches!(r, Rejection::InvalidTransition { .. }), "{r:?}");
    let bob = w.offer("bob");
    assert_eq!(w.p(&bob).state, ParticipantState::Alerting);
}

#[test]
fn an_agent_hanging_up_its_own_offer_declines_it() {
    let mut w = World::default();
    w.create(inbound(MediaType::Voice, "q-mandatory"));
    let pid = w.offer("alice");
    w.exec(&agent("alice"), disconnect(&pid));
    assert_eq!(w.p(&pid).state_reason, Some(StateReason::Declined));
    assert_eq!(w.acd().state, ParticipantState::Queued);
}

#[test]
fn queue_offer_timeout_is_no_answer_and_marks_the_agent_not_responding() {
    let mut w = World::default();
    w.create(inbound(MediaType::Voice, "q-optional"));
    let pid = w.offer("carol");
    assert_eq!(w.due_at(&alerting_timer(&pid)), at(30_000));
    w.advance(45_000);
    let d = w.exec(&system(), Command::FireTimer { timer: alerting_timer(&pid), due_at: at(30_000) });
    assert_eq!(d.effects, [AgentEffect::MarkNotResponding { user_id: "carol".into() }]);
    let a = w.p(&pid);
    assert_eq!((a.state_reason, a.disconnected_at), (Some(StateReason::NoAnswer), Some(at(30_000))), "at = dueAt");
    assert_eq!(w.acd().state, ParticipantState::Queued);
    assert_eq!(w.acd().tried_user_ids, ["carol"]);
    assert_eq!(w.conv().version, 3, "a timer firing is a command");
    // The same firing again is stale.
    w.noop(&system(), Command::FireTimer { timer: alerting_timer(&pid), due_at: at(30_000) });
}

#[test]
fn a_firing_with_the_wrong_due_time_is_stale() {
    let mut w = World::default();
    w.create(inbound(MediaType::Voice, "q-optional"));
    let pid = w.offer("carol");
    w.noop(&system(), Command::FireTimer { timer: alerting_timer(&pid), due_at: at(29_999) });
    assert_eq!(w.p(&pid).state, ParticipantState::Alerting);
}

#[test]
fn direct_offer_timeout_without_a_queue_ends_the_media_with_no_answer() {
    let mut w = World::default();
    w.create(inbound_to_user(MediaType::Voice, "alice"));
    let pid = w.agent_of("alice").id.clone();
    let d = w.fire(alerting_timer(&pid));
    assert!(d.effects.is_empty(), "direct offers never make the user notResponding");
    assert_eq!(w.p(&pid).state_reason, Some(StateReason::NoAnswer));
    assert_eq!(w.customer().state_reason, Some(StateReason::Peer));
    assert_eq!(w.conv().end_reason, Some(EndReason::NoAnswer));
    assert_eq!(w.state(), ConversationState::Closed);
    assert!(w.last_types().ends_with(&["conversation.ended", "conversation.closed"]));
}

#[test]
fn direct_offer_decline_falls_back_to_the_fallback_queue() {
    let mut w = World::default();
    w.create(CreateConversation {
        fallback_queue_id: Some("q-optional".into()),
        ..inbound_to_user(MediaType::Voice, "alice")
    });
    let pid = w.agent_of("alice").id.clone();
    w.advance(3_000);
    w.exec(&agent("alice"), Command::Decline { participant_id: pid.clone() });
    assert_eq!(w.p(&pid).state_reason, Some(StateReason::Declined));
    let acd = w.acd();
    assert_eq!(
        (acd.state, acd.queue_id.as_deref(), acd.queued_at),
        (ParticipantState::Queued, Some("q-optional"), Some(at(3_000)))
    );
    assert_eq!(w.state(), ConversationState::Active);
    assert_eq!(w.conv().ended_at, None);
}

#[test]
fn direct_offer_decline_without_any_queue_ends_with_no_answer() {
    let mut w = World::default();
    w.create(inbound_to_user(MediaType::Message, "bob"));
    let pid = w.agent_of("bob").id.clone();
    w.exec(&agent("bob"), Command::Decline { participant_id: pid });
    assert_eq!(w.conv().end_reason, Some(EndReason::NoAnswer));
    assert_eq!(w.state(), ConversationState::Closed);
}

#[test]
fn customer_leaving_during_an_offer_withdraws_it_and_abandons_the_acd() {
    let mut w = World::default();
    w.create(inbound(MediaType::Voice, "q-mandatory"));
    let pid = w.offer("alice");
    let cust = w.customer().id.clone();
    w.exec(&guest(), disconnect(&cust));
    assert_eq!(w.customer().state_reason, Some(StateReason::Client), "the guest ended its own participant");
    let a = w.p(&pid);
    assert_eq!(
        (a.state, a.state_reason, a.withdrawn),
        (ParticipantState::Disconnected, Some(StateReason::System), true)
    );
    assert!(a.wrapup.is_none());
    let acd = w.acd();
    assert!(acd.abandoned, "no agent connected since the acd was queued");
    assert_eq!(acd.state_reason, Some(StateReason::Peer));
    assert_eq!(w.conv().end_reason, Some(EndReason::CustomerLeft));
    assert_eq!(w.state(), ConversationState::Closed);
    assert!(w.last_types().contains(&"participant.offerWithdrawn"));
    assert!(w.last_effects.is_empty(), "a withdrawn offer never makes the agent notResponding");
    let r = w.reject(&agent("alice"), Command::Answer { participant_id: pid });
    assert!(matches!(r, Rejection::InvalidTransition { .. }), "{r:?}");
}

#[test]
fn a_supervisor_removing_a_waiting_customer_is_no_abandon() {
    let mut w = World::default();
    w.create(inbound(MediaType::Voice, "q-mandatory"));
    let cust = w.customer().id.clone();
    w.exec(&supervisor(), disconnect(&cust));
    assert_eq!(w.conv().end_reason, Some(EndReason::CustomerLeft));
    assert!(!w.acd().abandoned, "the customer did not choose to leave");
    assert_eq!(w.metric_count("nAbandoned"), 0);
}

#[test]
fn customer_leaving_a_connected_call_starts_the_agents_wrapup() {
    let mut w = World::default();
    let (cust, ag) = w.connected_call("q-mandatory", "alice");
    w.advance(60_000);
    w.exec(&system(), disconnect(&cust));
    assert_eq!(w.customer().state_reason, Some(StateReason::System), "someone else's explicit command");
    assert_eq!(w.p(&ag).state_reason, Some(StateReason::Peer));
    assert!(!w.acd().abandoned, "an agent connected");
    assert_eq!(w.conv().end_reason, Some(EndReason::CustomerLeft));
    assert_eq!(w.wrapup(&ag).status, WrapupStatus::Pending);
    assert_eq!(w.state(), ConversationState::Wrapup);
}

#[test]
fn agent_hanging_up_ends_the_media_for_the_customer() {
    let mut w = World::default();
    let (cust, ag) = w.connected_call("q-none", "alice");
    w.hang_up("alice");
    assert_eq!(w.p(&ag).state_reason, Some(StateReason::Client));
    assert_eq!(w.p(&cust).state_reason, Some(StateReason::Peer));
    assert_eq!(w.conv().end_reason, Some(EndReason::AgentEnded));
    let r = w.reject(&agent("alice"), disconnect(&ag));
    assert!(matches!(r, Rejection::InvalidTransition { .. }), "{r:?}");
}

#[test]
fn withdraw_offer_frees_the_acd_without_not_responding() {
    let mut w = World::default();
    w.create(inbound(MediaType::Voice, "q-mandatory"));
    let pid = w.offer("alice");
    let d = w.exec(&system(), Command::WithdrawOffer { participant_id: pid.clone() });
    assert_eq!(types(&d.events), ["participant.offerWithdrawn", "participant.disconnected"]);
    assert!(d.effects.is_empty());
    let a = w.p(&pid);
    assert_eq!((a.state_reason, a.withdrawn), (Some(StateReason::System), true));
    assert_eq!(w.acd().state, ParticipantState::Queued);
    assert_eq!(w.acd().tried_user_ids, ["alice"]);
    assert!(w.due().is_empty(), "the alerting timer is gone");
    let r = w.reject(&agent("alice"), Command::Answer { participant_id: pid.clone() });
    assert!(matches!(r, Rejection::InvalidTransition { .. }), "{r:?}");
    let r = w.reject(&system(), Command::WithdrawOffer { participant_id: pid });
    assert!(matches!(r, Rejection::InvalidTransition { .. }), "{r:?}");
}

#[test]
fn a_supervisor_hanging_up_an_offer_withdraws_it() {
    let mut w = World::default();
    w.create(inbound(MediaType::Voice, "q-mandatory"));
    let pid = w.offer("alice");
    w.exec(&supervisor(), disconnect(&pid));
    assert!(w.p(&pid).withdrawn);
    assert_eq!(w.acd().state, ParticipantState::Queued);
}

#[test]
fn disconnecting_the_queued_acd_withdraws_its_offer_and_ends_the_media() {
    let mut w = World::default();
    w.create(inbound(MediaType::Voice, "q-mandatory"));
    let pid = w.offer("alice");
    let acd = w.acd().id.clone();
    w.exec(&supervisor(), disconnect(&acd));
    assert!(w.p(&pid).withdrawn);
    assert_eq!(w.p(&acd).state_reason, Some(StateReason::System));
    assert_eq!(w.customer().state_reason, Some(StateReason::Peer), "no handler remains");
    assert_eq!(w.state(), ConversationState::Closed);
}

#[test]
fn an_agent_cannot_act_on_another_agents_participant() {
    let mut w = World::default();
    w.create(inbound(MediaType::Voice, "q-mandatory"));
    let pid = w.offer("alice");
    for cmd in [
        Command::Answer { participant_id: pid.clone() },
        Command::Decline { participant_id: pid.clone() },
        disconnect(&pid),
    ] {
        let r = w.reject(&agent("bob"), cmd);
        assert!(matches!(r, Rejection::Forbidden { .. }), "{r:?}");
    }
    let cust = w.customer().id.clone();
    let r = w.reject(&agent("bob"), disconnect(&cust));
    assert!(matches!(r, Rejection::Forbidden { .. }), "{r:?}");
    w.exec(&agent("alice"), Command::Answer { participant_id: pid.clone() });
    for cmd in [set_code(&pid, "c-sale"), Command::RequestAcw { participant_id: pid.clone(), required: true }] {
        let r = w.reject(&agent("bob"), cmd);
        assert!(matches!(r, Rejection::Forbidden { .. }), "{r:?}");
    }
    // A client with only the participate scope drives only its own participants.
    let r = w.reject(&client(&[switchboard_core::Scope::ConversationsParticipate]), disconnect(&pid));
    assert!(matches!(r, Rejection::Forbidden { .. }), "{r:?}");
    // A supervisor may.
    w.exec(&supervisor(), disconnect(&pid));
    assert_eq!(w.p(&pid).state_reason, Some(StateReason::System));
}

#[test]
fn a_reoffer_creates_a_new_participant() {
    let mut w = World::default();
    w.create(inbound(MediaType::Voice, "q-mandatory"));
    let first = w.offer("alice");
    w.exec(&agent("alice"), Command::Decline { participant_id: first.clone() });
    let second = w.offer("alice");
    assert_ne!(first, second);
    assert_eq!(w.p(&first).state, ParticipantState::Disconnected, "a participant never comes back");
    let agents = w.conv().participants.iter().filter(|p| p.purpose == Purpose::Agent).count();
    assert_eq!(agents, 2);
}
