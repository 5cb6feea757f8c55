//! Conversations as a whole: listings of the caller's active conversations, reads in the generic and media
//! models, teardown (`disconnect`, DELETE, PATCH `state: disconnected`) and outbound calls.

use super::{Ctx, json_response, ok};
use crate::listing::{Page, listing};
use crate::render;
use crate::{GcError, Op};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use switchboard_core::command::{CloseInput, CreateConversation, PendingWrapups};
use switchboard_core::model::{Direction, MediaType};
use switchboard_core::{ActorKind, Command, Conversation, Scope};
use switchboard_engine::{ConversationFilter, ConversationOutcome, ConversationRequest};

pub fn implements(op: Op) -> bool {
    matches!(
        op,
        Op::GetConversations
            | Op::GetConversationsCalls
            | Op::GetConversationsMessages
            | Op::GetConversation
            | Op::GetConversationsCall
            | Op::GetConversationsMessage
            | Op::DeleteConversation
            | Op::PostConversationDisconnect
            | Op::PatchConversationsCall
            | Op::PatchConversationsMessage
            | Op::PostConversationsCalls
    )
}

pub async fn run(ctx: Ctx) -> Result<Response, GcError> {
    match ctx.matched.op {
        Op::GetConversations => list(&ctx, None).await,
        Op::GetConversationsCalls => list(&ctx, Some(MediaType::Voice)).await,
        Op::GetConversationsMessages => list(&ctx, Some(MediaType::Message)).await,
        Op::GetConversation => read(&ctx, None).await,
        Op::GetConversationsCall => read(&ctx, Some(MediaType::Voice)).await,
        Op::GetConversationsMessage => read(&ctx, Some(MediaType::Message)).await,
        Op::DeleteConversation => {
            close(&ctx, PendingWrapups::Keep, None).await.map(|_| StatusCode::NO_CONTENT.into_response())
        }
        Op::PostConversationDisconnect => {
            close(&ctx, PendingWrapups::System, None).await?;
            // The vendor answers 202 with the text `Accepted` (the SDKs return it as a string).
            let mut resp = (StatusCode::ACCEPTED, "Accepted").into_response();
            resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
            Ok(resp)
        }
        Op::PatchConversationsCall => patch(&ctx, MediaType::Voice).await,
        Op::PatchConversationsMessage => patch(&ctx, MediaType::Message).await,
        Op::PostConversationsCalls => create_call(&ctx).await,
        op => Err(GcError::not_implemented(op)),
    }
}

pub const READ: &[Scope] = &[Scope::ConversationsRead, Scope::ConversationsParticipate];
pub const WRITE: &[Scope] = &[Scope::ConversationsWrite, Scope::ConversationsParticipate];

/// A conversation the caller may see, of the media the operation's family names (`calls/`, `messages/`).
pub async fn visible(ctx: &Ctx, media: Option<MediaType>) -> Result<Conversation, GcError> {
    let id = ctx.param("conversationId");
    let conv = ctx
        .facade
        .engine
        .conversation(&ctx.who.org_id, id)
        .await
        .map_err(GcError::from_engine)?
        .filter(|c| ctx.who.actor.may_see(c) && media.is_none_or(|m| m == c.media_type))
        .ok_or_else(|| GcError::not_found(format!("conversation {id} does not exist")))?;
    Ok(conv)
}

/// Runs one conversation command as the caller.
pub async fn execute(
    ctx: &Ctx,
    conversation_id: Option<String>,
    command: Command,
) -> Result<ConversationOutcome, GcError> {
    let req = ConversationRequest {
        org_id: ctx.who.org_id.clone(),
        actor: ctx.who.actor.clone(),
        conversation_id,
        command,
        expected_version: None,
        idempotency: None,
        dry_run: false,
        request_id: ctx.who.request_id.clone(),
    };
    ctx.facade.engine.execute(req).await.map_err(GcError::from_engine)
}

fn render(ctx: &Ctx, c: &Conversation, media_view: bool) -> Result<Value, GcError> {
    let org = ctx.org()?;
    Ok(if media_view { render::media_conversation_json(c, &org) } else { render::conversation_json(c, &org) })
}

async fn read(ctx: &Ctx, media: Option<MediaType>) -> Result<Response, GcError> {
    ctx.require_any(READ)?;
    let conv = visible(ctx, media).await?;
    Ok(ok(render(ctx, &conv, media.is_some())?))
}

/// `communicationType`: Call, Message (Chat and the others have no native media, so they list nothing).
fn media_filter(ctx: &Ctx) -> Result<Option<Option<MediaType>>, GcError> {
    Ok(match ctx.query.get("communicationType").map(str::to_ascii_lowercase).as_deref() {
        None | Some("") => None,
        Some("call") => Some(Some(MediaType::Voice)),
        Some("message") => Some(Some(MediaType::Message)),
        Some(_) => Some(None),
    })
}

