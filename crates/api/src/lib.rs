//! The native HTTP API (axum): routes, authentication, the one problem+json mapping, the OpenAPI document.
//! It never touches a store: every write is one engine request, every read an engine read.

pub mod auth;
pub mod client_address;
pub mod extract;
pub mod limits;
pub mod middleware;
pub mod openapi;
pub mod problem;
pub mod routes;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::Response;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use switchboard_engine::Engine;

pub use auth::TokenSigner;

#[derive(Clone, Debug)]
pub struct ApiConfig {
    pub bootstrap_client_id: Option<String>,
    pub token_ttl_secs: i64,
    pub password_grant: bool,
    /// Refresh-token families expire after this long without a refresh.
    pub refresh_ttl_secs: i64,
    /// Authorization codes expire this long after the login page issued them.
    pub code_ttl_secs: i64,
    /// A refresh-token family ends this long after the sign-in, however often it is refreshed.
    pub session_max_secs: i64,
    pub max_body_bytes: usize,
    /// Guest sessions per client address per minute.
    pub guest_sessions_per_minute: u32,
    pub rate: RateBudgets,
    /// Reverse proxies whose `X-Forwarded-For` names the client (rate limits key on that address).
    pub trusted_proxies: Vec<client_address::Cidr>,
}

/// Requests per minute (0 = unlimited).
#[derive(Clone, Debug)]
pub struct RateBudgets {
    /// Per caller identity (org, kind, id) holding a valid token.
    pub per_identity: u32,
    /// Per client address, for requests without a valid token.
    pub per_address: u32,
    /// Per client address on `/oauth/*` (password guessing).
    pub oauth_per_address: u32,
    /// Sign-in attempts per username, from any address.
    pub per_account: u32,
}

impl Default for RateBudgets {
    fn default() -> Self {
        RateBudgets { per_identity: 6_000, per_address: 600, oauth_per_address: 60, per_account: 20 }
    }
}

impl Default for ApiConfig {
    fn default() -> Self {
        ApiConfig {
            bootstrap_client_id: None,
            token_ttl_secs: 3600,
            password_grant: true,
            refresh_ttl_secs: 30 * 24 * 3600,
            code_ttl_secs: 60,
            session_max_secs: 90 * 24 * 3600,
            max_body_bytes: 256 * 1024,
            guest_sessions_per_minute: 30,
            rate: RateBudgets::default(),
            trusted_proxies: Vec::new(),
        }
    }
}

#[derive(Default)]
pub struct Metrics {
    pub by_class: [AtomicU64; 5],
    pub micros_total: AtomicU64,
}

#[derive(Clone)]
pub struct AppState {
    pub engine: Arc<Engine>,
    pub signer: TokenSigner,
    pub config: Arc<ApiConfig>,
    pub metrics: Arc<Metrics>,
    pub guest_limiter: Arc<routes::guest::GuestLimiter>,
    pub limits: Arc<middleware::Limits>,
}

impl AppState {
    pub fn new(engine: Arc<Engine>, signer: TokenSigner, config: ApiConfig) -> Self {
        AppState {
            engine,
            signer,
            guest_limiter: Arc::new(routes::guest::GuestLimiter::new(config.guest_sessions_per_minute)),
            limits: Arc::new(middleware::Limits::new(&config.rate)),
            config: Arc::new(config),
            metrics: Arc::new(Metrics::default()),
        }
    }
}

pub fn router(state: AppState) -> Router {
    router_with(state, |r| r)
}

/// The native API plus `extra` routes (another API's adapter), all under the same request-id, rate-limit
/// and body-limit middleware.
pub fn router_with(state: AppState, extra: impl FnOnce(Router<AppState>) -> Router<AppState>) -> Router {
    let limit = state.config.max_body_bytes;
    extra(Router::new())
        .merge(routes::ops::routes())
        .merge(routes::token::routes())
        .merge(routes::authorize::routes())
        .merge(routes::audit::routes())
        .merge(routes::conversations::routes())
        .merge(routes::events::routes())
        .merge(routes::analytics::routes())
        .merge(routes::guest::routes())
        .merge(routes::deployments::routes())
        .merge(routes::config::routes())
        .merge(routes::users::routes())
        .merge(routes::webhooks::routes())
        .merge(routes::admin::routes())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(limit))
        .layer(axum::middleware::from_fn_with_state(state.clone(), middleware::rate_limit))
        .layer(axum::middleware::from_fn(middleware::request_id))
        .layer(axum::middleware::from_fn_with_state(state.clone(), count))
        .with_state(state)
}

async fn not_found() -> problem::ApiError {
    problem::ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such endpoint; see /v1/openapi.json")
}

async fn method_not_allowed() -> problem::ApiError {
    problem::ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", "this path does not take this method")
}

async fn count(State(app): State<AppState>, req: Request, next: Next) -> Response {
    let start = std::time::Instant::now();
    let resp = next.run(req).await;
    let class = (resp.status().as_u16() / 100).clamp(1, 5) as usize - 1;
    app.metrics.by_class[class].fetch_add(1, Ordering::Relaxed);
    app.metrics.micros_total.fetch_add(start.elapsed().as_micros() as u64, Ordering::Relaxed);
    resp
}

/// Serves `app` (from [`router`] or [`router_with`]) on an already-bound listener until `shutdown` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, app).with_graceful_shutdown(shutdown).await
}
