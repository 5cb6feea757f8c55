//! Request bodies of the native API. Unknown fields are refused so a typo never passes silently.

use serde::{Deserialize, Deserializer};
use serde_json::Value;
use switchboard_core::command::{CloseInput, CreateConversation, PendingWrapups, TransferTarget};
use switchboard_core::config::{AcwSettings, Capacity, MediaSettings, QueueMember, Role, ServiceLevel};
use switchboard_core::{Channel, Direction, MediaType, Patch, WrapupInput};

/// Distinguishes a field left out (`Absent`) from an explicit `null`.
fn patch<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Patch<T>, D::Error> {
    Ok(match Option::<T>::deserialize(d)? {
        Some(v) => Patch::Value(v),
        None => Patch::Null,
    })
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Address {
    pub name: Option<String>,
    pub address: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateConversationBody {
    pub media_type: Option<MediaType>,
    pub channel: Option<Channel>,
    pub direction: Option<Direction>,
    pub from: Option<Address>,
    pub to: Option<Address>,
    pub queue_id: Option<String>,
    pub user_id: Option<String>,
    pub bot_name: Option<String>,
    pub fallback_queue_id: Option<String>,
    pub attributes: Option<Value>,
    pub version: Option<u64>,
}

impl CreateConversationBody {
    pub fn into_command(self) -> CreateConversation {
        let from = self.from.unwrap_or_default();
        CreateConversation {
            media_type: self.media_type,
            channel: self.channel,
            direction: self.direction,
            from_name: from.name,
            from_address: from.address,
            to_address: self.to.and_then(|t| t.address),
            queue_id: self.queue_id,
            user_id: self.user_id,
            bot_name: self.bot_name,
            fallback_queue_id: self.fallback_queue_id,
            attributes: self.attributes,
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WrapupBody {
    pub code_id: Option<String>,
    #[serde(default, deserialize_with = "patch")]
    pub notes: Patch<String>,
    #[serde(default, deserialize_with = "patch")]
    pub tags: Patch<Vec<String>>,
    pub version: Option<u64>,
}

impl WrapupBody {
    pub fn input(self) -> WrapupInput {
        WrapupInput { code_id: self.code_id, notes: self.notes, tags: self.tags }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DisconnectBody {
    pub wrapup: Option<WrapupBody>,
    #[serde(default)]
    pub skip_wrapup: bool,
    pub reason: Option<String>,
    pub version: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VersionOnlyBody {
    pub version: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ParticipantWrapupBody {
    pub participant_id: String,
    pub code_id: Option<String>,
    #[serde(default, deserialize_with = "patch")]
    pub notes: Patch<String>,
    #[serde(default, deserialize_with = "patch")]
    pub tags: Patch<Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CloseBody {
    pub wrapup: Option<WrapupBody>,
    #[serde(default)]
    pub wrapups: Vec<ParticipantWrapupBody>,
    #[serde(default)]
    pub pending_wrapups: PendingWrapups,
    pub reason: Option<String>,
    pub version: Option<u64>,
}

impl CloseBody {
    pub fn into_input(self) -> (CloseInput, Option<u64>) {
        let version = self.version.or(self.wrapup.as_ref().and_then(|w| w.version));
        let input = CloseInput {
            wrapup: self.wrapup.map(WrapupBody::input),
            wrapups: self
                .wrapups
                .into_iter()
                .map(|w| (w.participant_id, WrapupInput { code_id: w.code_id, notes: w.notes, tags: w.tags }))
                .collect(),
            pending_wrapups: self.pending_wrapups,
            reason: self.reason,
        };
        (input, version)
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TransferBody {
    pub from_participant_id: String,
    pub to: TransferTarget,
    pub context_data: Option<Value>,
    pub wrapup: Option<WrapupBody>,
    pub version: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MessageBody {
    pub text: String,
    pub participant_id: Option<String>,
    pub version: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AcwRequestBody {
    #[serde(default = "yes")]
    pub required: bool,
    pub version: Option<u64>,
}

impl Default for AcwRequestBody {
    fn default() -> Self {
        AcwRequestBody { required: true, version: None }
    }
}

fn yes() -> bool {
    true
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CodeBody {
    pub name: String,
    pub description: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct QueueBody {
    pub name: String,
    #[serde(default)]
    pub acw: Option<AcwSettings>,
    pub alerting_timeout_ms: Option<i64>,
    pub auto_answer: Option<bool>,
    pub inactivity_timeout_ms: Option<i64>,
    pub service_level: Option<ServiceLevel>,
    pub context_schema: Option<Value>,
    pub media_settings: Option<MediaSettings>,
    pub wrapup_codes: Option<Vec<String>>,
    pub members: Option<Vec<MemberEntry>>,
}

/// A member given as a bare user id (joined) or as `{userId, joined}`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum MemberEntry {
    Id(String),
    Full(MemberObject),
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MemberObject {
    pub user_id: String,
    #[serde(default = "yes")]
    pub joined: bool,
}

impl MemberEntry {
    pub fn member(self) -> QueueMember {
        match self {
            MemberEntry::Id(user_id) => QueueMember { user_id, joined: true },
            MemberEntry::Full(m) => QueueMember { user_id: m.user_id, joined: m.joined },
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MemberPatch {
    pub user_id: String,
    #[serde(default = "yes")]
    pub joined: bool,
    #[serde(default)]
    pub remove: bool,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UserBody {
    pub name: String,
    pub username: String,
    pub email: Option<String>,
    pub password: Option<String>,
    pub roles: Vec<Role>,
    pub capacity: Option<Capacity>,
    pub voice_blocks_others: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RoutingStatusBody {
    pub status: RoutingStatusValue,
}

#[derive(Debug, Deserialize, Clone, Copy)]
#[serde(rename_all = "camelCase")]
pub enum RoutingStatusValue {
    OnQueue,
    OffQueue,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClientBody {
    pub name: String,
    pub scopes: Vec<String>,
    /// For browser apps (authorization code + PKCE): where the login page may redirect.
    #[serde(default)]
    pub redirect_uris: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OrgBody {
    pub name: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClockBody {
    pub advance_ms: i64,
}

/// `POST /oauth/token` form fields (RFC 6749).
#[derive(Debug, Default, Deserialize)]
pub struct TokenForm {
    pub grant_type: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    pub username: Option<String>,
    pub password: Option<String>,
    pub scope: Option<String>,
    pub refresh_token: Option<String>,
    pub code: Option<String>,
    pub redirect_uri: Option<String>,
    pub code_verifier: Option<String>,
}
