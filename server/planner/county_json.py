"""The JSON forms of a county problem and plan (docs/routing.md section 6).

A problem with `schools` (a list) is a county problem; one with `school` is
the single-school form of sections 1-2, unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from server.planner import jsonio as j
from server.planner.county_model import (
    DEFAULT_RIDE_LIMITS_S,
    MORNING,
    RUNS,
    PHASES,
    SECONDARY,
    CountyPlan,
    CountyProblem,
    CountyPupil,
    CountyRoute,
    CountySchool,
    CountyVehicle,
)
from server.planner.model import (
    DEFAULT_BOARDING_S,
    DEFAULT_DETOUR_FACTOR,
    DEFAULT_SPEED_KMH,
    ProblemError,
    Window,
)

END_OF_DAY = 24 * 3600 - 1


def county_from_json(
    top: Mapping[str, Any], ride_limits: Mapping[str, int] | None = None
) -> CountyProblem:
    """A CountyProblem from a parsed object; `ride_limits` (phase -> seconds)
    are the defaults where the problem gives none (the server's settings)."""
    j._keys(
        top,
        "problem",
        {"schools", "pupils", "vehicles"},
        {"ride_limits_s", "detour_factor", "speed_kmh", "durations_s", "distances_m", "run", "keep_runs"},
    )
    run = top.get("run", MORNING)
    if run not in RUNS:
        raise ProblemError('run must be "morning" or "afternoon"')
    limits = dict(ride_limits or DEFAULT_RIDE_LIMITS_S)
    if top.get("ride_limits_s") is not None:
        given = j._object(top["ride_limits_s"], "ride_limits_s")
        j._keys(given, "ride_limits_s", set(), set(PHASES))
        limits.update({k: j._seconds(v, f"ride_limits_s.{k}") for k, v in given.items()})
    return CountyProblem(
        schools=tuple(
            _school(j._object(s, f"schools[{k}]"), f"schools[{k}]")
            for k, s in enumerate(j._list(top["schools"], "schools"))
        ),
        pupils=tuple(
            _pupil(j._object(p, f"pupils[{k}]"), f"pupils[{k}]")
            for k, p in enumerate(j._list(top["pupils"], "pupils"))
        ),
        vehicles=tuple(
            _vehicle(j._object(v, f"vehicles[{k}]"), f"vehicles[{k}]")
            for k, v in enumerate(j._list(top["vehicles"], "vehicles"))
        ),
        ride_limits=tuple(limits.items()),
        run=run,
        detour_factor=j._number(top.get("detour_factor", DEFAULT_DETOUR_FACTOR), "detour_factor"),
        speed_kmh=j._number(top.get("speed_kmh", DEFAULT_SPEED_KMH), "speed_kmh"),
        durations=_matrix(top, "durations_s"),
        distances=_matrix(top, "distances_m"),
        keep=_keep(top.get("keep_runs")),
    )


def county_plan_to_json(plan: CountyPlan) -> dict[str, Any]:
    return {
        "format": "county",
        "solver": plan.solver,
        "solver_version": plan.solver_version,
        "solve_seconds": plan.solve_seconds,
        "time_budget_s": plan.time_budget,
        "placed": len(plan.placed),
        "total_cost": plan.total_cost,
        "total_travel_s": plan.total_travel,
        "total_distance_m": plan.total_distance,
        "routes": [_route(route) for route in plan.routes],
        "unplaced": [
            {"pupil": u.pupil_id, "reason": u.reason, "detail": u.detail} for u in plan.unplaced
        ],
        "idle_vehicles": list(plan.idle_vehicles),
        "kept_runs": list(plan.kept),
    }


def _keep(value: Any) -> tuple[tuple[str, tuple[tuple[str, tuple[str, ...]], ...]], ...]:
    """`keep_runs`: runs in the plan's own form (`vehicle`, `stops[]` with `type` and `pupils`)."""
    if value is None:
        return ()
    out = []
    for k, run in enumerate(j._list(value, "keep_runs")):
        path = f"keep_runs[{k}]"
        run = j._object(run, path)
        j._keys(run, path, {"vehicle", "stops"}, set())
        stops = []
        for n, stop in enumerate(j._list(run["stops"], f"{path}.stops")):
            where = f"{path}.stops[{n}]"
            stop = j._object(stop, where)
            j._keys(stop, where, {"type", "pupils"}, {"school"})
            if stop["type"] not in ("pickup", "drop"):
                raise ProblemError(f'{where}.type must be "pickup" or "drop"')
            pupils = tuple(j._identifier(p, f"{where}.pupils") for p in j._list(stop["pupils"], f"{where}.pupils"))
            stops.append((stop["type"], pupils))
        out.append((j._identifier(run["vehicle"], f"{path}.vehicle"), tuple(stops)))
    return tuple(out)


def _route(route: CountyRoute) -> dict[str, Any]:
    stops = []
    for stop in route.stops:
        out: dict[str, Any] = {"type": stop.kind, "pupils": list(stop.pupils)}
        if stop.place:
            out["school"] = stop.place
        out["arrival"] = j.format_clock(stop.arrival)
        out["wait_s"] = stop.start - stop.arrival
        if stop.kind == "pickup":
            out["pickup"] = j.format_clock(stop.start)
            out["departure"] = j.format_clock(stop.departure)
        else:
            out["drop"] = j.format_clock(stop.start)
        out["load"] = {"seats": stop.load.seats, "wheelchair": stop.load.wheelchair}
        stops.append(out)
    return {
        "vehicle": route.vehicle_id,
        "depart": j.format_clock(route.departure),
        "end": j.format_clock(route.end),
        "travel_s": route.travel,
        "distance_m": route.distance,
        "cost": route.cost,
        "stops": stops,
        "ride_s": dict(route.rides),
    }


def _matrix(top: Mapping[str, Any], name: str) -> tuple[tuple[int, ...], ...] | None:
    if top.get(name) is None:
        return None
    return tuple(
        tuple(j._seconds(x, f"{name}[{r}][{c}]") for c, x in enumerate(j._list(row, f"{name}[{r}]")))
        for r, row in enumerate(j._list(top[name], name))
    )


def _flag(obj: Mapping[str, Any], key: str, path: str) -> bool:
    value = obj.get(key, False)
    if not isinstance(value, bool):
        raise ProblemError(f"{path}.{key} must be true or false")
    return value


def _text(obj: Mapping[str, Any], key: str, path: str, default: str = "") -> str:
    value = obj.get(key, default)
    if not isinstance(value, str):
        raise ProblemError(f"{path}.{key} must be a string")
    return value


def _school(obj: Mapping[str, Any], path: str) -> CountySchool:
    j._keys(obj, path, {"id"}, {"arrive_by", "lat", "lon", "name", "phase", "leaves_at"})
    leaves, bell = obj.get("leaves_at"), obj.get("arrive_by")
    return CountySchool(
        id=j._identifier(obj["id"], f"{path}.id"),
        location=j._location(obj, path),
        arrive_by=None if bell is None else j.parse_clock(bell, f"{path}.arrive_by"),
        leaves_at=None if leaves is None else j.parse_clock(leaves, f"{path}.leaves_at"),
        phase=_text(obj, "phase", path, SECONDARY),
        name=_text(obj, "name", path),
    )


def _pupil(obj: Mapping[str, Any], path: str) -> CountyPupil:
    j._keys(
        obj,
        path,
        {"id", "school"},
        {"lat", "lon", "boarding_s", "window", "seats", "wheelchair", "escort", "travel_alone",
         "siblings", "max_ride_s"},
    )  # fmt: skip
    window = None
    if obj.get("window") is not None:
        w = j._object(obj["window"], f"{path}.window")
        j._keys(w, f"{path}.window", {"from", "to"}, set())
        start = j.parse_clock(w["from"], f"{path}.window.from")
        end = j.parse_clock(w["to"], f"{path}.window.to")
        window = j._wrap(lambda: Window(start, end), f"{path}.window")
    wheelchair = _flag(obj, "wheelchair", path)
    siblings = obj.get("siblings")
    max_ride = obj.get("max_ride_s")
    return CountyPupil(
        id=j._identifier(obj["id"], f"{path}.id"),
        school=j._identifier(obj["school"], f"{path}.school"),
        location=j._location(obj, path),
        boarding=j._seconds(obj.get("boarding_s", DEFAULT_BOARDING_S), f"{path}.boarding_s"),
        window=window,
        seats=j._seconds(obj.get("seats", 0 if wheelchair else 1), f"{path}.seats"),
        wheelchair=wheelchair,
        escort=_flag(obj, "escort", path),
        travel_alone=_flag(obj, "travel_alone", path),
        siblings=None if siblings is None else j._identifier(siblings, f"{path}.siblings"),
        max_ride=None if max_ride is None else j._seconds(max_ride, f"{path}.max_ride_s"),
    )


def _vehicle(obj: Mapping[str, Any], path: str) -> CountyVehicle:
    j._keys(
        obj,
        path,
        {"id", "seats", "available"},
        {"start", "wheelchair_places", "escort", "day_rate", "per_km"},
    )
    start = None
    if obj.get("start") is not None:
        s = j._object(obj["start"], f"{path}.start")
        j._keys(s, f"{path}.start", {"lat", "lon"}, set())
        start = j._location(s, f"{path}.start")
    window = j._object(obj["available"], f"{path}.available")
    j._keys(window, f"{path}.available", {"from"}, {"to"})
    return CountyVehicle(
        id=j._identifier(obj["id"], f"{path}.id"),
        seats=j._seconds(obj["seats"], f"{path}.seats"),
        start=start,
        available_from=j.parse_clock(window["from"], f"{path}.available.from"),
        available_to=j.parse_clock(window.get("to", END_OF_DAY), f"{path}.available.to"),
        wheelchair_places=j._seconds(obj.get("wheelchair_places", 0), f"{path}.wheelchair_places"),
        escort=_flag(obj, "escort", path),
        day_rate=_money(obj, "day_rate", path),
        per_km=_money(obj, "per_km", path),
    )


def _money(obj: Mapping[str, Any], key: str, path: str) -> float:
    value = j._number(obj.get(key, 0), f"{path}.{key}")
    if not 0 <= value <= 10_000:
        raise ProblemError(f"{path}.{key} must be from 0 to 10000 pounds")
    return value
