//! Wrap-up: the six policies at disconnect, deadlines, codes, skip, set vs amend, and the amendment window.

use crate::support::*;
use switchboard_core::command::{Patch, WrapupInput};
use switchboard_core::config::{WRAPUP_SYSTEM, WRAPUP_TIMEOUT};
use switchboard_core::timers::TimerKind;
use switchboard_core::{ActorKind, Command, ConversationState, MediaType, Rejection, Scope, WrapupStatus};

fn deadline(pid: &str) -> TimerKind {
    TimerKind::WrapupDeadline { participant_id: pid.into() }
}

/// A call on `queue_id` answered by alice at +0 and hung up by her at +10 s; returns her participant id.
fn call_ended_by_alice(w: &mut World, queue_id: &str) -> String {
    let (_, ag) = w.connected_call(queue_id, "alice");
    w.advance(10_000);
    w.hang_up("alice");
    ag
}

fn assert_code_not_allowed(r: &Rejection, code: &str, allowed: &[&str]) {
    let Rejection::CodeNotAllowed { refusals } = r else { panic!("expected CodeNotAllowed, got {r:?}") };
    assert_eq!(refusals.len(), 1);
    assert_eq!(refusals[0].code_id, code);
    let ids: Vec<&str> = refusals[0].allowed_codes.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, allowed);
}

#[test]
fn policy_none_is_not_required_and_closes() {
    let mut w = World::default();
    let ag = call_ended_by_alice(&mut w, "q-none");
    let wr = w.wrapup(&ag);
    assert_eq!(wr.status, WrapupStatus::NotRequired);
    assert_eq!((wr.acw_started_at, wr.acw_ended_at), (Some(at(10_000)), Some(at(10_000))));
    assert_eq!(w.state(), ConversationState::Closed);
    assert_eq!(w.conv().closed_at, Some(at(10_000)));
}

#[test]
fn policy_none_with_a_provisional_code_is_set() {
    let mut w = World::default();
    let (_, ag) = w.connected_call("q-none", "alice");
    w.exec(&agent("alice"), set_code(&ag, "c-sale"));
    let wr = w.wrapup(&ag);
    assert_eq!((wr.status, wr.provisional, wr.code_id.as_deref()), (WrapupStatus::NotStarted, true, Some("c-sale")));
    assert_eq!(wr.code_name.as_deref(), Some("Sale"));
    w.hang_up("alice");
    let wr = w.wrapup(&ag);
    assert_eq!((wr.status, wr.provisional, wr.code_id.as_deref()), (WrapupStatus::Set, false, Some("c-sale")));
    assert_eq!(w.state(), ConversationState::Closed);
}

#[test]
fn optional_and_mandatory_go_pending_and_a_set_closes() {
    for q in ["q-optional", "q-mandatory"] {
        let mut w = World::default();
        let ag = call_ended_by_alice(&mut w, q);
        let wr = w.wrapup(&ag).clone();
        assert_eq!((wr.status, wr.deadline, wr.expected), (WrapupStatus::Pending, None, true), "{q}");
        assert_eq!(w.state(), ConversationState::Wrapup);
        assert!(w.due().is_empty(), "{q}: no deadline");
        w.advance(5_000);
        let r =
            w.reject(&agent("alice"), Command::SetWrapup { participant_id: ag.clone(), input: WrapupInput::default() });
        assert!(matches!(r, Rejection::Invalid { .. }), "a pending wrap-up needs a code: {r:?}");
        w.exec(&agent("alice"), set_code(&ag, "c-support"));
        assert_eq!(w.last_types(), ["wrapup.set", "conversation.closed"]);
        let wr = w.wrapup(&ag);
        assert_eq!((wr.status, wr.code_id.as_deref()), (WrapupStatus::Set, Some("c-support")));
        assert_eq!((wr.acw_started_at, wr.acw_ended_at), (Some(at(10_000)), Some(at(15_000))));
        assert_eq!(wr.set_by.as_ref().map(|a| (a.kind, a.id.as_str())), Some((ActorKind::User, "alice")));
        assert_eq!(w.state(), ConversationState::Closed);
    }
}

