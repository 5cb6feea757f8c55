//! The natural next step of a contact-center day for the random runs (`Op::Progress`): answer what alerts, route
//! what waits, then let connected agents work (wrap-up, hold, consult, transfer, hang up) and pending wrap-ups end.

use crate::ops::{AGENTS, Op, QUEUES, actor, command};
use crate::support::*;
use switchboard_core::command::TransferTarget;
use switchboard_core::{
    Actor, Command, ConversationState, MediaType, Participant, ParticipantState, Purpose, WrapupInput,
};

/// An allowed code for this agent participant, picked by `sel`.
pub fn allowed_code(w: &World, p: &Participant, sel: u8) -> String {
    let allowed = switchboard_core::allowed_codes(p, &w.dir);
    allowed[sel as usize % allowed.len()].id.clone()
}

pub fn progress(w: &mut World, sel: u8) -> Option<(Actor, Command)> {
    let conv = w.conv.as_ref()?;
    let find = |f: &dyn Fn(&Participant) -> bool| conv.participants.iter().rev().find(|p| f(p)).cloned();
    let own = |p: &Participant| actor(2, Some(p));
    if conv.state() == ConversationState::Closed {
        let final_agent = find(&|p| p.wrapup.as_ref().is_some_and(|w| w.status.is_final()));
        return match final_agent {
            Some(p) if sel.is_multiple_of(3) => {
                let code = allowed_code(w, &p, sel);
                Some((
                    actor(1, None),
                    Command::SetWrapup { participant_id: p.id.clone(), input: WrapupInput::code(code) },
                ))
            }
            _ => {
                w.next_conversation();
                command(w, &Op::Create { message: sel.is_multiple_of(2), target: sel / 2 })
            }
        };
    }
    let offered = |acd: &Participant| {
        conv.participants.iter().any(|a| a.state == ParticipantState::Alerting && a.acd_id.as_deref() == Some(&acd.id))
    };
    if let Some(p) = find(&|p| p.state == ParticipantState::Alerting) {
        let cmd = if sel.is_multiple_of(6) {
            Command::Decline { participant_id: p.id.clone() }
        } else {
            Command::Answer { participant_id: p.id.clone() }
        };
        return Some((own(&p), cmd));
    }
    if let Some(p) = find(&|p| p.state == ParticipantState::Contacting) {
        return Some((system(), Command::Answer { participant_id: p.id }));
    }
    if find(&|p| p.purpose == Purpose::Acd && p.state == ParticipantState::Queued && !offered(p)).is_some() {
        return command(w, &Op::Offer { agent: sel });
    }
    // An answered consult: the initiator completes or cancels it, or one of the two agents hangs up.
    if let Some(target) = consults_in_progress(conv).into_iter().find(|t| t.state == ParticipantState::Connected) {
        let initiator = conv.participant(target.consult_for.as_deref()?)?;
        let pid = initiator.id.clone();
        return Some(match sel % 5 {
            0 => (own(initiator), Command::CancelConsult { participant_id: pid }),
            1 => (own(initiator), hang_up(&pid)),
            2 => (own(target), hang_up(&target.id)),
            _ => (own(initiator), Command::CompleteConsult { participant_id: pid }),
        });
    }
    let voice = conv.media_type == MediaType::Voice;
    if let Some(p) = find(&|p| p.purpose == Purpose::Agent && p.state == ParticipantState::Connected) {
        let pid = p.id.clone();
        let held = conv.customer().is_some_and(|c| c.held);
        return Some(match sel % 11 {
            8 if voice && held => (own(&p), Command::Unhold { participant_id: pid }),
            8 if voice => (own(&p), Command::Hold { participant_id: pid }),
            9 | 10 if voice => {
                let to = if sel % 11 == 9 {
                    TransferTarget::User { user_id: AGENTS[sel as usize / 11 % 3].into() }
                } else {
                    TransferTarget::Queue { queue_id: QUEUES[sel as usize / 11 % 4].into() }
                };
                let context_data = sel.is_multiple_of(2).then(|| serde_json::json!({"topic": sel}));
                (own(&p), Command::Consult { from_participant_id: pid, to, context_data })
            }
            0 | 1 => (
                own(&p),
                Command::SetWrapup { participant_id: pid, input: WrapupInput::code(allowed_code(w, &p, sel)) },
            ),
            2 => (own(&p), Command::RequestAcw { participant_id: pid, required: true }),
            3 => (
                own(&p),
                Command::Transfer {
                    from_participant_id: pid,
                    to: TransferTarget::Queue { queue_id: QUEUES[sel as usize / 8 % 4].into() },
                    context_data: None,
                    wrapup: None,
                },
            ),
            4 => (own(&p), Command::PostMessage { participant_id: Some(pid), text: "hi".into() }),
            5 => {
                let cust = conv.customer()?.clone();
                (
                    own(&cust),
                    Command::Disconnect { participant_id: cust.id, wrapup: None, skip_wrapup: false, reason: None },
                )
            }
            _ => (own(&p), hang_up(&pid)),
        });
    }
    if let Some(p) = find(&|p| p.purpose == Purpose::Bot && p.state == ParticipantState::Connected) {
        // Half the handovers record the bot's outcome.
        let wrapup = sel.is_multiple_of(2).then(|| WrapupInput::code(allowed_code(w, &p, sel / 2)));
        return Some((
            system(),
            Command::Transfer {
                from_participant_id: p.id,
                to: TransferTarget::Queue { queue_id: "qb".into() },
                context_data: None,
                wrapup,
            },
        ));
    }
    if let Some(p) = find(&Participant::wrapup_pending) {
        let pid = p.id.clone();
        return Some(match sel % 4 {
            0 => (own(&p), Command::SkipWrapup { participant_id: pid }),
            1 => (
                actor(1, None),
                Command::SetWrapup { participant_id: pid, input: WrapupInput::code(allowed_code(w, &p, sel)) },
            ),
            _ => (
                own(&p),
                Command::SetWrapup { participant_id: pid, input: WrapupInput::code(allowed_code(w, &p, sel)) },
            ),
        });
    }
    None
}

fn hang_up(pid: &str) -> Command {
    Command::Disconnect { participant_id: pid.into(), wrapup: None, skip_wrapup: false, reason: None }
}
