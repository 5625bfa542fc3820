"""Malformed requests to every endpoint answer a 4xx with PROTOCOL.md §1's error body.

A table of malformed request kinds (KINDS) is crossed with every endpoint of the
API (ENDPOINTS). Each kind says which endpoints it makes sense for (a body kind
for endpoints that read a body, a query kind for collections, a role kind for
role-restricted endpoints, ...) and what the answer must be. For every pair the
test asserts: a 4xx (never a 5xx), the expected status and code, the body is
exactly ``{"error": {"code": str, "message": str, "details": dict}}``, and no
stack trace leaks.

The second half checks validation inside a push: many kinds of bad change in one
batch are each ``rejected`` with errors naming the field, while the good changes
in the same batch are ``applied``.
"""
from __future__ import annotations

import base64
import json
import re
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import jwt
import pytest
from starlette.testclient import TestClient

from server.identity.accounts import add_user
from sync import Clock
from server.app import create_app
from server.config import Settings
from server.openapi import spec
from server.state import open_state

PASSWORD = "correct-horse-battery"
MIB = 1024 * 1024
STACK_TRACE_MARKERS = ("Traceback", 'File "', "sqlite3.", "Error:", "line ", ".py")


# -- the endpoints -------------------------------------------------------------

@dataclass(frozen=True)
class Endpoint:
    name: str
    method: str
    path: str  # "{id}" stands for the path parameter
    auth: bool = True
    roles: tuple[str, ...] = ()  # who may call it; () = anyone signed in
    sync: bool = False  # needs Doorstep-Protocol: 1
    body: bool = False  # reads a JSON body
    query: tuple[str, ...] = ()  # query parameters it reads
    filters: dict[str, str] = field(default_factory=dict)  # query parameter -> a bad value for it
    required_query: dict[str, str] = field(default_factory=dict)  # query parameter -> a good value


ENDPOINTS = [
    Endpoint("login", "POST", "/api/auth/login", auth=False, body=True),
    Endpoint("refresh", "POST", "/api/auth/refresh", auth=False, body=True),
    Endpoint("reset_password", "POST", "/api/auth/reset-password", auth=False, body=True),
    Endpoint("logout", "POST", "/api/auth/logout"),
    Endpoint("devices", "GET", "/api/devices", roles=("office", "admin"), query=("limit", "cursor")),
    Endpoint("revoke", "POST", "/api/devices/{id}/revoke", roles=("office", "admin")),
    Endpoint("push", "POST", "/api/sync/push", sync=True, body=True),
    Endpoint("pull", "GET", "/api/sync/pull", sync=True, query=("limit", "cursor")),
    Endpoint("conflicts", "GET", "/api/conflicts", roles=("office", "admin"),
             query=("limit", "cursor", "status"), filters={"status": "maybe"}),
    Endpoint("resolve", "POST", "/api/conflicts/{id}/resolve", roles=("office", "admin"), body=True),
    Endpoint("marks", "POST", "/api/register/marks", roles=("office", "admin"), body=True),
    Endpoint("pupils", "GET", "/api/register/pupils", roles=("office", "admin"),
             query=("limit", "cursor", "band", "threshold"), filters={"band": "red", "threshold": "yes"}),
    Endpoint("visits", "GET", "/api/visits", roles=("office", "admin"), query=("limit", "cursor", "flag"),
             filters={"flag": "everything"}),
    Endpoint("audit", "GET", "/api/audit", roles=("admin",), query=("limit", "cursor", "entity_id"),
             filters={"entity_id": "not-a-uuid"}),
    Endpoint("audit_events", "POST", "/api/audit/events", body=True),
    Endpoint("transport_plan", "POST", "/api/transport/plan", roles=("office", "admin"), body=True),
    Endpoint("transport_plan_job", "POST", "/api/transport/plan-jobs", roles=("office", "admin"), body=True),
    Endpoint("transport_plan_job_status", "GET", "/api/transport/plan-jobs/{id}", roles=("office", "admin")),
    Endpoint("transport_runs", "GET", "/api/transport/runs", roles=("office", "admin"),
             query=("date", "school_id"), filters={"school_id": "not-a-uuid"},
             required_query={"date": "2026-11-23"}),
    # the fleet and pupils' transport needs (server/transport/fleet_routes.py), county plans
    Endpoint("vehicles", "GET", "/api/transport/vehicles", roles=("office", "admin"), query=("retired",),
             filters={"retired": "sometimes"}),
    Endpoint("vehicle_add", "POST", "/api/transport/vehicles", roles=("office", "admin"), body=True),
    Endpoint("vehicle_change", "PATCH", "/api/transport/vehicles/{id}", roles=("office", "admin"), body=True),
    Endpoint("needs", "GET", "/api/transport/needs", roles=("office", "admin"), query=("retired", "school_id"),
             filters={"retired": "sometimes", "school_id": "not-a-uuid"}),
    Endpoint("need_add", "POST", "/api/transport/needs", roles=("office", "admin"), body=True),
    Endpoint("need_change", "PATCH", "/api/transport/needs/{id}", roles=("office", "admin"), body=True),
    Endpoint("county_plan", "POST", "/api/transport/county-plans", roles=("office", "admin"), body=True),
    # the legal steps (server/casework/legal_routes.py)
    Endpoint("legal_case", "GET", "/api/casework/cases/{id}/legal", roles=("office", "admin")),
    Endpoint("legal_request", "POST", "/api/casework/cases/{id}/penalty-notices", roles=("office", "admin"),
             body=True),
    Endpoint("legal_due", "GET", "/api/casework/legal/due", roles=("office", "admin")),
    Endpoint("school_weeks", "GET", "/api/casework/school-weeks", roles=("office", "admin"),
             query=("start", "weeks", "school_id"), filters={"weeks": "many"},
             required_query={"start": "2026-10-12"}),
]
BY_NAME = {e.name: e for e in ENDPOINTS}