#[test]
fn a_provisional_code_is_set_at_disconnect_for_mandatory() {
    let mut w = World::default();
    let (_, ag) = w.connected_call("q-mandatory", "alice");
    let input = WrapupInput {
        notes: Patch::Value("called back".into()),
        tags: Patch::Value(vec!["vip".into()]),
        ..WrapupInput::code("c-sale")
    };
    w.exec(&agent("alice"), Command::SetWrapup { participant_id: ag.clone(), input });
    w.hang_up("alice");
    let wr = w.wrapup(&ag);
    assert_eq!(
        (wr.status, wr.code_id.as_deref(), wr.notes.as_deref()),
        (WrapupStatus::Set, Some("c-sale"), Some("called back"))
    );
    assert_eq!(wr.tags, ["vip"]);
    assert!(!wr.expected, "never pending");
    assert_eq!(w.state(), ConversationState::Closed);
}

#[test]
fn skip_only_for_optional() {
    let mut w = World::default();
    let ag = call_ended_by_alice(&mut w, "q-optional");
    w.exec(&agent("alice"), Command::SkipWrapup { participant_id: ag.clone() });
    let wr = w.wrapup(&ag);
    assert_eq!((wr.status, wr.code_id.as_deref()), (WrapupStatus::Skipped, None));
    assert_eq!(w.state(), ConversationState::Closed);
    for q in ["q-mandatory", "q-timeout", "q-forced"] {
        let mut w = World::default();
        let ag = call_ended_by_alice(&mut w, q);
        let r = w.reject(&agent("alice"), Command::SkipWrapup { participant_id: ag.clone() });
        assert!(matches!(r, Rejection::Conflict { code: "skip_not_allowed", .. }), "{q}: {r:?}");
        assert_eq!(w.wrapup(&ag).status, WrapupStatus::Pending);
    }
}

#[test]
fn disconnect_with_an_inline_wrapup_or_skip() {
    let mut w = World::default();
    let (_, ag) = w.connected_call("q-mandatory", "alice");
    let cmd = Command::Disconnect {
        participant_id: ag.clone(),
        wrapup: Some(WrapupInput::code("c-sale")),
        skip_wrapup: false,
        reason: None,
    };
    w.exec(&agent("alice"), cmd);
    assert_eq!(w.wrapup(&ag).status, WrapupStatus::Set);
    assert_eq!(w.state(), ConversationState::Closed);

    let mut w = World::default();
    let (_, ag) = w.connected_call("q-optional", "alice");
    let cmd = Command::Disconnect { participant_id: ag.clone(), wrapup: None, skip_wrapup: true, reason: None };
    w.exec(&agent("alice"), cmd);
    assert_eq!(w.wrapup(&ag).status, WrapupStatus::Skipped);
    assert_eq!(w.conv().version, 4, "one command");
}

#[test]
fn mandatory_timeout_expires_to_the_default_code() {
    let mut w = World::default();
    let ag = call_ended_by_alice(&mut w, "q-timeout");
    let wr = w.wrapup(&ag);
    assert_eq!((wr.status, wr.deadline), (WrapupStatus::Pending, Some(at(70_000))));
    assert_eq!(w.due_at(&deadline(&ag)), at(70_000));
    w.advance(500_000);
    w.fire(deadline(&ag));
    let wr = w.wrapup(&ag);
    assert_eq!((wr.status, wr.code_id.as_deref()), (WrapupStatus::TimedOut, Some("c-default")));
    assert_eq!(wr.code_name.as_deref(), Some("Default outcome"));
    assert_eq!(wr.acw_ended_at, Some(at(70_000)), "a late firing takes effect at its due time");
    assert_eq!(w.state(), ConversationState::Closed);
    assert_eq!(w.metric_count("nWrapupTimedOut"), 1);
    // Amending the code later changes the code, not the history: the timeout stays counted.
    w.exec(&supervisor(), set_code(&ag, "c-support"));
    assert_eq!(w.wrapup(&ag).status, WrapupStatus::Set);
    assert_eq!(w.metric_count("nWrapupTimedOut"), 1);
}

