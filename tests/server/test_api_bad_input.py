"""Malformed requests to every endpoint answer a 4xx with PROTOCOL.md §1's error body.

A table of malformed request kinds (KINDS) is crossed with every endpoint of the
API (ENDPOINTS). Each kind says which endpoints it makes sense for (a body kind
for endpoints that read a body, a query kind for collections, a role kind for
role-restricted endpoints, ...) and what the answer must be. For every pair the
test asserts: a 4xx (never a 5xx), the expected status and code, the body is
exactly ``{"error": {"code": str, "message": str, "details": dict}}``, and no
stack trace leaks.

Validation inside a push is in tests/server/test_api_push_validation.py. The endpoints and
requests are in tests/server/bad_input_requests.py, the kinds in tests/server/bad_input_kinds.py.
"""
from __future__ import annotations

import re
import sqlite3
import uuid
from collections.abc import Iterator
from dataclasses import replace

import jwt
import pytest
from starlette.testclient import TestClient

from server.app import create_app
from server.config import Settings
from server.identity.accounts import add_user
from server.openapi import spec
from server.state import open_state
from sync import Clock
from tests.server.bad_input_kinds import APPLICABLE, KINDS, Kind, tamper
from tests.server.bad_input_requests import (
    BY_NAME,
    ENDPOINTS,
    MIB,
    PASSWORD,
    Endpoint,
    Env,
    assert_error_shape,
    base_request,
    good_body,
    send,
)


# -- a server shared by the whole module ------------------------------------------

@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    db_path = str(tmp_path_factory.mktemp("bad-input") / "doorstep.db")
    st = open_state(Settings(db_path=db_path))
    with TestClient(create_app(app_state=st), raise_server_exceptions=False) as client:
        tokens, refresh, devices = {}, {}, {}
        for role in ("officer", "office", "admin"):
            add_user(st.db, role, PASSWORD, role)
            r = client.post("/api/auth/login", json={"username": role, "password": PASSWORD,
                                                     "device_name": "test"})
            assert r.status_code == 200, r.text
            tokens[role] = r.json()["access_token"]
            refresh[role], devices[role] = r.json()["refresh_token"], r.json()["device_id"]
        r = client.post("/api/auth/login", json={"username": "officer", "password": PASSWORD,
                                                 "device_name": "lost phone"})
        revoked = r.json()["access_token"]
        assert client.post(f"/api/devices/{r.json()['device_id']}/revoke",
                           headers={"Authorization": f"Bearer {tokens['office']}"}).status_code == 200
        conn = sqlite3.connect(db_path)
        kid, secret = conn.execute("SELECT kid, secret FROM signing_keys WHERE retired_at IS NULL").fetchone()
        conn.close()
        claims = jwt.decode(tokens["office"], options={"verify_signature": False})
        # a vehicle and a pupil's transport need to change: their PATCH checks the body, not only the id
        office = {"Authorization": f"Bearer {tokens['office']}"}
        school, pupil = str(uuid.uuid4()), str(uuid.uuid4())
        clock = Clock(devices["office"])
        r = client.post("/api/sync/push", headers={**office, "Doorstep-Protocol": "1"}, json={
            "client_id": devices["office"], "changes": [
                {"change_id": str(uuid.uuid4()), "type": t, "id": i, "op": "put", "base_version": None,
                 "hlc": clock.send(), "fields": f} for t, i, f in (
                    ("school", school, {"name": "Bad Input Primary"}),
                    ("pupil", pupil, {"upn": "A123456789012", "first_name": "Ann", "last_name": "Bee",
                                      "school_id": school}))]})
        assert [x["status"] for x in r.json()["results"]] == ["applied", "applied"], r.text
        vehicle = client.post("/api/transport/vehicles", headers=office, json=good_body(BY_NAME["vehicle_add"]))
        assert vehicle.status_code == 201, vehicle.text
        need = client.post("/api/transport/needs", headers=office, json={"pupil_id": pupil, "seats": 1})
        assert need.status_code == 201, need.text
        yield Env(client, db_path, tokens, revoked, refresh["officer"], devices["officer"], kid, secret, claims,
                  {"vehicle_change": vehicle.json()["id"], "need_change": pupil})
    st.db.close()


# -- the table -----------------------------------------------------------------------------

def test_the_table_is_broad_enough():
    assert len(KINDS) >= 20
    # Every operation of the API description is in the table, so a new endpoint cannot slip past it.
    described = {(method.upper(), path) for path, item in spec()["paths"].items() for method in item}
    table = {(e.method, e.path.replace("{id}", "{x}")) for e in ENDPOINTS}
    described = {(m, re.sub(r"\{[^}]+\}", "{x}", p)) for m, p in described}
    assert described - {("GET", "/api/health"), ("GET", "/api/ready"), ("GET", "/api/openapi.json")} == table
    per_endpoint = {e.name: 0 for e in ENDPOINTS}
    for p in APPLICABLE:
        per_endpoint[p.values[0].name] += 1
    # Every kind that fits an endpoint's shape is sent to it: at least 20 kinds per endpoint.
    assert all(n >= 20 for n in per_endpoint.values()), per_endpoint
    for kind in KINDS:
        assert any(p.values[1] is kind for p in APPLICABLE), f"{kind.name} applies to no endpoint"


