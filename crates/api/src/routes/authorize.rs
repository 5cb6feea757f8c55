//! `GET/POST /oauth/authorize`: the login page of the authorization-code flow with PKCE (RFC 6749 §4.1,
//! RFC 7636 S256 only). The page is served by the server, with a strict CSP, and redirects only to a URI
//! the client registered, exactly.

use super::token::{auth_request, check_password, parse_pairs, run_auth, valid_pkce_string};
use crate::AppState;
use crate::auth::{RequestId, hex, new_secret};
use crate::problem::ApiError;
use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use sha2::{Digest, Sha256};
use switchboard_core::Actor;
use switchboard_engine::sessions::{AuthCode, AuthCommand};
use switchboard_engine::wall_clock_ms;

pub fn routes() -> Router<AppState> {
    Router::new().route("/oauth/authorize", get(page).post(login))
}

/// The parameters of an authorization request, carried through the form as hidden fields.
#[derive(Default)]
struct AuthzParams {
    response_type: String,
    client_id: String,
    redirect_uri: String,
    code_challenge: String,
    code_challenge_method: String,
    state: Option<String>,
}

impl AuthzParams {
    fn from_pairs(pairs: &[(String, String)]) -> Self {
        let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        AuthzParams {
            response_type: get("response_type").unwrap_or_default(),
            client_id: get("client_id").unwrap_or_default(),
            redirect_uri: get("redirect_uri").unwrap_or_default(),
            code_challenge: get("code_challenge").unwrap_or_default(),
            code_challenge_method: get("code_challenge_method").unwrap_or_default(),
            state: get("state"),
        }
    }
}

/// A checked request: the client's org and the redirect to use.
struct Checked {
    org_id: String,
    client_id: String,
}

/// How a bad authorization request is answered: before the redirect URI is trusted, on the page itself
/// (RFC 6749 §4.1.2.1: never redirect to an unverified URI); after, by redirecting with `error`.
enum Refusal {
    Page(StatusCode, String),
    Redirect(Box<Response>),
}

fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn redirect(uri: &str, params: &[(&str, &str)]) -> Response {
    let sep = if uri.contains('?') { '&' } else { '?' };
    let query: Vec<String> = params.iter().map(|(k, v)| format!("{k}={}", percent_encode(v))).collect();
    let location = format!("{uri}{sep}{}", query.join("&"));
    let mut resp = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(&location) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

fn error_redirect(p: &AuthzParams, error: &str, description: &str) -> Refusal {
    let mut params = vec![("error", error), ("error_description", description)];
    if let Some(s) = &p.state {
        params.push(("state", s));
    }
    Refusal::Redirect(Box::new(redirect(&p.redirect_uri, &params)))
}

fn check(app: &AppState, p: &AuthzParams) -> Result<Checked, Refusal> {
    let page = |m: &str| Refusal::Page(StatusCode::BAD_REQUEST, m.to_string());
    if p.client_id.is_empty() {
        return Err(page("client_id is missing."));
    }
    let Some((org_id, client)) = app.engine.find_client(&p.client_id) else {
        return Err(page("This application is not known to the server."));
    };
    if !client.redirect_uris.contains(&p.redirect_uri) {
        return Err(page("redirect_uri is not one this application registered."));
    }
    if p.response_type != "code" {
        return Err(error_redirect(p, "unsupported_response_type", "only response_type=code is supported"));
    }
    if p.code_challenge_method != "S256" || !valid_pkce_string(&p.code_challenge) {
        return Err(error_redirect(
            p,
            "invalid_request",
            "PKCE is required: code_challenge with code_challenge_method=S256",
        ));
    }
    Ok(Checked { org_id, client_id: client.id })
}

fn escape(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '&' => "&amp;".into(),
            '<' => "&lt;".into(),
            '>' => "&gt;".into(),
            '"' => "&quot;".into(),
            '\'' => "&#39;".into(),
            c => c.to_string(),
        })
        .collect()
}

/// The origin (`scheme://host[:port]`) of a checked redirect URI.
fn origin_of(uri: &str) -> &str {
    let after_scheme = uri.find("://").map_or(0, |i| i + 3);
    let end = uri[after_scheme..].find(['/', '?']).map_or(uri.len(), |i| after_scheme + i);
    &uri[..end]
}

/// The page: no script, no external resource, not frameable, posts only to itself. `form-action` also
/// names the client's origin: browsers apply it to the redirect that follows the post.
fn html(status: StatusCode, body: &str, redirect_origin: Option<&str>) -> Response {
    let doc = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Sign in · Switchboard</title>\
         <meta name=\"viewport\" content=\"width=device-width\"><style>body{{font:16px system-ui;max-width:22rem;\
         margin:4rem auto}}label,input,button{{display:block;width:100%;margin:.4rem 0}}.error{{color:#b00}}</style>\
         </head><body>{body}</body></html>"
    );
    let mut resp = (status, doc).into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    let csp = format!(
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'{}; frame-ancestors 'none'",
        redirect_origin.map(|o| format!(" {o}")).unwrap_or_default()
    );
    if let Ok(v) = HeaderValue::from_str(&csp) {
        h.insert(header::CONTENT_SECURITY_POLICY, v);
    }
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    resp
}

