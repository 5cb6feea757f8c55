"""Notifications: channels and subscriptions through the SDK, and the channel's WebSocket (websocket-client) with
the vendor's frames, heartbeats and ping/pong. run.sh starts the server with 1 s heartbeats."""
import json

import pytest
import websocket
import PureCloudPlatformClientV2 as gc
from PureCloudPlatformClientV2.rest import ApiException

from conftest import error_body, model, native, next_frame


def topics(*names):
    return [model(gc.ChannelTopic, id=n) for n in names]




@pytest.mark.ops("post_notifications_channels", "put_notifications_channel_subscriptions",
                 "get_notifications_channel_subscriptions", "head_notifications_channel", "get_notifications_channels")
def test_an_agent_desktop_follows_its_conversations_on_the_socket(desk):
    d = desk(policy="mandatory")
    notif = gc.NotificationsApi(d.agent)
    ch = notif.post_notifications_channels()
    assert ch.connect_uri.startswith("ws://") and ch.id in ch.connect_uri and ch.expires
    mine = f"v2.users.{d.agent_id}.conversations"
    got = notif.put_notifications_channel_subscriptions(ch.id, topics(mine, mine + ".calls"))
    assert [t.state for t in got.entities] == ["Permitted", "Permitted"]
    assert sorted(t.id for t in notif.get_notifications_channel_subscriptions(ch.id).entities) == sorted([mine, mine + ".calls"])
    notif.head_notifications_channel(ch.id)
    assert ch.id in [c.id for c in notif.get_notifications_channels().entities]

    ws = websocket.create_connection(ch.connect_uri, timeout=10)
    try:
        cid, pid, _ = d.inbound("voice")
        frame = next_frame(ws, lambda f: f["topicName"] == mine)
        assert frame["version"] == "2" and frame["metadata"]["CorrelationId"]
        body = frame["eventBody"]
        assert body["id"] == cid
        me = next(p for p in body["participants"] if p["id"] == pid)
        assert me["calls"][0]["state"] == "alerting" and me["wrapupExpected"] is True
        calls = next_frame(ws, lambda f: f["topicName"] == mine + ".calls")
        assert next(p for p in calls["eventBody"]["participants"] if p["id"] == pid)["state"] == "alerting"
        ws.send(json.dumps({"message": "ping"}))
        pong = next_frame(ws, lambda f: f["topicName"] == "channel.metadata" and f["eventBody"]["message"] == "pong")
        assert pong["eventBody"] == {"message": "pong"}
        beat = next_frame(ws, lambda f: f["eventBody"].get("message") == "WebSocket Heartbeat")
        assert beat["topicName"] == "channel.metadata"
    finally:
        ws.close()


@pytest.mark.ops("post_notifications_channel_subscriptions", "delete_notifications_channel_subscriptions", "head_notifications_channel")
def test_topics_of_others_are_rejected_and_subscriptions_can_be_cleared(desk, make_agent):
    d = desk(policy="optional")
    other, _ = make_agent()
    notif = gc.NotificationsApi(d.agent)
    ch = notif.post_notifications_channels()
    with pytest.raises(ApiException) as e:
        notif.post_notifications_channel_subscriptions(ch.id, topics(f"v2.users.{other}.conversations"))
    assert e.value.status == 400 and error_body(e.value)["details"][0]["entityId"] == f"v2.users.{other}.conversations"
    got = notif.post_notifications_channel_subscriptions(
        ch.id, topics(f"v2.users.{other}.conversations", f"v2.users.{d.agent_id}.conversations", "v2.users.x.presence"),
        ignore_errors=True)
    assert [t.state for t in got.entities] == ["Rejected", "Permitted", "Rejected"]
    assert got.entities[0].missing_permissions
    assert [t.id for t in notif.get_notifications_channel_subscriptions(ch.id).entities] == [f"v2.users.{d.agent_id}.conversations"]
    notif.delete_notifications_channel_subscriptions(ch.id)
    assert notif.get_notifications_channel_subscriptions(ch.id).entities == []
    with pytest.raises(ApiException) as e:
        notif.head_notifications_channel("no-such-channel")
    assert e.value.status == 404


