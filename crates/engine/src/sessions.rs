//! OAuth state kept by the writer: refresh-token families (sessions), authorization codes and revoked
//! access tokens. Each is a durable entity; readers see only the revocation list (`View::revoked`).

use crate::error::EngineError;
use crate::state::State;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// A refresh-token family. Each refresh rotates `generation`; presenting an older one revokes the family.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Session {
    pub id: String,
    pub org_id: String,
    pub user_id: String,
    /// The client the session was granted to, if any (authorization_code; password through a client).
    pub client_id: Option<String>,
    /// `password` | `authorization_code`
    pub grant: String,
    pub generation: u64,
    /// Wall-clock ms; each refresh moves it forward by the refresh lifetime, never past `max_expires_ms`.
    pub expires_ms: i64,
    /// The absolute end of the family, however often it is refreshed.
    pub max_expires_ms: i64,
    pub revoked: bool,
    /// Scope bits the family's tokens may never exceed (a client's grant, a requested `scope`); `None`: the
    /// user's roles decide alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope_cap: Option<u16>,
}

/// How long a new family lives: sliding per refresh, capped in total.
#[derive(Clone, Copy, Debug)]
pub struct Lifetimes {
    pub refresh_ttl_ms: i64,
    pub max_ttl_ms: i64,
}

/// An authorization code (stored by its SHA-256, never in clear), kept after use until it expires so that
/// a replay can be told apart from an unknown code.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthCode {
    pub hash: String,
    pub org_id: String,
    pub user_id: String,
    pub client_id: String,
    pub redirect_uri: String,
    /// PKCE S256 challenge (base64url, no padding).
    pub challenge: String,
    pub expires_ms: i64,
    /// The session the code was exchanged for (set on first use).
    pub session_id: Option<String>,
}

#[derive(Clone, Debug)]
pub enum AuthCommand {
    /// A new family for a user who just proved who they are.
    StartSession {
        user_id: String,
        client_id: Option<String>,
        grant: String,
        scope_cap: Option<u16>,
        lifetimes: Lifetimes,
    },
    /// Rotates a family: `generation` must be the current one, and the client the family's.
    Refresh {
        session_id: String,
        generation: u64,
        client_id: Option<String>,
        refresh_ttl_ms: i64,
    },
    RevokeSession {
        session_id: String,
    },
    /// Ends every family of a user (an admin's "sign out everywhere"; a password change).
    RevokeUserSessions {
        user_id: String,
    },
    /// Revokes one access token (by its id) until it would have expired anyway.
    RevokeToken {
        token_id: String,
        expires_ms: i64,
    },
    SaveCode(AuthCode),
    /// Exchanges a code. `challenge_of_verifier` is S256 of the verifier the client sent.
    RedeemCode {
        hash: String,
        client_id: String,
        redirect_uri: String,
        challenge_of_verifier: String,
        scope_cap: Option<u16>,
        lifetimes: Lifetimes,
    },
}

#[derive(Clone, Debug)]
pub struct AuthRequest {
    pub org_id: String,
    pub actor: switchboard_core::Actor,
    pub command: AuthCommand,
    /// Wall-clock ms: OAuth lifetimes run in real time, whatever the engine clock says.
    pub now_ms: i64,
    /// How long an access token lives: a revoked family stays on the revocation list that long.
    pub access_ttl_ms: i64,
    pub request_id: Option<String>,
}

#[derive(Clone, Debug)]
pub enum AuthOutcome {
    Session(Session),
    /// How many families a revocation ended.
    Revoked(usize),
    Done,
}

/// The writer's OAuth state, all orgs.
#[derive(Default)]
pub struct AuthState {
    pub sessions: HashMap<String, Session>,
    pub codes: HashMap<String, AuthCode>,
    /// Revoked access-token ids and session ids → (org, when their last access token expires, wall ms).
    pub revoked: HashMap<String, (String, i64)>,
    next_prune_ms: i64,
}

const PRUNE_EVERY_MS: i64 = 60_000;

fn new_session(
    org_id: &str,
    user_id: String,
    client_id: Option<String>,
    grant: String,
    scope_cap: Option<u16>,
    lifetimes: Lifetimes,
    now: i64,
) -> Session {
    let max_expires_ms = now + lifetimes.max_ttl_ms;
    Session {
        id: uuid::Uuid::new_v4().simple().to_string(),
        org_id: org_id.to_string(),
        user_id,
        client_id,
        grant,
        generation: 1,
        expires_ms: (now + lifetimes.refresh_ttl_ms).min(max_expires_ms),
        max_expires_ms,
        revoked: false,
        scope_cap,
    }
}

