//! `close`: the atomic end-with-disposition. Every live participant leaves, codes go to every agent that was
//! connected at close or is pending, and pending wrap-ups are kept or resolved with WRAPUP-SYSTEM.

use super::{Tx, check_code};
use crate::command::{CloseInput, PendingWrapups, WrapupInput};
use crate::config::{WRAPUP_SYSTEM, is_system_code};
use crate::event::EventData;
use crate::model::{ConversationState, Disposition, EndReason, ParticipantState, Purpose, StateReason, WrapupStatus};
use crate::rejection::{CodeRefusal, Rejection};

pub fn close(tx: &mut Tx, input: &CloseInput) -> Result<(), Rejection> {
    let any_code = input.wrapup.is_some() || !input.wrapups.is_empty();
    if tx.conv.state() == ConversationState::Closed {
        let same = match (&input.wrapup, &tx.conv.disposition) {
            (None, _) => input.wrapups.is_empty(),
            (Some(w), Some(d)) => input.wrapups.is_empty() && w.code_id.as_deref() == Some(d.code_id.as_str()),
            (Some(_), None) => false,
        };
        if same || !any_code {
            return Ok(());
        }
        return Err(Rejection::InvalidTransition {
            detail: "the conversation is already closed with another disposition: amend the wrap-ups instead".into(),
            participant_id: None,
        });
    }

    // Who gets a code: agents connected now, or disconnected with a pending wrap-up.
    let targets: Vec<String> = tx
        .conv
        .participants
        .iter()
        .filter(|p| p.purpose == Purpose::Agent && (p.state == ParticipantState::Connected || p.wrapup_pending()))
        .map(|p| p.id.clone())
        .collect();
    let mut per_participant: Vec<(String, WrapupInput, String)> = Vec::new();
    let mut refusals: Vec<CodeRefusal> = Vec::new();
    for (i, (pid, w)) in input.wrapups.iter().enumerate() {
        if !targets.contains(pid) {
            return Err(Rejection::invalid(
                &format!("/wrapups/{i}/participantId"),
                format!("participant {pid} is not an agent connected at close or with a pending wrap-up"),
            ));
        }
        if w.code_id.is_none() {
            return Err(Rejection::invalid(&format!("/wrapups/{i}/codeId"), "is required"));
        }
        per_participant.push((pid.clone(), w.clone(), format!("/wrapups/{i}/codeId")));
    }
    if let Some(w) = &input.wrapup {
        let Some(code) = w.code_id.as_deref() else {
            return Err(Rejection::invalid("/wrapup/codeId", "is required"));
        };
        for pid in &targets {
            if !per_participant.iter().any(|(p, _, _)| p == pid) {
                per_participant.push((pid.clone(), w.clone(), "/wrapup/codeId".into()));
            }
        }
        if is_system_code(code) {
            return Err(Rejection::invalid("/wrapup/codeId", "system codes cannot be chosen by hand"));
        }
        if tx.dir().code(code).is_none_or(|c| c.archived) {
            return Err(Rejection::invalid("/wrapup/codeId", format!("unknown or archived wrap-up code {code}")));
        }
    }
    let mut names = std::collections::HashMap::new();
    for (pid, w, pointer) in &per_participant {
        let p = tx.participant(pid)?;
        match check_code(&p, w.code_id.as_deref().unwrap_or_default(), pointer, tx.dir()) {
            Ok(name) => {
                names.insert(pid.clone(), name);
            }
            Err(r) => refusals.push(r),
        }
    }
    if !refusals.is_empty() {
        return Err(Rejection::CodeNotAllowed { refusals });
    }

    let actor = tx.actor().as_ref();
    if let Some(w) = &input.wrapup {
        let code_id = w.code_id.clone().unwrap_or_default();
        tx.disposition = Some(Disposition {
            code_name: tx.dir().code(&code_id).map(|c| c.name.clone()),
            code_id,
            notes: match &w.notes {
                crate::command::Patch::Value(n) => Some(n.clone()),
                _ => None,
            },
            set_by: actor.clone(),
            set_at: tx.at,
        });
    }
    let media_live = tx.conv.ended_at.is_none();
    tx.end_everyone(StateReason::System, false);
    if media_live {
        tx.emit(EventData::ConversationEnded { reason: EndReason::Closed });
    }
    for (pid, w, _) in &per_participant {
        let Some(mut wrapup) = tx.conv.participant(pid).and_then(|p| p.wrapup.clone()) else { continue };
        if wrapup.status.is_final() && wrapup.code_id == w.code_id {
            continue;
        }
        wrapup.code_id = w.code_id.clone();
        wrapup.code_name = names.get(pid).cloned();
        wrapup.notes = w.notes.clone().apply(wrapup.notes.take());
        wrapup.tags = w.tags.clone().apply(Some(std::mem::take(&mut wrapup.tags))).unwrap_or_default();
        wrapup.status = WrapupStatus::Set;
        wrapup.provisional = false;
        wrapup.acw_ended_at = Some(tx.at);
        wrapup.set_by = Some(actor.clone());
        wrapup.set_at = Some(tx.at);
        tx.emit(EventData::WrapupSet { participant_id: pid.clone(), wrapup });
    }
    if input.pending_wrapups == PendingWrapups::System {
        let pending: Vec<String> = tx.conv.pending_wrapup_participants().iter().map(|p| p.id.clone()).collect();
        for pid in pending {
            let Some(mut wrapup) = tx.conv.participant(&pid).and_then(|p| p.wrapup.clone()) else { continue };
            wrapup.code_id = Some(WRAPUP_SYSTEM.into());
            wrapup.code_name = tx.dir().code(WRAPUP_SYSTEM).map(|c| c.name.clone());
            wrapup.status = WrapupStatus::Set;
            wrapup.provisional = false;
            wrapup.acw_ended_at = Some(tx.at);
            wrapup.set_by = Some(actor.clone());
            wrapup.set_at = Some(tx.at);
            tx.emit(EventData::WrapupSet { participant_id: pid, wrapup });
        }
    }
    tx.maybe_close();
    Ok(())
}
