//! The single writer: a dedicated thread that drains requests in batches, applies each (decide, routing,
//! timers), commits the whole batch in one durable transaction, and only then answers every request.

use crate::error::EngineError;
use crate::requests::{
    ClockOutcome, ConfigOutcome, ConfigRequest, ConversationOutcome, ConversationRequest, IdempotencyKey,
};
use crate::state::State;
use crate::view::View;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::{Arc, RwLock};
use std::time::Duration;
use switchboard_core::{Rejection, Timestamp};
use switchboard_store::IdempotencyRow;
use tokio::sync::oneshot;

/// Requests per group commit: bounds the latency one batch adds and the memory it holds.
pub const MAX_BATCH: usize = 256;
const IDEMPOTENCY_TTL_MS: i64 = 24 * 3_600_000;
pub const MANUAL_CLOCK_META: &str = "manual_clock_ms";

pub enum Msg {
    Conversation(Box<ConversationRequest>, oneshot::Sender<Result<ConversationOutcome, EngineError>>),
    Config(Box<ConfigRequest>, oneshot::Sender<Result<ConfigOutcome, EngineError>>),
    AdvanceClock(i64, oneshot::Sender<Result<ClockOutcome, EngineError>>),
    /// The benchmark's store ceiling: a bare insert + update through the same writer and group commit.
    CeilingProbe(u64, oneshot::Sender<Result<(), EngineError>>),
    Shutdown,
}

type Reply = Box<dyn FnOnce(bool) + Send>;

fn reply<T: Send + 'static>(tx: oneshot::Sender<Result<T, EngineError>>, r: Result<T, EngineError>) -> Reply {
    Box::new(move |committed| {
        let r = match r {
            Ok(_) if !committed => Err(EngineError::Unavailable),
            r => r,
        };
        let _ = tx.send(r);
    })
}

pub fn run(mut state: State, rx: Receiver<Msg>, view: Arc<RwLock<View>>) {
    let manual = state.clock.as_manual().is_some();
    loop {
        let first = match (manual, state.timers.next_due()) {
            (false, Some(due)) => {
                let wait_ms = (due - state.clock.now().0).max(0) as u64;
                match rx.recv_timeout(Duration::from_millis(wait_ms)) {
                    Ok(m) => Some(m),
                    Err(RecvTimeoutError::Timeout) => None,
                    Err(RecvTimeoutError::Disconnected) => return,
                }
            }
            _ => match rx.recv() {
                Ok(m) => Some(m),
                Err(_) => return,
            },
        };
        let mut msgs: Vec<Msg> = first.into_iter().collect();
        while msgs.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(m) => msgs.push(m),
                Err(_) => break,
            }
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
                Msg::AdvanceClock(ms, tx) => {
                    let r = advance_clock(&mut state, ms);
                    replies.push(reply(tx, r));
                }
                Msg::CeilingProbe(n, tx) => {
                    state.batch.meta.push((format!("bench:{n}"), n.to_string()));
                    state.batch.meta.push(("bench:last".into(), n.to_string()));
                    replies.push(reply(tx, Ok(())));
                }
                Msg::Shutdown => stop = true,
            }
        }
        if !manual {
            let now = state.clock.now();
            state.fire_due(now);
        }
        let committed = commit(&mut state, &view);
        for r in replies {
            r(committed);
        }
        if stop {
            return;
        }
    }
}

fn commit(state: &mut State, view: &Arc<RwLock<View>>) -> bool {
    if state.batch.is_empty() {
        state.after_commit();
        return true;
    }
    let batch = std::mem::take(&mut state.batch);
    match state.store.commit(&batch) {
        Ok(()) => {
            state.after_commit();
            view.write().expect("view lock").publish(state);
            true
        }
        Err(e) => {
            tracing::error!(error = %e, "group commit failed; reloading state from the store");
            match State::boot(state.store.clone(), state.clock.clone()) {
                Ok(fresh) => {
                    *state = fresh;
                    view.write().expect("view lock").publish_all(state);
                }
                Err(e) => tracing::error!(error = %e, "reload after a failed commit failed"),
            }
            false
        }
    }
}

fn idempotent_replay<T: serde::de::DeserializeOwned>(
    state: &State,
    org_id: &str,
    key: &IdempotencyKey,
) -> Result<Option<T>, EngineError> {
    let pending = state.idem_pending.get(&(org_id.to_string(), key.scope.clone())).cloned();
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
    state.idem_pending.insert((org_id.to_string(), key.scope.clone()), row.clone());
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
        Some(id) => Some(state.load(org_id, id)?.ok_or_else(|| EngineError::not_found("conversation", id))?),
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
    let (conv, changed) = state.run(org_id, current, &req.command, &req.actor, req.dry_run)?;
    if changed {
        state.route();
    }
    // Routing may have acted on it already (an offer right after create): answer with the latest state.
    let conv = if req.dry_run { conv } else { state.convs.get(&conv.id).cloned().unwrap_or(conv) };
    let out = ConversationOutcome { conversation: conv, changed, created: created && changed, replayed: false };
    if let Some(key) = req.idempotency.as_ref().filter(|_| !req.dry_run) {
        remember(state, org_id, key, &out);
    }
    Ok(out)
}

fn handle_config(state: &mut State, req: ConfigRequest) -> Result<ConfigOutcome, EngineError> {
    if let Some(key) = &req.idempotency
        && let Some(out) = idempotent_replay::<ConfigOutcome>(state, &req.org_id, key)?
    {
        return Ok(out);
    }
    let out = state.configure(&req.org_id, req.command, req.expected_version)?;
    state.route();
    if let Some(key) = &req.idempotency {
        remember(state, &req.org_id, key, &out);
    }
    Ok(out)
}

fn advance_clock(state: &mut State, ms: i64) -> Result<ClockOutcome, EngineError> {
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
    state.batch.meta.push((MANUAL_CLOCK_META.into(), now.0.to_string()));
    let fired = state.fire_due(now);
    Ok(ClockOutcome { now, fired })
}
