"""Request helpers for the thin HTTP layer: JSON bodies, auth, roles, paging."""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from sync import Actor
from sync.schema import is_uuid

from .errors import ApiError, forbidden, invalid, not_found, unauthenticated
from .identity.accounts import User, device_state, get_user
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


async def read_json(request: Request, max_bytes: int | None = None) -> dict[str, Any]:
    """The body as a JSON object, or a 422 that says what is wrong with it."""
    raw = await read_body(request, max_bytes or state(request).settings.max_body_bytes)
    if not raw.strip():
        raise invalid("the request needs a JSON object body")
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise invalid("the body is not valid JSON", position=getattr(exc, "pos", None)) from None
    if not isinstance(data, dict):
        raise invalid("the body must be a JSON object")
    return data


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

    @property
    def actor(self) -> Actor:
        return Actor(self.user.id, self.user.role, self.device_id)


def client_address(request: Request) -> str:
    """The caller's address, which sign-in throttling counts failures against."""
    return request.client.host if request.client else "unknown"


def _bearer(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise unauthenticated("send an access token: Authorization: Bearer <token>")
    return token.strip()


def check_token(app_state: AppState, token: str) -> Auth:
    try:
        claims = app_state.signer.verify(token)
    except TokenError as exc:
        raise ApiError(401, exc.code, exc.message) from None
    with app_state.db.read() as txn:
        device = device_state(txn, claims.device_id)
        user = get_user(txn, claims.user_id)
    if device is None or device["user_id"] != claims.user_id:
        raise unauthenticated("this token's device is unknown")
    if device["revoked_at"] is not None:
        raise ApiError(401, "device_revoked", "this device was signed out or revoked; sign in again")
    if user is None:
        raise unauthenticated("this account is no longer active")
    return Auth(user, claims.device_id)


async def authenticate(request: Request, *roles: str) -> Auth:
    auth = await run_in_threadpool(check_token, state(request), _bearer(request))
    if roles and auth.user.role not in roles:
        raise forbidden(f"this needs the {' or '.join(roles)} role")
    return auth


def query_int(request: Request, name: str, default: int, lo: int, hi: int | None = None) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 9:
        raise invalid(f"{name} must be a whole number", field=name)
    value = int(raw)
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
