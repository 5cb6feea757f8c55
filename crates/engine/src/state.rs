//! The engine's in-memory state, owned by the writer thread: config per org, open conversations, routing
//! indexes, the timer wheel, and the batch being built for the next group commit.

use crate::clock::Clock;
use crate::error::EngineError;
use crate::orgs::{Dir, OrgConfig};
use crate::timers::{TimerRef, TimerWheel};
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use switchboard_core::config::{Client, OrgSettings, Queue, User, WrapupCode};
use switchboard_core::routing::{AlertingOffer, Footprint, Waiting, footprint};
use switchboard_core::timers::{TimerKind, due_timers};
use switchboard_core::{Actor, AgentEffect, Command, Conversation, Ctx, Decision, Event, Load, Timestamp, decide};
use switchboard_store::{
    CommitBatch, ConversationRow, DeliveryRow, EntityRow, IdempotencyRow, Store, StoredEvent, TimerRow,
};

#[derive(Clone, Copy, Debug, Default)]
pub struct AgentMeta {
    pub idle_since: Option<Timestamp>,
    pub last_offer_at: Option<Timestamp>,
}

#[derive(Clone, Debug)]
pub struct WaitingRef {
    pub org_id: String,
    pub conversation_id: String,
    pub waiting: Waiting,
}

pub struct State {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub orgs: HashMap<String, Arc<OrgConfig>>,
    pub convs: HashMap<String, Arc<Conversation>>,
    footprints: HashMap<String, Footprint>,
    pub loads: HashMap<String, Load>,
    pub agents: HashMap<String, AgentMeta>,
    pub waiting: BTreeMap<(i64, u64), WaitingRef>,
    waiting_keys: HashMap<(String, String), (i64, u64)>,
    next_wait_ord: u64,
    /// user id -> (conversation id, offer) for offers alerting now.
    pub alerting: HashMap<String, Vec<(String, AlertingOffer)>>,
    pub timers: TimerWheel,
    next_seq: u64,
    pub batch: CommitBatch,
    /// Idempotency records not yet known durable, with the generation of the batch that carries them.
    pub idem_pending: HashMap<(String, String), (IdempotencyRow, u64)>,
    /// The generation of the last batch that touched each cached conversation: a closed conversation
    /// leaves the cache only once that batch is durable (before, the store would answer with older state).
    touched_gen: HashMap<String, u64>,
    touched_convs: Vec<String>,
    /// One frame per applied command (and per user event), published after the batch is durable.
    frames: Vec<FramePart>,
    /// Outbox rows created (or redelivered) in this batch: the delivery worker gets them once durable.
    new_deliveries: Vec<DeliveryRow>,
    /// Index of each conversation's row in `batch.conversations` (a conversation is written once per batch).
    batch_rows: HashMap<String, usize>,
    pub touched_orgs: HashSet<String>,
    pub touched_users: HashSet<String>,
    pub auth: crate::sessions::AuthState,
    /// Revocations made in this batch: readers refuse those tokens once the batch is durable.
    pub revoked_now: Vec<(String, i64)>,
}

fn decode<T: serde::de::DeserializeOwned>(what: &str, doc: &str) -> Result<T, EngineError> {
    serde_json::from_str(doc).map_err(|e| EngineError::Decode(format!("{what}: {e}")))
}

