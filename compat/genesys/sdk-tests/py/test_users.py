"""Users and routing status."""
import pytest
import PureCloudPlatformClientV2 as gc
from PureCloudPlatformClientV2.rest import ApiException

from conftest import assert_current_enums, error_body, model


@pytest.mark.ops("get_users_me", "get_user")
def test_an_agent_reads_itself_and_an_admin_reads_the_agent(admin, make_agent):
    uid, agent = make_agent()
    me = gc.UsersApi(agent).get_users_me(expand=["routingStatus"])
    assert me.id == uid and me.state == "active" and me.version >= 1
    assert me.routing_status.status == "OFF_QUEUE"
    assert_current_enums(me)
    same = gc.UsersApi(admin).get_user(uid)
    assert same.username == me.username
    with pytest.raises(ApiException) as e:
        gc.UsersApi(admin).get_user("no-such-user")
    assert e.value.status == 404 and error_body(e.value)["code"] == "not.found"


@pytest.mark.ops("get_users_me")
def test_users_me_with_a_client_token_is_a_bad_request(admin):
    with pytest.raises(ApiException) as e:
        gc.UsersApi(admin).get_users_me()
    assert e.value.status == 400 and error_body(e.value)["code"] == "bad.request"


@pytest.mark.ops("get_user_routingstatus", "put_user_routingstatus")
def test_an_agent_goes_on_and_off_queue(admin, make_agent):
    uid, agent = make_agent()
    users = gc.UsersApi(agent)
    assert users.get_user_routingstatus(uid).status == "OFF_QUEUE"
    out = users.put_user_routingstatus(uid, model(gc.RoutingStatus, status="IDLE"))
    assert out.status == "IDLE" and out.user_id == uid
    assert gc.UsersApi(admin).get_user_routingstatus(uid).status == "IDLE"
    users.put_user_routingstatus(uid, model(gc.RoutingStatus, status="OFF_QUEUE"))
    assert users.get_user_routingstatus(uid).status == "OFF_QUEUE"
    # A state only the platform sets is refused with the field named.
    with pytest.raises(ApiException) as e:
        users.put_user_routingstatus(uid, model(gc.RoutingStatus, status="INTERACTING"))
    body = error_body(e.value)
    assert e.value.status == 400 and body["details"][0]["fieldName"] == "status"


@pytest.mark.ops("get_user_routingstatus", "put_user_routingstatus")
def test_unknown_users_read_off_queue_and_others_cannot_be_changed_by_an_agent(admin, make_agent):
    other, _ = make_agent()
    _, agent = make_agent()
    assert gc.UsersApi(admin).get_user_routingstatus("nobody-at-all").status == "OFF_QUEUE"
    with pytest.raises(ApiException) as e:
        gc.UsersApi(agent).put_user_routingstatus(other, model(gc.RoutingStatus, status="IDLE"))
    assert e.value.status == 403
