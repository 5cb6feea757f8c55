//! `create`: inbound to a queue, to a user (direct offer, capacity), to a bot; outbound; validation.

use crate::support::*;
use switchboard_core::command::CreateConversation;
use switchboard_core::{
    AcwPolicy, Channel, Command, ConversationState, Direction, EndReason, Load, MediaType, ParticipantState, Purpose,
    Rejection, StateReason, WrapupStatus,
};

#[test]
fn inbound_to_a_queue_connects_the_customer_and_queues_an_acd() {
    let mut w = World::default();
    w.advance(5);
    let d = w.create(CreateConversation { from_name: Some("Ann".into()), ..inbound(MediaType::Voice, "q-mandatory") });
    assert_eq!(types(&d.events), ["conversation.created", "participant.queued"]);
    let c = w.conv();
    assert_eq!((c.version, c.media_type, c.direction, c.channel), (1, MediaType::Voice, Direction::Inbound, None));
    assert_eq!(c.started_at, at(5));
    assert_eq!(c.state(), ConversationState::Active);
    assert_eq!(c.inactivity_deadline, None, "voice has no inactivity timer");
    assert_eq!(c.participants.len(), 2);
    let cust = w.customer();
    assert_eq!(
        (cust.state, cust.connected_at, cust.name.as_deref()),
        (ParticipantState::Connected, Some(at(5)), Some("Ann"))
    );
    let acd = w.acd();
    assert_eq!(
        (acd.state, acd.queue_id.as_deref(), acd.queued_at),
        (ParticipantState::Queued, Some("q-mandatory"), Some(at(5)))
    );
    assert!(acd.tried_user_ids.is_empty());
    assert_ne!(cust.communication_id, acd.communication_id);
    assert!(w.due().is_empty(), "nothing is alerting yet");
}

#[test]
fn inbound_message_gets_a_web_channel_and_the_queue_inactivity_deadline() {
    let mut w = World::default();
    w.create(inbound(MediaType::Message, "q-chat"));
    assert_eq!(w.conv().channel, Some(Channel::Web));
    assert_eq!(w.conv().inactivity_deadline, Some(at(600_000)));
    let r = w.reject(&system(), Command::Create(inbound(MediaType::Voice, "q-none")));
    assert!(matches!(r, Rejection::Conflict { code: "already_exists", .. }), "{r:?}");
}

#[test]
fn commands_without_a_conversation_are_not_found() {
    let mut w = World::default();
    let r = w.reject(&system(), disconnect("nobody"));
    assert!(matches!(r, Rejection::NotFound { what: "conversation", .. }), "{r:?}");
}

#[test]
fn inbound_to_a_user_is_a_direct_offer_with_the_org_timeout() {
    let mut w = World::default();
    let d = w.create(inbound_to_user(MediaType::Voice, "alice"));
    assert_eq!(types(&d.events), ["conversation.created", "participant.alerting"]);
    let a = w.agent_of("alice");
    assert_eq!(a.state, ParticipantState::Alerting);
    assert!(a.direct && a.acd_id.is_none() && a.queue_id.is_none());
    assert_eq!(a.alerting_deadline, Some(at(30_000)), "directAlertingTimeoutMs defaults to 30 s");
    assert!(a.wrapup.is_none(), "the wrap-up is snapshotted at connect");
    assert!(!w.conv().participants.iter().any(|p| p.purpose == Purpose::Acd));
    let pid = a.id.clone();
    w.exec(&agent("alice"), Command::Answer { participant_id: pid.clone() });
    let wr = w.wrapup(&pid);
    assert_eq!((wr.policy, wr.status), (AcwPolicy::None, WrapupStatus::NotStarted), "org directAcw applies");
}

#[test]
fn direct_offer_respects_capacity() {
    let mut w = World::default();
    w.dir.loads.insert("alice".into(), Load { voice: 1, message: 0 });
    let r = w.reject(&system(), Command::Create(inbound_to_user(MediaType::Voice, "alice")));
    assert!(matches!(r, Rejection::Conflict { code: "target_at_capacity", .. }), "{r:?}");
    assert!(w.conv.is_none());
    // Voice blocks other media by default: a message offer needs voice load 0.
    let r = w.reject(&system(), Command::Create(inbound_to_user(MediaType::Message, "alice")));
    assert!(matches!(r, Rejection::Conflict { code: "target_at_capacity", .. }), "{r:?}");
    // Two of three message slots used: one more message fits.
    w.dir.loads.insert("alice".into(), Load { voice: 0, message: 2 });
    w.create(inbound_to_user(MediaType::Message, "alice"));
    assert_eq!(w.agent_of("alice").state, ParticipantState::Alerting);
}

#[test]
fn direct_offer_rings_whatever_the_routing_status() {
    let mut w = World::default();
    w.dir.users.get_mut("alice").unwrap().routing_status = switchboard_core::config::RoutingStatus::OffQueue;
    w.create(inbound_to_user(MediaType::Voice, "alice"));
    assert_eq!(w.agent_of("alice").state, ParticipantState::Alerting);
}

