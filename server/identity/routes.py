"""The API: sign-in, token refresh with rotation, sign-out (PROTOCOL.md §2); devices and their
revocation (§2.5, §2.6)."""
from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sync import ADMIN, OFFICE

from .. import audit, paging
from ..errors import ApiError, not_found
from ..http import authenticate, client_address, query_int, read_json, state, string_field, uuid_param
from ..jsonresp import JSONResponse
from ..state import AppState
from . import accounts, devices


def _pair(st: AppState, user: accounts.User, device_id: str, refresh: str) -> dict:
    ttl = st.settings.access_ttl_s
    return {"access_token": st.signer.sign(user.id, user.role, device_id, ttl), "refresh_token": refresh,
            "expires_in": ttl, "device_id": device_id, "user": user.as_dict()}


async def login(request: Request) -> Response:
    st = state(request)
    data = await read_json(request, 64 * 1024)
    username = string_field(data, "username", 100)
    password = string_field(data, "password", 1024)
    device_name = string_field(data, "device_name", 200)
    address = client_address(request)

    def work() -> dict:
        s = st.settings
        user = accounts.sign_in(st.db, username, password, address, s.login_max_failures, s.login_window_s)
        if user is None:
            raise ApiError(401, "unauthenticated", "wrong username or password")
        with st.db.write() as txn:
            device_id = accounts.new_device(txn, user.id, device_name)
            refresh = accounts.issue_refresh(txn, device_id, s.refresh_ttl_s)
            audit.record(txn, user.id, device_id, "login", [], {"device_name": device_name})
        return _pair(st, user, device_id, refresh)

    return JSONResponse(await run_in_threadpool(work))


async def refresh(request: Request) -> Response:
    st = state(request)
    data = await read_json(request, 64 * 1024)
    token = string_field(data, "refresh_token", 200)
    user, device_id, new_refresh = await run_in_threadpool(
        accounts.rotate_refresh, st.db, token, st.settings.refresh_ttl_s)
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
    items = [{"id": r["id"], "name": r["name"], "created_at": r["created_at"], "last_seen_at": r["last_seen_at"],
              "last_sync_at": r["last_sync_at"], "revoked_at": r["revoked_at"], "revoked_reason": r["revoked_reason"],
              "user": {"id": r["user_id"], "username": r["username"], "display_name": r["display_name"]},
              "revoked": r["revoked_at"] is not None} for r in rows]
    return JSONResponse(paging.page(items, limit, lambda r: r["id"]))


async def revoke(request: Request) -> Response:
    st = state(request)
    auth = await authenticate(request, OFFICE, ADMIN)
    device_id = uuid_param(request, "device_id", "device")
    row = await run_in_threadpool(devices.revoke, st.db, device_id, auth.user.id, auth.device_id)
    if row is None:
        raise not_found(f"no device {device_id}")
    return JSONResponse({"id": row["id"], "revoked": True, "revoked_at": row["revoked_at"],
                         "revoked_reason": row["revoked_reason"]})


routes = [
    Route("/api/auth/login", login, methods=["POST"]),
    Route("/api/auth/refresh", refresh, methods=["POST"]),
    Route("/api/auth/logout", logout, methods=["POST"]),
    Route("/api/devices", list_devices, methods=["GET"]),
    Route("/api/devices/{device_id}/revoke", revoke, methods=["POST"]),
]
