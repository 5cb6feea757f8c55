//! Participant commands in the vendor's shapes: PATCH participant (answer, disconnect, wrap-up, skip, hold),
//! attributes, wrap-up reads, per-communication wrap-up and disconnect, transfers (`replace`), the agent's
//! message send and the agent-requested ACW toggle.

use super::conversations::{READ, WRITE, execute, visible};
use super::{Ctx, json_response, ok};
use crate::render::{self, native_code_id};
use crate::request::{body, required_body};
use crate::{GcError, Op};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use std::collections::BTreeMap;
use switchboard_core::command::{Patch, TransferTarget};
use switchboard_core::model::{MediaType, ParticipantState};
use switchboard_core::{Command, Conversation, Participant, Scope, WrapupInput};

pub fn implements(op: Op) -> bool {
    family(op).is_some()
}

/// The media an operation's path family fixes (`calls/`, `messages/`), `Some(None)` for the generic family.
fn family(op: Op) -> Option<Option<MediaType>> {
    use Op::*;
    Some(match op {
        PatchConversationParticipant
        | PatchConversationParticipantAttributes
        | GetConversationParticipantWrapup
        | GetConversationParticipantWrapupcodes
        | PostConversationParticipantReplaceQueue
        | PostConversationParticipantReplaceAgent
        | PatchConversationsAftercallworkConversationIdParticipantCommunication => None,
        PatchConversationsCallParticipant
        | PatchConversationsCallParticipantAttributes
        | GetConversationsCallParticipantWrapup
        | GetConversationsCallParticipantWrapupcodes
        | PatchConversationsCallParticipantCommunication
        | GetConversationsCallParticipantCommunicationWrapup
        | PostConversationsCallParticipantCommunicationWrapup
        | PostConversationsCallParticipantReplace => Some(MediaType::Voice),
        PatchConversationsMessageParticipant
        | PatchConversationsMessageParticipantAttributes
        | GetConversationsMessageParticipantWrapup
        | GetConversationsMessageParticipantWrapupcodes
        | PatchConversationsMessageParticipantCommunication
        | GetConversationsMessageParticipantCommunicationWrapup
        | PostConversationsMessageParticipantCommunicationWrapup
        | PostConversationsMessageParticipantReplace
        | PostConversationsMessageCommunicationMessages => Some(MediaType::Message),
        _ => return None,
    })
}

