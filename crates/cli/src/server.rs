//! Wires a server: opens the store, keeps the token key and default org in the store's meta, starts the
//! engine, ensures the bootstrap admin client, optionally seeds the demo org, and serves HTTP.

use anyhow::Context;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use switchboard_api::{ApiConfig, AppState, RateBudgets, TokenSigner, auth};
use switchboard_engine::{Clock, ConfigCommand, Engine, EngineOptions, InProcessBus, ManualClock, SystemClock};
use switchboard_store::{CommitBatch, Store};
use switchboard_store_sqlite::SqliteStore;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

#[derive(Clone, Debug)]
pub struct ServeConfig {
    pub db: PathBuf,
    pub listen: SocketAddr,
    pub manual_clock: bool,
    pub demo: bool,
    pub admin_client_id: String,
    /// `None`: keep the existing client, or create one with a random secret printed once.
    pub admin_client_secret: Option<String>,
    pub token_ttl_secs: i64,
    pub refresh_ttl_secs: i64,
    /// A refresh-token family's absolute lifetime.
    pub session_max_secs: i64,
    /// Authorization codes live this long.
    pub code_ttl_secs: i64,
    pub password_grant: bool,
    /// Frames kept for slow subscribers before they are told to resync.
    pub bus_capacity: usize,
    /// Let webhooks target loopback, private and link-local addresses (refused by default: SSRF).
    pub allow_private_webhooks: bool,
    /// Guest (web messaging) sessions one address may open per minute.
    pub guest_sessions_per_minute: u32,
    pub rate: RateBudgets,
    pub trusted_proxies: Vec<switchboard_api::client_address::Cidr>,
    /// Seconds between heartbeats on Genesys notification sockets.
    pub genesys_heartbeat_secs: u64,
}

impl ServeConfig {
    pub fn new(db: PathBuf) -> Self {
        ServeConfig {
            db,
            listen: "127.0.0.1:8080".parse().expect("a valid address"),
            manual_clock: false,
            demo: false,
            admin_client_id: "admin".into(),
            admin_client_secret: None,
            token_ttl_secs: 3600,
            refresh_ttl_secs: 30 * 24 * 3600,
            session_max_secs: 90 * 24 * 3600,
            code_ttl_secs: 60,
            password_grant: true,
            bus_capacity: 4096,
            allow_private_webhooks: false,
            guest_sessions_per_minute: 30,
            rate: RateBudgets::default(),
            trusted_proxies: Vec::new(),
            genesys_heartbeat_secs: 30,
        }
    }
}

/// A running server: its address, its engine, and how to stop it.
pub struct RunningServer {
    pub addr: SocketAddr,
    pub engine: Arc<Engine>,
    pub default_org: String,
    /// Lines to show the person who started it (credentials created now, demo logins).
    pub notes: Vec<String>,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

impl RunningServer {
    /// Stops accepting, finishes in-flight requests, stops the writer and releases the database.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.task.take() {
            t.await.context("server task")??;
        }
        self.engine.shutdown().await;
        Ok(())
    }

    /// Serves until the task ends (Ctrl-C handled by the caller through `stop`).
    pub async fn wait(&mut self) -> anyhow::Result<()> {
        if let Some(t) = self.task.as_mut() {
            (&mut *t).await.context("server task")??;
        }
        Ok(())
    }
}

const TOKEN_KEY_META: &str = "token_key";
const DEFAULT_ORG_META: &str = "default_org";

fn meta_or_init(store: &dyn Store, key: &str, make: impl FnOnce() -> String) -> anyhow::Result<String> {
    if let Some(v) = store.get_meta(key)? {
        return Ok(v);
    }
    let v = make();
    store.commit(&CommitBatch { meta: vec![(key.to_string(), v.clone())], ..Default::default() })?;
    Ok(v)
}

