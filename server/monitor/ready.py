"""``GET /api/ready``: may this process take traffic? (``/api/health`` only says it is alive.)

Three checks, each cheap:

- ``database``: the write lock can be taken within ``PROBE_WAIT_S`` (an empty write
  transaction: ``BEGIN IMMEDIATE`` then ``COMMIT``, nothing written);
- ``migrations``: every migration this code knows is applied (none pending);
- ``disk``: the database's file system has at least ``ready_min_free_mb`` MiB free (on
  PostgreSQL the disk is the database server's, watched there).

200 ``{"status": "ready", "checks": {...}}``, or 503 ``not_ready`` (the protocol's error body)
naming the checks that failed in ``details.failed``, with ``Retry-After``.
"""
from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..errors import body
from ..http import state
from ..jsonresp import JSONResponse
from ..state import AppState, database_errors, is_url
from ..storage import Busy

PROBE_WAIT_S = 1.0
RETRY_AFTER_S = 5


def _database(st: AppState) -> dict[str, Any]:
    try:
        with st.db.write(timeout=PROBE_WAIT_S):
            pass
    except Busy:
        return {"ok": False, "reason": f"the write lock was not free within {PROBE_WAIT_S:g} s"}
    except database_errors() as exc:
        return {"ok": False, "reason": f"the database cannot be written: {exc}"}
    return {"ok": True}


def _migrations(st: AppState) -> dict[str, Any]:
    try:
        pending = st.db.pending()
    except (Busy, *database_errors()) as exc:
        return {"ok": False, "reason": f"the schema could not be read: {exc}"}
    if pending:
        return {"ok": False, "reason": "migrations not applied: run doorstep init", "pending": pending}
    return {"ok": True}


def _disk(st: AppState) -> dict[str, Any]:
    minimum = st.settings.ready_min_free_mb
    if is_url(st.settings.db_path):  # its disk is the database server's, watched there
        return {"ok": True, "min_free_mb": minimum, "where": "the PostgreSQL server"}
    try:
        free = shutil.disk_usage(Path(st.db.path).resolve().parent).free // (1024 * 1024)
    except OSError as exc:
        return {"ok": False, "reason": f"free space unknown: {exc}", "min_free_mb": minimum}
    check: dict[str, Any] = {"ok": free >= minimum, "free_mb": free, "min_free_mb": minimum}
    if not check["ok"]:
        check["reason"] = f"{free} MiB free, below the {minimum} MiB threshold"
    return check


def checks(st: AppState) -> dict[str, dict[str, Any]]:
    return {"database": _database(st), "migrations": _migrations(st), "disk": _disk(st)}


async def ready(request: Request) -> Response:
    result = await run_in_threadpool(checks, state(request))
    failed = [name for name, check in result.items() if not check["ok"]]
    if not failed:
        return JSONResponse({"status": "ready", "checks": result})
    return JSONResponse(body("not_ready", f"not ready: {', '.join(failed)}", {"failed": failed, "checks": result}),
                        status_code=503, headers={"Retry-After": str(RETRY_AFTER_S)})


routes = [Route("/api/ready", ready, methods=["GET"])]
