"""Property-based fuzzing of every operation in /api/openapi.json with schemathesis.

Each operation gets a bounded number of generated requests, valid by the schema
(positive) and deliberately invalid (negative), sent with a real token so that they
get past authentication. Whatever is generated, no answer may be a 5xx, and every
error answer has PROTOCOL.md §1's body.

Run by hand against a live server: see docs/api-testing.md.
"""
from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from starlette.testclient import TestClient

from server.identity import accounts
from server.app import create_app
from server.config import Settings
from server.openapi import spec
from server.state import AppState, open_state

pytestmark = [pytest.mark.slow]

PASSWORD = "correct-horse-battery"
EXAMPLES = 50  # per operation and generation mode; keeps the module well under a minute on 2 cores
# Operations whose requests cost an argon2 hash each get fewer examples.
SLOW_EXAMPLES = {("/api/auth/login", "post"): 20}
OPERATIONS = [(path, method) for path, item in spec()["paths"].items() for method in item]


@dataclass
class Api:
    state: AppState
    app: Any
    schema: Any
    tokens: dict[str, str]

    def fresh_token(self, role: str) -> str:
        """A token for a new device of the ``role`` user (for operations that sign their device out)."""
        with self.state.db.read() as txn:
            user = txn.rows("SELECT id FROM users WHERE username = ?", (role,))[0]["id"]
        with self.state.db.write() as txn:
            device = accounts.new_device(txn, user, "fuzz")
        return self.state.signer.sign(user, role, device, 600)


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    db_path = str(tmp_path_factory.mktemp("schemathesis") / "doorstep.db")
    state = open_state(Settings(db_path=db_path))
    app = create_app(app_state=state)
    tokens = {}
    with TestClient(app) as client:
        for role in ("officer", "office", "admin"):
            accounts.add_user(state.db, role, PASSWORD, role)
            r = client.post("/api/auth/login", json={"username": role, "password": PASSWORD,
                                                     "device_name": "schemathesis"})
            assert r.status_code == 200, r.text
            tokens[role] = r.json()["access_token"]
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", app)
    yield Api(state, app, schema, tokens)
    state.db.close()


def assert_error_body(response: Any) -> None:
    assert "Traceback" not in response.text
    body = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message", "details"}, body
    assert isinstance(body["error"]["code"], str) and isinstance(body["error"]["message"], str), body
    assert isinstance(body["error"]["details"], dict), body


def test_every_operation_is_fuzzed():
    loaded = {(p, m) for p, item in spec()["paths"].items() for m in item}
    assert set(OPERATIONS) == loaded and len(OPERATIONS) >= 15


@pytest.mark.parametrize("path, method", OPERATIONS, ids=[f"{m.upper()} {p}" for p, m in OPERATIONS])
def test_no_generated_request_gets_a_server_error(api: Api, path: str, method: str):
    operation = api.schema[path][method.upper()]
    role = "admin" if path == "/api/audit" else "office"
    strategy = st.one_of(operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
                         operation.as_strategy(generation_mode=GenerationMode.NEGATIVE))
    examples = 2 * SLOW_EXAMPLES.get((path, method), EXAMPLES)
    seen: list[int] = []

    @settings(max_examples=examples, deadline=None, database=None, derandomize=True,
              phases=[Phase.explicit, Phase.generate, Phase.shrink],
              suppress_health_check=list(HealthCheck))
    @given(case=strategy)
    def run(case: Any) -> None:
        # The logout operation signs its device out: give it a device of its own each time.
        token = api.fresh_token(role) if path == "/api/auth/logout" else api.tokens[role]
        headers = {"Authorization": f"Bearer {token}"}
        try:
            response = case.call(headers=headers)
        except Exception as exc:  # noqa: BLE001 -- the app crashed: Starlette answers 500 and re-raises
            pytest.fail(f"500: the app raised {exc!r} for\n{case.as_curl_command(headers={'Authorization': '…'})}")
        seen.append(response.status_code)
        case.validate_response(response, checks=[not_a_server_error], headers=headers)
        assert response.status_code < 500, response.text[:500]
        if response.status_code >= 400:
            assert_error_body(response)

    run()
    assert seen, "no request was generated"
    if "security" in spec()["paths"][path][method]:
        assert any(status != 401 for status in seen), f"every request bounced off auth: {seen}"
    # The shared token still works: the fuzzing did not just bounce off a signed-out device.
    with TestClient(api.app) as client:
        r = client.get("/api/sync/pull", headers={"Authorization": f"Bearer {api.tokens[role]}",
                                                  "Doorstep-Protocol": "1"})
        assert r.status_code == 200, r.text


def test_fuzzing_got_past_authentication(api: Api):
    """A generated request with the real token is answered by the endpoint, not by the auth layer."""
    case = api.schema["/api/devices"]["GET"].Case(query={"limit": 5})
    response = case.call(headers={"Authorization": f"Bearer {api.tokens['office']}"})
    assert response.status_code == 200, response.text
    assert set(response.json()) == {"items", "next"}
    case = api.schema["/api/conflicts/{conflict_id}/resolve"]["POST"].Case(
        path_parameters={"conflict_id": str(uuid.uuid4())}, body={"choose": "kept"})
    response = case.call(headers={"Authorization": f"Bearer {api.tokens['office']}"})
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
