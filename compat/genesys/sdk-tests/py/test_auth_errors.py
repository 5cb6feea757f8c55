"""The SDK's own login, the vendor's ErrorBody, and 501 for operations of the spec that are not implemented."""
import pytest
import PureCloudPlatformClientV2 as gc
from PureCloudPlatformClientV2.rest import ApiException

from conftest import BASE, error_body, sdk, model


def test_client_credentials_login_with_only_the_host_set(admin):
    assert admin.access_token.startswith("sb1.")
    listing = gc.RoutingApi(admin).get_routing_wrapupcodes()
    assert listing.page_number == 1


def test_an_operation_of_the_spec_that_is_not_implemented_answers_501_in_the_vendor_shape(admin):
    with pytest.raises(ApiException) as e:
        gc.UsersApi(admin).get_users()
    body = error_body(e.value)
    assert e.value.status == 501
    assert body["code"] == "not.implemented"
    assert body["messageParams"]["operationId"] == "get_users"
    assert body["contextId"], "the request id names the call in the logs"


def test_a_bad_token_is_a_401_error_body():
    with pytest.raises(ApiException) as e:
        gc.RoutingApi(sdk("not-a-token")).get_routing_wrapupcodes()
    body = error_body(e.value)
    assert e.value.status == 401
    assert body["code"] == "bad.credentials"
    assert body["messageParams"]["nativeCode"] == "unauthorized"


def test_missing_scopes_is_a_403_naming_the_vendor_permissions(make_agent):
    _, agent = make_agent()
    with pytest.raises(ApiException) as e:
        gc.RoutingApi(agent).post_routing_wrapupcodes(model(gc.WrapupCodeRequest, name="nope"))
    body = error_body(e.value)
    assert e.value.status == 403
    assert body["code"] == "missing.permissions"
    assert "routing:wrapupCode:add" in body["messageParams"]["permissions"]
