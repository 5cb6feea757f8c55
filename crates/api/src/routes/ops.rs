//! Operations endpoints: health, readiness, Prometheus metrics, the OpenAPI document, problem pages.

use crate::AppState;
use crate::problem::ApiError;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;
use std::sync::atomic::Ordering;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/v1/openapi.json", get(openapi))
        .route("/problems/{slug}", get(problem_page))
}

/// Every problem code: (code, title, what it means and what to do).
pub const PROBLEMS: &[(&str, &str, &str)] = &[
    (
        "malformed_request",
        "Malformed request",
        "The request could not be read: a header or the body is not what the endpoint takes. The detail says which.",
    ),
    (
        "malformed_json",
        "Malformed JSON",
        "The body is not valid JSON. Fix the syntax at the position named in the detail.",
    ),
    (
        "invalid_body",
        "Invalid body",
        "The JSON has a wrong type, a missing required field or a field the endpoint does not know. `violations[].pointer` names the field.",
    ),
    ("body_too_large", "Body too large", "The body exceeds the server's limit. Send less data per request."),
    (
        "unauthorized",
        "Unauthorized",
        "No token, a malformed token, an expired token or a token with a bad signature. Get a new token from /oauth/token.",
    ),
    (
        "missing_scopes",
        "Missing scopes",
        "The token is valid but lacks a scope this call needs; `missingScopes` lists them.",
    ),
    (
        "forbidden",
        "Forbidden",
        "The caller may not act on this participant or resource (for example an agent acting on another agent's participant).",
    ),
    (
        "bootstrap_admin_only",
        "Bootstrap admin only",
        "Only the bootstrap admin client configured at start may call this endpoint.",
    ),
    (
        "not_found",
        "Not found",
        "The resource does not exist (or belongs to another organization, which is the same to you).",
    ),
    ("not_a_user", "Not a user", "The token belongs to a service client; use /v1/clients/me."),
    ("not_a_client", "Not a client", "The token belongs to a user; use /v1/users/me."),
    (
        "invalid_transition",
        "Invalid transition",
        "The conversation's state does not allow this command now. `state`, `participantState` and `allowedActions` say what would succeed.",
    ),
    (
        "version_mismatch",
        "Version mismatch",
        "If-Match (or the body's `version`) names another version. `currentVersion` and `current` show the state to retry against.",
    ),
    (
        "wrapup_code_not_allowed",
        "Wrap-up code not allowed",
        "The code is unknown, archived, a system code, or not on the participant's queue. `allowedCodes` lists the codes that are allowed.",
    ),
    (
        "validation_failed",
        "Validation failed",
        "The request is well-formed but invalid; every problem is listed in `violations` with a JSON pointer.",
    ),
    (
        "amendment_window_closed",
        "Amendment window closed",
        "The wrap-up can no longer be amended: the window ended at `amendableUntil`.",
    ),
    (
        "target_at_capacity",
        "Target at capacity",
        "The user has no capacity left for this media type; try later or transfer to a queue.",
    ),
    ("skip_not_allowed", "Skip not allowed", "Only wrap-ups under the optional policy can be skipped."),
    (
        "acw_request_not_allowed",
        "ACW request not allowed",
        "After-call work can only be requested under the agentRequested policy.",
    ),
    (
        "queue_has_conversations",
        "Queue has conversations",
        "A queue with queued or alerting conversations cannot be deleted; the detail lists them.",
    ),
    ("already_exists", "Already exists", "An entity with this identity or name exists."),
    (
        "system_code",
        "System code",
        "WRAPUP-TIMEOUT and WRAPUP-SYSTEM cannot be renamed, archived, deleted or chosen by hand.",
    ),
    (
        "clock_not_manual",
        "Clock not manual",
        "The server runs on the system clock; start it with --clock manual to move time.",
    ),
    (
        "idempotency_key_reused",
        "Idempotency key reused",
        "The Idempotency-Key was used before with a different body. Use a new key for a new request.",
    ),
    (
        "deployment_key_required",
        "Deployment key required",
        "This queue's messaging deployment requires its key: send deploymentId and deploymentKey.",
    ),
    ("origin_not_allowed", "Origin not allowed", "The page's origin is not among the deployment's allowed origins."),
    (
        "token_expired",
        "Token expired",
        "The access token's lifetime is over. Get a new one: refresh_token grant, or sign in again.",
    ),
    (
        "token_revoked",
        "Token revoked",
        "The token was revoked: by /oauth/revoke, by a sign-out everywhere, a password change, a refresh token used twice, or a rotated client secret.",
    ),
    (
        "bootstrap_client",
        "Bootstrap client",
        "The bootstrap admin client is configured on the server, not through the API.",
    ),
    ("rate_limited", "Rate limited", "Too many requests from this address or token; wait the seconds in Retry-After."),
    ("invalid_client", "Invalid client", "OAuth: unknown client or wrong secret."),
    ("invalid_grant", "Invalid grant", "OAuth: unknown user or wrong password."),
    ("invalid_request", "Invalid request", "OAuth: a required form field is missing."),
    ("invalid_scope", "Invalid scope", "OAuth: a requested scope is not granted to this client."),
    ("unsupported_grant_type", "Unsupported grant type", "OAuth: the grant type is unknown or disabled."),
    ("method_not_allowed", "Method not allowed", "The path exists but not with this HTTP method."),
    (
        "unavailable",
        "Unavailable",
        "The engine is shutting down or could not commit; retry with the same Idempotency-Key.",
    ),
    ("internal_error", "Internal error", "A real fault on the server; it was logged with its cause."),
];

