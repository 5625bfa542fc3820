"""Planning transport runs with the planner, and creating them.

``plan_runs`` turns a request (school, date, pupils, vehicles) into a planner
problem from the database and plans it, taking no write lock. Unless it was a
dry run, ``create`` then writes the ``transport_run`` and ``transport_stop``
records through the sync engine inside the caller's write transaction (beside
its audit record), so they reach each driver's PWA on the next pull.
"""
from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sync
from sync import OFFICER, Actor
from sync.clock_mark import UNSTAMPED, stamp_changes
from sync.schema import is_uuid

from ..errors import ApiError, invalid
from ..planner import ProblemError, SolverUnavailable, plan, plan_to_json, problem_from_json
from ..state import AppState
from ..storage import SqliteTxn
from . import runs as reads

MAX_PUPILS, MAX_VEHICLES = 200, 30
ARRIVAL_MARGIN_MIN = 10  # by default runs arrive this long before the school day starts, not at the register close
MAX_BUDGET_S = 300.0


@dataclass
class Planned:
    answer: dict[str, Any]  # what POST /api/transport/plan answers
    creates: sync.Prepared | None  # the runs and stops to create: None for a dry run, or no runs


def _utc(day: dt.date, at: str) -> str:
    local = dt.datetime.combine(day, reads.clock(at), reads.LOCAL)
    return local.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def default_arrival(day_starts: str | None) -> str:
    """The school's start less the margin: pupils arrive in time for the bell, not for the close."""
    start = dt.datetime.combine(dt.date(2000, 1, 3), reads.clock(day_starts or "08:45"))
    return (start - dt.timedelta(minutes=ARRIVAL_MARGIN_MIN)).strftime("%H:%M")


def check(st: AppState, body: dict[str, Any]) -> dict[str, Any]:
    """The request checked against the database: 4xx now if it is wrong (reads only)."""
    return _validate(st, body)


def _validate(st: AppState, body: dict[str, Any]) -> dict[str, Any]:
    school_id = body.get("school_id")
    if not is_uuid(school_id):
        raise invalid("school_id must be a school's id", field="school_id")
    school = reads.records(st, "school", [school_id]).get(school_id)
    if school is None:
        raise ApiError(404, "not_found", f"no school {school_id}")
    try:
        day = dt.date.fromisoformat(body.get("date") or "")
    except (TypeError, ValueError):
        raise invalid("date must be YYYY-MM-DD", field="date") from None
    if not reads.in_years(day):
        raise invalid(f"date must be a school day between {reads.FIRST_YEAR} and {reads.LAST_YEAR}", field="date")
    pupil_ids = body.get("pupil_ids")
    if pupil_ids is None:
        pupil_ids = reads.default_pupils(st, school_id)
    if (not isinstance(pupil_ids, list) or not pupil_ids or len(pupil_ids) > MAX_PUPILS
            or not all(is_uuid(p) for p in pupil_ids) or len(set(pupil_ids)) != len(pupil_ids)):
        raise invalid(f"pupil_ids must be 1 to {MAX_PUPILS} distinct pupil ids", field="pupil_ids")
    vehicles = body.get("vehicles")
    if not isinstance(vehicles, list) or not vehicles or len(vehicles) > MAX_VEHICLES:
        raise invalid(f"vehicles must list 1 to {MAX_VEHICLES} vehicles", field="vehicles")
    clean_vehicles = [_vehicle(st, v, n) for n, v in enumerate(vehicles)]
    arrive_by = body.get("arrive_by")
    close = reads.register_close(day, school.fields.get("day_starts"))
    if arrive_by is None:
        arrive_by = default_arrival(school.fields.get("day_starts"))
    elif not isinstance(arrive_by, str) or not _is_clock(arrive_by):
        raise invalid("arrive_by must be a time of day HH:MM", field="arrive_by")
    dry_run = body.get("dry_run", False)
    if not isinstance(dry_run, bool):
        raise invalid("dry_run must be true or false", field="dry_run")
    budget = body.get("time_budget_s")
    if budget is not None and (isinstance(budget, bool) or not isinstance(budget, (int, float))
                               or not 0.1 <= budget <= MAX_BUDGET_S):
        raise invalid(f"time_budget_s must be 0.1 to {MAX_BUDGET_S:g} seconds", field="time_budget_s")
    return {"school": school, "day": day, "pupil_ids": pupil_ids, "vehicles": clean_vehicles,
            "arrive_by": arrive_by, "dry_run": dry_run, "register_close": close,
            "time_budget_s": None if budget is None else float(budget)}


