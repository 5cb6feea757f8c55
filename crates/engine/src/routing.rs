//! The routing loop and timer firings: system commands the writer runs after each request, in the same batch.

use crate::state::State;
use std::collections::HashSet;
use switchboard_core::config::RoutingStatus;
use switchboard_core::routing::{Candidate, choose, has_room};
use switchboard_core::{Actor, Command, MediaType, Timestamp};

impl State {
    /// Offers waiting acd entries (oldest first across queues) to the best eligible agent.
    pub fn route(&mut self) {
        if self.waiting.is_empty() {
            return;
        }
        let now = self.clock.now();
        // Keys only: offering changes `waiting`, and most entries are skipped without being looked at twice.
        let keys: Vec<_> = self.waiting.keys().copied().collect();
        let mut exhausted: HashSet<(String, MediaType)> = HashSet::new();
        let system = Actor::system();
        for key in keys {
            let Some(w) = self.waiting.get(&key) else { continue };
            if exhausted.contains(&(w.waiting.queue_id.clone(), w.waiting.media)) {
                continue;
            }
            let w = w.clone();
            let Some(org) = self.orgs.get(&w.org_id).cloned() else { continue };
            let Some(queue) = org.queues.get(&w.waiting.queue_id) else { continue };
            let candidates: Vec<Candidate> = queue
                .members
                .iter()
                .filter(|m| m.joined)
                .filter_map(|m| org.users.get(&m.user_id))
                .filter(|u| u.routing_status == RoutingStatus::OnQueue)
                .filter(|u| {
                    let load = self.loads.get(&u.id).copied().unwrap_or_default();
                    has_room(u, load, w.waiting.media, org.settings.voice_blocks_others)
                })
                .map(|u| {
                    let meta = self.agents.get(&u.id).copied().unwrap_or_default();
                    Candidate {
                        user_id: u.id.clone(),
                        load: self.loads.get(&u.id).copied().unwrap_or_default(),
                        idle_since: meta.idle_since,
                        last_offer_at: meta.last_offer_at,
                    }
                })
                .collect();
            let Some(chosen) = choose(&w.waiting, &candidates).map(|c| c.user_id.clone()) else {
                exhausted.insert((w.waiting.queue_id.clone(), w.waiting.media));
                continue;
            };
            let cmd = Command::Offer { acd_id: w.waiting.acd_id.clone(), user_id: chosen.clone() };
            match self.load(&w.org_id, &w.conversation_id) {
                Ok(Some(conv)) => {
                    if let Err(e) = self.run(&w.org_id, Some(conv), &cmd, &system, false) {
                        tracing::warn!(conversation = %w.conversation_id, error = %e, "routing offer refused");
                        continue;
                    }
                    self.agents.entry(chosen).or_default().last_offer_at = Some(now);
                }
                Ok(None) => {}
                Err(e) => tracing::error!(error = %e, "routing could not load a conversation"),
            }
        }
    }

    /// Withdraws a user's alerting queue offers (it went offQueue, or left or unjoined `only_queue`).
    pub fn withdraw_offers(&mut self, org_id: &str, user_id: &str, only_queue: Option<&str>) {
        let offers: Vec<_> = self.alerting.get(user_id).cloned().unwrap_or_default();
        let system = Actor::system();
        for (conv_id, offer) in offers {
            if offer.direct || (only_queue.is_some() && offer.queue_id.as_deref() != only_queue) {
                continue;
            }
            let pid = offer.participant_id;
            if let Ok(Some(conv)) = self.load(org_id, &conv_id) {
                let cmd = Command::WithdrawOffer { participant_id: pid };
                if let Err(e) = self.run(org_id, Some(conv), &cmd, &system, false) {
                    tracing::warn!(conversation = %conv_id, error = %e, "offer withdrawal refused");
                }
            }
        }
    }

    /// Fires every timer due at `now` in (due, creation) order, routing after each; timers those firings
    /// create that are already due fire too. Returns how many fired.
    pub fn fire_due(&mut self, now: Timestamp) -> usize {
        let mut fired = 0;
        let system = Actor::system();
        // A bound on one pass: a pathological backlog is worked off over several passes, not in one batch.
        while fired < 50_000 {
            let Some((due, t)) = self.timers.first_due(now.0) else { break };
            self.unstage_timer(&t.conversation_id, t.kind.key());
            fired += 1;
            let cmd = Command::FireTimer { timer: t.kind.clone(), due_at: Timestamp(due) };
            match self.load(&t.org_id, &t.conversation_id) {
                Ok(Some(conv)) => match self.run(&t.org_id, Some(conv), &cmd, &system, false) {
                    Ok((_, true)) => {
                        let action = format!("timer.{}", t.kind.name());
                        let id = t.conversation_id.as_str();
                        self.stage_audit(&t.org_id, &system, &action, "conversation", id, Some(id), None);
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!(conversation = %t.conversation_id, error = %e, "timer firing refused"),
                },
                Ok(None) => {}
                Err(e) => tracing::error!(error = %e, "a due timer's conversation could not be loaded"),
            }
            self.route();
        }
        fired
    }
}