@pytest.mark.ops("post_notifications_channels", "put_notifications_channel_subscriptions")
def test_a_supervisor_gets_queue_conversations_and_detail_events(admin, desk):
    d = desk(policy="mandatory")
    notif = gc.NotificationsApi(admin)
    ch = notif.post_notifications_channels()
    queue_topic = f"v2.routing.queues.{d.queue_id}.conversations"
    notif.put_notifications_channel_subscriptions(ch.id, topics(queue_topic))
    ws = websocket.create_connection(ch.connect_uri, timeout=10)
    try:
        cid, pid, _ = d.inbound("voice")
        assert next_frame(ws, lambda f: f["topicName"] == queue_topic)["eventBody"]["id"] == cid
        base = f"v2.detail.events.conversation.{cid}"
        got = notif.put_notifications_channel_subscriptions(ch.id, topics(base + ".wrapup", base + ".acw", base + ".customer.end", base + ".user.end"))
        assert {t.state for t in got.entities} == {"Permitted"}
        api = gc.ConversationsApi(d.agent)
        api.patch_conversation_participant(cid, pid, model(gc.MediaParticipantRequest, state="connected"))
        api.patch_conversation_participant(cid, pid, model(gc.MediaParticipantRequest, state="disconnected"))
        user_end = next_frame(ws, lambda f: f["topicName"] == base + ".user.end")["eventBody"]
        assert (user_end["participantId"], user_end["disconnectType"], user_end["mediaType"]) == (pid, "CLIENT", "VOICE")
        assert isinstance(user_end["eventTime"], int) and user_end["userId"] == d.agent_id
        api.patch_conversation_participant(cid, pid, model(gc.MediaParticipantRequest, wrapup=model(gc.WrapupInput, code=d.codes[0], notes="n")))
        wrapup = next_frame(ws, lambda f: f["topicName"] == base + ".wrapup")["eventBody"]
        assert (wrapup["wrapupCode"], wrapup["wrapupNotes"], wrapup["direction"]) == (d.codes[0], "n", "INBOUND")
        acw = next_frame(ws, lambda f: f["topicName"] == base + ".acw")["eventBody"]
        assert acw["userId"] == d.agent_id and acw["wrapupCode"] == d.codes[0]
        gc.ConversationsApi(admin).post_conversation_disconnect(cid)
    finally:
        ws.close()


def test_an_unknown_channel_socket_is_refused(admin):
    base = gc.NotificationsApi(admin).post_notifications_channels().connect_uri.rsplit("/", 1)[0]
    with pytest.raises(websocket.WebSocketBadStatusException) as e:
        websocket.create_connection(base + "/streaming-not-a-channel", timeout=10)
    assert e.value.status_code == 404


@pytest.mark.ops("post_notifications_channels")
def test_signing_the_user_out_everywhere_closes_its_notification_socket(admin_token, desk):
    d = desk(policy="optional")
    notif = gc.NotificationsApi(d.agent)
    ch = notif.post_notifications_channels()
    notif.put_notifications_channel_subscriptions(ch.id, topics(f"v2.users.{d.agent_id}.conversations"))
    ws = websocket.create_connection(ch.connect_uri, timeout=10)
    try:
        status, _ = native("DELETE", f"/v1/users/{d.agent_id}/sessions", admin_token)
        assert status in (200, 204)
        closing = next_frame(ws, lambda f: f["topicName"] == "v2.system.socket_closing")
        assert closing["eventBody"]["systemTopicType"] == "token_revoked"
        with pytest.raises(ApiException) as e:
            notif.head_notifications_channel(ch.id)
        assert e.value.status == 401, "the token itself is refused from now on"
    finally:
        ws.close()
