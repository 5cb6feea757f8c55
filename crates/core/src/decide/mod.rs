//! decide: validates a command against the current conversation and returns the events it causes.
//! Each command works on a scratch copy (`Tx`) that evolves as events are emitted, so later rules see
//! earlier effects; a rejection discards the copy, so nothing changes.

mod close;
mod consult;
mod create;
mod lifecycle;
mod messages;
mod transfer;
mod wrapup;

use crate::actor::Actor;
use crate::command::Command;
use crate::config::{AcwSettings, WrapupCode};
use crate::directory::Directory;
use crate::event::{Event, EventData};
use crate::evolve::evolve;
use crate::model::{
    ActorKind, Conversation, Disposition, EndReason, ParticipantState, Purpose, StateReason, Wrapup, WrapupStatus,
};
use crate::rejection::{CodeRef, CodeRefusal, Rejection};
use crate::time::Timestamp;

pub use create::create_participant_ids;

/// Everything `decide` needs besides the conversation: time, the actor, the org's config, new ids.
pub struct Ctx<'a> {
    pub now: Timestamp,
    pub actor: &'a Actor,
    pub dir: &'a dyn Directory,
    pub ids: &'a mut dyn FnMut() -> String,
}

/// Side effects on agents (not on the conversation) that the shell applies in the same commit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AgentEffect {
    /// A queue offer timed out: the agent reads `notResponding` until it goes onQueue again.
    MarkNotResponding { user_id: String },
}

#[derive(Clone, Debug)]
pub struct Decision {
    /// The conversation after the command (equal to the input when `events` is empty).
    pub conversation: Conversation,
    /// Empty when the command found nothing to do: no version, no event, no timer.
    pub events: Vec<Event>,
    pub effects: Vec<AgentEffect>,
}

impl Decision {
    pub fn changed(&self) -> bool {
        !self.events.is_empty()
    }
}

pub fn decide(current: Option<&Conversation>, cmd: &Command, ctx: &mut Ctx) -> Result<Decision, Rejection> {
    let conv = match (current, cmd) {
        (None, Command::Create(c)) => return create::create(c, ctx),
        (Some(_), Command::Create(_)) => {
            return Err(Rejection::Conflict { code: "already_exists", detail: "the conversation exists".into() });
        }
        (None, _) => return Err(Rejection::NotFound { what: "conversation", id: String::new() }),
        (Some(c), _) => c,
    };
    let at = match cmd {
        Command::FireTimer { due_at, .. } => (*due_at).max(conv.last_event_at),
        _ => ctx.now.max(conv.last_event_at),
    };
    let mut tx = Tx::new(conv.clone(), at, ctx);
    match cmd {
        Command::Create(_) => unreachable!("handled above"),
        Command::Offer { acd_id, user_id } => lifecycle::offer(&mut tx, acd_id, user_id)?,
        Command::Answer { participant_id } => lifecycle::answer(&mut tx, participant_id)?,
        Command::Decline { participant_id } => lifecycle::decline(&mut tx, participant_id)?,
        Command::Disconnect { participant_id, wrapup, skip_wrapup, reason } => {
            lifecycle::disconnect(&mut tx, participant_id, wrapup.as_ref(), *skip_wrapup, reason.clone())?
        }
        Command::WithdrawOffer { participant_id } => lifecycle::withdraw(&mut tx, participant_id)?,
        Command::FireTimer { timer, due_at } => lifecycle::fire_timer(&mut tx, timer, *due_at)?,
        Command::SetWrapup { participant_id, input } => wrapup::set_wrapup(&mut tx, participant_id, input)?,
        Command::SkipWrapup { participant_id } => wrapup::skip(&mut tx, participant_id)?,
        Command::RequestAcw { participant_id, required } => wrapup::request_acw(&mut tx, participant_id, *required)?,
        Command::Transfer { from_participant_id, to, context_data, wrapup } => {
            transfer::transfer(&mut tx, from_participant_id, to, context_data.as_ref(), wrapup.as_ref())?
        }
        Command::Close(input) => close::close(&mut tx, input)?,
        Command::Hold { participant_id } => consult::hold(&mut tx, participant_id)?,
        Command::Unhold { participant_id } => consult::unhold(&mut tx, participant_id)?,
        Command::Consult { from_participant_id, to, context_data } => {
            consult::consult(&mut tx, from_participant_id, to, context_data.as_ref())?
        }
        Command::CompleteConsult { participant_id } => consult::complete(&mut tx, participant_id)?,
        Command::CancelConsult { participant_id } => consult::cancel(&mut tx, participant_id)?,
        Command::PostMessage { participant_id, text } => messages::post(&mut tx, participant_id.as_deref(), text)?,
        Command::UpdateAttributes { patch } => messages::update_attributes(&mut tx, patch)?,
        Command::UpdateParticipantAttributes { participant_id, patch } => {
            messages::update_participant_attributes(&mut tx, participant_id, patch)?
        }
    }
    Ok(tx.finish())
}

