//! `Engine`: the async handle the adapters use. Writes go to the writer thread; reads go to the store
//! (committed state only) or to the view the writer publishes after each commit.

use crate::bus::{EventBus, Frame, Subscription};
use crate::clock::Clock;
use crate::error::EngineError;
use crate::orgs::OrgConfig;
use crate::requests::{
    Attribution, ClockOutcome, ConfigCommand, ConfigOutcome, ConfigRequest, ConversationOutcome, ConversationRequest,
};
use crate::sessions::{AuthOutcome, AuthRequest};
use crate::state::State;
use crate::view::View;
use crate::worker::{self, Msg};
use serde_json::Value;
use std::sync::mpsc::Sender;
use std::sync::{Arc, Mutex, RwLock};
use switchboard_core::config::{Client, User};
use switchboard_core::{Actor, Conversation, Load, Message, Timestamp};
use switchboard_store::{ConversationFilter, DeliveryRow, Store};
use tokio::sync::{Semaphore, oneshot};

/// How the engine is wired: the event bus, and whether webhooks may target private addresses.
pub struct EngineOptions {
    pub bus: Arc<dyn EventBus>,
    pub allow_private_webhooks: bool,
}

/// Requests admitted at once; callers beyond it wait (backpressure instead of unbounded queues).
const MAX_IN_FLIGHT: usize = 16_384;

pub struct Engine {
    bus: Arc<dyn EventBus>,
    /// Wakes the webhook worker when engine time moves (a manual clock has no other signal).
    wake: Arc<tokio::sync::Notify>,
    allow_private_webhooks: bool,
    tx: Sender<Msg>,
    view: Arc<RwLock<View>>,
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    permits: Arc<Semaphore>,
    thread: Mutex<Option<std::thread::JoinHandle<()>>>,
}

/// A page of conversations, newest first, with the cursor of the next page.
pub struct ConversationList {
    pub conversations: Vec<Conversation>,
    pub next_cursor: Option<i64>,
}

impl Engine {
    /// Loads state from the store and starts the writer thread. With a manual clock, engine time resumes
    /// where it stood when the server stopped.
    pub fn start(store: Arc<dyn Store>, clock: Arc<dyn Clock>, options: EngineOptions) -> Result<Engine, EngineError> {
        let EngineOptions { bus, allow_private_webhooks } = options;
        if let Some(manual) = clock.as_manual()
            && let Some(saved) = store.get_meta(worker::MANUAL_CLOCK_META)?.and_then(|v| v.parse::<i64>().ok())
            && saved > manual.now().0
        {
            manual.set(Timestamp(saved));
        }
        let mut state = State::boot(store.clone(), clock.clone())?;
        let view = Arc::new(RwLock::new(View::default()));
        view.write().expect("view lock").apply(state.publish_all());
        let (tx, rx) = std::sync::mpsc::channel();
        let (outbox_tx, outbox_rx) = tokio::sync::mpsc::unbounded_channel();
        let wake = Arc::new(tokio::sync::Notify::new());
        tokio::spawn(crate::webhooks::run_worker(crate::webhooks::WorkerDeps {
            store: store.clone(),
            clock: clock.clone(),
            view: view.clone(),
            writer: tx.clone(),
            committed: outbox_rx,
            wake: wake.clone(),
            allow_private: allow_private_webhooks,
        }));
        let thread_view = view.clone();
        let thread = std::thread::Builder::new()
            .name("switchboard-writer".into())
            .spawn({
                let bus = bus.clone();
                move || worker::run(state, rx, thread_view, bus, outbox_tx)
            })
            .map_err(|e| EngineError::Decode(format!("could not start the writer thread: {e}")))?;
        Ok(Engine {
            bus,
            wake,
            allow_private_webhooks,
            tx,
            view,
            store,
            clock,
            permits: Arc::new(Semaphore::new(MAX_IN_FLIGHT)),
            thread: Mutex::new(Some(thread)),
        })
    }

    async fn call<T>(
        &self,
        make: impl FnOnce(oneshot::Sender<Result<T, EngineError>>) -> Msg,
    ) -> Result<T, EngineError> {
        let _permit = self.permits.acquire().await.map_err(|_| EngineError::Unavailable)?;
        let (tx, rx) = oneshot::channel();
        self.tx.send(make(tx)).map_err(|_| EngineError::Unavailable)?;
        rx.await.map_err(|_| EngineError::Unavailable)?
    }

    pub async fn execute(&self, req: ConversationRequest) -> Result<ConversationOutcome, EngineError> {
        self.call(|tx| Msg::Conversation(Box::new(req), tx)).await
    }

    pub async fn configure(&self, req: ConfigRequest) -> Result<ConfigOutcome, EngineError> {
        self.call(|tx| Msg::Config(Box::new(req), tx)).await
    }

