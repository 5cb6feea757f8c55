//! `POST /oauth/token` (RFC 6749: client_credentials, password, refresh_token with rotation and reuse
//! detection, authorization_code with PKCE S256) and `POST /oauth/revoke` (RFC 7009).

use crate::AppState;
use crate::auth::{RefreshClaims, RequestId, hex, new_secret, verify_secret_async};
use crate::problem::ApiError;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use sha2::{Digest, Sha256};
use switchboard_core::config::{Client, User};
use switchboard_core::{Actor, Scope, Scopes};
use switchboard_engine::sessions::{AuthCommand, AuthOutcome, AuthRequest, Lifetimes, Session};
use switchboard_engine::wall_clock_ms;
use switchboard_wire::{TokenForm, TokenResponse};

pub fn routes() -> Router<AppState> {
    Router::new().route("/oauth/token", post(token)).route("/oauth/revoke", post(revoke))
}

pub(crate) fn oauth_error(status: StatusCode, error: &'static str, description: &str) -> ApiError {
    ApiError::new(status, error, description).with("error", error).with("error_description", description)
}

fn invalid_client() -> ApiError {
    oauth_error(StatusCode::UNAUTHORIZED, "invalid_client", "unknown client or wrong secret")
}

fn invalid_request(description: &str) -> ApiError {
    oauth_error(StatusCode::BAD_REQUEST, "invalid_request", description)
}

/// Client credentials from HTTP Basic or from the form.
fn client_credentials(headers: &HeaderMap, form: &TokenForm) -> Result<Option<(String, String)>, ApiError> {
    if let Some(v) = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok())
        && let Some((scheme, b64)) = v.split_once(' ')
        && scheme.eq_ignore_ascii_case("basic")
    {
        let raw = decode_base64(b64.trim()).ok_or_else(invalid_client)?;
        let text = String::from_utf8(raw).map_err(|_| invalid_client())?;
        let (id, secret) = text.split_once(':').ok_or_else(invalid_client)?;
        return Ok(Some((percent_decode(id).unwrap_or_default(), percent_decode(secret).unwrap_or_default())));
    }
    Ok(form.client_id.clone().zip(form.client_secret.clone()))
}

fn decode_base64(s: &str) -> Option<Vec<u8>> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::new();
    let (mut buf, mut bits) = (0u32, 0);
    for c in s.bytes().filter(|c| *c != b'=') {
        let v = ALPHABET.iter().position(|a| *a == c)? as u32;
        buf = (buf << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buf >> bits) as u8);
            buf &= (1 << bits) - 1;
        }
    }
    Some(out)
}

/// A PHC string no secret matches: verifying against it when the client or user is unknown costs the
/// same argon2 time as a real check, so timing does not tell whether an account exists.
static DECOY_HASH: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| crate::auth::hash_secret(&new_secret()));

/// Checks a secret against a stored hash, or against the decoy when there is none.
async fn verify_or_decoy(secret: String, hash: Option<String>) -> bool {
    let known = hash.is_some();
    let ok = verify_secret_async(secret, hash.unwrap_or_else(|| DECOY_HASH.clone())).await;
    known && ok
}

/// Client secrets verified recently, by SHA-256 of (id, secret, stored hash): an integration that logs in
/// again skips argon2, so a flood of wrong guesses (which never land here) cannot queue it behind them.
/// Client secrets are 256 random bits, so a fast hash of one is as hard to reverse as the secret itself.
struct VerifiedSecrets {
    seen: std::sync::Mutex<std::collections::HashMap<String, std::time::Instant>>,
}

const VERIFIED_TTL: std::time::Duration = std::time::Duration::from_secs(600);
const VERIFIED_MAX: usize = 10_000;

static VERIFIED: std::sync::LazyLock<VerifiedSecrets> =
    std::sync::LazyLock::new(|| VerifiedSecrets { seen: Default::default() });

impl VerifiedSecrets {
    fn key(id: &str, secret: &str, phc: &str) -> String {
        hex(&Sha256::digest(format!("{id}\0{secret}\0{phc}").as_bytes()))
    }

    fn contains(&self, key: &str) -> bool {
        let seen = self.seen.lock().expect("verified secrets lock");
        seen.get(key).is_some_and(|at| at.elapsed() < VERIFIED_TTL)
    }

