//! Test support: an in-memory `Directory`, config builders, actors, and a `World` that applies commands with a
//! controllable clock and deterministic ids, checking DOMAIN.md's invariants after every step.
#![allow(dead_code)]

use std::collections::BTreeMap;
use switchboard_core::command::{CloseInput, CreateConversation, TransferTarget};
use switchboard_core::config::{
    AcwSettings, Capacity, MediaSettings, OrgSettings, Queue, QueueMember, Role, RoutingStatus, User, WRAPUP_SYSTEM,
    WRAPUP_TIMEOUT, WrapupCode,
};
use switchboard_core::timers::{DueTimer, TimerKind, due_timers};
use switchboard_core::{
    AcwPolicy, Actor, ActorKind, Command, Conversation, ConversationState, Decision, Directory, Event, EventData,
    Load, MediaType, Participant, ParticipantState, Purpose, Rejection, Scope, Scopes, Timestamp, Wrapup,
    WrapupInput, WrapupStatus, allowed_codes, decide, replay,
};

/// Engine time at the start of every world.
pub const T0: i64 = 1_700_000_000_000;
pub const DAY_MS: i64 = 24 * 3_600_000;

pub fn at(ms_after_t0: i64) -> Timestamp {
    Timestamp(T0 + ms_after_t0)
}

// ---------------------------------------------------------------------------------------------- directory

#[derive(Clone, Debug)]
pub struct TestDir {
    pub settings: OrgSettings,
    pub queues: BTreeMap<String, Queue>,
    pub codes: BTreeMap<String, WrapupCode>,
    pub users: BTreeMap<String, User>,
    /// Load held elsewhere (other conversations), set by a test.
    pub loads: BTreeMap<String, Load>,
    /// Load contributed by the world's own conversation; the `World` refreshes it before every command.
    pub own_loads: BTreeMap<String, Load>,
}

impl Directory for TestDir {
    fn settings(&self) -> &OrgSettings {
        &self.settings
    }
    fn queue(&self, id: &str) -> Option<&Queue> {
        self.queues.get(id)
    }
    fn code(&self, id: &str) -> Option<&WrapupCode> {
        self.codes.get(id)
    }
    fn codes(&self) -> Vec<&WrapupCode> {
        self.codes.values().collect()
    }
    fn user(&self, id: &str) -> Option<&User> {
        self.users.get(id)
    }
    fn user_load(&self, user_id: &str) -> Load {
        let mut l = self.loads.get(user_id).copied().unwrap_or_default();
        let own = self.own_loads.get(user_id).copied().unwrap_or_default();
        l.voice += own.voice;
        l.message += own.message;
        l
    }
}

impl TestDir {
    /// An org with only the two system codes.
    pub fn empty() -> Self {
        let mut codes = BTreeMap::new();
        for c in WrapupCode::system_codes() {
            codes.insert(c.id.clone(), c);
        }
        TestDir {
            settings: OrgSettings::new("org-1".into(), "Test org".into()),
            queues: BTreeMap::new(),
            codes,
            users: BTreeMap::new(),
            loads: BTreeMap::new(),
            own_loads: BTreeMap::new(),
        }
    }

    pub fn with_code(mut self, c: WrapupCode) -> Self {
        self.codes.insert(c.id.clone(), c);
        self
    }
    pub fn with_queue(mut self, q: Queue) -> Self {
        self.queues.insert(q.id.clone(), q);
        self
    }
    pub fn with_user(mut self, u: User) -> Self {
        self.users.insert(u.id.clone(), u);
        self
    }