pub async fn run(ctx: Ctx) -> Result<Response, GcError> {
    use Op::*;
    let media = family(ctx.matched.op).flatten();
    let conv = visible(&ctx, media).await?;
    if ctx.matched.op == PostConversationsMessageCommunicationMessages {
        return send_message(&ctx, &conv).await;
    }
    let p = participant(&ctx, &conv)?;
    match ctx.matched.op {
        PatchConversationParticipant | PatchConversationsCallParticipant | PatchConversationsMessageParticipant => {
            patch_participant(&ctx, &conv, &p).await
        }
        PatchConversationParticipantAttributes => attributes(&ctx, &conv, &p, false).await,
        PatchConversationsCallParticipantAttributes | PatchConversationsMessageParticipantAttributes => {
            attributes(&ctx, &conv, &p, true).await
        }
        GetConversationParticipantWrapup
        | GetConversationsCallParticipantWrapup
        | GetConversationsMessageParticipantWrapup => {
            ctx.require_any(READ)?;
            Ok(ok(render::assigned_wrapup_json(&p, ctx.query.flag("provisional"))))
        }
        GetConversationParticipantWrapupcodes
        | GetConversationsCallParticipantWrapupcodes
        | GetConversationsMessageParticipantWrapupcodes => wrapup_codes(&ctx, &p),
        GetConversationsCallParticipantCommunicationWrapup | GetConversationsMessageParticipantCommunicationWrapup => {
            ctx.require_any(READ)?;
            communication_of(&ctx, &p)?;
            Ok(ok(render::assigned_wrapup_json(&p, ctx.query.flag("provisional"))))
        }
        PostConversationsCallParticipantCommunicationWrapup
        | PostConversationsMessageParticipantCommunicationWrapup => {
            ctx.require_any(&[Scope::WrapupWrite, Scope::WrapupAmend])?;
            communication_of(&ctx, &p)?;
            let input = wrapup_input(required_body::<WrapupBody>(&ctx.body)?)?;
            execute(&ctx, Some(conv.id.clone()), Command::SetWrapup { participant_id: p.id.clone(), input }).await?;
            Ok(StatusCode::ACCEPTED.into_response())
        }
        PatchConversationsCallParticipantCommunication | PatchConversationsMessageParticipantCommunication => {
            ctx.require_any(WRITE)?;
            communication_of(&ctx, &p)?;
            let b: ParticipantPatch = required_body(&ctx.body)?;
            if b.state.as_deref() != Some("disconnected") {
                return Err(GcError::invalid_field("state", "a communication can only be set to disconnected"));
            }
            // "Does not update wrapup": a disconnect without a code; the wrap-up follows the policy.
            let cmd =
                Command::Disconnect { participant_id: p.id.clone(), wrapup: None, skip_wrapup: false, reason: None };
            execute(&ctx, Some(conv.id.clone()), cmd).await?;
            Ok(json_response(StatusCode::ACCEPTED, json!({})))
        }
        PostConversationParticipantReplaceQueue
        | PostConversationParticipantReplaceAgent
        | PostConversationsCallParticipantReplace
        | PostConversationsMessageParticipantReplace => replace(&ctx, &conv, &p).await,
        PatchConversationsAftercallworkConversationIdParticipantCommunication => {
            ctx.require_any(WRITE)?;
            communication_of(&ctx, &p)?;
            let b: AcwUpdate = required_body(&ctx.body)?;
            let required = b
                .after_call_work_required
                .ok_or_else(|| GcError::invalid_field("afterCallWorkRequired", "is required"))?;
            execute(&ctx, Some(conv.id.clone()), Command::RequestAcw { participant_id: p.id.clone(), required })
                .await?;
            Ok(ok(json!({"afterCallWorkRequired": required})))
        }
        op => Err(GcError::not_implemented(op)),
    }
}

fn participant(ctx: &Ctx, conv: &Conversation) -> Result<Participant, GcError> {
    let pid = ctx.param("participantId");
    conv.participant(pid)
        .cloned()
        .ok_or_else(|| GcError::not_found(format!("participant {pid} does not exist in conversation {}", conv.id)))
}

