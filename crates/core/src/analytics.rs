//! Analytics facts derived from a conversation snapshot: the details document (segments, metrics and wrap-up
//! per participant), filter keys, and metric facts each stamped with the time it completed. Derived, so an
//! amendment or any other command rewrites them in its own commit.

use crate::model::{Conversation, Participant, Purpose, StateReason, Wrapup, WrapupStatus};
use crate::time::Timestamp;
use serde_json::{Map, Value, json};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Metric {
    pub participant_id: String,
    pub name: &'static str,
    pub at: Timestamp,
    pub value: i64,
    pub queue_id: Option<String>,
    pub user_id: Option<String>,
    pub wrapup_code_id: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Facts {
    pub doc: Value,
    pub keys: Vec<String>,
    pub metrics: Vec<Metric>,
}

fn ms(a: Timestamp, b: Timestamp) -> i64 {
    (b.0 - a.0).max(0)
}

/// A period in a participant's details; plain data, turned into JSON only when a document is built.
struct Segment<'a> {
    kind: &'static str,
    start: Timestamp,
    end: Option<Timestamp>,
    /// A closed wrap-up segment carries its code and notes.
    wrapup: Option<&'a Wrapup>,
}

fn segment(kind: &'static str, start: Timestamp, end: Option<Timestamp>) -> Segment<'static> {
    Segment { kind, start, end, wrapup: None }
}

impl Segment<'_> {
    fn to_json(&self) -> Value {
        let mut v = json!({"type": self.kind, "start": self.start, "end": self.end});
        if let Some(w) = self.wrapup {
            v["wrapupCodeId"] = json!(w.code_id);
            v["wrapupNotes"] = json!(w.notes);
        }
        v
    }
}

/// Time the customer was on hold by `agent`, up to `until` (an open hold counts until the agent left).
fn held_ms(conv: &Conversation, agent: &Participant, until: Timestamp) -> (i64, Vec<Segment<'static>>) {
    let mut total = 0;
    let mut segments = Vec::new();
    for c in conv.participants.iter().filter(|p| p.purpose == Purpose::Customer) {
        for h in c.hold_periods.iter().filter(|h| h.by == agent.id) {
            let end = h.end.unwrap_or(until).min(until);
            total += ms(h.start, end);
            segments.push(segment("hold", h.start, h.end));
        }
    }
    (total, segments)
}

/// Keys and metric facts (the write path: no document is built).
pub fn facts(conv: &Conversation) -> Facts {
    walk(conv, false)
}

/// The details document served by the details query (the read path).
pub fn details(conv: &Conversation) -> Value {
    walk(conv, true).doc
}

