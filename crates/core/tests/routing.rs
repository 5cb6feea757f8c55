//! Routing rules as pure functions: a conversation's footprint (load, alerting offers, waiting entries),
//! eligibility by capacity and `voiceBlocksOthers`, routing status as read back, and the choice of agent.

mod support;

use support::*;
use switchboard_core::config::RoutingStatus;
use switchboard_core::routing::{AlertingOffer, Candidate, Waiting, choose, footprint, has_room, presence};
use switchboard_core::{Command, Load, MediaType, Timestamp};

fn load(voice: u32, message: u32) -> Load {
    Load { voice, message }
}

#[test]
fn footprint_counts_alerting_connected_and_pending_wrapups() {
    let mut w = World::default();
    w.create(inbound(MediaType::Message, "q-mandatory"));
    let f = footprint(w.conv());
    assert!(f.loads.is_empty() && f.alerting.is_empty());
    assert_eq!(f.waiting.len(), 1);
    assert_eq!(
        (f.waiting[0].queue_id.as_str(), f.waiting[0].media, f.waiting[0].queued_at),
        ("q-mandatory", MediaType::Message, at(0))
    );

    let alice = w.offer("alice");
    let f = footprint(w.conv());
    assert_eq!(f.loads, [("alice".to_string(), MediaType::Message)]);
    assert_eq!(
        f.alerting,
        [AlertingOffer {
            user_id: "alice".to_string(),
            participant_id: alice.clone(),
            queue_id: Some("q-mandatory".to_string()),
            direct: false
        }]
    );
    assert!(f.waiting.is_empty(), "an entry with an agent alerting is not waiting");

    w.exec(&agent("alice"), Command::Decline { participant_id: alice });
    let f = footprint(w.conv());
    assert!(f.loads.is_empty(), "a declined offer frees the slot");
    assert_eq!(f.waiting[0].tried_user_ids, ["alice"]);

    w.connect("bob");
    assert_eq!(footprint(w.conv()).loads, [("bob".to_string(), MediaType::Message)]);
    assert!(footprint(w.conv()).waiting.is_empty());
    w.hang_up("bob");
    assert_eq!(footprint(w.conv()).loads, [("bob".to_string(), MediaType::Message)], "a pending wrap-up still counts");
    let bob = w.agent_of("bob").id.clone();
    w.exec(&agent("bob"), set_code(&bob, "c-sale"));
    assert!(footprint(w.conv()).loads.is_empty());
}

#[test]
fn direct_offers_show_as_direct_alerting() {
    let mut w = World::default();
    w.create(inbound_to_user(MediaType::Voice, "carol"));
    let f = footprint(w.conv());
    assert_eq!(f.alerting.len(), 1);
    assert_eq!((f.alerting[0].user_id.as_str(), f.alerting[0].direct), ("carol", true));
    assert!(f.waiting.is_empty());
}

#[test]
fn capacity_and_voice_blocking_decide_room() {
    let u = user("alice", &[]);
    // Defaults: voice 1, message 3, voice blocks others.
    assert!(has_room(&u, load(0, 0), MediaType::Voice, true));
    assert!(!has_room(&u, load(1, 0), MediaType::Voice, true));
    assert!(!has_room(&u, load(0, 1), MediaType::Voice, true), "a voice offer needs total load 0");
    assert!(has_room(&u, load(0, 1), MediaType::Voice, false));
    assert!(has_room(&u, load(0, 2), MediaType::Message, true));
    assert!(!has_room(&u, load(0, 3), MediaType::Message, true));
    assert!(!has_room(&u, load(1, 0), MediaType::Message, true), "a message offer needs voice load 0");
    assert!(has_room(&u, load(1, 0), MediaType::Message, false));
    // The user's setting overrides the org's.
    let relaxed = switchboard_core::config::User { voice_blocks_others: Some(false), ..user("bob", &[]) };
    assert!(has_room(&relaxed, load(1, 0), MediaType::Message, true));
    let strict = switchboard_core::config::User { voice_blocks_others: Some(true), ..user("bob", &[]) };
    assert!(!has_room(&strict, load(1, 0), MediaType::Message, false));
    let none = switchboard_core::config::User {
        capacity: switchboard_core::config::Capacity { voice: 0, message: 0 },
        ..user("carol", &[])
    };
    assert!(!has_room(&none, load(0, 0), MediaType::Voice, true));
    assert!(!has_room(&none, load(0, 0), MediaType::Message, true));
}

