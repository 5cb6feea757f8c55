"""Conversations through the SDK: an agent desktop's call with a wrap-up after the end, a gateway's message
teardown with the disposition, outbound calls, transfers, attributes and the read models."""
import pytest
import PureCloudPlatformClientV2 as gc
from PureCloudPlatformClientV2.rest import ApiException

from conftest import advance_clock, assert_current_enums, error_body, model


@pytest.mark.ops("get_conversations_calls", "get_conversations_call", "patch_conversations_call_participant",
                 "get_conversations_call_participant_wrapupcodes", "get_conversations_call_participant_wrapup",
                 "get_conversation", "get_conversations")
def test_agent_desktop_sets_the_wrapup_after_the_call_ends(desk):
    d = desk(policy="mandatory")
    cid, pid, comm = d.inbound("voice")
    conv_api = gc.ConversationsApi(d.agent)
    calls = conv_api.get_conversations_calls()
    assert cid in [c.id for c in calls.entities]
    call = conv_api.get_conversations_call(cid)
    me = next(p for p in call.participants if p.id == pid)
    assert (me.state, me.purpose, me.wrapup_prompt, me.wrapup_required) == ("alerting", "agent", "mandatory", True)
    assert_current_enums(call)

    conv_api.patch_conversations_call_participant(cid, pid, model(gc.MediaParticipantRequest, state="connected"))
    conv_api.patch_conversations_call_participant(cid, pid, model(gc.MediaParticipantRequest, state="disconnected"))
    generic = conv_api.get_conversation(cid)
    agent = next(p for p in generic.participants if p.id == pid)
    assert agent.calls[0].id == comm and agent.calls[0].state == "disconnected"
    assert agent.calls[0].disconnect_type == "client" and agent.calls[0].after_call_work.state == "pending"
    assert cid in [c.id for c in conv_api.get_conversations().entities], "waiting for its wrap-up, still active"
    assert_current_enums(generic)

    codes = conv_api.get_conversations_call_participant_wrapupcodes(cid, pid)
    assert isinstance(codes, list) and sorted(c.id for c in codes) == sorted(d.codes)
    with pytest.raises(ApiException) as e:
        conv_api.patch_conversations_call_participant(cid, pid, model(gc.MediaParticipantRequest, wrapup=model(gc.WrapupInput, code="not-a-code")))
    body = error_body(e.value)
    assert e.value.status == 400 and sorted(body["messageParams"]["allowedCodes"].split(",")) == sorted(d.codes)

    conv_api.patch_conversations_call_participant(
        cid, pid, model(gc.MediaParticipantRequest, wrapup=model(gc.WrapupInput, code=d.codes[0], notes="all good")))
    assigned = conv_api.get_conversations_call_participant_wrapup(cid, pid)
    assert (assigned.code, assigned.notes) == (d.codes[0], "all good")
    assert d.native_conversation(cid)["state"] == "closed"
    assert cid not in [c.id for c in conv_api.get_conversations().entities]


@pytest.mark.ops("patch_conversations_message_participant", "post_conversations_message_communication_messages",
                 "patch_conversations_message_participant_communication",
                 "post_conversations_message_participant_communication_wrapup",
                 "get_conversations_message_participant_communication_wrapup", "post_conversation_disconnect",
                 "get_conversations_messages", "get_conversations_message",
                 "get_conversations_message_participant_wrapup", "get_conversations_message_participant_wrapupcodes")
def test_gateway_disconnects_a_message_conversation_and_sets_the_disposition(admin, desk):
    d = desk(policy="mandatory")
    cid, pid, comm = d.inbound("message")
    agent_api = gc.ConversationsApi(d.agent)
    agent_api.patch_conversations_message_participant(cid, pid, body=model(gc.MediaParticipantRequest, state="connected"))
    sent = agent_api.post_conversations_message_communication_messages(cid, comm, model(gc.AdditionalMessage, text_body="How can I help?"))
    assert sent.id and sent.normalized_message.text == "How can I help?" and sent.direction == "outbound" and sent.timestamp
    assert_current_enums(sent)
    assert cid in [c.id for c in agent_api.get_conversations_messages().entities]
    msg = agent_api.get_conversations_message(cid)
    assert next(p for p in msg.participants if p.id == pid).state == "connected"

    gateway = gc.ConversationsApi(admin)
    gateway.patch_conversations_message_participant_communication(cid, pid, comm, model(gc.MediaParticipantRequest, state="disconnected"))
    gateway.post_conversations_message_participant_communication_wrapup(cid, pid, comm, body=model(gc.WrapupInput, code=d.codes[1]))
    assert gateway.get_conversations_message_participant_communication_wrapup(cid, pid, comm).code == d.codes[1]
    assert gateway.get_conversations_message_participant_wrapup(cid, pid).code == d.codes[1]
    assert len(gateway.get_conversations_message_participant_wrapupcodes(cid, pid)) == 2
    with pytest.raises(ApiException) as e:
        gateway.get_conversations_message_participant_communication_wrapup(cid, pid, "someone-elses-communication")
    assert e.value.status == 404
    assert gateway.post_conversation_disconnect(cid) == "Accepted"
    native = d.native_conversation(cid)
    assert native["state"] == "closed"
    assert next(p for p in native["participants"] if p["id"] == pid)["wrapup"]["codeId"] == d.codes[1]


