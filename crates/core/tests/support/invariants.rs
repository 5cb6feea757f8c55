//! DOMAIN.md's invariants for one conversation snapshot, and helpers the checks share.

use super::TestDir;
use std::collections::BTreeMap;
use switchboard_core::config::{WRAPUP_SYSTEM, WRAPUP_TIMEOUT};
use switchboard_core::{
    AcwPolicy, Conversation, ConversationState, Event, Load, MediaType, Participant, ParticipantState, Purpose, Wrapup,
    WrapupStatus, allowed_codes,
};

pub fn types(events: &[Event]) -> Vec<&'static str> {
    events.iter().map(|e| e.data.type_name()).collect()
}

pub fn code_allowed(p: &Participant, code: &str, dir: &TestDir) -> bool {
    allowed_codes(p, dir).iter().any(|c| c.id == code)
}

/// Load this conversation gives each user (alerting, connected, or disconnected with a pending wrap-up).
pub fn own_loads(conv: Option<&Conversation>) -> BTreeMap<String, Load> {
    let mut out: BTreeMap<String, Load> = BTreeMap::new();
    if let Some(c) = conv {
        for (u, m) in switchboard_core::routing::footprint(c).loads {
            out.entry(u).or_default().add(m, 1);
        }
    }
    out
}

/// DOMAIN.md's state invariants for one snapshot (config is static in these tests).
pub fn check_conversation(c: &Conversation, dir: &TestDir) {
    let live = c.participants.iter().any(Participant::is_live);
    let pending = c.participants.iter().any(Participant::wrapup_pending);
    let expected = match (live, pending) {
        (true, _) => ConversationState::Active,
        (false, true) => ConversationState::Wrapup,
        (false, false) => ConversationState::Closed,
    };
    assert_eq!(c.state(), expected, "state is derived from participants and wrap-ups");
    assert_eq!(c.ended_at.is_some(), !live, "the media has ended exactly when nobody is live");
    if live {
        // The handler rule: once the customer left or no handler remains, everyone is disconnected.
        assert!(c.customer().is_some_and(Participant::is_live), "a live conversation has its customer");
        assert!(c.participants.iter().any(Participant::is_handler), "a live conversation has a handler");
    }
    assert_eq!(c.end_reason.is_some(), c.ended_at.is_some());
    assert_eq!(c.closed_at.is_some(), expected == ConversationState::Closed, "closedAt is set exactly when closed");
    if let (Some(e), Some(cl)) = (c.ended_at, c.closed_at) {
        assert!(cl >= e);
    }
    check_consults(c);
    for p in &c.participants {
        let ctx = format!("participant {} ({:?}, {:?})", p.id, p.purpose, p.state);
        assert_eq!(p.is_live(), p.state_reason.is_none(), "{ctx}: a reason exactly when disconnected");
        assert_eq!(p.is_live(), p.disconnected_at.is_none(), "{ctx}: disconnectedAt exactly when disconnected");
        assert!(p.purpose == Purpose::Acd || p.state != ParticipantState::Queued, "{ctx}: only acds queue");
        assert!(p.purpose == Purpose::Acd || !p.abandoned, "{ctx}: only acds are abandoned");
        assert!(!p.withdrawn || (p.purpose == Purpose::Agent && !p.is_live()), "{ctx}: withdrawn offers end");
        if p.withdrawn {
            assert!(p.wrapup.is_none() && p.connected_at.is_none(), "{ctx}: a withdrawn offer has no wrap-up");
        }
        if p.purpose == Purpose::Agent
            && p.state == ParticipantState::Alerting
            && let Some(acd_id) = &p.acd_id
        {
            let acd = c.participant(acd_id).expect("the offer's acd exists");
            assert_eq!(acd.state, ParticipantState::Queued, "{ctx}: an offer's acd is queued");
        }
        if p.purpose == Purpose::Agent && p.connected_at.is_none() && !p.is_live() {
            use switchboard_core::StateReason as R;
            let how = (p.state_reason, p.withdrawn);
            let ok = matches!(how, (Some(R::Declined | R::NoAnswer), false) | (Some(R::System), true));
            assert!(ok, "{ctx}: an offer ends declined, unanswered or withdrawn, not {how:?}");
        }
        if let (Some(acd_id), Some(_)) = (&p.acd_id, p.connected_at) {
            let acd = c.participant(acd_id).expect("the offer's acd exists");
            assert!(!acd.is_live(), "{ctx}: the acd leaves when its agent connects");
            assert_eq!(acd.state_reason, Some(switchboard_core::StateReason::Transfer), "{ctx}");
        }
        if p.purpose == Purpose::Acd {
            let alerting = c
                .participants
                .iter()
                .filter(|a| a.state == ParticipantState::Alerting && a.acd_id.as_deref() == Some(p.id.as_str()))
                .count();
            assert!(alerting <= 1, "{ctx}: at most one agent alerts per acd");
        }
        check_consult_target(p, c, &ctx);
        match (&p.wrapup, p.purpose, p.connected_at) {
            (None, Purpose::Agent, Some(_)) => panic!("{ctx}: an agent that connected has a wrap-up"),
            (Some(_), Purpose::Agent, None) => panic!("{ctx}: an agent that never connected has no wrap-up"),
            // A bot records its own outcome at handover: `set`, never pending.
            (Some(w), Purpose::Bot, _) => {
                assert_eq!(w.status, WrapupStatus::Set, "{ctx}: a bot's outcome is set at once");
                assert!(
                    w.code_id.is_some() && w.acw_ended_at == w.acw_started_at,
                    "{ctx}: a bot's outcome has a code and no ACW"
                );
            }
            (Some(_), purpose, _) if purpose != Purpose::Agent => panic!("{ctx}: only agents and bots have wrap-ups"),
            (Some(w), _, _) => check_wrapup(p, w, c, dir, &ctx),
            _ => {}
        }
    }
}