    fn insert(&self, key: String) {
        let mut seen = self.seen.lock().expect("verified secrets lock");
        if seen.len() >= VERIFIED_MAX {
            seen.retain(|_, at| at.elapsed() < VERIFIED_TTL);
            if seen.len() >= VERIFIED_MAX {
                seen.clear();
            }
        }
        seen.insert(key, std::time::Instant::now());
    }
}

/// The confidential client of the request, authenticated, or `invalid_client`.
async fn authenticated_client(app: &AppState, creds: Option<(String, String)>) -> Result<(String, Client), ApiError> {
    let (id, secret) = creds.ok_or_else(invalid_client)?;
    let Some((org_id, client)) = app.engine.find_client(&id) else {
        verify_or_decoy(secret, None).await;
        return Err(invalid_client());
    };
    let key = VerifiedSecrets::key(&id, &secret, &client.secret_hash);
    if VERIFIED.contains(&key) || verify_secret_async(secret, client.secret_hash.clone()).await {
        VERIFIED.insert(key);
        return Ok((org_id, client));
    }
    Err(invalid_client())
}

fn requested_scopes(form: &TokenForm, granted: &[Scope]) -> Result<Scopes, ApiError> {
    let Some(req) = form.scope.as_deref().filter(|s| !s.trim().is_empty()) else {
        return Ok(Scopes::of(granted));
    };
    let mut asked = Vec::new();
    for s in req.split_whitespace() {
        match Scope::parse(s).filter(|x| Scopes::of(granted).contains(*x)) {
            Some(x) => asked.push(x),
            None => {
                let msg = format!("scope {s:?} is not granted to this client");
                return Err(oauth_error(StatusCode::BAD_REQUEST, "invalid_scope", &msg));
            }
        }
    }
    Ok(Scopes::of(&asked))
}

/// Base64url without padding (RFC 7636 challenges).
pub(crate) fn base64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(bytes.len() * 4 / 3 + 2);
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |acc, (i, b)| acc | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

pub(crate) fn s256(verifier: &str) -> String {
    base64url(&Sha256::digest(verifier.as_bytes()))
}

/// RFC 7636 §4.1: 43 to 128 characters of `[A-Za-z0-9-._~]`.
pub(crate) fn valid_pkce_string(s: &str) -> bool {
    (43..=128).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
}

pub(crate) fn auth_request(
    app: &AppState,
    org_id: &str,
    actor: Actor,
    command: AuthCommand,
    request_id: Option<String>,
) -> AuthRequest {
    AuthRequest {
        org_id: org_id.to_string(),
        actor,
        command,
        now_ms: wall_clock_ms(),
        access_ttl_ms: app.config.token_ttl_secs * 1000,
        request_id,
    }
}

pub(crate) async fn run_auth(app: &AppState, req: AuthRequest) -> Result<AuthOutcome, ApiError> {
    let (actor, now) = (req.actor.clone(), app.engine.now());
    app.engine.authorize(req).await.map_err(|e| ApiError::from_engine(e, &actor, now))
}

fn session_of(out: AuthOutcome) -> Result<Session, ApiError> {
    match out {
        AuthOutcome::Session(s) => Ok(s),
        _ => Err(ApiError::internal("the engine answered a session request without a session")),
    }
}

/// A user's token scopes: the roles' scopes, within the family's cap (the client's grant, a `scope` asked for).
fn user_actor(user: &User, cap: Option<u16>) -> Actor {
    let mut actor = Actor::user(user.id.clone(), user.roles.clone());
    if let Some(cap) = cap {
        actor.scopes = actor.scopes.intersect(Scopes(cap));
    }
    actor
}

fn lifetimes(app: &AppState) -> Lifetimes {
    Lifetimes { refresh_ttl_ms: app.config.refresh_ttl_secs * 1000, max_ttl_ms: app.config.session_max_secs * 1000 }
}

/// What a grant yields: whose token, in which org, and the family when there is a refresh token.
struct Grant {
    org_id: String,
    actor: Actor,
    session: Option<Session>,
    /// Client tokens: the client's version, so a rotated secret ends them.
    client_version: u64,
}

