"""The kinds of malformed request in tests/server/test_api_bad_input.py's table (``KINDS``):
each builds a spoiled request from an endpoint's base request (or none, when it makes no sense
for that endpoint) and says what the answer must be. ``APPLICABLE`` crosses them with
``ENDPOINTS``; ``BUGS`` holds the known server bugs as strict xfails."""
from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

import jwt
import pytest

from tests.server.bad_input_requests import (
    BY_NAME,
    ENDPOINTS,
    MIB,
    PASSWORD,
    Endpoint,
    Env,
    Req,
    b64,
    base_request,
    good_body,
    with_auth,
    with_body,
    with_json,
    with_query,
)

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
