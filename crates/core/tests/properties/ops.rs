//! The random world: a small org (four queues, one per interesting ACW policy; three agents; codes), abstract
//! operations that shrink well, and their translation into commands against the current conversation.

use crate::progress::progress;
use crate::support::*;
use proptest::prelude::*;
use switchboard_core::command::{CloseInput, CreateConversation, PendingWrapups, TransferTarget};
use switchboard_core::config::{MediaSetting, MediaSettings, Queue, Role, WRAPUP_SYSTEM, WRAPUP_TIMEOUT, WrapupCode};
use switchboard_core::routing::has_room;
use switchboard_core::{Actor, Command, MediaType, Participant, ParticipantState, Patch, Purpose, Scope, WrapupInput};

pub const AGENTS: [&str; 3] = ["a1", "a2", "a3"];
pub const QUEUES: [&str; 4] = ["qa", "qb", "qf", "qr"];
/// Allowed somewhere, on no queue, archived, and the two system codes.
pub const CODES: [&str; 7] = ["c1", "c2", "c3", "c-x", "c-arch", WRAPUP_TIMEOUT, WRAPUP_SYSTEM];

pub fn prop_dir() -> TestDir {
    let with_alerting = |q: Queue| Queue { alerting_timeout_ms: 10_000, inactivity_timeout_ms: 300_000, ..q };
    let mut d = TestDir::empty()
        .with_code(code("c1", "One"))
        .with_code(code("c2", "Two"))
        .with_code(code("c3", "Three"))
        .with_code(code("c-x", "Nowhere"))
        .with_code(WrapupCode { archived: true, ..code("c-arch", "Archived") })
        .with_queue(with_alerting(queue("qa", acw_timeout(5_000, Some("c1")), &["c1", "c2"], &AGENTS)))
        .with_queue(with_alerting(Queue {
            // Message offers on qb are auto-answered.
            media_settings: MediaSettings {
                message: Some(MediaSetting { auto_answer: Some(true), alerting_timeout_ms: None }),
                voice: None,
            },
            ..queue("qb", acw_optional(), &["c2", "c3", "c-arch"], &AGENTS)
        }))
        .with_queue(with_alerting(queue("qf", acw_forced(5_000, None), &["c3"], &AGENTS)))
        .with_queue(with_alerting(queue("qr", acw_requested(Some(5_000)), &["c1", "c3"], &AGENTS)));
    for a in AGENTS {
        d = d.with_user(user(a, &[Role::Agent]));
    }
    d.settings.direct_alerting_timeout_ms = 10_000;
    d.settings.amendment_window_ms = 60_000;
    d.settings.max_transfers = 3;
    d.with_user(user("sup", &[Role::Supervisor]))
}

#[derive(Clone, Debug)]
pub enum Op {
    Create {
        message: bool,
        target: u8,
    },
    Offer {
        agent: u8,
    },
    Answer {
        pick: u8,
        actor: u8,
    },
    Decline {
        pick: u8,
        actor: u8,
    },
    Disconnect {
        pick: u8,
        actor: u8,
        wrapup: Option<u8>,
        skip: bool,
    },
    SetWrapup {
        pick: u8,
        actor: u8,
        code: Option<u8>,
        notes: bool,
    },
    Skip {
        pick: u8,
        actor: u8,
    },
    RequestAcw {
        pick: u8,
        actor: u8,
        required: bool,
    },
    Transfer {
        pick: u8,
        actor: u8,
        target: u8,
        context: bool,
        wrapup: Option<u8>,
    },
    Close {
        actor: u8,
        code: Option<u8>,
        per: Option<(u8, u8)>,
        system: bool,
    },
    Post {
        pick: u8,
        actor: u8,
    },
    Attributes {
        actor: u8,
        key: u8,
        remove: bool,
    },
    ParticipantAttributes {
        pick: u8,
        actor: u8,
    },
    Withdraw {
        pick: u8,
    },
    Hold {
        pick: u8,
        actor: u8,
        unhold: bool,
    },
    Consult {
        pick: u8,
        actor: u8,
        target: u8,
        context: bool,
    },
    /// completeConsult or cancelConsult, usually by a consult's initiator.
    EndConsult {
        pick: u8,
        actor: u8,
        complete: bool,
    },
    Fire {
        pick: u8,
        stale: bool,
    },
    Advance {
        ms: u32,
    },
    /// The natural next step of a contact-center day, so random runs get deep into the lifecycle.
    Progress {
        sel: u8,
    },
}

