//! The single writer: a dedicated thread that drains requests in batches and applies each (decide,
//! routing, timers); a committer thread writes each batch in one durable transaction and only then
//! answers its requests.

use crate::bus::EventBus;
use crate::error::EngineError;
use crate::requests::{
    Attribution, ClockOutcome, ConfigCommand, ConfigOutcome, ConfigRequest, ConversationOutcome, ConversationRequest,
    IdempotencyKey,
};
use crate::sessions::{AuthOutcome, AuthRequest};
use crate::state::Publish;
use crate::state::State;
use crate::view::View;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender};
use std::sync::{Arc, RwLock};
use std::time::Duration;
use switchboard_core::{Rejection, Timestamp};
use switchboard_store::{CommitBatch, IdempotencyRow, Store};
use tokio::sync::oneshot;

/// Requests per group commit: bounds the latency one batch adds and the memory it holds.
pub const MAX_BATCH: usize = 256;
const IDEMPOTENCY_TTL_MS: i64 = 24 * 3_600_000;
pub const MANUAL_CLOCK_META: &str = "manual_clock_ms";

pub enum Msg {
    Conversation(Box<ConversationRequest>, oneshot::Sender<Result<ConversationOutcome, EngineError>>),
    Config(Box<ConfigRequest>, oneshot::Sender<Result<ConfigOutcome, EngineError>>),
    AdvanceClock(i64, Attribution, oneshot::Sender<Result<ClockOutcome, EngineError>>),
    Auth(Box<AuthRequest>, oneshot::Sender<Result<AuthOutcome, EngineError>>),
    /// Delivery outcomes from the webhook worker, persisted in the next group commit.
    Deliveries(Vec<switchboard_store::DeliveryRow>),
    /// Queue a delivery again (`POST .../redeliver`).
    Redeliver {
        by: Attribution,
        delivery_id: String,
        reply: oneshot::Sender<Result<switchboard_store::DeliveryRow, EngineError>>,
    },
    /// The benchmark's store ceiling: a bare insert + update through the same writer and group commit.
    CeilingProbe(u64, oneshot::Sender<Result<(), EngineError>>),
    Shutdown,
}

type Reply = Box<dyn FnOnce(bool) + Send>;

fn reply<T: Send + 'static>(tx: oneshot::Sender<Result<T, EngineError>>, r: Result<T, EngineError>) -> Reply {
    // A batch that did not commit answers nothing it decided, rejections included: they may describe
    // state that never became durable.
    Box::new(move |committed| {
        let _ = tx.send(if committed { r } else { Err(EngineError::Unavailable) });
    })
}

/// What the writer hands the committer: one sealed batch and the answers that wait for it.
enum Pending {
    Batch {
        generation: u64,
        batch: Box<CommitBatch>,
        publish: Publish,
        replies: Vec<Reply>,
    },
    /// Answered once every batch sent before it is done (used to drain after a failure).
    Barrier(SyncSender<()>),
}

struct CommitProgress {
    committed: AtomicU64,
    failed: AtomicBool,
}