@pytest.mark.ops("post_conversation_disconnect", "get_conversation_participant_wrapup")
def test_disconnect_is_a_teardown_that_resolves_pending_wrapups_with_the_system_code(admin, desk):
    d = desk(policy="mandatory")
    cid, pid, _ = d.inbound("voice")
    api = gc.ConversationsApi(d.agent)
    api.patch_conversation_participant(cid, pid, model(gc.MediaParticipantRequest, state="connected"))
    gc.ConversationsApi(admin).post_conversation_disconnect(cid)
    assert api.get_conversation_participant_wrapup(cid, pid).code == "WRAPUP-SYSTEM"
    assert d.native_conversation(cid)["state"] == "closed"


@pytest.mark.ops("patch_conversation_participant", "get_conversation_participant_wrapupcodes", "get_conversation_participant_wrapup")
def test_a_timed_wrapup_expires_on_the_manual_clock_with_the_vendor_timeout_code(admin_token, desk):
    d = desk(policy="mandatoryTimeout", timeout_ms=30000)
    cid, pid, _ = d.inbound("voice")
    api = gc.ConversationsApi(d.agent)
    api.patch_conversation_participant(cid, pid, model(gc.MediaParticipantRequest, state="connected"))
    api.patch_conversation_participant(cid, pid, model(gc.MediaParticipantRequest, state="disconnected"))
    assert len(api.get_conversation_participant_wrapupcodes(cid, pid)) == 2
    agent = next(p for p in api.get_conversation(cid).participants if p.id == pid)
    assert (agent.wrapup_prompt, agent.wrapup_timeout_ms) == ("timeout", 30000)
    advance_clock(admin_token, 30001)
    assert api.get_conversation_participant_wrapup(cid, pid).code == "ININ-WRAP-UP-TIMEOUT"


@pytest.mark.ops("patch_conversation_participant")
def test_skipping_an_optional_wrapup_and_refusing_to_skip_a_mandatory_one(desk):
    d = desk(policy="optional")
    cid, pid, _ = d.inbound("voice")
    api = gc.ConversationsApi(d.agent)
    api.patch_conversation_participant(cid, pid, model(gc.MediaParticipantRequest, state="connected"))
    api.patch_conversation_participant(cid, pid, model(gc.MediaParticipantRequest, state="disconnected", wrapup_skipped=True))
    agent = next(p for p in api.get_conversation(cid).participants if p.id == pid)
    assert agent.wrapup_skipped is True and agent.calls[0].after_call_work.state == "skipped"

    m = desk(policy="mandatory")
    cid, pid, _ = m.inbound("voice")
    api = gc.ConversationsApi(m.agent)
    api.patch_conversation_participant(cid, pid, model(gc.MediaParticipantRequest, state="connected"))
    with pytest.raises(ApiException) as e:
        api.patch_conversation_participant(cid, pid, model(gc.MediaParticipantRequest, state="disconnected", wrapup_skipped=True))
    body = error_body(e.value)
    assert e.value.status == 409 and body["code"] == "conflict" and body["messageParams"]["nativeCode"] == "skip_not_allowed"


@pytest.mark.ops("patch_conversations_call_participant_attributes", "patch_conversation_participant_attributes",
                 "patch_conversations_message_participant_attributes")
def test_participant_attributes(desk):
    d = desk(policy="optional")
    api = gc.ConversationsApi(d.agent)
    cid, pid, _ = d.inbound("voice")
    got = api.patch_conversations_call_participant_attributes(cid, pid, model(gc.ParticipantAttributes, attributes={"crm": "42"}))
    assert got.attributes == {"crm": "42"}
    api.patch_conversation_participant_attributes(cid, pid, model(gc.ParticipantAttributes, attributes={"tier": "gold"}))
    assert next(p for p in api.get_conversation(cid).participants if p.id == pid).attributes == {"crm": "42", "tier": "gold"}
    m = desk(policy="optional")
    mid, mpid, _ = m.inbound("message")
    got = gc.ConversationsApi(m.agent).patch_conversations_message_participant_attributes(mid, mpid, body=model(gc.ParticipantAttributes, attributes={"a": "b"}))
    assert got.attributes == {"a": "b"}


@pytest.mark.ops("post_conversation_participant_replace_queue", "post_conversation_participant_replace_agent",
                 "post_conversations_call_participant_replace", "post_conversations_message_participant_replace")
