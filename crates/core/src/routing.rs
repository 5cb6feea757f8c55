//! Routing rules as pure functions: what a conversation contributes to agents' load and to the waiting
//! list, who is eligible for an offer, and in which order agents are chosen.

use crate::config::{RoutingStatus, User};
use crate::directory::Load;
use crate::model::{Conversation, MediaType, ParticipantId, ParticipantState, Purpose, QueueId, UserId};
use crate::time::Timestamp;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Waiting {
    pub acd_id: ParticipantId,
    pub queue_id: QueueId,
    pub media: MediaType,
    pub queued_at: Timestamp,
    pub tried_user_ids: Vec<UserId>,
}

/// An offer alerting now: withdrawn when its agent goes offQueue or leaves the offer's queue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AlertingOffer {
    pub user_id: UserId,
    pub participant_id: ParticipantId,
    pub queue_id: Option<QueueId>,
    pub direct: bool,
}

/// What one conversation contributes to routing.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Footprint {
    /// One entry per agent participant that counts toward its user's load.
    pub loads: Vec<(UserId, MediaType)>,
    /// Offers currently alerting, per user (withdrawn when the agent goes offQueue or leaves the queue).
    pub alerting: Vec<AlertingOffer>,
    /// Acd entries queued with no agent alerting.
    pub waiting: Vec<Waiting>,
}

pub fn footprint(conv: &Conversation) -> Footprint {
    let mut f = Footprint::default();
    for p in &conv.participants {
        if p.purpose == Purpose::Agent
            && let Some(u) = &p.user_id
        {
            let counts = matches!(p.state, ParticipantState::Alerting | ParticipantState::Connected)
                || (p.state == ParticipantState::Disconnected && p.wrapup_pending());
            if counts {
                f.loads.push((u.clone(), conv.media_type));
            }
            if p.state == ParticipantState::Alerting {
                f.alerting.push(AlertingOffer {
                    user_id: u.clone(),
                    participant_id: p.id.clone(),
                    queue_id: p.queue_id.clone(),
                    direct: p.direct,
                });
            }
        }
        if p.purpose == Purpose::Acd && p.state == ParticipantState::Queued {
            let offered = conv.participants.iter().any(|a| {
                a.purpose == Purpose::Agent && a.state == ParticipantState::Alerting && a.acd_id.as_ref() == Some(&p.id)
            });
            if let (false, Some(q), Some(at)) = (offered, &p.queue_id, p.queued_at) {
                f.waiting.push(Waiting {
                    acd_id: p.id.clone(),
                    queue_id: q.clone(),
                    media: conv.media_type,
                    queued_at: at,
                    tried_user_ids: p.tried_user_ids.clone(),
                });
            }
        }
    }
    f
}

/// Whether an agent with this load may take one more interaction of `media` (DOMAIN.md "Eligible").
pub fn has_room(user: &User, load: Load, media: MediaType, org_voice_blocks_others: bool) -> bool {
    let cap = user.capacity.for_media(media);
    if load.for_media(media) >= cap {
        return false;
    }
    if user.voice_blocks_others.unwrap_or(org_voice_blocks_others) {
        return match media {
            MediaType::Message => load.voice == 0,
            MediaType::Voice => load.total() == 0,
        };
    }
    true
}

/// Routing status as read back: offQueue, notResponding, interacting (load > 0) or idle.
pub fn presence(user: &User, load: Load) -> &'static str {
    match user.routing_status {
        RoutingStatus::OffQueue => "offQueue",
        RoutingStatus::NotResponding => "notResponding",
        RoutingStatus::OnQueue if load.total() > 0 => "interacting",
        RoutingStatus::OnQueue => "idle",
    }
}

#[derive(Clone, Debug)]
pub struct Candidate {
    pub user_id: UserId,
    pub load: Load,
    pub idle_since: Option<Timestamp>,
    pub last_offer_at: Option<Timestamp>,
}

/// Picks the agent for one waiting entry: agents not yet tried first (all if everyone was tried); then the one
/// idle longest, then the lowest load, then the longest since its last offer; ties by user id.
pub fn choose<'a>(waiting: &Waiting, eligible: &'a [Candidate]) -> Option<&'a Candidate> {
    let untried: Vec<&Candidate> = eligible.iter().filter(|c| !waiting.tried_user_ids.contains(&c.user_id)).collect();
    let pool: Vec<&Candidate> = if untried.is_empty() { eligible.iter().collect() } else { untried };
    pool.into_iter().min_by(|a, b| {
        let idle_a = a.load.total() == 0;
        let idle_b = b.load.total() == 0;
        idle_b
            .cmp(&idle_a)
            .then_with(|| if idle_a && idle_b { a.idle_since.cmp(&b.idle_since) } else { std::cmp::Ordering::Equal })
            .then_with(|| a.load.total().cmp(&b.load.total()))
            .then_with(|| a.last_offer_at.cmp(&b.last_offer_at))
            .then_with(|| a.user_id.cmp(&b.user_id))
    })
}
