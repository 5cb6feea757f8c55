//! The one error type of the HTTP API and its single mapping to `application/problem+json` (RFC 9457).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};
use switchboard_core::{Actor, Conversation, Rejection, Timestamp, allowed::allowed_actions};
use switchboard_engine::EngineError;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub detail: String,
    pub extra: Map<String, Value>,
    /// Headers the answer carries besides the problem (Retry-After, WWW-Authenticate, RateLimit-*).
    pub headers: Vec<(&'static str, HeaderValue)>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, detail: impl Into<String>) -> Self {
        ApiError { status, code, detail: detail.into(), extra: Map::new(), headers: Vec::new() }
    }
    pub fn header(mut self, name: &'static str, value: impl TryInto<HeaderValue>) -> Self {
        if let Ok(v) = value.try_into() {
            self.headers.push((name, v));
        }
        self
    }
    pub fn with(mut self, key: &str, value: impl serde::Serialize) -> Self {
        self.extra.insert(key.to_string(), serde_json::to_value(value).unwrap_or(Value::Null));
        self
    }
    pub fn bad_request(detail: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, "malformed_request", detail)
    }
    pub fn unauthorized(detail: impl Into<String>) -> Self {
        ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", detail)
    }
    /// RFC 6750 §3: a presented bearer token that does not work, with an OAuth error code.
    pub fn invalid_token(detail: &str) -> Self {
        let code = match detail {
            d if d.contains("expired") => "token_expired",
            d if d.contains("revoked") => "token_revoked",
            _ => "unauthorized",
        };
        // Quotes would end the quoted string of the header; descriptions are ours and have none.
        let challenge = format!("Bearer error=\"invalid_token\", error_description=\"{}\"", detail.replace('"', "'"));
        ApiError::new(StatusCode::UNAUTHORIZED, code, detail)
            .with("error", "invalid_token")
            .with("error_description", detail)
            .header("www-authenticate", challenge)
    }
    pub fn not_found(what: &str, id: &str) -> Self {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", format!("{what} {id} does not exist"))
    }
    pub fn invalid(pointer: &str, message: &str) -> Self {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed", format!("{pointer}: {message}"))
            .with("violations", json!([{ "pointer": pointer, "message": message }]))
    }
    pub fn internal(e: impl std::fmt::Display) -> Self {
        tracing::error!(error = %e, "internal error");
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal_error", "an internal error occurred; it was logged")
    }

    /// Maps an engine error for this caller: conflicts carry `state` and the caller's `allowedActions`.
    pub fn from_engine(e: EngineError, actor: &Actor, now: Timestamp) -> Self {
        match e {
            EngineError::Rejected { rejection, conversation } => {
                from_rejection(rejection, conversation.as_deref(), actor, now)
            }
            EngineError::IdempotencyMismatch => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency_key_reused",
                "this Idempotency-Key was already used with a different request body",
            ),
            EngineError::Unavailable => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "the engine is not accepting writes right now",
            ),
            EngineError::Auth { error, description } => ApiError::new(StatusCode::BAD_REQUEST, error, &description)
                .with("error", error)
                .with("error_description", description),
            e @ (EngineError::Store(_) | EngineError::Decode(_)) => ApiError::internal(e),
        }
    }
}

fn conversation_context(mut err: ApiError, conv: Option<&Conversation>, actor: &Actor, now: Timestamp) -> ApiError {
    if let Some(c) = conv {
        err = err
            .with("conversationId", &c.id)
            .with("state", c.state())
            .with("allowedActions", allowed_actions(c, actor, now));
    }
    err
}

fn from_rejection(r: Rejection, conv: Option<&Conversation>, actor: &Actor, now: Timestamp) -> ApiError {
    let code = r.code();
    match r {
        Rejection::NotFound { what, id } => {
            let detail = match (what, conv) {
                ("conversation", _) | (_, None) => format!("{what} {id} does not exist"),
                (_, Some(c)) => format!("{what} {id} does not exist in conversation {}", c.id),
            };
            ApiError::new(StatusCode::NOT_FOUND, code, detail)
        }
        Rejection::Forbidden { detail } => {
            conversation_context(ApiError::new(StatusCode::FORBIDDEN, code, detail), conv, actor, now)
        }
        Rejection::InvalidTransition { detail, participant_id } => {
            let mut e = conversation_context(ApiError::new(StatusCode::CONFLICT, code, detail), conv, actor, now);
            if let (Some(pid), Some(c)) = (participant_id, conv) {
                if let Some(p) = c.participant(&pid) {
                    e = e.with("participantState", p.state);
                }
                e = e.with("participantId", pid);
            }
            e
        }
        Rejection::Conflict { detail, .. } => {
            conversation_context(ApiError::new(StatusCode::CONFLICT, code, detail), conv, actor, now)
        }
        Rejection::VersionMismatch { current } => {
            let mut e = ApiError::new(
                StatusCode::PRECONDITION_FAILED,
                code,
                format!("the resource is at version {current}, not the one given in If-Match"),
            )
            .with("currentVersion", current);
            if let Some(c) = conv {
                e = conversation_context(e, Some(c), actor, now)
                    .with("current", crate::routes::conversations::view_value(c, actor, now));
            }
            e
        }
        Rejection::CodeNotAllowed { refusals } => {
            let first = refusals.first().cloned();
            let detail = refusals
                .iter()
                .map(|r| format!("code {} is not allowed for participant {}", r.code_id, r.participant_id))
                .collect::<Vec<_>>()
                .join("; ");
            let violations: Vec<Value> = refusals
                .iter()
                .map(|r| json!({"pointer": r.pointer, "message": format!("wrap-up code {} is not allowed here", r.code_id)}))
                .collect();
            let mut e = ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, detail)
                .with("violations", violations)
                .with("refusals", &refusals);
            if let Some(f) = first {
                e = e.with("participantId", f.participant_id).with("allowedCodes", f.allowed_codes);
            }
            conversation_context(e, conv, actor, now)
        }
        Rejection::Invalid { detail, violations } => {
            ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, detail).with("violations", violations)
        }
        Rejection::AmendmentWindowClosed { amendable_until } => {
            let e =
                ApiError::new(StatusCode::CONFLICT, code, format!("the amendment window closed at {amendable_until}"))
                    .with("amendableUntil", amendable_until);
            conversation_context(e, conv, actor, now)
        }
    }
}

/// Title of each problem code; `/problems/{slug}` serves the explanation.
pub fn title(code: &str) -> &'static str {
    crate::routes::ops::PROBLEMS.iter().find(|(c, _, _)| *c == code).map(|(_, t, _)| *t).unwrap_or("Error")
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = Map::new();
        body.insert("type".into(), json!(format!("/problems/{}", self.code.replace('_', "-"))));
        body.insert("title".into(), json!(title(self.code)));
        body.insert("status".into(), json!(self.status.as_u16()));
        body.insert("detail".into(), json!(self.detail));
        body.insert("code".into(), json!(self.code));
        for (k, v) in self.extra {
            body.insert(k, v);
        }
        let mut resp = (self.status, serde_json::to_string(&Value::Object(body)).unwrap_or_default()).into_response();
        resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        if self.status == StatusCode::UNAUTHORIZED {
            resp.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        for (name, value) in self.headers {
            resp.headers_mut().insert(name, value);
        }
        resp
    }
}
