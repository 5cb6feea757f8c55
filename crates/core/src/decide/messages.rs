//! Messages and attributes: postMessage, updateAttributes, updateParticipantAttributes.

use super::Tx;
use crate::config::DEFAULT_INACTIVITY_TIMEOUT_MS;
use crate::event::EventData;
use crate::model::{ConversationState, MediaType, Message, MessageDirection, ParticipantState, Purpose};
use crate::rejection::Rejection;
use serde_json::Value;
use std::collections::BTreeMap;

pub const MAX_MESSAGE_CHARS: usize = 4096;

pub fn post(tx: &mut Tx, pid: Option<&str>, text: &str) -> Result<(), Rejection> {
    if tx.conv.media_type != MediaType::Message {
        return Err(Rejection::invalid_transition("messages can only be posted to message conversations", None));
    }
    let sender = match pid {
        Some(pid) => {
            let p = tx.participant(pid)?;
            tx.ensure_acts_for(&p)?;
            p
        }
        None => tx
            .conv
            .participants
            .iter()
            .find(|p| p.state == ParticipantState::Connected && tx.actor().is_own(p))
            .cloned()
            .ok_or_else(|| {
                Rejection::invalid_transition("you have no connected participant here: pass participantId", None)
            })?,
    };
    if sender.state != ParticipantState::Connected {
        return Err(Rejection::invalid_transition("the sender is not connected", Some(&sender.id)));
    }
    if text.trim().is_empty() {
        return Err(Rejection::invalid("/text", "must not be empty"));
    }
    if text.chars().count() > MAX_MESSAGE_CHARS {
        return Err(Rejection::invalid("/text", format!("must be at most {MAX_MESSAGE_CHARS} characters")));
    }
    let inactivity_ms = tx
        .conv
        .last_acd_queue()
        .and_then(|q| tx.dir().queue(q))
        .map(|q| q.inactivity_timeout_ms)
        .unwrap_or(DEFAULT_INACTIVITY_TIMEOUT_MS);
    let message = Message {
        id: tx.new_id(),
        participant_id: sender.id.clone(),
        direction: if sender.purpose == Purpose::Customer {
            MessageDirection::Inbound
        } else {
            MessageDirection::Outbound
        },
        text: text.to_string(),
        sent_at: tx.at,
    };
    let inactivity_deadline = (inactivity_ms > 0).then(|| tx.at.plus_ms(inactivity_ms));
    tx.emit(EventData::MessageCreated { message, inactivity_deadline });
    Ok(())
}

fn ensure_open(tx: &Tx) -> Result<(), Rejection> {
    if tx.conv.state() == ConversationState::Closed {
        return Err(Rejection::invalid_transition("the conversation is closed", None));
    }
    Ok(())
}

fn ensure_may_edit(tx: &Tx) -> Result<(), Rejection> {
    let actor = tx.actor();
    let involved = tx.conv.participants.iter().any(|p| actor.is_own(p));
    if actor.is_supervisor_or_admin()
        || involved
        || actor.kind == crate::model::ActorKind::Client && actor.has_scope(crate::actor::Scope::ConversationsWrite)
    {
        Ok(())
    } else {
        Err(Rejection::forbidden("only participants, supervisors and clients may change attributes"))
    }
}

pub fn update_attributes(tx: &mut Tx, patch: &Value) -> Result<(), Rejection> {
    ensure_open(tx)?;
    ensure_may_edit(tx)?;
    if !patch.is_object() {
        return Err(Rejection::invalid("", "must be a JSON object (RFC 7396 merge patch)"));
    }
    let merged = tx.merged_attributes(Some(patch));
    let max = tx.dir().settings().max_context_bytes;
    if merged.to_string().len() > max {
        return Err(Rejection::invalid("", format!("the merged attributes exceed {max} bytes (maxContextBytes)")));
    }
    // The merged document must match the schema of the queue the conversation is now in.
    if let Some(queue_id) = tx.conv.last_acd_queue().cloned() {
        let violations = tx.dir().context_violations(&queue_id, &merged);
        if !violations.is_empty() {
            let detail =
                format!("the merged attributes do not match the queue's schema ({} violations)", violations.len());
            return Err(Rejection::Invalid { detail, violations });
        }
    }
    tx.emit(EventData::AttributesUpdated { participant_id: None, patch: patch.clone() });
    Ok(())
}

pub fn update_participant_attributes(
    tx: &mut Tx,
    pid: &str,
    patch: &BTreeMap<String, Option<String>>,
) -> Result<(), Rejection> {
    ensure_open(tx)?;
    let p = tx.participant(pid)?;
    tx.ensure_acts_for(&p)?;
    let size: usize = p.attributes.iter().map(|(k, v)| k.len() + v.len()).sum::<usize>()
        + patch.iter().map(|(k, v)| k.len() + v.as_ref().map_or(0, String::len)).sum::<usize>();
    let max = tx.dir().settings().max_context_bytes;
    if size > max {
        return Err(Rejection::invalid(
            "",
            format!("participant attributes may hold at most {max} bytes (maxContextBytes)"),
        ));
    }
    let patch = Value::Object(
        patch.iter().map(|(k, v)| (k.clone(), v.clone().map(Value::String).unwrap_or(Value::Null))).collect(),
    );
    tx.emit(EventData::AttributesUpdated { participant_id: Some(pid.to_string()), patch });
    Ok(())
}
