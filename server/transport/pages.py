"""Transport in the office: plan school runs (a dry run first, then create them) and see a day's runs.

Planning and creating are ``plan.plan_runs`` and ``plan.create`` — what ``POST
/api/transport/plan`` calls — so the page and the API plan alike, and created
runs reach each driver's PWA at the next pull. The day's runs are
``runs.runs_on``, with each picked-up pupil's arrival against the register
close.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sync import Actor
from sync.schema import is_uuid

from .. import audit
from ..errors import ApiError
from ..office.map_svg import MapRun, Place, route_map
from .. import jobs
from ..office.pages import app_state, error_page, form, me, page, record_view, redirect, render
from ..office.people import Directory
from . import plan as planning
from . import plan_jobs
from . import runs as reads

REASONS = {
    "not_found": "No such pupil.",
    "no_location": "The pupil's home has no position on the map.",
    "no_vehicle": "No vehicle was given.",
    "deadline_unreachable": "No vehicle can get this pupil to school in time, even driving straight there.",
    "pickup_window_unreachable": "No vehicle can collect this pupil inside their pickup window and still arrive "
                                 "in time.",
    "max_ride_time": "The ride would be longer than the vehicle's longest allowed ride.",
    "no_vehicle_capacity": "Not enough seats: every vehicle that could take this pupil is full.",
    "no_vehicle_time": "A seat is free, but fitting this pickup in would make someone late.",
}
CLOCK_RE = re.compile(r"([01]\d|2[0-3]):[0-5]\d")
DEFAULT_FROM, DEFAULT_SEATS = "07:30", "4"
# the office form reader takes at most 100 fields (pages.read_form): 6 vehicles of 7 fields leave room for 50 pupils
FORM_VEHICLES = 6


@dataclass
class Vehicle:
    driver: str = ""
    name: str = ""
    seats: str = DEFAULT_SEATS
    lat: str = ""
    lon: str = ""
    available_from: str = DEFAULT_FROM
    max_ride: str = ""  # minutes


@dataclass
class Choices:
    """What the planning form holds, as typed."""

    school: str
    date: str
    pupils: list[str] = field(default_factory=list)
    vehicles: list[Vehicle] = field(default_factory=list)
    arrive_by: str = ""

    def hidden(self) -> list[tuple[str, str]]:
        """The same choices as hidden fields: "Create these runs" re-plans with exactly these."""
        out = [("school", self.school), ("date", self.date), ("arrive_by", self.arrive_by)]
        out += [("pupil", p) for p in self.pupils]
        for n, v in enumerate(self.vehicles):
            out += [(f"v{n}_{k}", getattr(v, k)) for k in Vehicle.__dataclass_fields__]
        return out


def _choices(data: FormData) -> Choices:
    def text(name: str, limit: int = 100) -> str:
        value = data.get(name, "")
        return value.strip()[:limit] if isinstance(value, str) else ""

    vehicles = []
    for n in range(FORM_VEHICLES):
        v = Vehicle(**{k: text(f"v{n}_{k}") for k in Vehicle.__dataclass_fields__})
        if v.driver:
            vehicles.append(v)
    pupils = [p for p in data.getlist("pupil") if isinstance(p, str)]
    return Choices(text("school"), text("date"), list(dict.fromkeys(pupils)), vehicles, text("arrive_by"))


def next_school_day(today: dt.date | None = None) -> dt.date:
    day = today or dt.datetime.now(reads.LOCAL).date()
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    return day


def _clock_of(iso: str | None) -> str:
    if not iso:
        return "—"
    moment = dt.datetime.fromisoformat(iso).astimezone(reads.LOCAL)
    return f"{moment:%H:%M}"


def _check(choices: Choices, school: dict[str, Any], pupils: dict[str, Any],
           officers: dict[str, str]) -> tuple[dict[str, Any], list[str]]:
    """The form's choices as a ``plan_runs`` body, or what is wrong with them, in words."""
    errors: list[str] = []
    if school.get("lat") is None or school.get("lon") is None:
        errors.append("The school has no position on the map, so no run can be planned to it.")
    if not (_is_date(choices.date) and 2000 <= int(choices.date[:4]) <= 2100):
        errors.append("Give the date of the school day, for example 2026-11-23.")
    if choices.arrive_by and not CLOCK_RE.fullmatch(choices.arrive_by):
        errors.append("“Arrive by” must be a time of day such as 09:10, or blank for the register close.")
    chosen = [p for p in choices.pupils if p in pupils]
    if len(chosen) != len(choices.pupils):
        errors.append("Some chosen pupils are not at this school. Choose from the list.")
    if not chosen:
        errors.append("Choose at least one pupil to collect.")
    if not choices.vehicles:
        errors.append("Choose a driver for at least one vehicle.")
    vehicles = []
    for n, v in enumerate(choices.vehicles, start=1):
        where = f"Vehicle {n}"
        if v.driver not in officers:
            errors.append(f"{where}: choose a driver from the list of officers.")
        seats = int(v.seats) if v.seats.isdigit() else 0
        if not 1 <= seats <= 80:
            errors.append(f"{where}: seats must be a whole number from 1 to 80.")
        if not CLOCK_RE.fullmatch(v.available_from):
            errors.append(f"{where}: “available from” must be a time of day such as 07:30.")
        ride = int(v.max_ride) if v.max_ride.isdigit() else None
        if v.max_ride and (ride is None or not 1 <= ride <= 240):
            errors.append(f"{where}: the longest ride must be a whole number of minutes from 1 to 240, or blank.")
        start = (school.get("lat"), school.get("lon"))
        if v.lat or v.lon:
            try:
                start = (float(v.lat), float(v.lon))
                if not (-90 <= start[0] <= 90 and -180 <= start[1] <= 180):
                    raise ValueError
            except ValueError:
                errors.append(f"{where}: the start needs both a latitude (-90 to 90) and a longitude "
                              "(-180 to 180), or leave both blank to start at the school.")
        vehicles.append({"driver_id": v.driver, "vehicle": v.name or f"Vehicle {n}", "seats": seats,
                         "start_lat": start[0], "start_lon": start[1], "available_from": v.available_from,
                         **({"max_ride_s": ride * 60} if ride else {})})
    body = {"school_id": choices.school, "date": choices.date, "pupil_ids": chosen, "vehicles": vehicles}
    if choices.arrive_by:
        body["arrive_by"] = choices.arrive_by
    return body, errors