fn login_form(status: StatusCode, p: &AuthzParams, client_name: &str, error: Option<&str>) -> Response {
    let hidden = [
        ("response_type", p.response_type.as_str()),
        ("client_id", &p.client_id),
        ("redirect_uri", &p.redirect_uri),
        ("code_challenge", &p.code_challenge),
        ("code_challenge_method", &p.code_challenge_method),
        ("state", p.state.as_deref().unwrap_or("")),
    ]
    .iter()
    .map(|(k, v)| format!("<input type=\"hidden\" name=\"{k}\" value=\"{}\">", escape(v)))
    .collect::<String>();
    let error = error.map(|e| format!("<p class=\"error\" role=\"alert\">{}</p>", escape(e))).unwrap_or_default();
    html(
        status,
        &format!(
            "<h1>Sign in</h1><p>to continue to <strong>{}</strong></p>{error}\
             <form method=\"post\" action=\"/oauth/authorize\">{hidden}\
             <label for=\"username\">Username</label><input id=\"username\" name=\"username\" autocomplete=\"username\" required>\
             <label for=\"password\">Password</label><input id=\"password\" name=\"password\" type=\"password\" \
             autocomplete=\"current-password\" required><button type=\"submit\">Sign in</button></form>",
            escape(client_name)
        ),
        Some(origin_of(&p.redirect_uri)),
    )
}

fn refusal_response(r: Refusal) -> Response {
    match r {
        Refusal::Page(status, message) => {
            html(status, &format!("<h1>Cannot sign in</h1><p class=\"error\">{}</p>", escape(&message)), None)
        }
        Refusal::Redirect(resp) => *resp,
    }
}

fn client_name(app: &AppState, client_id: &str) -> String {
    app.engine.find_client(client_id).map(|(_, c)| c.name).unwrap_or_default()
}

async fn page(State(app): State<AppState>, RawQuery(q): RawQuery) -> Response {
    let pairs = match parse_pairs(q.unwrap_or_default().as_bytes()) {
        Ok(p) => p,
        Err(e) => return refusal_response(Refusal::Page(StatusCode::BAD_REQUEST, e.detail)),
    };
    let p = AuthzParams::from_pairs(&pairs);
    match check(&app, &p) {
        Ok(c) => login_form(StatusCode::OK, &p, &client_name(&app, &c.client_id), None),
        Err(r) => refusal_response(r),
    }
}

async fn login(
    State(app): State<AppState>,
    request_id: Option<axum::Extension<RequestId>>,
    body: bytes::Bytes,
) -> Result<Response, ApiError> {
    let pairs = match parse_pairs(&body) {
        Ok(p) => p,
        Err(e) => return Ok(refusal_response(Refusal::Page(StatusCode::BAD_REQUEST, e.detail))),
    };
    let p = AuthzParams::from_pairs(&pairs);
    let c = match check(&app, &p) {
        Ok(c) => c,
        Err(r) => return Ok(refusal_response(r)),
    };
    let field = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()).unwrap_or_default();
    let failed = |app: &AppState, status: StatusCode, why: &str| {
        login_form(status, &p, &client_name(app, &c.client_id), Some(why))
    };
    let (user_org, user) = match check_password(&app, &field("username"), field("password")).await {
        Ok(found) => found,
        Err(e) if e.status == StatusCode::TOO_MANY_REQUESTS => {
            return Ok(failed(&app, e.status, "Too many sign-in attempts for this account; wait a minute."));
        }
        Err(_) => return Ok(failed(&app, StatusCode::UNAUTHORIZED, "Unknown user or wrong password.")),
    };
    // A user of another org is, to this application, a user that does not exist.
    if user_org != c.org_id {
        return Ok(failed(&app, StatusCode::UNAUTHORIZED, "Unknown user or wrong password."));
    }
    let code = new_secret();
    let stored = AuthCode {
        hash: hex(&Sha256::digest(code.as_bytes())),
        org_id: c.org_id.clone(),
        user_id: user.id.clone(),
        client_id: c.client_id.clone(),
        redirect_uri: p.redirect_uri.clone(),
        challenge: p.code_challenge.clone(),
        expires_ms: wall_clock_ms() + app.config.code_ttl_secs * 1000,
        session_id: None,
    };
    let actor = Actor::user(user.id.clone(), user.roles.clone());
    let save = AuthCommand::SaveCode(stored);
    run_auth(&app, auth_request(&app, &c.org_id, actor, save, request_id.map(|r| r.0.0))).await?;
    let mut params = vec![("code", code.as_str())];
    if let Some(s) = &p.state {
        params.push(("state", s));
    }
    Ok(redirect(&p.redirect_uri, &params))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_and_encoding() {
        assert_eq!(escape("<a href=\"x\">'&'</a>"), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
        assert_eq!(percent_encode("a b&c=d/é"), "a%20b%26c%3Dd%2F%C3%A9");
    }

    #[test]
    fn the_origin_of_a_redirect_uri() {
        assert_eq!(origin_of("https://app.example:8443/cb?x=1"), "https://app.example:8443");
        assert_eq!(origin_of("http://127.0.0.1:9"), "http://127.0.0.1:9");
        assert_eq!(origin_of("https://app.example?x"), "https://app.example");
    }

    #[test]
    fn a_challenge_is_itself_a_valid_pkce_string() {
        assert!(valid_pkce_string(&super::super::token::s256(&"a".repeat(43))));
    }
}
