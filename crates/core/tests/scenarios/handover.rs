//! Handovers beyond the agent's blind transfer: a bot's outcome code, moving queued work, the transfer and
//! context limits, a queue nobody can take, the target queue's `contextSchema`, and the context an offer carries.

use crate::support::*;
use serde_json::{Value, json};
use switchboard_core::command::CreateConversation;
use switchboard_core::config::{Queue, QueueMember, WRAPUP_SYSTEM, WRAPUP_TIMEOUT};
use switchboard_core::{
    ActorKind, AcwPolicy, Command, EventData, MediaType, ParticipantState, Patch, Purpose, Rejection, Scope,
    StateReason, Violation, WrapupInput, WrapupStatus,
};

fn with_context(from: &str, to: switchboard_core::command::TransferTarget, ctx: Value) -> Command {
    Command::Transfer { from_participant_id: from.into(), to, context_data: Some(ctx), wrapup: None }
}

/// A voice call answered by a bot (created by a client, so the bot is the client's): (world, bot id).
fn bot_call() -> (World, String) {
    let mut w = World::default();
    let c = CreateConversation {
        media_type: Some(MediaType::Voice),
        bot_name: Some("faq-bot".into()),
        queue_id: Some("q-optional".into()),
        ..Default::default()
    };
    w.exec(&client(&[Scope::ConversationsWrite]), Command::Create(c));
    let bot = w.conv().participants.iter().find(|p| p.purpose == Purpose::Bot).unwrap().id.clone();
    (w, bot)
}

fn bot_transfer(bot: &str, input: WrapupInput) -> Command {
    Command::Transfer {
        from_participant_id: bot.into(),
        to: to_queue("q-optional"),
        context_data: None,
        wrapup: Some(input),
    }
}

fn code_refusal(r: &Rejection) -> Option<(&str, &str, Vec<&str>)> {
    match r {
        Rejection::CodeNotAllowed { refusals } if refusals.len() == 1 => {
            let f = &refusals[0];
            Some((f.code_id.as_str(), f.pointer.as_str(), f.allowed_codes.iter().map(|c| c.id.as_str()).collect()))
        }
        _ => None,
    }
}

#[test]
fn a_bot_handover_records_its_outcome_as_a_set_wrapup() {
    let (mut w, bot) = bot_call();
    w.advance(4_000);
    let input = WrapupInput { notes: Patch::Value("asked about billing".into()), ..WrapupInput::code("c-sale") };
    w.exec(&client(&[Scope::ConversationsWrite]), bot_transfer(&bot, input));
    assert_eq!(
        w.last_types(),
        ["wrapup.set", "conversation.transferred", "participant.queued", "participant.disconnected"]
    );
    let b = w.p(&bot);
    assert_eq!((b.state_reason, b.disconnected_at), (Some(StateReason::Transfer), Some(at(4_000))));
    let wr = w.wrapup(&bot);
    assert_eq!((wr.policy, wr.status), (AcwPolicy::None, WrapupStatus::Set));
    assert_eq!((wr.code_id.as_deref(), wr.code_name.as_deref()), (Some("c-sale"), Some("Sale")));
    assert_eq!(wr.notes.as_deref(), Some("asked about billing"));
    assert_eq!((wr.acw_started_at, wr.acw_ended_at, wr.set_at), (Some(at(4_000)), Some(at(4_000)), Some(at(4_000))));
    assert_eq!(wr.set_by.as_ref().map(|a| (a.kind, a.id.as_str())), Some((ActorKind::Client, "client-1")));
    assert!(!wr.provisional && !wr.expected && wr.deadline.is_none(), "never pending");
    assert_eq!((w.acd().state, w.acd().queue_id.as_deref()), (ParticipantState::Queued, Some("q-optional")));
    assert_eq!(w.conv().transfer_count, 1);
    assert!(w.conv().pending_wrapup_participants().is_empty());
    // The bot's outcome stays as it was when an agent takes over and the call ends.
    let alice = w.connect("alice");
    w.exec(&agent("alice"), disconnect(&alice));
    assert_eq!(w.wrapup(&bot).code_id.as_deref(), Some("c-sale"));
}

