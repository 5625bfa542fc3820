"""The endpoints of the malformed-request table (tests/server/test_api_bad_input.py) and the
well-formed requests the table's kinds spoil: every operation of the API description, the
shared server's tokens and keys (``Env``), a base request per endpoint, and the check of
PROTOCOL.md §1's error body."""
from __future__ import annotations

import base64
import json
import uuid
from dataclasses import dataclass, field, replace
from typing import Any

import jwt
from starlette.testclient import TestClient

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