pub fn op() -> impl Strategy<Value = Op> {
    let b = any::<u8>;
    prop_oneof![
        1 => (any::<bool>(), b()).prop_map(|(message, target)| Op::Create { message, target }),
        6 => b().prop_map(|agent| Op::Offer { agent }),
        6 => (b(), b()).prop_map(|(pick, actor)| Op::Answer { pick, actor }),
        1 => (b(), b()).prop_map(|(pick, actor)| Op::Decline { pick, actor }),
        3 => (b(), b(), proptest::option::weighted(0.3, b()), any::<bool>())
            .prop_map(|(pick, actor, wrapup, skip)| Op::Disconnect { pick, actor, wrapup, skip }),
        5 => (b(), b(), proptest::option::weighted(0.9, b()), any::<bool>())
            .prop_map(|(pick, actor, code, notes)| Op::SetWrapup { pick, actor, code, notes }),
        1 => (b(), b()).prop_map(|(pick, actor)| Op::Skip { pick, actor }),
        1 => (b(), b(), any::<bool>()).prop_map(|(pick, actor, required)| Op::RequestAcw { pick, actor, required }),
        2 => (b(), b(), b(), any::<bool>(), proptest::option::weighted(0.2, b()))
            .prop_map(|(pick, actor, target, context, wrapup)| Op::Transfer { pick, actor, target, context, wrapup }),
        1 => (b(), proptest::option::of(b()), proptest::option::weighted(0.3, (b(), b())), any::<bool>())
            .prop_map(|(actor, code, per, system)| Op::Close { actor, code, per, system }),
        1 => (b(), b()).prop_map(|(pick, actor)| Op::Post { pick, actor }),
        1 => (b(), b(), any::<bool>()).prop_map(|(actor, key, remove)| Op::Attributes { actor, key, remove }),
        1 => (b(), b()).prop_map(|(pick, actor)| Op::ParticipantAttributes { pick, actor }),
        1 => b().prop_map(|pick| Op::Withdraw { pick }),
        2 => (b(), b(), any::<bool>()).prop_map(|(pick, actor, unhold)| Op::Hold { pick, actor, unhold }),
        2 => (b(), b(), b(), any::<bool>())
            .prop_map(|(pick, actor, target, context)| Op::Consult { pick, actor, target, context }),
        2 => (b(), b(), any::<bool>()).prop_map(|(pick, actor, complete)| Op::EndConsult { pick, actor, complete }),
        4 => (b(), any::<bool>()).prop_map(|(pick, stale)| Op::Fire { pick, stale: stale && pick % 4 == 0 }),
        3 => prop::sample::select(vec![0u32, 500, 3_000, 6_000, 11_000, 70_000]).prop_map(|ms| Op::Advance { ms }),
        10 => b().prop_map(|sel| Op::Progress { sel }),
    ]
}

pub fn code_of(i: u8) -> String {
    // Allowed-looking codes most of the time, the refused kinds now and then.
    let i = i as usize % 10;
    CODES[if i < 6 { i % 3 } else { i - 3 }].to_string()
}

/// One participant: usually among `relevant`, sometimes any (to exercise refusals).
pub fn pick(w: &World, pick: u8, relevant: impl Fn(&Participant) -> bool) -> Option<&Participant> {
    let all = &w.conv.as_ref()?.participants;
    let rel: Vec<&Participant> = all.iter().filter(|p| relevant(p)).collect();
    if pick % 8 == 7 || rel.is_empty() {
        all.get(pick as usize % all.len().max(1))
    } else {
        Some(rel[pick as usize % rel.len()])
    }
}

