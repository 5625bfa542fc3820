"""The JSON forms of a problem and a plan (docs/routing.md documents both)."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from server.planner.county_model import CountyPlan, CountyProblem
from server.planner.model import (
    DEFAULT_BOARDING_S,
    DEFAULT_DETOUR_FACTOR,
    DEFAULT_SPEED_KMH,
    Location,
    Plan,
    Problem,
    ProblemError,
    Pupil,
    Route,
    School,
    Vehicle,
    Window,
)

T = TypeVar("T")
_CLOCK = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?$")


def problem_from_json(
    data: str | bytes | Mapping[str, Any], ride_limits: Mapping[str, int] | None = None
) -> Problem | CountyProblem:
    """A Problem from JSON text or an already-parsed object; ProblemError if
    invalid. With `schools` (a list) it is a CountyProblem (section 6), whose
    ride limits default to `ride_limits` (phase -> seconds) when given."""
    if isinstance(data, (str, bytes)):
        try:
            data = json.loads(data)
        except json.JSONDecodeError as exc:
            raise ProblemError(f"not valid JSON: {exc}") from exc
    top = _object(data, "problem")
    if "schools" in top:
        from server.planner.county_json import county_from_json

        return county_from_json(top, ride_limits)
    _keys(
        top,
        "problem",
        {"school", "pupils", "vehicles"},
        {"detour_factor", "speed_kmh", "durations_s"},
    )
    school = _school(_object(top["school"], "school"))
    pupils = [
        _pupil(_object(p, f"pupils[{k}]"), f"pupils[{k}]")
        for k, p in enumerate(_list(top["pupils"], "pupils"))
    ]
    vehicles = [
        _vehicle(_object(v, f"vehicles[{k}]"), f"vehicles[{k}]")
        for k, v in enumerate(_list(top["vehicles"], "vehicles"))
    ]
    durations = None
    if top.get("durations_s") is not None:
        rows = _list(top["durations_s"], "durations_s")
        durations = tuple(
            tuple(
                _seconds(x, f"durations_s[{i}][{j}]")
                for j, x in enumerate(_list(row, f"durations_s[{i}]"))
            )
            for i, row in enumerate(rows)
        )
    return Problem(
        school=school,
        pupils=tuple(pupils),
        vehicles=tuple(vehicles),
        detour_factor=_number(top.get("detour_factor", DEFAULT_DETOUR_FACTOR), "detour_factor"),
        speed_kmh=_number(top.get("speed_kmh", DEFAULT_SPEED_KMH), "speed_kmh"),
        durations=durations,
    )


def plan_to_json(plan: Plan | CountyPlan) -> dict[str, Any]:
    """The plan as a JSON-ready dict."""
    if isinstance(plan, CountyPlan):
        from server.planner.county_json import county_plan_to_json

        return county_plan_to_json(plan)
    return {
        "solver": plan.solver,
        "solver_version": plan.solver_version,
        "fallback_reason": plan.fallback_reason,
        "solve_seconds": plan.solve_seconds,
        "deadline": format_clock(plan.deadline),
        "total_travel_s": plan.total_travel,
        "routes": [_route(route) for route in plan.routes],
        "unplaced": [
            {"pupil": u.pupil_id, "reason": u.reason, "detail": u.detail} for u in plan.unplaced
        ],
        "idle_vehicles": list(plan.idle_vehicles),
    }


def format_clock(seconds: int) -> str:
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}"


def parse_clock(value: Any, path: str) -> int:
    """ "HH:MM", "HH:MM:SS" or whole seconds since midnight."""
    if isinstance(value, str):
        match = _CLOCK.match(value.strip())
        if match:
            hours, minutes, secs = int(match[1]), int(match[2]), int(match[3] or 0)
            if hours < 24 and minutes < 60 and secs < 60:
                return hours * 3600 + minutes * 60 + secs
        raise ProblemError(f'{path}: {value!r} is not a time of day like "08:45" or "08:45:30"')
    return _seconds(value, path)


def _route(route: Route) -> dict[str, Any]:
    return {
        "vehicle": route.vehicle_id,
        "depart": format_clock(route.departure),
        "school_arrival": format_clock(route.school_arrival),
        "travel_s": route.travel,
        "stops": [
            {
                "pupil": stop.pupil_id,
                "arrival": format_clock(stop.arrival),
                "wait_s": stop.wait,
                "pickup": format_clock(stop.pickup),
                "departure": format_clock(stop.departure),
                "load": stop.load,
                "ride_s": stop.ride,
            }
            for stop in route.stops
        ],
    }


def _school(obj: Mapping[str, Any]) -> School:
    _keys(obj, "school", {"arrive_by"}, {"lat", "lon", "name"})
    name = obj.get("name", "")
    if not isinstance(name, str):
        raise ProblemError("school.name must be a string")
    return School(
        location=_location(obj, "school"),
        arrive_by=parse_clock(obj["arrive_by"], "school.arrive_by"),
        name=name,
    )


def _pupil(obj: Mapping[str, Any], path: str) -> Pupil:
    _keys(obj, path, {"id"}, {"lat", "lon", "boarding_s", "window", "seats"})
    window = None
    if obj.get("window") is not None:
        w = _object(obj["window"], f"{path}.window")
        _keys(w, f"{path}.window", {"from", "to"}, set())
        start = parse_clock(w["from"], f"{path}.window.from")
        end = parse_clock(w["to"], f"{path}.window.to")
        window = _wrap(lambda: Window(start, end), f"{path}.window")
    return Pupil(
        id=_identifier(obj["id"], f"{path}.id"),
        location=_location(obj, path),
        boarding=_seconds(obj.get("boarding_s", DEFAULT_BOARDING_S), f"{path}.boarding_s"),
        window=window,
        seats=_seconds(obj.get("seats", 1), f"{path}.seats"),
    )


def _vehicle(obj: Mapping[str, Any], path: str) -> Vehicle:
    _keys(obj, path, {"id", "seats", "available_from"}, {"start", "max_ride_s"})
    start = None
    if obj.get("start") is not None:
        s = _object(obj["start"], f"{path}.start")
        _keys(s, f"{path}.start", {"lat", "lon"}, set())
        start = _location(s, f"{path}.start")
    max_ride = obj.get("max_ride_s")
    return Vehicle(
        id=_identifier(obj["id"], f"{path}.id"),
        seats=_seconds(obj["seats"], f"{path}.seats"),
        start=start,
        available_from=parse_clock(obj["available_from"], f"{path}.available_from"),
        max_ride=None if max_ride is None else _seconds(max_ride, f"{path}.max_ride_s"),
    )


def _location(obj: Mapping[str, Any], path: str) -> Location | None:
    has_lat, has_lon = obj.get("lat") is not None, obj.get("lon") is not None
    if not has_lat and not has_lon:
        return None
    if has_lat != has_lon:
        raise ProblemError(f"{path}: give both lat and lon, or neither")
    lat, lon = _number(obj["lat"], f"{path}.lat"), _number(obj["lon"], f"{path}.lon")
    return _wrap(lambda: Location(lat, lon), path)


def _wrap(make: Callable[[], T], path: str) -> T:
    try:
        return make()
    except ProblemError as exc:
        raise ProblemError(f"{path}: {exc}") from exc


def _object(value: Any, path: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ProblemError(f"{path} must be a JSON object")
    return value


def _list(value: Any, path: str) -> list[Any]:
    if not isinstance(value, list):
        raise ProblemError(f"{path} must be a JSON array")
    return value


def _keys(obj: Mapping[str, Any], path: str, required: set[str], optional: set[str]) -> None:
    missing = sorted(required - obj.keys())
    if missing:
        raise ProblemError(f"{path}: missing {', '.join(missing)}")
    unknown = sorted(obj.keys() - required - optional)
    if unknown:
        raise ProblemError(f"{path}: unknown field {', '.join(unknown)}")


def _identifier(value: Any, path: str) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int)) or value == "":
        raise ProblemError(f"{path} must be a non-empty string")
    return str(value)


def _seconds(value: Any, path: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ProblemError(f"{path} must be a whole number >= 0")
    return value


def _number(value: Any, path: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ProblemError(f"{path} must be a number")
    return float(value)
