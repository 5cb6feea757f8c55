//! Who is acting: users (with roles), service clients (with scopes), guests and the system, and what they may do.

use crate::config::Role;
use crate::model::{ActorKind, ActorRef, Participant, Purpose};
use serde::{Deserialize, Serialize};

/// API.md's scopes. `Admin` implies every other scope.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Scope {
    #[serde(rename = "conversations:read")]
    ConversationsRead,
    #[serde(rename = "conversations:write")]
    ConversationsWrite,
    #[serde(rename = "conversations:close")]
    ConversationsClose,
    #[serde(rename = "conversations:participate")]
    ConversationsParticipate,
    #[serde(rename = "wrapup:write")]
    WrapupWrite,
    #[serde(rename = "wrapup:amend")]
    WrapupAmend,
    #[serde(rename = "routing:read")]
    RoutingRead,
    #[serde(rename = "routing:admin")]
    RoutingAdmin,
    #[serde(rename = "analytics:read")]
    AnalyticsRead,
    #[serde(rename = "events:read")]
    EventsRead,
    #[serde(rename = "webhooks:admin")]
    WebhooksAdmin,
    #[serde(rename = "users:admin")]
    UsersAdmin,
    #[serde(rename = "admin")]
    Admin,
}

impl Scope {
    pub const ALL: [Scope; 13] = [
        Scope::ConversationsRead,
        Scope::ConversationsWrite,
        Scope::ConversationsClose,
        Scope::ConversationsParticipate,
        Scope::WrapupWrite,
        Scope::WrapupAmend,
        Scope::RoutingRead,
        Scope::RoutingAdmin,
        Scope::AnalyticsRead,
        Scope::EventsRead,
        Scope::WebhooksAdmin,
        Scope::UsersAdmin,
        Scope::Admin,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::ConversationsRead => "conversations:read",
            Scope::ConversationsWrite => "conversations:write",
            Scope::ConversationsClose => "conversations:close",
            Scope::ConversationsParticipate => "conversations:participate",
            Scope::WrapupWrite => "wrapup:write",
            Scope::WrapupAmend => "wrapup:amend",
            Scope::RoutingRead => "routing:read",
            Scope::RoutingAdmin => "routing:admin",
            Scope::AnalyticsRead => "analytics:read",
            Scope::EventsRead => "events:read",
            Scope::WebhooksAdmin => "webhooks:admin",
            Scope::UsersAdmin => "users:admin",
            Scope::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|x| x.as_str() == s)
    }

    fn bit(self) -> u16 {
        1 << (self as u16)
    }
}

/// A set of scopes as a bit set: cheap to copy into every token and actor.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Scopes(pub u16);

impl Scopes {
    pub fn of(list: &[Scope]) -> Self {
        Scopes(list.iter().fold(0, |acc, s| acc | s.bit()))
    }
    pub fn contains(self, s: Scope) -> bool {
        self.0 & Scope::Admin.bit() != 0 || self.0 & s.bit() != 0
    }
    pub fn missing(self, needed: &[Scope]) -> Vec<Scope> {
        needed.iter().copied().filter(|s| !self.contains(*s)).collect()
    }
    /// The scopes in both sets; `admin` in either stands for every scope.
    pub fn intersect(self, other: Scopes) -> Scopes {
        let expand = |s: Scopes| if s.0 & Scope::Admin.bit() != 0 { Scopes(u16::MAX) } else { s };
        Scopes(expand(self).0 & expand(other).0)
    }
    pub fn list(self) -> Vec<Scope> {
        Scope::ALL.into_iter().filter(|s| self.0 & s.bit() != 0).collect()
    }