#[test]
fn mandatory_timeout_without_a_default_expires_to_wrapup_timeout() {
    let mut w = World::default();
    let ag = call_ended_by_alice(&mut w, "q-timeout-nodefault");
    w.fire(deadline(&ag));
    let wr = w.wrapup(&ag);
    assert_eq!((wr.status, wr.code_id.as_deref()), (WrapupStatus::TimedOut, Some(WRAPUP_TIMEOUT)));
    assert_eq!(wr.acw_ended_at, Some(at(70_000)));
    assert_eq!(wr.set_by.as_ref().map(|a| a.kind), Some(ActorKind::System));
}

#[test]
fn a_set_before_the_deadline_cancels_it() {
    let mut w = World::default();
    let ag = call_ended_by_alice(&mut w, "q-timeout");
    w.exec(&agent("alice"), set_code(&ag, "c-sale"));
    assert!(w.due().is_empty());
    w.advance(100_000);
    w.noop(&system(), Command::FireTimer { timer: deadline(&ag), due_at: at(70_000) });
    assert_eq!(w.wrapup(&ag).status, WrapupStatus::Set);
}

#[test]
fn forced_timeout_binds_the_agent_until_the_deadline() {
    let mut w = World::default();
    let (_, ag) = w.connected_call("q-forced", "alice");
    w.exec(&agent("alice"), set_code(&ag, "c-sale"));
    w.advance(10_000);
    w.hang_up("alice");
    let wr = w.wrapup(&ag);
    assert_eq!((wr.status, wr.provisional, wr.code_id.as_deref()), (WrapupStatus::Pending, true, Some("c-sale")));
    // The agent changes its mind: still pending, still provisional.
    w.exec(&agent("alice"), set_code(&ag, "c-support"));
    let wr = w.wrapup(&ag);
    assert_eq!((wr.status, wr.provisional, wr.code_id.as_deref()), (WrapupStatus::Pending, true, Some("c-support")));
    assert_eq!(w.state(), ConversationState::Wrapup);
    let sentence = switchboard_core::explain::explain_participant(w.p(&ag))["sentence"].to_string();
    assert!(sentence.contains("the code saved now becomes final"), "{sentence}");
    w.fire(deadline(&ag));
    let wr = w.wrapup(&ag);
    assert_eq!((wr.status, wr.provisional, wr.code_id.as_deref()), (WrapupStatus::Set, false, Some("c-support")));
    assert_eq!(wr.acw_ended_at, Some(at(70_000)));
    assert_eq!(w.state(), ConversationState::Closed);
}

#[test]
fn forced_timeout_without_a_choice_expires_to_the_default() {
    let mut w = World::default();
    let ag = call_ended_by_alice(&mut w, "q-forced");
    w.fire(deadline(&ag));
    let wr = w.wrapup(&ag);
    assert_eq!((wr.status, wr.code_id.as_deref()), (WrapupStatus::TimedOut, Some("c-default")));
}

#[test]
fn forced_timeout_set_by_a_supervisor_or_client_ends_acw_at_once() {
    let writers = [supervisor(), admin(), client(&[Scope::WrapupWrite])];
    for actor in writers {
        let mut w = World::default();
        let ag = call_ended_by_alice(&mut w, "q-forced");
        w.advance(3_000);
        w.exec(&actor, set_code(&ag, "c-sale"));
        let wr = w.wrapup(&ag);
        assert_eq!((wr.status, wr.provisional), (WrapupStatus::Set, false), "{actor:?}");
        assert_eq!(wr.acw_ended_at, Some(at(13_000)));
        assert_eq!(w.state(), ConversationState::Closed);
        assert!(w.due().is_empty());
    }
}

