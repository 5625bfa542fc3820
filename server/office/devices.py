"""Devices: every signed-in device with its user, name and last sync; revoke a lost phone."""
from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sync.schema import is_uuid

from .. import accounts, audit
from ..state import AppState
from .exports import csv_response, csv_text
from .pages import PageError, app_state, me, page, redirect, render

REASONS = {"revoked": "revoked in the office or the API", "refresh_token_reuse": "a refresh token was reused",
           "logout": "signed out"}


def _devices(st: AppState, show: str) -> list[dict[str, Any]]:
    sql = ("SELECT d.id, d.name, d.created_at, d.last_seen_at, d.last_sync_at, d.revoked_at, d.revoked_reason, "
           "d.revoked_by, u.id AS user_id, u.username, u.display_name, u.role, r.display_name AS revoked_by_name "
           "FROM devices d JOIN users u ON u.id = d.user_id LEFT JOIN users r ON r.id = d.revoked_by")
    if show == "active":
        sql += " WHERE d.revoked_at IS NULL"
    sql += " ORDER BY d.revoked_at IS NOT NULL, coalesce(d.last_sync_at, d.last_seen_at, d.created_at) DESC, d.id"
    return st.db.query(sql)


def _show(request: Request) -> str:
    return "active" if request.query_params.get("show") == "active" else "all"


@page
async def device_list(request: Request) -> Response:
    st = app_state(request)
    show = _show(request)
    rows = await run_in_threadpool(_devices, st, show)
    revoked = request.query_params.get("revoked", "")
    name = ""
    if is_uuid(revoked):
        found = await run_in_threadpool(st.db.query, "SELECT name FROM devices WHERE id = ?", (revoked,))
        name = found[0]["name"] if found else ""
    return render(request, "devices.html", {"title": "Devices", "rows": rows, "show": show, "revoked_name": name,
                                            "reasons": REASONS}, active="devices")


@page
async def device_csv(request: Request) -> Response:
    st = app_state(request)
    rows = await run_in_threadpool(_devices, st, _show(request))
    header = ["device_id", "device_name", "username", "user", "role", "signed_in_at", "last_seen_at",
              "last_sync_at", "revoked_at", "revoked_reason", "revoked_by"]
    body = [[r["id"], r["name"], r["username"], r["display_name"], r["role"], r["created_at"], r["last_seen_at"],
             r["last_sync_at"], r["revoked_at"], r["revoked_reason"], r["revoked_by_name"]] for r in rows]
    return csv_response("devices.csv", csv_text(header, body))


@page
async def revoke(request: Request) -> Response:
    st = app_state(request)
    device_id = request.path_params["device_id"]
    if not is_uuid(device_id):
        raise PageError(404, "Not found", "There is no device with that id.")
    user = me(request).user

    def work() -> bool:
        with st.db.write() as txn:
            if not txn.rows("SELECT 1 FROM devices WHERE id = ?", (device_id,)):
                return False
            accounts.revoke_device(txn, device_id, "revoked", user.id)
            audit.record(txn, user.id, None, "revoke_device", [device_id], {"via": "office"})
            return True

    if not await run_in_threadpool(work):
        raise PageError(404, "Not found", "There is no device with that id.")
    return redirect(f"/office/devices?revoked={device_id}")


routes = [
    Route("/office/devices", device_list, methods=["GET"]),
    Route("/office/devices.csv", device_csv, methods=["GET"]),
    Route("/office/devices/{device_id}/revoke", revoke, methods=["POST"]),
]
