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
    /// Wall-clock ms; each refresh moves it forward by the refresh lifetime.
    pub expires_ms: i64,
    pub revoked: bool,
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
        refresh_ttl_ms: i64,
    },
    /// Rotates a family: `generation` must be the current one.
    Refresh {
        session_id: String,
        generation: u64,
        client_id: Option<String>,
        refresh_ttl_ms: i64,
    },
    RevokeSession {
        session_id: String,
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
        refresh_ttl_ms: i64,
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
            AuthCommand::StartSession { user_id, client_id, grant, refresh_ttl_ms } => {
                let session = Session {
                    id: uuid::Uuid::new_v4().simple().to_string(),
                    org_id: req.org_id.clone(),
                    user_id,
                    client_id,
                    grant,
                    generation: 1,
                    expires_ms: now + refresh_ttl_ms,
                    revoked: false,
                };
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
                if client_id.is_some() && client_id != s.client_id {
                    return Err(invalid_grant("the refresh token was issued to another client"));
                }
                if generation != s.generation {
                    // Someone holds an older token of this family: it was stolen or leaked. End the family.
                    self.revoke_session(&mut s, &req, "oauth.refreshReuse");
                    return Err(invalid_grant(
                        "this refresh token was already used; the session is revoked (reuse detected)",
                    ));
                }
                s.generation += 1;
                s.expires_ms = now + refresh_ttl_ms;
                self.save_session(&s, &req.actor, "oauth.refresh", req.request_id.as_deref());
                AuthOutcome::Session(s)
            }
            AuthCommand::RevokeSession { session_id } => {
                if let Some(mut s) = self.auth.sessions.get(&session_id).filter(|s| s.org_id == req.org_id).cloned() {
                    self.revoke_session(&mut s, &req, "oauth.revoke");
                }
                AuthOutcome::Done
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
            AuthCommand::RedeemCode { hash, client_id, redirect_uri, challenge_of_verifier, refresh_ttl_ms } => {
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
                let session = Session {
                    id: uuid::Uuid::new_v4().simple().to_string(),
                    org_id: req.org_id.clone(),
                    user_id: code.user_id.clone(),
                    client_id: Some(code.client_id.clone()),
                    grant: "authorization_code".into(),
                    generation: 1,
                    expires_ms: now + refresh_ttl_ms,
                    revoked: false,
                };
                code.session_id = Some(session.id.clone());
                self.stage_entity(&req.org_id, "auth_code", &code.hash, 2, &code);
                self.auth.codes.insert(code.hash.clone(), code.clone());
                if code.client_id != client_id {
                    return Err(invalid_grant("the authorization code was issued to another client"));
                }
                if code.redirect_uri != redirect_uri {
                    return Err(invalid_grant("redirect_uri does not match the one of the authorization request"));
                }
                if code.challenge != challenge_of_verifier {
                    return Err(invalid_grant("code_verifier does not match the code_challenge (PKCE S256)"));
                }
                self.save_session(&session, &req.actor, "oauth.login", req.request_id.as_deref());
                AuthOutcome::Session(session)
            }
        };
        Ok(out)
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
        self.add_revoked(&s.org_id, &s.id, req.now_ms + req.access_ttl_ms);
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