/// A consult in progress: a live target (agent or acd) whose initiator is still connected.
pub fn consults_in_progress(c: &Conversation) -> Vec<&Participant> {
    c.participants
        .iter()
        .filter(|p| p.is_live())
        .filter(|p| {
            p.consult_for
                .as_deref()
                .and_then(|i| c.participant(i))
                .is_some_and(|i| i.state == ParticipantState::Connected)
        })
        .collect()
}

/// `held` and `consultFor`: the hold is a flag on a connected voice customer; `consultFor` names an agent of the
/// conversation; a target whose initiator left is one that took the customer over (a completed consult).
fn check_consult_target(p: &Participant, c: &Conversation, ctx: &str) {
    if p.held {
        assert_eq!(
            (p.purpose, p.state),
            (Purpose::Customer, ParticipantState::Connected),
            "{ctx}: only a connected customer is held"
        );
        assert_eq!(c.media_type, MediaType::Voice, "{ctx}: hold is for voice");
    }
    assert_eq!(p.held, p.held_since.is_some(), "{ctx}: heldSince exactly when held");
    let Some(initiator) = p.consult_for.as_deref() else { return };
    let i = c.participant(initiator).unwrap_or_else(|| panic!("{ctx}: consultFor {initiator} is not a participant"));
    assert_eq!(i.purpose, Purpose::Agent, "{ctx}: consultFor names an agent");
    assert_ne!(i.id, p.id, "{ctx}: nobody consults itself");
    assert!(matches!(p.purpose, Purpose::Agent | Purpose::Acd), "{ctx}: consult targets are agents or acds");
    assert!(i.state != ParticipantState::Alerting, "{ctx}: an initiator had connected");
    if p.is_live() && !i.is_live() {
        assert_eq!(
            (p.purpose, p.state),
            (Purpose::Agent, ParticipantState::Connected),
            "{ctx}: a target outliving its initiator took the customer over"
        );
    }
}

/// DOMAIN.md's consult: at most one in progress, with the customer held; one agent (and its acd) per consult.
fn check_consults(c: &Conversation) {
    let live = consults_in_progress(c);
    let initiators: std::collections::BTreeSet<&str> = live.iter().filter_map(|p| p.consult_for.as_deref()).collect();
    assert!(initiators.len() <= 1, "at most one consult in progress: {initiators:?}");
    if live.is_empty() {
        return;
    }
    let held = c.customer().is_some_and(|cu| cu.held);
    assert!(held, "the customer is held while a consult is in progress");
    let agents: Vec<&&Participant> = live.iter().filter(|p| p.purpose == Purpose::Agent).collect();
    let acds: Vec<&&Participant> = live.iter().filter(|p| p.purpose == Purpose::Acd).collect();
    assert!(agents.len() <= 1 && acds.len() <= 1, "one target per consult: {live:?}");
    if let (Some(a), Some(acd)) = (agents.first(), acds.first()) {
        assert_eq!(a.acd_id.as_deref(), Some(acd.id.as_str()), "a consult's agent comes from the consult's acd");
        assert_eq!(a.state, ParticipantState::Alerting, "the consult acd leaves when its agent connects");
    }
}