pub(crate) struct Tx<'c, 'a> {
    pub conv: Conversation,
    pub events: Vec<Event>,
    pub effects: Vec<AgentEffect>,
    pub at: Timestamp,
    pub ctx: &'c mut Ctx<'a>,
    /// The disposition a `close` carries into `conversation.closed`.
    pub disposition: Option<Disposition>,
}

impl<'c, 'a> Tx<'c, 'a> {
    fn new(conv: Conversation, at: Timestamp, ctx: &'c mut Ctx<'a>) -> Self {
        Tx { conv, events: Vec::new(), effects: Vec::new(), at, ctx, disposition: None }
    }

    pub fn emit(&mut self, data: EventData) {
        // All events of one command share the version: the first one bumps it, evolve keeps it.
        let version = if self.events.is_empty() { self.conv.version + 1 } else { self.conv.version };
        let e = Event { version, at: self.at, actor: self.ctx.actor.as_ref(), data };
        evolve(&mut self.conv, &e);
        self.events.push(e);
    }

    pub fn new_id(&mut self) -> String {
        (self.ctx.ids)()
    }

    pub fn dir(&self) -> &'a dyn Directory {
        self.ctx.dir
    }

    pub fn actor(&self) -> &'a Actor {
        self.ctx.actor
    }

    fn finish(self) -> Decision {
        Decision { conversation: self.conv, events: self.events, effects: self.effects }
    }

    pub fn participant(&self, id: &str) -> Result<crate::model::Participant, Rejection> {
        self.conv
            .participant(id)
            .cloned()
            .ok_or_else(|| Rejection::NotFound { what: "participant", id: id.to_string() })
    }

    pub fn ensure_acts_for(&self, p: &crate::model::Participant) -> Result<(), Rejection> {
        if self.actor().acts_for(p) {
            Ok(())
        } else {
            Err(Rejection::forbidden(format!("you may not act on participant {} (not your own)", p.id)))
        }
    }

    /// Disconnects one live participant; an agent that connected starts its wrap-up phase here.
    pub fn end_participant(&mut self, pid: &str, reason: StateReason, note: Option<String>, abandoned: bool) {
        let Some(p) = self.conv.participant(pid).cloned() else { return };
        if !p.is_live() {
            return;
        }
        let wrapup = p
            .wrapup
            .as_ref()
            .filter(|w| w.status == WrapupStatus::NotStarted)
            .map(|w| wrapup_at_disconnect(w, &p, &self.conv, self.dir(), self.at));
        self.emit(EventData::ParticipantDisconnected {
            participant_id: pid.to_string(),
            reason,
            note,
            abandoned,
            wrapup: wrapup.clone(),
        });
        if let Some(w) = wrapup {
            let participant_id = pid.to_string();
            match w.status {
                WrapupStatus::Pending => self.emit(EventData::WrapupPending { participant_id, wrapup: w }),
                WrapupStatus::Set => self.emit(EventData::WrapupSet { participant_id, wrapup: w }),
                _ => {}
            }
        }
    }

    /// The conversation's attributes as they would be with `patch` merged in (RFC 7396).
    pub fn merged_attributes(&self, patch: Option<&serde_json::Value>) -> serde_json::Value {
        let mut doc = self.conv.attributes.clone();
        if let Some(p) = patch {
            crate::evolve::merge_patch(&mut doc, p);
        }
        doc
    }

    /// Withdraws every alerting offer made for the acd `acd_id` (an acd that leaves takes its offers along).
    pub fn withdraw_offers_of(&mut self, acd_id: &str) {
        let offers: Vec<String> = self
            .conv
            .participants
            .iter()
            .filter(|a| a.state == ParticipantState::Alerting && a.acd_id.as_deref() == Some(acd_id))
            .map(|a| a.id.clone())
            .collect();
        for o in offers {
            self.withdraw_offer(&o);
        }
    }

    /// Withdraws an alerting offer: disconnected `system`, `withdrawn`, no wrap-up, no notResponding.
    pub fn withdraw_offer(&mut self, pid: &str) {
        self.emit(EventData::OfferWithdrawn { participant_id: pid.to_string() });
        self.end_participant(pid, StateReason::System, None, false);
    }

    /// DOMAIN.md's handler rule: once the customer is gone or no handler remains, everyone else is
    /// disconnected (`peer`), alerting offers are withdrawn, and the media ends.
    pub fn apply_handler_rule(&mut self, end_reason: EndReason) {
        if self.conv.ended_at.is_some() {
            return;
        }
        let customer_gone = self.conv.customer().is_none_or(|c| !c.is_live());
        let handler_left = self.conv.participants.iter().any(|p| p.is_handler());
        if !customer_gone && handler_left {
            return;
        }
        // Abandoned means the customer chose to leave: not a user (a supervisor) removing them.
        let customer_left = customer_gone && end_reason == EndReason::CustomerLeft;
        self.end_everyone(StateReason::Peer, customer_left && self.actor().kind != ActorKind::User);
        self.emit(EventData::ConversationEnded { reason: end_reason });
        self.maybe_close();
    }

    /// Disconnects every live participant with `reason` (offers are withdrawn instead).
    pub fn end_everyone(&mut self, reason: StateReason, mark_abandoned: bool) {
        let live: Vec<(String, Purpose, ParticipantState, bool)> = self
            .conv
            .participants
            .iter()
            .filter(|p| p.is_live())
            .map(|p| (p.id.clone(), p.purpose, p.state, p.consult_for.is_some()))
            .collect();
        for (pid, purpose, state, consulting) in live {
            if purpose == Purpose::Agent && state == ParticipantState::Alerting {
                self.withdraw_offer(&pid);
            } else {
                // A queue consult's acd was the agent's question, not the customer's wait.
                let abandoned = mark_abandoned && purpose == Purpose::Acd && !consulting;
                self.end_participant(&pid, reason, None, abandoned);
            }
        }
    }

    /// Emits `conversation.closed` once media is over and no wrap-up is pending.
    pub fn maybe_close(&mut self) {
        if self.conv.ended_at.is_some()
            && self.conv.closed_at.is_none()
            && self.conv.state() == crate::model::ConversationState::Closed
        {
            let window = self.dir().settings().amendment_window_ms;
            let disposition = self.disposition.take();
            self.emit(EventData::ConversationClosed { disposition, amendable_until: self.at.plus_ms(window) });
        }
    }

    pub fn acw_for(&self, queue_id: Option<&str>) -> AcwSettings {
        queue_id
            .and_then(|q| self.dir().queue(q))
            .map(|q| q.acw.clone())
            .unwrap_or_else(|| self.dir().settings().direct_acw.clone())
    }
}

