//! Rewrites the native middleware's problem+json answers (401, 413, 429) on `/api/v2` into the vendor's
//! ErrorBody, so an SDK sees one error shape whichever layer refused the request.

use crate::GcError;
use axum::body::Body;
use axum::extract::Request;
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

pub async fn vendor_errors(req: Request, next: Next) -> Response {
    if !req.uri().path().starts_with("/api/v2/") {
        return next.run(req).await;
    }
    let resp = next.run(req).await;
    let is_problem =
        resp.headers().get(header::CONTENT_TYPE).is_some_and(|v| v.as_bytes().starts_with(b"application/problem+json"));
    if !is_problem {
        return resp;
    }
    let (mut parts, body) = resp.into_parts();
    let bytes = axum::body::to_bytes(body, 64 * 1024).await.unwrap_or_default();
    let problem: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    let text = |k: &str| problem.get(k).and_then(Value::as_str).unwrap_or_default().to_string();
    let context = parts.headers.get("x-request-id").and_then(|v| v.to_str().ok()).map(String::from);
    let err = GcError::from_native(parts.status.as_u16(), &text("code"), &text("detail")).context(context.as_deref());
    let vendor = err.into_response();
    parts.status = vendor.status();
    parts.headers.insert(header::CONTENT_TYPE, header::HeaderValue::from_static("application/json"));
    parts.headers.remove(header::CONTENT_LENGTH);
    let (_, body) = vendor.into_parts();
    Response::from_parts(parts, Body::new(body))
}