fn invalid_grant(description: impl Into<String>) -> EngineError {
    EngineError::Auth { error: "invalid_grant", description: description.into() }
}

impl AuthState {
    pub fn load(&mut self, kind: &str, doc: &str) -> Result<bool, EngineError> {
        match kind {
            "session" => {
                let s: Session = serde_json::from_str(doc)?;
                self.sessions.insert(s.id.clone(), s);
            }
            "auth_code" => {
                let c: AuthCode = serde_json::from_str(doc)?;
                self.codes.insert(c.hash.clone(), c);
            }
            "revoked" => {
                let (id, org_id, until): (String, String, i64) = serde_json::from_str(doc)?;
                self.revoked.insert(id, (org_id, until));
            }
            _ => return Ok(false),
        }
        Ok(true)
    }
}

impl State {
    pub fn authorize(&mut self, req: AuthRequest) -> Result<AuthOutcome, EngineError> {
        self.org(&req.org_id)?;
        self.prune_auth(req.now_ms);
        let now = req.now_ms;
        let out = match req.command.clone() {
            AuthCommand::StartSession { user_id, client_id, grant, scope_cap, lifetimes } => {
                let session = new_session(&req.org_id, user_id, client_id, grant, scope_cap, lifetimes, now);
                self.save_session(&session, &req.actor, "oauth.login", req.request_id.as_deref());
                AuthOutcome::Session(session)
            }
            AuthCommand::Refresh { session_id, generation, client_id, refresh_ttl_ms } => {
                let mut s = self
                    .auth
                    .sessions
                    .get(&session_id)
                    .filter(|s| s.org_id == req.org_id)
                    .cloned()
                    .ok_or_else(|| invalid_grant("the refresh token is unknown or has expired"))?;
                if s.revoked {
                    return Err(invalid_grant("the refresh token was revoked"));
                }
                if s.expires_ms <= now {
                    return Err(invalid_grant("the refresh token has expired"));
                }
                // A family granted to a client is refreshed only by that client.
                if s.client_id.is_some() && client_id != s.client_id {
                    return Err(invalid_grant("the refresh token was issued to another client; send its client_id"));
                }
                if generation != s.generation {
                    // Someone holds an older token of this family: it was stolen or leaked. End the family.
                    self.revoke_session(&mut s, &req, "oauth.refreshReuse");
                    return Err(invalid_grant(
                        "this refresh token was already used; the session is revoked (reuse detected)",
                    ));
                }
                s.generation += 1;
                s.expires_ms = (now + refresh_ttl_ms).min(s.max_expires_ms);
                self.save_session(&s, &req.actor, "oauth.refresh", req.request_id.as_deref());
                AuthOutcome::Session(s)
            }
            AuthCommand::RevokeSession { session_id } => {
                if let Some(mut s) = self.auth.sessions.get(&session_id).filter(|s| s.org_id == req.org_id).cloned() {
                    self.revoke_session(&mut s, &req, "oauth.revoke");
                }
                AuthOutcome::Done
            }
            AuthCommand::RevokeUserSessions { user_id } => {
                let mut theirs: Vec<Session> = (self.auth.sessions.values())
                    .filter(|s| s.org_id == req.org_id && s.user_id == user_id && !s.revoked && s.expires_ms > now)
                    .cloned()
                    .collect();
                for s in &mut theirs {
                    self.revoke_session(s, &req, "oauth.revokeUserSessions");
                }
                AuthOutcome::Revoked(theirs.len())
            }
            AuthCommand::RevokeToken { token_id, expires_ms } => {
                if expires_ms > now && !self.auth.revoked.contains_key(&token_id) {
                    self.add_revoked(&req.org_id, &token_id, expires_ms);
                    self.audit_auth(&req, "oauth.revoke", "token", &token_id);
                }
                AuthOutcome::Done
            }
            AuthCommand::SaveCode(code) => {
                self.stage_entity(&req.org_id, "auth_code", &code.hash, 1, &code);
                self.audit_auth(&req, "oauth.authorize", "client", &code.client_id.clone());
                self.auth.codes.insert(code.hash.clone(), code);
                AuthOutcome::Done
            }
            AuthCommand::RedeemCode { hash, client_id, redirect_uri, challenge_of_verifier, scope_cap, lifetimes } => {
                let mut code = self
                    .auth
                    .codes
                    .get(&hash)
                    .filter(|c| c.org_id == req.org_id)
                    .cloned()
                    .ok_or_else(|| invalid_grant("the authorization code is unknown"))?;
                if let Some(sid) = &code.session_id {
                    // RFC 6749 §4.1.2: a code used twice revokes what it was exchanged for.
                    if let Some(mut s) = self.auth.sessions.get(sid).cloned() {
                        self.revoke_session(&mut s, &req, "oauth.codeReplay");
                    }
                    return Err(invalid_grant("the authorization code was already used; its tokens are revoked"));
                }
                if code.expires_ms <= now {
                    return Err(invalid_grant("the authorization code has expired"));
                }
                // One attempt per code, right or wrong: a wrong verifier cannot be retried.
                let (user, client, grant) = (code.user_id.clone(), Some(code.client_id.clone()), "authorization_code");
                let session = new_session(&req.org_id, user, client, grant.into(), scope_cap, lifetimes, now);
                code.session_id = Some(session.id.clone());
                self.stage_entity(&req.org_id, "auth_code", &code.hash, 2, &code);
                self.auth.codes.insert(code.hash.clone(), code.clone());
                let refusal = if code.client_id != client_id {
                    Some("the authorization code was issued to another client")
                } else if code.redirect_uri != redirect_uri {
                    Some("redirect_uri does not match the one of the authorization request")
                } else if code.challenge != challenge_of_verifier {
                    Some("code_verifier does not match the code_challenge (PKCE S256)")
                } else {
                    None
                };
                if let Some(why) = refusal {
                    self.audit_auth(&req, "oauth.codeRejected", "client", &client_id);
                    return Err(invalid_grant(why));
                }
                self.save_session(&session, &req.actor, "oauth.login", req.request_id.as_deref());
                AuthOutcome::Session(session)
            }
        };
        Ok(out)
    }

