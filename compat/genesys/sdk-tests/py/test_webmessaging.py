"""The web messaging guest socket (`/v1?deploymentId=`), spoken as the vendor's guest SDKs do (no official Python or
npm guest SDK exists: raw frames from FACTS.md section 7). A guest writes, an agent answers through the Platform
SDK, the backend ends the conversation: the guest sees Presence Disconnect and the session turns read-only."""
import json
import uuid

import websocket
import PureCloudPlatformClientV2 as gc

from conftest import BASE, model, native, next_frame


def open_guest(deployment_id):
    ws = websocket.create_connection(BASE.replace("http://", "ws://") + f"/v1?deploymentId={deployment_id}", timeout=10)
    return ws




def test_a_guest_sees_presence_disconnect_after_the_backend_ends_the_conversation(admin, admin_token, desk):
    d = desk(policy="optional")
    status, dep = native("POST", "/v1/messaging-deployments", admin_token, {"name": "Web", "queueId": d.queue_id})
    assert status == 201, dep
    token = uuid.uuid4().hex
    ws = open_guest(dep["id"])
    try:
        ws.send(json.dumps({"action": "configureSession", "deploymentId": dep["id"], "token": token}))
        hello = next_frame(ws, lambda f: f["class"] == "SessionResponse")
        assert (hello["type"], hello["code"], hello["body"]["connected"], hello["body"]["newSession"]) == ("response", 200, True, True)

        ws.send(json.dumps({"action": "onMessage", "token": token, "message": {"type": "Text", "text": "hello"},
                            "channel": {"metadata": {"customAttributes": {"orderId": "A-17"}}}}))
        echo = next_frame(ws, lambda f: f["class"] == "StructuredMessage")
        assert (echo["type"], echo["body"]["direction"], echo["body"]["text"]) == ("message", "Inbound", "hello")

        ws.send(json.dumps({"action": "echo", "token": token, "message": {"type": "Text", "text": "ping"}}))
        assert next_frame(ws, lambda f: f["body"].get("text") == "ping")["code"] == 200

        # The agent answers and writes through the Platform SDK.
        agent_api = gc.ConversationsApi(d.agent)
        conv = next(c for c in agent_api.get_conversations_messages().entities)
        me = next(p for p in conv.participants if p.user and p.user.id == d.agent_id)
        assert conv.participants[0].attributes is not None
        agent_api.patch_conversations_message_participant(conv.id, me.id, body=model(gc.MediaParticipantRequest, state="connected"))
        generic = agent_api.get_conversation(conv.id)
        comm = next(p for p in generic.participants if p.id == me.id).messages[0].id
        agent_api.post_conversations_message_communication_messages(conv.id, comm, model(gc.AdditionalMessage, text_body="Hi, Ann here"))
        reply = next_frame(ws, lambda f: f["class"] == "StructuredMessage" and f["body"].get("direction") == "Outbound")
        assert reply["body"]["text"] == "Hi, Ann here"
        assert d.native_conversation(conv.id)["attributes"] == {"orderId": "A-17"}

        gc.ConversationsApi(admin).post_conversation_disconnect(conv.id)
        end = next_frame(ws, lambda f: f["body"].get("type") == "Event")
        assert end["body"]["events"] == [{"eventType": "Presence", "presence": {"type": "Disconnect"}}]
        assert end["body"]["direction"] == "Outbound"

        ws.send(json.dumps({"action": "onMessage", "token": token, "message": {"type": "Text", "text": "still there?"}}))
        refused = next_frame(ws, lambda f: f["class"] == "Error")
        assert refused["code"] != 200 and "read-only" in refused["body"]
        ws.send(json.dumps({"action": "configureSession", "deploymentId": dep["id"], "token": token}))
        assert next_frame(ws, lambda f: f["class"] == "SessionResponse")["body"]["readOnly"] is True
        ws.send(json.dumps({"action": "configureSession", "deploymentId": dep["id"], "token": token, "startNew": True}))
        fresh = next_frame(ws, lambda f: f["class"] == "SessionResponse")["body"]
        assert fresh["newSession"] is True and fresh["readOnly"] is False
        ws.send(json.dumps({"action": "onMessage", "token": token, "message": {"type": "Text", "text": "new question"}}))
        again = next_frame(ws, lambda f: f["class"] == "StructuredMessage")
        assert again["body"]["text"] == "new question"

        ws.send(json.dumps({"action": "closeSession", "token": token}))
        assert next_frame(ws, lambda f: True)["class"] == "ConnectionClosedEvent"
    finally:
        ws.close()


