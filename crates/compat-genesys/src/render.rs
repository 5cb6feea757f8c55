//! Native conversations as the vendor's models: `Conversation` with `Participant`s and their `calls[]` or
//! `messages[]` communications, and the media views (`CallConversation`, `MessageConversation`).

use crate::map;
use serde_json::{Value, json};
use switchboard_core::model::{
    AcwPolicy, Channel, Conversation, MediaType, Participant, ParticipantState, Purpose, Wrapup, WrapupStatus,
};
use switchboard_engine::OrgConfig;

/// The vendor's system code for a wrap-up that timed out; `WRAPUP-SYSTEM` keeps its own id (no vendor twin).
pub const VENDOR_TIMEOUT_CODE: &str = "ININ-WRAP-UP-TIMEOUT";

pub fn vendor_code_id(native: &str) -> &str {
    if native == switchboard_core::config::WRAPUP_TIMEOUT { VENDOR_TIMEOUT_CODE } else { native }
}

pub fn native_code_id(vendor: &str) -> &str {
    if vendor == VENDOR_TIMEOUT_CODE { switchboard_core::config::WRAPUP_TIMEOUT } else { vendor }
}

/// REST `purpose`: routed agents are `agent`, direct offers `user`; bots are flows.
pub fn purpose(p: &Participant, media: MediaType) -> &'static str {
    match p.purpose {
        Purpose::Customer => "customer",
        Purpose::Acd => "acd",
        Purpose::External => "external",
        Purpose::Agent if p.direct => "user",
        Purpose::Agent => "agent",
        Purpose::Bot if media == MediaType::Voice => "ivr",
        Purpose::Bot => "workflow",
    }
}

/// `Call.state` and the media participant `state`; an acd entry is connected to the ACD while it waits.
pub fn call_state(s: ParticipantState) -> &'static str {
    match s {
        ParticipantState::Queued | ParticipantState::Connected => "connected",
        ParticipantState::Alerting => "alerting",
        ParticipantState::Contacting => "contacting",
        ParticipantState::Disconnected => "disconnected",
    }
}

/// `Message.state` has no `contacting`: an outbound message not yet answered is alerting.
pub fn message_state(s: ParticipantState) -> &'static str {
    match s {
        ParticipantState::Contacting => "alerting",
        other => call_state(other),
    }
}

pub fn messenger_type(c: Option<Channel>) -> &'static str {
    match c {
        Some(Channel::Sms) => "sms",
        Some(Channel::Whatsapp) => "whatsapp",
        Some(Channel::Open) => "open",
        Some(Channel::Web) | None => "webmessaging",
    }
}

fn required(w: &Wrapup) -> bool {
    matches!(w.policy, AcwPolicy::Mandatory | AcwPolicy::MandatoryTimeout | AcwPolicy::MandatoryForcedTimeout)
        || (w.policy == AcwPolicy::AgentRequested && w.requested_by_agent)
}

/// The REST `Wrapup` of a participant that has a code (a provisional one only when asked for).
pub fn wrapup_json(w: &Wrapup, with_provisional: bool) -> Option<Value> {
    let code = w.code_id.as_deref()?;
    if w.provisional && !with_provisional {
        return None;
    }
    let mut v = json!({"code": vendor_code_id(code), "provisional": w.provisional});
    if let Some(n) = &w.code_name {
        v["name"] = json!(n);
    }
    if let Some(n) = &w.notes {
        v["notes"] = json!(n);
    }
    if !w.tags.is_empty() {
        v["tags"] = json!(w.tags);
    }
    if let (Some(s), Some(e)) = (w.acw_started_at, w.acw_ended_at) {
        v["durationSeconds"] = json!((e.0 - s.0).max(0) / 1000);
    }
    if let Some(end) = w.acw_ended_at.or(w.set_at) {
        v["endTime"] = json!(end.to_string());
    }
    Some(v)
}

/// `AfterCallWork.state` of a communication.
fn acw_state(s: WrapupStatus) -> Option<&'static str> {
    match s {
        WrapupStatus::NotStarted => None,
        WrapupStatus::Pending => Some("pending"),
        WrapupStatus::Set | WrapupStatus::TimedOut => Some("complete"),
        WrapupStatus::Skipped => Some("skipped"),
        WrapupStatus::NotRequired => Some("notApplicable"),
    }
}

fn put_time(v: &mut Value, key: &str, t: Option<switchboard_core::Timestamp>) {
    if let Some(t) = t {
        v[key] = json!(t.to_string());
    }
}