/// The writer loop. It decides batch N+1 while the committer writes and syncs batch N: deciding and
/// committing overlap, and every answer still waits for its own batch to be durable.
pub fn run(
    mut state: State,
    rx: Receiver<Msg>,
    view: Arc<RwLock<View>>,
    bus: Arc<dyn EventBus>,
    outbox: tokio::sync::mpsc::UnboundedSender<switchboard_store::DeliveryRow>,
) {
    let manual = state.clock.as_manual().is_some();
    let progress = Arc::new(CommitProgress { committed: AtomicU64::new(0), failed: AtomicBool::new(false) });
    // One batch may wait while another commits; the writer blocks beyond that (backpressure).
    let (to_committer, from_writer) = std::sync::mpsc::sync_channel::<Pending>(1);
    let committer = {
        let (store, progress) = (state.store.clone(), progress.clone());
        std::thread::Builder::new()
            .name("switchboard-commit".into())
            .spawn(move || commit_loop(store, from_writer, view, bus, outbox, progress))
            .expect("the committer thread starts")
    };
    let mut generation = 0u64;
    loop {
        if progress.failed.load(Ordering::SeqCst) {
            state = recover(state, &to_committer, &progress);
        }
        state.forget_committed(progress.committed.load(Ordering::SeqCst));
        let first = match (manual, state.timers.next_due()) {
            (false, Some(due)) => {
                let wait_ms = (due - state.clock.now().0).max(0) as u64;
                match rx.recv_timeout(Duration::from_millis(wait_ms)) {
                    Ok(m) => Some(m),
                    Err(RecvTimeoutError::Timeout) => None,
                    Err(RecvTimeoutError::Disconnected) => break,
                }
            }
            _ => match rx.recv() {
                Ok(m) => Some(m),
                Err(_) => break,
            },
        };
        let mut msgs: Vec<Msg> = first.into_iter().collect();
        while msgs.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(m) => msgs.push(m),
                Err(_) => break,
            }
        }
        // The writer may have slept through a failed commit: never decide on top of it.
        if progress.failed.load(Ordering::SeqCst) {
            state = recover(state, &to_committer, &progress);
        }
        let mut replies: Vec<Reply> = Vec::with_capacity(msgs.len());
        let mut stop = false;
        for m in msgs {
            match m {
                Msg::Conversation(req, tx) => {
                    let r = handle_conversation(&mut state, *req);
                    replies.push(reply(tx, r));
                }
                Msg::Config(req, tx) => {
                    let r = handle_config(&mut state, *req);
                    replies.push(reply(tx, r));
                }
                Msg::AdvanceClock(ms, by, tx) => {
                    let r = advance_clock(&mut state, ms, &by);
                    replies.push(reply(tx, r));
                }
                Msg::Auth(req, tx) => {
                    let r = state.authorize(*req);
                    replies.push(reply(tx, r));
                }
                Msg::CeilingProbe(n, tx) => {
                    state.batch.meta.push((format!("bench:{n}"), n.to_string()));
                    state.batch.meta.push(("bench:last".into(), n.to_string()));
                    replies.push(reply(tx, Ok(())));
                }
                Msg::Deliveries(rows) => state.batch.deliveries.extend(rows),
                Msg::Redeliver { by, delivery_id, reply: tx } => {
                    let r = redeliver(&mut state, &by, &delivery_id);
                    replies.push(reply(tx, r));
                }
                Msg::Shutdown => stop = true,
            }
        }
        if !manual {
            let now = state.clock.now();
            state.fire_due(now);
        }
        generation += 1;
        let (batch, publish) = state.seal(generation);
        if to_committer.send(Pending::Batch { generation, batch: Box::new(batch), publish, replies }).is_err() || stop {
            break;
        }
    }
    drop(to_committer);
    let _ = committer.join();
}

/// After a failed commit: wait until the committer has failed everything queued behind it, then reload
/// from the store, which holds exactly what was acknowledged.
fn recover(state: State, to_committer: &SyncSender<Pending>, progress: &CommitProgress) -> State {
    let (tx, rx) = std::sync::mpsc::sync_channel(1);
    if to_committer.send(Pending::Barrier(tx)).is_ok() {
        let _ = rx.recv();
    }
    let (store, clock) = (state.store.clone(), state.clock.clone());
    drop(state);
    // A clock advance that did not commit did not happen: its timers fire on the next advance.
    if let (Some(manual), Ok(Some(saved))) = (clock.as_manual(), store.get_meta(MANUAL_CLOCK_META))
        && let Ok(ms) = saved.parse::<i64>()
    {
        manual.set(Timestamp(ms));
    }
    loop {
        match State::boot(store.clone(), clock.clone()) {
            Ok(fresh) => {
                progress.failed.store(false, Ordering::SeqCst);
                return fresh;
            }
            Err(e) => {
                tracing::error!(error = %e, "reloading state after a failed commit failed; retrying");
                std::thread::sleep(Duration::from_secs(1));
            }
        }
    }
}

