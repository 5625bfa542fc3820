"""The transport API (office): plan runs, and a day's runs."""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sync import ADMIN, OFFICE
from sync.schema import is_uuid

from .. import audit
from ..errors import ApiError, invalid
from ..http import audit_read, authenticate, read_json, state
from ..jsonresp import JSONResponse
from . import county_plan, fleet_routes
from . import plan as planning
from . import plan_jobs
from . import runs as reads


async def plan(request: Request) -> Response:
    st = state(request)
    auth = await authenticate(request, OFFICE, ADMIN)
    body = await read_json(request, 256 * 1024)

    def work() -> dict[str, Any]:
        planned = planning.plan_runs(st, auth.actor, body)  # checked and solved before taking the write lock
        result = planned.answer
        with st.db.write() as txn:
            planning.create(txn, planned, st.clock)
            audit.record(txn, auth.user.id, auth.device_id, "transport_plan",
                         [s["pupil_id"] for r in result["runs"] for s in r["stops"]],
                         {"dry_run": result["dry_run"], "runs": [r["id"] for r in result["runs"]]})
        return result

    return JSONResponse(await run_in_threadpool(work))


async def _queue(request: Request, start: Callable[..., dict[str, Any]], max_body: int) -> Response:
    """An office user's job: the JSON body checked and queued by ``start(st, actor, device_id, body)``; 202."""
    st = state(request)
    auth = await authenticate(request, OFFICE, ADMIN)
    body = await read_json(request, max_body)
    answer = await run_in_threadpool(start, st, auth.actor, auth.device_id, body)
    return JSONResponse(answer, status_code=202)


async def start_plan_job(request: Request) -> Response:
    """Queue a planning job: the request is checked now, the plan made in the background."""
    return await _queue(request, plan_jobs.start, 256 * 1024)


async def plan_job(request: Request) -> Response:
    """A planning job: its status, progress (time used / budget) and, once done, the plan."""
    st = state(request)
    auth = await authenticate(request, OFFICE, ADMIN)
    job_id = request.path_params["job_id"]
    found = await run_in_threadpool(plan_jobs.status, st, job_id) if is_uuid(job_id) else None
    if found is None:
        raise ApiError(404, "not_found", "no such planning job")
    result = found["result"] or {}
    county = (result.get("plan") or {}) if "plan_id" in result else {}
    first = found["best_so_far"] or {}  # the planner's own plan: a county's or a school's (docs/routing.md)
    pupils = [s["pupil_id"] for r in result.get("runs", []) for s in r["stops"]] + [
        p for plan in (county, first) for r in plan.get("routes", []) for s in r["stops"]
        for p in s.get("pupils", [s.get("pupil")] if "pupil" in s else []) if s.get("type", "pickup") == "pickup"]
    await audit_read(request, auth, "read_transport", pupils, {"job": job_id})
    return JSONResponse(found)


async def start_county_plan(request: Request) -> Response:
    """Queue a county plan from the office's records (several schools, the fleet, pupils' needs)."""
    return await _queue(request, county_plan.start, 64 * 1024)


async def runs(request: Request) -> Response:
    st = state(request)
    auth = await authenticate(request, OFFICE, ADMIN)
    try:
        day = dt.date.fromisoformat(request.query_params.get("date", ""))
    except ValueError:
        raise invalid("date must be YYYY-MM-DD", field="date") from None
    if not reads.in_years(day):
        raise invalid(f"date must be between {reads.FIRST_YEAR} and {reads.LAST_YEAR}", field="date")
    school_id = request.query_params.get("school_id")
    if school_id is not None and not is_uuid(school_id):
        raise invalid("school_id must be a school's id", field="school_id")
    items = await run_in_threadpool(reads.runs_on, st, day, school_id)
    await audit_read(request, auth, "read_transport",
                     [i for run in items for i in [run["id"], *(s.get("pupil_id") for s in run["stops"])] if i])
    return JSONResponse({"items": items, "next": None})


routes = [
    Route("/api/transport/plan", plan, methods=["POST"]),
    Route("/api/transport/runs", runs, methods=["GET"]),
    Route("/api/transport/plan-jobs", start_plan_job, methods=["POST"]),
    Route("/api/transport/plan-jobs/{job_id}", plan_job, methods=["GET"]),
    Route("/api/transport/county-plans", start_county_plan, methods=["POST"]),
    *fleet_routes.routes,
]
