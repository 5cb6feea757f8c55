//! Engine tests over the in-memory store: failed commits, concurrent writers, restarts and the manual clock.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use switchboard_core::command::CreateConversation;
use switchboard_core::config::{AcwSettings, QueueMember, Role};
use switchboard_core::{Actor, AcwPolicy, Command, MediaType, Timestamp};
use switchboard_engine::sessions::{AuthCode, AuthCommand, AuthOutcome, AuthRequest, Lifetimes, Session};
use switchboard_engine::{
    Attribution, ConfigCommand, ConfigOutcome, ConversationRequest, Engine, EngineError, ManualClock, QueueSpec,
    RoutingStatusRequest, UserSpec,
};
use switchboard_store::memory::MemoryStore;
use switchboard_store::{
    AuditQuery, AuditRow, CommitBatch, ConversationFilter, ConversationPage, EntityRow, IdempotencyRow,
};
use switchboard_store::{ConversationRow, Store, StoreError, StoreResult, StoredEvent, TimerRow};

/// The in-memory store with a switch that makes commits fail, like a full disk.
#[derive(Default)]
struct FlakyStore {
    inner: MemoryStore,
    fail: AtomicBool,
}

impl Store for FlakyStore {
    fn commit(&self, batch: &CommitBatch) -> StoreResult<()> {
        if self.fail.load(Ordering::SeqCst) {
            return Err(StoreError::Backend("disk full (injected)".into()));
        }
        self.inner.commit(batch)
    }
    fn last_seq(&self) -> StoreResult<u64> {
        self.inner.last_seq()
    }
    fn get_meta(&self, key: &str) -> StoreResult<Option<String>> {
        self.inner.get_meta(key)
    }
    fn load_entities(&self) -> StoreResult<Vec<EntityRow>> {
        self.inner.load_entities()
    }
    fn load_open_conversations(&self) -> StoreResult<Vec<ConversationRow>> {
        self.inner.load_open_conversations()
    }
    fn load_timers(&self) -> StoreResult<Vec<TimerRow>> {
        self.inner.load_timers()
    }
    fn audit(&self, org_id: &str, q: &AuditQuery) -> StoreResult<Vec<(u64, AuditRow)>> {
        self.inner.audit(org_id, q)
    }
    fn conversation(&self, org_id: &str, id: &str) -> StoreResult<Option<ConversationRow>> {
        self.inner.conversation(org_id, id)
    }
    fn list_conversations(&self, org_id: &str, filter: &ConversationFilter) -> StoreResult<ConversationPage> {
        self.inner.list_conversations(org_id, filter)
    }
    fn conversation_events(
        &self,
        o: &str,
        c: &str,
        after: u64,
        t: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<StoredEvent>> {
        self.inner.conversation_events(o, c, after, t, limit)
    }
    fn events_after(&self, org_id: &str, after: u64, limit: usize) -> StoreResult<Vec<StoredEvent>> {
        self.inner.events_after(org_id, after, limit)
    }
    fn idempotency(&self, org_id: &str, key: &str) -> StoreResult<Option<IdempotencyRow>> {
        self.inner.idempotency(org_id, key)
    }
    fn counts(&self) -> StoreResult<(u64, u64)> {
        self.inner.counts()
    }
    fn pending_deliveries(&self) -> StoreResult<Vec<switchboard_store::DeliveryRow>> {
        self.inner.pending_deliveries()
    }
    fn deliveries(
        &self,
        o: &str,
        w: &str,
        after: u64,
        limit: usize,
    ) -> StoreResult<Vec<switchboard_store::DeliveryRow>> {
        self.inner.deliveries(o, w, after, limit)
    }
    fn delivery(&self, o: &str, id: &str) -> StoreResult<Option<switchboard_store::DeliveryRow>> {
        self.inner.delivery(o, id)
    }
    fn analytics_details(
        &self,
        o: &str,
        q: &switchboard_store::DetailsQuery,
    ) -> StoreResult<switchboard_store::DetailsPage> {
        self.inner.analytics_details(o, q)
    }
    fn analytics_aggregate(
        &self,
        o: &str,
        q: &switchboard_store::AggregateQuery,
    ) -> StoreResult<Vec<switchboard_store::AggregateCell>> {
        self.inner.analytics_aggregate(o, q)
    }
}

const ORG: &str = "org-1";

async fn start(store: Arc<FlakyStore>) -> Engine {
    let clock = Arc::new(ManualClock::new(Timestamp(1_700_000_000_000)));
    Engine::start(
        store,
        clock,
        switchboard_engine::EngineOptions {
            bus: Arc::new(switchboard_engine::InProcessBus::new(1024)),
            allow_private_webhooks: false,
        },
    )
    .expect("engine starts")
}

/// An org with one mandatoryTimeout queue, one agent on queue, one code. Returns (queue, agent, code).
async fn seed(engine: &Engine) -> (String, String, String) {
    let cfg = |c| engine.configure_as_system(ORG, c);
    cfg(ConfigCommand::CreateOrg { name: "Test".into() }).await.unwrap();
    let ConfigOutcome::Code(code) =
        cfg(ConfigCommand::CreateCode { name: "Done".into(), description: None }).await.unwrap()
    else {
        panic!()
    };
    let spec = UserSpec { name: "A".into(), username: "a".into(), roles: vec![Role::Agent], ..Default::default() };
    let ConfigOutcome::User(user) = cfg(ConfigCommand::CreateUser(spec)).await.unwrap() else { panic!() };
    let q = QueueSpec {
        name: "Q".into(),
        acw: AcwSettings { policy: AcwPolicy::MandatoryTimeout, timeout_ms: Some(60_000), default_code_id: None },
        wrapup_codes: Some(vec![code.id.clone()]),
        members: Some(vec![QueueMember { user_id: user.id.clone(), joined: true }]),
        ..Default::default()
    };
    let ConfigOutcome::Queue(queue) = cfg(ConfigCommand::CreateQueue(q)).await.unwrap() else { panic!() };
    cfg(ConfigCommand::SetRoutingStatus { user_id: user.id.clone(), status: RoutingStatusRequest::OnQueue })
        .await
        .unwrap();
    (queue.id, user.id, code.id)
}

fn by_system() -> Attribution {
    Attribution { org_id: ORG.into(), actor: Actor::system(), request_id: None }
}

fn request(conversation_id: Option<String>, command: Command) -> ConversationRequest {
    ConversationRequest {
        org_id: ORG.into(),
        actor: Actor::system(),
        conversation_id,
        command,
        expected_version: None,
        idempotency: None,
        dry_run: false,
        request_id: Some("req-test".into()),
    }
}

fn create(queue: &str, media: MediaType) -> Command {
    Command::Create(CreateConversation { media_type: Some(media), queue_id: Some(queue.into()), ..Default::default() })
}

#[tokio::test]
async fn a_failed_commit_answers_unavailable_and_nothing_is_half_applied() {
    let store = Arc::new(FlakyStore::default());
    let engine = start(store.clone()).await;
    let (queue, _, _) = seed(&engine).await;
    let ok = engine.execute(request(None, create(&queue, MediaType::Message))).await.unwrap();
    let id = ok.conversation.id.clone();
    let version = ok.conversation.version;

    store.fail.store(true, Ordering::SeqCst);
    let patch = Command::UpdateAttributes { patch: serde_json::json!({"k": "v"}) };
    let err = engine.execute(request(Some(id.clone()), patch.clone())).await.unwrap_err();
    assert!(matches!(err, EngineError::Unavailable), "{err:?}");
    store.fail.store(false, Ordering::SeqCst);

    // The writer reloaded from the store: the failed command left no trace, in memory or stored.
    let after = engine.conversation(ORG, &id).await.unwrap().unwrap();
    assert_eq!(after.version, version);
    assert!(after.attributes.get("k").is_none());
    let retried = engine.execute(request(Some(id.clone()), patch)).await.unwrap();
    assert_eq!(retried.conversation.version, version + 1);
    assert_eq!(retried.conversation.attributes["k"], "v");
    engine.shutdown().await;
}

#[tokio::test]
async fn concurrent_commands_get_unique_increasing_seqs() {
    let store = Arc::new(FlakyStore::default());
    let engine = Arc::new(start(store.clone()).await);
    let (queue, _, _) = seed(&engine).await;
    let mut tasks = Vec::new();
    for _ in 0..64 {
        let (engine, queue) = (engine.clone(), queue.clone());
        tasks.push(tokio::spawn(async move {
            let c = engine.execute(request(None, create(&queue, MediaType::Message))).await.unwrap();
            let patch = Command::UpdateAttributes { patch: serde_json::json!({"n": 1}) };
            engine.execute(request(Some(c.conversation.id.clone()), patch)).await.unwrap();
            c.conversation.id.clone()
        }));
    }
    let mut ids = Vec::new();
    for t in tasks {
        ids.push(t.await.unwrap());
    }
    let events = engine.events_after(ORG, 0, 100_000).await.unwrap();
    let seqs: Vec<u64> = events.iter().map(|e| e["seq"].as_u64().unwrap()).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "seq strictly increasing in the log");
    for id in &ids {
        let c = engine.conversation(ORG, id).await.unwrap().unwrap();
        let mine: Vec<u64> = events
            .iter()
            .filter(|e| e["conversationId"] == id.as_str())
            .map(|e| e["version"].as_u64().unwrap())
            .collect();
        assert_eq!(mine.last().copied(), Some(c.version), "the snapshot matches its last event");
    }
    engine.shutdown().await;
}