fn commit_loop(
    store: Arc<dyn Store>,
    rx: Receiver<Pending>,
    view: Arc<RwLock<View>>,
    bus: Arc<dyn EventBus>,
    outbox: tokio::sync::mpsc::UnboundedSender<switchboard_store::DeliveryRow>,
    progress: Arc<CommitProgress>,
) {
    while let Ok(p) = rx.recv() {
        match p {
            Pending::Barrier(done) => {
                let _ = done.send(());
            }
            Pending::Batch { generation, batch, publish, replies } => {
                // A batch after a failed one was decided on top of it: it fails too, unwritten.
                let committed = !progress.failed.load(Ordering::SeqCst)
                    && (batch.is_empty()
                        || store
                            .commit(&batch)
                            .map_err(|e| tracing::error!(error = %e, "group commit failed"))
                            .is_ok());
                if committed {
                    let mut publish = publish;
                    let at = crate::view::wall_clock_us();
                    let frames = publish.frames.drain(..).map(|f| Arc::new(f.into_frame(at))).collect();
                    // Only durable deliveries reach the worker.
                    for d in publish.deliveries.drain(..) {
                        let _ = outbox.send(d);
                    }
                    view.write().expect("view lock").apply(publish);
                    progress.committed.store(generation, Ordering::SeqCst);
                    // Only durable events reach subscribers, in commit order.
                    bus.publish(frames);
                } else {
                    progress.failed.store(true, Ordering::SeqCst);
                }
                for r in replies {
                    r(committed);
                }
            }
        }
    }
}

fn idempotent_replay<T: serde::de::DeserializeOwned>(
    state: &State,
    org_id: &str,
    key: &IdempotencyKey,
) -> Result<Option<T>, EngineError> {
    let pending = state.idem_pending.get(&(org_id.to_string(), key.scope.clone())).map(|(row, _)| row.clone());
    let row = match pending {
        Some(r) => Some(r),
        None => state.store.idempotency(org_id, &key.scope)?,
    };
    let Some(row) = row.filter(|r| r.expires_at_ms >= state.clock.now().0) else { return Ok(None) };
    if row.request_hash != key.request_hash {
        return Err(EngineError::IdempotencyMismatch);
    }
    Ok(Some(serde_json::from_str(&row.response)?))
}

fn remember<T: serde::Serialize>(state: &mut State, org_id: &str, key: &IdempotencyKey, result: &T) {
    let row = IdempotencyRow {
        org_id: org_id.to_string(),
        key: key.scope.clone(),
        request_hash: key.request_hash.clone(),
        response: serde_json::to_string(result).expect("outcomes serialize"),
        expires_at_ms: state.clock.now().0 + IDEMPOTENCY_TTL_MS,
    };
    state.idem_pending.insert((org_id.to_string(), key.scope.clone()), (row.clone(), 0));
    state.batch.idempotency.push(row);
}

fn handle_conversation(state: &mut State, req: ConversationRequest) -> Result<ConversationOutcome, EngineError> {
    let org_id = req.org_id.as_str();
    if let Some(key) = req.idempotency.as_ref().filter(|_| !req.dry_run)
        && let Some(mut out) = idempotent_replay::<ConversationOutcome>(state, org_id, key)?
    {
        out.replayed = true;
        return Ok(out);
    }
    let current = match &req.conversation_id {
        Some(id) => Some(
            state
                .load(org_id, id)?
                .filter(|c| req.actor.may_see(c))
                .ok_or_else(|| EngineError::not_found("conversation", id))?,
        ),
        None => None,
    };
    if let (Some(expected), Some(conv)) = (req.expected_version, &current)
        && conv.version != expected
    {
        return Err(EngineError::Rejected {
            rejection: Rejection::VersionMismatch { current: conv.version },
            conversation: Some(conv.clone()),
        });
    }
    let created = current.is_none();
    let first_event = state.batch.events.len();
    let (conv, changed) = state.run(org_id, current, &req.command, &req.actor, req.dry_run)?;
    let message = match req.command {
        switchboard_core::Command::PostMessage { .. } if changed => posted_message(&state.batch.events[first_event..]),
        _ => None,
    };
    if changed {
        state.route();
    }
    // Routing may have acted on it already (an offer right after create): answer with the latest state.
    let conv = if req.dry_run { conv } else { state.convs.get(&conv.id).cloned().unwrap_or(conv) };
    if changed && !req.dry_run {
        let action = format!("conversation.{}", req.command.name());
        let id = conv.id.as_str();
        state.stage_audit(org_id, &req.actor, &action, "conversation", id, Some(id), req.request_id.as_deref());
    }
    let out =
        ConversationOutcome { conversation: conv, changed, created: created && changed, replayed: false, message };
    if let Some(key) = req.idempotency.as_ref().filter(|_| !req.dry_run) {
        remember(state, org_id, key, &out);
    }
    Ok(out)
}