# -- a server shared by the whole module ------------------------------------------

@dataclass
class Env:
    client: TestClient
    db_path: str
    tokens: dict[str, str]  # role -> access token of a live device
    revoked: str  # access token of a revoked device
    refresh: str  # a live refresh token (of the officer's device)
    officer_device: str
    kid: str
    secret: str
    claims: dict[str, Any]  # an office token's claims
    path_ids: dict[str, str] = field(default_factory=dict)  # endpoint -> an id that exists, for its {id}

    def sign(self, **changes: Any) -> str:
        claims = {**self.claims, "jti": uuid.uuid4().hex, **changes}
        claims = {k: v for k, v in claims.items() if v is not None}
        return jwt.encode(claims, self.secret, algorithm="HS256", headers={"kid": self.kid})


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


# -- requests ----------------------------------------------------------------------

@dataclass(frozen=True)
class Req:
    method: str
    path: str
    headers: dict[str, str]
    params: dict[str, str]
    content: bytes | None = None


def good_body(ep: Endpoint) -> dict[str, Any]:
    """A well-formed body (it may still name things that do not exist)."""
    bodies: dict[str, dict[str, Any]] = {
        "login": {"username": "office", "password": PASSWORD, "device_name": "test"},
        "refresh": {"refresh_token": "x" * 43},
        "reset_password": {"username": "office", "code": "AAAA-BBBB-CCCC-DDDD", "new_password": "a-new-password"},
        "push": {"client_id": str(uuid.uuid4()), "changes": []},
        "resolve": {"choose": "kept"},
        "marks": {"csv": "upn,date,session,code\n"},
        "transport_plan": {"school_id": str(uuid.uuid4()), "date": "2026-11-23", "vehicles": []},
        "transport_plan_job": {"school_id": str(uuid.uuid4()), "date": "2026-11-23", "vehicles": []},
        "audit_events": {"event": "storage_not_persistent"},
        "vehicle_add": {"name": "Minibus 1", "seats": 16, "depot": {"lat": 53.52, "lon": -1.13}},
        "vehicle_change": {"seats": 8},
        "need_add": {"pupil_id": str(uuid.uuid4()), "seats": 1},
        "need_change": {"seats": 1},
        "county_plan": {"date": "2026-11-23", "run": "morning"},
        "legal_request": {"parent_name": "Jo Stone", "parent_address": "1 Lane",
                          "sessions": [{"date": "2026-09-07", "session": "AM"}]},
    }
    return bodies[ep.name]


def base_request(ep: Endpoint, env: Env) -> Req:
    """A request that gets past auth, role and protocol checks."""
    headers: dict[str, str] = {}
    if ep.auth:
        role = "admin" if ep.roles == ("admin",) else "office"
        headers["Authorization"] = f"Bearer {env.tokens[role]}"
    if ep.sync:
        headers["Doorstep-Protocol"] = "1"
    content = None
    if ep.body:
        headers["Content-Type"] = "application/json"
        content = json.dumps(good_body(ep)).encode()
    path_id = env.path_ids.get(ep.name) or str(uuid.uuid4())
    return Req(ep.method, ep.path.replace("{id}", path_id), headers, dict(ep.required_query), content)