#[test]
fn a_bot_handover_without_a_wrapup_leaves_the_bot_without_one() {
    let (mut w, bot) = bot_call();
    w.exec(&system(), transfer(&bot, to_user("bob")));
    assert_eq!(w.last_types(), ["conversation.transferred", "participant.alerting", "participant.disconnected"]);
    assert!(w.p(&bot).wrapup.is_none());
    assert_eq!(w.agent_of("bob").state, ParticipantState::Alerting);
}

#[test]
fn a_bot_outcome_code_is_validated() {
    let (mut w, bot) = bot_call();
    let writer = client(&[Scope::ConversationsWrite]);
    let version = w.conv().version;
    for refused in [WRAPUP_TIMEOUT, WRAPUP_SYSTEM, "c-nope", "c-archived"] {
        let r = w.reject(&writer, bot_transfer(&bot, WrapupInput::code(refused)));
        let (code, pointer, allowed) = code_refusal(&r).unwrap_or_else(|| panic!("{refused}: {r:?}"));
        assert_eq!((code, pointer), (refused, "/wrapup/codeId"));
        assert_eq!(allowed, ["c-default", "c-other", "c-sale", "c-support"], "active, non-system org codes");
    }
    let notes_only = WrapupInput { notes: Patch::Value("n".into()), ..Default::default() };
    let r = w.reject(&writer, bot_transfer(&bot, notes_only));
    assert!(matches!(&r, Rejection::Invalid { violations, .. } if violations[0].pointer == "/wrapup/codeId"), "{r:?}");
    // A bot's notes and tags have the limits an agent's have.
    let long_notes = WrapupInput { notes: Patch::Value("n".repeat(4001)), ..WrapupInput::code("c-sale") };
    let too_many_tags = WrapupInput { tags: Patch::Value(vec!["t".into(); 51]), ..WrapupInput::code("c-sale") };
    for (input, pointer) in [(long_notes, "/wrapup/notes"), (too_many_tags, "/wrapup/tags")] {
        let r = w.reject(&writer, bot_transfer(&bot, input));
        assert!(matches!(&r, Rejection::Invalid { violations, .. } if violations[0].pointer == pointer), "{r:?}");
    }
    assert_eq!((w.conv().version, w.p(&bot).state), (version, ParticipantState::Connected), "nothing changed");
    assert!(w.p(&bot).wrapup.is_none());
}

#[test]
fn moving_queued_work_takes_no_wrapup_and_needs_someone_to_take_it() {
    let mut w = World::new(TestDir::standard().with_queue(Queue {
        members: vec![QueueMember { user_id: "alice".into(), joined: false }],
        ..queue("q-unjoined", acw_none(), &["c-sale"], &[])
    }));
    w.create(CreateConversation { attributes: Some(json!({"lang": "en"})), ..inbound(MediaType::Voice, "q-optional") });
    let acd = w.acd().id.clone();
    let cmd = Command::Transfer {
        from_participant_id: acd.clone(),
        to: to_queue("q-none"),
        context_data: None,
        wrapup: Some(WrapupInput::code("c-sale")),
    };
    let r = w.reject(&supervisor(), cmd);
    assert!(matches!(&r, Rejection::Invalid { violations, .. } if violations[0].pointer == "/wrapup"), "{r:?}");
    let r = w.reject(&supervisor(), transfer(&acd, to_queue("q-unjoined")));
    assert!(matches!(r, Rejection::Conflict { code: "queue_has_no_members", .. }), "{r:?}");
    w.advance(1_000);
    w.exec(&supervisor(), with_context(&acd, to_queue("q-none"), json!({"vip": true})));
    assert_eq!(w.last_types(), ["conversation.transferred", "participant.queued", "participant.disconnected"]);
    let new = w.acd();
    assert_eq!((new.queue_id.as_deref(), new.queued_at), (Some("q-none"), Some(at(1_000))));
    assert_eq!((w.p(&acd).state_reason, w.p(&acd).abandoned), (Some(StateReason::Transfer), false));
    assert_eq!((w.conv().attributes.clone(), w.conv().transfer_count), (json!({"lang": "en", "vip": true}), 1));
}

