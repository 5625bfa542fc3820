"""Devices and their revocation (PROTOCOL.md §2)."""
from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sync import ADMIN, OFFICE
from sync.schema import is_uuid

from .. import accounts, audit, paging
from ..errors import invalid, not_found
from ..http import authenticate, query_int, state
from ..jsonresp import JSONResponse


async def list_devices(request: Request) -> Response:
    st = state(request)
    await authenticate(request, OFFICE, ADMIN)
    limit = query_int(request, "limit", 100, 1, 500)
    after = paging.decode(request.query_params.get("cursor"))
    if after is not None and not isinstance(after, str):
        raise invalid("cursor is not one this server gave out", field="cursor")
    rows = await run_in_threadpool(accounts.list_devices, st.db, after, limit + 1)
    for row in rows:
        row["user"] = {"id": row.pop("user_id"), "username": row.pop("username"),
                       "display_name": row.pop("display_name")}
        row["revoked"] = row["revoked_at"] is not None
    return JSONResponse(paging.page(rows, limit, lambda r: r["id"]))


async def revoke(request: Request) -> Response:
    st = state(request)
    auth = await authenticate(request, OFFICE, ADMIN)
    device_id = request.path_params["device_id"]
    if not is_uuid(device_id):
        raise not_found(f"no device {device_id[:60]}")

    def work() -> dict:
        with st.db.write() as txn:
            if not txn.rows("SELECT 1 FROM devices WHERE id = ?", (device_id,)):
                raise not_found(f"no device {device_id}")
            accounts.revoke_device(txn, device_id, "revoked", auth.user.id)
            audit.record(txn, auth.user.id, auth.device_id, "revoke_device", [device_id])
            return txn.rows("SELECT id, revoked_at, revoked_reason FROM devices WHERE id = ?", (device_id,))[0]

    row = await run_in_threadpool(work)
    return JSONResponse({"id": row["id"], "revoked": True, "revoked_at": row["revoked_at"],
                         "revoked_reason": row["revoked_reason"]})


routes = [
    Route("/api/devices", list_devices, methods=["GET"]),
    Route("/api/devices/{device_id}/revoke", revoke, methods=["POST"]),
]
