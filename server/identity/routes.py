"""The API: sign-in, token refresh with rotation, sign-out (PROTOCOL.md §2); devices and their
revocation (§2.5, §2.6)."""
from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sync import ADMIN, OFFICE

from .. import audit, paging
from ..errors import ApiError, invalid, not_found
from ..http import authenticate, client_address, query_int, read_json, state, string_field, uuid_param
from ..jsonresp import JSONResponse
from ..state import AppState
from . import accounts, devices, reset, status, throttle, totp


def _pair(st: AppState, user: accounts.User, device_id: str, refresh: str) -> dict:
    ttl = st.settings.access_ttl_s
    return {"access_token": st.signer.sign(user.id, user.role, device_id, ttl), "refresh_token": refresh,
            "expires_in": ttl, "device_id": device_id, "user": user.as_dict()}


async def login(request: Request) -> Response:
    st = state(request)
    await throttle.hold_back(st.db, client_address(request))  # an address known refused: 429 before anything else
    data = await read_json(request, 64 * 1024)
    username = string_field(data, "username", 100)
    password = string_field(data, "password", 1024)
    device_name = string_field(data, "device_name", 200)
    totp_code = totp.code_field(data)
    address = client_address(request)
    reported = status.read(request.headers)

    def work() -> dict:
        s = st.settings
        user = accounts.sign_in(st.db, username, password, address, s)
        if user is None:
            raise ApiError(401, "unauthenticated", "wrong username or password")
        totp.check_api_login(st.db, s, user, totp_code)  # the second factor (docs/users.md)
        with st.db.write() as txn:
            device_id = accounts.new_device(txn, user.id, device_name)
            status.store(txn, device_id, reported)
            refresh = accounts.issue_refresh(txn, device_id, s.refresh_ttl_s)
            audit.record(txn, user.id, device_id, "login", [], {"device_name": device_name})
        return _pair(st, user, device_id, refresh)

    return JSONResponse(await run_in_threadpool(work))


async def refresh(request: Request) -> Response:
    st = state(request)
    data = await read_json(request, 64 * 1024)
    token = string_field(data, "refresh_token", 200)
    user, device_id, new_refresh = await run_in_threadpool(
        accounts.rotate_refresh, st.db, token, st.settings.refresh_ttl_s, status.read(request.headers))
    return JSONResponse(_pair(st, user, device_id, new_refresh))


async def logout(request: Request) -> Response:
    st = state(request)
    auth = await authenticate(request)

    def work() -> None:
        with st.db.write() as txn:
            accounts.revoke_device(txn, auth.device_id, "logout", auth.user.id)
            audit.record(txn, auth.user.id, auth.device_id, "logout", [])

    await run_in_threadpool(work)
    return JSONResponse({"status": "signed_out", "device_id": auth.device_id})


async def list_devices(request: Request) -> Response:
    st = state(request)
    await authenticate(request, OFFICE, ADMIN)
    limit = query_int(request, "limit", 100, 1, 500)
    after = paging.decode_text(request.query_params.get("cursor"))
    rows = await run_in_threadpool(devices.by_id, st.db, after, limit + 1)
    return JSONResponse(paging.page([device_item(r) for r in rows], limit, lambda r: r["id"]))


def revocation(r: dict) -> dict | None:
    """How the office revoked it (None when it was not: live, signed out, or a reused refresh token)."""
    if r["revoked_at"] is None or r["revoked_reason"] != "revoked":
        return None
    return {"kind": r["revoke_kind"] or "lost", "reason": r["revoke_note"] or "", "by": r["revoked_by"],
            "final_push_at": r["final_push_at"], "final_push_changes": r["final_push_changes"],
            "lost_unsent": r["lost_unsent"], "lost_reported_at": r["lost_reported_at"]}


def device_item(r: dict) -> dict:
    return {"id": r["id"], "name": r["name"], "created_at": r["created_at"], "last_seen_at": r["last_seen_at"],
            "last_sync_at": r["last_sync_at"], "revoked_at": r["revoked_at"], "revoked_reason": r["revoked_reason"],
            "user": {"id": r["user_id"], "username": r["username"], "display_name": r["display_name"]},
            "revoked": r["revoked_at"] is not None, "revocation": revocation(r),
            "unsent": r["unsent"], "unsent_since": r["unsent_since"], "app_version": r["app_version"],
            "phone_last_sync_at": r["phone_synced_at"]}


async def _revoke_body(request: Request) -> tuple[str, str]:
    """The optional body ``{"kind": "lost"|"returned", "reason": "…"}``: (kind, reason); no body is lost."""
    data = await read_json(request, 64 * 1024, optional=True)
    kind = data.get("kind", "lost")
    if kind not in devices.KINDS:
        raise invalid("kind must be lost or returned", field="kind")
    reason = data.get("reason", "")
    if reason is None:
        reason = ""
    if not isinstance(reason, str):
        raise invalid("reason must be a string", field="reason")
    if len(reason) > devices.MAX_REASON:
        raise invalid(f"reason must be at most {devices.MAX_REASON} characters", field="reason")
    return kind, reason.strip()


async def revoke(request: Request) -> Response:
    st = state(request)
    auth = await authenticate(request, OFFICE, ADMIN)
    device_id = uuid_param(request, "device_id", "device")
    kind, reason = await _revoke_body(request)
    row = await run_in_threadpool(devices.revoke, st.db, device_id, auth.user.id, auth.device_id, kind, reason,
                                  {"via": "api"})
    if row is None:
        raise not_found(f"no device {device_id}")
    answer = {"id": row["id"], "revoked": True, "revoked_at": row["revoked_at"],
              "revoked_reason": row["revoked_reason"]}
    rev = revocation(row)
    if rev is not None:
        answer.update(kind=rev["kind"], reason=rev["reason"])
    return JSONResponse(answer)


routes = [
    Route("/api/auth/login", login, methods=["POST"]),
    Route("/api/auth/refresh", refresh, methods=["POST"]),
    Route("/api/auth/logout", logout, methods=["POST"]),
    Route("/api/devices", list_devices, methods=["GET"]),
    Route("/api/devices/{device_id}/revoke", revoke, methods=["POST"]),
    *reset.routes,
]