def test_a_resumed_session_keeps_its_conversation_and_bad_frames_get_errors(admin_token, desk):
    d = desk(policy="optional")
    _, dep = native("POST", "/v1/messaging-deployments", admin_token, {"name": "Web", "queueId": d.queue_id})
    token = uuid.uuid4().hex
    ws = open_guest(dep["id"])
    ws.send(json.dumps({"action": "configureSession", "deploymentId": dep["id"], "token": token}))
    next_frame(ws, lambda f: f["class"] == "SessionResponse")
    ws.send(json.dumps({"action": "onMessage", "token": token, "message": {"type": "Text", "text": "first"}}))
    next_frame(ws, lambda f: f["class"] == "StructuredMessage")
    ws.close()
    ws = open_guest(dep["id"])
    try:
        ws.send(json.dumps({"action": "configureSession", "deploymentId": dep["id"], "token": token}))
        resumed = next_frame(ws, lambda f: f["class"] == "SessionResponse")["body"]
        assert resumed["newSession"] is False and resumed["readOnly"] is False
        ws.send("not json")
        assert next_frame(ws, lambda f: True)["class"] == "Error"
        ws.send(json.dumps({"action": "getAttachment", "token": token}))
        assert "not supported" in next_frame(ws, lambda f: True)["body"]
        ws.send(json.dumps({"action": "onMessage", "token": "short", "message": {"text": "x"}}))
        assert "token" in next_frame(ws, lambda f: True)["body"]
    finally:
        ws.close()
    with __import__("pytest").raises(websocket.WebSocketBadStatusException) as e:
        open_guest("no-such-deployment")
    assert e.value.status_code == 404


def configure(ws, dep, token, **extra):
    ws.send(json.dumps({"action": "configureSession", "deploymentId": dep, "token": token, **extra}))
    return next_frame(ws, lambda f: f["class"] == "SessionResponse")["body"]


def test_a_token_never_reaches_another_deployments_session_and_an_end_while_offline_is_seen(admin, admin_token, desk):
    d = desk(policy="optional")
    _, a = native("POST", "/v1/messaging-deployments", admin_token, {"name": "A", "queueId": d.queue_id})
    _, b = native("POST", "/v1/messaging-deployments", admin_token, {"name": "B", "queueId": d.queue_id})
    token = uuid.uuid4().hex
    ws = open_guest(a["id"])
    configure(ws, a["id"], token)
    ws.send(json.dumps({"action": "onMessage", "token": token, "message": {"type": "Text", "text": "on A"}}))
    next_frame(ws, lambda f: f["class"] == "StructuredMessage")
    ws.close()
    other = open_guest(b["id"])
    try:
        assert configure(other, b["id"], token)["newSession"] is True, "the same token on B is another session"
    finally:
        other.close()
    # The conversation ends while the guest is away: resuming says read-only, and startNew begins again.
    _, listed = native("GET", f"/v1/conversations?queueId={d.queue_id}&mediaType=message", admin_token)
    (conv,) = listed["entities"]
    gc.ConversationsApi(admin).post_conversation_disconnect(conv["id"])
    ws = open_guest(a["id"])
    try:
        assert configure(ws, a["id"], token)["readOnly"] is True
        assert configure(ws, a["id"], token, startNew=True) == {"connected": True, "newSession": True, "readOnly": False}
    finally:
        ws.close()