#[test]
fn inbound_to_a_bot_connects_the_bot_and_keeps_the_handover_queue() {
    let mut w = World::default();
    let d = w.create(CreateConversation {
        media_type: Some(MediaType::Message),
        bot_name: Some("helper".into()),
        queue_id: Some("q-chat".into()),
        ..Default::default()
    });
    assert_eq!(types(&d.events), ["conversation.created"]);
    let bot = w.conv().participants.iter().find(|p| p.purpose == Purpose::Bot).unwrap().clone();
    assert_eq!((bot.state, bot.bot_name.as_deref()), (ParticipantState::Connected, Some("helper")));
    assert_eq!(w.conv().fallback_queue_id.as_deref(), Some("q-chat"));
    assert!(!w.conv().participants.iter().any(|p| p.purpose == Purpose::Acd), "no acd for a bot");
    // The bot hands over to a queue.
    w.exec(&system(), transfer(&bot.id, to_queue("q-chat")));
    assert_eq!(w.p(&bot.id).state_reason, Some(StateReason::Transfer));
    assert_eq!(w.acd().queue_id.as_deref(), Some("q-chat"));
    assert_eq!(w.state(), ConversationState::Active);
}

#[test]
fn create_needs_exactly_one_target_and_known_references() {
    let mut w = World::default();
    let cases = [
        CreateConversation { user_id: Some("alice".into()), ..inbound(MediaType::Voice, "q-none") },
        CreateConversation { media_type: Some(MediaType::Voice), ..Default::default() },
        CreateConversation { media_type: None, ..inbound(MediaType::Voice, "q-none") },
        inbound(MediaType::Voice, "q-missing"),
        inbound_to_user(MediaType::Voice, "nobody"),
        CreateConversation { channel: Some(Channel::Sms), ..inbound(MediaType::Voice, "q-none") },
        CreateConversation { fallback_queue_id: Some("q-missing".into()), ..inbound_to_user(MediaType::Voice, "bob") },
        CreateConversation { attributes: Some(serde_json::json!([1])), ..inbound(MediaType::Voice, "q-none") },
    ];
    for c in cases {
        let r = w.reject(&system(), Command::Create(c.clone()));
        assert!(matches!(&r, Rejection::Invalid { violations, .. } if !violations.is_empty()), "{c:?}: {r:?}");
    }
    assert!(w.conv.is_none());
}

fn outbound(user_id: &str) -> CreateConversation {
    CreateConversation {
        media_type: Some(MediaType::Voice),
        direction: Some(Direction::Outbound),
        user_id: Some(user_id.into()),
        to_address: Some("+15550100".into()),
        ..Default::default()
    }
}

#[test]
fn outbound_connects_the_agent_and_contacts_the_customer_until_answered() {
    let mut w = World::default();
    let d = w.exec(&agent("alice"), Command::Create(outbound("alice")));
    assert_eq!(types(&d.events), ["conversation.created"]);
    let (cust, ag) = (w.customer().clone(), w.agent_of("alice").clone());
    assert_eq!((cust.state, cust.address.as_deref()), (ParticipantState::Contacting, Some("+15550100")));
    assert_eq!(ag.state, ParticipantState::Connected);
    assert_eq!(w.wrapup(&ag.id).status, WrapupStatus::NotStarted);
    assert_eq!(w.conv().direction, Direction::Outbound);
    w.advance(4_000);
    let d = w.exec(&system(), Command::Answer { participant_id: cust.id.clone() });
    assert_eq!(types(&d.events), ["participant.connected"]);
    assert_eq!((w.customer().state, w.customer().connected_at), (ParticipantState::Connected, Some(at(4_000))));
    // Answering again is an invalid transition.
    let r = w.reject(&system(), Command::Answer { participant_id: cust.id.clone() });
    assert!(matches!(r, Rejection::InvalidTransition { .. }), "{r:?}");
    w.hang_up("alice");
    assert_eq!(w.customer().state_reason, Some(StateReason::Peer));
    assert_eq!(w.conv().end_reason, Some(EndReason::AgentEnded));
    assert_eq!(w.wrapup(&ag.id).status, WrapupStatus::NotRequired, "directAcw is none");
    assert_eq!(w.state(), ConversationState::Closed);
    assert_eq!(w.metric_count("nConnected"), 0, "an outbound agent never answered an offer");
}

#[test]
fn outbound_on_a_queue_uses_the_queue_policy() {
    let mut w = World::default();
    w.exec(
        &agent("bob"),
        Command::Create(CreateConversation { queue_id: Some("q-mandatory".into()), ..outbound("bob") }),
    );
    let pid = w.agent_of("bob").id.clone();
    assert_eq!(w.wrapup(&pid).policy, AcwPolicy::Mandatory);
    w.hang_up("bob");
    assert_eq!(w.wrapup(&pid).status, WrapupStatus::Pending);
    assert_eq!(w.state(), ConversationState::Wrapup);
}

#[test]
fn an_agent_places_outbound_calls_only_as_itself() {
    let mut w = World::default();
    let r = w.reject(&agent("alice"), Command::Create(outbound("bob")));
    assert!(matches!(r, Rejection::Invalid { .. }), "{r:?}");
    let r = w.reject(&agent("alice"), Command::Create(CreateConversation { to_address: None, ..outbound("alice") }));
    assert!(matches!(r, Rejection::Invalid { .. }), "{r:?}");
    w.exec(&supervisor(), Command::Create(outbound("bob")));
    assert_eq!(w.agent_of("bob").state, ParticipantState::Connected);
}
