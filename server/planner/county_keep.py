"""Re-planning keeps unchanged runs (docs/routing.md section 6.5).

`unchanged_runs(old_problem, old_plan, new_problem)` names, in the plan's own
JSON form, the runs of an earlier plan whose vehicle, pupils, schools and
planning settings are all the same in the new problem: the new problem's
`keep_runs`. `kept_steps` turns those runs into steps for `plan_county`, which
fixes each one that is still feasible (re-timed and checked like any other
run) and plans only the rest.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from server.planner.county_model import CountyProblem
from server.planner.county_schedule import DROP, PICKUP, Step, Unit

# what, at the top of a problem, changes every run when it changes
SHARED = ("ride_limits_s", "detour_factor", "speed_kmh", "run")


def unchanged_runs(
    old_problem: Mapping[str, Any], old_plan: Mapping[str, Any], new_problem: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """The runs of `old_plan` nothing of which changed in `new_problem`: the same vehicle
    (every field), the same pupils (every field) going to the same schools (every field),
    the same shared settings. Problems with their own matrices keep nothing (a matrix
    row belongs to a position, not to a pupil)."""
    if any(p.get("durations_s") is not None for p in (old_problem, new_problem)):
        return []
    if any(old_problem.get(k) != new_problem.get(k) for k in SHARED):
        return []

    def index(problem: Mapping[str, Any], key: str) -> dict[str, Any]:
        return {item["id"]: item for item in problem.get(key) or []}

    old = {k: index(old_problem, k) for k in ("schools", "pupils", "vehicles")}
    new = {k: index(new_problem, k) for k in ("schools", "pupils", "vehicles")}
    keep = []
    for route in old_plan.get("routes") or []:
        vehicle = route.get("vehicle")
        if vehicle not in new["vehicles"] or old["vehicles"].get(vehicle) != new["vehicles"][vehicle]:
            continue
        pupils = {p for stop in route.get("stops") or [] for p in stop.get("pupils") or []}
        same = all(
            p in new["pupils"] and old["pupils"].get(p) == new["pupils"][p]
            and old["schools"].get(new["pupils"][p]["school"]) == new["schools"].get(new["pupils"][p]["school"])
            for p in pupils
        )  # fmt: skip
        if pupils and same:
            keep.append({"vehicle": vehicle, "stops": [{"type": s["type"], "pupils": list(s["pupils"])}
                                                       for s in route["stops"]]})  # fmt: skip
    return keep


def kept_steps(problem: CountyProblem, units: Sequence[Unit]) -> dict[int, list[Step]]:
    """Vehicle index -> the steps of its kept run, for each run of `problem.keep` that
    names a vehicle and whole units of this problem (siblings still grouped as before),
    each unit once. Feasibility is the caller's to check."""
    vehicles = {v.id: k for k, v in enumerate(problem.vehicles)}
    pupil_index = {p.id: k for k, p in enumerate(problem.pupils)}
    unit_of = {i: u for u, unit in enumerate(units) for i in unit.members}
    taken: set[int] = set()
    out: dict[int, list[Step]] = {}
    for vehicle, stops in problem.keep:
        v = vehicles.get(vehicle)
        if v is None or v in out:
            continue
        steps: list[Step] = []
        ok = True
        for kind, pupils in stops:
            members = [pupil_index.get(p) for p in pupils]
            if any(i is None for i in members):
                ok = False
                break
            here = list(dict.fromkeys(unit_of[i] for i in members if i is not None))
            if {i for u in here for i in units[u].members} != set(members):
                ok = False  # a sibling group split or joined since
                break
            steps += [(PICKUP if kind == "pickup" else DROP, u) for u in here]
        run_units = {u for _, u in steps}
        if ok and steps and not run_units & taken:
            taken |= run_units
            out[v] = steps
    return out
