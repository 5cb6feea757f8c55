//! Topics: which a caller may subscribe to, and what a committed frame sends on each (the conversation in
//! the vendor's event shape, or a flat detail event with epoch-ms times and UPPERCASE enums).

use crate::Identity;
use crate::render::{self, vendor_code_id};
use serde_json::{Value, json};
use switchboard_core::model::{Conversation, MediaType, Participant, Purpose};
use switchboard_core::{Actor, ActorKind, Scope};
use switchboard_engine::{Frame, OrgConfig};

#[derive(Clone, Debug, PartialEq)]
pub enum Kind {
    /// `v2.users.{id}.conversations[.calls|.messages]`
    User { user_id: String, media: Option<MediaType> },
    /// `v2.routing.queues.{id}.conversations[.calls|.messages]`
    Queue { queue_id: String, media: Option<MediaType> },
    /// `v2.detail.events.conversation.{id}.{wrapup|acw|customer.end|user.end}`
    Detail { conversation_id: String, event: DetailEvent },
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum DetailEvent {
    Wrapup,
    Acw,
    CustomerEnd,
    UserEnd,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Topic {
    pub name: String,
    pub kind: Kind,
}

pub enum Verdict {
    Permitted,
    Rejected { reason: String, missing: Vec<&'static str> },
}

impl Verdict {
    pub fn reason(&self) -> String {
        match self {
            Verdict::Permitted => String::new(),
            Verdict::Rejected { reason, .. } => reason.clone(),
        }
    }
}

fn media_suffix(rest: &str) -> Option<Option<MediaType>> {
    match rest {
        "conversations" => Some(None),
        "conversations.calls" => Some(Some(MediaType::Voice)),
        "conversations.messages" => Some(Some(MediaType::Message)),
        _ => None,
    }
}

pub fn parse(name: &str) -> Option<Kind> {
    if let Some(rest) = name.strip_prefix("v2.users.") {
        let (id, tail) = rest.split_once('.')?;
        return Some(Kind::User { user_id: id.to_string(), media: media_suffix(tail)? });
    }
    if let Some(rest) = name.strip_prefix("v2.routing.queues.") {
        let (id, tail) = rest.split_once('.')?;
        return Some(Kind::Queue { queue_id: id.to_string(), media: media_suffix(tail)? });
    }
    let rest = name.strip_prefix("v2.detail.events.conversation.")?;
    let (id, tail) = rest.split_once('.')?;
    let event = match tail {
        "wrapup" => DetailEvent::Wrapup,
        "acw" => DetailEvent::Acw,
        "customer.end" => DetailEvent::CustomerEnd,
        "user.end" => DetailEvent::UserEnd,
        _ => return None,
    };
    Some(Kind::Detail { conversation_id: id.to_string(), event })
}

/// Whether `who` may subscribe to `name`: its own user topics; other users', queues' and detail events
/// need a supervisor, an admin or a client that reads conversations.
pub fn judge(name: &str, who: &Identity, org: &OrgConfig) -> (Verdict, Option<Topic>) {
    let Some(kind) = parse(name) else {
        let reason = "not a topic Switchboard publishes (v2.users.{id}.conversations[.calls|.messages], \
                      v2.routing.queues.{id}.conversations[...], v2.detail.events.conversation.{id}.wrapup|acw|customer.end|user.end)";
        return (Verdict::Rejected { reason: reason.into(), missing: vec![] }, None);
    };
    let a = &who.actor;
    // As the native API: users see beyond their own conversations as supervisors or admins; clients by scope.
    let broad =
        if a.kind == ActorKind::User { a.is_supervisor_or_admin() } else { a.has_scope(Scope::ConversationsRead) };
    let (allowed, missing, exists) = match &kind {
        Kind::User { user_id, .. } => (
            broad || (a.kind == ActorKind::User && a.id == *user_id),
            vec!["conversation:communication:view"],
            org.users.contains_key(user_id),
        ),
        Kind::Queue { queue_id, .. } => (broad, vec!["routing:queue:view"], org.queues.contains_key(queue_id)),
        Kind::Detail { .. } => {
            let analytics = a.kind != ActorKind::User && a.has_scope(Scope::AnalyticsRead);
            (broad || analytics, vec!["analytics:conversationDetail:view"], true)
        }
    };
    if !exists {
        return (
            Verdict::Rejected { reason: "the topic names something that does not exist".into(), missing: vec![] },
            None,
        );
    }
    if !allowed {
        return (Verdict::Rejected { reason: "missing permissions for this topic".into(), missing }, None);
    }
    (Verdict::Permitted, Some(Topic { name: name.to_string(), kind }))
}

pub fn topic_json(name: &str, v: &Verdict) -> Value {
    match v {
        Verdict::Permitted => json!({"id": name, "state": "Permitted", "selfUri": "/api/v2/notifications/channels"}),
        Verdict::Rejected { reason, missing } => {
            json!({"id": name, "state": "Rejected", "rejectionReason": reason, "missingPermissions": missing})
        }
    }
}

/// The channel's owner as it is now (roles re-read, scopes never above what the token had), or `None` once
/// the user or client is gone: a demotion or a deletion applies to an open socket from its next frame.
pub fn current_actor(org: &OrgConfig, a: &Actor) -> Option<Actor> {
    match a.kind {
        ActorKind::User => org.users.get(&a.id).map(|u| {
            let mut now = Actor::user(u.id.clone(), u.roles.clone());
            now.scopes = now.scopes.intersect(a.scopes);
            now
        }),
        ActorKind::Client => {
            org.clients.get(&a.id).map(|c| Actor::client(c.id.clone(), a.scopes.intersect(c.granted())))
        }
        _ => None,
    }
}

/// Whether any topic could match this frame (checked before the frame is decoded).
pub fn wants(f: &Frame, topics: &[Topic]) -> bool {
    topics.iter().any(|t| match &t.kind {
        Kind::User { user_id, .. } => f.users.contains(user_id),
        Kind::Queue { queue_id, .. } => f.queues.contains(queue_id),
        Kind::Detail { conversation_id, .. } => f.conversation_id.as_deref() == Some(conversation_id.as_str()),
    })
}

/// A committed frame, decoded once for every topic of a socket.
pub struct Decoded {
    pub conversation: Conversation,
    pub events: Vec<Value>,
}

pub fn decode(f: &Frame) -> Option<Decoded> {
    let v: Value = serde_json::from_str(&f.json).ok()?;
    let conversation = serde_json::from_value(v.get("conversation")?.clone()).ok()?;
    let events = v.get("events")?.as_array()?.clone();
    Some(Decoded { conversation, events })
}

/// `ConversationEventTopicConversation`: the conversation, with `wrapupExpected` on participants.
fn conversation_event(c: &Conversation, org: &OrgConfig, media_view: bool) -> Value {
    let mut v = if media_view { render::media_conversation_json(c, org) } else { render::conversation_json(c, org) };
    if let Some(ps) = v["participants"].as_array_mut() {
        for (pv, p) in ps.iter_mut().zip(&c.participants) {
            let expected = p.wrapup.as_ref().is_some_and(|w| w.expected) || pv["wrapupRequired"] == true;
            pv["wrapupExpected"] = json!(expected);
        }
    }
    v
}

fn upper(v: impl serde::Serialize) -> String {
    crate::map::enum_str(&v).to_uppercase()
}

fn detail_base(c: &Conversation, p: &Participant, at_ms: i64) -> Value {
    let mut v = json!({
        "eventTime": at_ms,
        "conversationId": c.id,
        "participantId": p.id,
        "sessionId": p.communication_id,
        "mediaType": upper(c.media_type),
        "direction": upper(c.direction),
    });
    if c.media_type == MediaType::Message {
        v["messageType"] = json!(render::messenger_type(c.channel).to_uppercase());
    }
    if let Some(q) = &p.queue_id {
        v["queueId"] = json!(q);
    }
    if let Some(a) = &p.address {
        v[if c.direction == switchboard_core::model::Direction::Inbound { "addressFrom" } else { "addressTo" }] =
            json!(a);
    }
    v
}

/// The detail event of `kind` that one native event produces, if any.
fn detail_event(c: &Conversation, e: &Value, kind: DetailEvent) -> Option<Value> {
    let ty = e["type"].as_str()?;
    let pid = e["data"]["participantId"].as_str()?;
    let p = c.participant(pid)?;
    let at_ms = e["at"].as_str().and_then(switchboard_core::Timestamp::parse).map_or(c.last_event_at.0, |t| t.0);
    match kind {
        DetailEvent::Wrapup | DetailEvent::Acw => {
            if !matches!(ty, "wrapup.set" | "wrapup.timedOut" | "wrapup.amended") {
                return None;
            }
            let w = p.wrapup.as_ref()?;
            let mut v = detail_base(c, p, at_ms);
            if let Some(code) = &w.code_id {
                v["wrapupCode"] = json!(vendor_code_id(code));
            }
            if let Some(n) = &w.notes {
                v["wrapupNotes"] = json!(n);
            }
            if let (Some(s), Some(end)) = (w.acw_started_at, w.acw_ended_at) {
                v["wrapupDurationMs"] = json!((end.0 - s.0).max(0));
            }
            if kind == DetailEvent::Acw {
                // After-call work is an agent's: the event names the user.
                v["userId"] = json!(p.user_id.clone()?);
            }
            Some(v)
        }
        DetailEvent::CustomerEnd | DetailEvent::UserEnd => {
            let wanted = if kind == DetailEvent::CustomerEnd { Purpose::Customer } else { Purpose::Agent };
            if ty != "participant.disconnected" || p.purpose != wanted {
                return None;
            }
            let mut v = detail_base(c, p, at_ms);
            v["disconnectType"] = json!(crate::map::disconnect_type(p, crate::map::Spelling::DetailEvent));
            if let Some(u) = &p.user_id {
                v["userId"] = json!(u);
            }
            if kind == DetailEvent::UserEnd {
                if let (Some(s), Some(end)) = (p.connected_at, p.disconnected_at) {
                    v["interactingDurationMs"] = json!((end.0 - s.0).max(0));
                }
                if let (Some(s), Some(end)) = (p.alerting_at, p.connected_at.or(p.disconnected_at)) {
                    v["alertingDurationMs"] = json!((end.0 - s.0).max(0));
                }
            }
            Some(v)
        }
    }
}

/// The messages one frame sends on a channel's topics: `(topicName, eventBody)`.
pub fn messages(f: &Frame, d: &Decoded, topics: &[Topic], org: &OrgConfig) -> Vec<(String, Value)> {
    let c = &d.conversation;
    let media_ok = |m: &Option<MediaType>| m.is_none_or(|m| m == c.media_type);
    let mut out = Vec::new();
    for t in topics {
        match &t.kind {
            Kind::User { user_id, media } if media_ok(media) && f.users.contains(user_id) => {
                out.push((t.name.clone(), conversation_event(c, org, media.is_some())));
            }
            Kind::Queue { queue_id, media } if media_ok(media) && f.queues.contains(queue_id) => {
                out.push((t.name.clone(), conversation_event(c, org, media.is_some())));
            }
            Kind::Detail { conversation_id, event } if *conversation_id == c.id => {
                out.extend(d.events.iter().filter_map(|e| detail_event(c, e, *event)).map(|b| (t.name.clone(), b)));
            }
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topics_parse_and_unknown_ones_do_not() {
        assert_eq!(parse("v2.users.u1.conversations"), Some(Kind::User { user_id: "u1".into(), media: None }));
        assert_eq!(
            parse("v2.routing.queues.q1.conversations.calls"),
            Some(Kind::Queue { queue_id: "q1".into(), media: Some(MediaType::Voice) })
        );
        assert_eq!(
            parse("v2.detail.events.conversation.c1.customer.end"),
            Some(Kind::Detail { conversation_id: "c1".into(), event: DetailEvent::CustomerEnd })
        );
        assert_eq!(parse("v2.users.u1.presence"), None);
        assert_eq!(parse("v2.detail.events.conversation.c1.flow.start"), None);
        assert_eq!(parse("nonsense"), None);
    }
}