def with_auth(req: Req, value: str | None) -> Req:
    headers = {k: v for k, v in req.headers.items() if k != "Authorization"}
    if value is not None:
        headers["Authorization"] = value
    return replace(req, headers=headers)


def with_body(req: Req, content: bytes, content_type: str = "application/json") -> Req:
    return replace(req, content=content, headers={**req.headers, "Content-Type": content_type})


def with_json(req: Req, data: Any) -> Req:
    return with_body(req, json.dumps(data).encode())


def with_query(req: Req, **params: str) -> Req:
    return replace(req, params={**req.params, **params})


def b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


# -- the malformed request kinds -------------------------------------------------------

Build = Callable[[Endpoint, Req, Env], "Req | None"]


@dataclass(frozen=True)
class Kind:
    name: str
    build: Build  # None when the kind makes no sense for the endpoint
    status: int | tuple[int, ...] | Callable[[Endpoint], int]
    code: str | tuple[str, ...] | Callable[[Endpoint], str]
    check: Callable[[Endpoint, Req, dict[str, Any]], None] | None = None

    def expected(self, ep: Endpoint) -> tuple[tuple[int, ...], tuple[str, ...]]:
        status = self.status(ep) if callable(self.status) else self.status
        code = self.code(ep) if callable(self.code) else self.code
        return (status if isinstance(status, tuple) else (status,),
                code if isinstance(code, tuple) else (code,))


def authed(fn: Callable[[Endpoint, Req, Env], Req]) -> Build:
    return lambda ep, req, env: fn(ep, req, env) if ep.auth else None


def body_kind(fn: Callable[[Endpoint, Req, Env], Req | None]) -> Build:
    return lambda ep, req, env: fn(ep, req, env) if ep.body else None


def query_kind(param: str, value: str | Callable[[Endpoint], str]) -> Build:
    def build(ep: Endpoint, req: Req, env: Env) -> Req | None:
        if param not in ep.query:
            return None
        return with_query(req, **{param: value(ep) if callable(value) else value})
    return build


def path_kind(value: str) -> Build:
    def build(ep: Endpoint, req: Req, env: Env) -> Req | None:
        if "{id}" not in ep.path:
            return None
        return replace(req, path=ep.path.replace("{id}", value))
    return build


def wrong_role(ep: Endpoint, req: Req, env: Env) -> Req | None:
    if not ep.roles:
        return None
    weaker = "office" if ep.roles == ("admin",) else "officer"
    return with_auth(req, f"Bearer {env.tokens[weaker]}")


def wrong_types(ep: Endpoint, req: Req, env: Env) -> Req:
    return with_json(req, {
        "login": {"username": 12345, "password": ["x"], "device_name": {"a": 1}},
        "refresh": {"refresh_token": 12345},
        "reset_password": {"username": 12345, "code": ["x"], "new_password": {"a": 1}},
        "push": {"client_id": str(uuid.uuid4()), "changes": {"0": {}}},
        "resolve": {"choose": True},
        "marks": {"csv": 42},
        "transport_plan": {"school_id": 42, "date": ["2026-11-23"], "vehicles": "minibus"},
        "transport_plan_job": {"school_id": 42, "date": ["2026-11-23"], "vehicles": "minibus"},
        "audit_events": {"event": 42, "details": ["x"], "entity_ids": "all"},
        "legal_request": {"parent_name": 42, "parent_address": ["x"], "sessions": {"0": 1}},
        "vehicle_add": {"name": 42, "seats": "sixteen", "depot": [53.5, -1.1]},
        "vehicle_change": {"seats": "eight"},
        "need_add": {"pupil_id": 42, "seats": "one"},
        "need_change": {"seats": [1]},
        "county_plan": {"date": 20261123, "run": ["morning"]},
    }[ep.name])


def null_fields(ep: Endpoint, req: Req, env: Env) -> Req:
    return with_json(req, {k: None for k in good_body(ep)})


def empty_strings(ep: Endpoint, req: Req, env: Env) -> Req | None:
    if ep.name == "marks":
        return with_body(req, b"", "text/csv")  # an empty CSV file
    if ep.name == "push":
        return with_json(req, {"client_id": "", "changes": ""})
    return with_json(req, {k: "" for k in good_body(ep)})


