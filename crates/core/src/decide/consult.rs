//! Hold and consult transfer (voice): hold/unhold, consult, completeConsult, cancelConsult.

use super::Tx;
use super::lifecycle::{enqueue, offer_direct};
use crate::command::TransferTarget;
use crate::event::EventData;
use crate::model::{EndReason, MediaType, Participant, ParticipantState, Purpose, StateReason};
use crate::rejection::Rejection;
use serde_json::Value;

/// The live participant a consult by `initiator` reaches (an alerting or connected agent, or a queued acd),
/// while the initiator is still there: after a completed consult the target keeps `consultFor` as history.
pub fn consult_target(tx: &Tx, initiator: &str) -> Option<Participant> {
    if !tx.conv.participant(initiator).is_some_and(|i| i.is_live()) {
        return None;
    }
    tx.conv.participants.iter().rev().find(|p| p.is_live() && p.consult_for.as_deref() == Some(initiator)).cloned()
}

/// Whether any consult is in progress (at most one is).
pub fn in_progress(conv: &crate::model::Conversation) -> bool {
    crate::allowed::consult_in_progress(conv).is_some()
}

/// The agent driving a hold or consult: connected, on voice, and the caller's to drive.
fn connected_voice_agent(tx: &Tx, pid: &str) -> Result<Participant, Rejection> {
    let p = tx.participant(pid)?;
    tx.ensure_acts_for(&p)?;
    if tx.conv.media_type != MediaType::Voice {
        return Err(Rejection::invalid_transition("hold and consult are for voice conversations", Some(pid)));
    }
    if p.purpose != Purpose::Agent || p.state != ParticipantState::Connected {
        return Err(Rejection::invalid_transition("only a connected agent can hold or consult", Some(pid)));
    }
    Ok(p)
}

fn connected_customer(tx: &Tx) -> Result<Participant, Rejection> {
    tx.conv
        .customer()
        .filter(|c| c.state == ParticipantState::Connected)
        .cloned()
        .ok_or_else(|| Rejection::invalid_transition("the customer is not connected", None))
}

pub fn hold(tx: &mut Tx, pid: &str) -> Result<(), Rejection> {
    connected_voice_agent(tx, pid)?;
    let customer = connected_customer(tx)?;
    if customer.held {
        return Err(Rejection::invalid_transition("the customer is already on hold", Some(&customer.id)));
    }
    tx.emit(EventData::ParticipantHeld { participant_id: customer.id, by: pid.to_string() });
    Ok(())
}

pub fn unhold(tx: &mut Tx, pid: &str) -> Result<(), Rejection> {
    connected_voice_agent(tx, pid)?;
    let customer = connected_customer(tx)?;
    if !customer.held {
        return Err(Rejection::invalid_transition("the customer is not on hold", Some(&customer.id)));
    }
    if in_progress(&tx.conv) {
        return Err(Rejection::invalid_transition("a consult is in progress: complete or cancel it", Some(pid)));
    }
    tx.emit(EventData::ParticipantUnheld { participant_id: customer.id, by: pid.to_string() });
    Ok(())
}

pub fn consult(tx: &mut Tx, from: &str, to: &TransferTarget, context_data: Option<&Value>) -> Result<(), Rejection> {
    connected_voice_agent(tx, from)?;
    let customer = connected_customer(tx)?;
    if in_progress(&tx.conv) {
        return Err(Rejection::invalid_transition("a consult is already in progress", Some(from)));
    }
    super::transfer::check_target(tx, to, context_data)?;
    if !customer.held {
        tx.emit(EventData::ParticipantHeld { participant_id: customer.id.clone(), by: from.to_string() });
    }
    match to {
        TransferTarget::Queue { queue_id } => enqueue(tx, queue_id, Some(from)),
        // The target's offer carries the consult's context (merged by `consult.started` just below).
        TransferTarget::User { user_id } => offer_direct(tx, user_id, "/to/userId", Some(from), context_data)?,
    }
    let target_id = consult_target(tx, from).map(|p| p.id).unwrap_or_default();
    tx.emit(EventData::ConsultStarted {
        initiator_id: from.to_string(),
        target_id,
        to: to.clone(),
        context_data: context_data.cloned(),
    });
    Ok(())
}