    /// The scenario org: one queue per ACW policy, agents alice/bob/carol, supervisor sue, admin adam.
    pub fn standard() -> Self {
        let agents = ["alice", "bob", "carol"];
        let basic = ["c-sale", "c-support"];
        let timed = ["c-sale", "c-support", "c-default"];
        let mut d = TestDir::empty()
            .with_code(code("c-sale", "Sale"))
            .with_code(code("c-support", "Support"))
            .with_code(code("c-default", "Default outcome"))
            .with_code(code("c-other", "Other"))
            .with_code(WrapupCode { archived: true, ..code("c-archived", "Archived") })
            .with_queue(queue("q-none", acw_none(), &basic, &agents))
            .with_queue(queue("q-optional", acw_optional(), &["c-sale", "c-support", "c-archived"], &agents))
            .with_queue(queue("q-mandatory", acw_mandatory(), &basic, &agents))
            .with_queue(queue("q-timeout", acw_timeout(60_000, Some("c-default")), &timed, &agents))
            .with_queue(queue("q-timeout-nodefault", acw_timeout(60_000, None), &basic, &agents))
            .with_queue(queue("q-forced", acw_forced(60_000, Some("c-default")), &timed, &agents))
            .with_queue(queue("q-requested", acw_requested(Some(30_000)), &basic, &agents))
            .with_queue(queue("q-requested-untimed", acw_requested(None), &basic, &agents))
            .with_queue(queue("q-other", acw_optional(), &["c-other"], &agents))
            .with_queue(Queue { auto_answer: true, ..queue("q-auto", acw_mandatory(), &basic, &agents) })
            .with_queue(Queue {
                inactivity_timeout_ms: 600_000,
                ..queue("q-chat", acw_optional(), &["c-sale", "c-support"], &agents)
            });
        for a in agents {
            d = d.with_user(user(a, &[Role::Agent]));
        }
        d.with_user(user("sue", &[Role::Supervisor])).with_user(user("adam", &[Role::Admin]))
    }
}

// ----------------------------------------------------------------------------------------------- builders

pub fn code(id: &str, name: &str) -> WrapupCode {
    WrapupCode { id: id.into(), name: name.into(), description: None, archived: false, system: false, version: 1 }
}

pub fn acw(policy: AcwPolicy, timeout_ms: Option<i64>, default_code: Option<&str>) -> AcwSettings {
    AcwSettings { policy, timeout_ms, default_code_id: default_code.map(String::from) }
}
pub fn acw_none() -> AcwSettings {
    acw(AcwPolicy::None, None, None)
}
pub fn acw_optional() -> AcwSettings {
    acw(AcwPolicy::Optional, None, None)
}
pub fn acw_mandatory() -> AcwSettings {
    acw(AcwPolicy::Mandatory, None, None)
}
pub fn acw_timeout(ms: i64, default_code: Option<&str>) -> AcwSettings {
    acw(AcwPolicy::MandatoryTimeout, Some(ms), default_code)
}
pub fn acw_forced(ms: i64, default_code: Option<&str>) -> AcwSettings {
    acw(AcwPolicy::MandatoryForcedTimeout, Some(ms), default_code)
}
pub fn acw_requested(ms: Option<i64>) -> AcwSettings {
    acw(AcwPolicy::AgentRequested, ms, None)
}

pub fn queue(id: &str, acw: AcwSettings, codes: &[&str], members: &[&str]) -> Queue {
    Queue {
        id: id.into(),
        name: format!("Queue {id}"),
        members: members.iter().map(|m| QueueMember { user_id: (*m).into(), joined: true }).collect(),
        wrapup_codes: codes.iter().map(|c| (*c).into()).collect(),
        acw,
        alerting_timeout_ms: 30_000,
        auto_answer: false,
        inactivity_timeout_ms: DAY_MS,
        service_level: None,
        context_schema: None,
        media_settings: MediaSettings::default(),
        version: 1,
    }
}

pub fn user(id: &str, roles: &[Role]) -> User {
    User {
        id: id.into(),
        name: format!("User {id}"),
        username: id.into(),
        email: None,
        password_hash: None,
        roles: roles.to_vec(),
        capacity: Capacity::default(),
        voice_blocks_others: None,
        routing_status: RoutingStatus::OnQueue,
        version: 1,
    }
}

// ------------------------------------------------------------------------------------------------- actors

pub fn system() -> Actor {
    Actor::system()
}
pub fn agent(id: &str) -> Actor {
    Actor::user(id, vec![Role::Agent])
}
pub fn supervisor() -> Actor {
    Actor::user("sue", vec![Role::Supervisor])
}
pub fn admin() -> Actor {
    Actor::user("adam", vec![Role::Admin])
}
pub fn client(scopes: &[Scope]) -> Actor {
    Actor::client("client-1", Scopes::of(scopes))
}
pub fn guest() -> Actor {
    Actor { kind: ActorKind::Guest, id: "guest-1".into(), roles: vec![], scopes: Scopes::default() }
}

// ----------------------------------------------------------------------------------------------- commands

