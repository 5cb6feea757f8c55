//! Messages, messaging inactivity, conversation attributes (RFC 7396) and participant attributes.

use crate::support::*;
use serde_json::json;
use std::collections::BTreeMap;
use switchboard_core::timers::TimerKind;
use switchboard_core::{
    Command, ConversationState, EndReason, EventData, MediaType, MessageDirection, Rejection, StateReason, WrapupStatus,
};

fn post(pid: Option<&str>, text: &str) -> Command {
    Command::PostMessage { participant_id: pid.map(String::from), text: text.into() }
}

fn last_message(w: &World) -> (switchboard_core::Message, Option<switchboard_core::Timestamp>) {
    match &w.last_events[..] {
        [e] => match &e.data {
            EventData::MessageCreated { message, inactivity_deadline } => (message.clone(), *inactivity_deadline),
            other => panic!("expected message.created, got {other:?}"),
        },
        other => panic!("expected one event, got {:?}", types(other)),
    }
}

/// A web chat on q-chat (inactivity 10 min) with alice connected at +0.
fn chat(w: &mut World) -> (String, String) {
    w.create(inbound(MediaType::Message, "q-chat"));
    let cust = w.customer().id.clone();
    (cust, w.connect("alice"))
}

#[test]
fn messages_flow_both_ways_and_reset_the_inactivity_deadline() {
    let mut w = World::default();
    let (cust, alice) = chat(&mut w);
    assert_eq!(w.due_at(&TimerKind::Inactivity), at(600_000));
    w.advance(60_000);
    w.exec(&guest(), post(None, "hello"));
    let (m, deadline) = last_message(&w);
    assert_eq!(
        (m.participant_id.as_str(), m.direction, m.text.as_str()),
        (cust.as_str(), MessageDirection::Inbound, "hello")
    );
    assert_eq!((m.sent_at, deadline), (at(60_000), Some(at(660_000))));
    assert_eq!(w.conv().inactivity_deadline, Some(at(660_000)));
    w.advance(60_000);
    w.exec(&agent("alice"), post(Some(&alice), "hi, how can I help?"));
    let (m, _) = last_message(&w);
    assert_eq!((m.participant_id.as_str(), m.direction), (alice.as_str(), MessageDirection::Outbound));
    assert_eq!(w.due_at(&TimerKind::Inactivity), at(720_000));
    // The old deadline is stale now.
    w.noop(&system(), Command::FireTimer { timer: TimerKind::Inactivity, due_at: at(600_000) });
}

#[test]
fn post_message_is_for_connected_senders_on_message_media() {
    let mut w = World::default();
    let (_, alice) = w.connected_call("q-none", "alice");
    let r = w.reject(&agent("alice"), post(Some(&alice), "hi"));
    assert!(matches!(r, Rejection::InvalidTransition { .. }), "voice: {r:?}");

    let mut w = World::default();
    w.create(inbound(MediaType::Message, "q-chat"));
    let offer = w.offer("alice");
    let r = w.reject(&agent("alice"), post(Some(&offer), "hi"));
    assert!(matches!(r, Rejection::InvalidTransition { .. }), "alerting: {r:?}");
    let r = w.reject(&agent("bob"), post(None, "hi"));
    assert!(matches!(r, Rejection::InvalidTransition { .. }), "no participant of bob: {r:?}");
    let cust = w.customer().id.clone();
    let r = w.reject(&agent("bob"), post(Some(&cust), "hi"));
    assert!(matches!(r, Rejection::Forbidden { .. }), "bob may not speak for the customer: {r:?}");
    for bad in ["", "   ", &"x".repeat(4097)] {
        let r = w.reject(&guest(), post(None, bad));
        assert!(matches!(r, Rejection::Invalid { .. }), "{r:?}");
    }
}

#[test]
fn inactivity_ends_the_media_for_everyone() {
    let mut w = World::default();
    let (cust, alice) = chat(&mut w);
    w.advance(2 * 600_000);
    w.fire(TimerKind::Inactivity);
    assert_eq!(w.p(&cust).state_reason, Some(StateReason::Inactivity));
    assert_eq!(w.p(&alice).state_reason, Some(StateReason::Inactivity));
    assert_eq!(w.p(&alice).disconnected_at, Some(at(600_000)), "effective time is the due time");
    assert_eq!(w.conv().end_reason, Some(EndReason::Inactivity));
    assert_eq!(w.wrapup(&alice).status, WrapupStatus::Pending, "q-chat is optional");
    assert_eq!(w.state(), ConversationState::Wrapup);
    assert!(w.due().is_empty(), "no inactivity timer once the media ended");
    w.exec(&agent("alice"), Command::SkipWrapup { participant_id: alice });
    assert_eq!(w.state(), ConversationState::Closed);
}

#[test]
fn inactivity_while_queued_closes_the_conversation() {
    let mut w = World::default();
    w.create(inbound(MediaType::Message, "q-chat"));
    let offer = w.offer("bob");
    w.advance(600_000);
    // The alerting timer (30 s) is due first; fire inactivity anyway, as the shell would after a long outage.
    w.fire(TimerKind::Inactivity);
    assert!(w.p(&offer).withdrawn, "an alerting offer is withdrawn, never disconnected by inactivity");
    assert_eq!(w.acd().state_reason, Some(StateReason::Inactivity));
    assert!(!w.acd().abandoned, "docs/RULES.md: inactivity is not the customer choosing to leave");
    assert_eq!(w.state(), ConversationState::Closed);
}

