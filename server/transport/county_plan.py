"""A county plan from the office's records (docs/routing.md section 8): several schools with
their bells, every pupil with recorded transport needs at them, the fleet; morning or afternoon.

``check`` turns a request into the planner's county problem (docs/routing.md section 6), every
per-pupil and per-vehicle field from ``fleet``'s records, and answers what is wrong field by
field (the API's 422, the page's errors beside its fields). ``start`` queues it as a job; the job
plans in a process of its own (``plan_jobs.solve_apart``) and stores the plan in
``transport_plans``, the base the next plan for the same day and run keeps unchanged runs from
(``planner.county_keep``) and what route sheets print."""
from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from typing import Any

import orjson

from sync import Actor
from sync.schema import is_uuid

from .. import audit, jobs
from ..planner.budget import default_budget
from ..planner.county_keep import unchanged_runs
from ..state import AppState
from ..util import now_iso
from . import fleet, plan_jobs
from . import runs as reads
from .plan import MAX_BUDGET_S, default_arrival

KIND = "transport_county_plan"
RUNS = ("morning", "afternoon")
DEFAULT_LEAVES = "15:15"  # when a school lets out, unless the request says
MAX_SCHOOLS = 20
PRIMARY_YEARS = 6  # year groups up to 6 are primary (DfE: 45-minute limit), the rest secondary


def check(st: AppState, body: Any) -> tuple[dict[str, Any], fleet.Problems]:
    """(the request as a county problem with its context, problems by field)."""
    bad: fleet.Problems = {}
    if not isinstance(body, dict):
        return {}, {"body": "the request must be an object"}
    for key in set(body) - {"date", "run", "schools", "pupil_ids", "vehicle_ids", "keep_unchanged",
                            "time_budget_s"}:
        bad[key] = f"unknown field {key}"
    try:
        day = dt.date.fromisoformat(body.get("date") or "")
        if not reads.in_years(day):
            raise ValueError
    except (TypeError, ValueError):
        bad["date"] = f"date must be YYYY-MM-DD between {reads.FIRST_YEAR} and {reads.LAST_YEAR}"
        day = None
    run = body.get("run", "morning")
    if run not in RUNS:
        bad["run"] = "run must be morning or afternoon"
    keep = body.get("keep_unchanged", True)
    if not isinstance(keep, bool):
        bad["keep_unchanged"] = "keep_unchanged must be true or false"
    budget = body.get("time_budget_s")
    if budget is not None and (isinstance(budget, bool) or not isinstance(budget, (int, float))
                               or not 0.1 <= budget <= MAX_BUDGET_S):
        bad["time_budget_s"] = f"time_budget_s must be 0.1 to {MAX_BUDGET_S:g} seconds"
    asked = body.get("schools")
    if not isinstance(asked, list) or not 1 <= len(asked) <= MAX_SCHOOLS:
        return {}, {**bad, "schools": f"schools must list 1 to {MAX_SCHOOLS} schools"}
    known = {s["id"]: s for s in reads.schools(st)}
    schools = []
    for n, s in enumerate(asked):
        where = f"schools[{n}]"
        if not isinstance(s, dict) or not is_uuid(s.get("school_id")) or set(s) - {"school_id", "arrive_by",
                                                                                    "leaves_at"}:
            bad[where] = "each school is {school_id, arrive_by?, leaves_at?}"
            continue
        school = known.get(s["school_id"])
        if school is None:
            bad[f"{where}.school_id"] = "no such school"
            continue
        if school.get("lat") is None or school.get("lon") is None:
            bad[f"{where}.school_id"] = f"{school['name']} has no position on the map"
        times = {"arrive_by": s.get("arrive_by") or default_arrival(school.get("day_starts")),
                 "leaves_at": s.get("leaves_at") or DEFAULT_LEAVES}
        for key, value in times.items():
            if not isinstance(value, str) or not fleet.CLOCK.fullmatch(value):
                bad[f"{where}.{key}"] = f"{key} must be a time of day HH:MM"
        schools.append({**school, **times})
    if len({s["id"] for s in schools}) != len(schools):
        bad["schools"] = "each school once"
    school_ids = [s["id"] for s in schools]
    pupils = fleet.needs(st, school_ids=school_ids)
    pupil_ids = body.get("pupil_ids")
    if pupil_ids is not None:
        if not isinstance(pupil_ids, list) or not all(is_uuid(p) for p in pupil_ids):
            bad["pupil_ids"] = "pupil_ids must be a list of pupil ids"
        else:
            unknown = set(pupil_ids) - {p["pupil_id"] for p in pupils}
            if unknown:
                bad["pupil_ids"] = f"{len(unknown)} pupil(s) have no transport needs recorded at these schools"
            pupils = [p for p in pupils if p["pupil_id"] in set(pupil_ids)]
    if not pupils and "pupil_ids" not in bad:
        bad["schools"] = "no pupil at these schools has transport needs recorded"
    vehicles = fleet.vehicles(st)
    vehicle_ids = body.get("vehicle_ids")
    if vehicle_ids is not None:
        if not isinstance(vehicle_ids, list) or not all(is_uuid(v) for v in vehicle_ids):
            bad["vehicle_ids"] = "vehicle_ids must be a list of vehicle ids"
        else:
            if set(vehicle_ids) - {v["id"] for v in vehicles}:
                bad["vehicle_ids"] = "vehicle_ids names a vehicle that is not in the fleet (or is retired)"
            vehicles = [v for v in vehicles if v["id"] in set(vehicle_ids)]
    if not vehicles and "vehicle_ids" not in bad:
        bad["vehicle_ids"] = "the fleet has no vehicle to plan with: add one first"
    if bad or day is None:
        return {}, bad
    problem, unplaced = _problem(st, run, schools, pupils, vehicles)
    if not problem["pupils"]:
        return {}, {"schools": "no chosen pupil has a pickup point or home position on the map"}
    return {"date": day.isoformat(), "run": run, "problem": problem, "unplaced": unplaced, "keep": keep,
            "time_budget_s": float(budget) if budget is not None else default_budget(len(problem["pupils"]))}, {}