#[test]
fn agent_requested_without_a_request_is_not_required() {
    let mut w = World::default();
    let ag = call_ended_by_alice(&mut w, "q-requested");
    assert_eq!(w.wrapup(&ag).status, WrapupStatus::NotRequired);
    assert_eq!(w.state(), ConversationState::Closed);
}

#[test]
fn agent_requested_acw_goes_pending_with_the_deadline() {
    let mut w = World::default();
    let (_, ag) = w.connected_call("q-requested", "alice");
    w.exec(&agent("alice"), Command::RequestAcw { participant_id: ag.clone(), required: true });
    assert_eq!(w.last_types(), ["wrapup.acwRequested"]);
    assert!(w.wrapup(&ag).requested_by_agent);
    w.advance(10_000);
    w.hang_up("alice");
    let wr = w.wrapup(&ag);
    assert_eq!((wr.status, wr.deadline), (WrapupStatus::Pending, Some(at(40_000))));
    w.fire(deadline(&ag));
    let wr = w.wrapup(&ag);
    assert_eq!((wr.status, wr.code_id.as_deref()), (WrapupStatus::TimedOut, Some(WRAPUP_TIMEOUT)));
    // Requesting after the disconnect is too late.
    let r = w.reject(&agent("alice"), Command::RequestAcw { participant_id: ag, required: true });
    assert!(matches!(r, Rejection::InvalidTransition { .. }), "{r:?}");
}

#[test]
fn agent_requested_toggles_and_untimed_has_no_deadline() {
    let mut w = World::default();
    let (_, ag) = w.connected_call("q-requested", "alice");
    w.exec(&agent("alice"), Command::RequestAcw { participant_id: ag.clone(), required: true });
    w.exec(&agent("alice"), Command::RequestAcw { participant_id: ag.clone(), required: false });
    w.hang_up("alice");
    assert_eq!(w.wrapup(&ag).status, WrapupStatus::NotRequired);

    let mut w = World::default();
    let (_, ag) = w.connected_call("q-requested-untimed", "alice");
    w.exec(&agent("alice"), Command::RequestAcw { participant_id: ag.clone(), required: true });
    w.hang_up("alice");
    assert_eq!((w.wrapup(&ag).status, w.wrapup(&ag).deadline), (WrapupStatus::Pending, None));
    assert!(w.due().is_empty());

    let mut w = World::default();
    let (_, ag) = w.connected_call("q-mandatory", "alice");
    let r = w.reject(&agent("alice"), Command::RequestAcw { participant_id: ag, required: true });
    assert!(matches!(r, Rejection::Conflict { code: "acw_request_not_allowed", .. }), "{r:?}");
}

#[test]
fn agent_requested_with_a_provisional_code_is_set() {
    let mut w = World::default();
    let (_, ag) = w.connected_call("q-requested", "alice");
    w.exec(&agent("alice"), Command::RequestAcw { participant_id: ag.clone(), required: true });
    w.exec(&agent("alice"), set_code(&ag, "c-sale"));
    w.hang_up("alice");
    assert_eq!(w.wrapup(&ag).status, WrapupStatus::Set);
}

#[test]
fn codes_must_be_active_and_on_the_queue() {
    let mut w = World::default();
    let ag = call_ended_by_alice(&mut w, "q-optional");
    for bad in ["c-other", "c-archived", "c-nonexistent", WRAPUP_TIMEOUT, WRAPUP_SYSTEM] {
        let r = w.reject(&agent("alice"), set_code(&ag, bad));
        assert_code_not_allowed(&r, bad, &["c-sale", "c-support"]);
        let r = w.reject(&supervisor(), set_code(&ag, bad));
        assert_code_not_allowed(&r, bad, &["c-sale", "c-support"]);
    }
    assert_eq!(w.wrapup(&ag).status, WrapupStatus::Pending);
    // Provisional saves are validated as well.
    let mut w = World::default();
    let (_, ag) = w.connected_call("q-mandatory", "bob");
    let r = w.reject(&agent("bob"), set_code(&ag, "c-default"));
    assert_code_not_allowed(&r, "c-default", &["c-sale", "c-support"]);
}