/// A `{communicationId}` that is not this participant's is a 404, as the vendor has one per participant here.
fn communication_of(ctx: &Ctx, p: &Participant) -> Result<(), GcError> {
    let comm = ctx.param("communicationId");
    if comm == p.communication_id {
        Ok(())
    } else {
        Err(GcError::not_found(format!("communication {comm} is not participant {}'s", p.id)))
    }
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct WrapupBody {
    code: Option<String>,
    notes: Option<String>,
    tags: Option<Vec<String>>,
}

fn wrapup_input(b: WrapupBody) -> Result<WrapupInput, GcError> {
    let code = b.code.filter(|c| !c.is_empty()).ok_or_else(|| GcError::invalid_field("wrapup.code", "is required"))?;
    Ok(WrapupInput {
        code_id: Some(native_code_id(&code).to_string()),
        notes: b.notes.map_or(Patch::Absent, Patch::Value),
        tags: b.tags.map_or(Patch::Absent, Patch::Value),
    })
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct ParticipantPatch {
    state: Option<String>,
    wrapup: Option<WrapupBody>,
    wrapup_skipped: Option<bool>,
    held: Option<bool>,
    recording: Option<bool>,
    muted: Option<bool>,
    confined: Option<bool>,
}

/// `MediaParticipantRequest`: hold first, then the state change (carrying the wrap-up), else the wrap-up alone.
async fn patch_participant(ctx: &Ctx, conv: &Conversation, p: &Participant) -> Result<Response, GcError> {
    ctx.require_any(WRITE)?;
    let b: ParticipantPatch = required_body(&ctx.body)?;
    for (field, on) in [("recording", b.recording), ("muted", b.muted), ("confined", b.confined)] {
        if on == Some(true) {
            return Err(GcError::invalid_field(field, "is not supported by Switchboard"));
        }
    }
    let wrapup = b.wrapup.map(wrapup_input).transpose()?;
    let skip = b.wrapup_skipped == Some(true);
    // As the native API: a code or a skip with a state change needs wrap-up rights; a code alone may amend.
    match (b.state.is_some(), wrapup.is_some() || skip) {
        (true, true) => ctx.require(&[Scope::WrapupWrite])?,
        (false, true) => ctx.require_any(&[Scope::WrapupWrite, Scope::WrapupAmend])?,
        _ => {}
    }
    let pid = p.id.clone();
    let mut commands = Vec::new();
    match b.held {
        Some(true) => commands.push(Command::Hold { participant_id: pid.clone() }),
        // The customer carries the held flag; the engine decides whether this agent's hold exists.
        Some(false) => commands.push(Command::Unhold { participant_id: pid.clone() }),
        None => {}
    }
    match b.state.as_deref() {
        None => match (wrapup, skip) {
            (Some(input), _) => commands.push(Command::SetWrapup { participant_id: pid, input }),
            (None, true) => commands.push(Command::SkipWrapup { participant_id: pid }),
            (None, false) => {}
        },
        Some("connected") if p.state == ParticipantState::Alerting => {
            commands.push(Command::Answer { participant_id: pid.clone() });
            if let Some(input) = wrapup {
                commands.push(Command::SetWrapup { participant_id: pid, input });
            }
        }
        Some("connected") if p.state == ParticipantState::Connected => {}
        Some("disconnected") => {
            commands.push(Command::Disconnect { participant_id: pid, wrapup, skip_wrapup: skip, reason: None })
        }
        Some(other) => {
            return Err(GcError::invalid_field(
                "state",
                &format!("{other} cannot be set on a participant that is {}", render::call_state(p.state)),
            ));
        }
    }
    if commands.is_empty() && b.held.is_none() {
        return Err(GcError::bad_request("nothing to change: give state, wrapup, wrapupSkipped or held"));
    }
    for cmd in commands {
        execute(ctx, Some(conv.id.clone()), cmd).await?;
    }
    Ok(StatusCode::ACCEPTED.into_response())
}

#[derive(Deserialize, Default)]
struct AttributesBody {
    attributes: Option<BTreeMap<String, Option<String>>>,
}

async fn attributes(ctx: &Ctx, conv: &Conversation, p: &Participant, echo: bool) -> Result<Response, GcError> {
    ctx.require_any(WRITE)?;
    let b: AttributesBody = required_body(&ctx.body)?;
    let patch = b.attributes.ok_or_else(|| GcError::invalid_field("attributes", "is required"))?;
    let cmd = Command::UpdateParticipantAttributes { participant_id: p.id.clone(), patch };
    let out = execute(ctx, Some(conv.id.clone()), cmd).await?;
    if !echo {
        return Ok(StatusCode::ACCEPTED.into_response());
    }
    let now = out.conversation.participant(&p.id).cloned().unwrap_or_else(|| p.clone());
    Ok(ok(render::attributes_json(&now)))
}

fn wrapup_codes(ctx: &Ctx, p: &Participant) -> Result<Response, GcError> {
    ctx.require_any(READ)?;
    let org = ctx.org()?;
    let loads = Default::default();
    let dir = switchboard_engine::orgs::Dir { org: &org, loads: &loads };
    // The codes an agent may give here: the queue's active codes (never the system ones), as a bare array.
    let codes: Vec<_> = switchboard_core::allowed_codes(p, &dir)
        .into_iter()
        .map(|c| super::codes::code_json(&ctx.who.org_id, c))
        .collect();
    Ok(ok(json!(codes)))
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct TransferBody {
    transfer_type: Option<String>,
    user_id: Option<String>,
    user_name: Option<String>,
    queue_id: Option<String>,
    queue_name: Option<String>,
    address: Option<String>,
}

/// `replace/queue`, `replace/agent` and the media `replace`: a blind transfer of the participant's customer.
async fn replace(ctx: &Ctx, conv: &Conversation, p: &Participant) -> Result<Response, GcError> {
    ctx.require_any(WRITE)?;
    let b: TransferBody = required_body(&ctx.body)?;
    if b.transfer_type.as_deref().is_some_and(|t| t.eq_ignore_ascii_case("attended")) {
        return Err(GcError::invalid_field("transferType", "attended transfers are not supported; use Unattended"));
    }
    if b.address.is_some() {
        return Err(GcError::invalid_field("address", "transfers to an address are not supported"));
    }
    let org = ctx.org()?;
    let by_queue = ctx.matched.op != Op::PostConversationParticipantReplaceAgent;
    let by_user = ctx.matched.op != Op::PostConversationParticipantReplaceQueue;
    let user = match (&b.user_id, &b.user_name) {
        (Some(id), _) => Some(id.clone()),
        (None, Some(name)) => {
            let matches: Vec<&String> =
                org.users.values().filter(|u| u.name == *name || u.username == *name).map(|u| &u.id).collect();
            match matches.as_slice() {
                [id] => Some((*id).clone()),
                [] => return Err(GcError::invalid_field("userName", "no user has this name")),
                _ => return Err(GcError::invalid_field("userName", "several users have this name; give userId")),
            }
        }
        _ => None,
    }
    .filter(|_| by_user);
    let queue = match (&b.queue_id, &b.queue_name) {
        (Some(id), _) => Some(id.clone()),
        (None, Some(name)) => {
            let matches: Vec<&String> = org.queues.values().filter(|q| q.name == *name).map(|q| &q.id).collect();
            match matches.as_slice() {
                [id] => Some((*id).clone()),
                [] => return Err(GcError::invalid_field("queueName", "no queue has this name")),
                _ => return Err(GcError::invalid_field("queueName", "several queues have this name; give queueId")),
            }
        }
        _ => None,
    }
    .filter(|_| by_queue);
    let to = match (user, queue) {
        (Some(user_id), None) => TransferTarget::User { user_id },
        (None, Some(queue_id)) => TransferTarget::Queue { queue_id },
        _ => {
            let need = match (by_user, by_queue) {
                (true, false) => "give userId or userName",
                (false, true) => "give queueId or queueName",
                _ => "give exactly one of userId, userName, queueId",
            };
            return Err(GcError::bad_request(need));
        }
    };
    let cmd = Command::Transfer { from_participant_id: p.id.clone(), to, context_data: None, wrapup: None };
    execute(ctx, Some(conv.id.clone()), cmd).await?;
    Ok(StatusCode::ACCEPTED.into_response())
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct AcwUpdate {
    after_call_work_required: Option<bool>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct AdditionalMessage {
    text_body: Option<String>,
}

/// The agent's send: the communication names the sending participant; the answer is the vendor's `MessageData`.
async fn send_message(ctx: &Ctx, conv: &Conversation) -> Result<Response, GcError> {
    ctx.require_any(WRITE)?;
    let comm = ctx.param("communicationId");
    let p = conv.participants.iter().find(|p| p.communication_id == comm).ok_or_else(|| {
        GcError::not_found(format!("communication {comm} does not exist in conversation {}", conv.id))
    })?;
    let b: AdditionalMessage = body(&ctx.body)?;
    let text =
        b.text_body.filter(|t| !t.is_empty()).ok_or_else(|| GcError::invalid_field("textBody", "is required"))?;
    let cmd = Command::PostMessage { participant_id: Some(p.id.clone()), text: text.clone() };
    let out = execute(ctx, Some(conv.id.clone()), cmd).await?;
    let m = out.message.ok_or_else(|| GcError::internal("the engine did not report the posted message"))?;
    let mut v = json!({
        "id": m.id,
        "timestamp": m.sent_at.to_string(),
        "direction": crate::map::enum_str(&m.direction),
        "messengerType": render::messenger_type(conv.channel),
        "status": "sent",
        "textBody": m.text,
        "normalizedMessage": {
            "id": m.id,
            "type": "Text",
            "text": m.text,
            "status": "Sent",
            "originatingEntity": "Human",
            "direction": if m.direction == switchboard_core::model::MessageDirection::Inbound { "Inbound" } else { "Outbound" },
        },
        "conversationId": conv.id,
        "selfUri": format!("/api/v2/conversations/messages/{}/messages/{}", conv.id, m.id),
    });
    if let Some(to) = conv.customer().and_then(|c| c.address.clone()) {
        v["toAddress"] = json!(to);
    }
    Ok(ok(v))
}
