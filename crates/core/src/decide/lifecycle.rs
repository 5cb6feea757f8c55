//! Offers and the participant lifecycle: offer, answer, decline, disconnect, withdrawal, timer firings.

use super::{AgentEffect, Tx, wrapup};
use crate::command::WrapupInput;
use crate::event::EventData;
use crate::model::{EndReason, Participant, ParticipantState, Purpose, StateReason, Wrapup, WrapupStatus};
use crate::rejection::Rejection;
use crate::time::Timestamp;
use crate::timers::TimerKind;

pub fn offer(tx: &mut Tx, acd_id: &str, user_id: &str) -> Result<(), Rejection> {
    let acd = tx.participant(acd_id)?;
    if acd.purpose != Purpose::Acd || acd.state != ParticipantState::Queued {
        return Err(Rejection::invalid_transition("only a queued acd entry can be offered", Some(acd_id)));
    }
    let busy = tx.conv.participants.iter().any(|p| {
        p.purpose == Purpose::Agent && p.state == ParticipantState::Alerting && p.acd_id.as_deref() == Some(acd_id)
    });
    if busy {
        return Err(Rejection::invalid_transition("an agent is already alerting for this entry", Some(acd_id)));
    }
    let queue_id = acd.queue_id.clone().unwrap_or_default();
    let queue = tx.dir().queue(&queue_id).ok_or_else(|| Rejection::NotFound { what: "queue", id: queue_id.clone() })?;
    let user = tx.dir().user(user_id).ok_or_else(|| Rejection::NotFound { what: "user", id: user_id.into() })?;
    let media = tx.conv.media_type;
    let auto_answer = queue.auto_answer_for(media);
    let mut agent = new_participant(tx, Purpose::Agent, ParticipantState::Alerting);
    agent.user_id = Some(user.id.clone());
    agent.name = Some(user.name.clone());
    agent.queue_id = Some(queue_id);
    agent.acd_id = Some(acd_id.to_string());
    agent.alerting_at = Some(tx.at);
    agent.alerting_deadline = (!auto_answer).then(|| tx.at.plus_ms(queue.alerting_timeout_for(media)));
    agent.consult_for = acd.consult_for.clone();
    let pid = agent.id.clone();
    let context = offer_context(tx, None);
    tx.emit(EventData::ParticipantAlerting { participant: Box::new(agent), context });
    if auto_answer {
        connect_agent(tx, &pid);
    }
    Ok(())
}

/// What an offered agent needs to know: the conversation's attributes (incl. any handover context), with
/// `pending` merged in: context the same command merges only after the offer (a consult's).
fn offer_context(tx: &Tx, pending: Option<&serde_json::Value>) -> Option<serde_json::Value> {
    let doc = tx.merged_attributes(pending);
    doc.as_object().is_some_and(|m| !m.is_empty()).then_some(doc)
}

pub fn new_participant(tx: &mut Tx, purpose: Purpose, state: ParticipantState) -> Participant {
    let id = tx.new_id();
    let communication_id = tx.new_id();
    Participant::new(id, communication_id, purpose, state)
}

/// Connects an alerting agent: its wrap-up policy is snapshotted now; the acd it came from leaves (`transfer`).
fn connect_agent(tx: &mut Tx, pid: &str) {
    let Some(p) = tx.conv.participant(pid).cloned() else { return };
    let acw = tx.acw_for(p.queue_id.as_deref());
    let wrapup = Wrapup::not_started(acw.policy, acw.timeout_ms, acw.default_code_id);
    tx.emit(EventData::ParticipantConnected { participant_id: pid.to_string(), wrapup: Some(wrapup) });
    if let Some(acd_id) = &p.acd_id
        && tx.conv.participant(acd_id).is_some_and(|a| a.is_live())
    {
        tx.end_participant(acd_id, StateReason::Transfer, None, false);
    }
}

pub fn answer(tx: &mut Tx, pid: &str) -> Result<(), Rejection> {
    let p = tx.participant(pid)?;
    tx.ensure_acts_for(&p)?;
    match (p.purpose, p.state) {
        (Purpose::Agent, ParticipantState::Alerting) => connect_agent(tx, pid),
        (Purpose::Customer, ParticipantState::Contacting) => {
            tx.emit(EventData::ParticipantConnected { participant_id: pid.to_string(), wrapup: None })
        }
        _ if p.withdrawn => {
            return Err(Rejection::invalid_transition("the offer was withdrawn", Some(pid)));
        }
        _ => {
            return Err(Rejection::invalid_transition(
                format!("cannot answer a participant that is {:?}", p.state).to_lowercase(),
                Some(pid),
            ));
        }
    }
    Ok(())
}