#[test]
fn who_may_set_a_pending_wrapup() {
    let mut w = World::default();
    let ag = call_ended_by_alice(&mut w, "q-mandatory");
    for actor in [agent("bob"), client(&[Scope::ConversationsWrite]), guest()] {
        let r = w.reject(&actor, set_code(&ag, "c-sale"));
        assert!(matches!(r, Rejection::Forbidden { .. }), "{actor:?}: {r:?}");
    }
    w.exec(&client(&[Scope::WrapupWrite]), set_code(&ag, "c-sale"));
    let wr = w.wrapup(&ag);
    assert_eq!(wr.set_by.as_ref().map(|a| (a.kind, a.id.as_str())), Some((ActorKind::Client, "client-1")));
}

#[test]
fn setting_a_final_wrapup_is_an_amendment() {
    let mut w = World::default();
    let ag = call_ended_by_alice(&mut w, "q-optional");
    w.advance(1_000);
    let input = WrapupInput { notes: Patch::Value("first".into()), ..WrapupInput::code("c-sale") };
    w.exec(&agent("alice"), Command::SetWrapup { participant_id: ag.clone(), input });
    let before = w.wrapup(&ag).clone();
    // The agent may not amend; a client needs wrapup:amend.
    let r = w.reject(&agent("alice"), set_code(&ag, "c-support"));
    assert!(matches!(r, Rejection::Forbidden { .. }), "{r:?}");
    let r = w.reject(&client(&[Scope::WrapupWrite]), set_code(&ag, "c-support"));
    assert!(matches!(r, Rejection::Forbidden { .. }), "{r:?}");
    w.advance(1_000);
    w.exec(&supervisor(), set_code(&ag, "c-support"));
    assert_eq!(w.last_types(), ["wrapup.amended"]);
    let wr = w.wrapup(&ag).clone();
    assert_eq!(
        (wr.status, wr.code_id.as_deref(), wr.notes.as_deref()),
        (WrapupStatus::Set, Some("c-support"), Some("first"))
    );
    assert_eq!((wr.acw_started_at, wr.acw_ended_at), (before.acw_started_at, before.acw_ended_at));
    assert_eq!(wr.amended_from.len(), 1);
    let old = &wr.amended_from[0];
    assert_eq!(
        (old.status, old.code_id.as_deref(), old.notes.as_deref()),
        (WrapupStatus::Set, Some("c-sale"), Some("first"))
    );
    assert_eq!((old.by.as_ref().map(|b| b.id.as_str()), old.at), (Some("alice"), Some(at(11_000))));
    assert_eq!(wr.set_by.as_ref().map(|b| b.id.as_str()), Some("sue"));
    // A client with wrapup:amend clears the notes and keeps the code.
    let input = WrapupInput { notes: Patch::Null, ..Default::default() };
    w.exec(&client(&[Scope::WrapupAmend]), Command::SetWrapup { participant_id: ag.clone(), input });
    let wr = w.wrapup(&ag);
    assert_eq!((wr.code_id.as_deref(), wr.notes.as_deref(), wr.amended_from.len()), (Some("c-support"), None, 2));
    // An amendment also validates the code.
    let r = w.reject(&supervisor(), set_code(&ag, "c-other"));
    assert_code_not_allowed(&r, "c-other", &["c-sale", "c-support"]);
}

