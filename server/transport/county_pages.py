"""County plans in the office: choose the day, the run and the schools with their bells; the plan
is made as a job (``county_plan``) from the fleet and pupils' needs on record, with a progress
bar; then the runs, and a printable route sheet per vehicle run for drivers and contractors
(audited as a read of the pupils on it)."""
from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from sync import Actor
from sync.schema import is_uuid

from .. import jobs
from ..errors import ApiError
from ..office.pages import PageError, app_state, error_page, form, me, page, record_view, redirect, render, text_field
from . import county_plan, fleet, plan_jobs
from . import runs as reads
from .pages import REASONS, next_school_day
from .plan import default_arrival

COUNTY_REASONS = {**REASONS, "no_escort": "No vehicle that carries an escort can take this pupil.",
                  "no_wheelchair_place": "No vehicle with a wheelchair place can take this pupil."}


def _schools_with_needs(st: Any) -> list[dict[str, Any]]:
    counts: dict[str, int] = {}
    for n in fleet.needs(st):
        counts[n["school_id"]] = counts.get(n["school_id"], 0) + 1
    return [{**s, "pupils": counts[s["id"]], "default_arrive": default_arrival(s.get("day_starts"))}
            for s in reads.schools(st) if s["id"] in counts]


async def _form(request: Request, values: dict[str, Any], errors: dict[str, str] | None = None) -> Response:
    st = app_state(request)
    schools = await run_in_threadpool(_schools_with_needs, st)
    vehicles = await run_in_threadpool(fleet.vehicles, st)
    return render(request, "transport_county.html", {
        "title": "County transport plan", "schools": schools, "vehicles": vehicles, "f": values,
        "errors": errors or {}, "default_leaves": county_plan.DEFAULT_LEAVES},
        status=422 if errors else 200, active="transport")


@page
async def county_form(request: Request) -> Response:
    st = app_state(request)
    schools = await run_in_threadpool(_schools_with_needs, st)
    return await _form(request, {"date": next_school_day().isoformat(), "run": "morning", "keep": True,
                                 "schools": [s["id"] for s in schools]})


@page
async def county_start(request: Request) -> Response:
    st, user, data = app_state(request), me(request).user, form(request)
    chosen = [s for s in data.getlist("school") if isinstance(s, str)]
    values: dict[str, Any] = {"date": text_field(data, "date"), "run": text_field(data, "run"),
                              "keep": data.get("keep") == "1", "schools": chosen}
    body: dict[str, Any] = {"date": values["date"], "run": values["run"], "keep_unchanged": values["keep"],
                            "schools": []}
    for sid in chosen:
        item = {"school_id": sid}
        for key, name in (("arrive_by", "arrive"), ("leaves_at", "leaves")):
            values[f"{name}_{sid}"] = text_field(data, f"{name}_{sid}")
            if values[f"{name}_{sid}"]:
                item[key] = values[f"{name}_{sid}"]
        body["schools"].append(item)
    if not chosen:
        return await _form(request, values, {"schools": "Choose at least one school."})
    try:
        queued = await run_in_threadpool(county_plan.start, st, Actor(user.id, user.role, None), None, body)
    except ApiError as exc:
        fields = exc.details.get("fields") or {"schools": exc.message}
        errors = {}
        for key, message in fields.items():
            spot = key
            if key.startswith("schools["):
                n = int(key[8:key.index("]")])
                part = key.split(".")[-1] if "." in key else ""
                sid = chosen[n] if n < len(chosen) else ""
                spot = {"arrive_by": f"arrive_{sid}", "leaves_at": f"leaves_{sid}"}.get(part, "schools")
            errors[spot] = message[:1].upper() + message[1:] + "."
        return await _form(request, values, errors)
    return redirect(f"/office/transport/county/{queued['job_id']}")


def _needs_words(p: dict[str, Any]) -> list[str]:
    words = []
    if p.get("wheelchair"):
        words.append("wheelchair")
    if p.get("escort"):
        words.append("needs the escort")
    if p.get("travel_alone"):
        words.append("travels alone")
    if p.get("siblings"):
        words.append("with siblings")
    if p.get("driver_note"):
        words.append(p["driver_note"])
    return words