def _words(exc: ApiError) -> str:
    if exc.code == "solver_unavailable":
        return "No routing solver is installed on the server, so no plan can be made. Tell the administrator."
    message = exc.message[:1].upper() + exc.message[1:]
    return message if message.endswith(".") else message + "."


def _vehicle_words(detail: str, vehicles: list[dict[str, Any]], directory: Directory) -> str:
    """The planner names vehicles by key (``vehicle v0``): name them as the form did."""
    def name(match: re.Match[str]) -> str:
        n = int(match.group(1))
        if n >= len(vehicles):
            return match.group(0)
        v = vehicles[n]
        return f"{v['vehicle']} ({directory.name(v['driver_id'])})"
    return re.sub(r"\bvehicle v(\d+)\b", name, detail)


def _result_view(result: dict[str, Any], body: dict[str, Any], school: dict[str, Any],
                 pupils: dict[str, Any], directory: Directory) -> dict[str, Any]:
    """The plan as the page shows it: runs with stops, the unplaced with reasons, and the map."""
    plan = result.get("plan") or {}
    routes = [r for r in plan.get("routes", []) if r.get("stops")]
    runs, map_runs = [], []
    for i, (run, route) in enumerate(zip(result["runs"], routes, strict=True)):
        vehicle = body["vehicles"][int(route["vehicle"][1:])]
        label = f"Run {i + 1}: {run['vehicle']}, {directory.name(run['driver_id'])}"
        stops = []
        for n, stop in enumerate(run["stops"], start=1):
            pupil = pupils.get(stop["pupil_id"], {})
            stops.append({"n": n, "pupil_id": stop["pupil_id"], "name": pupil.get("name") or stop["pupil_name"],
                          "address": pupil.get("address", "—"), "eta": _clock_of(stop["eta"]),
                          "ride_min": round(stop["ride_s"] / 60), "load": stop["load"]})
        runs.append({"label": label, "vehicle": run["vehicle"], "driver": directory.name(run["driver_id"]),
                     "seats": run["seats"], "depart": _clock_of(run["depart"]),
                     "arrive": _clock_of(run["school_arrival"]), "stops": stops,
                     "starts_at_school": (vehicle["start_lat"], vehicle["start_lon"]) == (school["lat"],
                                                                                            school["lon"])})
        map_runs.append(MapRun(label, [Place(pupils[s["pupil_id"]]["lat"], pupils[s["pupil_id"]]["lon"],
                                             f"{s['name']}, pick-up {s['eta']}") for s in stops],
                               Place(vehicle["start_lat"], vehicle["start_lon"], label)))
    unplaced = []
    for u in result["unplaced"]:
        pupil = pupils.get(u["pupil"], {})
        unplaced.append({"pupil_id": u["pupil"], "name": pupil.get("name", "Unknown pupil"),
                         "address": pupil.get("address", "—"),
                         "reason": REASONS.get(u["reason"], u["reason"].replace("_", " ").capitalize() + "."),
                         "detail": _vehicle_words(u.get("detail") or "", body["vehicles"], directory)})
    crosses = [Place(p["lat"], p["lon"], p["name"]) for p in (pupils.get(u["pupil_id"]) for u in unplaced)
               if p and p.get("lat") is not None and p.get("lon") is not None]
    drawing = route_map("plan-map", f"Proposed runs to {school['name']}", Place(school["lat"], school["lon"],
                        school["name"]), map_runs, crosses)
    return {"runs": runs, "unplaced": unplaced, "map": drawing, "solver": result.get("solver"),
            "solver_version": plan.get("solver_version"), "fallback_reason": plan.get("fallback_reason"),
            "solve_seconds": plan.get("solve_seconds"), "arrive_by": result["arrive_by"][:5],
            "register_close": _clock_of(result["register_close"]), "placed": sum(len(r["stops"]) for r in runs)}