fn walk(conv: &Conversation, with_doc: bool) -> Facts {
    let mut metrics = Vec::new();
    let mut keys = Vec::new();
    let mut participants = Vec::new();
    for p in &conv.participants {
        let code = p.wrapup.as_ref().and_then(|w| w.code_id.clone());
        let mut push = |name: &'static str, at: Timestamp, value: i64| {
            metrics.push(Metric {
                participant_id: p.id.clone(),
                name,
                at,
                value,
                queue_id: p.queue_id.clone(),
                user_id: p.user_id.clone(),
                wrapup_code_id: code.clone(),
            })
        };
        let mut segments = Vec::new();
        match p.purpose {
            Purpose::Acd => {
                if let Some(q) = p.queued_at {
                    segments.push(segment("queue", q, p.disconnected_at));
                    push("nOffered", q, 1);
                    if let Some(d) = p.disconnected_at {
                        push("tWait", d, ms(q, d));
                        if p.abandoned {
                            push("nAbandoned", d, 1);
                        }
                    }
                }
            }
            Purpose::Agent => {
                let answered = p.connected_at;
                if let Some(a) = p.alerting_at {
                    let end = answered.or(p.disconnected_at);
                    segments.push(segment("alert", a, end));
                    if let Some(e) = end {
                        push("tAlert", e, ms(a, e));
                    }
                }
                if let Some(c) = answered {
                    // An answer is counted only for offered work; outbound agents are connected at create.
                    if p.alerting_at.is_some() {
                        push("nConnected", c, 1);
                    }
                    segments.push(segment("interact", c, p.disconnected_at));
                    if let Some(d) = p.disconnected_at {
                        let (held, holds) = held_ms(conv, p, d);
                        segments.extend(holds);
                        let talk = (ms(c, d) - held).max(0);
                        push("tHeld", d, held);
                        push("tTalk", d, talk);
                        if matches!(p.state_reason, Some(StateReason::Transfer | StateReason::TransferConsult)) {
                            push("nTransferred", d, 1);
                        }
                        let w = p.wrapup.as_ref();
                        let acw = w.and_then(|w| w.acw_started_at.zip(w.acw_ended_at));
                        match acw {
                            Some((s, e)) => {
                                let w = w.expect("acw implies a wrap-up");
                                if e > s || w.expected {
                                    segments.push(Segment { wrapup: Some(w), ..segment("wrapup", s, Some(e)) });
                                }
                                push("tAcw", e, ms(s, e));
                                push("tHandle", e, talk + held + ms(s, e));
                                // An amendment changes the code, not the history: a timeout stays counted.
                                let timed_out = |s: WrapupStatus| s == WrapupStatus::TimedOut;
                                if timed_out(w.status) || w.amended_from.first().is_some_and(|a| timed_out(a.status)) {
                                    push("nWrapupTimedOut", e, 1);
                                }
                            }
                            None if w.is_some_and(|w| w.status == WrapupStatus::Pending) => {
                                if let Some(s) = w.and_then(|w| w.acw_started_at) {
                                    segments.push(segment("wrapup", s, None));
                                }
                            }
                            None => {}
                        }
                    }
                }
            }
            Purpose::Bot | Purpose::Customer | Purpose::External => {
                if let Some(c) = p.connected_at {
                    segments.push(segment("interact", c, p.disconnected_at));
                }
                if p.purpose == Purpose::Bot
                    && let Some(d) = p.disconnected_at
                    && p.state_reason == Some(StateReason::Transfer)
                {
                    push("nTransferred", d, 1);
                }
            }
        }
        if let Some(q) = &p.queue_id {
            keys.push(format!("queue:{q}"));
        }
        if let Some(u) = &p.user_id {
            keys.push(format!("user:{u}"));
        }
        if let Some(c) = &code {
            keys.push(format!("code:{c}"));
        }
        if !with_doc {
            continue;
        }
        let wrapup = p.wrapup.as_ref().map(|w| {
            json!({"status": w.status, "policy": w.policy, "codeId": w.code_id, "codeName": w.code_name, "notes": w.notes,
                   "acwStartedAt": w.acw_started_at, "acwEndedAt": w.acw_ended_at, "amended": !w.amended_from.is_empty()})
        });
        // The participant's durations are its `t*` facts.
        let m: Map<String, Value> = metrics
            .iter()
            .filter(|x| x.participant_id == p.id && x.name.starts_with('t'))
            .map(|x| (x.name.to_string(), json!(x.value)))
            .collect();
        let segments: Vec<Value> = segments.iter().map(Segment::to_json).collect();
        participants.push(json!({
            "participantId": p.id, "purpose": p.purpose, "userId": p.user_id, "queueId": p.queue_id, "name": p.name,
            "state": p.state, "segments": segments, "metrics": m, "wrapup": wrapup,
        }));
    }
    keys.sort();
    keys.dedup();
    if !with_doc {
        return Facts { doc: Value::Null, keys, metrics };
    }
    let doc = json!({
        "conversationId": conv.id, "mediaType": conv.media_type, "direction": conv.direction,
        "startedAt": conv.started_at, "endedAt": conv.ended_at, "closedAt": conv.closed_at, "state": conv.state(),
        "disposition": conv.disposition.as_ref().map(|d| json!({"codeId": d.code_id, "codeName": d.code_name})),
        "participants": participants,
    });
    Facts { doc, keys, metrics }
}