def test_blind_transfers(admin_token, desk, make_agent):
    for media, how in [("voice", "queue"), ("voice", "agent"), ("voice", "call"), ("message", "message")]:
        d = desk(policy="optional")
        other = desk(policy="optional")
        api = gc.ConversationsApi(d.agent)
        cid, pid, _ = d.inbound(media)
        api.patch_conversation_participant(cid, pid, model(gc.MediaParticipantRequest, state="connected"))
        if how == "queue":
            api.post_conversation_participant_replace_queue(cid, pid, model(gc.TransferToQueueRequest, queue_id=other.queue_id))
        elif how == "agent":
            api.post_conversation_participant_replace_agent(cid, pid, model(gc.TransferToAgentRequest, user_id=other.agent_id, transfer_type="Unattended"))
        elif how == "call":
            api.post_conversations_call_participant_replace(cid, pid, model(gc.TransferRequest, queue_id=other.queue_id))
        else:
            api.post_conversations_message_participant_replace(cid, pid, model(gc.TransferRequest, user_id=other.agent_id))
        native = d.native_conversation(cid)
        me = next(p for p in native["participants"] if p["id"] == pid)
        assert me["state"] == "disconnected" and me["stateReason"] == "transfer", (how, me)
        assert any(p.get("userId") == other.agent_id and p["state"] == "alerting" for p in native["participants"]), how
    d = desk(policy="optional")
    cid, pid, _ = d.inbound("voice")
    api = gc.ConversationsApi(d.agent)
    with pytest.raises(ApiException) as e:
        api.post_conversation_participant_replace_agent(cid, pid, model(gc.TransferToAgentRequest, user_id=other.agent_id, transfer_type="Attended"))
    assert e.value.status == 400 and error_body(e.value)["details"][0]["fieldName"] == "transferType"


@pytest.mark.ops("post_conversations_calls", "patch_conversations_call", "delete_conversation", "patch_conversations_message")
def test_outbound_call_and_conversation_level_disconnects(admin, desk):
    d = desk(policy="optional")
    api = gc.ConversationsApi(d.agent)
    created = api.post_conversations_calls(model(gc.CreateCallRequest, phone_number="+15550199", call_from_queue_id=d.queue_id))
    call = api.get_conversations_call(created.id)
    customer = next(p for p in call.participants if p.purpose == "customer")
    assert (customer.state, customer.address, call.participants[0].direction) == ("contacting", "+15550199", "outbound")
    out = gc.ConversationsApi(admin).patch_conversations_call(created.id, model(gc.Conversation, state="disconnected"))
    assert out.id == created.id and d.native_conversation(created.id)["state"] != "active"

    d = desk(policy="optional")
    cid, pid, _ = d.inbound("voice")
    gc.ConversationsApi(admin).delete_conversation(cid)
    assert d.native_conversation(cid)["state"] != "active"
    d = desk(policy="optional")
    mid, _, _ = d.inbound("message")
    gc.ConversationsApi(admin).patch_conversations_message(mid, model(gc.Conversation, state="disconnected"))
    assert d.native_conversation(mid)["state"] != "active"
    with pytest.raises(ApiException) as e:
        gc.ConversationsApi(admin).get_conversations_message(cid)
    assert e.value.status == 404, "a call is not found among messages"


@pytest.mark.ops("patch_conversations_call_participant_communication", "post_conversations_call_participant_communication_wrapup",
                 "get_conversations_call_participant_communication_wrapup",
                 "patch_conversations_aftercallwork_conversation_id_participant_communication")
def test_per_communication_wrapup_and_agent_requested_acw(desk):
    d = desk(policy="agentRequested", timeout_ms=60000)
    cid, pid, comm = d.inbound("voice")
    api = gc.ConversationsApi(d.agent)
    api.patch_conversations_call_participant(cid, pid, model(gc.MediaParticipantRequest, state="connected"))
    got = api.patch_conversations_aftercallwork_conversation_id_participant_communication(cid, pid, comm, model(gc.AfterCallWorkUpdate, after_call_work_required=True))
    assert got.after_call_work_required is True
    api.patch_conversations_call_participant_communication(cid, pid, comm, model(gc.MediaParticipantRequest, state="disconnected"))
    agent = next(p for p in api.get_conversation(cid).participants if p.id == pid)
    assert agent.wrapup_required is True and agent.calls[0].after_call_work_required is True
    api.post_conversations_call_participant_communication_wrapup(cid, pid, comm, body=model(gc.WrapupInput, code=d.codes[0], tags=["vip"]))
    got = api.get_conversations_call_participant_communication_wrapup(cid, pid, comm)
    assert got.code == d.codes[0] and got.tags == ["vip"]
    with pytest.raises(ApiException) as e:
        api.post_conversations_call_participant_communication_wrapup(cid, pid, "not-mine", body=model(gc.WrapupInput, code=d.codes[0]))
    assert e.value.status == 404


@pytest.mark.ops("get_conversation")
def test_an_agent_cannot_see_a_conversation_it_never_took_part_in(desk, make_agent):
    d = desk(policy="optional")
    cid, _, _ = d.inbound("voice")
    _, stranger = make_agent()
    with pytest.raises(ApiException) as e:
        gc.ConversationsApi(stranger).get_conversation(cid)
    assert e.value.status == 404 and error_body(e.value)["code"] == "not.found"
