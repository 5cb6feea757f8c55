//! Authentication: signed access and refresh tokens (HMAC-SHA256), Argon2id secrets, the `Caller`
//! extractor (signature, expiry, revocation, current roles), and the one place that checks scopes.

use crate::AppState;
use crate::problem::ApiError;
use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use switchboard_core::config::Role;
use switchboard_core::{Actor, ActorKind, Scope, Scopes};

type HmacSha256 = Hmac<Sha256>;
const TOKEN_PREFIX: &str = "sb1";
/// Refresh tokens are signed under another prefix: one can never pass for the other.
const REFRESH_PREFIX: &str = "sbr1";

#[derive(Serialize, Deserialize)]
struct Claims {
    /// org id
    o: String,
    /// "u" user | "c" client
    k: String,
    /// subject id
    s: String,
    /// scope bits
    sc: u16,
    roles: Vec<Role>,
    /// expiry, unix seconds (wall clock: tokens expire in real time, whatever the engine clock says)
    x: i64,
    /// guests: the one conversation the token reaches
    #[serde(default, skip_serializing_if = "Option::is_none")]
    c: Option<String>,
    /// guests: the messaging deployment the session came through
    #[serde(default, skip_serializing_if = "Option::is_none")]
    d: Option<String>,
    /// token id (revocation of this one token)
    #[serde(default)]
    j: String,
    /// the refresh-token family the token came from (revoking the family revokes it)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sid: Option<String>,
    /// clients: the client's version at issuance (a rotated secret ends older tokens); 0 = not checked
    #[serde(default, skip_serializing_if = "is_zero")]
    v: u64,
}

fn is_zero(v: &u64) -> bool {
    *v == 0
}

/// What a refresh token says: a family (session), its generation, and whose it is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefreshClaims {
    #[serde(rename = "o")]
    pub org_id: String,
    #[serde(rename = "u")]
    pub user_id: String,
    #[serde(rename = "sid")]
    pub session_id: String,
    #[serde(rename = "g")]
    pub generation: u64,
}

/// A verified access token: who, in which org, and the ids revocation works on.
#[derive(Clone, Debug)]
pub struct AccessToken {
    pub org_id: String,
    pub actor: Actor,
    pub token_id: String,
    pub session_id: Option<String>,
    pub expires_at_unix: i64,
    /// The client's version when the token was issued (0 for users and older tokens).
    pub client_version: u64,
}

/// What a guest token says: one conversation, reached through one deployment (if any).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GuestClaims {
    pub org_id: String,
    pub guest_id: String,
    pub conversation_id: String,
    pub deployment_id: Option<String>,
}

/// Signs and verifies access tokens with a key kept in the store's meta table.
#[derive(Clone)]
pub struct TokenSigner {
    /// Keyed once: each request clones this state (no allocation) instead of keying HMAC again.
    keyed: HmacSha256,
}

const MALFORMED: &str = "the token is malformed";
const BAD_SIGNATURE: &str = "the token signature is invalid (not issued by this server)";

impl TokenSigner {
    pub fn new(key: Vec<u8>) -> Self {
        TokenSigner { keyed: <HmacSha256 as Mac>::new_from_slice(&key).expect("HMAC takes any key length") }
    }

    fn mac(&self, payload: &str) -> String {
        let mut mac = self.keyed.clone();
        mac.update(payload.as_bytes());
        hex(&mac.finalize().into_bytes())
    }

    /// An access token; `session_id` ties it to a refresh-token family, `client_version` to a client's secret.
    pub fn issue(
        &self,
        org_id: &str,
        actor: &Actor,
        expires_at_unix: i64,
        session_id: Option<&str>,
        client_version: u64,
    ) -> String {
        let claims = Claims {
            o: org_id.to_string(),
            k: if actor.kind == ActorKind::User { "u" } else { "c" }.into(),
            s: actor.id.clone(),
            sc: actor.scopes.0,
            roles: actor.roles.clone(),
            x: expires_at_unix,
            c: None,
            d: None,
            j: uuid::Uuid::new_v4().simple().to_string(),
            sid: session_id.map(str::to_string),
            v: client_version,
        };
        self.sign(TOKEN_PREFIX, &claims)
    }

    pub fn issue_refresh(&self, claims: &RefreshClaims) -> String {
        self.sign(REFRESH_PREFIX, claims)
    }