def very_long_strings(ep: Endpoint, req: Req, env: Env) -> Req | None:
    long = "x" * 20_000  # too long for every field, yet the body stays under the 64 KiB auth limit
    if ep.name == "push":
        return None  # long strings inside changes are per-change rejections (below)
    if ep.name == "marks":
        return with_json(req, {"csv": long})
    return with_json(req, {k: long for k in good_body(ep)})


def unknown_ids(ep: Endpoint, req: Req, env: Env) -> Req | None:
    if ep.name == "login":
        return with_json(req, {"username": "nobody-" + uuid.uuid4().hex, "password": PASSWORD,
                               "device_name": "test"})
    if ep.name == "refresh":
        return with_json(req, {"refresh_token": "never-issued-" + uuid.uuid4().hex})
    if ep.name in ("resolve", "transport_plan", "transport_plan_job", "legal_request"):
        return req  # well-formed, about a conflict / school / case that does not exist
    return None


def wrong_password(ep: Endpoint, req: Req, env: Env) -> Req | None:
    if ep.name != "login":
        return None
    return with_json(req, {"username": "admin", "password": "wrong-" + uuid.uuid4().hex, "device_name": "x"})


def too_many_changes(ep: Endpoint, req: Req, env: Env) -> Req | None:
    if ep.name != "push":
        return None
    change = {"change_id": "c", "type": "note", "id": "i", "op": "put", "fields": {}, "hlc": "h"}
    return with_json(req, {"client_id": str(uuid.uuid4()), "changes": [change] * 1001})


def huge_body(ep: Endpoint, req: Req, env: Env) -> Req:
    pad = b"x" * (5 * MIB + 1024)
    return with_body(req, b'{"pad": "' + pad + b'"}')


def tamper(authorization: str) -> str:
    """The same token with four characters of its signature changed."""
    head, _, sig = authorization.rpartition(".")
    return f"{head}.{sig[:-4]}{'AAAA' if sig[-4:] != 'AAAA' else 'BBBB'}"


def wrong_method(ep: Endpoint, req: Req, env: Env) -> Req:
    return replace(req, method="DELETE" if ep.method == "GET" else "PUT")


def check_size_limit(ep: Endpoint, req: Req, err: dict[str, Any]) -> None:
    limits = [v for v in err["details"].values() if isinstance(v, int) and not isinstance(v, bool)]
    assert limits, f"413 without the limit in details: {err}"
    assert req.content is not None and all(limit < len(req.content) for limit in limits), err


def check_change_limit(ep: Endpoint, req: Req, err: dict[str, Any]) -> None:
    assert 1000 in err["details"].values(), f"413 without the 1,000-change limit in details: {err}"


def check_field(*names: str) -> Callable[[Endpoint, Req, dict[str, Any]], None]:
    def check(ep: Endpoint, req: Req, err: dict[str, Any]) -> None:
        if ep.name in names:
            assert err["details"].get("field"), f"no field named in {err}"
    return check


def on(*names: str, then: Any, otherwise: Any) -> Callable[[Endpoint], Any]:
    return lambda ep: then if ep.name in names else otherwise


# A cursor a server never gives out, that still decodes as base64 JSON (of a type no collection uses).
FORGED_CURSOR = b64("[[],{}]")
# A well-formed page cursor whose number does not fit a 64-bit integer.
OVERFLOW_CURSOR = {"pull": b64("v1." + "9" * 30)}