pub fn inbound(media: MediaType, queue_id: &str) -> CreateConversation {
    CreateConversation { media_type: Some(media), queue_id: Some(queue_id.into()), ..Default::default() }
}
pub fn inbound_to_user(media: MediaType, user_id: &str) -> CreateConversation {
    CreateConversation { media_type: Some(media), user_id: Some(user_id.into()), ..Default::default() }
}
pub fn disconnect(pid: &str) -> Command {
    Command::Disconnect { participant_id: pid.into(), wrapup: None, skip_wrapup: false, reason: None }
}
pub fn set_code(pid: &str, code_id: &str) -> Command {
    Command::SetWrapup { participant_id: pid.into(), input: WrapupInput::code(code_id) }
}
pub fn close_with(code_id: Option<&str>) -> Command {
    Command::Close(CloseInput { wrapup: code_id.map(WrapupInput::code), ..Default::default() })
}
pub fn to_queue(queue_id: &str) -> TransferTarget {
    TransferTarget::Queue { queue_id: queue_id.into() }
}
pub fn to_user(user_id: &str) -> TransferTarget {
    TransferTarget::User { user_id: user_id.into() }
}
pub fn transfer(from: &str, to: TransferTarget) -> Command {
    Command::Transfer { from_participant_id: from.into(), to, context_data: None, wrapup: None }
}

// -------------------------------------------------------------------------------------------------- world

/// One conversation and its full event log, driven command by command.
pub struct World {
    pub dir: TestDir,
    pub conv: Option<Conversation>,
    pub events: Vec<Event>,
    pub now: Timestamp,
    /// Commands that produced events (DOMAIN.md: `version` counts exactly these).
    pub applied: u64,
    pub last_events: Vec<Event>,
    pub last_effects: Vec<switchboard_core::AgentEffect>,
    next_id: u64,
}

impl Default for World {
    fn default() -> Self {
        World::new(TestDir::standard())
    }
}

impl World {
    pub fn new(dir: TestDir) -> Self {
        World {
            dir,
            conv: None,
            events: Vec::new(),
            now: Timestamp(T0),
            applied: 0,
            last_events: Vec::new(),
            last_effects: Vec::new(),
            next_id: 0,
        }
    }

    pub fn advance(&mut self, ms: i64) {
        self.now = self.now.plus_ms(ms);
    }

    /// Runs `decide` once; applies the decision when it changed something. Invariants are asserted either way.
    pub fn try_exec(&mut self, actor: &Actor, cmd: Command) -> Result<Decision, Rejection> {
        self.dir.own_loads = own_loads(self.conv.as_ref());
        let before = self.conv.clone();
        let start_id = self.next_id;
        let mut counter = self.next_id;
        let mut ids = || {
            counter += 1;
            format!("id-{counter}")
        };
        let mut ctx = switchboard_core::Ctx { now: self.now, actor, dir: &self.dir, ids: &mut ids };
        let result = decide(self.conv.as_ref(), &cmd, &mut ctx);
        let used = counter;
        // Purity: the same inputs give the same answer.
        let mut again = start_id;
        let mut ids2 = || {
            again += 1;
            format!("id-{again}")
        };
        let mut ctx2 = switchboard_core::Ctx { now: self.now, actor, dir: &self.dir, ids: &mut ids2 };
        let second = decide(self.conv.as_ref(), &cmd, &mut ctx2);
        match (&result, &second) {
            (Ok(a), Ok(b)) => assert!(a.events == b.events && a.conversation == b.conversation, "decide is not pure"),
            (Err(a), Err(b)) => assert_eq!(a, b, "decide is not pure"),
            _ => panic!("decide is not pure: {result:?} vs {second:?}"),
        }
        assert_eq!(self.conv, before, "decide must not change its input");
        self.next_id = used;
        match &result {
            Err(_) => {}
            Ok(d) if d.events.is_empty() => {
                assert_eq!(Some(&d.conversation), before.as_ref(), "a decision without events must change nothing");
                assert!(d.effects.is_empty(), "a decision without events must have no effects");
            }
            Ok(d) => {
                self.check_command_events(&cmd, d);
                self.applied += 1;
                self.events.extend(d.events.iter().cloned());
                self.conv = Some(d.conversation.clone());
                self.last_events = d.events.clone();
                self.last_effects = d.effects.clone();
                let conv = self.conv.as_ref().unwrap();
                assert_eq!(conv.version, self.applied, "version = number of applied commands");
                assert_eq!(replay(&self.events).as_ref(), Some(conv), "replay(events) must equal the snapshot");
                check_conversation(conv, &self.dir);
            }
        }
        result
    }

    pub fn exec(&mut self, actor: &Actor, cmd: Command) -> Decision {
        let name = cmd.name();
        self.try_exec(actor, cmd).unwrap_or_else(|r| panic!("{name} was rejected: {r:?}"))
    }