impl State {
    /// Loads config, open conversations and timers: never the whole log, so startup stays fast.
    pub fn boot(store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Result<State, EngineError> {
        let mut s = State {
            store: store.clone(),
            clock,
            orgs: HashMap::new(),
            convs: HashMap::new(),
            footprints: HashMap::new(),
            loads: HashMap::new(),
            agents: HashMap::new(),
            waiting: BTreeMap::new(),
            waiting_keys: HashMap::new(),
            next_wait_ord: 0,
            alerting: HashMap::new(),
            timers: TimerWheel::default(),
            next_seq: store.last_seq()? + 1,
            batch: CommitBatch::default(),
            idem_pending: HashMap::new(),
            touched_gen: HashMap::new(),
            touched_convs: Vec::new(),
            frames: Vec::new(),
            new_deliveries: Vec::new(),
            batch_rows: HashMap::new(),
            touched_orgs: HashSet::new(),
            touched_users: HashSet::new(),
            auth: Default::default(),
            revoked_now: Vec::new(),
        };
        let entities = store.load_entities()?;
        for e in entities.iter().filter(|e| e.kind == "org") {
            let settings: OrgSettings = decode("org", &e.doc)?;
            s.orgs.insert(e.org_id.clone(), Arc::new(OrgConfig::new(settings)));
        }
        for e in entities.iter().filter(|e| e.kind != "org") {
            if s.auth.load(&e.kind, &e.doc)? {
                continue;
            }
            let Some(org) = s.orgs.get_mut(&e.org_id) else { continue };
            let org = Arc::make_mut(org);
            match e.kind.as_str() {
                "queue" => {
                    let q = decode::<Queue>("queue", &e.doc)?;
                    // A stored schema compiled when it was saved; if this build refuses it, the queue has none.
                    match crate::schemas::CompiledSchema::of(&q) {
                        Ok(Some(s)) => drop(org.schemas.insert(q.id.clone(), s)),
                        Ok(None) => {}
                        Err(v) => tracing::warn!(queue = %q.id, problem = %v.message, "stored context schema ignored"),
                    }
                    org.queues.insert(e.id.clone(), q);
                }
                "code" => drop(org.codes.insert(e.id.clone(), decode::<WrapupCode>("code", &e.doc)?)),
                "user" => drop(org.users.insert(e.id.clone(), decode::<User>("user", &e.doc)?)),
                "client" => drop(org.clients.insert(e.id.clone(), decode::<Client>("client", &e.doc)?)),
                "webhook" => drop(org.webhooks.insert(e.id.clone(), decode("webhook", &e.doc)?)),
                "deployment" => drop(org.deployments.insert(e.id.clone(), decode("deployment", &e.doc)?)),
                _ => {}
            }
        }
        let now = s.clock.now();
        for row in store.load_open_conversations()? {
            let conv: Conversation = decode("conversation", &row.doc)?;
            s.reindex(&conv.id.clone(), Some(&conv), now);
            s.convs.insert(conv.id.clone(), Arc::new(conv));
        }
        s.touched_users.clear();
        for t in store.load_timers()? {
            let kind: TimerKind = decode("timer", &t.body)?;
            s.timers.insert(
                t.due_at_ms,
                t.ord,
                TimerRef { org_id: t.org_id, conversation_id: t.conversation_id, kind },
            );
        }
        Ok(s)
    }

    pub fn org(&self, org_id: &str) -> Result<Arc<OrgConfig>, EngineError> {
        self.orgs.get(org_id).cloned().ok_or_else(|| EngineError::not_found("organization", org_id))
    }

    /// The conversation as of this batch (in memory first, then the store). Another org's id is "not found".
    pub fn load(&self, org_id: &str, id: &str) -> Result<Option<Arc<Conversation>>, EngineError> {
        if let Some(c) = self.convs.get(id) {
            return Ok((c.org_id == org_id).then(|| c.clone()));
        }
        match self.store.conversation(org_id, id)? {
            Some(row) => Ok(Some(Arc::new(decode("conversation", &row.doc)?))),
            None => Ok(None),
        }
    }

    /// Runs `decide` and, when something changed, stages the result in the batch.
    pub fn run(
        &mut self,
        org_id: &str,
        current: Option<Arc<Conversation>>,
        command: &Command,
        actor: &Actor,
        dry_run: bool,
    ) -> Result<(Arc<Conversation>, bool), EngineError> {
        let org = self.org(org_id)?;
        let now = self.clock.now();
        let decision = {
            let dir = Dir { org: &org, loads: &self.loads };
            let mut ids = || uuid::Uuid::now_v7().to_string();
            let mut ctx = Ctx { now, actor, dir: &dir, ids: &mut ids };
            decide(current.as_deref(), command, &mut ctx)
        };
        let decision =
            decision.map_err(|rejection| EngineError::Rejected { rejection, conversation: current.clone() })?;
        if !decision.changed() || dry_run {
            let conv = current.unwrap_or_else(|| Arc::new(decision.conversation));
            return Ok((conv, false));
        }
        Ok((self.apply(org_id, current.as_deref(), decision, now), true))
    }

    fn apply(&mut self, org_id: &str, old: Option<&Conversation>, d: Decision, now: Timestamp) -> Arc<Conversation> {
        let conv = Arc::new(d.conversation);
        let first = self.batch.events.len();
        for e in &d.events {
            let seq = self.next_seq;
            self.next_seq += 1;
            self.batch.events.push(conversation_event(seq, org_id, &conv.id, e));
        }
        self.stage_deliveries(org_id, first, now);
        let bodies: Vec<&str> = self.batch.events[first..].iter().map(|e| e.body.as_str()).collect();
        // Analytics are true at commit: derived from the snapshot and written in the same batch — as a
        // diff against the facts before the command, since most commands complete a metric or two.
        let media_type = json_str(&conv.media_type);
        let mut analytics = analytics_row(org_id, &conv, state_name(&conv), &media_type);
        let before = old.map(|o| analytics_row(org_id, o, state_name(o), &media_type));
        debug_assert!(refs_of(&conv).iter().all(|r| analytics.keys.contains(r)), "refs are analytics keys");
        // The listing refs are the analytics keys without the codes (see `refs_of`), and refs only grow:
        // send the store just the new ones (most commands add none).
        let refs: Vec<String> = analytics
            .keys
            .iter()
            .filter(|k| !k.starts_with("code:") && before.as_ref().is_none_or(|b| !b.keys.contains(k)))
            .cloned()
            .collect();
        let row = conversation_row(org_id, &conv, refs);
        self.frames.push(FramePart {
            org_id: org_id.to_string(),
            conversation_id: Some(conv.id.clone()),
            seq: self.next_seq - 1,
            users: conv.participants.iter().filter_map(|p| p.user_id.clone()).collect(),
            queues: conv.participants.iter().filter_map(|p| p.queue_id.clone()).collect(),
            events: format!("[{}]", bodies.join(",")),
            conversation: row.doc.clone(),
        });
        let unchanged = before
            .as_ref()
            .is_some_and(|b| b.state == analytics.state && b.keys == analytics.keys && b.metrics == analytics.metrics);
        if let Some(b) = &before {
            analytics.keys_changed = b.keys != analytics.keys;
            analytics.metrics_from = if analytics.metrics.starts_with(&b.metrics) { b.metrics.len() } else { 0 };
        }
        match self.batch_rows.get(&conv.id) {
            Some(&i) => {
                let mut row = row;
                row.refs.extend(std::mem::take(&mut self.batch.conversations[i].refs));
                self.batch.conversations[i] = row;
                // The earlier row of this batch was never written: this one must also cover its changes.
                let earlier = &self.batch.analytics[i];
                analytics.keys_changed |= earlier.keys_changed;
                analytics.metrics_from = analytics.metrics_from.min(earlier.metrics_from);
                self.batch.analytics[i] = analytics;
            }
            None => {
                self.batch_rows.insert(conv.id.clone(), self.batch.conversations.len());
                self.batch.conversations.push(row);
                if unchanged {
                    // Nothing to write; an empty diff keeps the batch's rows aligned by index.
                    analytics.keys_changed = false;
                    analytics.metrics_from = analytics.metrics.len();
                }
                self.batch.analytics.push(analytics);
            }
        }
        self.diff_timers(org_id, old, &conv);
        self.reindex(&conv.id, Some(&conv), now);
        for effect in d.effects {
            match effect {
                AgentEffect::MarkNotResponding { user_id } => {
                    self.set_user_status(org_id, &user_id, switchboard_core::config::RoutingStatus::NotResponding, now)
                }
            }
        }
        self.convs.insert(conv.id.clone(), conv.clone());
        self.touched_convs.push(conv.id.clone());
        self.touched_orgs.insert(org_id.to_string());
        conv
    }

    /// Drops a timer from memory and from the batch, and deletes it from the store with the batch.
    pub(crate) fn unstage_timer(&mut self, conversation_id: &str, key: String) {
        self.timers.remove(conversation_id, &key);
        self.batch.timers_upsert.retain(|r| !(r.conversation_id == conversation_id && r.key == key));
        self.batch.timers_delete.push((conversation_id.to_string(), key));
    }

    fn diff_timers(&mut self, org_id: &str, old: Option<&Conversation>, new: &Conversation) {
        let before = old.map(due_timers).unwrap_or_default();
        let after = due_timers(new);
        for t in &before {
            if !after.iter().any(|a| a.kind == t.kind) {
                self.unstage_timer(&new.id, t.kind.key());
            }
        }
        for t in after {
            let key = t.kind.key();
            if self.timers.get(&new.id, &key).is_some_and(|(due, _)| due == t.due_at.0) {
                continue;
            }
            let ord = self.timers.next_ord;
            self.batch.timers_delete.retain(|(c, k)| !(*c == new.id && *k == key));
            self.timers.insert(
                t.due_at.0,
                ord,
                TimerRef { org_id: org_id.to_string(), conversation_id: new.id.clone(), kind: t.kind.clone() },
            );
            self.batch.timers_upsert.push(TimerRow {
                org_id: org_id.to_string(),
                conversation_id: new.id.clone(),
                key,
                due_at_ms: t.due_at.0,
                ord,
                body: serde_json::to_string(&t.kind).expect("timer kinds serialize"),
            });
        }
    }

    /// Replaces what a conversation contributes to loads, alerting offers and the waiting list.
    pub fn reindex(&mut self, conv_id: &str, conv: Option<&Conversation>, now: Timestamp) {
        let old = self.footprints.remove(conv_id).unwrap_or_default();
        let new = conv.map(footprint).unwrap_or_default();
        let mut users: HashSet<String> = HashSet::new();
        let before: HashMap<String, u32> = old
            .loads
            .iter()
            .chain(new.loads.iter())
            .map(|(u, _)| (u.clone(), self.loads.get(u).map(|l| l.total()).unwrap_or(0)))
            .collect();
        for (u, m) in &old.loads {
            self.loads.entry(u.clone()).or_default().add(*m, -1);
            users.insert(u.clone());
        }
        for (u, m) in &new.loads {
            self.loads.entry(u.clone()).or_default().add(*m, 1);
            users.insert(u.clone());
        }
        for u in &users {
            let after = self.loads.get(u).map(|l| l.total()).unwrap_or(0);
            if before.get(u).copied().unwrap_or(0) > 0 && after == 0 {
                self.agents.entry(u.clone()).or_default().idle_since = Some(now);
            }
            self.touched_users.insert(u.clone());
        }
        for o in &old.alerting {
            if let Some(list) = self.alerting.get_mut(&o.user_id) {
                list.retain(|(c, x)| !(c == conv_id && x.participant_id == o.participant_id));
            }
        }
        for o in &new.alerting {
            self.alerting.entry(o.user_id.clone()).or_default().push((conv_id.to_string(), o.clone()));
        }
        let mut keep = HashSet::new();
        for w in &new.waiting {
            let k = (conv_id.to_string(), w.acd_id.clone());
            let key = match self.waiting_keys.get(&k) {
                Some(key) => *key,
                None => {
                    self.next_wait_ord += 1;
                    let key = (w.queued_at.0, self.next_wait_ord);
                    self.waiting_keys.insert(k.clone(), key);
                    key
                }
            };
            let org_id = conv.map(|c| c.org_id.clone()).unwrap_or_default();
            self.waiting.insert(key, WaitingRef { org_id, conversation_id: conv_id.to_string(), waiting: w.clone() });
            keep.insert(k);
        }
        for w in &old.waiting {
            let k = (conv_id.to_string(), w.acd_id.clone());
            if !keep.contains(&k)
                && let Some(key) = self.waiting_keys.remove(&k)
            {
                self.waiting.remove(&key);
            }
        }
        if new != Footprint::default() {
            self.footprints.insert(conv_id.to_string(), new);
        }
    }

    /// Stages a user's new routing status and its `user.routingStatusChanged` event.
    pub fn set_user_status(
        &mut self,
        org_id: &str,
        user_id: &str,
        status: switchboard_core::config::RoutingStatus,
        now: Timestamp,
    ) {
        let Some(org) = self.orgs.get_mut(org_id) else { return };
        let org = Arc::make_mut(org);
        let Some(user) = org.users.get_mut(user_id) else { return };
        if user.routing_status == status {
            return;
        }
        user.routing_status = status;
        user.version += 1;
        let user = user.clone();
        self.stage_entity(org_id, "user", &user.id, user.version, &user);
        let load = self.loads.get(user_id).copied().unwrap_or_default();
        let presence = switchboard_core::routing::presence(&user, load);
        let seq = self.next_seq;
        self.next_seq += 1;
        let id = uuid::Uuid::now_v7().to_string();
        let body = json!({
            "seq": seq, "id": id, "orgId": org_id, "conversationId": null, "type": "user.routingStatusChanged",
            "at": now, "actor": {"kind": "system", "id": "system"},
            "data": {"userId": user_id, "status": presence},
        });
        let body = body.to_string();
        self.frames.push(FramePart {
            org_id: org_id.to_string(),
            conversation_id: None,
            seq,
            users: vec![user_id.to_string()],
            queues: vec![],
            events: format!("[{body}]"),
            conversation: "null".into(),
        });
        let first = self.batch.events.len();
        self.batch.events.push(StoredEvent {
            seq,
            id,
            org_id: org_id.to_string(),
            conversation_id: None,
            event_type: "user.routingStatusChanged".into(),
            at_ms: now.0,
            body,
        });
        self.stage_deliveries(org_id, first, now);
        self.touched_users.insert(user_id.to_string());
        self.touched_orgs.insert(org_id.to_string());
    }

    /// The outbox: one delivery per (event from `first` on, webhook that wants its type), in this batch.
    fn stage_deliveries(&mut self, org_id: &str, first: usize, now: Timestamp) {
        let Some(org) = self.orgs.get(org_id) else { return };
        if org.webhooks.is_empty() {
            return;
        }
        for e in &self.batch.events[first..] {
            for w in org.webhooks.values().filter(|w| w.wants(&e.event_type)) {
                let row = DeliveryRow {
                    id: uuid::Uuid::now_v7().to_string(),
                    org_id: org_id.to_string(),
                    webhook_id: w.id.clone(),
                    order_key: e.conversation_id.clone().unwrap_or_else(|| "org".into()),
                    seq: e.seq,
                    event_id: e.id.clone(),
                    event_type: e.event_type.clone(),
                    body: e.body.clone(),
                    status: "pending".into(),
                    attempts: 0,
                    created_ms: now.0,
                    next_attempt_ms: now.0,
                    last_status_code: None,
                    last_response_ms: None,
                    last_error: None,
                    delivered_ms: None,
                };
                self.batch.deliveries.push(row.clone());
                self.new_deliveries.push(row);
            }
        }
    }

    /// A delivery to queue again (redeliver): staged, and handed to the worker once durable.
    pub fn stage_redelivery(&mut self, row: DeliveryRow) {
        self.batch.deliveries.push(row.clone());
        self.new_deliveries.push(row);
    }

    pub fn stage_entity<T: serde::Serialize>(&mut self, org_id: &str, kind: &str, id: &str, version: u64, doc: &T) {
        self.batch.entities_upsert.retain(|e| !(e.org_id == org_id && e.kind == kind && e.id == id));
        self.batch.entities_upsert.push(EntityRow {
            org_id: org_id.to_string(),
            kind: kind.to_string(),
            id: id.to_string(),
            version,
            doc: serde_json::to_string(doc).expect("entities serialize"),
        });
        self.touched_orgs.insert(org_id.to_string());
    }

    /// Appends one audit row to the batch (time: the engine clock, which tests control).
    #[allow(clippy::too_many_arguments)]
    pub fn stage_audit(
        &mut self,
        org_id: &str,
        actor: &Actor,
        action: &str,
        target_kind: &str,
        target_id: &str,
        conversation_id: Option<&str>,
        request_id: Option<&str>,
    ) {
        self.batch.audit.push(switchboard_store::AuditRow {
            org_id: org_id.to_string(),
            at_ms: self.clock.now().0,
            actor_kind: actor.kind.as_str().to_string(),
            actor_id: actor.id.clone(),
            action: action.to_string(),
            target_kind: target_kind.to_string(),
            target_id: target_id.to_string(),
            conversation_id: conversation_id.map(str::to_string),
            request_id: request_id.map(str::to_string),
        });
    }

    /// Closes the batch being built: stamps what it touched with `generation` and hands back its writes
    /// and what readers must see once it is durable.
    pub fn seal(&mut self, generation: u64) -> (CommitBatch, Publish) {
        for id in self.touched_convs.drain(..) {
            self.touched_gen.insert(id, generation);
        }
        for (_, g) in self.idem_pending.values_mut() {
            if *g == 0 {
                *g = generation;
            }
        }
        self.batch_rows.clear();
        let publish = Publish {
            frames: std::mem::take(&mut self.frames),
            deliveries: std::mem::take(&mut self.new_deliveries),
            orgs: self.touched_orgs.drain().filter_map(|o| self.orgs.get(&o).map(|c| (o, c.clone()))).collect(),
            loads: self
                .touched_users
                .drain()
                .map(|u| {
                    let load = self.loads.get(&u).copied().unwrap_or_default();
                    (u, load)
                })
                .collect(),
            revoked: std::mem::take(&mut self.revoked_now),
        };
        (std::mem::take(&mut self.batch), publish)
    }

    /// Once batches up to `committed` are durable: closed conversations leave memory (the store has them)
    /// and idempotency records are read from the store.
    pub fn forget_committed(&mut self, committed: u64) {
        let touched = &mut self.touched_gen;
        self.convs.retain(|id, c| {
            let durable = touched.get(id).is_none_or(|g| *g <= committed);
            if c.closed_at.is_some() && durable {
                touched.remove(id);
                false
            } else {
                true
            }
        });
        self.touched_gen.retain(|_, g| *g > committed);
        self.idem_pending.retain(|_, (_, g)| *g == 0 || *g > committed);
    }
}

/// A frame before its commit: the committer stamps the commit time and builds the shared payload.
pub struct FramePart {
    pub org_id: String,
    pub conversation_id: Option<String>,
    pub seq: u64,
    pub users: Vec<String>,
    pub queues: Vec<String>,
    /// JSON array of the command's event envelopes.
    pub events: String,
    /// The conversation snapshot after the command (JSON), or `null`.
    pub conversation: String,
}

impl FramePart {
    pub fn into_frame(self, committed_at_us: i64) -> crate::bus::Frame {
        let json = format!(
            "{{\"type\":\"events\",\"seq\":{},\"committedAtUs\":{committed_at_us},\"events\":{},\"conversation\":{}}}",
            self.seq, self.events, self.conversation
        );
        crate::bus::Frame {
            org_id: self.org_id,
            conversation_id: self.conversation_id,
            seq: self.seq,
            users: self.users,
            queues: self.queues,
            json,
            ephemeral: false,
        }
    }
}

/// What readers see once a batch is durable: frames for subscribers, and the orgs' configuration and the
/// agents' loads it changed.
#[derive(Default)]
pub struct Publish {
    pub frames: Vec<FramePart>,
    pub deliveries: Vec<DeliveryRow>,
    pub orgs: Vec<(String, Arc<OrgConfig>)>,
    pub loads: Vec<(String, Load)>,
    /// Revoked token and session ids → until when (wall ms).
    pub revoked: Vec<(String, i64)>,
}

impl State {
    /// Everything, for a fresh view (at start and after a reload).
    pub fn publish_all(&mut self) -> Publish {
        self.touched_orgs.clear();
        self.touched_users.clear();
        Publish {
            frames: Vec::new(),
            deliveries: Vec::new(),
            orgs: self.orgs.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
            loads: self.loads.iter().map(|(k, v)| (k.clone(), *v)).collect(),
            revoked: self.auth.revoked.iter().map(|(id, (_, until))| (id.clone(), *until)).collect(),
        }
    }
}

pub fn state_name(c: &Conversation) -> &'static str {
    match c.state() {
        switchboard_core::ConversationState::Active => "active",
        switchboard_core::ConversationState::Wrapup => "wrapup",
        switchboard_core::ConversationState::Closed => "closed",
    }
}