/// Who acts: the system, a supervisor, the participant's own actor, another agent, or a client.
pub fn actor(sel: u8, p: Option<&Participant>) -> Actor {
    let own = || match p {
        Some(p) if p.purpose == Purpose::Customer => guest(),
        Some(Participant { user_id: Some(u), .. }) => agent(u),
        _ => agent(AGENTS[sel as usize % 3]),
    };
    match sel % 10 {
        0 => system(),
        1 => Actor::user("sup", vec![Role::Supervisor]),
        2..=7 => own(),
        8 => {
            let mine = p.and_then(|p| p.user_id.as_deref());
            let other = (0..3).map(|k| AGENTS[(sel as usize + k) % 3]).find(|a| Some(*a) != mine);
            agent(other.expect("three agents"))
        }
        _ if sel % 20 == 9 => client(&[Scope::ConversationsRead, Scope::ConversationsWrite, Scope::ConversationsClose]),
        _ => client(&[Scope::WrapupWrite, Scope::WrapupAmend]),
    }
}

pub fn id(p: Option<&Participant>) -> String {
    p.map_or_else(|| "p-none".to_string(), |p| p.id.clone())
}

pub fn has_wrapup(p: &Participant) -> bool {
    p.wrapup.is_some()
}

pub fn connected_agent(p: &Participant) -> bool {
    p.purpose == Purpose::Agent && p.state == ParticipantState::Connected
}

/// A transfer or consult target: one of the queues, or one of the agents.
pub fn target_of(target: u8) -> TransferTarget {
    match target % 7 {
        t @ 0..=3 => TransferTarget::Queue { queue_id: QUEUES[t as usize].into() },
        t => TransferTarget::User { user_id: AGENTS[t as usize - 4].into() },
    }
}

