//! Property tests: random command sequences against a small org, with DOMAIN.md's invariants checked after every
//! step (the checks live in `support::World::try_exec` and `support::check_conversation`), plus capacity,
//! timer, JSON round-trip and `allowedActions` properties.

mod support;

#[path = "properties/allowed.rs"]
mod allowed;
#[path = "properties/ops.rs"]
mod ops;
#[path = "properties/progress.rs"]
mod progress;

use allowed::check_allowed_actions;
use ops::{Op, command, op, prop_dir};
use proptest::prelude::*;
use support::*;
use switchboard_core::config::Role;
use switchboard_core::timers::due_timers;
use switchboard_core::{Actor, Command, ConversationState, Event, ParticipantState, Rejection, Scope};

/// Fires a timer like the shell would: a due one, else the next one after moving the clock; or a stale one.
fn fire(w: &mut World, i: u8, stale: bool) {
    let Some(conv) = w.conv.as_ref() else { return };
    let mut timers = due_timers(conv);
    if timers.is_empty() {
        return;
    }
    timers.sort_by_key(|t| t.due_at);
    let due: Vec<_> = timers.iter().filter(|t| t.due_at <= w.now).cloned().collect();
    let t = if due.is_empty() { timers[0].clone() } else { due[i as usize % due.len()].clone() };
    if stale {
        let cmd = Command::FireTimer { timer: t.kind.clone(), due_at: t.due_at.plus_ms(-1) };
        let d = w.try_exec(&system(), cmd).expect("a stale firing is never refused");
        assert!(d.events.is_empty(), "a stale firing changes nothing");
        return;
    }
    w.now = w.now.max(t.due_at);
    let version = w.conv().version;
    let d = w.try_exec(&system(), Command::FireTimer { timer: t.kind.clone(), due_at: t.due_at });
    let d = d.expect("a timer firing is never refused");
    assert!(!d.events.is_empty(), "a live timer's firing changes something");
    assert_eq!(w.conv().version, version + 1);
    assert!(!w.due().contains(&t), "a timer fires exactly once");
}

fn step(w: &mut World, op: &Op) {
    match *op {
        Op::Advance { ms } => w.advance(ms as i64),
        Op::Fire { pick, stale } => fire(w, pick, stale),
        Op::Create { .. } if w.conv.as_ref().is_some_and(|c| c.state() == ConversationState::Closed) => {
            w.next_conversation();
            step(w, op);
        }
        _ => {
            if let Some((actor, cmd)) = command(w, op) {
                let before = (w.conv.clone(), w.events.len(), w.applied);
                if let Err(r) = w.try_exec(&actor, cmd) {
                    assert!(!matches!(r, Rejection::VersionMismatch { .. }), "core never checks versions itself");
                    assert_eq!((w.conv.clone(), w.events.len(), w.applied), before, "a rejection changes nothing");
                }
            }
        }
    }
    check_capacity(w);
}

/// Offers only go to agents with room and direct offers check capacity, so no load exceeds capacity.
fn check_capacity(w: &World) {
    for (user_id, load) in own_loads(w.conv.as_ref()) {
        let cap = w.dir.users[&user_id].capacity;
        assert!(load.voice <= cap.voice && load.message <= cap.message, "{user_id} over capacity: {load:?}");
    }
}

fn check_serde_round_trip(w: &World) {
    let json = serde_json::to_string(&w.events).expect("events serialize");
    let back: Vec<Event> = serde_json::from_str(&json).expect("events deserialize");
    assert_eq!(back, w.events, "events survive a JSON round trip");
    if let Some(c) = &w.conv {
        let snap: switchboard_core::Conversation = serde_json::from_value(serde_json::to_value(c).unwrap()).unwrap();
        assert_eq!(&snap, c, "the snapshot survives a JSON round trip");
        assert_eq!(switchboard_core::replay(&back).as_ref(), Some(c));
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn invariants_hold_after_every_step(first in (any::<bool>(), any::<u8>()), ops in prop::collection::vec(op(), 1..40)) {
        let mut w = World::new(prop_dir());
        step(&mut w, &Op::Create { message: first.0, target: first.1 });
        prop_assert!(w.conv.is_some(), "the first create is valid");
        for op in &ops {
            step(&mut w, op);
        }
        check_serde_round_trip(&w);
    }

    /// `allowed_actions` agrees with `decide`, for a rotating cast of callers.
    #[test]
    fn allowed_actions_agree_with_decide(first in (any::<bool>(), any::<u8>()), ops in prop::collection::vec(op(), 1..30)) {
        let cast = [
            system(),
            Actor::user("sup", vec![Role::Supervisor]),
            agent("a1"),
            agent("a2"),
            client(&[Scope::ConversationsRead, Scope::ConversationsWrite, Scope::ConversationsClose]),
            client(&[Scope::WrapupWrite, Scope::WrapupAmend]),
            client(&[Scope::ConversationsParticipate]),
        ];
        let mut w = World::new(prop_dir());
        step(&mut w, &Op::Create { message: first.0, target: first.1 });
        for (i, op) in ops.iter().enumerate() {
            step(&mut w, op);
            check_allowed_actions(&mut w, &cast[i % cast.len()]);
        }
    }

    /// Draining every timer always reaches a conversation with no timers left and nothing alerting.
    #[test]
    fn timers_drain_to_a_quiet_conversation(first in (any::<bool>(), any::<u8>()), ops in prop::collection::vec(op(), 0..25)) {
        let mut w = World::new(prop_dir());
        step(&mut w, &Op::Create { message: first.0, target: first.1 });
        for op in &ops {
            step(&mut w, op);
        }
        for _ in 0..50 {
            if w.due().is_empty() {
                break;
            }
            fire(&mut w, 0, false);
        }
        prop_assert!(w.due().is_empty(), "timers left: {:?}", w.due());
        let alerting = w.conv().participants.iter().any(|p| p.state == ParticipantState::Alerting);
        prop_assert!(!alerting, "an alerting offer always has a timer");
    }
}
