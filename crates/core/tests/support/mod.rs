//! Test support: an in-memory `Directory`, config builders, actors, and a `World` that applies commands with a
//! controllable clock and deterministic ids, checking DOMAIN.md's invariants after every step.
#![allow(dead_code)]

mod dir;
mod invariants;

pub use dir::*;
pub use invariants::*;
use switchboard_core::command::{CloseInput, CreateConversation, TransferTarget};
use switchboard_core::config::{Role, WRAPUP_SYSTEM, WRAPUP_TIMEOUT};
use switchboard_core::timers::{DueTimer, TimerKind, due_timers};
use switchboard_core::{
    Actor, ActorKind, AcwPolicy, Command, Conversation, ConversationState, Decision, Event, EventData, MediaType,
    Participant, Purpose, Rejection, Scope, Scopes, Timestamp, Wrapup, WrapupInput, decide, replay,
};

/// Engine time at the start of every world.
pub const T0: i64 = 1_700_000_000_000;

pub fn at(ms_after_t0: i64) -> Timestamp {
    Timestamp(T0 + ms_after_t0)
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
pub fn hold(pid: &str) -> Command {
    Command::Hold { participant_id: pid.into() }
}
pub fn unhold(pid: &str) -> Command {
    Command::Unhold { participant_id: pid.into() }
}
pub fn consult(from: &str, to: TransferTarget) -> Command {
    Command::Consult { from_participant_id: from.into(), to, context_data: None }
}
pub fn complete_consult(pid: &str) -> Command {
    Command::CompleteConsult { participant_id: pid.into() }
}
pub fn cancel_consult(pid: &str) -> Command {
    Command::CancelConsult { participant_id: pid.into() }
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

    /// Forgets the conversation (keeping the clock, ids and config) so the next command can create another.
    pub fn next_conversation(&mut self) {
        self.conv = None;
        self.events.clear();
        self.applied = 0;
        self.last_events.clear();
        self.last_effects.clear();
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
                check_consult_events(conv, &self.events);
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

    /// Creates as the guest, so the customer participant is the guest's own (as on web messaging).
    pub fn create(&mut self, c: CreateConversation) -> Decision {
        self.exec(&guest(), Command::Create(c))
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
    /// How many analytics facts named `name` the conversation yields now.
    pub fn metric_count(&self, name: &str) -> usize {
        switchboard_core::analytics::facts(self.conv()).metrics.iter().filter(|m| m.name == name).count()
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
                    // Rule 3: the forced timebox binds the agent; only others, close or the deadline end it.
                    if wrapup.policy == AcwPolicy::MandatoryForcedTimeout
                        && !matches!(cmd, Command::FireTimer { .. } | Command::Close(_))
                    {
                        let own = e.actor.kind == ActorKind::User && p.user_id.as_deref() == Some(e.actor.id.as_str());
                        assert!(!own, "an agent ended its own forced-timeout ACW early");
                    }
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