    pub fn reject(&mut self, actor: &Actor, cmd: Command) -> Rejection {
        let name = cmd.name();
        match self.try_exec(actor, cmd) {
            Err(r) => r,
            Ok(d) => panic!("{name} should have been rejected, got events {:?}", types(&d.events)),
        }
    }

    /// Asserts the command is accepted and changes nothing.
    pub fn noop(&mut self, actor: &Actor, cmd: Command) {
        let d = self.exec(actor, cmd);
        assert!(d.events.is_empty(), "expected no events, got {:?}", types(&d.events));
    }

    pub fn create(&mut self, c: CreateConversation) -> Decision {
        self.exec(&system(), Command::Create(c))
    }

    pub fn conv(&self) -> &Conversation {
        self.conv.as_ref().expect("no conversation yet")
    }
    pub fn p(&self, pid: &str) -> &Participant {
        self.conv().participant(pid).unwrap_or_else(|| panic!("no participant {pid}"))
    }
    pub fn customer(&self) -> &Participant {
        self.conv().customer().expect("no customer")
    }
    /// The most recent acd participant.
    pub fn acd(&self) -> &Participant {
        self.conv().participants.iter().rev().find(|p| p.purpose == Purpose::Acd).expect("no acd participant")
    }
    /// The most recent agent participant of this user.
    pub fn agent_of(&self, user_id: &str) -> &Participant {
        self.conv()
            .participants
            .iter()
            .rev()
            .find(|p| p.purpose == Purpose::Agent && p.user_id.as_deref() == Some(user_id))
            .unwrap_or_else(|| panic!("no agent participant for {user_id}"))
    }
    pub fn wrapup(&self, pid: &str) -> &Wrapup {
        self.p(pid).wrapup.as_ref().unwrap_or_else(|| panic!("participant {pid} has no wrap-up"))
    }
    pub fn state(&self) -> ConversationState {
        self.conv().state()
    }
    pub fn last_types(&self) -> Vec<&'static str> {
        types(&self.last_events)
    }

    /// Routing: offers the most recent acd to `user_id`; returns the new agent participant's id.
    pub fn offer(&mut self, user_id: &str) -> String {
        let acd_id = self.acd().id.clone();
        self.exec(&system(), Command::Offer { acd_id, user_id: user_id.into() });
        self.agent_of(user_id).id.clone()
    }
    /// Offer and answer (by the agent itself); returns the agent participant's id.
    pub fn connect(&mut self, user_id: &str) -> String {
        let pid = self.offer(user_id);
        self.exec(&agent(user_id), Command::Answer { participant_id: pid.clone() });
        pid
    }
    /// Inbound voice on `queue_id`, connected to `user_id`: (customer id, agent id).
    pub fn connected_call(&mut self, queue_id: &str, user_id: &str) -> (String, String) {
        self.create(inbound(MediaType::Voice, queue_id));
        let cust = self.customer().id.clone();
        (cust, self.connect(user_id))
    }
    /// The agent hangs up itself.
    pub fn hang_up(&mut self, user_id: &str) {
        let pid = self.agent_of(user_id).id.clone();
        self.exec(&agent(user_id), disconnect(&pid));
    }

    pub fn due(&self) -> Vec<DueTimer> {
        self.conv.as_ref().map(due_timers).unwrap_or_default()
    }
    pub fn due_at(&self, kind: &TimerKind) -> Timestamp {
        self.due().into_iter().find(|t| &t.kind == kind).unwrap_or_else(|| panic!("no timer {kind:?}")).due_at
    }
    /// Fires an existing timer at its due time (the clock moves there if it is behind).
    pub fn fire(&mut self, kind: TimerKind) -> Decision {
        let due_at = self.due_at(&kind);
        self.now = self.now.max(due_at);
        self.exec(&system(), Command::FireTimer { timer: kind, due_at })
    }

    /// Per-command checks: one version per command, one `at`, and codes that were allowed when applied.
    fn check_command_events(&self, cmd: &Command, d: &Decision) {
        let prev_version = self.conv.as_ref().map_or(0, |c| c.version);
        let last_at = self.conv.as_ref().map(|c| c.last_event_at);
        let expected_at = match (cmd, last_at) {
            (Command::FireTimer { due_at, .. }, Some(l)) => (*due_at).max(l),
            (_, Some(l)) => self.now.max(l),
            (_, None) => self.now,
        };
        for e in &d.events {
            assert_eq!(e.version, prev_version + 1, "every event of a command carries the one new version");
            assert_eq!(e.at, expected_at, "every event of a command carries the command's time");
        }
        let after = &d.conversation;
        for e in &d.events {
            match &e.data {
                EventData::WrapupSet { participant_id, wrapup } => {
                    let p = after.participant(participant_id).unwrap();
                    let code = wrapup.code_id.as_deref().expect("a set wrap-up has a code");
                    let by_close = matches!(cmd, Command::Close(_)) && code == WRAPUP_SYSTEM;
                    assert!(by_close || code_allowed(p, code, &self.dir), "set code {code} not allowed for {p:?}");
                }
                EventData::WrapupAmended { participant_id, wrapup } => {
                    let p = after.participant(participant_id).unwrap();
                    let code = wrapup.code_id.as_deref().expect("an amended wrap-up has a code");
                    let kept = wrapup.amended_from.last().and_then(|a| a.code_id.as_deref()) == Some(code);
                    assert!(kept || code_allowed(p, code, &self.dir), "amended code {code} not allowed");
                }
                EventData::WrapupTimedOut { wrapup, .. } => {
                    assert!(matches!(cmd, Command::FireTimer { timer: TimerKind::WrapupDeadline { .. }, .. }));
                    let code = wrapup.code_id.as_deref();
                    assert!(code == wrapup.default_code_id.as_deref() || code == Some(WRAPUP_TIMEOUT));
                }
                _ => {}
            }
        }
        let count = |t: &str| self.events.iter().chain(&d.events).filter(|e| e.data.type_name() == t).count();
        assert!(count("conversation.ended") <= 1, "the media ends once");
        assert!(count("conversation.closed") <= 1, "a conversation closes once");
        assert_eq!(count("conversation.created"), 1, "one conversation.created");
    }
}

