//! Middleware every request passes: a request id (echoed in `X-Request-Id`, recorded in the audit trail)
//! and the rate limits (per caller identity with a valid token, per client address otherwise, and a
//! tighter per-address budget on `/oauth/*`, where passwords are guessed).

use crate::AppState;
use crate::auth::{RequestId, Verified, authenticate};
use crate::client_address::{ClientAddress, client_address};
use crate::limits::{Budget, RateLimiter, address_key};
use crate::problem::ApiError;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

/// The budgets, per minute (0 = unlimited).
pub struct Limits {
    pub per_identity: RateLimiter<String>,
    pub per_address: RateLimiter<IpAddr>,
    pub oauth_per_address: RateLimiter<IpAddr>,
    /// Sign-in attempts per username (checked by the password check itself).
    pub per_account: RateLimiter<String>,
}

impl Limits {
    pub fn new(c: &crate::RateBudgets) -> Self {
        Limits {
            per_identity: RateLimiter::new(c.per_identity),
            per_address: RateLimiter::new(c.per_address),
            oauth_per_address: RateLimiter::new(c.oauth_per_address),
            per_account: RateLimiter::new(c.per_account),
        }
    }
}

/// A client-sent id is kept when it is short and plain (so it can go into logs and the audit trail).
fn acceptable_request_id(v: &HeaderValue) -> Option<String> {
    let s = v.to_str().ok()?;
    let ok = !s.is_empty() && s.len() <= 128 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b));
    ok.then(|| s.to_string())
}

pub async fn request_id(mut req: Request, next: Next) -> Response {
    let id = req
        .headers()
        .get("x-request-id")
        .and_then(acceptable_request_id)
        .unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
    req.extensions_mut().insert(RequestId(id.clone()));
    let mut resp = next.run(req).await;
    if let Ok(v) = HeaderValue::from_str(&id) {
        resp.headers_mut().insert("x-request-id", v);
    }
    resp
}

/// 429 with `Retry-After` and the spent budget.
pub fn too_many(spent: Budget, what: &str) -> ApiError {
    ApiError::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", format!("{what}; retry in {} s", spent.reset_secs))
        .with("retryAfterSeconds", spent.reset_secs)
        .header("retry-after", spent.reset_secs)
        .header("ratelimit-limit", spent.limit)
        .header("ratelimit-remaining", spent.remaining)
        .header("ratelimit-reset", spent.reset_secs)
}

pub async fn rate_limit(State(app): State<AppState>, mut req: Request, next: Next) -> Response {
    let peer =
        req.extensions().get::<ConnectInfo<SocketAddr>>().map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |c| c.0.ip());
    let client = client_address(peer, req.headers(), &app.config.trusted_proxies);
    req.extensions_mut().insert(ClientAddress(client));
    let address = address_key(client);
    let verdict = if req.uri().path().starts_with("/oauth/") {
        app.limits.oauth_per_address.take(address).map_err(|b| (b, "too many OAuth requests from this address"))
    } else if req.headers().contains_key(axum::http::header::AUTHORIZATION) {
        match authenticate(&app, req.headers()) {
            Ok(token) => {
                let key = format!("{}/{}/{}", token.org_id, token.actor.kind.as_str(), token.actor.id);
                req.extensions_mut().insert(Verified(token));
                app.limits.per_identity.take(key).map_err(|b| (b, "too many requests for this identity"))
            }
            // A bad token counts against the address: guessing tokens costs like guessing passwords.
            Err(_) => app.limits.per_address.take(address).map_err(|b| (b, "too many requests from this address")),
        }
    } else {
        app.limits.per_address.take(address).map_err(|b| (b, "too many requests from this address"))
    };
    match verdict {
        Ok(budget) => {
            let mut resp = next.run(req).await;
            // A route with its own, tighter budget (guest sessions) has already said where it stands.
            if !resp.headers().contains_key("ratelimit-limit") {
                budget.write_headers(resp.headers_mut());
            }
            resp
        }
        Err((spent, what)) => too_many(spent, what).into_response(),
    }
}