async def _form_page(request: Request, choices: Choices, *, errors: list[str] | None = None,
                     fresh: bool = False, answer: dict[str, Any] | None = None,
                     job_id: str | None = None) -> Response:
    """The planning form (and, with a planning job's ``answer``, the proposed runs), audited as a
    view of its pupils."""
    st = app_state(request)
    user = me(request).user

    def work() -> dict[str, Any]:
        schools = reads.schools(st)
        school = next((s for s in schools if s["id"] == choices.school), None)
        with st.db.read() as txn:
            directory = Directory(txn)
        pupils = reads.candidates(st, school["id"]) if school else {}
        if school and fresh:
            choices.pupils = [p for p in reads.default_pupils(st, school["id"]) if p in pupils]
        out: dict[str, Any] = {"schools": schools, "school": school, "pupils": pupils, "directory": directory,
                               "plan": None, "errors": list(errors or [])}
        if school and answer is not None and not errors:
            body, problems = _check(choices, school, pupils, {u["id"]: u for u in directory.officers()})
            out["errors"] = problems
            if not problems:
                out["plan"] = _result_view(answer, body, school, pupils, directory)
                with st.db.write() as txn:
                    audit.record(txn, user.id, None, "transport_plan", body["pupil_ids"],
                                 {"dry_run": True, "runs": [], "via": "office"})
        return out

    data = await run_in_threadpool(work)
    await run_in_threadpool(record_view, st, user.id, list(data["pupils"]), "transport planning")
    rows = (choices.vehicles + [Vehicle()] * max(1, 2 - len(choices.vehicles)))[:FORM_VEHICLES]
    school = data["school"]
    close = (reads.register_close(dt.date.fromisoformat(choices.date), school.get("day_starts"))
             if school and _is_date(choices.date) else None)
    return render(request, "transport.html", {
        "title": "Transport planning", "choices": choices, "vehicle_rows": rows, "close": close,
        "default_arrive": planning.default_arrival(school.get("day_starts") if school else None),
        "arrival_margin": planning.ARRIVAL_MARGIN_MIN, "job_id": job_id,
        "officers": data["directory"].officers(), **data}, status=422 if data["errors"] else 200,
        active="transport")


