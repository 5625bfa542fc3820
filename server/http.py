"""Request helpers for the thin HTTP layer: JSON bodies, auth, roles, paging."""
from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from sync import Actor
from sync.schema import is_uuid

from .errors import ApiError, forbidden, invalid, not_found, unauthenticated
from .identity import status
from .identity.accounts import User, get_user
from .identity.tokens import TokenError
from .state import AppState


def state(request: Request) -> AppState:
    return request.app.state.doorstep


async def read_body(request: Request, max_bytes: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise ApiError(413, "payload_too_large", "the request body is too large",
                       {"max_bytes": max_bytes})
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise ApiError(413, "payload_too_large", "the request body is too large",
                           {"max_bytes": max_bytes})
        chunks.append(chunk)
    return b"".join(chunks)


async def read_json(request: Request, max_bytes: int | None = None, *, optional: bool = False) -> dict[str, Any]:
    """The body as a JSON object, or a 422 that says what is wrong with it; with ``optional``,
    no body at all is ``{}``."""
    return parse_json(await read_body(request, max_bytes or state(request).settings.max_body_bytes), optional=optional)


def parse_json(raw: bytes, *, optional: bool = False) -> dict[str, Any]:
    """``read_json``'s checks of a body read already."""
    if not raw.strip():
        if optional:
            return {}
        raise invalid("the request needs a JSON object body")
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise invalid("the body is not valid JSON", position=getattr(exc, "pos", None)) from None
    if not isinstance(data, dict):
        raise invalid("the body must be a JSON object")
    return data


# string_field's "not only white space" as a JSON Schema pattern (the OpenAPI document states it):
# some character that str.strip() would keep, its white space spelled out (all of it is below U+10000).
NOT_BLANK = "[^" + "".join(f"\\u{c:04x}" for c in range(0x10000) if chr(c).isspace()) + "]"


def string_field(data: dict[str, Any], name: str, max_len: int = 200, required: bool = True) -> str:
    value = data.get(name)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or not value.strip():
        raise invalid(f"{name} is required and must be a non-empty string", field=name)
    if len(value) > max_len:
        raise invalid(f"{name} must be at most {max_len} characters", field=name)
    return value


@dataclass(frozen=True)
class Auth:
    user: User
    device_id: str
    final: bool = False  # a push that is the final push of a device revoked as returned
    report: status.Reported | None = None  # a status report the request's own write is to keep

    @property
    def actor(self) -> Actor:
        return Actor(self.user.id, self.user.role, self.device_id)


def client_address(request: Request) -> str:
    """The caller's address, which sign-in throttling counts failures against."""
    return request.client.host if request.client else "unknown"


def bearer(request: Request) -> str:
    """The request's access token; 401 when it sends none."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise unauthenticated("send an access token: Authorization: Bearer <token>")
    return token.strip()


def check_token(app_state: AppState, token: str, headers: Mapping[str, str] | None = None, *,
                final_push: bool = False, store_status: bool = True) -> Auth:
    """The signed-in user and device. ``headers``' status report (identity/status.py) is stored
    when it changed, or left in ``Auth.report`` for the request's own write (``store_status``
    false); ``final_push`` lets a device revoked as returned through (its final push)."""
    reported = status.read(headers or {})
    with app_state.db.read() as txn:  # the signing key, the device and the user: one snapshot
        try:
            claims = app_state.signer.verify(token, txn)
        except TokenError as exc:
            raise ApiError(401, exc.code, exc.message) from None
        device = status.load(txn, claims.device_id)
        # a deactivated user's phone still makes its final push (revoked as returned, docs/users.md)
        user = get_user(txn, claims.user_id, inactive=bool(final_push and device and status.final_push_open(device)))
    if device is None or device["user_id"] != claims.user_id:
        raise unauthenticated("this token's device is unknown")
    revoked = device["revoked_at"] is not None  # and, if it gets past here, this is its final push
    if revoked and not (final_push and status.final_push_open(device)):
        status.refuse(app_state.db, device, reported)
    if user is None:
        raise unauthenticated("this account is no longer active")
    report = reported if reported.differs(device) else None
    if report is not None and store_status:
        with app_state.db.write() as txn:
            status.store(txn, claims.device_id, report)
        report = None
    return Auth(user, claims.device_id, revoked, report)


async def authenticate(request: Request, *roles: str, final_push: bool = False,
                       store_status: bool = True) -> Auth:
    return await run_in_threadpool(authenticate_here, request, *roles, final_push=final_push,
                                   store_status=store_status)


def authenticate_here(request: Request, *roles: str, final_push: bool = False,
                      store_status: bool = True) -> Auth:
    """``authenticate`` in the calling thread: for a handler whose work runs in a worker thread
    already, so the request hands over to a thread once, not twice (the sync API)."""
    auth = check_token(state(request), bearer(request), request.headers, final_push=final_push,
                       store_status=store_status)
    request.state.user_id = auth.user.id  # for the access log (server/monitor/access.py)
    if roles and auth.user.role not in roles:
        raise forbidden(f"this needs the {' or '.join(roles)} role")
    return auth


def query_int(request: Request, name: str, default: int, lo: int, hi: int | None = None) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    if not (raw.isascii() and raw.isdigit()):
        raise invalid(f"{name} must be a whole number", field=name)
    digits = raw.lstrip("0") or "0"
    if hi is not None and len(digits) > len(str(hi)):
        return hi  # more digits than the maximum: clamped like any number above it
    if len(digits) > 18:
        raise invalid(f"{name} is too large", field=name)
    value = int(digits)
    if value < lo:
        raise invalid(f"{name} must be at least {lo}", field=name)
    return min(value, hi) if hi is not None else value


def uuid_param(request: Request, name: str, what: str) -> str:
    """The path parameter ``name`` when it is a UUID; otherwise 404 ``no <what> <value>``."""
    value = request.path_params[name]
    if not is_uuid(value):
        raise not_found(f"no {what} {value[:60]}")
    return value


def query_choice(request: Request, name: str, choices: tuple[str, ...]) -> str | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    if raw not in choices:
        raise invalid(f"{name} must be one of {', '.join(choices)}", field=name)
    return raw


Handler = Callable[[Request], Awaitable[Any]]


async def audit_read(request: Request, auth: Auth, action: str, entity_ids: list[str],
                     detail: dict[str, Any] | None = None) -> None:
    """Record that this user read these records (children's data: every read is auditable)."""
    from . import audit

    st = state(request)

    def work() -> None:
        with st.db.write() as txn:
            audit.record(txn, auth.user.id, auth.device_id, action, entity_ids, detail)

    await run_in_threadpool(work)
