"""Schemathesis drives every operation of the live OpenAPI document against a real sidecar process.

Each operation gets generated requests (valid and invalid) with valid credentials; every answer must be
a non-5xx response that conforms to the documented status codes, content types and schemas. The default
run takes a few examples per operation; ``make test-long`` takes many more.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from schemathesis.specs.openapi import checks
from hypothesis import HealthCheck, settings

from sidecar.api.app import create_app
from sidecar.api.openapi import build_spec
from sidecar.api.routes import route_table
from sidecar.services.container import VERSION
from sidecar.settings import Settings
from tests.e2e.conftest import bootstrap, call
from tests.helpers import PASSWORD, SidecarProcess
from tests.reliability.conftest import scale

EXAMPLES = scale(3, 60)
#: ``ignored_auth`` replays a case without its credentials but keeps the headers passed in here, so it would
#: report the valid token as ignored; test_route_matrix proves a 401 without credentials on every route instead.
#: ``positive_data_acceptance`` wants 2xx for every schema-valid request, which random ids (404) and semantic
#: rules the schema cannot express (a policy's rules must compile) rule out.
NOT_CHECKED = [checks.ignored_auth, checks.positive_data_acceptance]


class Live:
    """The fuzzed sidecar and the credentials that reach every operation."""

    def __init__(self, sidecar: SidecarProcess) -> None:
        self.sidecar = sidecar
        self.url = sidecar.url
        token, _ = bootstrap(self.url, "fuzz@acme.test")
        self.jwt = {"Authorization": f"Bearer {token}"}
        status, key = call(f"{self.url}/api/v1/auth/api-keys", "POST", {"name": "fuzz", "scopes": ["admin"]},
                           self.jwt)
        assert status == 201
        self.admin_key = {"X-API-Key": key["key"]}  # type: ignore[index]
        document = json.loads(urllib.request.urlopen(f"{self.url}/api/v1/openapi.json", timeout=10).read())
        self.calls = 0
        self.keys_allowed = {
            (method.upper(), path): "apiKey" in json.dumps(operation.get("security", []))
            for path, item in document["paths"].items() for method, operation in item.items()}

    def headers_for(self, method: str, path: str) -> dict[str, str]:
        """A fresh session for logout (which ends it); otherwise the owner's JWT and, turn about where keys may
        call, the admin key, so both credential paths see generated requests."""
        self.calls += 1
        if self.keys_allowed.get((method.upper(), path)) and self.calls % 2:
            return self.admin_key
        if path.endswith("/auth/logout"):
            status, login = call(f"{self.url}/api/v1/auth/login", "POST",
                                 {"email": "fuzz@acme.test", "password": PASSWORD})
            assert status == 200, login
            return {"Authorization": f"Bearer {login['accessToken']}"}  # type: ignore[index]
        return self.jwt


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    data = Path(tmp_path_factory.mktemp("fuzz")) / "data"
    sidecar = SidecarProcess(data, env={"AGENTAUDIT_ACCESS_TOKEN_SECONDS": "7200", "AGENTAUDIT_RATE_AUTH_PER_SECOND": "0",
                                       "AGENTAUDIT_STRIPE_FAKE": "1"})
    sidecar.start()
    try:
        yield Live(sidecar)
    finally:
        sidecar.stop()


def _document() -> dict:
    """The document the sidecar serves, built the same way from the same route table (no server needed to
    collect the tests; ``test_the_live_document_is_the_one_fuzzed`` proves the two are the same)."""
    return build_spec(create_app(Settings(data_dir=Path("/nonexistent"))).router, version=VERSION)


schema = schemathesis.openapi.from_dict(_document())


def test_the_live_document_is_the_one_fuzzed(live: Live) -> None:
    served = json.loads(urllib.request.urlopen(f"{live.url}/api/v1/openapi.json", timeout=10).read())
    assert served == _document()
    operations = [(m.upper(), p) for p, item in served["paths"].items() for m in item]
    assert len(operations) == len(route_table())


# The live event stream never ends, so a generated request would wait for ever: it has its own test below.
@schema.exclude(method="GET", path="/api/v1/stream").parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_every_operation_conforms(case: schemathesis.Case, live: Live) -> None:
    response = case.call_and_validate(base_url=live.url, headers=live.headers_for(case.method, case.path), timeout=30,
                                      excluded_checks=NOT_CHECKED)
    assert response.status_code < 500, response.text[:500]


def test_the_event_stream_answers_and_needs_a_credential(live: Live) -> None:
    """The one operation excluded from generation above: its headers arrive and its error is the JSON shape."""
    assert live.keys_allowed[("GET", "/api/v1/stream")]
    request = urllib.request.Request(f"{live.url}/api/v1/stream", headers=live.admin_key)
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/event-stream")
    status, body = call(f"{live.url}/api/v1/stream")
    assert status == 401 and body["code"] == "unauthorized"  # type: ignore[index]