def _is_clock(value: str) -> bool:
    try:
        reads.clock(value)
    except ValueError:
        return False
    return len(value) in (5, 8)


def _vehicle(st: AppState, v: Any, n: int) -> dict[str, Any]:
    where = f"vehicles[{n}]"
    if not isinstance(v, dict):
        raise invalid(f"{where} must be an object", field=where)
    driver = v.get("driver_id")
    with st.db.read() as txn:
        role = txn.user_role(driver) if is_uuid(driver) else None
    if role != OFFICER:
        raise invalid(f"{where}.driver_id must be an officer's id", field=f"{where}.driver_id")
    seats = v.get("seats")
    if isinstance(seats, bool) or not isinstance(seats, int) or not 1 <= seats <= 80:
        raise invalid(f"{where}.seats must be 1 to 80", field=f"{where}.seats")
    for key, lo, hi in (("start_lat", -90, 90), ("start_lon", -180, 180)):
        value = v.get(key)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not lo <= value <= hi:
            raise invalid(f"{where}.{key} must be a number from {lo} to {hi}", field=f"{where}.{key}")
    name = v.get("vehicle") or f"vehicle {n + 1}"
    if not isinstance(name, str) or len(name) > 100:
        raise invalid(f"{where}.vehicle must be a name of at most 100 characters", field=f"{where}.vehicle")
    available = v.get("available_from", "07:00")
    if not isinstance(available, str) or not _is_clock(available):
        raise invalid(f"{where}.available_from must be HH:MM", field=f"{where}.available_from")
    max_ride = v.get("max_ride_s")
    if max_ride is not None and (isinstance(max_ride, bool) or not isinstance(max_ride, int) or max_ride < 60):
        raise invalid(f"{where}.max_ride_s must be at least 60 seconds", field=f"{where}.max_ride_s")
    return {"key": f"v{n}", "driver_id": driver, "vehicle": name, "seats": seats,
            "start": {"lat": float(v["start_lat"]), "lon": float(v["start_lon"])},
            "available_from": available, "max_ride_s": max_ride}


def plan_runs(st: AppState, actor: Actor, body: dict[str, Any],
              solve: Callable[[dict[str, Any]], dict[str, Any]] | None = None) -> Planned:
    """Check the request and plan, writing nothing: ``create`` writes what was planned (unless it
    was a dry run) inside the caller's write transaction. ``solve`` (problem JSON -> plan JSON)
    replaces planning in this process: the planning job solves in a process of its own."""
    req = _validate(st, body)
    school, day = req["school"], req["day"]
    pupils = reads.records(st, "pupil", req["pupil_ids"])
    households = reads.records(st, "household", [p.fields.get("household_id") for p in pupils.values()
                                                 if p.fields.get("household_id")])
    unplaced: list[dict[str, Any]] = []
    problem_pupils = []
    for pid in req["pupil_ids"]:
        pupil = pupils.get(pid)
        home = households.get(pupil.fields.get("household_id")) if pupil else None
        if pupil is None:
            unplaced.append({"pupil": pid, "reason": "not_found", "detail": "no such pupil"})
        elif home is None or home.fields.get("lat") is None or home.fields.get("lon") is None:
            unplaced.append({"pupil": pid, "reason": "no_location", "detail": "the household has no position"})
        else:
            problem_pupils.append({"id": pid, "lat": home.fields["lat"], "lon": home.fields["lon"]})
    if school.fields.get("lat") is None or school.fields.get("lon") is None:
        raise invalid("the school has no position to drive to", field="school_id")
    problem = {"school": {"name": school.fields.get("name"), "lat": school.fields["lat"],
                          "lon": school.fields["lon"], "arrive_by": req["arrive_by"]},
               "pupils": problem_pupils,
               "vehicles": [{k: v for k, v in {"id": veh["key"], "seats": veh["seats"], "start": veh["start"],
                                               "available_from": veh["available_from"],
                                               "max_ride_s": veh["max_ride_s"]}.items() if v is not None}
                            for veh in req["vehicles"]]}
    if problem_pupils:
        try:
            parsed = problem_from_json(problem)
            result = solve(problem) if solve else plan_to_json(plan(parsed, time_budget=req["time_budget_s"]))
        except ProblemError as exc:
            raise invalid(f"the plan cannot be made: {exc}") from None
        except SolverUnavailable as exc:
            raise ApiError(503, "solver_unavailable", str(exc)) from None
    else:
        result = {"solver": None, "routes": [], "unplaced": [], "deadline": req["arrive_by"]}
    unplaced += result.get("unplaced", [])
    runs = _runs(req, result, pupils)
    creates = None
    if not req["dry_run"] and runs:
        creates = sync.prepare(actor, _changes(req, runs, households))
    return Planned({"school_id": school.id, "date": day.isoformat(), "arrive_by": req["arrive_by"],
                    "register_close": req["register_close"].astimezone(dt.timezone.utc)
                    .strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "dry_run": req["dry_run"], "solver": result.get("solver"), "runs": runs, "unplaced": unplaced,
                    "plan": result}, creates)


