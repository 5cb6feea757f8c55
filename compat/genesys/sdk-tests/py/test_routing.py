"""Wrap-up codes, queues with their after-call-work settings, queue codes and members."""
import uuid

import pytest
import PureCloudPlatformClientV2 as gc
from PureCloudPlatformClientV2.rest import ApiException

from conftest import assert_current_enums, error_body, native, model


def unique(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@pytest.mark.ops("post_routing_wrapupcodes", "get_routing_wrapupcode", "put_routing_wrapupcode",
                 "delete_routing_wrapupcode", "get_routing_wrapupcodes")
def test_wrapup_codes_crud(admin):
    routing = gc.RoutingApi(admin)
    code = routing.post_routing_wrapupcodes(model(gc.WrapupCodeRequest, name=unique("Sale"), description="closed a deal"))
    assert code.id and code.description == "closed a deal"
    assert routing.get_routing_wrapupcode(code.id).name == code.name
    renamed = routing.put_routing_wrapupcode(code.id, model(gc.WrapupCodeRequest, name=code.name + " (won)"))
    assert renamed.name.endswith("(won)") and renamed.description == "closed a deal", "an absent description is kept"
    with pytest.raises(ApiException) as e:
        routing.post_routing_wrapupcodes(model(gc.WrapupCodeRequest, name=renamed.name))
    assert e.value.status == 409 and error_body(e.value)["code"] == "conflict"
    routing.delete_routing_wrapupcode(code.id)
    with pytest.raises(ApiException) as e:
        routing.get_routing_wrapupcode(code.id)
    assert e.value.status == 404
    listed = routing.get_routing_wrapupcodes(id=[code.id])
    assert listed.total == 0, "an archived code is not listed"


@pytest.mark.ops("get_routing_wrapupcodes")
def test_wrapup_code_listing_pages_sorts_and_filters(admin):
    routing = gc.RoutingApi(admin)
    prefix = unique("Page")
    ids = [routing.post_routing_wrapupcodes(model(gc.WrapupCodeRequest, name=f"{prefix} {i}")).id for i in range(5)]
    page = routing.get_routing_wrapupcodes(page_size=2, page_number=2, name=f"{prefix}*")
    assert (page.total, page.page_count, page.page_size, page.page_number) == (5, 3, 2, 2)
    assert [c.name for c in page.entities] == [f"{prefix} 2", f"{prefix} 3"]
    assert page.next_uri and page.previous_uri
    desc = routing.get_routing_wrapupcodes(name=f"{prefix}*", sort_order="descending")
    assert [c.name for c in desc.entities][0] == f"{prefix} 4"
    # A comma list is sent encoded by Python (id=a%2Cb).
    by_id = routing.get_routing_wrapupcodes(id=ids[:2])
    assert sorted(c.id for c in by_id.entities) == sorted(ids[:2])
    with pytest.raises(ApiException) as e:
        routing.get_routing_wrapupcodes(page_size=0)
    assert e.value.status == 400 and error_body(e.value)["details"][0]["fieldName"] == "pageSize"


def make_queue(routing, prompt="MANDATORY_TIMEOUT", timeout_ms=30000):
    body = model(gc.CreateQueueRequest, name=unique("Support"), acw_settings=model(gc.AcwSettings, wrapup_prompt=prompt, timeout_ms=timeout_ms))
    return routing.post_routing_queues(body)


@pytest.mark.ops("post_routing_queues", "get_routing_queue", "put_routing_queue", "delete_routing_queue", "get_routing_queues")
def test_queue_crud_with_acw_settings(admin, admin_token):
    routing = gc.RoutingApi(admin)
    q = make_queue(routing)
    assert q.acw_settings.wrapup_prompt == "MANDATORY_TIMEOUT" and q.acw_settings.timeout_ms == 30000
    assert_current_enums(q)
    assert routing.get_routing_queue(q.id).name == q.name
    assert q.id in [x.id for x in routing.get_routing_queues(name=q.name).entities]
    # The native view agrees: mandatoryTimeout with the same deadline.
    _, nat = native("GET", f"/v1/queues/{q.id}", admin_token)
    assert (nat["acw"]["policy"], nat["acw"]["timeoutMs"]) == ("mandatoryTimeout", 30000)

    for prompt in ["OPTIONAL", "MANDATORY", "MANDATORY_FORCED_TIMEOUT", "AGENT_REQUESTED", "MANDATORY_TIMEOUT"]:
        got = routing.put_routing_queue(q.id, model(gc.QueueRequest, name=q.name, acw_settings=model(gc.AcwSettings, wrapup_prompt=prompt, timeout_ms=20000)))
        assert got.acw_settings.wrapup_prompt == prompt
        # A timeout on a policy without a deadline is ignored, as the vendor does.
        assert got.acw_settings.timeout_ms == (None if prompt in ("OPTIONAL", "MANDATORY") else 20000)

    with pytest.raises(ApiException) as e:
        routing.put_routing_queue(q.id, model(gc.QueueRequest, name=q.name, acw_settings=model(gc.AcwSettings, wrapup_prompt="MANDATORY_TIMEOUT", timeout_ms=5)))
    body = error_body(e.value)
    assert e.value.status == 400 and body["details"][0]["fieldName"] == "acwSettings.timeoutMs"

    media = model(gc.QueueMediaSettings, call=model(gc.MediaSettings, alerting_timeout_seconds=12, service_level=model(gc.ServiceLevel, percentage=0.9, duration_ms=15000)))
    got = routing.put_routing_queue(q.id, model(gc.QueueRequest, name=q.name, media_settings=media))
    assert got.media_settings.call.alerting_timeout_seconds == 12
    assert got.media_settings.call.service_level.percentage == pytest.approx(0.9)
    assert got.acw_settings.wrapup_prompt == "MANDATORY_TIMEOUT", "a PUT without acwSettings keeps them"

    routing.delete_routing_queue(q.id)
    with pytest.raises(ApiException) as e:
        routing.get_routing_queue(q.id)
    assert e.value.status == 404


@pytest.mark.ops("put_routing_queue")
def test_a_native_none_policy_has_no_vendor_value_and_survives_a_put(admin, admin_token):
    routing = gc.RoutingApi(admin)
    status, nat = native("POST", "/v1/queues", admin_token, {"name": unique("NoAcw"), "acw": {"policy": "none"}})
    assert status == 201, nat
    q = routing.get_routing_queue(nat["id"])
    assert q.acw_settings.wrapup_prompt is None
    routing.put_routing_queue(q.id, model(gc.QueueRequest, name=q.name + " renamed"))
    _, after = native("GET", f"/v1/queues/{q.id}", admin_token)
    assert after["acw"]["policy"] == "none" and after["name"].endswith("renamed")


@pytest.mark.ops("post_routing_queue_wrapupcodes", "get_routing_queue_wrapupcodes", "delete_routing_queue_wrapupcode")
def test_queue_wrapup_codes(admin):
    routing = gc.RoutingApi(admin)
    q = make_queue(routing)
    a = routing.post_routing_wrapupcodes(model(gc.WrapupCodeRequest, name=unique("A")))
    b = routing.post_routing_wrapupcodes(model(gc.WrapupCodeRequest, name=unique("B")))
    added = routing.post_routing_queue_wrapupcodes(q.id, [model(gc.WrapUpCodeReference, id=a.id), model(gc.WrapUpCodeReference, id=b.id)])
    assert isinstance(added, list) and sorted(c.id for c in added) == sorted([a.id, b.id])
    listed = routing.get_routing_queue_wrapupcodes(q.id)
    assert listed.total == 2
    routing.delete_routing_queue_wrapupcode(q.id, a.id)
    assert [c.id for c in routing.get_routing_queue_wrapupcodes(q.id).entities] == [b.id]
    with pytest.raises(ApiException) as e:
        routing.delete_routing_queue_wrapupcode(q.id, a.id)
    assert e.value.status == 404
    with pytest.raises(ApiException) as e:
        routing.post_routing_queue_wrapupcodes(q.id, [model(gc.WrapUpCodeReference, id="no-such-code")])
    assert e.value.status == 400


@pytest.mark.ops("post_routing_queue_members", "get_routing_queue_members", "patch_routing_queue_members")
def test_queue_members(admin, make_agent):
    routing = gc.RoutingApi(admin)
    q = make_queue(routing)
    u1, _ = make_agent()
    u2, _ = make_agent()
    routing.post_routing_queue_members(q.id, [model(gc.WritableEntity, id=u1), model(gc.WritableEntity, id=u2)])
    members = routing.get_routing_queue_members(q.id)
    assert sorted(m.id for m in members.entities) == sorted([u1, u2])
    assert all(m.joined and m.routing_status.status == "OFF_QUEUE" for m in members.entities)
    assert_current_enums(members)
    patched = routing.patch_routing_queue_members(q.id, [model(gc.QueueMember, id=u1, joined=False)])
    assert [m.joined for m in patched.entities] == [False]
    assert [m.id for m in routing.get_routing_queue_members(q.id, joined=True).entities] == [u2]
    routing.post_routing_queue_members(q.id, [model(gc.WritableEntity, id=u2)], delete=True)
    assert [m.id for m in routing.get_routing_queue_members(q.id).entities] == [u1]
    assert routing.get_routing_queue(q.id).member_count == 1
