//! DOMAIN.md's invariants for one conversation snapshot, and helpers the checks share.

use super::TestDir;
use std::collections::BTreeMap;
use switchboard_core::config::{WRAPUP_SYSTEM, WRAPUP_TIMEOUT};
use switchboard_core::{
    AcwPolicy, Conversation, ConversationState, Event, Load, Participant, ParticipantState, Purpose, Wrapup,
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
        match (&p.wrapup, p.purpose, p.connected_at) {
            (None, Purpose::Agent, Some(_)) => panic!("{ctx}: an agent that connected has a wrap-up"),
            (Some(_), Purpose::Agent, None) => panic!("{ctx}: an agent that never connected has no wrap-up"),
            (Some(_), purpose, _) if purpose != Purpose::Agent => panic!("{ctx}: only agents have wrap-ups"),
            (Some(w), _, _) => check_wrapup(p, w, c, dir, &ctx),
            _ => {}
        }
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