KINDS: list[Kind] = [
    # -- who is asking ---------------------------------------------------------
    Kind("no_token", authed(lambda ep, r, env: with_auth(r, None)), 401, "unauthenticated"),
    Kind("bearer_garbage", authed(lambda ep, r, env: with_auth(r, "Bearer not-a-token")), 401,
         "unauthenticated"),
    Kind("bearer_empty", authed(lambda ep, r, env: with_auth(r, "Bearer ")), 401, "unauthenticated"),
    Kind("basic_scheme", authed(lambda ep, r, env: with_auth(r, "Basic b2ZmaWNlOmNvcnJlY3Q=")), 401,
         "unauthenticated"),
    Kind("other_secret", authed(lambda ep, r, env: with_auth(r, "Bearer " + jwt.encode(
        {**env.claims, "jti": uuid.uuid4().hex}, "another-secret-" + "y" * 32, algorithm="HS256",
        headers={"kid": env.kid}))), 401, "unauthenticated"),
    Kind("unknown_kid", authed(lambda ep, r, env: with_auth(r, "Bearer " + jwt.encode(
        {**env.claims, "jti": uuid.uuid4().hex}, env.secret, algorithm="HS256",
        headers={"kid": "retired-long-ago"}))), 401, "unauthenticated"),
    Kind("alg_none", authed(lambda ep, r, env: with_auth(r, "Bearer " + jwt.encode(
        {**env.claims, "jti": uuid.uuid4().hex}, None,  # type: ignore[arg-type]
        algorithm="none", headers={"kid": env.kid}))),
        401, "unauthenticated"),
    Kind("expired_token", authed(lambda ep, r, env: with_auth(
        r, "Bearer " + env.sign(iat=int(time.time()) - 7200, exp=int(time.time()) - 3600))),
        401, "token_expired"),
    Kind("revoked_device", authed(lambda ep, r, env: with_auth(r, f"Bearer {env.revoked}")), 401,
         "device_revoked"),
    Kind("unknown_device", authed(lambda ep, r, env: with_auth(
        r, "Bearer " + env.sign(dev=str(uuid.uuid4())))), 401, "unauthenticated"),
    Kind("missing_claims", authed(lambda ep, r, env: with_auth(r, "Bearer " + env.sign(dev=None))), 401,
         "unauthenticated"),
    Kind("tampered_signature", authed(lambda ep, r, env: with_auth(r, tamper(r.headers["Authorization"]))),
         401, "unauthenticated"),
    Kind("wrong_algorithm", authed(lambda ep, r, env: with_auth(r, "Bearer " + jwt.encode(
        {**env.claims, "jti": uuid.uuid4().hex}, env.secret, algorithm="HS512", headers={"kid": env.kid}))),
        401, "unauthenticated"),
    Kind("not_yet_valid", authed(lambda ep, r, env: with_auth(
        r, "Bearer " + env.sign(nbf=int(time.time()) + 3600))), 401, "unauthenticated"),
    Kind("claims_of_wrong_type", authed(lambda ep, r, env: with_auth(r, "Bearer " + env.sign(dev=12345))),
         401, "unauthenticated"),
    Kind("someone_elses_device", authed(lambda ep, r, env: with_auth(
        r, "Bearer " + env.sign(dev=env.officer_device))), 401, "unauthenticated"),
    Kind("refresh_token_as_access_token", authed(lambda ep, r, env: with_auth(r, f"Bearer {env.refresh}")),
         401, "unauthenticated"),
    Kind("two_tokens", authed(lambda ep, r, env: with_auth(r, f"{r.headers['Authorization']}, Bearer x")),
         401, "unauthenticated"),
    Kind("token_in_query_not_header", authed(lambda ep, r, env: with_query(
        with_auth(r, None), access_token=r.headers["Authorization"].split()[1])), 401, "unauthenticated"),
    Kind("wrong_role", wrong_role, 403, "forbidden"),
    # -- protocol version --------------------------------------------------------
    Kind("no_protocol_header", lambda ep, r, env: replace(
        r, headers={k: v for k, v in r.headers.items() if k != "Doorstep-Protocol"}) if ep.sync else None,
        426, "upgrade_required"),
    Kind("future_protocol", lambda ep, r, env: replace(
        r, headers={**r.headers, "Doorstep-Protocol": "2"}) if ep.sync else None, 426, "upgrade_required"),
    Kind("garbage_protocol", lambda ep, r, env: replace(
        r, headers={**r.headers, "Doorstep-Protocol": "v1; drop table"}) if ep.sync else None,
        426, "upgrade_required"),
    # -- query parameters ---------------------------------------------------------
    Kind("limit_negative", query_kind("limit", "-1"), 422, "validation_failed", check_field(*BY_NAME)),
    Kind("limit_zero", query_kind("limit", "0"), 422, "validation_failed", check_field(*BY_NAME)),
    Kind("limit_not_a_number", query_kind("limit", "abc"), 422, "validation_failed", check_field(*BY_NAME)),
    Kind("limit_fraction", query_kind("limit", "2.5"), 422, "validation_failed"),
    # (a huge whole number is clamped to the maximum: tests/server/test_query_limits.py)
    Kind("limit_huge_fraction", query_kind("limit", "9" * 5000 + ".5"), 422, "validation_failed"),
    Kind("cursor_garbage", query_kind("cursor", "garbage!!"), 422, "validation_failed"),
    Kind("cursor_too_long", query_kind("cursor", "A" * 5000), 422, "validation_failed"),
    Kind("cursor_forged", query_kind("cursor", FORGED_CURSOR), 422, "validation_failed"),
    Kind("cursor_overflow", query_kind("cursor", lambda ep: OVERFLOW_CURSOR.get(ep.name, b64("9" * 30))),
         422, "validation_failed"),
    Kind("bad_filter", lambda ep, r, env: with_query(r, **ep.filters) if ep.filters else None,
         422, "validation_failed", check_field(*BY_NAME)),
    Kind("missing_required_query", lambda ep, r, env: replace(r, params={
        k: v for k, v in r.params.items() if k not in ep.required_query}) if ep.required_query else None,
        422, "validation_failed", check_field(*BY_NAME)),
    Kind("invalid_required_query", lambda ep, r, env: with_query(
        r, **{k: "2026-13-45" for k in ep.required_query}) if ep.required_query else None,
        422, "validation_failed", check_field(*BY_NAME)),
    # -- path parameters ---------------------------------------------------------------
    Kind("path_not_uuid", path_kind("not-a-uuid"), 404, "not_found"),
    Kind("path_unknown_uuid", path_kind(str(uuid.uuid4())), 404, "not_found"),
    Kind("path_sql", path_kind("1' OR '1'='1"), 404, "not_found"),
    Kind("path_very_long", path_kind("a" * 5000), 404, "not_found"),
    # -- the body ---------------------------------------------------------------------
    Kind("invalid_json", body_kind(lambda ep, r, env: with_body(r, b'{"username": "a",')), 422,
         "validation_failed"),
    Kind("json_array", body_kind(lambda ep, r, env: with_body(r, b'[{"choose": "kept"}]')), 422,
         "validation_failed"),
    Kind("json_string", body_kind(lambda ep, r, env: with_body(r, b'"hello"')), 422, "validation_failed"),
    Kind("json_number", body_kind(lambda ep, r, env: with_body(r, b"42")), 422, "validation_failed"),
    Kind("json_null", body_kind(lambda ep, r, env: with_body(r, b"null")), 422, "validation_failed"),
    Kind("empty_body", body_kind(lambda ep, r, env: with_body(r, b"")), 422, "validation_failed"),
    Kind("form_encoded", body_kind(lambda ep, r, env: with_body(
        r, b"username=office&password=x&choose=kept&changes=1", "application/x-www-form-urlencoded")),
        422, "validation_failed"),
    Kind("huge_body", body_kind(huge_body), 413, "payload_too_large", check_size_limit),
    Kind("nan_literal", body_kind(lambda ep, r, env: with_body(r, b'{"username": NaN, "changes": NaN}')),
         422, "validation_failed"),
    Kind("infinity_literal", body_kind(lambda ep, r, env: with_body(
        r, b'{"choose": Infinity, "csv": -Infinity}')), 422, "validation_failed"),
    Kind("invalid_utf8", body_kind(lambda ep, r, env: with_body(r, b'{"username": "\xff\xfe\xc3\x28"}')),
         422, "validation_failed"),
    Kind("deeply_nested", body_kind(lambda ep, r, env: with_body(r, b"[" * 20_000 + b"]" * 20_000)),
         422, "validation_failed"),
    Kind("nested_object_bomb", body_kind(lambda ep, r, env: with_body(
        r, b'{"a":' * 5000 + b"1" + b"}" * 5000)), 422, "validation_failed"),
    Kind("trailing_garbage", body_kind(lambda ep, r, env: with_body(r, (r.content or b"") + b" trailing")),
         422, "validation_failed"),
    # a PATCH names only what changes: an empty one changes nothing
    Kind("missing_fields", body_kind(lambda ep, r, env: None if ep.method == "PATCH" else with_json(r, {})), 422,
         "validation_failed"),
    Kind("wrong_field_types", body_kind(wrong_types), 422, "validation_failed",
         check_field("login", "refresh", "reset_password", "push", "resolve", "marks", "transport_plan",
                     "transport_plan_job", "audit_events")),
    Kind("null_fields", body_kind(null_fields), 422, "validation_failed"),
    Kind("empty_strings", body_kind(empty_strings), 422, "validation_failed"),
    Kind("very_long_strings", body_kind(very_long_strings), 422, "validation_failed"),
    Kind("unknown_ids", body_kind(unknown_ids),
         on("resolve", "transport_plan", "transport_plan_job", "legal_request", then=404, otherwise=401),
         on("resolve", "transport_plan", "transport_plan_job", "legal_request", then="not_found",
            otherwise="unauthenticated")),
    Kind("wrong_password", wrong_password, 401, "unauthenticated"),
    Kind("too_many_changes", too_many_changes, 413, "payload_too_large", check_change_limit),
    # -- the method ---------------------------------------------------------------------
    Kind("wrong_method", wrong_method, (404, 405), ("not_found", "method_not_allowed")),
]