#[test]
fn an_inactivity_timeout_of_zero_is_off() {
    let mut w = World::default();
    w.dir.queues.get_mut("q-chat").unwrap().inactivity_timeout_ms = 0;
    let (_, alice) = chat(&mut w);
    assert_eq!(w.conv().inactivity_deadline, None);
    w.exec(&agent("alice"), post(Some(&alice), "hi"));
    assert_eq!(last_message(&w).1, None);
    assert!(w.due().is_empty());
    // Without a queue (a direct chat) the default is 24 hours.
    let mut w = World::default();
    w.create(inbound_to_user(MediaType::Message, "bob"));
    assert_eq!(w.conv().inactivity_deadline, Some(at(DAY_MS)));
}

#[test]
fn update_attributes_is_an_rfc7396_merge() {
    let mut w = World::default();
    let (_, _alice) = w.connected_call("q-mandatory", "alice");
    w.exec(&agent("alice"), Command::UpdateAttributes { patch: json!({"a": 1, "b": {"c": 2, "e": [1, 2]}}) });
    assert_eq!(w.last_types(), ["attributes.updated"]);
    w.exec(&supervisor(), Command::UpdateAttributes { patch: json!({"a": null, "b": {"c": null, "d": 3, "e": [3]}}) });
    assert_eq!(w.conv().attributes, json!({"b": {"d": 3, "e": [3]}}));
    let r = w.reject(&agent("alice"), Command::UpdateAttributes { patch: json!([1]) });
    assert!(matches!(r, Rejection::Invalid { .. }), "{r:?}");
    let r = w.reject(&agent("bob"), Command::UpdateAttributes { patch: json!({"x": 1}) });
    assert!(matches!(r, Rejection::Forbidden { .. }), "bob has no participant here: {r:?}");
    let big = "x".repeat(40 * 1024);
    let r = w.reject(&supervisor(), Command::UpdateAttributes { patch: json!({ "big": big }) });
    assert!(matches!(r, Rejection::Invalid { .. }), "{r:?}");
    // Allowed in wrap-up, refused once closed.
    w.hang_up("alice");
    assert_eq!(w.state(), ConversationState::Wrapup);
    w.exec(&agent("alice"), Command::UpdateAttributes { patch: json!({"after": true}) });
    assert_eq!(w.conv().attributes["after"], json!(true));
    w.exec(&supervisor(), close_with(Some("c-sale")));
    let r = w.reject(&supervisor(), Command::UpdateAttributes { patch: json!({"late": true}) });
    assert!(matches!(r, Rejection::InvalidTransition { .. }), "{r:?}");
}

#[test]
fn participant_attributes_are_a_string_map_merge() {
    let mut w = World::default();
    let (cust, alice) = w.connected_call("q-none", "alice");
    let patch = |pairs: &[(&str, Option<&str>)]| -> BTreeMap<String, Option<String>> {
        pairs.iter().map(|(k, v)| ((*k).to_string(), v.map(String::from))).collect()
    };
    let cmd = Command::UpdateParticipantAttributes {
        participant_id: alice.clone(),
        patch: patch(&[("k1", Some("v1")), ("k2", Some("v2"))]),
    };
    w.exec(&agent("alice"), cmd);
    let cmd = Command::UpdateParticipantAttributes {
        participant_id: alice.clone(),
        patch: patch(&[("k1", None), ("k3", Some("v3"))]),
    };
    w.exec(&agent("alice"), cmd);
    let got: Vec<(&str, &str)> = w.p(&alice).attributes.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    assert_eq!(got, [("k2", "v2"), ("k3", "v3")]);
    let cmd = Command::UpdateParticipantAttributes { participant_id: cust.clone(), patch: patch(&[("x", Some("y"))]) };
    let r = w.reject(&agent("bob"), cmd.clone());
    assert!(matches!(r, Rejection::Forbidden { .. }), "{r:?}");
    w.exec(&system(), cmd.clone());
    assert_eq!(w.p(&cust).attributes.get("x").map(String::as_str), Some("y"));
    w.hang_up("alice");
    assert_eq!(w.state(), ConversationState::Closed);
    let r = w.reject(&system(), cmd);
    assert!(matches!(r, Rejection::InvalidTransition { .. }), "{r:?}");
}

/// A guest owns only the customer participant its own session created.
#[test]
fn another_guest_cannot_speak_for_the_customer() {
    let mut w = World::default();
    let (cust, _) = chat(&mut w);
    let stranger = switchboard_core::Actor::guest("guest-2");
    let r = w.reject(&stranger, post(Some(&cust), "not me"));
    assert!(matches!(r, Rejection::Forbidden { .. }), "{r:?}");
    let r = w.reject(&stranger, post(None, "not me"));
    assert!(matches!(r, Rejection::InvalidTransition { .. }), "no connected participant of its own: {r:?}");
}