    pub fn verify_refresh(&self, token: &str) -> Result<RefreshClaims, &'static str> {
        self.open(REFRESH_PREFIX, token).map_err(|_| "the refresh token is malformed or not signed by this server")
    }

    /// A guest token: reaches one conversation through the guest channel only.
    pub fn issue_guest(&self, g: &GuestClaims, expires_at_unix: i64) -> String {
        let claims = Claims {
            o: g.org_id.clone(),
            k: "g".into(),
            s: g.guest_id.clone(),
            sc: 0,
            roles: vec![],
            x: expires_at_unix,
            c: Some(g.conversation_id.clone()),
            d: g.deployment_id.clone(),
            j: String::new(),
            sid: None,
            v: 0,
        };
        self.sign(TOKEN_PREFIX, &claims)
    }

    /// Checks a guest token.
    pub fn verify_guest(&self, token: &str, now_unix: i64) -> Result<GuestClaims, &'static str> {
        let c = self.claims(token, now_unix)?;
        match (c.k.as_str(), c.c) {
            ("g", Some(conversation_id)) => {
                Ok(GuestClaims { org_id: c.o, guest_id: c.s, conversation_id, deployment_id: c.d })
            }
            _ => Err("this is not a guest token"),
        }
    }

    fn sign<T: Serialize>(&self, prefix: &str, claims: &T) -> String {
        let payload = format!("{prefix}.{}", hex(&serde_json::to_vec(claims).expect("claims serialize")));
        let sig = self.mac(&payload);
        format!("{payload}.{sig}")
    }

    /// The claims of a token signed under `prefix` by this key (one HMAC), or why not.
    fn open<T: serde::de::DeserializeOwned>(&self, prefix: &str, token: &str) -> Result<T, &'static str> {
        let (payload, sig) = token.rsplit_once('.').ok_or(MALFORMED)?;
        let body = payload.strip_prefix(prefix).and_then(|b| b.strip_prefix('.')).ok_or(MALFORMED)?;
        if !constant_time_eq(self.mac(payload).as_bytes(), sig.as_bytes()) {
            return Err(BAD_SIGNATURE);
        }
        serde_json::from_slice(&unhex(body).ok_or(MALFORMED)?).map_err(|_| MALFORMED)
    }

    /// Checks signature and expiry of an access token. Guest tokens are refused here: they only work on
    /// the guest channel.
    pub fn verify(&self, token: &str, now_unix: i64) -> Result<AccessToken, &'static str> {
        let c = self.claims(token, now_unix)?;
        let kind = match c.k.as_str() {
            "u" => ActorKind::User,
            "c" => ActorKind::Client,
            _ => return Err("guest tokens only work on the guest channel (/v1/guest/ws)"),
        };
        Ok(AccessToken {
            org_id: c.o,
            actor: Actor { kind, id: c.s, roles: c.roles, scopes: Scopes(c.sc) },
            token_id: c.j,
            session_id: c.sid,
            expires_at_unix: c.x,
            client_version: c.v,
        })
    }

    fn claims(&self, token: &str, now_unix: i64) -> Result<Claims, &'static str> {
        let c: Claims = self.open(TOKEN_PREFIX, token)?;
        if c.x <= now_unix {
            return Err("the token has expired");
        }
        Ok(c)
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 15)] as char);
    }
    out
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok()).collect()
}

/// Argon2id PHC string. Slow by design: call it off the async threads (`spawn_blocking`).
pub fn hash_secret(secret: &str) -> String {
    use argon2::password_hash::{PasswordHasher, SaltString};
    // 128 random bits from the OS (UUIDv4 draws them from getrandom).
    let salt = SaltString::encode_b64(uuid::Uuid::new_v4().as_bytes()).expect("16 bytes is a valid salt");
    argon2::Argon2::default().hash_password(secret.as_bytes(), &salt).expect("argon2 hashing succeeds").to_string()
}

pub fn verify_secret(secret: &str, phc: &str) -> bool {
    use argon2::password_hash::{PasswordHash, PasswordVerifier};
    PasswordHash::new(phc).is_ok_and(|h| argon2::Argon2::default().verify_password(secret.as_bytes(), &h).is_ok())
}

/// Argon2 runs on at most half the cores at once: a flood of logins queues here instead of taking every
/// core from the requests of other tenants, which never hash.
static ARGON2_PERMITS: std::sync::LazyLock<tokio::sync::Semaphore> = std::sync::LazyLock::new(|| {
    tokio::sync::Semaphore::new(std::thread::available_parallelism().map_or(1, |n| (n.get() / 2).max(1)))
});

pub async fn hash_secret_async(secret: String) -> Result<String, ApiError> {
    let _permit = ARGON2_PERMITS.acquire().await.map_err(ApiError::internal)?;
    tokio::task::spawn_blocking(move || hash_secret(&secret)).await.map_err(ApiError::internal)
}

pub async fn verify_secret_async(secret: String, phc: String) -> bool {
    let Ok(_permit) = ARGON2_PERMITS.acquire().await else { return false };
    tokio::task::spawn_blocking(move || verify_secret(&secret, &phc)).await.unwrap_or(false)
}

