//! `allowedActions`: the command names that would succeed for this caller now (shown in reads and errors).

use crate::actor::{Actor, Scope};
use crate::model::{AcwPolicy, Conversation, ConversationState, MediaType, ParticipantState, Purpose, WrapupStatus};
use crate::time::Timestamp;

/// The consult in progress, if any: `(initiator, target)` while both are live (at most one at a time).
pub fn consult_in_progress(conv: &Conversation) -> Option<(&crate::model::Participant, &crate::model::Participant)> {
    conv.participants.iter().find_map(|t| {
        let initiator = conv.participant(t.consult_for.as_deref()?)?;
        (t.is_live() && initiator.is_live()).then_some((initiator, t))
    })
}

pub fn allowed_actions(conv: &Conversation, actor: &Actor, now: Timestamp) -> Vec<&'static str> {
    let mut out: Vec<&'static str> = Vec::new();
    let state = conv.state();
    let writes = actor.has_scope(Scope::ConversationsWrite) || actor.has_scope(Scope::ConversationsParticipate);
    let consult = consult_in_progress(conv);
    let customer = conv.customer();
    let customer_connected = customer.is_some_and(|c| c.state == ParticipantState::Connected);
    let held = customer_connected && customer.is_some_and(|c| c.held);
    for p in &conv.participants {
        let acts = actor.acts_for(p);
        if writes && acts {
            match (p.purpose, p.state) {
                (Purpose::Agent, ParticipantState::Alerting) => out.extend(["answer", "decline"]),
                (Purpose::Customer, ParticipantState::Contacting) => out.push("answer"),
                _ => {}
            }
            if p.is_live() {
                out.push("disconnect");
            }
            let consulting = consult.is_some_and(|(i, _)| i.id == p.id);
            let consulted = consult.is_some_and(|(_, t)| t.id == p.id);
            if matches!(p.purpose, Purpose::Agent | Purpose::Bot)
                && p.state == ParticipantState::Connected
                && !consulting
                && !consulted
            {
                out.push("transfer");
            }
            if p.purpose == Purpose::Agent
                && p.state == ParticipantState::Connected
                && conv.media_type == MediaType::Voice
            {
                let any_consult = consult.is_some();
                if customer_connected && !held {
                    out.push("hold");
                }
                if held && !any_consult {
                    out.push("unhold");
                }
                if customer_connected && !any_consult {
                    out.push("consult");
                }
                if consulting {
                    out.push("cancelConsult");
                    let answered = consult
                        .is_some_and(|(_, t)| t.purpose == Purpose::Agent && t.state == ParticipantState::Connected);
                    if answered {
                        out.push("completeConsult");
                    }
                }
            }
            if conv.media_type == MediaType::Message && p.state == ParticipantState::Connected {
                out.push("postMessage");
            }
            if state != ConversationState::Closed {
                out.push("updateParticipantAttributes");
            }
        }
        if let Some(w) = &p.wrapup {
            let may_set = actor.may_set_wrapup(p)
                && (actor.has_scope(Scope::WrapupWrite) || actor.kind == crate::model::ActorKind::System);
            match w.status {
                WrapupStatus::NotStarted if p.state == ParticipantState::Connected => {
                    if may_set {
                        out.push("setWrapup");
                    }
                    // Like `decide`: requesting ACW is acting on the participant, not a wrap-up write.
                    if w.policy == AcwPolicy::AgentRequested && writes && acts {
                        out.push("requestAcw");
                    }
                }
                WrapupStatus::Pending if may_set => {
                    out.push("setWrapup");
                    if w.policy == AcwPolicy::Optional {
                        out.push("skipWrapup");
                    }
                }
                s if s.is_final() && actor.may_amend() && w.amendable_until.is_none_or(|u| now <= u) => {
                    out.push("amendWrapup")
                }
                _ => {}
            }
        }
        if p.purpose == Purpose::Acd
            && p.state == ParticipantState::Queued
            && (actor.is_supervisor_or_admin()
                || actor.kind == crate::model::ActorKind::Client && actor.has_scope(Scope::ConversationsWrite))
        {
            out.push("transfer");
        }
    }
    if state != ConversationState::Closed && actor.has_scope(Scope::ConversationsClose) {
        out.push("close");
    }
    if state != ConversationState::Closed
        && writes
        && (actor.is_supervisor_or_admin()
            || conv.participants.iter().any(|p| actor.is_own(p))
            || actor.kind == crate::model::ActorKind::Client && actor.has_scope(Scope::ConversationsWrite))
    {
        out.push("updateAttributes");
    }
    out.sort_unstable();
    out.dedup();
    out
}
