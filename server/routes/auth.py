"""Sign-in, token refresh with rotation, sign-out (PROTOCOL.md §2)."""
from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .. import accounts, audit
from ..errors import ApiError
from ..http import authenticate, read_json, state, string_field
from ..jsonresp import JSONResponse
from ..state import AppState


def _pair(st: AppState, user: accounts.User, device_id: str, refresh: str) -> dict:
    ttl = st.settings.access_ttl_s
    return {"access_token": st.signer.sign(user.id, user.role, device_id, ttl), "refresh_token": refresh,
            "expires_in": ttl, "device_id": device_id, "user": user.as_dict()}


def _client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def login(request: Request) -> Response:
    st = state(request)
    data = await read_json(request, 64 * 1024)
    username = string_field(data, "username", 100)
    password = string_field(data, "password", 1024)
    device_name = string_field(data, "device_name", 200)
    address = _client_address(request)

    def work() -> dict:
        s = st.settings
        accounts.check_throttle(st.db, username, address, s.login_max_failures, s.login_window_s)
        user = accounts.authenticate(st.db, username, password)
        if user is None:
            accounts.record_failure(st.db, username, address, s.login_window_s)
            raise ApiError(401, "unauthenticated", "wrong username or password")
        accounts.clear_failures(st.db, username, address)
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


routes = [
    Route("/api/auth/login", login, methods=["POST"]),
    Route("/api/auth/refresh", refresh, methods=["POST"]),
    Route("/api/auth/logout", logout, methods=["POST"]),
]