pub fn types(events: &[Event]) -> Vec<&'static str> {
    events.iter().map(|e| e.data.type_name()).collect()
}

pub fn code_allowed(p: &Participant, code: &str, dir: &TestDir) -> bool {
    allowed_codes(p, dir).iter().any(|c| c.id == code)
}

/// Load this conversation gives each user (alerting, connected, or disconnected with a pending wrap-up).
pub fn own_loads(conv: Option<&Conversation>) -> BTreeMap<String, Load> {
    let mut out: BTreeMap<String, Load> = BTreeMap::new();
    if let Some(c) = conv {
        for (u, m) in switchboard_core::routing::footprint(c).loads {
            out.entry(u).or_default().add(m, 1);
        }
    }
    out
}

/// DOMAIN.md's state invariants for one snapshot (config is static in these tests).
pub fn check_conversation(c: &Conversation, dir: &TestDir) {
    let live = c.participants.iter().any(Participant::is_live);
    let pending = c.participants.iter().any(Participant::wrapup_pending);
    let expected = match (live, pending) {
        (true, _) => ConversationState::Active,
        (false, true) => ConversationState::Wrapup,
        (false, false) => ConversationState::Closed,
    };
    assert_eq!(c.state(), expected, "state is derived from participants and wrap-ups");
    assert_eq!(c.ended_at.is_some(), !live, "the media has ended exactly when nobody is live");
    assert_eq!(c.end_reason.is_some(), c.ended_at.is_some());
    assert_eq!(c.closed_at.is_some(), expected == ConversationState::Closed, "closedAt is set exactly when closed");
    if let (Some(e), Some(cl)) = (c.ended_at, c.closed_at) {
        assert!(cl >= e);
    }
    for p in &c.participants {
        let ctx = format!("participant {} ({:?}, {:?})", p.id, p.purpose, p.state);
        assert_eq!(p.is_live(), p.state_reason.is_none(), "{ctx}: a reason exactly when disconnected");
        assert_eq!(p.is_live(), p.disconnected_at.is_none(), "{ctx}: disconnectedAt exactly when disconnected");
        assert!(p.purpose == Purpose::Acd || p.state != ParticipantState::Queued, "{ctx}: only acds queue");
        assert!(p.purpose == Purpose::Acd || !p.abandoned, "{ctx}: only acds are abandoned");
        assert!(!p.withdrawn || (p.purpose == Purpose::Agent && !p.is_live()), "{ctx}: withdrawn offers end");
        if p.withdrawn {
            assert!(p.wrapup.is_none() && p.connected_at.is_none(), "{ctx}: a withdrawn offer has no wrap-up");
        }
        if p.purpose == Purpose::Agent && p.state == ParticipantState::Alerting {
            if let Some(acd_id) = &p.acd_id {
                let acd = c.participant(acd_id).expect("the offer's acd exists");
                assert_eq!(acd.state, ParticipantState::Queued, "{ctx}: an offer's acd is queued");
            }
        }
        if p.purpose == Purpose::Acd {
            let alerting = c
                .participants
                .iter()
                .filter(|a| a.state == ParticipantState::Alerting && a.acd_id.as_deref() == Some(p.id.as_str()))
                .count();
            assert!(alerting <= 1, "{ctx}: at most one agent alerts per acd");
        }
        match (&p.wrapup, p.purpose, p.connected_at) {
            (None, Purpose::Agent, Some(_)) => panic!("{ctx}: an agent that connected has a wrap-up"),
            (Some(_), Purpose::Agent, None) => panic!("{ctx}: an agent that never connected has no wrap-up"),
            (Some(_), purpose, _) if purpose != Purpose::Agent => panic!("{ctx}: only agents have wrap-ups"),
            (Some(w), _, _) => check_wrapup(p, w, c, dir, &ctx),
            _ => {}
        }
    }
}