#[test]
fn a_queue_with_no_joined_member_is_refused_and_changes_nothing() {
    let dir = TestDir::standard()
        .with_queue(Queue {
            members: vec![QueueMember { user_id: "alice".into(), joined: false }],
            ..queue("q-unjoined", acw_none(), &["c-sale"], &[])
        })
        .with_queue(queue("q-nobody", acw_none(), &["c-sale"], &[]));
    let mut w = World::new(dir);
    let (_, alice) = w.connected_call("q-optional", "alice");
    let version = w.conv().version;
    for q in ["q-unjoined", "q-nobody"] {
        let r = w.reject(&agent("alice"), transfer(&alice, to_queue(q)));
        assert!(
            matches!(&r, Rejection::Conflict { code: "queue_has_no_members", detail } if detail.contains(q)),
            "{r:?}"
        );
        let r = w.reject(&agent("alice"), consult(&alice, to_queue(q)));
        assert!(matches!(r, Rejection::Conflict { code: "queue_has_no_members", .. }), "{r:?}");
    }
    assert_eq!((w.conv().version, w.p(&alice).state, w.customer().held), (version, ParticipantState::Connected, false));
}

#[test]
fn the_transfer_limit_names_max_transfers_and_counts_completed_consults() {
    let mut w = World::default();
    w.dir.settings.max_transfers = 1;
    let (_, alice) = w.connected_call("q-none", "alice");
    w.exec(&agent("alice"), consult(&alice, to_user("bob")));
    let bob = w.agent_of("bob").id.clone();
    w.exec(&agent("bob"), Command::Answer { participant_id: bob.clone() });
    w.exec(&agent("alice"), complete_consult(&alice));
    assert_eq!(w.conv().transfer_count, 1);
    let version = w.conv().version;
    for cmd in [transfer(&bob, to_queue("q-none")), consult(&bob, to_user("carol"))] {
        let r = w.reject(&agent("bob"), cmd);
        let Rejection::Invalid { violations, .. } = &r else { panic!("422 expected: {r:?}") };
        assert_eq!(violations[0].pointer, "/to");
        assert!(violations[0].message.contains("maxTransfers"), "{r:?}");
    }
    assert_eq!((w.conv().version, w.p(&bob).state), (version, ParticipantState::Connected));
}

#[test]
fn context_data_is_an_object_of_at_most_32_kb() {
    let mut w = World::default();
    let (_, alice) = w.connected_call("q-none", "alice");
    let version = w.conv().version;
    // `{"blob":"…"}` is 11 bytes around the string.
    let blob = |n: usize| json!({ "blob": "x".repeat(n) });
    assert_eq!(blob(32_757).to_string().len(), 32 * 1024);
    for (ctx, needle) in
        [(json!(["a"]), "JSON object"), (json!("text"), "JSON object"), (blob(32_758), "maxContextBytes")]
    {
        let r = w.reject(&agent("alice"), with_context(&alice, to_queue("q-optional"), ctx));
        let Rejection::Invalid { violations, .. } = &r else { panic!("422 expected: {r:?}") };
        assert_eq!(violations[0].pointer, "/contextData");
        assert!(violations[0].message.contains(needle), "{r:?}");
    }
    let r = w.reject(
        &agent("alice"),
        Command::Consult { from_participant_id: alice.clone(), to: to_user("bob"), context_data: Some(blob(40_000)) },
    );
    assert!(matches!(r, Rejection::Invalid { .. }), "consult has the same limit: {r:?}");
    assert_eq!(w.conv().version, version);
    w.exec(&agent("alice"), with_context(&alice, to_queue("q-optional"), blob(32_757)));
    assert_eq!(w.conv().attributes.to_string().len(), 32 * 1024);
}