# Known server bugs: (endpoint, kind) -> reason. The server owner removes an entry when fixing it.
# (Fixed in 7767c4b: pull/cursor_overflow and pupils/cursor_forged answered 500, devices/cursor_forged
# and devices/cursor_overflow answered 200 with page one.)
BUGS: dict[tuple[str, str], str] = {}


def cases() -> Iterator[Any]:
    for ep in ENDPOINTS:
        for kind in KINDS:
            marks = []
            if (ep.name, kind.name) in BUGS:
                marks.append(pytest.mark.xfail(strict=True, reason=BUGS[(ep.name, kind.name)]))
            yield pytest.param(ep, kind, id=f"{ep.name}-{kind.name}", marks=marks)


def applicable(ep: Endpoint, kind: Kind) -> bool:
    dummy = Env(None, "", {"officer": "t", "office": "t", "admin": "t"}, "t", "r", "d", "k",  # type: ignore[arg-type]
                "s" * 64,
                {"sub": "u", "role": "office", "dev": "d", "iat": 0, "exp": 2**31, "jti": "j"})
    return kind.build(ep, base_request(ep, dummy), dummy) is not None


APPLICABLE = [p for p in cases() if applicable(*p.values)]


def assert_error_shape(response: Any) -> dict[str, Any]:
    assert "Traceback" not in response.text
    assert response.headers.get("content-type", "").startswith("application/json"), response.headers
    body = response.json()
    assert isinstance(body, dict) and set(body) == {"error"}, body
    err = body["error"]
    assert isinstance(err, dict) and set(err) == {"code", "message", "details"}, err
    assert isinstance(err["code"], str) and err["code"], err
    assert isinstance(err["message"], str) and err["message"].strip(), err
    assert isinstance(err["details"], dict), err
    for marker in STACK_TRACE_MARKERS[:3]:
        assert marker not in err["message"], err
    return err


