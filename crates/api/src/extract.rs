//! Request extraction with problem+json errors: bodies (size-limited, JSON with a pointer to the bad
//! field), `If-Match`, `Idempotency-Key`, and query strings.

use crate::auth::{Caller, hex};
use crate::problem::ApiError;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use bytes::Bytes;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};
use switchboard_engine::IdempotencyKey;

/// The raw request body; over the size limit it is a 413 problem.
pub struct RawBody(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for RawBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        Bytes::from_request(req, state).await.map(RawBody).map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "body_too_large", "the request body is too large")
            } else {
                ApiError::bad_request(format!("the request body could not be read: {e}"))
            }
        })
    }
}

fn pointer_of(path: &serde_path_to_error::Path) -> String {
    let s = path.to_string();
    if s == "." { String::new() } else { format!("/{}", s.replace('.', "/")) }
}

/// Parses a JSON body; an empty body means `T::default()`.
pub fn json_or_default<T: DeserializeOwned + Default>(body: &[u8]) -> Result<T, ApiError> {
    if body.iter().all(|b| b.is_ascii_whitespace()) {
        return Ok(T::default());
    }
    json(body)
}

/// Parses a required JSON body: 400 for malformed JSON, wrong types or unknown fields, with a pointer.
pub fn json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    if body.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(ApiError::bad_request("a JSON request body is required"));
    }
    // Syntax first: serde_json reports some type errors (e.g. a number for an enum) as syntax errors.
    let value: serde_json::Value = serde_json::from_slice(body).map_err(|e| {
        ApiError::new(StatusCode::BAD_REQUEST, "malformed_json", format!("the body is not valid JSON: {e}"))
    })?;
    serde_path_to_error::deserialize(value).map_err(|e| {
        let pointer = pointer_of(e.path());
        let inner = e.into_inner();
        let at = if pointer.is_empty() { String::new() } else { format!("{pointer}: ") };
        ApiError::new(StatusCode::BAD_REQUEST, "invalid_body", format!("{at}{inner}"))
            .with("violations", serde_json::json!([{ "pointer": pointer, "message": inner.to_string() }]))
    })
}

/// Headers every write may carry.
pub struct WriteMeta {
    pub if_match: Option<u64>,
    pub idempotency_key: Option<String>,
    pub method: String,
    pub path: String,
}

impl<S: Send + Sync> FromRequestParts<S> for WriteMeta {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let if_match = match parts.headers.get(axum::http::header::IF_MATCH) {
            None => None,
            Some(v) => {
                let s = v.to_str().unwrap_or_default().trim();
                let s = s.strip_prefix("W/").unwrap_or(s).trim_matches('"');
                Some(s.parse::<u64>().map_err(|_| {
                    ApiError::bad_request(format!("If-Match must be a version such as \"3\", not {s:?}"))
                })?)
            }
        };
        let idempotency_key = match parts.headers.get("idempotency-key") {
            None => None,
            Some(v) => {
                let s = v.to_str().map_err(|_| ApiError::bad_request("Idempotency-Key must be text"))?.trim();
                if s.is_empty() || s.len() > 255 {
                    return Err(ApiError::bad_request("Idempotency-Key must be 1 to 255 characters"));
                }
                Some(s.to_string())
            }
        };
        Ok(WriteMeta {
            if_match,
            idempotency_key,
            method: parts.method.to_string(),
            path: parts.uri.path().to_string(),
        })
    }
}

impl WriteMeta {
    /// `If-Match` or a body `version`; both and different is a 400.
    pub fn expected_version(&self, body_version: Option<u64>) -> Result<Option<u64>, ApiError> {
        match (self.if_match, body_version) {
            (Some(a), Some(b)) if a != b => Err(ApiError::bad_request(format!(
                "If-Match says version {a} but the body says {b}: give one, or the same"
            ))),
            (a, b) => Ok(a.or(b)),
        }
    }

    /// The key scoped to (org, actor, method, path), with the hash of the body as canonical JSON.
    pub fn idempotency(&self, caller: &Caller, body: &[u8]) -> Option<IdempotencyKey> {
        let key = self.idempotency_key.as_ref()?;
        let canonical = match serde_json::from_slice::<serde_json::Value>(body) {
            Ok(v) => v.to_string(),
            Err(_) => String::from_utf8_lossy(body).into_owned(),
        };
        let actor = &caller.actor;
        Some(IdempotencyKey {
            scope: format!("{:?}:{}|{}|{}|{key}", actor.kind, actor.id, self.method, self.path),
            request_hash: hex(&Sha256::digest(canonical.as_bytes())),
        })
    }
}

/// A query string parsed into `T`, with a problem on bad input.
pub struct Q<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Q<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| Q(q.0))
            .map_err(|e| ApiError::bad_request(format!("bad query string: {}", e.body_text())))
    }
}
