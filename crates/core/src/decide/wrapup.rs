//! Wrap-up commands: provisional saves, set vs amendment, skip, agent-requested ACW, and deadline expiry.

use super::{Tx, check_code};
use crate::command::{Patch, WrapupInput};
use crate::config::{WRAPUP_TIMEOUT, is_system_code};
use crate::event::EventData;
use crate::model::{AcwPolicy, Amendment, Participant, ParticipantState, Wrapup, WrapupStatus};
use crate::rejection::{CodeRefusal, Rejection};

fn wrapup_of(p: &Participant) -> Result<Wrapup, Rejection> {
    p.wrapup.clone().ok_or_else(|| {
        Rejection::invalid_transition(
            "this participant has no wrap-up (only agents that connected have one)",
            Some(&p.id),
        )
    })
}

/// Validates a code for a participant: active, on its queue, never a system code by hand.
/// System codes are never on the allowed list, so they are refused here too.
pub(super) fn validate_code(tx: &Tx, p: &Participant, code_id: &str, pointer: &str) -> Result<String, Rejection> {
    check_code(p, code_id, pointer, tx.dir()).map_err(|r: CodeRefusal| Rejection::CodeNotAllowed { refusals: vec![r] })
}

pub(super) fn apply_fields(w: &mut Wrapup, input: &WrapupInput, code_name: Option<String>) {
    if let Some(code) = &input.code_id {
        w.code_id = Some(code.clone());
        w.code_name = code_name;
    }
    w.notes = input.notes.clone().apply(w.notes.take());
    w.tags = input.tags.clone().apply(Some(std::mem::take(&mut w.tags))).unwrap_or_default();
}

/// The limits on a wrap-up's free text, whoever sets it; `at` is the wrap-up's pointer in the request body.
pub(super) fn validate_text(input: &WrapupInput, at: &str) -> Result<(), Rejection> {
    if let Patch::Value(n) = &input.notes
        && n.chars().count() > 4000
    {
        return Err(Rejection::invalid(&format!("{at}/notes"), "must be at most 4000 characters"));
    }
    if let Patch::Value(tags) = &input.tags
        && (tags.len() > 50 || tags.iter().any(|t| t.is_empty() || t.chars().count() > 100))
    {
        return Err(Rejection::invalid(&format!("{at}/tags"), "at most 50 tags of 1 to 100 characters"));
    }
    Ok(())
}

/// Stores a code/notes while the agent is connected (provisional, status stays `notStarted`).
pub fn save_provisional(tx: &mut Tx, p: &Participant, input: &WrapupInput, pointer: &str) -> Result<(), Rejection> {
    let mut w = wrapup_of(p)?;
    if !tx.actor().may_set_wrapup(p) {
        return Err(Rejection::forbidden("you may not set this participant's wrap-up"));
    }
    validate_text(input, "")?;
    let name = match &input.code_id {
        Some(c) => Some(validate_code(tx, p, c, &format!("{pointer}/codeId"))?),
        None => None,
    };
    apply_fields(&mut w, input, name);
    w.provisional = true;
    w.set_by = Some(tx.actor().as_ref());
    w.set_at = Some(tx.at);
    tx.emit(EventData::WrapupProvisionalSaved { participant_id: p.id.clone(), wrapup: w });
    Ok(())
}

/// After an inline wrap-up on disconnect: a privileged set on a forced-timeout policy ends ACW at once.
pub fn finish_inline(tx: &mut Tx, pid: &str) -> Result<(), Rejection> {
    let p = tx.participant(pid)?;
    let w = wrapup_of(&p)?;
    if w.status == WrapupStatus::Pending && w.code_id.is_some() && !tx.actor().is_own(&p) {
        finalize(tx, &p.id, w);
    }
    Ok(())
}

fn finalize(tx: &mut Tx, pid: &str, mut w: Wrapup) {
    w.status = WrapupStatus::Set;
    w.provisional = false;
    w.acw_ended_at = Some(tx.at);
    tx.emit(EventData::WrapupSet { participant_id: pid.to_string(), wrapup: w });
    tx.maybe_close();
}

/// `setWrapup`: before the wrap-up is final a set (or a provisional save); after, an amendment.
pub fn set_wrapup(tx: &mut Tx, pid: &str, input: &WrapupInput) -> Result<(), Rejection> {
    let p = tx.participant(pid)?;
    let mut w = wrapup_of(&p)?;
    validate_text(input, "")?;
    match w.status {
        WrapupStatus::NotStarted => {
            if p.state != ParticipantState::Connected {
                return Err(Rejection::invalid_transition("the participant is not connected", Some(pid)));
            }
            save_provisional(tx, &p, input, "")
        }
        WrapupStatus::Pending => {
            if !tx.actor().may_set_wrapup(&p) {
                return Err(Rejection::forbidden("you may not set this participant's wrap-up"));
            }
            let name = match &input.code_id {
                Some(c) => Some(validate_code(tx, &p, c, "/codeId")?),
                None if w.code_id.is_some() => w.code_name.clone(),
                None => return Err(Rejection::invalid("/codeId", "is required to complete a pending wrap-up")),
            };
            apply_fields(&mut w, input, name);
            w.set_by = Some(tx.actor().as_ref());
            w.set_at = Some(tx.at);
            if w.policy == AcwPolicy::MandatoryForcedTimeout && tx.actor().is_own(&p) {
                // The timebox binds the agent: the code is kept and applied when the deadline passes.
                w.provisional = true;
                tx.emit(EventData::WrapupProvisionalSaved { participant_id: pid.to_string(), wrapup: w });
            } else {
                finalize(tx, pid, w);
            }
            Ok(())
        }
        _ => amend(tx, &p, w, input),
    }
}