    /// API.md's role table.
    pub fn for_roles(roles: &[Role]) -> Self {
        use Scope::*;
        let mut s = Vec::new();
        for r in roles {
            match r {
                Role::Agent => s.extend([ConversationsRead, ConversationsWrite, WrapupWrite, EventsRead, RoutingRead]),
                Role::Supervisor => s.extend([
                    ConversationsRead,
                    ConversationsWrite,
                    WrapupWrite,
                    EventsRead,
                    RoutingRead,
                    ConversationsClose,
                    WrapupAmend,
                    AnalyticsRead,
                ]),
                Role::Admin => s.push(Admin),
            }
        }
        Scopes::of(&s)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Actor {
    pub kind: ActorKind,
    pub id: String,
    pub roles: Vec<Role>,
    pub scopes: Scopes,
}

impl Actor {
    pub fn system() -> Self {
        Actor { kind: ActorKind::System, id: "system".into(), roles: vec![], scopes: Scopes::of(&[Scope::Admin]) }
    }
    pub fn user(id: impl Into<String>, roles: Vec<Role>) -> Self {
        let scopes = Scopes::for_roles(&roles);
        Actor { kind: ActorKind::User, id: id.into(), roles, scopes }
    }
    pub fn client(id: impl Into<String>, scopes: Scopes) -> Self {
        Actor { kind: ActorKind::Client, id: id.into(), roles: vec![], scopes }
    }
    /// A web-messaging customer: no scopes, acts only on its own customer participant.
    pub fn guest(id: impl Into<String>) -> Self {
        Actor { kind: ActorKind::Guest, id: id.into(), roles: vec![], scopes: Scopes::default() }
    }
    pub fn as_ref(&self) -> ActorRef {
        ActorRef { kind: self.kind, id: self.id.clone() }
    }
    pub fn has_scope(&self, s: Scope) -> bool {
        self.scopes.contains(s)
    }

    /// Supervisors and admins act org-wide; an agent only on its own participants.
    pub fn is_supervisor_or_admin(&self) -> bool {
        self.kind == ActorKind::System
            || self.roles.iter().any(|r| matches!(r, Role::Supervisor | Role::Admin))
            || (self.kind == ActorKind::Client && self.has_scope(Scope::Admin))
    }

    /// Whether this actor is the participant's own actor (stateReason `client` when it ends it).
    pub fn is_own(&self, p: &Participant) -> bool {
        match self.kind {
            ActorKind::User => p.user_id.as_deref() == Some(self.id.as_str()),
            ActorKind::Client => p.client_id.as_deref() == Some(self.id.as_str()),
            ActorKind::Guest => p.purpose == Purpose::Customer && p.guest_id.as_deref() == Some(self.id.as_str()),
            ActorKind::System => false,
        }
    }

    /// The one ownership rule (SECURITY.md): may this actor drive this participant?
    pub fn acts_for(&self, p: &Participant) -> bool {
        match self.kind {
            ActorKind::System => true,
            ActorKind::User => self.is_own(p) || self.is_supervisor_or_admin(),
            ActorKind::Client => {
                self.has_scope(Scope::ConversationsWrite)
                    || (self.has_scope(Scope::ConversationsParticipate) && self.is_own(p))
            }
            ActorKind::Guest => self.is_own(p),
        }
    }

    /// Who may set another participant's wrap-up before it is final.
    pub fn may_set_wrapup(&self, p: &Participant) -> bool {
        match self.kind {
            ActorKind::System => true,
            ActorKind::User => self.is_own(p) || self.is_supervisor_or_admin(),
            ActorKind::Client => self.has_scope(Scope::WrapupWrite),
            ActorKind::Guest => false,
        }
    }

    /// Whether this actor may see a conversation at all: supervisors, admins and reading clients see the
    /// org's; agents, bots and guests only conversations they take or took part in. Everything else about
    /// a conversation (its version, its state) is hidden from those who may not see it.
    pub fn may_see(&self, conv: &crate::model::Conversation) -> bool {
        match self.kind {
            ActorKind::System => true,
            ActorKind::User => self.is_supervisor_or_admin() || conv.has_user(&self.id),
            ActorKind::Client => {
                self.has_scope(Scope::ConversationsRead)
                    || self.has_scope(Scope::ConversationsWrite)
                    || conv.participants.iter().any(|p| self.is_own(p))
            }
            ActorKind::Guest => conv.participants.iter().any(|p| self.is_own(p)),
        }
    }

    /// Amendments: supervisor, admin or `wrapup:amend` (DOMAIN.md rule 2).
    pub fn may_amend(&self) -> bool {
        self.kind == ActorKind::System || self.is_supervisor_or_admin() || self.has_scope(Scope::WrapupAmend)
    }
}
