"""Fixtures for the Genesys SDK tests: a running Switchboard (BASE, ADMIN_SECRET from run.sh), SDK clients for
the admin client and for agents, native setup calls, and the op ledger: every test names the vendor operations it
proves with @pytest.mark.ops(...), and the outcome per operation goes to $RESULTS (py-results.json)."""
import base64, json, os, urllib.request, urllib.error, uuid

import pytest
import PureCloudPlatformClientV2 as gc

BASE = os.environ["BASE"]
ADMIN_SECRET = os.environ["ADMIN_SECRET"]
PASSWORD = "correct horse battery"
_results = {}


def pytest_configure(config):
    config.addinivalue_line("markers", "ops(*names): the vendor operations (python names) a test proves")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    marker = item.get_closest_marker("ops")
    if marker is None or (rep.when != "call" and rep.passed):
        return
    for op in marker.args:
        prev = _results.get(op, "pass")
        _results[op] = "pass" if (rep.passed and prev == "pass") else "fail"


def pytest_sessionfinish(session, exitstatus):
    path = os.environ.get("RESULTS")
    if path:
        with open(path, "w") as f:
            json.dump(_results, f, indent=1, sort_keys=True)


def native(method, path, token=None, body=None, form=None, basic=None):
    """A call to the native API (setup and cross-checks), returning (status, parsed body)."""
    headers = {}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    if form is not None:
        data = form.encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if basic:
        headers["Authorization"] = "Basic " + base64.b64encode(f"{basic[0]}:{basic[1]}".encode()).decode()
    req = urllib.request.Request(BASE + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req) as r:
            text = r.read()
            return r.status, (json.loads(text) if text else None)
    except urllib.error.HTTPError as e:
        text = e.read()
        return e.code, (json.loads(text) if text else None)


def sdk(token):
    client = gc.api_client.ApiClient(host=BASE)
    client.access_token = token
    return client


@pytest.fixture(scope="session")
def admin():
    """The SDK's own client-credentials login against Switchboard's /oauth/token."""
    return gc.api_client.ApiClient(host=BASE).get_client_credentials_token("admin", ADMIN_SECRET)


@pytest.fixture(scope="session")
def admin_token(admin):
    return admin.access_token


@pytest.fixture
def make_agent(admin_token):
    """Creates an agent with a password and returns (user id, SDK client signed in as that agent)."""

    def make(roles=("agent",)):
        username = f"agent-{uuid.uuid4().hex[:8]}"
        status, user = native("POST", "/v1/users", admin_token,
                              {"name": username, "username": username, "password": PASSWORD, "roles": list(roles)})
        assert status == 201, user
        status, tok = native("POST", "/oauth/token", form=f"grant_type=password&username={username}&password={PASSWORD.replace(' ', '+')}")
        assert status == 200, tok
        return user["id"], sdk(tok["access_token"])

    return make


def assert_current_enums(model):
    """Python turns an enum value it does not know into 'outdated_sdk_version' without an error."""
    text = json.dumps(model.to_dict() if hasattr(model, "to_dict") else model, default=str)
    assert "outdated_sdk_version" not in text, text


def error_body(exc):
    body = json.loads(exc.body)
    for key in ("message", "code", "status", "messageParams", "contextId", "details", "errors"):
        assert key in body, (key, body)
    assert body["status"] == exc.status
    return body


def model(cls, **fields):
    """SDK models take no constructor arguments: fields are set as attributes (their setters check enums)."""
    m = cls()
    for k, v in fields.items():
        setattr(m, k, v)
    return m


class Desk:
    """A queue with two codes and one agent on queue, set up through the native API, and the agent's SDK client."""

    def __init__(self, admin_token, make_agent, policy="mandatory", timeout_ms=None):
        self.admin_token = admin_token
        suffix = uuid.uuid4().hex[:8]
        self.codes = []
        for name in ("Resolved", "Escalated"):
            status, code = native("POST", "/v1/wrapup-codes", admin_token, {"name": f"{name} {suffix}"})
            assert status == 201, code
            self.codes.append(code["id"])
        self.agent_id, self.agent = make_agent()
        acw = {"policy": policy}
        if timeout_ms:
            acw["timeoutMs"] = timeout_ms
        status, q = native("POST", "/v1/queues", admin_token, {"name": f"Desk {suffix}", "acw": acw,
                                                              "wrapupCodes": self.codes, "members": [self.agent_id]})
        assert status == 201, q
        self.queue_id = q["id"]
        status, body = native("PUT", f"/v1/users/{self.agent_id}/routing-status", admin_token, {"status": "onQueue"})
        assert status == 200, body

    def inbound(self, media="voice", name="Ada Customer"):
        """A customer arrives on the queue; routing offers it to the agent at once."""
        status, conv = native("POST", "/v1/conversations", self.admin_token,
                              {"mediaType": media, "queueId": self.queue_id, "from": {"name": name, "address": "+15550100"}})
        assert status == 201, conv
        agent = [p for p in conv["participants"] if p["purpose"] == "agent" and p.get("userId") == self.agent_id]
        assert agent and agent[-1]["state"] == "alerting", conv
        return conv["id"], agent[-1]["id"], agent[-1]["communicationId"]

    def native_conversation(self, cid):
        status, conv = native("GET", f"/v1/conversations/{cid}", self.admin_token)
        assert status == 200, conv
        return conv


@pytest.fixture
def desk(admin_token, make_agent):
    return lambda **kw: Desk(admin_token, make_agent, **kw)


def advance_clock(admin_token, ms):
    status, body = native("POST", "/v1/admin/clock", admin_token, {"advanceMs": ms})
    assert status == 200, body


def next_frame(ws, want, limit=50):
    """Reads a socket's JSON frames until one satisfies `want` (each read bounded by the socket's timeout)."""
    for _ in range(limit):
        frame = json.loads(ws.recv())
        if want(frame):
            return frame
    raise AssertionError(f"no such frame among the next {limit}")