def send(env: Env, req: Req) -> Any:
    return env.client.request(req.method, req.path, headers=req.headers, params=req.params,
                              content=req.content)


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


def test_exactly_1000_changes_is_not_too_many(env):
    changes = [{"change_id": "not-a-uuid"}] * 1000
    r = env.client.post("/api/sync/push", json={"changes": changes},
                        headers={"Authorization": f"Bearer {env.tokens['office']}", "Doorstep-Protocol": "1"})
    assert r.status_code == 200, r.text[:300]
    results = r.json()["results"]
    assert len(results) == 1000 and {x["status"] for x in results} == {"rejected"}


# -- validation inside a push ------------------------------------------------------------------

def test_each_bad_change_is_rejected_naming_the_field_and_the_good_ones_apply(world):
    office, officer, ids = world
    good_visit = officer.change("visit", str(uuid.uuid4()), {"case_id": ids["case"], "outcome": "no_answer",
                                                             "notes": "Nobody home"})
    good_note = officer.change("note", str(uuid.uuid4()), {"subject_type": "case", "subject_id": ids["case"],
                                                           "text": "Left a card"})

    def visit(**fields: Any) -> dict[str, Any]:
        return officer.change("visit", str(uuid.uuid4()), {"case_id": ids["case"], **fields})

    bad: list[tuple[str, Any, str]] = [  # (label, change, field the errors must name)
        ("change_id not a uuid", {**visit(), "change_id": "change-1"}, "change_id"),
        ("unknown type", {**visit(), "type": "spaceship"}, "type"),
        ("id not a uuid", {**visit(), "id": "visit-1"}, "id"),
        ("unknown op", {**visit(), "op": "patch"}, "op"),
        ("fields not an object", {**visit(), "fields": ["case_id"]}, "fields"),
        ("negative base_version", {**visit(), "base_version": -1}, "base_version"),
        ("base_version a string", {**visit(), "base_version": "3"}, "base_version"),
        ("hlc garbage", {**visit(), "hlc": "yesterday"}, "hlc"),
        ("outcome not allowed", visit(outcome="abducted_by_aliens"), "outcome"),
        ("unknown field", visit(colour="blue"), "colour"),
        ("lat out of range", visit(lat=91.5), "lat"),
        ("lon a string", visit(lon="west"), "lon"),
        ("child_seen not a boolean", visit(child_seen="yes"), "child_seen"),
        ("started_at not a time", visit(started_at="half past nine"), "started_at"),
        ("barriers not a list", visit(barriers="housing"), "barriers"),
        ("barrier unknown", visit(barriers=["boredom"]), "barriers"),
        ("notes too long", visit(notes="x" * 10_001), "notes"),
        ("status unknown", visit(status="done"), "status"),
        ("case_id not a uuid", officer.change("visit", str(uuid.uuid4()), {"case_id": "case-1"}), "case_id"),
        ("case_id unknown", officer.change("visit", str(uuid.uuid4()), {"case_id": str(uuid.uuid4())}),
         "case_id"),
        ("task without title", officer.change("task", str(uuid.uuid4()), {"case_id": ids["case"]}), "title"),
        ("task due_on impossible date", officer.change(
            "task", str(uuid.uuid4()), {"case_id": ids["case"], "title": "Call", "due_on": "2026-02-30"}),
         "due_on"),
        ("delete carrying fields", {**visit(notes="x"), "op": "delete"}, "fields"),
        ("conversation agreed_actions malformed", officer.change(
            "conversation", str(uuid.uuid4()), {"case_id": ids["case"], "agreed_actions": [{"who": "me"}]}),
         "agreed_actions"),
    ]
    batch = [good_visit] + [c for _, c, _ in bad] + [good_note]
    r = officer.push(batch)
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert len(results) == len(batch)
    assert results[0]["status"] == "applied", results[0]
    assert results[-1]["status"] == "applied", results[-1]
    for (label, change, name), result in zip(bad, results[1:-1]):
        assert result["status"] == "rejected", (label, result)
        assert result["version"] is None and result["lost_fields"] == [], (label, result)
        assert result["errors"], (label, result)
        for e in result["errors"]:
            assert set(e) >= {"field", "code", "message"}, (label, e)
            assert isinstance(e["code"], str) and isinstance(e["message"], str) and e["message"], (label, e)
        assert name in [e["field"] for e in result["errors"]], (label, result["errors"])
        if isinstance(change.get("change_id"), str) and len(change["change_id"]) <= 100:
            assert result["change_id"] == change["change_id"], (label, result)
    by_label = dict(zip([b[0] for b in bad], results[1:-1]))
    assert by_label["unknown type"]["errors"][0]["code"] == "unknown_type"
    assert "not_found" in [e["code"] for e in by_label["case_id unknown"]["errors"]]

    # Nothing of the rejected changes was written; the good ones were.
    pulled, _ = office.pull_all()
    pulled_ids = {c["id"] for c in pulled}
    assert good_visit["id"] in pulled_ids and good_note["id"] in pulled_ids
    for label, change, _ in bad:
        if isinstance(change.get("id"), str):
            assert change["id"] not in pulled_ids, f"rejected change was written: {label}"


