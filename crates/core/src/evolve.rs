//! evolve: applies one event to a conversation. Replaying every event from empty reproduces the snapshot.

use crate::event::{Created, Event, EventData};
use crate::model::{Conversation, ParticipantState, Purpose, StateReason};
use serde_json::Value;

impl Conversation {
    /// The empty aggregate a `conversation.created` event is applied to.
    pub fn blank() -> Self {
        Conversation {
            id: String::new(),
            org_id: String::new(),
            media_type: crate::model::MediaType::Voice,
            channel: None,
            direction: crate::model::Direction::Inbound,
            version: 0,
            started_at: Default::default(),
            ended_at: None,
            end_reason: None,
            closed_at: None,
            last_event_at: Default::default(),
            attributes: Value::Null,
            disposition: None,
            inactivity_deadline: None,
            fallback_queue_id: None,
            transfer_count: 0,
            participants: vec![],
        }
    }

    pub fn from_created(c: &Created, e: &Event) -> Self {
        Conversation {
            id: c.id.clone(),
            org_id: c.org_id.clone(),
            media_type: c.media_type,
            channel: c.channel,
            direction: c.direction,
            version: e.version,
            started_at: e.at,
            ended_at: None,
            end_reason: None,
            closed_at: None,
            last_event_at: e.at,
            attributes: c.attributes.clone(),
            disposition: None,
            inactivity_deadline: c.inactivity_deadline,
            fallback_queue_id: c.fallback_queue_id.clone(),
            transfer_count: 0,
            participants: c.participants.clone(),
        }
    }
}

/// Rebuilds a conversation from its events (the property tests compare this with the stored snapshot).
pub fn replay<'a>(events: impl IntoIterator<Item = &'a Event>) -> Option<Conversation> {
    let mut conv: Option<Conversation> = None;
    for e in events {
        evolve(conv.get_or_insert_with(Conversation::blank), e);
    }
    conv
}

pub fn evolve(conv: &mut Conversation, e: &Event) {
    conv.version = e.version;
    conv.last_event_at = conv.last_event_at.max(e.at);
    let at = e.at;
    match &e.data {
        EventData::ConversationCreated(c) => *conv = Conversation::from_created(c, e),
        EventData::ParticipantQueued { participant } | EventData::ParticipantAlerting { participant, .. } => {
            conv.participants.push((**participant).clone())
        }
        EventData::ParticipantHeld { participant_id, by } => {
            if let Some(p) = conv.participant_mut(participant_id) {
                p.held = true;
                p.held_since = Some(at);
                p.hold_periods.push(crate::model::HoldPeriod { start: at, end: None, by: by.clone() });
            }
        }
        EventData::ParticipantUnheld { participant_id, .. } => {
            if let Some(p) = conv.participant_mut(participant_id) {
                p.held = false;
                p.held_since = None;
                close_hold(p, at);
            }
        }
        EventData::ConsultStarted { context_data, .. } => {
            if let Some(ctx) = context_data {
                merge_patch(&mut conv.attributes, ctx);
            }
        }
        // A completed consult hands the customer over: it counts as a transfer.
        EventData::ConsultCompleted { .. } => conv.transfer_count += 1,
        EventData::ConsultCancelled { .. } => {}
        EventData::ParticipantConnected { participant_id, wrapup } => {
            if let Some(p) = conv.participant_mut(participant_id) {
                p.state = ParticipantState::Connected;
                p.connected_at = Some(at);
                if wrapup.is_some() {
                    p.wrapup = wrapup.clone();
                }
            }
        }
        EventData::ParticipantDisconnected { participant_id, reason, abandoned, wrapup, .. } => {
            let mut tried = None;
            if let Some(p) = conv.participant_mut(participant_id) {
                let was_offer = p.state == ParticipantState::Alerting;
                p.state = ParticipantState::Disconnected;
                p.state_reason = Some(*reason);
                p.disconnected_at = Some(at);
                p.held = false;
                p.held_since = None;
                close_hold(p, at);
                p.abandoned |= *abandoned;
                if wrapup.is_some() {
                    p.wrapup = wrapup.clone();
                }
                let refused = matches!(reason, StateReason::Declined | StateReason::NoAnswer) || p.withdrawn;
                if p.purpose == Purpose::Agent && was_offer && refused {
                    tried = p.acd_id.clone().zip(p.user_id.clone());
                }
            }
            if let Some((acd_id, user_id)) = tried
                && let Some(acd) = conv.participant_mut(&acd_id)
                && !acd.tried_user_ids.contains(&user_id)
            {
                acd.tried_user_ids.push(user_id);
            }
        }
        EventData::OfferWithdrawn { participant_id } => {
            if let Some(p) = conv.participant_mut(participant_id) {
                p.withdrawn = true;
            }
        }
        EventData::WrapupProvisionalSaved { participant_id, wrapup }
        | EventData::WrapupAcwRequested { participant_id, wrapup }
        | EventData::WrapupPending { participant_id, wrapup }
        | EventData::WrapupSet { participant_id, wrapup }
        | EventData::WrapupSkipped { participant_id, wrapup }
        | EventData::WrapupTimedOut { participant_id, wrapup }
        | EventData::WrapupAmended { participant_id, wrapup } => {
            if let Some(p) = conv.participant_mut(participant_id) {
                p.wrapup = Some(wrapup.clone());
            }
        }
        EventData::ConversationTransferred { context_data, .. } => {
            conv.transfer_count += 1;
            if let Some(ctx) = context_data {
                merge_patch(&mut conv.attributes, ctx);
            }
        }
        EventData::AttributesUpdated { participant_id: None, patch } => merge_patch(&mut conv.attributes, patch),
        EventData::AttributesUpdated { participant_id: Some(pid), patch } => {
            if let (Some(p), Value::Object(map)) = (conv.participant_mut(pid), patch) {
                for (k, v) in map {
                    match v {
                        Value::String(s) => {
                            p.attributes.insert(k.clone(), s.clone());
                        }
                        _ => {
                            p.attributes.remove(k);
                        }
                    }
                }
            }
        }
        EventData::MessageCreated { inactivity_deadline, .. } => conv.inactivity_deadline = *inactivity_deadline,
        EventData::ConversationEnded { reason } => {
            conv.ended_at = Some(at);
            conv.end_reason = Some(*reason);
            conv.inactivity_deadline = None;
        }
        EventData::ConversationClosed { disposition, amendable_until } => {
            conv.closed_at = Some(at);
            if disposition.is_some() {
                conv.disposition = disposition.clone();
            }
            for p in &mut conv.participants {
                if let Some(w) = &mut p.wrapup {
                    w.amendable_until = Some(*amendable_until);
                }
            }
        }
    }
}

fn close_hold(p: &mut crate::model::Participant, at: crate::Timestamp) {
    if let Some(h) = p.hold_periods.last_mut().filter(|h| h.end.is_none()) {
        h.end = Some(at);
    }
}

/// RFC 7396 JSON merge patch.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(patch_map) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Default::default());
    }
    let Value::Object(t) = target else { return };
    for (k, v) in patch_map {
        if v.is_null() {
            t.remove(k);
        } else {
            merge_patch(t.entry(k.clone()).or_insert(Value::Null), v);
        }
    }
}