pub fn decline(tx: &mut Tx, pid: &str) -> Result<(), Rejection> {
    let p = tx.participant(pid)?;
    tx.ensure_acts_for(&p)?;
    if p.purpose != Purpose::Agent || p.state != ParticipantState::Alerting {
        return Err(Rejection::invalid_transition("only an alerting offer can be declined", Some(pid)));
    }
    refuse_offer(tx, &p, StateReason::Declined);
    Ok(())
}

/// A declined or unanswered offer: queue offers leave the acd queued; direct offers fall back to a queue or end.
fn refuse_offer(tx: &mut Tx, p: &Participant, reason: StateReason) {
    tx.end_participant(&p.id, reason, None, false);
    if p.direct && p.consult_for.is_some() {
        // A consulted agent who does not answer ends the consult; the initiator keeps the customer.
        super::consult::target_gone(tx, p);
        return;
    }
    if p.direct {
        let fallback = tx.conv.last_acd_queue().cloned().or_else(|| tx.conv.fallback_queue_id.clone());
        if let Some(q) = fallback.filter(|q| tx.dir().queue(q).is_some()) {
            enqueue(tx, &q, None);
        }
    }
    tx.apply_handler_rule(EndReason::NoAnswer);
}

/// Adds a new acd participant queued on `queue_id` (for a consult: on behalf of `consult_for`).
pub fn enqueue(tx: &mut Tx, queue_id: &str, consult_for: Option<&str>) {
    let mut acd = new_participant(tx, Purpose::Acd, ParticipantState::Queued);
    acd.consult_for = consult_for.map(String::from);
    acd.queue_id = Some(queue_id.to_string());
    acd.name = tx.dir().queue(queue_id).map(|q| q.name.clone());
    acd.queued_at = Some(tx.at);
    tx.emit(EventData::ParticipantQueued { participant: Box::new(acd) });
}

/// Adds a direct-to-user offer (create or transfer with `userId`); its wrap-up queue is the last acd queue.
pub fn offer_direct(
    tx: &mut Tx,
    user_id: &str,
    pointer: &str,
    consult_for: Option<&str>,
    pending_context: Option<&serde_json::Value>,
) -> Result<(), Rejection> {
    let user = tx.dir().user(user_id).ok_or_else(|| Rejection::invalid(pointer, format!("unknown user {user_id}")))?;
    let load = tx.dir().user_load(user_id);
    let voice_blocks = tx.dir().settings().voice_blocks_others;
    if !crate::routing::has_room(user, load, tx.conv.media_type, voice_blocks) {
        return Err(Rejection::Conflict {
            code: "target_at_capacity",
            detail: format!("user {user_id} has no capacity left for {:?} interactions", tx.conv.media_type)
                .to_lowercase(),
        });
    }
    let mut agent = new_participant(tx, Purpose::Agent, ParticipantState::Alerting);
    agent.user_id = Some(user.id.clone());
    agent.name = Some(user.name.clone());
    agent.queue_id = tx.conv.last_acd_queue().cloned();
    agent.direct = true;
    agent.alerting_at = Some(tx.at);
    agent.alerting_deadline = Some(tx.at.plus_ms(tx.dir().settings().direct_alerting_timeout_ms));
    agent.consult_for = consult_for.map(String::from);
    let context = offer_context(tx, pending_context);
    tx.emit(EventData::ParticipantAlerting { participant: Box::new(agent), context });
    Ok(())
}