pub fn complete(tx: &mut Tx, initiator: &str) -> Result<(), Rejection> {
    let p = tx.participant(initiator)?;
    tx.ensure_acts_for(&p)?;
    let target = consult_target(tx, initiator).ok_or_else(|| {
        Rejection::invalid_transition("no consult is in progress for this participant", Some(initiator))
    })?;
    if target.purpose != Purpose::Agent || target.state != ParticipantState::Connected {
        return Err(Rejection::invalid_transition("the consulted agent has not answered yet", Some(&target.id)));
    }
    hand_over(tx, initiator, &target.id);
    tx.end_participant(initiator, StateReason::TransferConsult, None, false);
    tx.apply_handler_rule(EndReason::AgentEnded);
    Ok(())
}

/// The target keeps the customer: consult completed, customer off hold.
fn hand_over(tx: &mut Tx, initiator: &str, target: &str) {
    tx.emit(EventData::ConsultCompleted { initiator_id: initiator.to_string(), target_id: target.to_string() });
    unhold_customer(tx, target);
}

pub fn unhold_customer(tx: &mut Tx, by: &str) {
    if let Some(c) = tx.conv.customer().filter(|c| c.held && c.is_live()).map(|c| c.id.clone()) {
        tx.emit(EventData::ParticipantUnheld { participant_id: c, by: by.to_string() });
    }
}

pub fn cancel(tx: &mut Tx, initiator: &str) -> Result<(), Rejection> {
    let p = tx.participant(initiator)?;
    tx.ensure_acts_for(&p)?;
    let target = consult_target(tx, initiator).ok_or_else(|| {
        Rejection::invalid_transition("no consult is in progress for this participant", Some(initiator))
    })?;
    abort(tx, initiator, &target);
    Ok(())
}

/// The target leaves before taking the customer over: the consult is cancelled.
fn abort(tx: &mut Tx, initiator: &str, target: &Participant) {
    end_target(tx, target);
    cancelled(tx, initiator, &target.id);
}

/// The consult is over without a handover: the initiator keeps the customer, off hold.
fn cancelled(tx: &mut Tx, initiator: &str, target_id: &str) {
    tx.emit(EventData::ConsultCancelled { initiator_id: initiator.to_string(), target_id: target_id.to_string() });
    unhold_customer(tx, initiator);
}

/// The consult target leaves (`system`; its own wrap-up if it connected; offers are withdrawn).
fn end_target(tx: &mut Tx, target: &Participant) {
    match (target.purpose, target.state) {
        (Purpose::Agent, ParticipantState::Alerting) => {
            tx.withdraw_offer(&target.id);
            // A queue consult's offer: its acd leaves too, or routing would offer the consult again.
            let acd = target.acd_id.clone().filter(|a| tx.conv.participant(a).is_some_and(Participant::is_live));
            if let Some(acd) = acd {
                tx.end_participant(&acd, StateReason::System, None, false);
            }
        }
        (Purpose::Acd, _) => {
            tx.withdraw_offers_of(&target.id);
            tx.end_participant(&target.id, StateReason::System, None, false);
        }
        _ => tx.end_participant(&target.id, StateReason::System, None, false),
    }
}

/// The initiator leaves during a consult (it hung up): a connected target keeps the customer (the consult
/// completes); a target not yet connected is cancelled. Returns whether the customer was handed over, so the
/// initiator ends as a consult transfer (and is counted as one).
pub fn initiator_leaving(tx: &mut Tx, initiator: &str) -> bool {
    let Some(target) = consult_target(tx, initiator) else { return false };
    if target.purpose == Purpose::Agent && target.state == ParticipantState::Connected {
        hand_over(tx, initiator, &target.id);
        true
    } else {
        abort(tx, initiator, &target);
        false
    }
}

/// The consult target left or never answered: the consult is over and the initiator keeps the customer.
/// (A former target that took the customer over is no consult target any more: nothing to do.)
pub fn target_gone(tx: &mut Tx, target: &Participant) {
    let initiator_live = |i: &String| tx.conv.participant(i).is_some_and(|p| p.is_live());
    if let Some(initiator) = target.consult_for.as_ref().filter(|i| initiator_live(i)) {
        let initiator = initiator.clone();
        cancelled(tx, &initiator, &target.id);
    }
}