fn schema_world(attributes: Value) -> (World, String) {
    let agents = ["alice", "bob", "carol"];
    let dir = TestDir::standard()
        .with_queue(queue("q-schema", acw_optional(), &["c-sale"], &agents))
        .with_schema("q-schema", &["account", "reason"]);
    let mut w = World::new(dir);
    w.create(CreateConversation { attributes: Some(attributes), ..inbound(MediaType::Voice, "q-optional") });
    let alice = w.connect("alice");
    (w, alice)
}

#[test]
fn transfer_reports_every_schema_violation_at_once_and_changes_nothing() {
    let (mut w, alice) = schema_world(json!({"lang": "en"}));
    let version = w.conv().version;
    let r = w.reject(&agent("alice"), with_context(&alice, to_queue("q-schema"), json!({"note": "x"})));
    let Rejection::Invalid { violations, .. } = &r else { panic!("422 expected: {r:?}") };
    let pointers: Vec<&str> = violations.iter().map(|v| v.pointer.as_str()).collect();
    assert_eq!(pointers, ["/contextData/account", "/contextData/reason"]);
    assert_eq!((w.conv().version, w.conv().attributes.clone()), (version, json!({"lang": "en"})));
    assert_eq!(w.p(&alice).state, ParticipantState::Connected);
    // Removing a required key the conversation had is a violation too.
    let r = w.reject(&agent("alice"), consult(&alice, to_queue("q-schema")));
    assert!(matches!(&r, Rejection::Invalid { violations, .. } if violations.len() == 2), "consult checks it: {r:?}");
    w.exec(&agent("alice"), with_context(&alice, to_queue("q-schema"), json!({"account": "A1", "reason": "billing"})));
    assert_eq!(w.acd().queue_id.as_deref(), Some("q-schema"));
    assert_eq!(w.conv().attributes, json!({"lang": "en", "account": "A1", "reason": "billing"}));
}

#[test]
fn existing_attributes_satisfy_the_schema_without_context_data() {
    let (mut w, alice) = schema_world(json!({"account": "A1", "reason": "billing"}));
    w.exec(&agent("alice"), transfer(&alice, to_queue("q-schema")));
    assert_eq!(w.acd().queue_id.as_deref(), Some("q-schema"));
    // Merged: the context completes what the attributes lack, and a null removes a key before the check.
    let (mut w, alice) = schema_world(json!({"account": "A1"}));
    let r =
        w.reject(&agent("alice"), with_context(&alice, to_queue("q-schema"), json!({"account": null, "reason": "r"})));
    assert!(
        matches!(&r, Rejection::Invalid { violations, .. }
        if *violations == [Violation::new("/contextData/account", "is required by the queue's contextSchema")]),
        "{r:?}"
    );
    w.exec(&agent("alice"), with_context(&alice, to_queue("q-schema"), json!({"reason": "r"})));
}

#[test]
fn update_attributes_is_validated_against_the_last_acd_queue_schema() {
    let (mut w, alice) = schema_world(json!({"account": "A1", "reason": "r"}));
    // On q-optional (no schema) anything goes.
    w.exec(&agent("alice"), Command::UpdateAttributes { patch: json!({"reason": null}) });
    w.exec(&agent("alice"), Command::UpdateAttributes { patch: json!({"reason": "r"}) });
    w.exec(&agent("alice"), transfer(&alice, to_queue("q-schema")));
    let version = w.conv().version;
    let r = w.reject(&supervisor(), Command::UpdateAttributes { patch: json!({"account": null, "reason": null}) });
    let Rejection::Invalid { violations, .. } = &r else { panic!("422 expected: {r:?}") };
    let pointers: Vec<&str> = violations.iter().map(|v| v.pointer.as_str()).collect();
    assert_eq!(pointers, ["/account", "/reason"], "pointers into the merged document");
    assert_eq!(w.conv().version, version);
    w.exec(&supervisor(), Command::UpdateAttributes { patch: json!({"extra": 1, "reason": "other"}) });
    assert_eq!(w.conv().attributes, json!({"account": "A1", "reason": "other", "extra": 1}));
}