def _is_date(value: str) -> bool:
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        return False
    return True


@page
async def plan_form(request: Request) -> Response:
    school, day = request.query_params.get("school", ""), request.query_params.get("date", "")
    choices = Choices(school if is_uuid(school) else "", day if _is_date(day) else next_school_day().isoformat())
    return await _form_page(request, choices, fresh=True)


@page
async def plan_dry_run(request: Request) -> Response:
    """Check the form, then plan in the background (``plan_jobs``): the browser follows the job's
    page, a progress bar until the proposal is ready."""
    st = app_state(request)
    user = me(request).user
    choices = _choices(form(request))

    def work() -> tuple[str | None, list[str]]:
        school = next((s for s in reads.schools(st) if s["id"] == choices.school), None)
        if school is None:
            return None, []
        with st.db.read() as txn:
            officers = {u["id"]: u for u in Directory(txn).officers()}
        body, problems = _check(choices, school, reads.candidates(st, school["id"]), officers)
        if problems:
            return None, problems
        try:
            queued = plan_jobs.start(st, Actor(user.id, user.role, None), None, {**body, "dry_run": True},
                                     extra={"choices": choices.hidden()})
        except ApiError as exc:
            return None, [_words(exc)]
        return queued["job_id"], []

    job_id, problems = await run_in_threadpool(work)
    if job_id is None:
        return await _form_page(request, choices, errors=problems)
    return redirect(f"/office/transport/plans/{job_id}")


@page
async def plan_progress(request: Request) -> Response:
    """A planning job of this user's: a progress bar and the best plan so far, refreshed each second
    until the plan is made; then the form with the proposed runs."""
    st, user = app_state(request), me(request).user
    job_id = request.path_params["job_id"]
    job = await run_in_threadpool(jobs.get, st.db, job_id) if is_uuid(job_id) else None
    if job is None or job["kind"] != plan_jobs.KIND or job["created_by"] != user.id:
        return error_page(request, 404, "No such plan", "There is no such plan of yours. Plan the runs again.")
    choices = _choices(FormData(job["args"].get("choices") or []))
    if job["status"] == "done":
        return await _form_page(request, choices, answer=(job.get("result") or {}).get("answer"), job_id=job_id)
    if job["status"] in ("failed", "cancelled"):
        why = job.get("error") or "it was cancelled"
        return await _form_page(request, choices, errors=[f"The plan could not be made: {why}."])
    shown = plan_jobs.status(st, job_id) or {}
    progress = shown.get("progress", {})
    return render(request, "transport_progress.html", {
        "title": "Planning the runs", "job": shown, "choices": choices,
        "first": plan_jobs.first_summary(shown.get("best_so_far"), plan_jobs.vehicle_names(job["args"])),
        "elapsed": progress.get("elapsed_s", 0.0), "budget": progress.get("time_budget_s", 0.0),
        "percent": round(100 * progress.get("fraction", 0.0))}, active="transport")