#[test]
fn skipped_and_timed_out_wrapups_are_amended_to_set() {
    let mut w = World::default();
    let ag = call_ended_by_alice(&mut w, "q-timeout");
    w.fire(deadline(&ag));
    w.exec(&admin(), set_code(&ag, "c-sale"));
    let wr = w.wrapup(&ag);
    assert_eq!((wr.status, wr.code_id.as_deref()), (WrapupStatus::Set, Some("c-sale")));
    assert_eq!(
        (wr.amended_from[0].status, wr.amended_from[0].code_id.as_deref()),
        (WrapupStatus::TimedOut, Some("c-default"))
    );
    assert_eq!(wr.acw_ended_at, Some(at(70_000)), "acwEndedAt never changes");
}

/// docs/RULES.md: notes alone cannot turn a system code into a `set`.
#[test]
fn amending_a_timed_out_system_code_needs_a_code() {
    let mut w = World::default();
    let ag = call_ended_by_alice(&mut w, "q-timeout-nodefault");
    w.fire(deadline(&ag));
    assert_eq!(w.wrapup(&ag).code_id.as_deref(), Some("WRAPUP-TIMEOUT"));
    let notes_only = WrapupInput { notes: Patch::Value("late note".into()), ..Default::default() };
    let r = w.reject(&supervisor(), Command::SetWrapup { participant_id: ag.clone(), input: notes_only });
    assert!(matches!(&r, Rejection::Invalid { violations, .. } if violations[0].pointer == "/codeId"), "{r:?}");
    assert_eq!(w.wrapup(&ag).status, WrapupStatus::TimedOut);
}

/// docs/RULES.md: notes alone cannot make a `set` without a code.
#[test]
fn amending_a_codeless_wrapup_needs_a_code() {
    let mut w = World::default();
    let ag = call_ended_by_alice(&mut w, "q-none");
    let notes_only = WrapupInput { notes: Patch::Value("late note".into()), ..Default::default() };
    let r = w.reject(&supervisor(), Command::SetWrapup { participant_id: ag.clone(), input: notes_only.clone() });
    assert!(matches!(r, Rejection::Invalid { .. }), "{r:?}");
    assert_eq!(w.wrapup(&ag).status, WrapupStatus::NotRequired);
    let input = WrapupInput { code_id: Some("c-sale".into()), ..notes_only };
    w.exec(&supervisor(), Command::SetWrapup { participant_id: ag.clone(), input });
    let wr = w.wrapup(&ag);
    assert_eq!((wr.status, wr.notes.as_deref()), (WrapupStatus::Set, Some("late note")));
    assert_eq!((wr.amended_from[0].status, wr.amended_from[0].code_id.as_deref()), (WrapupStatus::NotRequired, None));
}

#[test]
fn the_amendment_window_is_fixed_at_close() {
    let mut w = World::default();
    let ag = call_ended_by_alice(&mut w, "q-none");
    let until = at(10_000 + 30 * DAY_MS);
    assert_eq!(w.wrapup(&ag).amendable_until, Some(until));
    w.now = until;
    w.exec(&supervisor(), set_code(&ag, "c-sale"));
    assert_eq!(w.wrapup(&ag).amendable_until, Some(until), "an amendment keeps the window");
    w.advance(1);
    let r = w.reject(&supervisor(), set_code(&ag, "c-support"));
    assert_eq!(r, Rejection::AmendmentWindowClosed { amendable_until: until });
    assert_eq!(r.code(), "amendment_window_closed");
}

#[test]
fn a_wrapup_needs_a_connected_agent() {
    let mut w = World::default();
    w.create(inbound(MediaType::Voice, "q-mandatory"));
    let pid = w.offer("alice");
    let r = w.reject(&agent("alice"), set_code(&pid, "c-sale"));
    assert!(matches!(r, Rejection::InvalidTransition { .. }), "{r:?}");
    let cust = w.customer().id.clone();
    let r = w.reject(&system(), set_code(&cust, "c-sale"));
    assert!(matches!(r, Rejection::InvalidTransition { .. }), "{r:?}");
    let r = w.reject(&system(), set_code("p-missing", "c-sale"));
    assert!(matches!(r, Rejection::NotFound { what: "participant", .. }), "{r:?}");
}
