//! `allowedActions` against `decide`: what core promises a caller may do is what `decide` accepts.

use super::ops::{QUEUES, target_of};
use crate::support::*;
use switchboard_core::command::{CloseInput, PendingWrapups, TransferTarget};
use switchboard_core::{Actor, Command, Scope, WrapupInput};

/// Candidate commands for one `allowedActions` name: a valid-looking parameterization per participant.
pub fn candidates(w: &World, name: &str) -> Vec<Command> {
    let conv = w.conv();
    let mut out = Vec::new();
    for p in &conv.participants {
        let pid = p.id.clone();
        let codes = || switchboard_core::allowed_codes(p, &w.dir).into_iter().map(|c| WrapupInput::code(c.id.clone()));
        let wrapup_final = p.wrapup.as_ref().is_some_and(|w| w.status.is_final());
        match name {
            "answer" => out.push(Command::Answer { participant_id: pid }),
            "decline" => out.push(Command::Decline { participant_id: pid }),
            "disconnect" => {
                out.push(Command::Disconnect { participant_id: pid, wrapup: None, skip_wrapup: false, reason: None })
            }
            "transfer" => out.extend(QUEUES.iter().map(|q| Command::Transfer {
                from_participant_id: pid.clone(),
                to: TransferTarget::Queue { queue_id: (*q).into() },
                context_data: None,
                wrapup: None,
            })),
            "postMessage" => out.push(Command::PostMessage { participant_id: Some(pid), text: "hi".into() }),
            "updateParticipantAttributes" => out.push(Command::UpdateParticipantAttributes {
                participant_id: pid,
                patch: [("k".into(), Some("v".into()))].into(),
            }),
            "setWrapup" if !wrapup_final => {
                out.extend(codes().map(|input| Command::SetWrapup { participant_id: pid.clone(), input }))
            }
            "amendWrapup" if wrapup_final => {
                out.extend(codes().map(|input| Command::SetWrapup { participant_id: pid.clone(), input }))
            }
            "skipWrapup" => out.push(Command::SkipWrapup { participant_id: pid }),
            "requestAcw" => out.push(Command::RequestAcw { participant_id: pid, required: true }),
            "hold" => out.push(Command::Hold { participant_id: pid }),
            "unhold" => out.push(Command::Unhold { participant_id: pid }),
            "consult" => out.extend((0..7).map(|t| Command::Consult {
                from_participant_id: pid.clone(),
                to: target_of(t),
                context_data: None,
            })),
            "completeConsult" => out.push(Command::CompleteConsult { participant_id: pid }),
            "cancelConsult" => out.push(Command::CancelConsult { participant_id: pid }),
            _ => {}
        }
    }
    match name {
        "updateAttributes" => out.push(Command::UpdateAttributes { patch: serde_json::json!({"k": 1}) }),
        "close" => out.extend(
            [PendingWrapups::Keep, PendingWrapups::System]
                .map(|pending_wrapups| Command::Close(CloseInput { pending_wrapups, ..Default::default() })),
        ),
        _ => {}
    }
    out
}

pub const ACTION_NAMES: [&str; 17] = [
    "answer",
    "decline",
    "disconnect",
    "transfer",
    "postMessage",
    "updateParticipantAttributes",
    "updateAttributes",
    "close",
    "setWrapup",
    "amendWrapup",
    "skipWrapup",
    "requestAcw",
    "hold",
    "unhold",
    "consult",
    "completeConsult",
    "cancelConsult",
];

/// DOMAIN/API: `allowedActions` names the commands that would succeed for this caller now. Listed names must have
/// a parameterization `decide` accepts; unlisted ones must have none that changes anything (scopes checked only by
/// the API, like `conversations:close`, are left out of the second direction).
pub fn check_allowed_actions(w: &mut World, actor: &Actor) {
    if w.conv.is_none() {
        return;
    }
    w.dir.own_loads = own_loads(w.conv.as_ref());
    let listed = switchboard_core::allowed::allowed_actions(w.conv(), actor, w.now);
    for name in ACTION_NAMES {
        let mut outcomes = candidates(w, name).into_iter().map(|cmd| {
            let mut n = 0;
            let mut ids = || {
                n += 1;
                format!("probe-{n}")
            };
            let mut ctx = switchboard_core::Ctx { now: w.now, actor, dir: &w.dir, ids: &mut ids };
            (switchboard_core::decide(w.conv.as_ref(), &cmd, &mut ctx).map(|d| d.changed()), cmd)
        });
        // The org's transfer limit is configuration `allowed_actions` does not see (a 422 on the input).
        let at_limit =
            matches!(name, "transfer" | "consult") && w.conv().transfer_count >= w.dir.settings.max_transfers;
        if listed.contains(&name) && !at_limit {
            assert!(
                outcomes.any(|(r, _)| r.is_ok()),
                "{name} is listed for {actor:?} but decide refuses it: {:#?}",
                w.conv()
            );
        } else if (name != "close" || actor.has_scope(Scope::ConversationsClose))
            && let Some((_, cmd)) = outcomes.find(|(r, _)| r == &Ok(true))
        {
            panic!("{name} is not listed for {actor:?} but decide accepts {cmd:?}");
        }
    }
}