def from_proposal(st: AppState, actor: Actor, body: dict[str, Any], answer: dict[str, Any]) -> Planned:
    """The runs of a dry run's ``answer`` (made from ``body``), to create exactly as proposed rather
    than planning again. Their ids were fixed by the dry run, so creating them again writes the same
    records, not a second set of runs."""
    req = _validate(st, {**body, "dry_run": False})
    runs = answer.get("runs") or []
    homes = reads.records(st, "household", [s["household_id"] for r in runs for s in r["stops"]
                                           if s.get("household_id")])
    creates = sync.prepare(actor, _changes(req, runs, homes)) if runs else None
    return Planned({**answer, "dry_run": False}, creates)


def create(txn: SqliteTxn, planned: Planned, clock: sync.Clock) -> None:
    """Create the planned runs and stops inside the caller's write transaction: every record, or
    none (409, raised before the transaction ends, so it rolls back). Their stamps are made here,
    later than every committed write of any server process (sync/clock_mark.py)."""
    if planned.creates is None:
        return
    stamp_changes(txn, clock, planned.creates)
    outcome = sync.apply(txn, planned.creates, clock)
    rejected = [r for r in outcome.results if r.status == "rejected"]
    if rejected:
        raise ApiError(409, "conflict", "the runs could not be created; nothing was saved",
                       {"errors": rejected[0].errors})


def _runs(req: dict[str, Any], result: dict[str, Any], pupils: dict[str, Any]) -> list[dict[str, Any]]:
    vehicles = {v["key"]: v for v in req["vehicles"]}
    day = req["day"]
    runs = []
    for route in result.get("routes", []):
        if not route["stops"]:
            continue
        veh = vehicles[route["vehicle"]]
        stops = []
        for position, stop in enumerate(route["stops"]):
            pupil = pupils[stop["pupil"]]
            stops.append({"id": str(uuid.uuid4()), "position": position, "pupil_id": pupil.id,
                          "household_id": pupil.fields.get("household_id"),
                          "pupil_name": f"{pupil.fields.get('first_name', '')} {pupil.fields.get('last_name', '')}".strip(),
                          "eta": _utc(day, stop["pickup"]), "ride_s": stop["ride_s"], "load": stop["load"]})
        runs.append({"id": str(uuid.uuid4()), "driver_id": veh["driver_id"], "vehicle": veh["vehicle"],
                     "seats": veh["seats"], "depart": _utc(day, route["depart"]),
                     "school_arrival": _utc(day, route["school_arrival"]), "stops": stops})
    return runs


def _changes(req: dict[str, Any], runs: list[dict[str, Any]], households: dict[str, Any]) -> list[dict[str, Any]]:
    """The runs and their stops as changes (each stop at its pupil's home, read for the plan)."""
    changes = []
    for run in runs:
        changes.append(_put("transport_run", run["id"], {
            "date": req["day"].isoformat(), "school_id": req["school"].id, "driver_id": run["driver_id"],
            "vehicle": run["vehicle"], "seats": run["seats"], "status": "planned"}))
        for stop in run["stops"]:
            home = households.get(stop["household_id"])
            changes.append(_put("transport_stop", stop["id"], {
                "run_id": run["id"], "position": stop["position"], "pupil_id": stop["pupil_id"],
                "household_id": stop["household_id"], "eta": stop["eta"], "status": "pending",
                "lat": home.fields.get("lat") if home else None,
                "lon": home.fields.get("lon") if home else None}))
    return changes


def _put(type_: str, id_: str, fields: dict[str, Any]) -> dict[str, Any]:
    """A change creating a record, stamped by ``create`` inside its write transaction."""
    return {"change_id": str(uuid.uuid4()), "type": type_, "id": id_, "op": "put",
            "fields": {k: v for k, v in fields.items() if v is not None}, "base_version": None,
            "hlc": UNSTAMPED}
