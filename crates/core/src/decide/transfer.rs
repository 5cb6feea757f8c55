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
    let max = tx.dir().settings().max_transfers;
    if tx.conv.transfer_count >= max {
        return Err(Rejection::invalid("/to", format!("the conversation reached the limit of {max} transfers")));
    }
    if let Some(ctx) = context_data
        && !ctx.is_object()
    {
        return Err(Rejection::invalid("/contextData", "must be a JSON object"));
    }
    if inline.is_some() && p.purpose != Purpose::Agent {
        return Err(Rejection::invalid("/wrapup", "only agent participants have a wrap-up"));
    }
    if let TransferTarget::Queue { queue_id } = to
        && tx.dir().queue(queue_id).is_none()
    {
        return Err(Rejection::invalid("/to/queueId", format!("unknown queue {queue_id}")));
    }
    if let Some(input) = inline {
        wrapup::save_provisional(tx, &p, input, "/wrapup")?;
    }
    tx.emit(EventData::ConversationTransferred {
        from_participant_id: from.to_string(),
        to: to.clone(),
        context_data: context_data.cloned(),
    });
    match to {
        TransferTarget::Queue { queue_id } => enqueue(tx, queue_id),
        TransferTarget::User { user_id } => offer_direct(tx, user_id, "/to/userId")?,
    }
    if p.purpose == Purpose::Acd {
        let offers: Vec<String> = tx
            .conv
            .participants
            .iter()
            .filter(|a| a.state == ParticipantState::Alerting && a.acd_id.as_deref() == Some(from))
            .map(|a| a.id.clone())
            .collect();
        for o in offers {
            tx.withdraw_offer(&o);
        }
    }
    tx.end_participant(from, StateReason::Transfer, None, false);
    if inline.is_some() {
        wrapup::finish_inline(tx, from)?;
    }
    tx.apply_handler_rule(EndReason::AgentEnded);
    Ok(())
}