fn check_wrapup(p: &Participant, w: &Wrapup, c: &Conversation, dir: &TestDir, ctx: &str) {
    let acw = p
        .queue_id
        .as_deref()
        .and_then(|q| dir.queues.get(q))
        .map(|q| q.acw.clone())
        .unwrap_or_else(|| dir.settings.direct_acw.clone());
    assert_eq!((w.policy, w.timeout_ms, &w.default_code_id), (acw.policy, acw.timeout_ms, &acw.default_code_id));
    if p.is_live() {
        assert_eq!(w.status, WrapupStatus::NotStarted, "{ctx}: a live agent's wrap-up has not started");
        assert!(w.acw_started_at.is_none() && w.acw_ended_at.is_none());
        return;
    }
    assert_ne!(w.status, WrapupStatus::NotStarted, "{ctx}: a disconnected agent's ACW has started");
    assert_eq!(w.acw_started_at, p.disconnected_at, "{ctx}: ACW starts at the disconnect");
    match w.status {
        WrapupStatus::Pending => {
            assert!(w.acw_ended_at.is_none() && w.expected, "{ctx}");
            let deadline = w.timeout_ms.filter(|_| w.policy.has_deadline()).map(|t| p.disconnected_at.unwrap().0 + t);
            assert_eq!(w.deadline.map(|d| d.0), deadline, "{ctx}: the deadline is disconnect + timeoutMs");
            assert!(!w.provisional || w.policy == AcwPolicy::MandatoryForcedTimeout, "{ctx}");
            assert!(matches!(
                w.policy,
                AcwPolicy::Optional
                    | AcwPolicy::Mandatory
                    | AcwPolicy::MandatoryTimeout
                    | AcwPolicy::MandatoryForcedTimeout
                    | AcwPolicy::AgentRequested
            ));
        }
        status => {
            let (start, end) = (w.acw_started_at.unwrap(), w.acw_ended_at.expect("a final wrap-up has acwEndedAt"));
            assert!(end >= start, "{ctx}: acwEndedAt >= acwStartedAt");
            assert!(!w.provisional, "{ctx}: a final wrap-up is not provisional");
            let code = w.code_id.as_deref();
            match status {
                WrapupStatus::Set => {
                    let code = code.expect("a set wrap-up has a code");
                    let kept = w.amended_from.iter().any(|a| a.code_id.as_deref() == Some(code));
                    assert!(
                        code_allowed(p, code, dir) || code == WRAPUP_SYSTEM || kept,
                        "{ctx}: set code {code} is not allowed"
                    );
                }
                WrapupStatus::TimedOut => {
                    assert!(code == w.default_code_id.as_deref() || code == Some(WRAPUP_TIMEOUT), "{ctx}")
                }
                WrapupStatus::Skipped => assert!(code.is_none() && w.policy == AcwPolicy::Optional, "{ctx}"),
                WrapupStatus::NotRequired => assert!(code.is_none(), "{ctx}"),
                _ => unreachable!(),
            }
        }
    }
    match c.closed_at {
        Some(closed) => {
            let until = closed.plus_ms(dir.settings.amendment_window_ms);
            assert_eq!(w.amendable_until, Some(until), "{ctx}: amendableUntil = closedAt + window");
        }
        None => assert_eq!(w.amendable_until, None, "{ctx}: no amendment window before close"),
    }
}