#[tokio::test]
async fn timers_and_config_survive_a_restart() {
    let store = Arc::new(FlakyStore::default());
    let engine = start(store.clone()).await;
    let (queue, agent, _) = seed(&engine).await;
    let c = engine.execute(request(None, create(&queue, MediaType::Voice))).await.unwrap().conversation;
    let offer =
        c.participants.iter().find(|p| p.user_id.as_deref() == Some(&agent)).expect("offered at once").id.clone();
    engine.execute(request(Some(c.id.clone()), Command::Answer { participant_id: offer.clone() })).await.unwrap();
    let disconnect =
        Command::Disconnect { participant_id: offer.clone(), wrapup: None, skip_wrapup: false, reason: None };
    engine.execute(request(Some(c.id.clone()), disconnect)).await.unwrap();
    engine.advance_clock(10_000, by_system()).await.unwrap();
    engine.shutdown().await;

    // A new engine over the same store: the manual clock resumes, the deadline is still there, once.
    let engine = start(store.clone()).await;
    assert!(engine.org(ORG).unwrap().queues.contains_key(&queue));
    assert_eq!(engine.load_of(&agent).voice, 1, "a pending wrap-up still counts as load");
    assert_eq!(engine.advance_clock(49_000, by_system()).await.unwrap().fired, 0);
    assert_eq!(engine.advance_clock(1_000, by_system()).await.unwrap().fired, 1);
    let after = engine.conversation(ORG, &c.id).await.unwrap().unwrap();
    let w = after.participant(&offer).unwrap().wrapup.clone().unwrap();
    assert_eq!(w.code_id.as_deref(), Some("WRAPUP-TIMEOUT"));
    assert_eq!(engine.load_of(&agent).voice, 0);
    assert_eq!(engine.advance_clock(1_000_000, by_system()).await.unwrap().fired, 0);
    // The trail names each write once: the requests with their request id, the deadline as the system.
    let trail = engine.audit(ORG, AuditQuery { conversation_id: Some(c.id.clone()), limit: 100, ..Default::default() });
    let trail: Vec<(String, String, Option<String>)> =
        trail.await.unwrap().into_iter().map(|(_, r)| (r.action, r.actor_kind, r.request_id)).collect();
    let req = Some("req-test".to_string());
    assert_eq!(
        trail,
        [
            ("conversation.create".into(), "system".into(), req.clone()),
            ("conversation.answer".into(), "system".into(), req.clone()),
            ("conversation.disconnect".into(), "system".into(), req),
            ("timer.wrapupDeadline".into(), "system".into(), None),
        ]
    );
    engine.shutdown().await;
}