fn json_str<T: serde::Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(Value::String(s)) => s,
        _ => String::new(),
    }
}

/// The event envelope readers get: `{seq, id, orgId, conversationId, version, at, actor, type, data}`.
/// Written by splicing one serialization of `{type, data}` behind the header fields: building a JSON tree
/// per event was the writer thread's largest allocation cost.
fn conversation_event(seq: u64, org_id: &str, conv_id: &str, e: &Event) -> StoredEvent {
    let id = uuid::Uuid::now_v7().to_string();
    let data = serde_json::to_string(&e.data).expect("events serialize");
    let body = envelope(seq, &id, org_id, conv_id, e, &data);
    StoredEvent {
        seq,
        id,
        org_id: org_id.to_string(),
        conversation_id: Some(conv_id.to_string()),
        event_type: e.data.type_name().to_string(),
        at_ms: e.at.0,
        body,
    }
}

/// Splices the envelope header before `data_json` (the serialization of `e.data`, `{"type":..,"data":..}`).
pub fn envelope(seq: u64, id: &str, org_id: &str, conv_id: &str, e: &Event, data_json: &str) -> String {
    let str_json = |s: &str| serde_json::to_string(s).expect("strings serialize");
    format!(
        "{{\"seq\":{seq},\"id\":{},\"orgId\":{},\"conversationId\":{},\"version\":{},\"at\":\"{}\",\"actor\":{},{}",
        str_json(id),
        str_json(org_id),
        str_json(conv_id),
        e.version,
        e.at,
        serde_json::to_string(&e.actor).expect("actors serialize"),
        &data_json[1..]
    )
}