/// The wrap-up fields every participant model shares. Before an agent connects, the policy it will get
/// (its queue's, or the org's for direct offers) is shown, as a desktop reads it while the offer alerts.
fn wrapup_fields(v: &mut Value, p: &Participant, org: &OrgConfig) {
    let Some(w) = &p.wrapup else {
        let upcoming = match (&p.queue_id, p.purpose) {
            (_, purpose) if purpose != Purpose::Agent => None,
            (Some(q), _) => org.queues.get(q).map(|q| q.acw.clone()),
            (None, _) => Some(org.settings.direct_acw.clone()),
        };
        let w = upcoming.map(|acw| Wrapup::not_started(acw.policy, acw.timeout_ms, None));
        v["wrapupRequired"] = json!(w.as_ref().is_some_and(required));
        if let Some(w) = &w {
            if let Some(prompt) = map::participant_prompt(w.policy) {
                v["wrapupPrompt"] = json!(prompt);
            }
            if let Some(t) = w.timeout_ms {
                v["wrapupTimeoutMs"] = json!(t);
            }
        }
        return;
    };
    v["wrapupRequired"] = json!(required(w));
    if let Some(prompt) = map::participant_prompt(w.policy) {
        v["wrapupPrompt"] = json!(prompt);
    }
    if let Some(t) = w.timeout_ms {
        v["wrapupTimeoutMs"] = json!(t);
    }
    v["wrapupSkipped"] = json!(w.status == WrapupStatus::Skipped);
    if let Some(wj) = wrapup_json(w, false) {
        v["wrapup"] = wj;
    }
    put_time(v, "startAcwTime", w.acw_started_at);
    put_time(v, "endAcwTime", w.acw_ended_at);
}

fn start_time(p: &Participant, c: &Conversation) -> switchboard_core::Timestamp {
    [p.queued_at, p.alerting_at, p.connected_at].into_iter().flatten().min().unwrap_or(c.started_at)
}

/// One communication (`Call` or `Message`) of a participant: its id is the participant's `communicationId`.
fn communication(p: &Participant, c: &Conversation) -> Value {
    let state = if c.media_type == MediaType::Voice { call_state(p.state) } else { message_state(p.state) };
    let mut v = json!({
        "id": p.communication_id,
        "state": state,
        "direction": crate::map::enum_str(&c.direction),
        "held": p.held,
    });
    if let Some(d) = crate::map::disconnect_type(p, crate::map::Spelling::Rest) {
        v["disconnectType"] = json!(d);
    }
    put_time(&mut v, "connectedTime", p.connected_at);
    put_time(&mut v, "disconnectedTime", p.disconnected_at);
    put_time(&mut v, "startAlertingTime", p.alerting_at);
    put_time(&mut v, "startHoldTime", p.held_since);
    if c.media_type == MediaType::Message {
        v["type"] = json!(messenger_type(c.channel));
    }
    if let Some(w) = &p.wrapup {
        if let Some(wj) = wrapup_json(w, false) {
            v["wrapup"] = wj;
        }
        if let Some(state) = acw_state(w.status) {
            let mut acw = json!({"state": state});
            put_time(&mut acw, "startTime", w.acw_started_at);
            put_time(&mut acw, "endTime", w.acw_ended_at);
            v["afterCallWork"] = acw;
        }
        v["afterCallWorkRequired"] = json!(w.policy == AcwPolicy::AgentRequested && w.requested_by_agent);
    }
    v
}

fn names(p: &Participant, org: &OrgConfig, v: &mut Value) {
    if let Some(n) = &p.name {
        v["name"] = json!(n);
    }
    if let Some(a) = &p.address {
        v["address"] = json!(a);
    }
    if let Some(u) = &p.user_id {
        v["userId"] = json!(u);
        v["userUri"] = json!(format!("/api/v2/users/{u}"));
    }
    if let Some(q) = &p.queue_id {
        v["queueId"] = json!(q);
        if let Some(queue) = org.queues.get(q) {
            v["queueName"] = json!(queue.name);
        }
    }
}

/// `Participant` inside the generic `Conversation`.
pub fn participant_json(p: &Participant, c: &Conversation, org: &OrgConfig) -> Value {
    let mut v = json!({
        "id": p.id,
        "purpose": purpose(p, c.media_type),
        "startTime": start_time(p, c).to_string(),
        "attributes": p.attributes,
    });
    names(p, org, &mut v);
    put_time(&mut v, "connectedTime", p.connected_at);
    put_time(&mut v, "endTime", p.disconnected_at);
    if let Some(d) = p.alerting_deadline.zip(p.alerting_at) {
        v["alertingTimeoutMs"] = json!(d.0.0 - d.1.0);
    }
    if let Some(consult) = &p.consult_for {
        v["consultParticipantId"] = json!(consult);
    }
    wrapup_fields(&mut v, p, org);
    let key = if c.media_type == MediaType::Voice { "calls" } else { "messages" };
    v[key] = json!([communication(p, c)]);
    v
}