fn alerting_context(w: &World) -> Option<Value> {
    w.last_events.iter().find_map(|e| match &e.data {
        EventData::ParticipantAlerting { context, .. } => Some(context.clone()),
        _ => None,
    })?
}

#[test]
fn an_offer_carries_the_attributes_after_a_handover() {
    let mut w = World::default();
    let (_, alice) = w.connected_call("q-optional", "alice");
    w.exec(&agent("alice"), with_context(&alice, to_queue("q-none"), json!({"case": 7})));
    let bob = w.offer("bob");
    assert_eq!(alerting_context(&w), Some(json!({"case": 7})));
    w.exec(&agent("bob"), Command::Answer { participant_id: bob.clone() });
    // A direct transfer: the offer made in the same command already carries the new context.
    w.exec(&agent("bob"), with_context(&bob, to_user("carol"), json!({"tier": "gold"})));
    assert_eq!(alerting_context(&w), Some(json!({"case": 7, "tier": "gold"})));
    // No attributes: no context.
    let mut w = World::default();
    w.create(inbound(MediaType::Voice, "q-optional"));
    w.offer("alice");
    assert_eq!(alerting_context(&w), None);
}

/// Found while writing these tests: `consult.started` (which merges the consult's contextData) was emitted after
/// the direct target's `participant.alerting`, so the consulted agent's offer lacked the context it was sent.
#[test]
fn a_consulted_agent_is_offered_the_consult_context() {
    let mut w = World::default();
    w.create(CreateConversation { attributes: Some(json!({"lang": "en"})), ..inbound(MediaType::Voice, "q-optional") });
    let alice = w.connect("alice");
    let cmd = Command::Consult {
        from_participant_id: alice.clone(),
        to: to_user("bob"),
        context_data: Some(json!({"question": "refund?"})),
    };
    w.exec(&agent("alice"), cmd);
    assert_eq!(alerting_context(&w), Some(json!({"lang": "en", "question": "refund?"})));
    assert_eq!(w.conv().attributes, json!({"lang": "en", "question": "refund?"}));
    w.exec(&agent("alice"), cancel_consult(&alice));
    // A queue consult: routing's offer carries it.
    let cmd = Command::Consult {
        from_participant_id: alice,
        to: to_queue("q-none"),
        context_data: Some(json!({"question": "again"})),
    };
    w.exec(&agent("alice"), cmd);
    w.offer("carol");
    assert_eq!(alerting_context(&w), Some(json!({"lang": "en", "question": "again"})));
}

/// docs/RULES.md: a conversation starts in its queue with attributes that queue's schema accepts.
#[test]
fn create_validates_attributes_against_the_queue_schema() {
    let agents = ["alice", "bob", "carol"];
    let dir = TestDir::standard()
        .with_queue(queue("q-schema", acw_optional(), &["c-sale"], &agents))
        .with_schema("q-schema", &["account", "reason"]);
    let mut w = World::new(dir);
    let create = |attributes: Value| {
        Command::Create(CreateConversation { attributes: Some(attributes), ..inbound(MediaType::Message, "q-schema") })
    };
    let r = w.try_exec(&system(), create(json!({"account": "A1"}))).unwrap_err();
    let Rejection::Invalid { violations, .. } = &r else { panic!("422 expected: {r:?}") };
    assert_eq!(violations.iter().map(|v| v.pointer.as_str()).collect::<Vec<_>>(), ["/attributes/reason"]);
    let r = w.try_exec(&system(), create(json!({"blob": "x".repeat(33 * 1024)}))).unwrap_err();
    assert!(
        matches!(&r, Rejection::Invalid { violations, .. } if violations[0].message.contains("maxContextBytes")),
        "{r:?}"
    );
    w.create(CreateConversation {
        attributes: Some(json!({"account": "A1", "reason": "bill"})),
        ..inbound(MediaType::Message, "q-schema")
    });
    assert_eq!(w.conv().attributes["reason"], "bill");
}