async fn token(
    State(app): State<AppState>,
    headers: HeaderMap,
    request_id: Option<axum::Extension<RequestId>>,
    body: bytes::Bytes,
) -> Result<Response, ApiError> {
    let form: TokenForm = serde_urlencoded_parse(&body)?;
    let request_id = request_id.map(|r| r.0.0);
    let creds = client_credentials(&headers, &form)?;
    let grant = match form.grant_type.as_deref().unwrap_or_default() {
        "client_credentials" => {
            let (org_id, c) = authenticated_client(&app, creds).await?;
            let scopes = requested_scopes(&form, &c.granted().list())?;
            Grant { org_id, actor: Actor::client(c.id.clone(), scopes), session: None, client_version: c.version }
        }
        "password" => {
            if !app.config.password_grant {
                let msg = "the password grant is disabled on this server";
                return Err(oauth_error(StatusCode::BAD_REQUEST, "unsupported_grant_type", msg));
            }
            let (Some(username), Some(password)) = (form.username.clone(), form.password.clone()) else {
                return Err(invalid_request("username and password are required"));
            };
            let client = match creds {
                Some(c) => Some(authenticated_client(&app, Some(c)).await?.1),
                None => None,
            };
            let (org_id, user) = check_password(&app, &username, password).await?;
            // Through a client, the user's rights end where the client's grant ends; `scope` narrows further.
            let allowed = user_actor(&user, client.as_ref().map(|c| c.granted().0)).scopes;
            let narrowed = requested_scopes(&form, &allowed.list())?;
            let asked = form.scope.as_deref().is_some_and(|s| !s.trim().is_empty());
            let scope_cap = (client.is_some() || asked).then_some(narrowed.0);
            let actor = user_actor(&user, scope_cap);
            let start = AuthCommand::StartSession {
                user_id: user.id.clone(),
                client_id: client.map(|c| c.id),
                grant: "password".into(),
                scope_cap,
                lifetimes: lifetimes(&app),
            };
            let session =
                session_of(run_auth(&app, auth_request(&app, &org_id, actor.clone(), start, request_id)).await?)?;
            Grant { org_id, actor, session: Some(session), client_version: 0 }
        }
        "refresh_token" => {
            let raw = form.refresh_token.as_deref().ok_or_else(|| invalid_request("refresh_token is required"))?;
            let claims =
                app.signer.verify_refresh(raw).map_err(|e| oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", e))?;
            let client_id = match creds {
                Some(c) => Some(authenticated_client(&app, Some(c)).await?.1.id),
                None => form.client_id.clone(),
            };
            let org = app.engine.org(&claims.org_id);
            let user = org.as_ref().and_then(|o| o.users.get(&claims.user_id).cloned());
            let Some(user) = user else {
                return Err(oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    "the refresh token's user no longer exists",
                ));
            };
            let rotate = AuthCommand::Refresh {
                session_id: claims.session_id,
                generation: claims.generation,
                client_id,
                refresh_ttl_ms: lifetimes(&app).refresh_ttl_ms,
            };
            let req = auth_request(&app, &claims.org_id, user_actor(&user, None), rotate, request_id);
            let session = session_of(run_auth(&app, req).await?)?;
            Grant {
                org_id: claims.org_id,
                actor: user_actor(&user, session.scope_cap),
                session: Some(session),
                client_version: 0,
            }
        }
        "authorization_code" => {
            let code = form.code.as_deref().ok_or_else(|| invalid_request("code is required"))?;
            let redirect_uri = form.redirect_uri.clone().ok_or_else(|| invalid_request("redirect_uri is required"))?;
            let verifier =
                form.code_verifier.as_deref().ok_or_else(|| invalid_request("code_verifier is required (PKCE)"))?;
            if !valid_pkce_string(verifier) {
                return Err(invalid_request("code_verifier must be 43 to 128 characters of A-Z a-z 0-9 - . _ ~"));
            }
            // Public clients (browser apps) name themselves; confidential ones may authenticate as well.
            let (org_id, client) = match creds {
                Some(c) => authenticated_client(&app, Some(c)).await?,
                None => {
                    let id = form.client_id.as_deref().ok_or_else(|| invalid_request("client_id is required"))?;
                    app.engine.find_client(id).ok_or_else(invalid_client)?
                }
            };
            let redeem = AuthCommand::RedeemCode {
                hash: hex(&Sha256::digest(code.as_bytes())),
                client_id: client.id.clone(),
                redirect_uri,
                challenge_of_verifier: s256(verifier),
                scope_cap: Some(client.granted().0),
                lifetimes: lifetimes(&app),
            };
            let client_actor = Actor::client(client.id.clone(), Scopes::default());
            let session =
                session_of(run_auth(&app, auth_request(&app, &org_id, client_actor, redeem, request_id)).await?)?;
            let user =
                app.engine.org(&org_id).and_then(|o| o.users.get(&session.user_id).cloned()).ok_or_else(|| {
                    oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", "the user no longer exists")
                })?;
            Grant { org_id, actor: user_actor(&user, session.scope_cap), session: Some(session), client_version: 0 }
        }
        "" => return Err(invalid_request("grant_type is required")),
        _ => {
            return Err(oauth_error(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                "supported grant types: client_credentials, password, refresh_token, authorization_code",
            ));
        }
    };
    let ttl = app.config.token_ttl_secs;
    let expires = wall_clock_ms() / 1000 + ttl;
    let session_id = grant.session.as_ref().map(|s| s.id.as_str());
    let access_token = app.signer.issue(&grant.org_id, &grant.actor, expires, session_id, grant.client_version);
    let refresh_token = grant.session.as_ref().map(|s| {
        app.signer.issue_refresh(&RefreshClaims {
            org_id: s.org_id.clone(),
            user_id: s.user_id.clone(),
            session_id: s.id.clone(),
            generation: s.generation,
        })
    });
    let scope = grant.actor.scopes.list().iter().map(|s| s.as_str()).collect::<Vec<_>>().join(" ");
    let body = TokenResponse { access_token, token_type: "bearer", expires_in: ttl, scope, refresh_token };
    let mut resp = axum::Json(body).into_response();
    resp.headers_mut().insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-store"));
    Ok(resp)
}

