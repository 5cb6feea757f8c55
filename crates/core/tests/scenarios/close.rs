//! `close`: atomic teardown with a disposition, pending wrap-ups kept or resolved by the system, per-participant
//! codes validated all at once, and idempotency.

use crate::support::*;
use switchboard_core::command::{CloseInput, PendingWrapups, WrapupInput};
use switchboard_core::config::WRAPUP_SYSTEM;
use switchboard_core::{
    ActorKind, Command, ConversationState, EndReason, MediaType, ParticipantState, Rejection, Scope, StateReason,
    WrapupStatus,
};

fn closer() -> switchboard_core::Actor {
    client(&[Scope::ConversationsClose, Scope::WrapupWrite])
}

/// carol skipped (final), alice pending on q-mandatory after a transfer, bob connected on q-mandatory with a
/// provisional code. Returns (carol, alice, bob) participant ids.
fn busy_conversation(w: &mut World) -> (String, String, String) {
    w.create(inbound(MediaType::Voice, "q-optional"));
    let carol = w.connect("carol");
    w.exec(&agent("carol"), transfer(&carol, to_queue("q-optional")));
    w.exec(&agent("carol"), Command::SkipWrapup { participant_id: carol.clone() });
    let alice = w.connect("alice");
    w.exec(&agent("alice"), transfer(&alice, to_queue("q-mandatory")));
    let bob = w.connect("bob");
    w.exec(&agent("bob"), set_code(&bob, "c-support"));
    assert_eq!(w.wrapup(&alice).status, WrapupStatus::Pending);
    (carol, alice, bob)
}

#[test]
fn close_with_a_code_sets_every_connected_or_pending_agent_in_one_version() {
    let mut w = World::default();
    let (carol, alice, bob) = busy_conversation(&mut w);
    let version = w.conv().version;
    let carol_before = w.wrapup(&carol).clone();
    w.advance(7_000);
    let now = w.now;
    let input = WrapupInput { notes: switchboard_core::Patch::Value("resolved".into()), ..WrapupInput::code("c-sale") };
    let d = w.exec(&closer(), Command::Close(CloseInput { wrapup: Some(input), ..Default::default() }));
    assert!(d.events.iter().all(|e| e.version == version + 1), "one command, one version");
    assert_eq!(w.conv().version, version + 1);
    assert_eq!(w.state(), ConversationState::Closed);
    assert_eq!((w.conv().end_reason, w.conv().closed_at), (Some(EndReason::Closed), Some(now)));
    assert_eq!(w.customer().state_reason, Some(StateReason::System));
    assert_eq!(w.p(&bob).state_reason, Some(StateReason::System));
    for pid in [&alice, &bob] {
        let wr = w.wrapup(pid);
        assert_eq!(
            (wr.status, wr.code_id.as_deref(), wr.provisional),
            (WrapupStatus::Set, Some("c-sale"), false),
            "{pid}"
        );
        assert_eq!(wr.notes.as_deref(), Some("resolved"));
        assert_eq!(wr.set_by.as_ref().map(|a| a.kind), Some(ActorKind::Client));
        assert_eq!(wr.acw_ended_at, Some(now));
    }
    let carol_after = w.wrapup(&carol);
    assert_eq!(
        (carol_after.status, &carol_after.code_id),
        (WrapupStatus::Skipped, &carol_before.code_id),
        "final wrap-ups are untouched"
    );
    let disp = w.conv().disposition.clone().expect("a disposition");
    assert_eq!(
        (disp.code_id.as_str(), disp.code_name.as_deref(), disp.notes.as_deref()),
        ("c-sale", Some("Sale"), Some("resolved"))
    );
    assert_eq!((disp.set_by.kind, disp.set_by.id.as_str(), disp.set_at), (ActorKind::Client, "client-1", now));
    assert!(w.last_types().ends_with(&["conversation.closed"]));
}

#[test]
fn close_without_a_code_leaves_mandatory_wrapups_pending() {
    let mut w = World::default();
    let (_, ag) = w.connected_call("q-mandatory", "alice");
    w.exec(&supervisor(), close_with(None));
    assert_eq!(w.p(&ag).state_reason, Some(StateReason::System));
    assert_eq!(w.wrapup(&ag).status, WrapupStatus::Pending);
    assert_eq!(w.state(), ConversationState::Wrapup);
    assert_eq!(w.conv().end_reason, Some(EndReason::Closed));
    assert!(!w.last_types().contains(&"conversation.closed"));
    // Closing again with a code finishes the pending wrap-up and closes.
    w.exec(&supervisor(), close_with(Some("c-sale")));
    assert_eq!(w.last_types(), ["wrapup.set", "conversation.closed"]);
    assert_eq!(w.state(), ConversationState::Closed);
    assert_eq!(w.conv().disposition.as_ref().map(|d| d.code_id.as_str()), Some("c-sale"));
}

