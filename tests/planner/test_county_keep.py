"""Re-planning keeps unchanged runs: runs nothing changed in are fixed while still feasible, the
rest is planned around them, and every plan still passes the independent checker."""

from __future__ import annotations

import copy
from typing import Any

from server.planner import plan, plan_to_json, problem_from_json
from server.planner.county_keep import unchanged_runs
from tests.planner.county_helpers import check_county, county


def solve(problem: dict[str, Any]) -> dict[str, Any]:
    result = plan_to_json(plan(problem_from_json(copy.deepcopy(problem)), time_budget=3))
    check_county(problem, result)
    return result


def routes(result: dict[str, Any]) -> dict[str, Any]:
    return {r["vehicle"]: r for r in result["routes"]}


def test_adding_one_pupil_leaves_the_other_vehicles_runs_unchanged():
    problem = county(5, 40, 3, 8)
    first = solve(problem)
    again = copy.deepcopy(problem)
    school = problem["schools"][0]
    again["pupils"].append({"id": "NEW", "school": school["id"], "lat": school["lat"] + 0.01, "lon": school["lon"]})
    again["keep_runs"] = unchanged_runs(problem, first, again)
    assert len(again["keep_runs"]) == len(first["routes"])  # nothing else changed
    second = solve(again)
    before, after = routes(first), routes(second)
    changed = [v for v in set(before) | set(after) if before.get(v) != after.get(v)]
    assert len(changed) <= 1, changed
    assert set(second["kept_runs"]) == set(before) - set(changed)
    assert "NEW" in {p for r in second["routes"] for s in r["stops"] for p in s["pupils"]}


def test_a_run_whose_pupil_or_vehicle_changed_is_not_kept():
    problem = county(6, 30, 2, 6)
    first = solve(problem)
    [a, b, *_] = first["routes"]
    again = copy.deepcopy(problem)
    pupil = a["stops"][0]["pupils"][0]
    next(p for p in again["pupils"] if p["id"] == pupil)["boarding_s"] = 300
    next(v for v in again["vehicles"] if v["id"] == b["vehicle"])["per_km"] = 9.0
    kept = {k["vehicle"] for k in unchanged_runs(problem, first, again)}
    assert a["vehicle"] not in kept and b["vehicle"] not in kept
    assert kept == set(routes(first)) - {a["vehicle"], b["vehicle"]}
    again["ride_limits_s"] = {"primary": 3000, "secondary": 4500}
    assert unchanged_runs(problem, first, again) == []  # a shared setting changed: nothing is kept


def test_a_kept_run_that_is_no_longer_feasible_is_planned_afresh():
    problem = county(7, 30, 2, 6)
    first = solve(problem)
    route = first["routes"][0]
    again = copy.deepcopy(problem)
    again["keep_runs"] = [{"vehicle": route["vehicle"], "stops": [
        {"type": s["type"], "pupils": s["pupils"]} for s in reversed(route["stops"])]}]  # drops before pickups
    second = solve(again)
    assert route["vehicle"] not in second["kept_runs"]
    assert second["placed"] >= 1
