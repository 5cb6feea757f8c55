//! Response shapes: the conversation as the caller sees it, listings, users without secrets, problems.

use serde::Serialize;
use switchboard_core::config::{Capacity, Client, Role, User};
use switchboard_core::{Actor, Conversation, ConversationState, Timestamp, allowed::allowed_actions};

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConversationView<'a> {
    #[serde(flatten)]
    pub conversation: &'a Conversation,
    pub state: ConversationState,
    /// The DOMAIN.md commands that would succeed for this caller now.
    pub allowed_actions: Vec<&'static str>,
    /// Participants whose wrap-up is still pending.
    pub pending_wrapups: Vec<&'a str>,
}

impl<'a> ConversationView<'a> {
    pub fn new(conversation: &'a Conversation, actor: &Actor, now: Timestamp) -> Self {
        ConversationView {
            conversation,
            state: conversation.state(),
            allowed_actions: allowed_actions(conversation, actor, now),
            pending_wrapups: conversation.pending_wrapup_participants().iter().map(|p| p.id.as_str()).collect(),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Listing<T: Serialize> {
    pub entities: Vec<T>,
    pub next_cursor: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UserView<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub username: &'a str,
    pub email: Option<&'a str>,
    pub roles: &'a [Role],
    pub capacity: Capacity,
    pub voice_blocks_others: Option<bool>,
    /// `offQueue` | `notResponding` | `interacting` | `idle`
    pub routing_status: &'static str,
    pub load: LoadView,
    pub version: u64,
}

#[derive(Serialize)]
pub struct LoadView {
    pub voice: u32,
    pub message: u32,
}

impl<'a> UserView<'a> {
    pub fn new(u: &'a User, load: switchboard_core::Load) -> Self {
        UserView {
            id: &u.id,
            name: &u.name,
            username: &u.username,
            email: u.email.as_deref(),
            roles: &u.roles,
            capacity: u.capacity,
            voice_blocks_others: u.voice_blocks_others,
            routing_status: switchboard_core::routing::presence(u, load),
            load: LoadView { voice: load.voice, message: load.message },
            version: u.version,
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientView<'a> {
    pub client_id: &'a str,
    pub name: &'a str,
    pub scopes: &'a [String],
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    pub redirect_uris: &'a [String],
    pub created_at: Timestamp,
    /// Only in the answer to the creation: the secret is never shown again.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<&'a str>,
}

impl<'a> ClientView<'a> {
    pub fn new(c: &'a Client, secret: Option<&'a str>) -> Self {
        ClientView {
            client_id: &c.id,
            name: &c.name,
            scopes: &c.scopes,
            redirect_uris: &c.redirect_uris,
            created_at: c.created_at,
            secret,
        }
    }
}

#[derive(Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
    pub scope: String,
    /// Password and authorization-code grants: a rotating refresh token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
}