#[test]
fn close_with_system_pending_wrapups_resolves_them_with_wrapup_system() {
    let mut w = World::default();
    let (_, ag) = w.connected_call("q-timeout", "alice");
    let cmd = Command::Close(CloseInput { pending_wrapups: PendingWrapups::System, ..Default::default() });
    w.exec(&supervisor(), cmd);
    let wr = w.wrapup(&ag);
    assert_eq!((wr.status, wr.code_id.as_deref()), (WrapupStatus::Set, Some(WRAPUP_SYSTEM)), "set, not timed out");
    assert_eq!(wr.set_by.as_ref().map(|a| a.id.as_str()), Some("sue"), "setBy is the closing actor");
    assert_eq!(w.state(), ConversationState::Closed);
    assert!(w.due().is_empty(), "the wrap-up deadline is moot");
    assert_eq!(w.conv().disposition, None);
}

#[test]
fn system_resolution_also_applies_to_a_conversation_in_wrapup() {
    let mut w = World::default();
    let (_, ag) = w.connected_call("q-forced", "alice");
    w.hang_up("alice");
    assert_eq!(w.state(), ConversationState::Wrapup);
    w.exec(&system(), Command::Close(CloseInput { pending_wrapups: PendingWrapups::System, ..Default::default() }));
    assert_eq!(w.last_types(), ["wrapup.set", "conversation.closed"]);
    assert_eq!(w.wrapup(&ag).code_id.as_deref(), Some(WRAPUP_SYSTEM));
}

#[test]
fn close_is_idempotent_and_refuses_another_code() {
    let mut w = World::default();
    w.connected_call("q-mandatory", "alice");
    w.exec(&supervisor(), close_with(Some("c-sale")));
    let version = w.conv().version;
    w.advance(1_000);
    w.noop(&supervisor(), close_with(Some("c-sale")));
    w.noop(&supervisor(), close_with(None));
    w.noop(&supervisor(), Command::Close(CloseInput { pending_wrapups: PendingWrapups::System, ..Default::default() }));
    let r = w.reject(&supervisor(), close_with(Some("c-support")));
    assert!(matches!(r, Rejection::InvalidTransition { .. }), "{r:?}");
    assert_eq!(w.conv().version, version);
}

#[test]
fn close_on_a_conversation_closed_without_a_disposition_refuses_a_code() {
    let mut w = World::default();
    w.connected_call("q-none", "alice");
    w.hang_up("alice");
    assert_eq!(w.state(), ConversationState::Closed);
    w.noop(&supervisor(), close_with(None));
    let r = w.reject(&supervisor(), close_with(Some("c-sale")));
    assert!(matches!(r, Rejection::InvalidTransition { .. }), "{r:?}");
}

/// alice pending on q-mandatory, bob connected on q-other (codes: c-other only).
fn two_queues(w: &mut World) -> (String, String) {
    w.create(inbound(MediaType::Voice, "q-mandatory"));
    let alice = w.connect("alice");
    w.exec(&agent("alice"), transfer(&alice, to_queue("q-other")));
    let bob = w.connect("bob");
    (alice, bob)
}

fn per_participant(list: &[(&str, &str)]) -> Command {
    Command::Close(CloseInput {
        wrapups: list.iter().map(|(p, c)| ((*p).to_string(), WrapupInput::code(*c))).collect(),
        ..Default::default()
    })
}

