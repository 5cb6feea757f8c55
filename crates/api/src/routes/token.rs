//! `POST /oauth/token`: client_credentials for service clients, password for users (RFC 6749).

use crate::AppState;
use crate::auth::verify_secret_async;
use crate::problem::ApiError;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use switchboard_core::{Actor, Scope, Scopes};
use switchboard_wire::{TokenForm, TokenResponse};

pub fn routes() -> Router<AppState> {
    Router::new().route("/oauth/token", post(token))
}

fn oauth_error(status: StatusCode, error: &'static str, description: &str) -> ApiError {
    ApiError::new(status, error, description).with("error", error).with("error_description", description)
}

fn invalid_client() -> ApiError {
    oauth_error(StatusCode::UNAUTHORIZED, "invalid_client", "unknown client or wrong secret")
}

/// Client credentials from HTTP Basic or from the form.
fn client_credentials(headers: &HeaderMap, form: &TokenForm) -> Result<Option<(String, String)>, ApiError> {
    if let Some(v) = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok())
        && let Some(b64) = v.strip_prefix("Basic ").or_else(|| v.strip_prefix("basic "))
    {
        let raw = decode_base64(b64.trim()).ok_or_else(invalid_client)?;
        let text = String::from_utf8(raw).map_err(|_| invalid_client())?;
        let (id, secret) = text.split_once(':').ok_or_else(invalid_client)?;
        return Ok(Some((id.to_string(), secret.to_string())));
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

async fn token(State(app): State<AppState>, headers: HeaderMap, body: bytes::Bytes) -> Result<Response, ApiError> {
    let form: TokenForm = serde_urlencoded_parse(&body)?;
    let grant = form.grant_type.clone().unwrap_or_default();
    let client = client_credentials(&headers, &form)?;
    let (org_id, actor) = match grant.as_str() {
        "client_credentials" => {
            let (id, secret) = client.ok_or_else(invalid_client)?;
            let (org_id, c) = app.engine.find_client(&id).ok_or_else(invalid_client)?;
            if !verify_secret_async(secret, c.secret_hash.clone()).await {
                return Err(invalid_client());
            }
            let granted: Vec<Scope> = c.scopes.iter().filter_map(|s| Scope::parse(s)).collect();
            let scopes = match form.scope.as_deref().filter(|s| !s.trim().is_empty()) {
                None => Scopes::of(&granted),
                Some(req) => {
                    let mut asked = Vec::new();
                    for s in req.split_whitespace() {
                        match Scope::parse(s).filter(|x| Scopes::of(&granted).contains(*x)) {
                            Some(x) => asked.push(x),
                            None => {
                                return Err(oauth_error(
                                    StatusCode::BAD_REQUEST,
                                    "invalid_scope",
                                    &format!("scope {s:?} is not granted to this client"),
                                ));
                            }
                        }
                    }
                    Scopes::of(&asked)
                }
            };
            (org_id, Actor::client(c.id.clone(), scopes))
        }
        "password" => {
            if !app.config.password_grant {
                return Err(oauth_error(
                    StatusCode::BAD_REQUEST,
                    "unsupported_grant_type",
                    "the password grant is disabled",
                ));
            }
            let (Some(username), Some(password)) = (form.username.clone(), form.password.clone()) else {
                return Err(oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    "username and password are required",
                ));
            };
            if let Some((id, secret)) = client {
                let ok = match app.engine.find_client(&id) {
                    Some((_, c)) => verify_secret_async(secret, c.secret_hash.clone()).await,
                    None => false,
                };
                if !ok {
                    return Err(invalid_client());
                }
            }
            let bad = || oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", "unknown user or wrong password");
            let (org_id, user) = app.engine.find_user_by_username(&username).ok_or_else(bad)?;
            let hash = user.password_hash.clone().ok_or_else(bad)?;
            if !verify_secret_async(password, hash).await {
                return Err(bad());
            }
            (org_id, Actor::user(user.id.clone(), user.roles.clone()))
        }
        "" => return Err(oauth_error(StatusCode::BAD_REQUEST, "invalid_request", "grant_type is required")),
        _ => {
            return Err(oauth_error(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                "supported grant types: client_credentials, password",
            ));
        }
    };
    let ttl = app.config.token_ttl_secs;
    let expires = switchboard_engine::wall_clock_ms() / 1000 + ttl;
    let token = app.signer.issue(&org_id, &actor, expires);
    let scope = actor.scopes.list().iter().map(|s| s.as_str()).collect::<Vec<_>>().join(" ");
    let mut resp =
        axum::Json(TokenResponse { access_token: token, token_type: "bearer", expires_in: ttl, scope }).into_response();
    resp.headers_mut().insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-store"));
    Ok(resp)
}

/// `application/x-www-form-urlencoded` decoding (RFC 6749 bodies), with a clear error.
fn serde_urlencoded_parse(body: &[u8]) -> Result<TokenForm, ApiError> {
    let mut form = TokenForm::default();
    let text = std::str::from_utf8(body).map_err(|_| ApiError::bad_request("the form body is not UTF-8"))?;
    for pair in text.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let k = percent_decode(k).ok_or_else(|| ApiError::bad_request("bad percent-encoding in the form"))?;
        let v = Some(percent_decode(v).ok_or_else(|| ApiError::bad_request("bad percent-encoding in the form"))?);
        match k.as_str() {
            "grant_type" => form.grant_type = v,
            "client_id" => form.client_id = v,
            "client_secret" => form.client_secret = v,
            "username" => form.username = v,
            "password" => form.password = v,
            "scope" => form.scope = v,
            _ => {}
        }
    }
    Ok(form)
}

fn percent_decode(s: &str) -> Option<String> {
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

    proptest! {
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
