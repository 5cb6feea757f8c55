//! `create`: inbound to a queue, to a user (direct offer) or to a bot; outbound from an agent.

use super::lifecycle::{enqueue, new_participant, offer_direct};
use super::{Ctx, Decision, Tx};
use crate::command::CreateConversation;
use crate::config::DEFAULT_INACTIVITY_TIMEOUT_MS;
use crate::event::{Created, EventData};
use crate::model::{Conversation, Direction, MediaType, ParticipantState, Purpose, Wrapup};
use crate::rejection::{Rejection, Violation};
use serde_json::Value;

/// How many ids a create may consume (for callers that pre-mint ids).
pub fn create_participant_ids() -> usize {
    8
}

pub fn create(c: &CreateConversation, ctx: &mut Ctx) -> Result<Decision, Rejection> {
    let violations = validate(c, ctx);
    if !violations.is_empty() {
        let detail = violations.iter().map(|v| format!("{}: {}", v.pointer, v.message)).collect::<Vec<_>>().join("; ");
        return Err(Rejection::Invalid { detail, violations });
    }
    let media_type = c.media_type.unwrap_or(MediaType::Voice);
    let direction = c.direction.unwrap_or(Direction::Inbound);
    let at = ctx.now;
    let id = (ctx.ids)();
    let org_id = ctx.dir.settings().id.clone();
    let actor = ctx.actor.clone();
    let inactivity_ms = c
        .queue_id
        .as_deref()
        .and_then(|q| ctx.dir.queue(q))
        .map(|q| q.inactivity_timeout_ms)
        .unwrap_or(DEFAULT_INACTIVITY_TIMEOUT_MS);
    let inactivity_deadline =
        (media_type == MediaType::Message && inactivity_ms > 0).then(|| at.plus_ms(inactivity_ms));
    let mut tx = Tx::new(Conversation::blank(), at, ctx);

    let mut customer = new_participant(
        &mut tx,
        Purpose::Customer,
        if direction == Direction::Outbound { ParticipantState::Contacting } else { ParticipantState::Connected },
    );
    customer.name = c.from_name.clone();
    customer.address = if direction == Direction::Outbound { c.to_address.clone() } else { c.from_address.clone() };
    if direction == Direction::Inbound {
        customer.connected_at = Some(at);
    } else {
        customer.alerting_at = Some(at);
    }
    match actor.kind {
        crate::model::ActorKind::Client => customer.client_id = Some(actor.id.clone()),
        crate::model::ActorKind::Guest => customer.guest_id = Some(actor.id.clone()),
        _ => {}
    }
    let mut participants = vec![customer];
    if let Some(bot) = &c.bot_name {
        let mut p = new_participant(&mut tx, Purpose::Bot, ParticipantState::Connected);
        p.bot_name = Some(bot.clone());
        p.name = Some(bot.clone());
        p.connected_at = Some(at);
        if actor.kind == crate::model::ActorKind::Client {
            p.client_id = Some(actor.id.clone());
        }
        participants.push(p);
    }
    if direction == Direction::Outbound {
        let user_id = c.user_id.clone().unwrap_or_default();
        let user = tx.dir().user(&user_id).ok_or_else(|| Rejection::invalid("/userId", "unknown user"))?;
        let mut p = new_participant(&mut tx, Purpose::Agent, ParticipantState::Connected);
        p.user_id = Some(user.id.clone());
        p.name = Some(user.name.clone());
        p.queue_id = c.queue_id.clone();
        p.connected_at = Some(at);
        let acw = tx.acw_for(c.queue_id.as_deref());
        p.wrapup = Some(Wrapup::not_started(acw.policy, acw.timeout_ms, acw.default_code_id));
        participants.push(p);
    }
    let handover = if c.bot_name.is_some() { c.queue_id.clone() } else { None };
    tx.emit(EventData::ConversationCreated(Box::new(Created {
        id,
        org_id,
        media_type,
        channel: c.channel.or((media_type == MediaType::Message).then_some(crate::model::Channel::Web)),
        direction,
        attributes: c.attributes.clone().unwrap_or_else(|| Value::Object(Default::default())),
        participants,
        inactivity_deadline,
        fallback_queue_id: c.fallback_queue_id.clone().or(handover),
    })));
    if direction == Direction::Inbound && c.bot_name.is_none() {
        match (&c.queue_id, &c.user_id) {
            (Some(q), _) => enqueue(&mut tx, q, None),
            (None, Some(u)) => offer_direct(&mut tx, u, "/userId", None, None)?,
            (None, None) => {}
        }
    }
    Ok(tx.finish())
}

fn validate(c: &CreateConversation, ctx: &Ctx) -> Vec<Violation> {
    let mut v = Vec::new();
    let dir = ctx.dir;
    if c.media_type.is_none() {
        v.push(Violation::new("/mediaType", "is required (voice or message)"));
    }
    if c.channel.is_some() && c.media_type == Some(MediaType::Voice) {
        v.push(Violation::new("/channel", "is only for message conversations"));
    }
    let outbound = c.direction == Some(Direction::Outbound);
    if outbound {
        if c.user_id.is_none() {
            v.push(Violation::new("/userId", "is required for an outbound conversation"));
        }
        if c.to_address.as_deref().is_none_or(|a| a.trim().is_empty()) {
            v.push(Violation::new("/to/address", "is required for an outbound conversation"));
        }
        if c.bot_name.is_some() {
            v.push(Violation::new("/botName", "is not allowed on an outbound conversation"));
        }
    } else {
        let targets = [c.queue_id.is_some() && c.bot_name.is_none(), c.user_id.is_some(), c.bot_name.is_some()];
        let n = targets.iter().filter(|t| **t).count();
        if n != 1 {
            v.push(Violation::new("/queueId", "give exactly one of queueId, userId, botName"));
        }
    }
    if let Some(q) = &c.queue_id
        && dir.queue(q).is_none()
    {
        v.push(Violation::new("/queueId", format!("unknown queue {q}")));
    }
    if let Some(q) = &c.fallback_queue_id
        && dir.queue(q).is_none()
    {
        v.push(Violation::new("/fallbackQueueId", format!("unknown queue {q}")));
    }
    if let Some(u) = &c.user_id {
        if dir.user(u).is_none() {
            v.push(Violation::new("/userId", format!("unknown user {u}")));
        } else if outbound
            && ctx.actor.kind == crate::model::ActorKind::User
            && ctx.actor.id != *u
            && !ctx.actor.is_supervisor_or_admin()
        {
            v.push(Violation::new("/userId", "an agent can only place outbound conversations as itself"));
        }
    }
    if let Some(b) = &c.bot_name
        && (b.trim().is_empty() || b.len() > 200)
    {
        v.push(Violation::new("/botName", "must be 1 to 200 characters"));
    }
    if let Some(a) = &c.attributes {
        if !a.is_object() {
            v.push(Violation::new("/attributes", "must be a JSON object"));
        } else if a.to_string().len() > dir.settings().max_context_bytes {
            v.push(Violation::new(
                "/attributes",
                format!("exceeds {} bytes (maxContextBytes)", dir.settings().max_context_bytes),
            ));
        } else if let Some(q) = c.queue_id.as_deref().filter(|_| c.bot_name.is_none()) {
            // A conversation starts in its queue with a context that queue accepts.
            v.extend(
                dir.context_violations(q, a)
                    .into_iter()
                    .map(|x| Violation::new(format!("/attributes{}", x.pointer), x.message)),
            );
        }
    }
    v
}