#[test]
fn presence_reads_back_routing_status() {
    let mut u = user("alice", &[]);
    assert_eq!(presence(&u, load(0, 0)), "idle");
    assert_eq!(presence(&u, load(0, 1)), "interacting");
    u.routing_status = RoutingStatus::NotResponding;
    assert_eq!(presence(&u, load(0, 1)), "notResponding");
    u.routing_status = RoutingStatus::OffQueue;
    assert_eq!(presence(&u, load(1, 0)), "offQueue");
}

fn cand(id: &str, l: Load, idle_since: Option<i64>, last_offer: Option<i64>) -> Candidate {
    Candidate { user_id: id.into(), load: l, idle_since: idle_since.map(at), last_offer_at: last_offer.map(at) }
}

fn waiting(tried: &[&str]) -> Waiting {
    Waiting {
        acd_id: "acd".into(),
        queue_id: "q".into(),
        media: MediaType::Message,
        queued_at: Timestamp(T0),
        tried_user_ids: tried.iter().map(|t| (*t).to_string()).collect(),
    }
}

fn chosen(w: &Waiting, c: &[Candidate]) -> Option<String> {
    choose(w, c).map(|c| c.user_id.clone())
}

#[test]
fn choose_prefers_the_agent_idle_longest() {
    let c = [
        cand("b", load(0, 0), Some(50), None),
        cand("a", load(0, 0), Some(100), None),
        cand("c", load(0, 1), None, None),
    ];
    assert_eq!(chosen(&waiting(&[]), &c).as_deref(), Some("b"));
    // Idle beats busy even when the busy one was never offered anything.
    let c = [cand("busy", load(0, 1), None, None), cand("idle", load(0, 0), Some(900), Some(900))];
    assert_eq!(chosen(&waiting(&[]), &c).as_deref(), Some("idle"));
}

#[test]
fn choose_then_lowest_load_then_longest_since_last_offer_then_user_id() {
    let c = [cand("x", load(0, 2), None, Some(1)), cand("y", load(0, 1), None, Some(500))];
    assert_eq!(chosen(&waiting(&[]), &c).as_deref(), Some("y"), "lowest load");
    let c = [cand("x", load(0, 1), None, Some(500)), cand("y", load(0, 1), None, Some(100))];
    assert_eq!(chosen(&waiting(&[]), &c).as_deref(), Some("y"), "longest since last offer");
    let c = [cand("x", load(0, 1), None, Some(100)), cand("y", load(0, 1), None, None)];
    assert_eq!(chosen(&waiting(&[]), &c).as_deref(), Some("y"), "never offered comes first");
    let c = [cand("n", load(0, 1), None, Some(7)), cand("m", load(0, 1), None, Some(7))];
    assert_eq!(chosen(&waiting(&[]), &c).as_deref(), Some("m"), "ties by user id");
}

#[test]
fn choose_skips_tried_agents_until_everyone_was_tried() {
    let c = [cand("a", load(0, 0), Some(1), None), cand("b", load(0, 1), None, None)];
    assert_eq!(chosen(&waiting(&["a"]), &c).as_deref(), Some("b"), "an untried busy agent before a tried idle one");
    assert_eq!(chosen(&waiting(&["a", "b"]), &c).as_deref(), Some("a"), "all tried: everyone is eligible again");
    assert_eq!(chosen(&waiting(&[]), &[]), None);
}