/// The user behind a username and password, or one `invalid_grant` that does not say which was wrong.
pub(crate) async fn check_password(
    app: &AppState,
    username: &str,
    password: String,
) -> Result<(String, User), ApiError> {
    // Per account, whatever the address: a distributed guesser gets no more tries at one user than anyone.
    app.limits
        .per_account
        .take(username.to_lowercase())
        .map_err(|spent| crate::middleware::too_many(spent, "too many sign-in attempts for this account"))?;
    let found = app.engine.find_user_by_username(username);
    let hash = found.as_ref().and_then(|(_, u)| u.password_hash.clone());
    if !verify_or_decoy(password, hash).await {
        return Err(oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", "unknown user or wrong password"));
    }
    found.ok_or_else(|| ApiError::internal("a verified user vanished"))
}

/// RFC 7009: the token is the proof. Unknown, expired or foreign tokens answer 200 as well, so the
/// endpoint tells nothing about tokens it did not issue.
async fn revoke(
    State(app): State<AppState>,
    request_id: Option<axum::Extension<RequestId>>,
    body: bytes::Bytes,
) -> Result<Response, ApiError> {
    let form = parse_pairs(&body)?;
    let token = form
        .iter()
        .find(|(k, _)| k == "token")
        .map(|(_, v)| v.as_str())
        .ok_or_else(|| invalid_request("token is required"))?;
    let request_id = request_id.map(|r| r.0.0);
    let now = wall_clock_ms() / 1000;
    if let Ok(t) = app.signer.verify(token, now) {
        let cmd = AuthCommand::RevokeToken { token_id: t.token_id.clone(), expires_ms: t.expires_at_unix * 1000 };
        if !t.token_id.is_empty() {
            run_auth(&app, auth_request(&app, &t.org_id, t.actor, cmd, request_id)).await?;
        }
    } else if let Ok(r) = app.signer.verify_refresh(token) {
        let actor = Actor::user(r.user_id.clone(), vec![]);
        let cmd = AuthCommand::RevokeSession { session_id: r.session_id };
        if app.engine.org(&r.org_id).is_some() {
            run_auth(&app, auth_request(&app, &r.org_id, actor, cmd, request_id)).await?;
        }
    }
    let mut resp = StatusCode::OK.into_response();
    resp.headers_mut().insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-store"));
    Ok(resp)
}

/// `application/x-www-form-urlencoded` pairs (RFC 6749 bodies), with a clear error. A repeated
/// parameter is refused (RFC 6749 §3.1: parameters must not be included more than once).
pub(crate) fn parse_pairs(body: &[u8]) -> Result<Vec<(String, String)>, ApiError> {
    let text = std::str::from_utf8(body).map_err(|_| invalid_request("the form body is not UTF-8"))?;
    let mut out: Vec<(String, String)> = Vec::new();
    for pair in text.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let bad = || invalid_request("bad percent-encoding in the form body");
        let (k, v) = (percent_decode(k).ok_or_else(bad)?, percent_decode(v).ok_or_else(bad)?);
        if out.iter().any(|(seen, _)| *seen == k) {
            return Err(invalid_request(&format!("the parameter {k:?} appears more than once")));
        }
        out.push((k, v));
    }
    Ok(out)
}