/// The message a `PostMessage` created, read back from its staged event (messages are not in the snapshot).
fn posted_message(events: &[switchboard_store::StoredEvent]) -> Option<switchboard_core::Message> {
    let e = events.iter().find(|e| e.event_type == "message.created")?;
    let mut body: serde_json::Value = serde_json::from_str(&e.body).ok()?;
    serde_json::from_value(body.get_mut("data")?.get_mut("message")?.take()).ok()
}

fn handle_config(state: &mut State, req: ConfigRequest) -> Result<ConfigOutcome, EngineError> {
    if let Some(key) = &req.idempotency
        && let Some(out) = idempotent_replay::<ConfigOutcome>(state, &req.org_id, key)?
    {
        return Ok(out);
    }
    let action = req.command.action();
    let named = req.command.target_id().map(str::to_string);
    // A new password ends every session of the user: whoever held the old one is signed out.
    let new_password = matches!(&req.command, ConfigCommand::UpdateUser { spec, .. } if spec.password_hash.is_some());
    let out = state.configure(&req.org_id, req.command, req.expected_version)?;
    let target = named.as_deref().or(out.id()).unwrap_or_default();
    let kind = action.split('.').next().unwrap_or_default();
    state.stage_audit(&req.org_id, &req.actor, action, kind, target, None, req.request_id.as_deref());
    if new_password {
        state.revoke_user_sessions(&req.org_id, target, &req.actor);
    }
    state.route();
    if let Some(key) = &req.idempotency {
        remember(state, &req.org_id, key, &out);
    }
    Ok(out)
}

fn advance_clock(state: &mut State, ms: i64, by: &Attribution) -> Result<ClockOutcome, EngineError> {
    let Some(manual) = state.clock.as_manual() else {
        return Err(EngineError::rejected(Rejection::Conflict {
            code: "clock_not_manual",
            detail: "the server runs on the system clock; start it with --clock manual".into(),
        }));
    };
    if !(0..=366 * 24 * 3_600_000).contains(&ms) {
        return Err(EngineError::rejected(Rejection::invalid("/advanceMs", "must be between 0 and one year")));
    }
    let now: Timestamp = manual.advance(ms);
    state.stage_audit(&by.org_id, &by.actor, "clock.advance", "clock", &ms.to_string(), None, by.request_id.as_deref());
    state.batch.meta.push((MANUAL_CLOCK_META.into(), now.0.to_string()));
    let fired = state.fire_due(now);
    Ok(ClockOutcome { now, fired })
}

fn redeliver(state: &mut State, by: &Attribution, id: &str) -> Result<switchboard_store::DeliveryRow, EngineError> {
    let org_id = by.org_id.as_str();
    let pending = state.batch.deliveries.iter().rev().find(|d| d.id == id && d.org_id == org_id).cloned();
    let mut row = match pending {
        Some(r) => r,
        None => state.store.delivery(org_id, id)?.ok_or_else(|| EngineError::not_found("delivery", id))?,
    };
    row.status = "pending".into();
    row.next_attempt_ms = state.clock.now().0;
    // A fresh 24 h of retries from now.
    row.created_ms = row.next_attempt_ms;
    state.stage_redelivery(row.clone());
    state.stage_audit(org_id, &by.actor, "delivery.redeliver", "delivery", id, None, by.request_id.as_deref());
    Ok(row)
}