def test_non_object_changes_are_rejected_one_by_one(world):
    _, officer, ids = world
    good = officer.change("note", str(uuid.uuid4()), {"subject_type": "case", "subject_id": ids["case"],
                                                      "text": "ok"})
    junk = [42, "change", None, [], True]
    r = officer.push([*junk, good])
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert [x["status"] for x in results] == ["rejected"] * len(junk) + ["applied"]
    for result in results[:-1]:
        assert result["errors"] and result["errors"][0]["code"] == "validation_failed"


def test_an_officer_writing_a_read_only_field_is_rejected_naming_it(world):
    office, officer, ids = world
    good = officer.change("visit", str(uuid.uuid4()), {"case_id": ids["case"]})
    school = officer.change("school", ids["school"], {"name": "Renamed"}, base_version=1)
    household = officer.change("household", ids["household"], {"address": "1 Other Street"}, base_version=1)
    register = office.change("pupil", ids["pupil"], {"attendance_pct": 100.0}, base_version=1)
    r = officer.push([school, household, good])
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert [x["status"] for x in results] == ["rejected", "rejected", "applied"], results
    assert {e["code"] for e in results[0]["errors"]} == {"forbidden"}
    assert [e["field"] for e in results[1]["errors"]] == ["address"]
    assert results[1]["errors"][0]["code"] == "forbidden"
    r = office.push([register])
    result = r.json()["results"][0]
    assert result["status"] == "rejected"
    assert [(e["field"], e["code"]) for e in result["errors"]] == [("attendance_pct", "forbidden")]