def _phase(years: list[Any]) -> str:
    primary = sum(1 for y in years if isinstance(y, int) and y <= PRIMARY_YEARS)
    return "primary" if primary * 2 > len(years) else "secondary"


def _problem(st: AppState, run: str, schools: list[dict[str, Any]], pupils: list[dict[str, Any]],
             vehicles: list[dict[str, Any]]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The planner's county problem, every field from the records; pupils with nowhere to be
    collected from, listed with that reason."""
    settings = st.settings
    limits = {"primary": settings.ride_limit_primary_min * 60, "secondary": settings.ride_limit_secondary_min * 60}
    homes = reads.records(st, "household", [p["household_id"] for p in pupils if p.get("household_id")])
    years: dict[str, list[Any]] = {}
    for p in pupils:
        years.setdefault(p["school_id"], []).append(p.get("year_group"))
    out_schools = [{"id": s["id"], "name": s["name"] or "", "lat": s["lat"], "lon": s["lon"],
                    "phase": _phase(years.get(s["id"], [])), "arrive_by": s["arrive_by"], "leaves_at": s["leaves_at"]}
                   for s in schools]
    points: dict[str, tuple[float, float]] = {}
    unplaced = []
    for p in pupils:
        home = homes.get(p.get("household_id") or "")
        if p.get("pickup"):
            points[p["pupil_id"]] = (p["pickup"]["lat"], p["pickup"]["lon"])
        elif home is not None and home.fields.get("lat") is not None and home.fields.get("lon") is not None:
            points[p["pupil_id"]] = (home.fields["lat"], home.fields["lon"])
        else:
            unplaced.append({"pupil": p["pupil_id"], "reason": "no_location",
                             "detail": "no pickup point and the home has no position on the map"})
    groups = Counter((p["household_id"], p["school_id"], points.get(p["pupil_id"])) for p in pupils
                     if p["siblings_together"] and p["pupil_id"] in points)
    out_pupils = []
    for p in pupils:
        if p["pupil_id"] not in points:
            continue
        lat, lon = points[p["pupil_id"]]
        year = p.get("year_group")
        phase = ("primary" if year <= PRIMARY_YEARS else "secondary") if isinstance(year, int) else next(
            s["phase"] for s in out_schools if s["id"] == p["school_id"])
        item: dict[str, Any] = {"id": p["pupil_id"], "school": p["school_id"], "lat": lat, "lon": lon,
                                "boarding_s": p["boarding_s"], "seats": p["seats"], "wheelchair": p["wheelchair"],
                                "escort": p["escort"], "travel_alone": p["travel_alone"],
                                "max_ride_s": (p["max_ride_min"] * 60 if p.get("max_ride_min") else limits[phase])}
        if p.get("window"):
            item["window"] = dict(p["window"])
        key = (p["household_id"], p["school_id"], points[p["pupil_id"]])
        if p["siblings_together"] and groups[key] > 1:
            item["siblings"] = f"{p['household_id']}:{p['school_id']}"
        out_pupils.append(item)
    out_vehicles = [{"id": v["id"], "seats": v["seats"], "wheelchair_places": v["wheelchair_places"],
                     "escort": v["escort"], "start": {"lat": v["depot"]["lat"], "lon": v["depot"]["lon"]},
                     "available": {"from": v["available_from"], "to": v["available_to"]},
                     "day_rate": v["day_rate"], "per_km": v["per_km"]} for v in vehicles]
    return ({"run": run, "schools": out_schools, "pupils": out_pupils, "vehicles": out_vehicles,
             "ride_limits_s": limits}, unplaced)


def latest(st: AppState, day: str, run: str) -> dict[str, Any] | None:
    """The newest stored plan for the day and run: the base a re-plan keeps runs from."""
    rows = st.db.query("SELECT * FROM transport_plans WHERE date = ? AND run = ? ORDER BY created_at DESC, "
                       "rowid DESC LIMIT 1", (day, run))
    return _plan_row(rows[0]) if rows else None


def stored(st: AppState, plan_id: str) -> dict[str, Any] | None:
    rows = st.db.query("SELECT * FROM transport_plans WHERE id = ?", (plan_id,))
    return _plan_row(rows[0]) if rows else None


def _plan_row(r: dict[str, Any]) -> dict[str, Any]:
    return {**r, "problem": orjson.loads(r["problem"]), "plan": orjson.loads(r["plan"])}


def start(st: AppState, actor: Actor, device_id: str | None, body: Any) -> dict[str, Any]:
    """Check the request (422 with every problem by field) and queue the plan."""
    req, bad = check(st, body)
    fleet.raise_problems(bad)
    problem = req["problem"]
    base = latest(st, req["date"], req["run"]) if req["keep"] else None
    if base is not None:
        keep = unchanged_runs(base["problem"], base["plan"], problem)
        if keep:
            problem = {**problem, "keep_runs": keep}
    args = {"date": req["date"], "run": req["run"], "problem": problem, "unplaced": req["unplaced"],
            "base": base["id"] if base else None, "user_id": actor.user_id, "device_id": device_id,
            "time_budget_s": req["time_budget_s"]}
    job_id = jobs.submit(st.db, KIND, args, actor.user_id)
    return {"job_id": job_id, "status": "queued", "time_budget_s": req["time_budget_s"],
            "status_url": f"/api/transport/plan-jobs/{job_id}"}


def run_job(ctx: jobs.JobContext) -> dict[str, Any]:
    """Plan in a process of its own, then store the plan (once: a second attempt finds it)."""
    st = ctx.state
    assert st is not None, "county planning needs the app's state"
    found = stored(st, ctx.id)
    if found is not None:
        return {"answer": _answer(ctx.args, found["plan"], ctx.id)}
    args = ctx.args
    plan = plan_jobs.solve_apart(ctx, args["problem"], float(args["time_budget_s"]))
    problem = {k: v for k, v in args["problem"].items() if k != "keep_runs"}
    pupils = [p["id"] for p in problem["pupils"]]
    with st.db.write() as txn:
        txn.execute("INSERT OR IGNORE INTO transport_plans (id, date, run, created_at, created_by, problem, plan) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?)", (ctx.id, args["date"], args["run"], now_iso(), args["user_id"],
                                                     json.dumps(problem), json.dumps(plan)))
        audit.record(txn, args["user_id"], args.get("device_id"), "transport_county_plan", pupils,
                     {"plan": ctx.id, "base": args.get("base"), "kept_runs": plan.get("kept_runs", [])})
    return {"answer": _answer(args, plan, ctx.id)}


def _answer(args: dict[str, Any], plan: dict[str, Any], plan_id: str) -> dict[str, Any]:
    return {"plan_id": plan_id, "date": args["date"], "run": args["run"], "base_plan_id": args.get("base"),
            "plan": {**plan, "unplaced": [*args["unplaced"], *plan.get("unplaced", [])]}}


jobs.register(KIND, run_job)