/// The snapshot row of a conversation (refs: the listing keys to add).
pub fn conversation_row(org_id: &str, conv: &Conversation, refs: Vec<String>) -> ConversationRow {
    ConversationRow {
        org_id: org_id.to_string(),
        id: conv.id.clone(),
        state: state_name(conv).into(),
        version: conv.version,
        media_type: json_str(&conv.media_type),
        started_at_ms: conv.started_at.0,
        doc: serde_json::to_string(conv).expect("a conversation always serializes"),
        refs,
    }
}

/// The analytics of a conversation as stored: filter keys and metric facts.
pub fn analytics_row(
    org_id: &str,
    conv: &Conversation,
    state: &str,
    media_type: &str,
) -> switchboard_store::AnalyticsRow {
    let f = switchboard_core::analytics::facts(conv);
    switchboard_store::AnalyticsRow {
        org_id: org_id.to_string(),
        conversation_id: conv.id.clone(),
        started_ms: conv.started_at.0,
        media_type: media_type.to_string(),
        state: state.to_string(),
        keys: f.keys,
        keys_changed: true,
        metrics_from: 0,
        metrics: f
            .metrics
            .into_iter()
            .map(|m| switchboard_store::MetricRow {
                participant_id: m.participant_id,
                name: m.name.to_string(),
                at_ms: m.at.0,
                value: m.value,
                queue_id: m.queue_id,
                user_id: m.user_id,
                wrapup_code_id: m.wrapup_code_id,
                media_type: media_type.to_string(),
            })
            .collect(),
    }
}

/// The listing refs of a conversation: its queues and users (the analytics keys without the codes).
pub fn refs_of(c: &Conversation) -> Vec<String> {
    let mut refs: Vec<String> = Vec::new();
    for p in &c.participants {
        if let Some(q) = &p.queue_id {
            refs.push(format!("queue:{q}"));
        }
        if let Some(u) = &p.user_id {
            refs.push(format!("user:{u}"));
        }
    }
    refs.sort();
    refs.dedup();
    refs
}
