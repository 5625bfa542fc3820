"""The sync API: push, pull and conflicts (docs/protocol.md §3–§5)."""
from __future__ import annotations

import asyncio
import os
import time
from typing import Any

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

import sync
from sync import ADMIN, OFFICE
from sync.schema import is_uuid

from .. import audit, paging
from ..errors import ApiError, invalid, not_found
from ..http import (
    Auth,
    authenticate,
    authenticate_here,
    bearer,
    parse_json,
    query_choice,
    query_int,
    read_body,
    read_json,
    state,
)
from ..identity import status as device_status
from ..jsonresp import JSONResponse
from ..monitor import metrics
from ..retention import horizon as retention
from ..storage import SqliteTxn
from ..util import now_iso, today
from . import conflicts

PROTOCOL_VERSION = "1"
# Pushes run in the engine at most this many at a time per process (by default one: its checks
# and its write); the others wait their turn on the event loop, in order, rather than queue on
# the write lock in threads that fight over the GIL (docs/performance.md, round one, item 7).
PUSH_SLOTS = max(1, int(os.environ.get("DOORSTEP_PUSH_SLOTS", "1") or 1))
_slots: dict[int, asyncio.Semaphore] = {}


def _push_slots() -> asyncio.Semaphore:
    loop = id(asyncio.get_running_loop())
    if loop not in _slots:
        _slots[loop] = asyncio.Semaphore(PUSH_SLOTS)
    return _slots[loop]


def require_protocol(request: Request) -> None:
    version = request.headers.get("doorstep-protocol")
    if version != PROTOCOL_VERSION:
        raise ApiError(426, "upgrade_required",
                       "this app is out of date for the server: reload it to update",
                       {"supported": [PROTOCOL_VERSION], "received": version})


def _timed(body: bytes, started: float) -> Response:
    """A JSON answer rendered already (in the worker thread, not on the event loop), with the
    time spent inside the handler as ``Server-Timing: app;dur=<ms>``."""
    ms = (time.perf_counter() - started) * 1000
    return Response(body, media_type="application/json", headers={"Server-Timing": f"app;dur={ms:.1f}"})


def _synced(txn: SqliteTxn, auth: Auth, action: str, touched: list[tuple[str, str]], detail: dict[str, Any],
            at: str | None = None) -> None:
    """A push's or pull page's audit record, and the device's last sync."""
    audit.sync_record(txn, auth.user.id, auth.device_id, action, touched, detail, at=at)
    now = now_iso()
    txn.execute("UPDATE devices SET last_sync_at = ?, last_seen_at = ? WHERE id = ?", (now, now, auth.device_id))
    if auth.report is not None:  # what the phone reported, when it changed (identity/status.py)
        device_status.store(txn, auth.device_id, auth.report)


async def push(request: Request) -> Response:
    started = time.perf_counter()
    require_protocol(request)
    st = state(request)
    bearer(request)  # no token, no body read
    # The body is read before the token is checked, so that the request hands over to a worker
    # thread once; a body over the limit is still answered after the token's check, as before.
    try:
        raw, too_large = await read_body(request, st.settings.max_body_bytes), None
    except ApiError as exc:
        if exc.status != 413:
            raise
        raw, too_large = b"", exc

    def work() -> bytes:
        auth = authenticate_here(request, final_push=True, store_status=False)
        if too_large is not None:
            raise too_large
        data = parse_json(raw)
        changes = data.get("changes")
        if not isinstance(changes, list):
            raise invalid("changes must be a list", field="changes")
        if len(changes) > st.settings.max_changes:
            raise ApiError(413, "payload_too_large", f"at most {st.settings.max_changes} changes a request",
                           {"max_changes": st.settings.max_changes, "received": len(changes)})
        client_id = data.get("client_id")
        if client_id is not None and (not isinstance(client_id, str) or len(client_id) > 100):
            raise invalid("client_id must be this device's id", field="client_id")
        prepared = sync.prepare(auth.actor, changes)  # parsed and checked before taking the write lock
        with st.db.write() as txn:
            if auth.final:  # a device revoked as returned: its final push (docs/protocol.md §2.6)
                device_status.take_final_push(txn, auth.device_id, device_status.read(request.headers),
                                              len(changes), st.settings.max_changes)
            outcome = sync.apply(txn, prepared, st.clock)
            _synced(txn, auth, "push", outcome.touched, {"changes": len(changes), "client_id": client_id},
                    at=outcome.server_time)
        answer = outcome.as_dict()
        metrics.count_push(answer["results"])  # after the commit: counts what was kept
        if auth.final:
            answer["final"] = True
        return orjson.dumps(answer)

    async with _push_slots():
        body = await run_in_threadpool(work)
    return _timed(body, started)


async def pull(request: Request) -> Response:
    started = time.perf_counter()
    require_protocol(request)
    st = state(request)

    def work() -> bytes:  # one hand-over to a worker thread: the token is checked there too
        auth = authenticate_here(request, store_status=False)
        limit = query_int(request, "limit", 500, 1, sync.MAX_LIMIT)
        cursor = request.query_params.get("cursor")
        if cursor is not None and len(cursor) > 200:
            raise invalid("cursor is not one this server gave out", field="cursor")
        retention.retire_runs_if_due(st.db, st.settings.retention, today())  # old runs leave phones (once a day)
        outcome = sync.pull(st.db, auth.actor, cursor, limit, st.clock)
        with st.db.write() as txn:
            _synced(txn, auth, "pull", outcome.touched, {"cursor": cursor, "count": len(outcome.touched)})
            retention.record_pull(txn, auth.device_id, outcome.held)  # what the horizon may not pass
        return orjson.dumps(outcome.body)

    return _timed(await run_in_threadpool(work), started)


async def list_conflicts(request: Request) -> Response:
    st = state(request)
    await authenticate(request, OFFICE, ADMIN)
    status = query_choice(request, "status", ("open", "resolved"))
    limit = query_int(request, "limit", 100, 1, 500)
    after = paging.decode(request.query_params.get("cursor"))
    if after is not None and not isinstance(after, str):
        raise invalid("cursor is not one this server gave out", field="cursor")

    items = await run_in_threadpool(conflicts.page, st, status, after, limit + 1)
    return JSONResponse(paging.page(items, limit, lambda c: f"{c['created_at']}|{c['id']}"))


async def resolve(request: Request) -> Response:
    st = state(request)
    auth = await authenticate(request, OFFICE, ADMIN)
    conflict_id = request.path_params["conflict_id"]
    if not is_uuid(conflict_id):
        raise not_found(f"no conflict {conflict_id[:60]}")
    data = await read_json(request, 64 * 1024)
    # {"choose": "kept"|"lost"}, or {"value": …}: a combined value the office wrote (§5.6)
    value = data["value"] if "value" in data else conflicts.NO_VALUE
    conflict = await run_in_threadpool(conflicts.resolve, st, auth.actor, conflict_id, data.get("choose"),
                                       None, value)
    return JSONResponse(await run_in_threadpool(conflicts.answer, st, conflict))


routes = [
    Route("/api/sync/push", push, methods=["POST"]),
    Route("/api/sync/pull", pull, methods=["GET"]),
    Route("/api/conflicts", list_conflicts, methods=["GET"]),
    Route("/api/conflicts/{conflict_id}/resolve", resolve, methods=["POST"]),
]