fn serde_urlencoded_parse(body: &[u8]) -> Result<TokenForm, ApiError> {
    let mut form = TokenForm::default();
    for (k, v) in parse_pairs(body)? {
        let slot = match k.as_str() {
            "grant_type" => &mut form.grant_type,
            "client_id" => &mut form.client_id,
            "client_secret" => &mut form.client_secret,
            "username" => &mut form.username,
            "password" => &mut form.password,
            "scope" => &mut form.scope,
            "refresh_token" => &mut form.refresh_token,
            "code" => &mut form.code,
            "redirect_uri" => &mut form.redirect_uri,
            "code_verifier" => &mut form.code_verifier,
            _ => continue,
        };
        *slot = Some(v);
    }
    Ok(form)
}

pub(crate) fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let h = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
                out.push(u8::from_str_radix(h, 16).ok()?);
                i += 2;
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn decodes_forms_and_basic_auth() {
        let f = serde_urlencoded_parse(b"grant_type=client_credentials&client_id=a%2Fb&scope=x+y").unwrap();
        assert_eq!(f.grant_type.as_deref(), Some("client_credentials"));
        assert_eq!(f.client_id.as_deref(), Some("a/b"));
        assert_eq!(f.scope.as_deref(), Some("x y"));
        assert!(serde_urlencoded_parse(b"a=%zz").is_err());
        assert_eq!(decode_base64("dXNlcjpwYXNz").unwrap(), b"user:pass");
    }

    #[test]
    fn repeated_parameters_are_refused() {
        let e = serde_urlencoded_parse(b"grant_type=password&grant_type=client_credentials").unwrap_err();
        assert_eq!(e.code, "invalid_request");
        assert!(e.detail.contains("grant_type"));
    }

    #[test]
    fn pkce_s256_matches_an_independent_implementation() {
        // Python: base64.urlsafe_b64encode(hashlib.sha256(v.encode()).digest()).rstrip(b"=")
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWQOqw7s";
        assert!(valid_pkce_string(verifier));
        assert_eq!(s256(verifier), "C__-VracIKGwI4tysIgwFiUjp-caoIEYh9hBHqyR9TY");
        assert!(!valid_pkce_string("short"));
        assert!(!valid_pkce_string(&"a".repeat(129)));
        assert!(!valid_pkce_string(&format!("{}+", "a".repeat(43))));
        assert_eq!(base64url(b"f"), "Zg");
        assert_eq!(base64url(b"fo"), "Zm8");
        assert_eq!(base64url(b"foo"), "Zm9v");
    }

    fn encode(s: &str) -> String {
        s.bytes()
            .map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") })
            .collect()
    }

    proptest! {
        #[test]
        fn form_decoding_round_trips_any_text(values in proptest::collection::vec(".{0,40}", 1..6)) {
            let body: Vec<String> =
                values.iter().enumerate().map(|(i, v)| format!("k{i}={}", encode(v))).collect();
            let pairs = parse_pairs(body.join("&").as_bytes()).unwrap();
            let decoded: Vec<String> = pairs.into_iter().map(|(_, v)| v).collect();
            prop_assert_eq!(decoded, values);
        }

        #[test]
        fn form_decoding_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = serde_urlencoded_parse(&bytes);
        }

        #[test]
        fn base64_decoding_never_panics(s in ".{0,200}") {
            let _ = decode_base64(&s);
        }
    }
}