thread_local! {
    static T0: i64 = switchboard_engine::wall_clock_ms();
}

fn auth(command: AuthCommand, now_ms: i64) -> AuthRequest {
    AuthRequest {
        org_id: ORG.into(),
        actor: Actor::user("u1", vec![Role::Agent]),
        command,
        // Offsets from the real clock: revocations are kept while their tokens could still be valid.
        now_ms: T0.with(|t| *t) + now_ms,
        access_ttl_ms: 3_600_000,
        request_id: None,
    }
}

fn session(out: Result<AuthOutcome, EngineError>) -> Session {
    match out.unwrap() {
        AuthOutcome::Session(s) => s,
        other => panic!("expected a session, got {other:?}"),
    }
}

#[tokio::test]
async fn refresh_rotates_reuse_revokes_the_family_and_revocations_survive_restarts() {
    let store = Arc::new(FlakyStore::default());
    let engine = start(store.clone()).await;
    seed(&engine).await;
    let lifetimes = Lifetimes { refresh_ttl_ms: 1000, max_ttl_ms: 1800 };
    let start_session = AuthCommand::StartSession {
        user_id: "u1".into(),
        client_id: None,
        grant: "password".into(),
        scope_cap: None,
        lifetimes,
    };
    let s1 = session(engine.authorize(auth(start_session.clone(), 0)).await);
    assert_eq!(s1.generation, 1);
    let refresh = |generation, now| {
        auth(AuthCommand::Refresh { session_id: s1.id.clone(), generation, client_id: None, refresh_ttl_ms: 1000 }, now)
    };
    let s2 = session(engine.authorize(refresh(1, 500)).await);
    assert_eq!((s2.generation, s2.expires_ms - T0.with(|t| *t)), (2, 1500), "a refresh rotates and slides the expiry");
    assert!(!engine.is_revoked(&s1.id));
    // Generation 1 again: a replayed (stolen) token. The family ends, the current token with it.
    let err = engine.authorize(refresh(1, 600)).await.unwrap_err();
    assert!(matches!(err, EngineError::Auth { error: "invalid_grant", .. }), "{err:?}");
    assert!(engine.is_revoked(&s1.id), "access tokens of the family are refused at once");
    let err = engine.authorize(refresh(2, 700)).await.unwrap_err();
    assert!(err.to_string().contains("revoked"), "{err}");
    engine.shutdown().await;

    let engine = start(store.clone()).await;
    assert!(engine.is_revoked(&s1.id), "revocations are durable");
    let err = engine.authorize(refresh(2, 800)).await.unwrap_err();
    assert!(err.to_string().contains("revoked"), "{err}");
    let trail = engine.audit(ORG, AuditQuery { actor_id: Some("u1".into()), limit: 10, ..Default::default() });
    let actions: Vec<String> = trail.await.unwrap().into_iter().map(|(_, r)| r.action).collect();
    assert_eq!(actions, ["oauth.login", "oauth.refresh", "oauth.refreshReuse"]);

    // However often it is refreshed, a family ends at its maximum lifetime.
    let s3 = session(engine.authorize(auth(start_session.clone(), 1000)).await);
    let rotate = |s: &Session, now| {
        let cmd = AuthCommand::Refresh {
            session_id: s.id.clone(),
            generation: s.generation,
            client_id: None,
            refresh_ttl_ms: 1000,
        };
        auth(cmd, now)
    };
    let s4 = session(engine.authorize(rotate(&s3, 1900)).await);
    assert_eq!(s4.expires_ms - T0.with(|t| *t), 2800, "capped at sign-in + 1800");
    let err = engine.authorize(rotate(&s4, 2800)).await.unwrap_err();
    assert!(err.to_string().contains("expired"), "{err}");

    // Signing a user out everywhere ends every live family of theirs, and only theirs.
    let other = AuthCommand::StartSession {
        user_id: "u2".into(),
        client_id: None,
        grant: "password".into(),
        scope_cap: None,
        lifetimes,
    };
    let mine = session(engine.authorize(auth(start_session.clone(), 3000)).await);
    let theirs = session(engine.authorize(auth(other, 3000)).await);
    let mine2 = session(engine.authorize(auth(start_session, 3000)).await);
    let out = engine.authorize(auth(AuthCommand::RevokeUserSessions { user_id: "u1".into() }, 3100)).await.unwrap();
    assert!(matches!(out, AuthOutcome::Revoked(2)), "{out:?}");
    assert!(engine.is_revoked(&mine.id) && engine.is_revoked(&mine2.id));
    assert!(!engine.is_revoked(&theirs.id));
    engine.shutdown().await;
}