#[test]
fn per_participant_codes_are_validated_all_at_once() {
    let mut w = World::default();
    let (alice, bob) = two_queues(&mut w);
    let version = w.conv().version;
    let r = w.reject(&supervisor(), per_participant(&[(&alice, "c-other"), (&bob, "c-sale")]));
    let Rejection::CodeNotAllowed { refusals } = r else { panic!("{r:?}") };
    let got: Vec<(&str, &str, &str, Vec<&str>)> = refusals
        .iter()
        .map(|f| {
            (
                f.participant_id.as_str(),
                f.code_id.as_str(),
                f.pointer.as_str(),
                f.allowed_codes.iter().map(|c| c.id.as_str()).collect(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (alice.as_str(), "c-other", "/wrapups/0/codeId", vec!["c-sale", "c-support"]),
            (bob.as_str(), "c-sale", "/wrapups/1/codeId", vec!["c-other"]),
        ]
    );
    assert_eq!(w.conv().version, version, "nothing applied");
    assert_eq!(w.p(&bob).state, ParticipantState::Connected);
    // One code for everyone is refused for the participant whose queue lacks it.
    let r = w.reject(&supervisor(), close_with(Some("c-sale")));
    let Rejection::CodeNotAllowed { refusals } = r else { panic!("{r:?}") };
    assert_eq!(
        (refusals.len(), refusals[0].participant_id.as_str(), refusals[0].pointer.as_str()),
        (1, bob.as_str(), "/wrapup/codeId")
    );
    // A participant that is neither connected nor pending cannot be named.
    let cust = w.customer().id.clone();
    let r = w.reject(&supervisor(), per_participant(&[(&cust, "c-sale")]));
    assert!(matches!(r, Rejection::Invalid { .. }), "{r:?}");
    // Valid per-participant codes apply.
    w.exec(&supervisor(), per_participant(&[(&alice, "c-support"), (&bob, "c-other")]));
    assert_eq!(w.wrapup(&alice).code_id.as_deref(), Some("c-support"));
    assert_eq!(w.wrapup(&bob).code_id.as_deref(), Some("c-other"));
    assert_eq!(w.state(), ConversationState::Closed);
    assert_eq!(w.conv().disposition, None, "no conversation-wide code");
}

#[test]
fn per_participant_codes_override_the_common_code() {
    let mut w = World::default();
    let (alice, bob) = two_queues(&mut w);
    let cmd = Command::Close(CloseInput {
        wrapup: Some(WrapupInput::code("c-sale")),
        wrapups: vec![(bob.clone(), WrapupInput::code("c-other"))],
        ..Default::default()
    });
    w.exec(&supervisor(), cmd);
    assert_eq!(w.wrapup(&alice).code_id.as_deref(), Some("c-sale"));
    assert_eq!(w.wrapup(&bob).code_id.as_deref(), Some("c-other"));
    assert_eq!(w.conv().disposition.as_ref().map(|d| d.code_id.as_str()), Some("c-sale"));
}

#[test]
fn close_refuses_system_unknown_and_archived_codes() {
    let mut w = World::default();
    w.create(inbound(MediaType::Voice, "q-optional"));
    for bad in [WRAPUP_SYSTEM, "c-nonexistent", "c-archived"] {
        let r = w.reject(&supervisor(), close_with(Some(bad)));
        assert!(matches!(r, Rejection::Invalid { .. }), "{bad}: {r:?}");
    }
    assert_eq!(w.conv().version, 1);
}

#[test]
fn close_without_any_agent_still_stores_the_disposition() {
    let mut w = World::default();
    w.create(inbound(MediaType::Voice, "q-optional"));
    w.exec(&closer(), close_with(Some("c-other")));
    assert_eq!(w.acd().state_reason, Some(StateReason::System));
    assert!(!w.acd().abandoned, "a close is not the customer leaving");
    assert_eq!(w.conv().disposition.as_ref().map(|d| d.code_id.as_str()), Some("c-other"));
    assert_eq!(w.state(), ConversationState::Closed);
}

#[test]
fn close_withdraws_an_alerting_offer() {
    let mut w = World::default();
    w.create(inbound(MediaType::Voice, "q-optional"));
    let pid = w.offer("alice");
    w.exec(&supervisor(), close_with(None));
    let a = w.p(&pid);
    assert_eq!((a.withdrawn, a.state_reason, a.wrapup.is_none()), (true, Some(StateReason::System), true));
    assert!(w.last_effects.is_empty());
    assert_eq!(w.state(), ConversationState::Closed);
    assert!(w.due().is_empty());
}

#[test]
fn close_gives_the_code_to_a_none_policy_agent_too() {
    let mut w = World::default();
    let (_, ag) = w.connected_call("q-none", "alice");
    w.exec(&supervisor(), close_with(Some("c-sale")));
    assert_eq!((w.wrapup(&ag).status, w.wrapup(&ag).code_id.as_deref()), (WrapupStatus::Set, Some("c-sale")));
}