/// Every `consult.started` ends with one `consult.completed` or `consult.cancelled`, unless still in progress or
/// the media ended (teardown ends everything at once).
pub fn check_consult_events(c: &Conversation, events: &[Event]) {
    let count = |t: &str| events.iter().filter(|e| e.data.type_name() == t).count();
    let started = count("consult.started");
    let ended = count("consult.completed") + count("consult.cancelled");
    if c.ended_at.is_none() {
        let open = usize::from(!consults_in_progress(c).is_empty());
        assert_eq!(started, ended + open, "each consult.started ends once, when its consult stops");
    } else {
        assert!(ended <= started, "a consult ends at most once");
    }
}

fn check_wrapup(p: &Participant, w: &Wrapup, c: &Conversation, dir: &TestDir, ctx: &str) {
    let acw = p
        .queue_id
        .as_deref()
        .and_then(|q| dir.queues.get(q))
        .map(|q| q.acw.clone())
        .unwrap_or_else(|| dir.settings.direct_acw.clone());
    assert_eq!((w.policy, w.timeout_ms, &w.default_code_id), (acw.policy, acw.timeout_ms, &acw.default_code_id));
    if p.is_live() {
        assert_eq!(w.status, WrapupStatus::NotStarted, "{ctx}: a live agent's wrap-up has not started");
        assert!(w.acw_started_at.is_none() && w.acw_ended_at.is_none());
        return;
    }
    assert_ne!(w.status, WrapupStatus::NotStarted, "{ctx}: a disconnected agent's ACW has started");
    assert_eq!(w.acw_started_at, p.disconnected_at, "{ctx}: ACW starts at the disconnect");
    match w.status {
        WrapupStatus::Pending => {
            assert!(w.acw_ended_at.is_none() && w.expected, "{ctx}");
            let deadline = w.timeout_ms.filter(|_| w.policy.has_deadline()).map(|t| p.disconnected_at.unwrap().0 + t);
            assert_eq!(w.deadline.map(|d| d.0), deadline, "{ctx}: the deadline is disconnect + timeoutMs");
            // A code makes a pending wrap-up final at once, except under the forced timebox where it stays
            // provisional until the deadline (notes saved while connected may stay provisional too).
            if w.code_id.is_some() {
                assert!(w.policy == AcwPolicy::MandatoryForcedTimeout && w.provisional, "{ctx}: pending with a code");
            }
            assert!(matches!(
                w.policy,
                AcwPolicy::Optional
                    | AcwPolicy::Mandatory
                    | AcwPolicy::MandatoryTimeout
                    | AcwPolicy::MandatoryForcedTimeout
                    | AcwPolicy::AgentRequested
            ));
        }
        status => {
            let (start, end) = (w.acw_started_at.unwrap(), w.acw_ended_at.expect("a final wrap-up has acwEndedAt"));
            assert!(end >= start, "{ctx}: acwEndedAt >= acwStartedAt");
            assert!(!w.provisional, "{ctx}: a final wrap-up is not provisional");
            let code = w.code_id.as_deref();
            match status {
                WrapupStatus::Set => {
                    let code = code.expect("a set wrap-up has a code");
                    let kept = w.amended_from.iter().any(|a| a.code_id.as_deref() == Some(code));
                    assert!(
                        code_allowed(p, code, dir) || code == WRAPUP_SYSTEM || kept,
                        "{ctx}: set code {code} is not allowed"
                    );
                }
                WrapupStatus::TimedOut => {
                    assert!(code == w.default_code_id.as_deref() || code == Some(WRAPUP_TIMEOUT), "{ctx}")
                }
                WrapupStatus::Skipped => assert!(code.is_none() && w.policy == AcwPolicy::Optional, "{ctx}"),
                WrapupStatus::NotRequired => assert!(code.is_none(), "{ctx}"),
                _ => unreachable!(),
            }
        }
    }
    match c.closed_at {
        Some(closed) => {
            let until = closed.plus_ms(dir.settings.amendment_window_ms);
            assert_eq!(w.amendable_until, Some(until), "{ctx}: amendableUntil = closedAt + window");
        }
        None => assert_eq!(w.amendable_until, None, "{ctx}: no amendment window before close"),
    }
}