pub async fn start(config: ServeConfig, listener: Option<TcpListener>) -> anyhow::Result<RunningServer> {
    let db = config.db.clone();
    let store: Arc<dyn Store> = Arc::new(
        tokio::task::spawn_blocking(move || SqliteStore::open(&db))
            .await?
            .with_context(|| format!("opening the database {}", config.db.display()))?,
    );
    let token_key = meta_or_init(store.as_ref(), TOKEN_KEY_META, || {
        format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple())
    })?;
    let default_org = meta_or_init(store.as_ref(), DEFAULT_ORG_META, || uuid::Uuid::now_v7().to_string())?;
    let clock: Arc<dyn Clock> = if config.manual_clock {
        Arc::new(ManualClock::new(switchboard_core::Timestamp(switchboard_engine::wall_clock_ms())))
    } else {
        Arc::new(SystemClock)
    };
    let bus = Arc::new(InProcessBus::new(config.bus_capacity));
    let options = EngineOptions { bus, allow_private_webhooks: config.allow_private_webhooks };
    let engine = Arc::new(Engine::start(store, clock, options).context("starting the engine")?);
    let mut notes = Vec::new();
    if engine.org(&default_org).is_none() {
        engine.configure_as_system(&default_org, ConfigCommand::CreateOrg { name: "Default".into() }).await?;
    }
    let admin_secret = match (&config.admin_client_secret, config.demo) {
        (Some(s), _) => Some(s.clone()),
        (None, true) => Some(crate::demo::DEMO_ADMIN_SECRET.to_string()),
        (None, false) => None,
    };
    if engine.find_client(&config.admin_client_id).is_none() {
        let secret = admin_secret.clone().unwrap_or_else(auth::new_secret);
        if config.admin_client_secret.is_none() {
            notes.push(format!(
                "bootstrap admin client created: client_id={} client_secret={secret} (shown once)",
                config.admin_client_id
            ));
        }
        let cmd = ConfigCommand::CreateClient {
            redirect_uris: vec![],
            id: config.admin_client_id.clone(),
            name: "Bootstrap admin".into(),
            scopes: vec!["admin".into()],
            secret_hash: auth::hash_secret_async(secret).await.map_err(|e| anyhow::anyhow!("{}", e.detail))?,
        };
        engine.configure_as_system(&default_org, cmd).await?;
    }
    if config.demo {
        notes.extend(crate::demo::seed_if_empty(&engine, &default_org).await?);
    }
    let api = ApiConfig {
        bootstrap_client_id: Some(config.admin_client_id.clone()),
        token_ttl_secs: config.token_ttl_secs,
        refresh_ttl_secs: config.refresh_ttl_secs,
        session_max_secs: config.session_max_secs,
        code_ttl_secs: config.code_ttl_secs,
        password_grant: config.password_grant,
        guest_sessions_per_minute: config.guest_sessions_per_minute,
        rate: config.rate.clone(),
        trusted_proxies: config.trusted_proxies.clone(),
        ..ApiConfig::default()
    };
    let state = AppState::new(engine.clone(), TokenSigner::new(token_key.into_bytes()), api);
    let listener = match listener {
        Some(l) => l,
        None => TcpListener::bind(config.listen).await.with_context(|| format!("binding {}", config.listen))?,
    };
    let addr = listener.local_addr()?;
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(switchboard_api::serve(
        listener,
        with_genesys_facade(state, config.genesys_heartbeat_secs),
        async move {
            let _ = rx.await;
        },
    ));
    Ok(RunningServer { addr, engine, default_org, notes, shutdown: Some(tx), task: Some(task) })
}

/// The native API with the Genesys Cloud–compatible facade mounted at `/api/v2`, both under the native
/// middleware; problem+json answers on `/api/v2` (auth, limits) are rewritten into the vendor's ErrorBody.
pub fn with_genesys_facade(state: AppState, heartbeat_secs: u64) -> axum::Router {
    let heartbeat = std::time::Duration::from_secs(heartbeat_secs);
    let facade =
        switchboard_compat_genesys::router(state.engine.clone(), Arc::new(NativeIdentity(state.clone())), heartbeat);
    switchboard_api::router_with(state, |r| {
        switchboard_compat_genesys::PATHS.iter().fold(r, |r, path| r.route_service(path, facade.clone()))
    })
    .layer(axum::middleware::from_fn(switchboard_compat_genesys::vendor_errors))
}

/// The facade's callers are resolved exactly as the native API's are.
struct NativeIdentity(AppState);

impl switchboard_compat_genesys::Identify for NativeIdentity {
    fn identify(
        &self,
        parts: &mut axum::http::request::Parts,
    ) -> Result<switchboard_compat_genesys::Identity, switchboard_compat_genesys::Refusal> {
        let revocation_ids = match parts.extensions.get::<auth::Verified>() {
            Some(v) => std::iter::once(v.0.token_id.clone()).chain(v.0.session_id.clone()).collect(),
            None => Vec::new(),
        };
        match auth::Caller::resolve(parts, &self.0) {
            Ok(c) => Ok(switchboard_compat_genesys::Identity {
                org_id: c.org_id,
                actor: c.actor,
                request_id: c.request_id,
                revocation_ids,
            }),
            Err(e) => Err(switchboard_compat_genesys::Refusal {
                status: e.status.as_u16(),
                native_code: e.code.to_string(),
                message: e.detail,
            }),
        }
    }
    fn request_id(&self, parts: &axum::http::request::Parts) -> Option<String> {
        parts.extensions.get::<auth::RequestId>().map(|r| r.0.clone())
    }
    fn admit_guest(&self, parts: &axum::http::request::Parts) -> Result<(), switchboard_compat_genesys::Refusal> {
        let Some(address) = parts.extensions.get::<switchboard_api::client_address::ClientAddress>() else {
            return Ok(());
        };
        self.0.guest_limiter.take(address.0).map(|_| ()).map_err(|spent| switchboard_compat_genesys::Refusal {
            status: 429,
            native_code: "rate_limited".into(),
            message: format!("too many guest sessions from this address; retry in {} s", spent.reset_secs),
        })
    }
}