#[tokio::test]
async fn an_authorization_code_is_single_use_and_checks_client_redirect_and_verifier() {
    let engine = start(Arc::new(FlakyStore::default())).await;
    seed(&engine).await;
    let code = AuthCode {
        hash: "h1".into(),
        org_id: ORG.into(),
        user_id: "u1".into(),
        client_id: "app".into(),
        redirect_uri: "https://app.example/cb".into(),
        challenge: "challenge".into(),
        expires_ms: T0.with(|t| *t) + 10_000,
        session_id: None,
    };
    let redeem = |hash: &str, client: &str, uri: &str, challenge: &str, now| {
        auth(
            AuthCommand::RedeemCode {
                hash: hash.into(),
                client_id: client.into(),
                redirect_uri: uri.into(),
                challenge_of_verifier: challenge.into(),
                scope_cap: Some(3),
                lifetimes: Lifetimes { refresh_ttl_ms: 1000, max_ttl_ms: 5000 },
            },
            now,
        )
    };
    let description = |r: Result<AuthOutcome, EngineError>| match r {
        Err(EngineError::Auth { error: "invalid_grant", description }) => description,
        other => panic!("expected invalid_grant, got {other:?}"),
    };
    engine.authorize(auth(AuthCommand::SaveCode(code.clone()), 0)).await.unwrap();
    assert!(
        description(engine.authorize(redeem("nope", "app", "https://app.example/cb", "challenge", 1)).await)
            .contains("unknown")
    );
    assert!(
        description(engine.authorize(redeem("h1", "app", "https://app.example/cb", "challenge", 10_000)).await)
            .contains("expired")
    );
    // A wrong verifier burns the code: no second guess.
    assert!(
        description(engine.authorize(redeem("h1", "app", "https://app.example/cb", "wrong", 1)).await)
            .contains("code_verifier")
    );
    assert!(
        description(engine.authorize(redeem("h1", "app", "https://app.example/cb", "challenge", 2)).await)
            .contains("already used")
    );

    let fresh = AuthCode { hash: "h2".into(), ..code.clone() };
    engine.authorize(auth(AuthCommand::SaveCode(fresh), 0)).await.unwrap();
    assert!(
        description(engine.authorize(redeem("h2", "other", "https://app.example/cb", "challenge", 1)).await)
            .contains("another client")
    );
    let fresh = AuthCode { hash: "h3".into(), ..code.clone() };
    engine.authorize(auth(AuthCommand::SaveCode(fresh), 0)).await.unwrap();
    assert!(
        description(engine.authorize(redeem("h3", "app", "https://evil.example/cb", "challenge", 1)).await)
            .contains("redirect_uri")
    );

    let fresh = AuthCode { hash: "h4".into(), ..code };
    engine.authorize(auth(AuthCommand::SaveCode(fresh), 0)).await.unwrap();
    let s = session(engine.authorize(redeem("h4", "app", "https://app.example/cb", "challenge", 1)).await);
    assert_eq!((s.user_id.as_str(), s.client_id.as_deref()), ("u1", Some("app")));
    // Replaying a used code revokes what it was exchanged for.
    assert!(
        description(engine.authorize(redeem("h4", "app", "https://app.example/cb", "challenge", 2)).await)
            .contains("revoked")
    );
    assert!(engine.is_revoked(&s.id));
    engine.shutdown().await;
}

#[tokio::test]
async fn a_posted_message_comes_back_in_the_outcome_as_stored() {
    let engine = start(Arc::new(FlakyStore::default())).await;
    let (queue, _, _) = seed(&engine).await;
    let conv = engine.execute(request(None, create(&queue, MediaType::Message))).await.unwrap().conversation;
    let customer = conv.customer().expect("a customer").id.clone();
    let post = Command::PostMessage { participant_id: Some(customer), text: "hello".into() };
    let out = engine.execute(request(Some(conv.id.clone()), post)).await.unwrap();
    let message = out.message.expect("the posted message");
    assert_eq!(message.text, "hello");
    assert_eq!(engine.messages(ORG, &conv.id).await.unwrap().last(), Some(&message));
    let other = Command::UpdateAttributes { patch: serde_json::json!({"k": "v"}) };
    assert!(engine.execute(request(Some(conv.id.clone()), other)).await.unwrap().message.is_none());
    engine.shutdown().await;
}