    /// A configuration command by the system itself (bootstrap, demo seeding).
    pub async fn configure_as_system(
        &self,
        org_id: &str,
        command: ConfigCommand,
    ) -> Result<ConfigOutcome, EngineError> {
        self.configure(ConfigRequest {
            org_id: org_id.to_string(),
            actor: Actor::system(),
            command,
            expected_version: None,
            idempotency: None,
            request_id: None,
        })
        .await
    }

    /// A configuration command on behalf of a caller that is not the command's org admin (the operator
    /// creating an org), attributed to it in the audit trail.
    pub async fn configure_by(&self, by: &Attribution, command: ConfigCommand) -> Result<ConfigOutcome, EngineError> {
        self.configure(ConfigRequest {
            org_id: by.org_id.clone(),
            actor: by.actor.clone(),
            command,
            expected_version: None,
            idempotency: None,
            request_id: by.request_id.clone(),
        })
        .await
    }

    /// An OAuth state change (session, code, revocation), durable before it answers.
    pub async fn authorize(&self, req: AuthRequest) -> Result<AuthOutcome, EngineError> {
        self.call(|tx| Msg::Auth(Box::new(req), tx)).await
    }

    /// Whether a token id or session id is revoked (as of the last durable batch).
    pub fn is_revoked(&self, id: &str) -> bool {
        self.any_revoked(&[id])
    }

    /// Whether any of these ids is revoked, under one read of the view (a token id and its session id on
    /// every request).
    pub fn any_revoked(&self, ids: &[&str]) -> bool {
        let view = self.view.read().expect("view lock");
        if view.revoked.is_empty() {
            return false;
        }
        let now = crate::wall_clock_ms();
        ids.iter().any(|id| view.revoked.get(*id).is_some_and(|until| *until > now))
    }

    /// The audit trail of an org.
    pub async fn audit(
        &self,
        org_id: &str,
        q: switchboard_store::AuditQuery,
    ) -> Result<Vec<(u64, switchboard_store::AuditRow)>, EngineError> {
        let org_id = org_id.to_string();
        self.blocking(move |s| Ok(s.audit(&org_id, &q)?)).await
    }

    /// Moves a manual clock and returns once every due timer (and what it caused) has committed.
    pub async fn advance_clock(&self, ms: i64, by: Attribution) -> Result<ClockOutcome, EngineError> {
        let out = self.call(|tx| Msg::AdvanceClock(ms, by, tx)).await;
        self.wake.notify_one();
        out
    }

    /// Queues a webhook delivery again.
    pub async fn redeliver(&self, by: Attribution, delivery_id: &str) -> Result<DeliveryRow, EngineError> {
        let delivery_id = delivery_id.to_string();
        self.call(|reply| Msg::Redeliver { by, delivery_id, reply }).await
    }

    /// One webhook's deliveries after `after` (seq), oldest first.
    pub async fn deliveries(
        &self,
        org_id: &str,
        webhook_id: &str,
        after: u64,
        limit: usize,
    ) -> Result<Vec<DeliveryRow>, EngineError> {
        let (org_id, webhook_id) = (org_id.to_string(), webhook_id.to_string());
        self.blocking(move |s| Ok(s.deliveries(&org_id, &webhook_id, after, limit)?)).await
    }

    pub fn allow_private_webhooks(&self) -> bool {
        self.allow_private_webhooks
    }

    /// One durable insert + update through the writer (the store ceiling the benchmark compares against).
    pub async fn ceiling_probe(&self, n: u64) -> Result<(), EngineError> {
        self.call(|tx| Msg::CeilingProbe(n, tx)).await
    }

    /// Publishes an ephemeral frame (typing): not logged, not versioned, only for live subscribers.
    pub fn publish_ephemeral(&self, frame: Frame) {
        self.bus.publish(vec![Arc::new(Frame { ephemeral: true, seq: 0, ..frame })]);
    }

    /// Live frames from now on, in commit order (replay older ones from `events_after`).
    pub fn subscribe(&self) -> Box<dyn Subscription> {
        self.bus.subscribe()
    }

    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    pub fn is_manual_clock(&self) -> bool {
        self.clock.as_manual().is_some()
    }

    pub fn org(&self, org_id: &str) -> Option<Arc<OrgConfig>> {
        self.view.read().expect("view lock").orgs.get(org_id).cloned()
    }

    pub fn orgs(&self) -> Vec<Arc<OrgConfig>> {
        self.view.read().expect("view lock").orgs.values().cloned().collect()
    }

    pub fn load_of(&self, user_id: &str) -> Load {
        self.view.read().expect("view lock").loads.get(user_id).copied().unwrap_or_default()
    }

    pub fn find_user_by_username(&self, username: &str) -> Option<(String, User)> {
        let view = self.view.read().expect("view lock");
        view.orgs
            .iter()
            .find_map(|(org, c)| c.users.values().find(|u| u.username == username).map(|u| (org.clone(), u.clone())))
    }

