//! The vendor's ErrorBody and the one mapping of native errors to it (docs/compat/genesys.md, "Errors").
//! Switchboard's extra facts (native code, state, allowed codes) travel in `messageParams` and `details`.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};
use switchboard_core::{Rejection, Scope};
use switchboard_engine::EngineError;

#[derive(Debug)]
pub struct GcError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub params: Map<String, Value>,
    pub details: Vec<Value>,
    pub context_id: Option<String>,
}

impl GcError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        GcError { status, code, message: message.into(), params: Map::new(), details: Vec::new(), context_id: None }
    }
    /// `messageParams` is a map of strings in the vendor's model.
    pub fn param(mut self, key: &str, value: impl std::fmt::Display) -> Self {
        self.params.insert(key.into(), Value::String(value.to_string()));
        self
    }
    pub fn bad_request(message: impl Into<String>) -> Self {
        GcError::new(StatusCode::BAD_REQUEST, "bad.request", message)
    }
    /// A bad field: `details[{fieldName, errorCode}]` as the vendor reports validation.
    pub fn invalid_field(field: &str, message: &str) -> Self {
        let mut e = GcError::bad_request(format!("{field}: {message}"));
        e.details.push(json!({"errorCode": "invalid.value", "fieldName": field, "errorMessage": message}));
        e
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        GcError::new(StatusCode::NOT_FOUND, "not.found", message)
    }
    pub fn conflict(message: impl Into<String>) -> Self {
        GcError::new(StatusCode::CONFLICT, "conflict", message)
    }
    pub fn internal(e: impl std::fmt::Display) -> Self {
        tracing::error!(error = %e, "internal error in the Genesys facade");
        GcError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal.server.error",
            "an internal error occurred; it was logged",
        )
    }
    pub fn not_implemented(op: crate::Op) -> Self {
        GcError::new(
            StatusCode::NOT_IMPLEMENTED,
            "not.implemented",
            format!("{} is part of the Genesys Cloud API but Switchboard does not implement it", op.spec().name),
        )
        .param("operationId", op.spec().name)
    }
    pub fn missing_scopes(op: crate::Op, missing: &[Scope]) -> Self {
        let names: Vec<&str> = missing.iter().map(|s| s.as_str()).collect();
        let mut e = GcError::new(
            StatusCode::FORBIDDEN,
            "missing.permissions",
            "you are missing the permissions for this operation",
        )
        .param("nativeScopes", names.join(","));
        if !op.spec().permissions.is_empty() {
            e = e.param("permissions", op.spec().permissions.join(","));
        }
        e
    }

    /// A native problem code and status, in the vendor's words (used for auth refusals and the native middleware).
    pub fn from_native(status: u16, native_code: &str, message: &str) -> Self {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let code = match (status.as_u16(), native_code) {
            (401, "unauthorized") if message.contains("required") => "authentication.required",
            (401, "token_expired") => "credentials.expired",
            (401, _) => "bad.credentials",
            (403, "missing_scopes") => "missing.permissions",
            (403, _) => "not.authorized",
            (404, _) => "not.found",
            (409 | 412, _) => "conflict",
            (429, _) => "too.many.requests",
            (503, _) => "service.unavailable",
            (s, _) if s >= 500 => "internal.server.error",
            _ => "bad.request",
        };
        // The vendor has no 412 or 422: a stale version is a conflict, a bad value a bad request.
        let status = match status.as_u16() {
            412 => StatusCode::CONFLICT,
            413 | 422 => StatusCode::BAD_REQUEST,
            _ => status,
        };
        GcError::new(status, code, message).param("nativeCode", native_code)
    }

    pub fn from_engine(e: EngineError) -> Self {
        match e {
            EngineError::Rejected { rejection, conversation } => {
                let mut err = from_rejection(rejection);
                if let Some(c) = conversation {
                    err = err.param("conversationId", &c.id).param("state", crate::map::enum_str(&c.state()));
                }
                err
            }
            EngineError::IdempotencyMismatch => {
                GcError::bad_request("this request id was already used with another body")
                    .param("nativeCode", "idempotency_key_reused")
            }
            EngineError::Unavailable => GcError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "service.unavailable",
                "the engine is not accepting writes",
            ),
            EngineError::Auth { error, description } => GcError::bad_request(description).param("nativeCode", error),
            e @ (EngineError::Store(_) | EngineError::Decode(_)) => GcError::internal(e),
        }
    }

    pub fn context(mut self, request_id: Option<&str>) -> Self {
        if self.context_id.is_none() {
            self.context_id = request_id.map(String::from);
        }
        self
    }

    pub fn body(&self) -> Value {
        let mut with_params = self.message.clone();
        for (k, v) in &self.params {
            with_params = with_params.replace(&format!("{{{k}}}"), v.as_str().unwrap_or_default());
        }
        json!({
            "message": self.message,
            "messageWithParams": with_params,
            "code": self.code,
            "status": self.status.as_u16(),
            "messageParams": self.params,
            "contextId": self.context_id,
            "details": self.details,
            "errors": [],
        })
    }
}

fn from_rejection(r: Rejection) -> GcError {
    let native = r.code();
    let err = match r {
        Rejection::NotFound { what, id } => GcError::not_found(format!("{what} {id} does not exist")),
        Rejection::Forbidden { detail } => GcError::new(StatusCode::FORBIDDEN, "not.authorized", detail),
        Rejection::InvalidTransition { detail, participant_id } => {
            let e = GcError::conflict(detail);
            match participant_id {
                Some(p) => e.param("participantId", p),
                None => e,
            }
        }
        Rejection::Conflict { detail, .. } => GcError::conflict(detail),
        Rejection::VersionMismatch { current } => {
            GcError::conflict(format!("the resource changed: it is at version {current}"))
                .param("currentVersion", current)
        }
        Rejection::AmendmentWindowClosed { amendable_until } => {
            GcError::conflict(format!("the amendment window closed at {amendable_until}"))
                .param("amendableUntil", amendable_until)
        }
        Rejection::CodeNotAllowed { refusals } => {
            let mut e = GcError::bad_request(
                refusals
                    .iter()
                    .map(|r| format!("wrap-up code {} is not allowed for participant {}", r.code_id, r.participant_id))
                    .collect::<Vec<_>>()
                    .join("; "),
            );
            if let Some(f) = refusals.first() {
                let allowed: Vec<&str> = f.allowed_codes.iter().map(|c| c.id.as_str()).collect();
                e = e.param("participantId", &f.participant_id).param("allowedCodes", allowed.join(","));
            }
            e.details = refusals
                .iter()
                .map(|r| json!({"errorCode": "wrapup.code.not.allowed", "fieldName": "wrapup.code", "entityId": r.code_id}))
                .collect();
            e
        }
        Rejection::Invalid { detail, violations } => {
            let mut e = GcError::bad_request(detail);
            e.details = violations
                .iter()
                .map(|v| json!({"errorCode": "invalid.value", "fieldName": crate::map::vendor_field(&v.pointer), "errorMessage": v.message}))
                .collect();
            e
        }
    };
    err.param("nativeCode", native)
}

impl IntoResponse for GcError {
    fn into_response(self) -> Response {
        let mut resp = (self.status, self.body().to_string()).into_response();
        resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        resp
    }
}