    /// Ends every family of a user, outside any OAuth request (a password change on the writer).
    pub(crate) fn revoke_user_sessions(&mut self, org_id: &str, user_id: &str, actor: &switchboard_core::Actor) {
        let req = AuthRequest {
            org_id: org_id.to_string(),
            actor: actor.clone(),
            command: AuthCommand::RevokeUserSessions { user_id: user_id.to_string() },
            now_ms: crate::wall_clock_ms(),
            access_ttl_ms: 0,
            request_id: None,
        };
        if let Err(e) = self.authorize(req) {
            tracing::error!(error = %e, "revoking a user's sessions failed");
        }
    }

    fn save_session(&mut self, s: &Session, actor: &switchboard_core::Actor, action: &str, request_id: Option<&str>) {
        self.stage_entity(&s.org_id, "session", &s.id, s.generation, s);
        self.stage_audit(&s.org_id, actor, action, "session", &s.id, None, request_id);
        self.auth.sessions.insert(s.id.clone(), s.clone());
    }

    fn revoke_session(&mut self, s: &mut Session, req: &AuthRequest, action: &str) {
        if s.revoked {
            return;
        }
        s.revoked = true;
        self.save_session(s, &req.actor, action, req.request_id.as_deref());
        // Until the family's last access token has expired: the access lifetime from now, or, when the
        // caller does not know it (a password change), the family's own end.
        let until = if req.access_ttl_ms > 0 { req.now_ms + req.access_ttl_ms } else { s.expires_ms };
        self.add_revoked(&s.org_id, &s.id, until);
    }

    fn add_revoked(&mut self, org_id: &str, id: &str, until_ms: i64) {
        self.stage_entity(org_id, "revoked", id, 1, &(id, org_id, until_ms));
        self.auth.revoked.insert(id.to_string(), (org_id.to_string(), until_ms));
        self.revoked_now.push((id.to_string(), until_ms));
    }

    fn audit_auth(&mut self, req: &AuthRequest, action: &str, target_kind: &str, target_id: &str) {
        self.stage_audit(&req.org_id, &req.actor, action, target_kind, target_id, None, req.request_id.as_deref());
    }

    /// Drops what can no longer matter: expired sessions and codes, revocations of expired tokens.
    fn prune_auth(&mut self, now_ms: i64) {
        if now_ms < self.auth.next_prune_ms {
            return;
        }
        self.auth.next_prune_ms = now_ms + PRUNE_EVERY_MS;
        let mut gone: Vec<(String, String, String)> = Vec::new();
        self.auth.sessions.retain(|id, s| {
            let keep = s.expires_ms > now_ms;
            if !keep {
                gone.push((s.org_id.clone(), "session".into(), id.clone()));
            }
            keep
        });
        self.auth.codes.retain(|h, c| {
            let keep = c.expires_ms > now_ms;
            if !keep {
                gone.push((c.org_id.clone(), "auth_code".into(), h.clone()));
            }
            keep
        });
        self.auth.revoked.retain(|id, (org_id, until)| {
            let keep = *until > now_ms;
            if !keep {
                gone.push((org_id.clone(), "revoked".into(), id.clone()));
            }
            keep
        });
        self.batch.entities_delete.extend(gone);
    }
}
