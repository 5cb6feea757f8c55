//! `wrapup-explain`: for each participant, why its wrap-up code is what it is (or why there is none), as a
//! stable `reason` and a sentence a person can read.

use crate::config::{WRAPUP_SYSTEM, WRAPUP_TIMEOUT};
use crate::model::{ActorKind, ActorRef, AcwPolicy, Conversation, Participant, Purpose, StateReason, WrapupStatus};
use serde::Serialize;
use serde_json::{Value, json};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Reason {
    /// Customers, acd entries, external parties: no wrap-up by design.
    NotApplicable,
    /// An agent who never answered the offer (declined, no answer, withdrawn).
    OfferNeverAnswered,
    /// Connected, no ACW yet (a provisional code may be saved).
    NotStarted,
    /// The policy has no wrap-up phase (none, or agentRequested without a request).
    NoWrapupPhase,
    /// Waiting for a code (with the deadline, if any).
    Pending,
    Skipped,
    /// The deadline passed: the default code or WRAPUP-TIMEOUT.
    TimedOut,
    /// Resolved by a system teardown (close with pendingWrapups: system).
    SystemTeardown,
    /// Chosen: by the agent, a supervisor, a client, a close, or kept from a provisional value.
    Set,
    /// Changed after it was final.
    Amended,
}

fn who(a: Option<&ActorRef>) -> String {
    match a {
        None => "someone".into(),
        Some(a) => match a.kind {
            ActorKind::User => format!("user {}", a.id),
            ActorKind::Client => format!("client {}", a.id),
            ActorKind::Guest => "the customer".into(),
            ActorKind::System => "the system".into(),
        },
    }
}

fn code_label(id: Option<&str>, name: Option<&str>) -> String {
    match (name, id) {
        (Some(n), Some(i)) => format!("\"{n}\" ({i})"),
        (None, Some(i)) => i.to_string(),
        _ => "no code".into(),
    }
}

pub fn explain_participant(p: &Participant) -> Value {
    let base = |reason: Reason, sentence: String| {
        json!({"participantId": p.id, "purpose": p.purpose, "userId": p.user_id, "reason": reason, "sentence": sentence,
               "codeId": p.wrapup.as_ref().and_then(|w| w.code_id.clone()),
               "status": p.wrapup.as_ref().map(|w| w.status)})
    };
    let Some(w) = &p.wrapup else {
        return match p.purpose {
            Purpose::Agent => {
                let how = match p.state_reason {
                    Some(StateReason::Declined) => "declined it",
                    Some(StateReason::NoAnswer) => "did not answer in time",
                    _ if p.withdrawn => "had it withdrawn before answering",
                    _ => "has not answered yet",
                };
                base(Reason::OfferNeverAnswered, format!("The agent never connected (it {how}), so it has no wrap-up."))
            }
            Purpose::Bot => base(Reason::NoWrapupPhase, "The bot recorded no outcome code when it handed over.".into()),
            _ => base(Reason::NotApplicable, "Only agents and bots have wrap-ups.".into()),
        };
    };
    let code = code_label(w.code_id.as_deref(), w.code_name.as_deref());
    let (reason, sentence) = match w.status {
        WrapupStatus::NotStarted => {
            let provisional =
                if w.code_id.is_some() { format!(" A provisional code {code} is saved.") } else { String::new() };
            (
                Reason::NotStarted,
                format!("The agent is still connected; after-call work starts when it disconnects.{provisional}"),
            )
        }
        WrapupStatus::NotRequired => {
            let why = match w.policy {
                AcwPolicy::AgentRequested => {
                    "the policy is agentRequested and the agent did not request after-call work"
                }
                _ => "the queue's policy is none",
            };
            (Reason::NoWrapupPhase, format!("No wrap-up phase: {why}."))
        }
        WrapupStatus::Pending => {
            let until = match w.deadline {
                Some(d) => {
                    let then = if w.policy == AcwPolicy::MandatoryForcedTimeout && w.code_id.is_some() {
                        "the code saved now becomes final"
                    } else {
                        "the default code or WRAPUP-TIMEOUT applies"
                    };
                    format!(" until {d} (policy {:?}); then {then}", w.policy)
                }
                None => format!(" with no deadline (policy {:?})", w.policy),
            };
            (
                Reason::Pending,
                format!(
                    "Waiting for a code since {}{until}.",
                    w.acw_started_at.map(|t| t.to_string()).unwrap_or_default()
                ),
            )
        }
        WrapupStatus::Skipped => (
            Reason::Skipped,
            format!("Skipped by {} at {} (the optional policy allows it).", who(w.set_by.as_ref()), opt(w.set_at)),
        ),
        WrapupStatus::TimedOut => {
            let which = if w.code_id.as_deref() == Some(WRAPUP_TIMEOUT) {
                "the queue names no default code, so WRAPUP-TIMEOUT was applied".to_string()
            } else {
                format!("the queue's default code {code} was applied")
            };
            (
                Reason::TimedOut,
                format!("The wrap-up deadline passed at {} without a code: {which}.", opt(w.acw_ended_at)),
            )
        }
        WrapupStatus::Set if !w.amended_from.is_empty() => {
            let last = w.amended_from.last().expect("non-empty");
            let from = code_label(last.code_id.as_deref(), None);
            (
                Reason::Amended,
                format!(
                    "Amended from {from} to {code} by {} at {} ({} amendment(s)).",
                    who(w.set_by.as_ref()),
                    opt(w.set_at),
                    w.amended_from.len()
                ),
            )
        }
        WrapupStatus::Set if w.code_id.as_deref() == Some(WRAPUP_SYSTEM) => (
            Reason::SystemTeardown,
            format!(
                "The conversation was closed by {} with pendingWrapups: system, so WRAPUP-SYSTEM resolved the pending wrap-up.",
                who(w.set_by.as_ref())
            ),
        ),
        WrapupStatus::Set => {
            (Reason::Set, format!("Set to {code} by {} at {}.", who(w.set_by.as_ref()), opt(w.set_at)))
        }
    };
    let mut v = base(reason, sentence);
    if reason == Reason::Pending {
        v["deadline"] = json!(w.deadline);
    }
    if !w.amended_from.is_empty() {
        v["amendedFrom"] = json!(w.amended_from);
    }
    v
}

fn opt(t: Option<crate::Timestamp>) -> String {
    t.map(|t| t.to_string()).unwrap_or_else(|| "an unknown time".into())
}

pub fn explain(conv: &Conversation) -> Value {
    json!({
        "conversationId": conv.id,
        "state": conv.state(),
        "participants": conv.participants.iter().map(explain_participant).collect::<Vec<_>>(),
    })
}
