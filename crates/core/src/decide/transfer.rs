//! Blind transfer to a queue or a user, from an agent or a bot, or of a queued acd entry (moving queued work).

use super::lifecycle::{enqueue, offer_direct};
use super::{Tx, wrapup};
use crate::command::{TransferTarget, WrapupInput};
use crate::event::EventData;
use crate::model::{EndReason, ParticipantState, Purpose, StateReason};
use crate::rejection::Rejection;
use serde_json::Value;

pub fn transfer(
    tx: &mut Tx,
    from: &str,
    to: &TransferTarget,
    context_data: Option<&Value>,
    inline: Option<&WrapupInput>,
) -> Result<(), Rejection> {
    if tx.conv.ended_at.is_some() {
        return Err(Rejection::invalid_transition("the conversation has ended: nothing to transfer", None));
    }
    let p = tx.participant(from)?;
    match (p.purpose, p.state) {
        (Purpose::Agent | Purpose::Bot, ParticipantState::Connected) => tx.ensure_acts_for(&p)?,
        (Purpose::Acd, ParticipantState::Queued) => {
            let a = tx.actor();
            let may = a.is_supervisor_or_admin()
                || (a.kind == crate::model::ActorKind::Client && a.has_scope(crate::actor::Scope::ConversationsWrite));
            if !may {
                return Err(Rejection::forbidden("moving queued work needs a supervisor, an admin or a client"));
            }
        }
        _ => {
            return Err(Rejection::invalid_transition(
                "only a connected agent or bot, or a queued acd entry, can be transferred",
                Some(from),
            ));
        }
    }
    // Neither side of a consult in progress hands the customer on (a queued consult acd may be moved).
    let consulted = p.purpose == Purpose::Agent
        && p.consult_for.as_deref().is_some_and(|i| tx.conv.participant(i).is_some_and(|i| i.is_live()));
    if p.purpose == Purpose::Agent && (super::consult::consult_target(tx, from).is_some() || consulted) {
        return Err(Rejection::invalid_transition("a consult is in progress: complete or cancel it first", Some(from)));
    }
    check_target(tx, to, context_data)?;
    if inline.is_some() && !matches!(p.purpose, Purpose::Agent | Purpose::Bot) {
        return Err(Rejection::invalid("/wrapup", "only agents and bots record a wrap-up"));
    }
    match (inline, p.purpose) {
        (Some(input), Purpose::Bot) => bot_outcome(tx, &p, input)?,
        (Some(input), _) => wrapup::save_provisional(tx, &p, input, "/wrapup")?,
        (None, _) => {}
    }
    tx.emit(EventData::ConversationTransferred {
        from_participant_id: from.to_string(),
        to: to.clone(),
        context_data: context_data.cloned(),
    });
    // Moving a queued consult keeps it a consult for the same initiator.
    let consult_for = if p.purpose == Purpose::Acd { p.consult_for.as_deref() } else { None };
    match to {
        TransferTarget::Queue { queue_id } => enqueue(tx, queue_id, consult_for),
        TransferTarget::User { user_id } => offer_direct(tx, user_id, "/to/userId", consult_for, None)?,
    }
    if p.purpose == Purpose::Acd {
        tx.withdraw_offers_of(from);
    }
    tx.end_participant(from, StateReason::Transfer, None, false);
    if inline.is_some() && p.purpose == Purpose::Agent {
        wrapup::finish_inline(tx, from)?;
    }
    tx.apply_handler_rule(EndReason::AgentEnded);
    Ok(())
}

/// Checks a transfer or consult target and its context: limits, context size, the target queue's schema
/// (every violation at once, pointers into the request body), and that someone can take it.
pub fn check_target(tx: &Tx, to: &TransferTarget, context_data: Option<&Value>) -> Result<(), Rejection> {
    let max = tx.dir().settings().max_transfers;
    if tx.conv.transfer_count >= max {
        return Err(Rejection::invalid(
            "/to",
            format!("the conversation reached the limit of {max} transfers (maxTransfers)"),
        ));
    }
    if context_data.is_some_and(|ctx| !ctx.is_object()) {
        return Err(Rejection::invalid("/contextData", "must be a JSON object"));
    }
    let merged = tx.merged_attributes(context_data);
    if context_data.is_some() {
        // The limit holds for what the conversation would carry, not just this request's part of it.
        let max_bytes = tx.dir().settings().max_context_bytes;
        if merged.to_string().len() > max_bytes {
            return Err(Rejection::invalid(
                "/contextData",
                format!("the merged attributes would exceed {max_bytes} bytes (maxContextBytes)"),
            ));
        }
    }
    if let TransferTarget::Queue { queue_id } = to {
        let queue = tx
            .dir()
            .queue(queue_id)
            .ok_or_else(|| Rejection::invalid("/to/queueId", format!("unknown queue {queue_id}")))?;
        let violations: Vec<crate::Violation> = tx
            .dir()
            .context_violations(queue_id, &merged)
            .into_iter()
            .map(|v| crate::Violation::new(format!("/contextData{}", v.pointer), v.message))
            .collect();
        if !violations.is_empty() {
            let detail =
                format!("the context does not match queue {}'s schema ({} violations)", queue.name, violations.len());
            return Err(Rejection::Invalid { detail, violations });
        }
        if !queue.members.iter().any(|m| m.joined) {
            return Err(Rejection::Conflict {
                code: "queue_has_no_members",
                detail: format!("queue {} has no joined members: nobody could take the conversation", queue.name),
            });
        }
    }
    Ok(())
}

/// A bot's own outcome code at handover: recorded as its wrap-up, `set`, never pending.
fn bot_outcome(tx: &mut Tx, bot: &crate::model::Participant, input: &WrapupInput) -> Result<(), Rejection> {
    let code = input.code_id.as_deref().ok_or_else(|| Rejection::invalid("/wrapup/codeId", "is required"))?;
    wrapup::validate_text(input, "/wrapup")?;
    let name = wrapup::validate_code(tx, bot, code, "/wrapup/codeId")?;
    let mut w = crate::model::Wrapup::not_started(crate::model::AcwPolicy::None, None, None);
    w.status = crate::model::WrapupStatus::Set;
    wrapup::apply_fields(&mut w, input, Some(name));
    w.acw_started_at = Some(tx.at);
    w.acw_ended_at = Some(tx.at);
    w.set_by = Some(tx.actor().as_ref());
    w.set_at = Some(tx.at);
    tx.emit(EventData::WrapupSet { participant_id: bot.id.clone(), wrapup: w });
    Ok(())
}