async fn healthz() -> Response {
    axum::Json(json!({"status": "ok"})).into_response()
}

/// Ready when the writer answers and the store can be read.
async fn readyz(State(app): State<AppState>) -> Result<Response, ApiError> {
    let store = app.engine.store().clone();
    let counts = tokio::task::spawn_blocking(move || store.counts()).await.map_err(ApiError::internal)?;
    match counts {
        Ok((conversations, events)) => {
            Ok(axum::Json(json!({"status": "ready", "conversations": conversations, "events": events})).into_response())
        }
        Err(e) => Err(ApiError::internal(e)),
    }
}

async fn metrics(State(app): State<AppState>) -> Response {
    let m = &app.metrics;
    let mut out = String::new();
    out.push_str("# HELP switchboard_http_requests_total HTTP requests answered, by status class.\n");
    out.push_str("# TYPE switchboard_http_requests_total counter\n");
    for (i, class) in ["1xx", "2xx", "3xx", "4xx", "5xx"].iter().enumerate() {
        out.push_str(&format!(
            "switchboard_http_requests_total{{class=\"{class}\"}} {}\n",
            m.by_class[i].load(Ordering::Relaxed)
        ));
    }
    out.push_str("# HELP switchboard_http_request_seconds_sum Total time spent answering requests.\n");
    out.push_str("# TYPE switchboard_http_request_seconds_sum counter\n");
    out.push_str(&format!(
        "switchboard_http_request_seconds_sum {}\n",
        m.micros_total.load(Ordering::Relaxed) as f64 / 1e6
    ));
    let mut resp = out.into_response();
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; version=0.0.4"));
    resp
}

async fn openapi() -> Response {
    // Built once: the table is static.
    static DOCUMENT: std::sync::LazyLock<serde_json::Value> = std::sync::LazyLock::new(crate::openapi::document);
    axum::Json(&*DOCUMENT).into_response()
}

async fn problem_page(Path(slug): Path<String>) -> Result<Response, ApiError> {
    let code = slug.replace('-', "_");
    let (_, title, text) =
        PROBLEMS.iter().find(|(c, _, _)| *c == code).ok_or_else(|| ApiError::not_found("problem type", &slug))?;
    let body = format!("# {title}\n\n`code: {code}`\n\n{text}\n");
    let mut resp = body.into_response();
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/markdown; charset=utf-8"));
    Ok(resp)
}