fn division(org_id: &str) -> Value {
    json!([{"division": map::division(org_id), "entities": []}])
}

/// The generic `Conversation`.
pub fn conversation_json(c: &Conversation, org: &OrgConfig) -> Value {
    let mut v = json!({
        "id": c.id,
        "startTime": c.started_at.to_string(),
        "participants": c.participants.iter().map(|p| participant_json(p, c, org)).collect::<Vec<_>>(),
        "divisions": division(&c.org_id),
        "recentTransfers": [],
        "selfUri": format!("/api/v2/conversations/{}", c.id),
    });
    put_time(&mut v, "endTime", c.ended_at);
    if c.media_type == MediaType::Voice {
        v["recordingState"] = json!("NONE");
    }
    v
}

fn reference(id: &str, name: Option<&str>, uri: String) -> Value {
    let mut v = json!({"id": id, "selfUri": uri});
    if let Some(n) = name {
        v["name"] = json!(n);
    }
    v
}

/// `CallMediaParticipant` / `MessageMediaParticipant`: the participant and its one communication, flattened.
pub fn media_participant_json(p: &Participant, c: &Conversation, org: &OrgConfig) -> Value {
    let voice = c.media_type == MediaType::Voice;
    let mut v = json!({
        "id": p.id,
        "purpose": purpose(p, c.media_type),
        "state": if voice { call_state(p.state) } else { message_state(p.state) },
        "direction": crate::map::enum_str(&c.direction),
        "held": p.held,
        "startTime": start_time(p, c).to_string(),
        "attributes": p.attributes,
    });
    if let Some(n) = &p.name {
        v["name"] = json!(n);
    }
    if let Some(a) = &p.address {
        v["address"] = json!(a);
    }
    put_time(&mut v, "connectedTime", p.connected_at);
    put_time(&mut v, "endTime", p.disconnected_at);
    put_time(&mut v, "startHoldTime", p.held_since);
    if let Some(d) = crate::map::disconnect_type(p, crate::map::Spelling::Rest) {
        v["disconnectType"] = json!(d);
    }
    if let Some(u) = &p.user_id {
        let name = org.users.get(u).map(|u| u.name.as_str());
        v["user"] = reference(u, name, format!("/api/v2/users/{u}"));
    }
    if let Some(q) = &p.queue_id {
        let name = org.queues.get(q).map(|q| q.name.as_str());
        v["queue"] = reference(q, name, format!("/api/v2/routing/queues/{q}"));
    }
    if !voice {
        v["type"] = json!(messenger_type(c.channel));
    }
    wrapup_fields(&mut v, p, org);
    v
}

/// `CallConversation` / `MessageConversation`.
pub fn media_conversation_json(c: &Conversation, org: &OrgConfig) -> Value {
    let kind = if c.media_type == MediaType::Voice { "calls" } else { "messages" };
    let mut v = json!({
        "id": c.id,
        "participants": c.participants.iter().map(|p| media_participant_json(p, c, org)).collect::<Vec<_>>(),
        "otherMediaUris": [],
        "recentTransfers": [],
        "divisions": division(&c.org_id),
        "selfUri": format!("/api/v2/conversations/{kind}/{}", c.id),
    });
    if c.media_type == MediaType::Voice {
        v["recordingState"] = json!("none");
    }
    v
}

/// `AssignedWrapupCode` (GET …/wrapup); `{}` while there is none.
pub fn assigned_wrapup_json(p: &Participant, with_provisional: bool) -> Value {
    let Some(mut v) = p.wrapup.as_ref().and_then(|w| wrapup_json(w, with_provisional)) else { return json!({}) };
    if let Some(o) = v.as_object_mut() {
        o.remove("name");
        if !with_provisional {
            o.remove("provisional");
        }
    }
    v
}

/// The vendor's `ParticipantAttributes`.
pub fn attributes_json(p: &Participant) -> Value {
    json!({"attributes": p.attributes})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_stay_within_each_models_enum() {
        let call = ["alerting", "dialing", "contacting", "offering", "connected", "disconnected", "terminated"];
        let message = ["alerting", "connected", "parked", "disconnected"];
        for s in [
            ParticipantState::Queued,
            ParticipantState::Alerting,
            ParticipantState::Contacting,
            ParticipantState::Connected,
            ParticipantState::Disconnected,
        ] {
            assert!(call.contains(&call_state(s)));
            assert!(message.contains(&message_state(s)));
        }
    }

    #[test]
    fn system_codes_translate_both_ways() {
        assert_eq!(vendor_code_id("WRAPUP-TIMEOUT"), VENDOR_TIMEOUT_CODE);
        assert_eq!(native_code_id(VENDOR_TIMEOUT_CODE), "WRAPUP-TIMEOUT");
        assert_eq!(native_code_id("abc"), "abc");
    }
}