def test_the_base_requests_are_accepted(env):
    """Sanity: before a kind spoils it, each base request gets past auth, role and protocol checks."""
    for ep in ENDPOINTS:
        if ep.name in ("logout",):
            continue  # a good logout would sign the shared device out
        r = send(env, base_request(ep, env))
        expected = {"login": 200, "refresh": 401, "reset_password": 401, "devices": 200, "revoke": 404, "push": 200, "pull": 200,
                    "conflicts": 200, "resolve": 404, "marks": 200, "pupils": 200, "visits": 200,
                    "audit": 200, "transport_plan": 404, "transport_runs": 200, "audit_events": 201,
                    "transport_plan_job": 404, "transport_plan_job_status": 404,
                    "legal_case": 404, "legal_request": 404, "legal_due": 200, "school_weeks": 422,
                    "vehicles": 200, "vehicle_add": 201, "vehicle_change": 200, "needs": 200,
                    "need_add": 422, "need_change": 200, "county_plan": 422}[ep.name]
        assert r.status_code == expected, (ep.name, r.status_code, r.text)


@pytest.mark.parametrize("ep, kind", APPLICABLE)
def test_malformed_request_gets_a_4xx_error_body(env, ep: Endpoint, kind: Kind):
    req = kind.build(ep, base_request(ep, env), env)
    assert req is not None
    r = send(env, req)
    assert r.status_code < 500, f"{ep.method} {ep.path} [{kind.name}] -> {r.status_code}: {r.text[:500]}"
    assert 400 <= r.status_code < 500, (r.status_code, r.text[:500])
    err = assert_error_shape(r)
    statuses, codes = kind.expected(ep)
    assert r.status_code in statuses, (kind.name, r.status_code, err)
    assert err["code"] in codes, (kind.name, r.status_code, err)
    if kind.check is not None:
        kind.check(ep, req, err)


def test_the_shared_sessions_survived(env):
    """The table never signs the shared devices out (it would hide later failures as 401s)."""
    for role, token in env.tokens.items():
        r = env.client.get("/api/sync/pull", headers={"Authorization": f"Bearer {token}",
                                                      "Doorstep-Protocol": "1"})
        assert r.status_code == 200, (role, r.text)


def test_a_known_path_with_an_unsupported_method_is_405(env):
    wrong = []
    for ep in ENDPOINTS:
        allowed = {e.method for e in ENDPOINTS if e.path == ep.path}  # e.g. GET and POST on one path
        for method in {"PUT", "PATCH", "DELETE", "GET", "POST"} - allowed:
            req = replace(base_request(ep, env), method=method)
            r = send(env, req)
            err = assert_error_shape(r)
            if (r.status_code, err["code"]) != (405, "method_not_allowed"):
                wrong.append(f"{method} {req.path} -> {r.status_code} {err['code']}")
    assert not wrong, "\n".join(wrong)


def test_a_chunked_body_over_the_limit_is_413_without_a_content_length(env):
    def chunks() -> Iterator[bytes]:
        yield b'{"client_id": "x", "changes": [], "pad": "'
        for _ in range(6):
            yield b"x" * MIB
        yield b'"}'

    r = env.client.post("/api/sync/push", content=chunks(),
                        headers={"Authorization": f"Bearer {env.tokens['office']}", "Doorstep-Protocol": "1",
                                 "Content-Type": "application/json"})
    err = assert_error_shape(r)
    assert r.status_code == 413 and err["code"] == "payload_too_large", r.text
    assert 5 * MIB in err["details"].values(), err


def test_a_push_with_a_bad_token_is_401_whatever_its_body(env):
    """A push's body is read before its token is checked (one hand-over to a worker thread),
    but the token's answer still comes first: 401, not the body's 413 or 422; likewise a pull's
    token before its query."""
    headers = {"Authorization": tamper(f"Bearer {env.tokens['office']}"), "Doorstep-Protocol": "1",
               "Content-Type": "application/json"}

    def chunked() -> Iterator[bytes]:  # over the limit, and no content-length to refuse it by
        for _ in range(6):
            yield b"x" * MIB

    bodies = {"over the limit": b'{"pad": "' + b"x" * (5 * MIB + 1024) + b'"}', "chunked, over the limit": chunked(),
              "not JSON": b'{"changes": [', "not an object": b"[]", "empty": b"",
              "too many changes": b'{"changes": [' + b",".join([b"{}"] * 1001) + b"]}"}
    wrong = []
    for label, body in bodies.items():
        r = env.client.post("/api/sync/push", content=body, headers=headers)
        err = assert_error_shape(r)
        if r.status_code != 401:
            wrong.append(f"{label}: {r.status_code} {err['code']}")
    assert not wrong, wrong
    # and with no token at all
    r = env.client.post("/api/sync/push", content=bodies["not JSON"], headers={"Doorstep-Protocol": "1"})
    assert (r.status_code, assert_error_shape(r)["code"]) == (401, "unauthenticated"), r.text
    # the rest of the order docs/protocol.md §1 states: the protocol header first; a pull's token before its query
    r = env.client.post("/api/sync/push", content=b"[]", headers={**headers, "Doorstep-Protocol": "2"})
    assert (r.status_code, assert_error_shape(r)["code"]) == (426, "upgrade_required"), r.text
    for query in ({"limit": "many"}, {"cursor": "x" * 201}, {"limit": "0"}):
        r = env.client.get("/api/sync/pull", params=query, headers=headers)
        assert (r.status_code, assert_error_shape(r)["code"]) == (401, "unauthenticated"), (query, r.text)


def test_exactly_1000_changes_is_not_too_many(env):
    changes = [{"change_id": "not-a-uuid"}] * 1000
    r = env.client.post("/api/sync/push", json={"changes": changes},
                        headers={"Authorization": f"Bearer {env.tokens['office']}", "Doorstep-Protocol": "1"})
    assert r.status_code == 200, r.text[:300]
    results = r.json()["results"]
    assert len(results) == 1000 and {x["status"] for x in results} == {"rejected"}