/// The codes a participant may be given by hand: its queue's active codes, or every active org code when
/// it has no queue (direct offers without an acd queue, outbound calls).
pub fn allowed_codes<'d>(p: &crate::model::Participant, dir: &'d dyn Directory) -> Vec<&'d WrapupCode> {
    match p.queue_id.as_deref().and_then(|q| dir.queue(q)) {
        Some(q) => q.wrapup_codes.iter().filter_map(|c| dir.code(c)).filter(|c| !c.archived && !c.system).collect(),
        None => dir.codes().into_iter().filter(|c| !c.archived && !c.system).collect(),
    }
}

pub(crate) fn check_code(
    p: &crate::model::Participant,
    code_id: &str,
    pointer: &str,
    dir: &dyn Directory,
) -> Result<String, CodeRefusal> {
    let allowed = allowed_codes(p, dir);
    match allowed.iter().find(|c| c.id == code_id) {
        Some(c) => Ok(c.name.clone()),
        None => Err(CodeRefusal {
            participant_id: p.id.clone(),
            code_id: code_id.to_string(),
            pointer: pointer.to_string(),
            allowed_codes: allowed.iter().map(|c| CodeRef { id: c.id.clone(), name: c.name.clone() }).collect(),
        }),
    }
}

/// The wrap-up table of DOMAIN.md, applied at the moment an agent disconnects.
fn wrapup_at_disconnect(
    w: &Wrapup,
    p: &crate::model::Participant,
    _conv: &Conversation,
    dir: &dyn Directory,
    at: Timestamp,
) -> Wrapup {
    use crate::model::AcwPolicy as P;
    let mut w = w.clone();
    w.acw_started_at = Some(at);
    if let Some(code) = w.code_id.clone()
        && check_code(p, &code, "", dir).is_err()
    {
        // A provisional code no longer allowed is dropped; the policy applies.
        w.code_id = None;
        w.code_name = None;
    }
    let has_code = w.code_id.is_some();
    let deadline = w.timeout_ms.map(|t| at.plus_ms(t));
    let finish = |w: &mut Wrapup, status: WrapupStatus| {
        w.status = status;
        w.provisional = false;
        w.acw_ended_at = Some(at);
    };
    let pend = |w: &mut Wrapup, deadline: Option<Timestamp>| {
        w.status = WrapupStatus::Pending;
        w.expected = true;
        w.deadline = deadline;
    };
    match w.policy {
        P::None => finish(&mut w, if has_code { WrapupStatus::Set } else { WrapupStatus::NotRequired }),
        P::Optional | P::Mandatory if has_code => finish(&mut w, WrapupStatus::Set),
        P::Optional | P::Mandatory => pend(&mut w, None),
        P::MandatoryTimeout if has_code => finish(&mut w, WrapupStatus::Set),
        P::MandatoryTimeout => pend(&mut w, deadline),
        P::MandatoryForcedTimeout => pend(&mut w, deadline),
        P::AgentRequested if has_code => finish(&mut w, WrapupStatus::Set),
        P::AgentRequested if w.requested_by_agent => pend(&mut w, deadline),
        P::AgentRequested => finish(&mut w, WrapupStatus::NotRequired),
    }
    w
}