@page
async def create_runs(request: Request) -> Response:
    st = app_state(request)
    user = me(request).user
    data = form(request)
    choices = _choices(data)
    job_id = data.get("job")

    def _proposal(job_id: Any, user_id: str, body: dict[str, Any]) -> dict[str, Any] | None:
        """The answer of this user's finished dry-run job for exactly these choices, if any."""
        job = jobs.get(st.db, job_id) if isinstance(job_id, str) and is_uuid(job_id) else None
        if (job is None or job["kind"] != plan_jobs.KIND or job["status"] != "done"
                or job["created_by"] != user_id or job["args"].get("body") != {**body, "dry_run": True}):
            return None
        answer: dict[str, Any] | None = (job.get("result") or {}).get("answer")
        return answer

    def work() -> tuple[dict[str, Any] | None, list[str]]:
        school = next((s for s in reads.schools(st) if s["id"] == choices.school), None)
        if school is None:
            return None, ["Choose a school."]
        with st.db.read() as txn:
            officers = {u["id"]: u for u in Directory(txn).officers()}
        body, problems = _check(choices, school, reads.candidates(st, school["id"]), officers)
        if problems:
            return None, problems
        actor = Actor(user.id, user.role, None)
        proposal = _proposal(job_id, user.id, body)
        try:
            if proposal is not None:  # the runs as proposed, not planned again
                planned = planning.from_proposal(st, actor, body, proposal)
            else:
                planned = planning.plan_runs(st, actor, {**body, "dry_run": False})
            result = planned.answer
            with st.db.write() as txn:
                planning.create(txn, planned, st.clock)
                runs = [r["id"] for r in result["runs"]]
                audit.record(txn, user.id, None, "transport_plan",
                             [*runs, *(s["pupil_id"] for r in result["runs"] for s in r["stops"])],
                             {"dry_run": False, "runs": runs, "via": "office"})
        except ApiError as exc:
            return None, [_words(exc)]
        return result, []

    result, problems = await run_in_threadpool(work)
    if result is None:
        return await _form_page(request, choices, errors=problems)
    query = {"date": choices.date, "school": choices.school, "created": len(result["runs"]),
             "stops": sum(len(r["stops"]) for r in result["runs"])}
    return redirect("/office/transport/day?" + urlencode(query))


from . import county_pages, day_pages, fleet_pages  # noqa: E402  (they use this module's helpers)

routes = [
    Route("/office/transport/fleet", fleet_pages.fleet_list, methods=["GET"]),
    Route("/office/transport/fleet", fleet_pages.fleet_add, methods=["POST"]),
    Route("/office/transport/fleet/{vehicle_id}", fleet_pages.vehicle_edit, methods=["GET"]),
    Route("/office/transport/fleet/{vehicle_id}", fleet_pages.vehicle_save, methods=["POST"]),
    Route("/office/transport/needs", fleet_pages.needs_list, methods=["GET"]),
    Route("/office/transport/needs", fleet_pages.need_add, methods=["POST"]),
    Route("/office/transport/needs/{pupil_id}", fleet_pages.need_edit, methods=["GET"]),
    Route("/office/transport/needs/{pupil_id}", fleet_pages.need_save, methods=["POST"]),
    Route("/office/transport/county", county_pages.county_form, methods=["GET"]),
    Route("/office/transport/county", county_pages.county_start, methods=["POST"]),
    Route("/office/transport/county/{job_id}", county_pages.county_progress, methods=["GET"]),
    Route("/office/transport/county/{plan_id}/sheets", county_pages.route_sheets, methods=["GET"]),
    Route("/office/transport", plan_form, methods=["GET"]),
    Route("/office/transport/plan", plan_dry_run, methods=["POST"]),
    Route("/office/transport/plans/{job_id}", plan_progress, methods=["GET"]),
    Route("/office/transport/create", create_runs, methods=["POST"]),
    Route("/office/transport/day", day_pages.day_runs, methods=["GET"]),
]