def plan_view(st: Any, stored: dict[str, Any], vehicle_id: str | None = None) -> dict[str, Any]:
    """A stored plan as the office and the route sheets show it: each run's vehicle, its stops in
    order with times, who boards or alights and what they need (nothing more), and who was not
    placed and why."""
    problem, plan = stored["problem"], stored["plan"]
    vehicles = {v["id"]: v for v in fleet.vehicles(st, include_retired=True)}
    schools = {s["id"]: s for s in problem["schools"]}
    pupils = {p["id"]: p for p in problem["pupils"]}
    needs = {n["pupil_id"]: n for n in fleet.needs(st, include_retired=True, school_ids=list(schools))}
    homes = reads.addresses(st, [n.get("household_id") for n in needs.values()])
    afternoon = problem.get("run") == "afternoon"

    def who(pid: str) -> dict[str, Any]:
        n = needs.get(pid, {})
        point = (n.get("pickup") or {}).get("label") or homes.get(n.get("household_id") or "") or "—"
        return {"id": pid, "name": n.get("name") or "Unknown pupil", "place": point,
                "wheelchair": bool(pupils.get(pid, {}).get("wheelchair")),
                "needs": _needs_words({**pupils.get(pid, {}), "driver_note": n.get("driver_note")}),
                "school": schools.get(pupils.get(pid, {}).get("school"), {}).get("name", "")}

    runs = []
    for route in plan["routes"]:
        if vehicle_id is not None and route["vehicle"] != vehicle_id:
            continue
        v = vehicles.get(route["vehicle"], {"name": "Removed vehicle", "contractor": "", "seats": 0,
                                            "wheelchair_places": 0, "escort": False})
        stops = []
        for n, stop in enumerate(route["stops"], start=1):
            at_school = "school" in stop
            stops.append({"n": n, "type": stop["type"], "time": (stop.get("pickup") or stop.get("drop") or
                                                                   stop["arrival"])[:5],
                          "place": schools[stop["school"]]["name"] if at_school else None,
                          "pupils": [who(p) for p in stop["pupils"]], "at_school": at_school,
                          "load": stop["load"]})
        runs.append({"vehicle_id": route["vehicle"], "vehicle": v, "depart": route["depart"][:5],
                     "end": route["end"][:5], "cost": route["cost"], "distance_km": route["distance_m"] / 1000,
                     "stops": stops, "kept": route["vehicle"] in plan.get("kept_runs", []),
                     "depot": (v.get("depot") or {}).get("label") or "the depot"})
    unplaced = [{**who(u["pupil"]), "reason": COUNTY_REASONS.get(u["reason"], u["reason"].replace("_", " ")),
                 "detail": u.get("detail", "")} for u in plan.get("unplaced", [])] if vehicle_id is None else []
    shown = [p["id"] for r in runs for s in r["stops"] for p in s["pupils"]] + [u["id"] for u in unplaced]
    return {"runs": runs, "unplaced": unplaced, "afternoon": afternoon, "plan": plan, "pupil_ids": shown,
            "date": stored["date"], "run": stored["run"], "schools": list(schools.values())}


@page
async def county_progress(request: Request) -> Response:
    st, user = app_state(request), me(request).user
    job_id = request.path_params["job_id"]
    job = await run_in_threadpool(jobs.get, st.db, job_id) if is_uuid(job_id) else None
    if job is None or job["kind"] != county_plan.KIND or job["created_by"] != user.id:
        return error_page(request, 404, "No such plan", "There is no such plan of yours. Plan again.")
    if job["status"] in ("failed", "cancelled"):
        return error_page(request, 500 if job["status"] == "failed" else 409, "The plan could not be made",
                          f"The plan could not be made: {job.get('error') or 'it was cancelled'}. Plan again.")
    if job["status"] != "done":
        shown = plan_jobs.status(st, job_id) or {}
        progress = shown.get("progress", {})
        names = {v["id"]: v["name"] for v in await run_in_threadpool(fleet.vehicles, st, True)}
        return render(request, "transport_county_progress.html", {
            "first": plan_jobs.first_summary(shown.get("best_so_far"), names),
            "title": "Planning the county's runs", "args": job["args"], "elapsed": progress.get("elapsed_s", 0.0),
            "budget": progress.get("time_budget_s", 0.0), "percent": round(100 * progress.get("fraction", 0.0))},
            active="transport")
    found = await run_in_threadpool(county_plan.stored, st, job_id)
    if found is None:
        raise PageError(404, "Not found", "This plan is no longer kept.")
    view = await run_in_threadpool(plan_view, st, found)
    await run_in_threadpool(record_view, st, user.id, view["pupil_ids"], "county transport plan")
    return render(request, "transport_county_plan.html", {"title": "County transport plan", "plan_id": job_id,
                                                          **view}, active="transport")


@page
async def route_sheets(request: Request) -> Response:
    """Route sheets to print: every run of the plan, or one vehicle's (``?vehicle=``)."""
    st, user = app_state(request), me(request).user
    plan_id = request.path_params["plan_id"]
    found = await run_in_threadpool(county_plan.stored, st, plan_id) if is_uuid(plan_id) else None
    if found is None:
        raise PageError(404, "Not found", "There is no such plan.")
    vehicle = request.query_params.get("vehicle")
    view = await run_in_threadpool(plan_view, st, found, vehicle if vehicle and is_uuid(vehicle) else None)
    if not view["runs"]:
        raise PageError(404, "Not found", "That vehicle has no run in this plan.")
    await run_in_threadpool(record_view, st, user.id, view["pupil_ids"], "route sheet")
    return render(request, "transport_sheets.html", {"title": "Route sheets", "plan_id": plan_id, **view},
                  active="transport")