/// The caller's active conversations: live, or waiting for its wrap-up (a client sees the org's).
async fn list(ctx: &Ctx, media: Option<MediaType>) -> Result<Response, GcError> {
    ctx.require_any(READ)?;
    let page = Page::from(&ctx.query)?;
    let media = match (media, media_filter(ctx)?) {
        (Some(m), _) => Some(m),
        (None, Some(Some(m))) => Some(m),
        (None, Some(None)) => return Ok(ok(listing(vec![], &page, ctx.matched.op.spec().path))),
        (None, None) => None,
    };
    let user = (ctx.who.actor.kind == ActorKind::User).then(|| ctx.who.actor.id.clone());
    let mut convs = Vec::new();
    for state in ["active", "wrapup"] {
        let filter = ConversationFilter {
            state: Some(state.into()),
            media_type: media.map(|m| crate::map::enum_str(&m)),
            refs: user.iter().map(|u| format!("user:{u}")).collect(),
            before: None,
            limit: 500,
        };
        let found =
            ctx.facade.engine.list_conversations(&ctx.who.org_id, filter).await.map_err(GcError::from_engine)?;
        convs.extend(found.conversations.into_iter().filter(|c| {
            ctx.who.actor.may_see(c)
                && user.as_ref().is_none_or(|u| {
                    c.participants.iter().any(|p| p.user_id.as_ref() == Some(u) && (p.is_live() || p.wrapup_pending()))
                })
        }));
    }
    convs.sort_by_key(|c| std::cmp::Reverse(c.started_at));
    let all = convs
        .iter()
        .map(|c| render(ctx, c, media.is_some() && ctx.matched.op != Op::GetConversations))
        .collect::<Result<_, _>>()?;
    Ok(ok(listing(all, &page, ctx.matched.op.spec().path)))
}

async fn close(ctx: &Ctx, pending: PendingWrapups, media: Option<MediaType>) -> Result<ConversationOutcome, GcError> {
    ctx.require(&[Scope::ConversationsClose])?;
    let conv = visible(ctx, media).await?;
    let input = CloseInput { pending_wrapups: pending, ..Default::default() };
    execute(ctx, Some(conv.id), Command::Close(input)).await
}

#[derive(Deserialize, Default)]
struct ConversationPatch {
    state: Option<String>,
}

/// PATCH `{state: "disconnected"}` ends the conversation, keeping pending wrap-ups pending.
async fn patch(ctx: &Ctx, media: MediaType) -> Result<Response, GcError> {
    let b: ConversationPatch = crate::request::required_body(&ctx.body)?;
    if b.state.as_deref() != Some("disconnected") {
        return Err(GcError::invalid_field("state", "only disconnected can be set on a conversation"));
    }
    let out = close(ctx, PendingWrapups::Keep, Some(media)).await?;
    Ok(ok(render(ctx, &out.conversation, false)?))
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct CreateCallRequest {
    phone_number: Option<String>,
    call_from_queue_id: Option<String>,
    call_queue_id: Option<String>,
    call_user_id: Option<String>,
    attributes: Option<serde_json::Map<String, Value>>,
}

/// An agent's outbound call to a phone number (optionally on behalf of a queue).
async fn create_call(ctx: &Ctx) -> Result<Response, GcError> {
    ctx.require_any(WRITE)?;
    if ctx.who.actor.kind != ActorKind::User {
        return Err(GcError::bad_request("placing a call requires a user context; the token belongs to a client"));
    }
    let b: CreateCallRequest = crate::request::required_body(&ctx.body)?;
    if b.call_queue_id.is_some() || b.call_user_id.is_some() {
        return Err(GcError::invalid_field(
            "callQueueId",
            "calls to a queue or a user are not supported; give phoneNumber",
        ));
    }
    let to = b
        .phone_number
        .filter(|p| !p.trim().is_empty())
        .ok_or_else(|| GcError::invalid_field("phoneNumber", "is required"))?;
    let create = CreateConversation {
        media_type: Some(MediaType::Voice),
        direction: Some(Direction::Outbound),
        to_address: Some(to),
        queue_id: b.call_from_queue_id,
        user_id: Some(ctx.who.actor.id.clone()),
        attributes: b.attributes.map(Value::Object),
        ..Default::default()
    };
    let out = execute(ctx, None, Command::Create(create)).await?;
    let id = &out.conversation.id;
    Ok(json_response(StatusCode::OK, json!({"id": id, "selfUri": format!("/api/v2/conversations/calls/{id}")})))
}