/// A random secret: 256 bits from the OS, hex.
pub fn new_secret() -> String {
    format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple())
}

/// The authenticated caller of a request.
#[derive(Clone, Debug)]
pub struct Caller {
    pub org_id: String,
    pub actor: Actor,
    /// The bootstrap admin client (may move the manual clock and create orgs).
    pub bootstrap: bool,
    /// The request's `X-Request-Id`, for the audit trail.
    pub request_id: Option<String>,
}

impl Caller {
    /// The one scope check: 403 naming what is missing.
    pub fn require(&self, needed: &[Scope]) -> Result<(), ApiError> {
        let missing = self.actor.scopes.missing(needed);
        if missing.is_empty() {
            return Ok(());
        }
        Err(forbidden(&missing))
    }

    /// The one role check (for what only a role may do, e.g. make admins): 403 naming the role.
    pub fn require_role(&self, role: Role, scope: Scope) -> Result<(), ApiError> {
        if self.actor.roles.contains(&role) || self.actor.has_scope(scope) {
            return Ok(());
        }
        Err(forbidden(&[scope]).with("missingRole", role))
    }

    /// Passes when the caller holds any one of `options`.
    pub fn require_any(&self, options: &[Scope]) -> Result<(), ApiError> {
        if options.iter().any(|s| self.actor.has_scope(*s)) {
            return Ok(());
        }
        Err(forbidden(options).with("detail", format!("needs one of: {}", names(options).join(", "))))
    }

    pub fn is_user(&self, id: &str) -> bool {
        self.actor.kind == ActorKind::User && self.actor.id == id
    }

    /// Agents see only conversations they take or took part in; supervisors, admins and clients see all.
    pub fn sees_all_conversations(&self) -> bool {
        self.actor.kind != ActorKind::User || self.actor.is_supervisor_or_admin()
    }

    /// Who made a write that is not a conversation or configuration command.
    pub fn attribution(&self) -> switchboard_engine::Attribution {
        switchboard_engine::Attribution {
            org_id: self.org_id.clone(),
            actor: self.actor.clone(),
            request_id: self.request_id.clone(),
        }
    }
}

/// The request id the `request_id` middleware assigned.
#[derive(Clone, Debug)]
pub struct RequestId(pub String);

/// A bearer token the rate-limit middleware already verified (so it is checked once per request).
#[derive(Clone, Debug)]
pub struct Verified(pub AccessToken);

/// Checks the request's bearer token: present, well-formed, signed by this server, not expired, not
/// revoked. Every failure is a 401 `invalid_token` saying which.
pub fn authenticate(app: &AppState, headers: &axum::http::HeaderMap) -> Result<AccessToken, ApiError> {
    let header = headers
        .get(axum::http::header::AUTHORIZATION)
        .ok_or_else(|| ApiError::unauthorized("an Authorization: Bearer token is required"))?;
    let value = header.to_str().map_err(|_| ApiError::invalid_token("the Authorization header is not text"))?;
    let token = parse_bearer(value).ok_or_else(|| ApiError::invalid_token("use Authorization: Bearer <token>"))?;
    let now = switchboard_engine::wall_clock_ms() / 1000;
    let t = app.signer.verify(token, now).map_err(ApiError::invalid_token)?;
    let ids = [t.token_id.as_str(), t.session_id.as_deref().unwrap_or_default()];
    if app.engine.any_revoked(&ids) {
        return Err(ApiError::invalid_token("the token was revoked"));
    }
    Ok(t)
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Self, Self::Rejection> {
        Caller::resolve(parts, app)
    }
}

impl Caller {
    /// The caller of a request: its verified token (from the rate limiter, or checked here) with the
    /// roles and scopes as they are now. Other adapters (the Genesys facade) resolve callers through this.
    pub fn resolve(parts: &mut Parts, app: &AppState) -> Result<Caller, ApiError> {
        let t = match parts.extensions.remove::<Verified>() {
            Some(v) => v.0,
            None => authenticate(app, &parts.headers)?,
        };
        let org = app
            .engine
            .org(&t.org_id)
            .ok_or_else(|| ApiError::invalid_token("the token's organization does not exist"))?;
        // Roles and scopes as they are now, not as they were at login: a demoted user or a narrowed
        // client loses the rights at once.
        let actor = match t.actor.kind {
            ActorKind::User => {
                let u = org
                    .users
                    .get(&t.actor.id)
                    .ok_or_else(|| ApiError::invalid_token("the token's user no longer exists"))?;
                // Within what the token was granted (a client's cap), as the roles are now.
                let mut actor = Actor::user(u.id.clone(), u.roles.clone());
                actor.scopes = actor.scopes.intersect(t.actor.scopes);
                actor
            }
            _ => {
                let c = org
                    .clients
                    .get(&t.actor.id)
                    .ok_or_else(|| ApiError::invalid_token("the token's client no longer exists"))?;
                if t.client_version != 0 && t.client_version != c.version {
                    return Err(ApiError::invalid_token("the token was revoked: its client's secret was rotated"));
                }
                Actor::client(c.id.clone(), t.actor.scopes.intersect(c.granted()))
            }
        };
        let bootstrap = actor.kind == ActorKind::Client && app.config.bootstrap_client_id.as_deref() == Some(&actor.id);
        let request_id = parts.extensions.get::<RequestId>().map(|r| r.0.clone());
        Ok(Caller { org_id: t.org_id, actor, bootstrap, request_id })
    }
}