fn amend(tx: &mut Tx, p: &Participant, mut w: Wrapup, input: &WrapupInput) -> Result<(), Rejection> {
    if !tx.actor().may_amend() {
        return Err(Rejection::forbidden(
            "the wrap-up is final: amending it needs a supervisor, an admin or the wrapup:amend scope",
        ));
    }
    if let Some(until) = w.amendable_until
        && tx.at > until
    {
        return Err(Rejection::AmendmentWindowClosed { amendable_until: until });
    }
    let name = match &input.code_id {
        Some(c) => Some(validate_code(tx, p, c, "/codeId")?),
        // A system code (WRAPUP-TIMEOUT, WRAPUP-SYSTEM) is never chosen by hand, so it cannot be kept as a `set`.
        None if w.code_id.as_deref().is_some_and(is_system_code) => {
            return Err(Rejection::invalid("/codeId", "is required: the current code is a system code"));
        }
        None if w.code_id.is_some() => w.code_name.clone(),
        None => return Err(Rejection::invalid("/codeId", "is required: this wrap-up has no code to keep")),
    };
    w.amended_from.push(Amendment {
        status: w.status,
        code_id: w.code_id.clone(),
        notes: w.notes.clone(),
        tags: w.tags.clone(),
        by: w.set_by.clone(),
        at: w.set_at,
    });
    apply_fields(&mut w, input, name);
    w.status = WrapupStatus::Set;
    w.provisional = false;
    w.set_by = Some(tx.actor().as_ref());
    w.set_at = Some(tx.at);
    tx.emit(EventData::WrapupAmended { participant_id: p.id.clone(), wrapup: w });
    Ok(())
}

pub fn skip(tx: &mut Tx, pid: &str) -> Result<(), Rejection> {
    let p = tx.participant(pid)?;
    let mut w = wrapup_of(&p)?;
    if !tx.actor().may_set_wrapup(&p) {
        return Err(Rejection::forbidden("you may not skip this participant's wrap-up"));
    }
    if w.policy != AcwPolicy::Optional {
        return Err(Rejection::Conflict {
            code: "skip_not_allowed",
            detail: format!("the wrap-up policy is {:?}: only optional wrap-ups can be skipped", w.policy),
        });
    }
    if w.status != WrapupStatus::Pending {
        return Err(Rejection::invalid_transition("only a pending wrap-up can be skipped", Some(pid)));
    }
    w.status = WrapupStatus::Skipped;
    w.provisional = false;
    w.code_id = None;
    w.code_name = None;
    w.acw_ended_at = Some(tx.at);
    w.set_by = Some(tx.actor().as_ref());
    w.set_at = Some(tx.at);
    tx.emit(EventData::WrapupSkipped { participant_id: pid.to_string(), wrapup: w });
    tx.maybe_close();
    Ok(())
}

pub fn request_acw(tx: &mut Tx, pid: &str, required: bool) -> Result<(), Rejection> {
    let p = tx.participant(pid)?;
    tx.ensure_acts_for(&p)?;
    let mut w = wrapup_of(&p)?;
    if w.policy != AcwPolicy::AgentRequested {
        return Err(Rejection::Conflict {
            code: "acw_request_not_allowed",
            detail: format!("the wrap-up policy is {:?}, not agentRequested", w.policy),
        });
    }
    if p.state != ParticipantState::Connected {
        return Err(Rejection::invalid_transition("ACW can only be requested while connected", Some(pid)));
    }
    w.requested_by_agent = required;
    tx.emit(EventData::WrapupAcwRequested { participant_id: pid.to_string(), wrapup: w });
    Ok(())
}

/// The deadline passed: a forced timeout keeps the chosen code, otherwise the default (or WRAPUP-TIMEOUT).
pub fn expire(tx: &mut Tx, pid: &str, mut w: Wrapup) {
    w.acw_ended_at = Some(tx.at);
    w.provisional = false;
    if w.policy == AcwPolicy::MandatoryForcedTimeout && w.code_id.is_some() {
        w.status = WrapupStatus::Set;
        tx.emit(EventData::WrapupSet { participant_id: pid.to_string(), wrapup: w });
    } else {
        let code = w.default_code_id.clone().unwrap_or_else(|| WRAPUP_TIMEOUT.to_string());
        w.code_name = tx.dir().code(&code).map(|c| c.name.clone());
        w.code_id = Some(code);
        w.status = WrapupStatus::TimedOut;
        w.set_by = Some(tx.actor().as_ref());
        w.set_at = Some(tx.at);
        tx.emit(EventData::WrapupTimedOut { participant_id: pid.to_string(), wrapup: w });
    }
    tx.maybe_close();
}