pub fn disconnect(
    tx: &mut Tx,
    pid: &str,
    inline: Option<&WrapupInput>,
    skip_wrapup: bool,
    note: Option<String>,
) -> Result<(), Rejection> {
    let p = tx.participant(pid)?;
    tx.ensure_acts_for(&p)?;
    if !p.is_live() {
        return Err(Rejection::invalid_transition("the participant is already disconnected", Some(pid)));
    }
    if inline.is_some() && skip_wrapup {
        return Err(Rejection::invalid("/skipWrapup", "give either a wrap-up or skipWrapup, not both"));
    }
    if (inline.is_some() || skip_wrapup) && p.purpose != Purpose::Agent {
        return Err(Rejection::invalid("/wrapup", "only agent participants have a wrap-up"));
    }
    if p.purpose == Purpose::Agent && p.state == ParticipantState::Alerting {
        if tx.actor().is_own(&p) {
            refuse_offer(tx, &p, StateReason::Declined);
        } else {
            tx.withdraw_offer(pid);
            withdrawn_consult(tx, &p);
            tx.apply_handler_rule(EndReason::AgentEnded);
        }
        return Ok(());
    }
    if let Some(input) = inline {
        wrapup::save_provisional(tx, &p, input, "/wrapup")?;
    }
    if p.purpose == Purpose::Acd {
        tx.withdraw_offers_of(pid);
    }
    let handed_over = p.purpose == Purpose::Agent && super::consult::initiator_leaving(tx, pid);
    let reason = if handed_over {
        StateReason::TransferConsult
    } else if tx.actor().is_own(&p) {
        StateReason::Client
    } else {
        StateReason::System
    };
    tx.end_participant(pid, reason, note, false);
    if matches!(p.purpose, Purpose::Agent | Purpose::Acd) {
        // A consult target (an agent, or a queue consult's acd) leaving ends the consult.
        super::consult::target_gone(tx, &p);
    }
    if inline.is_some() {
        wrapup::finish_inline(tx, pid)?;
    }
    if skip_wrapup {
        let w = tx.conv.participant(pid).and_then(|p| p.wrapup.clone());
        if w.as_ref().is_some_and(|w| w.status == WrapupStatus::Pending) {
            wrapup::skip(tx, pid)?;
        }
    }
    let end_reason = if p.purpose == Purpose::Customer { EndReason::CustomerLeft } else { EndReason::AgentEnded };
    tx.apply_handler_rule(end_reason);
    tx.maybe_close();
    Ok(())
}

pub fn withdraw(tx: &mut Tx, pid: &str) -> Result<(), Rejection> {
    let p = tx.participant(pid)?;
    if p.purpose != Purpose::Agent || p.state != ParticipantState::Alerting {
        return Err(Rejection::invalid_transition("only an alerting offer can be withdrawn", Some(pid)));
    }
    tx.withdraw_offer(pid);
    withdrawn_consult(tx, &p);
    tx.apply_handler_rule(EndReason::AgentEnded);
    Ok(())
}

/// A direct consult offer withdrawn ends the consult like a decline; a queue consult's acd keeps waiting.
fn withdrawn_consult(tx: &mut Tx, p: &Participant) {
    if p.direct {
        super::consult::target_gone(tx, p);
    }
}

/// A durable timer firing. A stale firing (the state moved on) changes nothing.
pub fn fire_timer(tx: &mut Tx, timer: &TimerKind, due_at: Timestamp) -> Result<(), Rejection> {
    match timer {
        TimerKind::Alerting { participant_id } => {
            let Some(p) = tx.conv.participant(participant_id).cloned() else { return Ok(()) };
            if p.state != ParticipantState::Alerting || p.alerting_deadline != Some(due_at) {
                return Ok(());
            }
            if !p.direct
                && let Some(user_id) = &p.user_id
            {
                tx.effects.push(AgentEffect::MarkNotResponding { user_id: user_id.clone() });
            }
            refuse_offer(tx, &p, StateReason::NoAnswer);
        }
        TimerKind::WrapupDeadline { participant_id } => {
            let Some(w) = tx.conv.participant(participant_id).and_then(|p| p.wrapup.clone()) else { return Ok(()) };
            if w.status != WrapupStatus::Pending || w.deadline != Some(due_at) {
                return Ok(());
            }
            wrapup::expire(tx, participant_id, w);
        }
        TimerKind::Inactivity => {
            if tx.conv.ended_at.is_some() || tx.conv.inactivity_deadline != Some(due_at) {
                return Ok(());
            }
            tx.end_everyone(StateReason::Inactivity, false);
            tx.emit(EventData::ConversationEnded { reason: EndReason::Inactivity });
            tx.maybe_close();
        }
    }
    Ok(())
}
