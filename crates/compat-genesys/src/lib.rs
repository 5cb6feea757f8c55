//! The Genesys Cloud–compatible facade: `/api/v2` operations translated into engine commands and reads.
//! It decides nothing: rules, visibility and validation stay in core and the engine; this crate only maps
//! vendor shapes, names and errors to native ones and back (docs/compat/genesys.md).

mod dispatch;
mod error;
mod listing;
pub mod map;
mod notify;
mod ops;
pub mod ops_generated;
mod render;
pub mod request;
mod vendor_errors;
mod webmessaging;

use axum::Router;
use axum::http::request::Parts;
use std::sync::Arc;
use switchboard_core::Actor;
use switchboard_engine::Engine;

pub use error::GcError;
pub use ops::implemented;
pub use ops_generated::{OPS, Op};
pub use vendor_errors::vendor_errors;

/// One operation of the vendor's API as the spec names it.
#[derive(Debug)]
pub struct OpSpec {
    pub op: Op,
    /// The Python SDK's method name (the vendor's operation name in snake case).
    pub name: &'static str,
    /// The JS SDK's method name; `None` for operations the JS SDK does not have yet.
    pub js: Option<&'static str>,
    pub method: &'static str,
    pub path: &'static str,
    /// Query params typed `list[...]`: sent as comma lists, encoded or not.
    pub list_params: &'static [&'static str],
    /// The permissions the vendor requires (named in a 403).
    pub permissions: &'static [&'static str],
}

impl Op {
    pub fn spec(self) -> &'static OpSpec {
        &OPS[self as usize]
    }
}

/// Who makes a request, as the native API's authentication resolved it.
#[derive(Clone, Debug)]
pub struct Identity {
    pub org_id: String,
    pub actor: Actor,
    pub request_id: Option<String>,
    /// The ids a revocation names (the token's, its session's): a notification channel dies with its token.
    pub revocation_ids: Vec<String>,
}

/// A refused authentication, in the native API's terms (mapped to the vendor's codes here).
#[derive(Clone, Debug)]
pub struct Refusal {
    pub status: u16,
    pub native_code: String,
    pub message: String,
}

/// Resolves a request's bearer token; the server wires the native API's authentication in.
pub trait Identify: Send + Sync + 'static {
    fn identify(&self, parts: &mut Parts) -> Result<Identity, Refusal>;
    /// The request's id (`X-Request-Id`), for `contextId` when the caller could not be identified.
    fn request_id(&self, parts: &Parts) -> Option<String>;
    /// Spends one guest session of the client address's budget (a web messaging socket is a guest session).
    fn admit_guest(&self, parts: &Parts) -> Result<(), Refusal>;
}

#[derive(Clone)]
pub struct Facade {
    pub(crate) engine: Arc<Engine>,
    pub(crate) identify: Arc<dyn Identify>,
    pub(crate) channels: Arc<notify::Channels>,
    pub(crate) heartbeat: std::time::Duration,
    pub(crate) guests: Arc<webmessaging::GuestSessions>,
}

/// The paths the facade serves, for mounting beside the native API under its middleware.
pub const PATHS: [&str; 3] = ["/api/v2/{*rest}", "/streaming/channels/{id}", "/v1"];

/// The facade's routes; `heartbeat` is the period of the notification sockets' heartbeats.
pub fn router(engine: Arc<Engine>, identify: Arc<dyn Identify>, heartbeat: std::time::Duration) -> Router {
    let facade = Facade { engine, identify, channels: Arc::default(), heartbeat, guests: Arc::default() };
    Router::new()
        .route(PATHS[0], axum::routing::any(ops::handle))
        .route(PATHS[1], axum::routing::get(notify::socket::upgrade))
        // The guest web messaging socket: `/v1?deploymentId=` (the vendor's path on its webmessaging host).
        .route(PATHS[2], axum::routing::get(webmessaging::upgrade))
        .with_state(facade)
}