    pub fn find_client(&self, client_id: &str) -> Option<(String, Client)> {
        let view = self.view.read().expect("view lock");
        view.orgs.iter().find_map(|(org, c)| c.clients.get(client_id).map(|cl| (org.clone(), cl.clone())))
    }

    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&dyn Store) -> Result<T, EngineError> + Send + 'static,
    ) -> Result<T, EngineError> {
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || f(store.as_ref())).await.map_err(|_| EngineError::Unavailable)?
    }

    pub async fn conversation(&self, org_id: &str, id: &str) -> Result<Option<Conversation>, EngineError> {
        let (org_id, id) = (org_id.to_string(), id.to_string());
        self.blocking(move |s| match s.conversation(&org_id, &id)? {
            Some(row) => Ok(Some(serde_json::from_str(&row.doc)?)),
            None => Ok(None),
        })
        .await
    }

    pub async fn list_conversations(
        &self,
        org_id: &str,
        filter: ConversationFilter,
    ) -> Result<ConversationList, EngineError> {
        let org_id = org_id.to_string();
        let limit = filter.limit;
        self.blocking(move |s| {
            let page = s.list_conversations(&org_id, &filter)?;
            let next_cursor = if page.rows.len() >= limit { page.rows.last().map(|(pos, _)| *pos) } else { None };
            let conversations = page
                .rows
                .into_iter()
                .map(|(_, r)| serde_json::from_str(&r.doc))
                .collect::<Result<Vec<Conversation>, _>>()?;
            Ok(ConversationList { conversations, next_cursor })
        })
        .await
    }

    /// The stored event envelopes of one conversation after `after`.
    pub async fn conversation_events(
        &self,
        org_id: &str,
        id: &str,
        after: u64,
        limit: usize,
    ) -> Result<Vec<Value>, EngineError> {
        let (org_id, id) = (org_id.to_string(), id.to_string());
        self.blocking(move |s| {
            s.conversation_events(&org_id, &id, after, None, limit)?
                .into_iter()
                .map(|e| serde_json::from_str(&e.body).map_err(EngineError::from))
                .collect()
        })
        .await
    }

    /// The org's event log after `after`.
    pub async fn events_after(&self, org_id: &str, after: u64, limit: usize) -> Result<Vec<Value>, EngineError> {
        let org_id = org_id.to_string();
        self.blocking(move |s| {
            s.events_after(&org_id, after, limit)?
                .into_iter()
                .map(|e| serde_json::from_str(&e.body).map_err(EngineError::from))
                .collect()
        })
        .await
    }

    /// The transcript of a message conversation, oldest first.
    pub async fn messages(&self, org_id: &str, id: &str) -> Result<Vec<Message>, EngineError> {
        let (org_id, id) = (org_id.to_string(), id.to_string());
        self.blocking(move |s| {
            s.conversation_events(&org_id, &id, 0, Some("message.created"), 100_000)?
                .into_iter()
                .map(|e| {
                    let v: Value = serde_json::from_str(&e.body)?;
                    Ok(serde_json::from_value(v["data"]["message"].clone())?)
                })
                .collect()
        })
        .await
    }

    /// A details page: each row's document is the conversation's analytics details, derived from its
    /// snapshot (the snapshot is the one stored copy).
    pub async fn analytics_details(
        &self,
        org_id: &str,
        q: switchboard_store::DetailsQuery,
    ) -> Result<switchboard_store::DetailsPage, EngineError> {
        let org_id = org_id.to_string();
        self.blocking(move |s| {
            let mut page = s.analytics_details(&org_id, &q)?;
            for row in &mut page.rows {
                let conv: Conversation = serde_json::from_str(&row.2)?;
                row.2 = switchboard_core::analytics::details(&conv).to_string();
            }
            Ok(page)
        })
        .await
    }

    /// A details page as the conversations' snapshots, for adapters that render their own documents.
    pub async fn analytics_conversations(
        &self,
        org_id: &str,
        q: switchboard_store::DetailsQuery,
    ) -> Result<(Vec<Conversation>, u64), EngineError> {
        let org_id = org_id.to_string();
        self.blocking(move |s| {
            let page = s.analytics_details(&org_id, &q)?;
            let convs = page.rows.iter().map(|row| serde_json::from_str(&row.2)).collect::<Result<Vec<_>, _>>()?;
            Ok((convs, page.total_hits))
        })
        .await
    }

    pub async fn analytics_aggregate(
        &self,
        org_id: &str,
        q: switchboard_store::AggregateQuery,
    ) -> Result<Vec<switchboard_store::AggregateCell>, EngineError> {
        let org_id = org_id.to_string();
        self.blocking(move |s| Ok(s.analytics_aggregate(&org_id, &q)?)).await
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// Stops the writer after it has answered everything already sent.
    pub async fn shutdown(&self) {
        let _ = self.tx.send(Msg::Shutdown);
        let thread = self.thread.lock().expect("thread lock").take();
        if let Some(t) = thread {
            let _ = tokio::task::spawn_blocking(move || t.join()).await;
        }
    }
}