fn names(scopes: &[Scope]) -> Vec<&'static str> {
    scopes.iter().map(|s| s.as_str()).collect()
}

fn forbidden(missing: &[Scope]) -> ApiError {
    ApiError::new(StatusCode::FORBIDDEN, "missing_scopes", format!("missing scopes: {}", names(missing).join(", ")))
        .with("missingScopes", names(missing))
}

/// `Bearer <token>`, scheme case-insensitive, one token of visible ASCII.
pub fn parse_bearer(value: &str) -> Option<&str> {
    let (scheme, rest) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let token = rest.trim();
    (!token.is_empty() && token.len() <= 4096 && token.bytes().all(|b| b.is_ascii_graphic())).then_some(token)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn tokens_verify_and_expire() {
        let s = TokenSigner::new(b"k".to_vec());
        let actor = Actor::user("u1", vec![Role::Agent]);
        let t = s.issue("org", &actor, 100, Some("family"), 0);
        let back = s.verify(&t, 99).unwrap();
        assert_eq!(back.org_id, "org");
        assert_eq!(back.actor, actor);
        assert_eq!(back.session_id.as_deref(), Some("family"));
        assert_eq!(back.token_id.len(), 32, "every access token has its own id");
        assert_ne!(s.verify(&s.issue("org", &actor, 100, None, 0), 1).unwrap().token_id, back.token_id);
        assert_eq!(s.verify(&s.issue("org", &actor, 100, None, 7), 1).unwrap().client_version, 7);
        let refresh =
            RefreshClaims { org_id: "org".into(), user_id: "u1".into(), session_id: "f".into(), generation: 3 };
        let r = s.issue_refresh(&refresh);
        assert_eq!(s.verify_refresh(&r).unwrap(), refresh);
        assert!(s.verify(&r, 1).is_err(), "a refresh token is no access token");
        assert!(s.verify_refresh(&t).is_err(), "an access token is no refresh token");
        assert!(TokenSigner::new(b"other".to_vec()).verify_refresh(&r).is_err());
        assert_eq!(s.verify(&t, 100).unwrap_err(), "the token has expired");
        let claims = GuestClaims {
            org_id: "org".into(),
            guest_id: "g1".into(),
            conversation_id: "conv-1".into(),
            deployment_id: Some("d".into()),
        };
        let guest = s.issue_guest(&claims, 100);
        assert_eq!(s.verify_guest(&guest, 1).unwrap(), claims);
        assert!(s.verify(&guest, 1).is_err(), "a guest token is no API token");
        assert!(s.verify_guest(&t, 1).is_err(), "an API token is no guest token");
        let other = TokenSigner::new(b"other".to_vec());
        assert_eq!(other.verify(&t, 1).unwrap_err(), "the token signature is invalid (not issued by this server)");
        let mut tampered = t.clone();
        tampered.replace_range(5..6, if &t[5..6] == "a" { "b" } else { "a" });
        assert!(s.verify(&tampered, 1).is_err());
    }

    #[test]
    fn secrets_hash_and_verify() {
        let h = hash_secret("s3cret");
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_secret("s3cret", &h));
        assert!(!verify_secret("wrong", &h));
        assert!(!verify_secret("s3cret", "not a hash"));
    }

    proptest! {
        #[test]
        fn bearer_parsing_never_panics(s in ".{0,200}") {
            let _ = parse_bearer(&s);
        }

        #[test]
        fn verifying_garbage_never_panics(s in ".{0,300}") {
            let signer = TokenSigner::new(b"k".to_vec());
            prop_assert!(signer.verify(&s, 0).is_err());
        }
    }

    #[test]
    fn bearer_parsing() {
        assert_eq!(parse_bearer("Bearer abc"), Some("abc"));
        assert_eq!(parse_bearer("bearer  abc "), Some("abc"));
        assert_eq!(parse_bearer("Basic abc"), None);
        assert_eq!(parse_bearer("Bearer "), None);
        assert_eq!(parse_bearer("Bearer a b"), None);
    }
}