/// Turns an abstract op into a command against the current world; `None` when the routing loop would not
/// issue it (an offer to an agent without room) or for pure clock moves.
pub fn command(w: &mut World, op: &Op) -> Option<(Actor, Command)> {
    Some(match *op {
        Op::Create { message, target } => {
            let media = Some(if message { MediaType::Message } else { MediaType::Voice });
            let c = match target % 6 {
                0..=3 => CreateConversation {
                    media_type: media,
                    queue_id: Some(QUEUES[target as usize % 4].into()),
                    ..Default::default()
                },
                4 => CreateConversation {
                    media_type: media,
                    user_id: Some(AGENTS[target as usize % 3].into()),
                    fallback_queue_id: (target % 2 == 0).then(|| "qb".into()),
                    ..Default::default()
                },
                _ => CreateConversation {
                    media_type: media,
                    bot_name: Some("bot".into()),
                    queue_id: Some("qa".into()),
                    ..Default::default()
                },
            };
            (system(), Command::Create(c))
        }
        Op::Offer { agent } => {
            let conv = w.conv.as_ref()?;
            let acd = conv.participants.iter().rev().find(|p| p.purpose == Purpose::Acd)?;
            let user_id = AGENTS[agent as usize % 3];
            let load = switchboard_core::Directory::user_load(&w.dir, user_id);
            if !has_room(&w.dir.users[user_id], load, conv.media_type, w.dir.settings.voice_blocks_others) {
                return None;
            }
            (system(), Command::Offer { acd_id: acd.id.clone(), user_id: user_id.into() })
        }
        Op::Answer { pick: i, actor: a } => {
            let p = pick(w, i, |p| matches!(p.state, ParticipantState::Alerting | ParticipantState::Contacting));
            (actor(a, p), Command::Answer { participant_id: id(p) })
        }
        Op::Decline { pick: i, actor: a } => {
            let p = pick(w, i, |p| p.state == ParticipantState::Alerting);
            (actor(a, p), Command::Decline { participant_id: id(p) })
        }
        Op::Disconnect { pick: i, actor: a, wrapup, skip } => {
            let p = if i % 5 == 0 {
                pick(w, i, |p| p.purpose == Purpose::Customer)
            } else {
                pick(w, i, |p| p.is_live() && p.purpose == Purpose::Agent)
            };
            let wrapup = wrapup.map(|c| WrapupInput::code(code_of(c)));
            let skip_wrapup = skip && wrapup.is_none();
            (actor(a, p), Command::Disconnect { participant_id: id(p), wrapup, skip_wrapup, reason: None })
        }
        Op::SetWrapup { pick: i, actor: a, code, notes } => {
            let p = pick(w, i, has_wrapup);
            let input = WrapupInput {
                code_id: code.map(code_of),
                notes: if notes { Patch::Value("n".into()) } else { Patch::Absent },
                tags: Patch::Absent,
            };
            (actor(a, p), Command::SetWrapup { participant_id: id(p), input })
        }
        Op::Skip { pick: i, actor: a } => {
            let p = pick(w, i, Participant::wrapup_pending);
            (actor(a, p), Command::SkipWrapup { participant_id: id(p) })
        }
        Op::RequestAcw { pick: i, actor: a, required } => {
            let p = pick(w, i, |p| p.purpose == Purpose::Agent && p.state == ParticipantState::Connected);
            (actor(a, p), Command::RequestAcw { participant_id: id(p), required })
        }
        Op::Transfer { pick: i, actor: a, target, context, wrapup } => {
            let p = pick(w, i, |p| {
                matches!(
                    (p.purpose, p.state),
                    (Purpose::Agent | Purpose::Bot, ParticipantState::Connected)
                        | (Purpose::Acd, ParticipantState::Queued)
                )
            });
            let to = target_of(target);
            let context_data = context.then(|| serde_json::json!({"t": target, "drop": null}));
            let wrapup = wrapup.map(|c| WrapupInput::code(code_of(c)));
            (actor(a, p), Command::Transfer { from_participant_id: id(p), to, context_data, wrapup })
        }
        Op::Close { actor: a, code, per, system } => {
            let wrapups = per
                .and_then(|(i, c)| {
                    pick(w, i, |p| p.purpose == Purpose::Agent).map(|p| (p.id.clone(), WrapupInput::code(code_of(c))))
                })
                .into_iter()
                .collect();
            let pending_wrapups = if system { PendingWrapups::System } else { PendingWrapups::Keep };
            let input = CloseInput {
                wrapup: code.map(|c| WrapupInput::code(code_of(c))),
                wrapups,
                pending_wrapups,
                reason: None,
            };
            (actor(a, None), Command::Close(input))
        }
        Op::Post { pick: i, actor: a } => {
            let p = pick(w, i, |p| p.state == ParticipantState::Connected);
            let pid = (a % 3 != 0).then(|| id(p));
            (actor(a, p), Command::PostMessage { participant_id: pid, text: "hello".into() })
        }
        Op::Attributes { actor: a, key, remove } => {
            let value = if remove { serde_json::Value::Null } else { serde_json::json!(key) };
            let patch = serde_json::json!({ format!("k{}", key % 4): value });
            (actor(a, None), Command::UpdateAttributes { patch })
        }
        Op::ParticipantAttributes { pick: i, actor: a } => {
            let p = pick(w, i, |_| true);
            let patch = [(format!("k{}", i % 3), (i % 2 == 0).then(|| "v".to_string()))].into();
            (actor(a, p), Command::UpdateParticipantAttributes { participant_id: id(p), patch })
        }
        Op::Withdraw { pick: i } => {
            let p = pick(w, i, |p| p.state == ParticipantState::Alerting && !p.direct);
            (system(), Command::WithdrawOffer { participant_id: id(p) })
        }
        Op::Hold { pick: i, actor: a, unhold } => {
            let p = pick(w, i, connected_agent);
            let participant_id = id(p);
            (actor(a, p), if unhold { Command::Unhold { participant_id } } else { Command::Hold { participant_id } })
        }
        Op::Consult { pick: i, actor: a, target, context } => {
            let p = pick(w, i, connected_agent);
            let context_data = context.then(|| serde_json::json!({"consult": target}));
            (actor(a, p), Command::Consult { from_participant_id: id(p), to: target_of(target), context_data })
        }
        Op::EndConsult { pick: i, actor: a, complete } => {
            let initiators = |p: &Participant| {
                w.conv.as_ref().is_some_and(|c| c.participants.iter().any(|t| t.consult_for.as_ref() == Some(&p.id)))
            };
            let p = pick(w, i, initiators);
            let participant_id = id(p);
            let cmd = if complete {
                Command::CompleteConsult { participant_id }
            } else {
                Command::CancelConsult { participant_id }
            };
            (actor(a, p), cmd)
        }
        Op::Progress { sel } => return progress(w, sel),
        Op::Fire { .. } | Op::Advance { .. } => return None,
    })
}
