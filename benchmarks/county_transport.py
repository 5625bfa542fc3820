"""County-scale pupil transport: `doorstep plan` against pyvroom alone.

    python benchmarks/county_transport.py [--sizes 150,300,600] [--budget S] [--seeds 2026,2027] [--again]

Each size is a generated county (tests/planner/county_helpers.county, fixed
seed): 150 pupils and 4 schools with 13 vehicles, 300 / 6 / 25, 600 / 8 / 50;
bells from 08:30 to 08:50, primary and secondary schools, wheelchair users,
escorts, travel-alone pupils, siblings, pickup windows; a mixed fleet of
taxis, minibuses and accessible vehicles with day rates and per-km costs.

`doorstep plan` runs as a separate process (python -m server.planner.cli,
what `doorstep plan` calls) with --time-budget; its wall time includes
starting Python. pyvroom alone is the model a user would write with pyvroom
directly: one shipment a pupil (siblings as one) with the pickup window
tightened up front from the bell and the ride limit, capacity in seats and
wheelchair places, an escort skill, vehicle windows and costs, exploration
level 5, and the same time limit as VROOM's timeout. Both plans go through
the same feasibility check (county_helpers.check_county), which reads only
the JSON and recomputes every constraint itself.

With --again pyvroom alone runs a second time ("pyvroom again"): VROOM
shares its timeout out among its searches, so under a binding timeout two
runs of the same model differ with the machine's load; the second run shows
by how much on each county.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.planner.county_helpers import _matrices, check_county, clock, county, hhmm  # noqa: E402

SIZES = {150: (4, 13), 300: (6, 25), 600: (8, 50)}  # pupils -> (schools, vehicles)
LIMITS = {"primary": 45 * 60, "secondary": 75 * 60}


def planner(problem: dict[str, Any], budget: float) -> tuple[dict[str, Any], float]:
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(problem, f)
    try:
        started = time.perf_counter()
        out = subprocess.run(
            [sys.executable, "-m", "server.planner.cli", "--problem", f.name,
             "--time-budget", str(budget)],
            cwd=ROOT, capture_output=True, text=True, check=True,
        )  # fmt: skip
        return json.loads(out.stdout), time.perf_counter() - started
    finally:
        os.unlink(f.name)


def pyvroom_alone(problem: dict[str, Any], budget: float) -> tuple[dict[str, Any], float]:
    """The straightforward pyvroom model; its answer in the plan JSON shape."""
    import vroom

    started = time.perf_counter()
    dur, dist = _matrices(problem)
    schools = {s["id"]: (k, s) for k, s in enumerate(problem["schools"])}
    first = len(problem["schools"])
    units: list[list[int]] = []
    groups: dict[str, list[int]] = {}
    for i, p in enumerate(problem["pupils"]):
        if p.get("siblings") in groups:
            groups[p["siblings"]].append(i)
        else:
            units.append([i])
            if p.get("siblings"):
                groups[p["siblings"]] = units[-1]
    inp = vroom.Input()
    inp.set_durations_matrix("car", dur)
    inp.set_distances_matrix("car", dist)
    alone = any(p.get("travel_alone") for p in problem["pupils"])
    for k, v in enumerate(problem["vehicles"]):
        inp.add_vehicle(vroom.Vehicle(
            k, start=first + len(problem["pupils"]) + k,
            capacity=[v["seats"], v.get("wheelchair_places", 0)] + ([1000] if alone else []),
            skills={1} if v.get("escort") else set(),
            time_window=vroom.TimeWindow(clock(v["available"]["from"]), clock(v["available"]["to"])),
            costs=vroom.VehicleCosts(fixed=round(v.get("day_rate", 0) * 100_000), per_hour=360,
                                     per_km=round(v.get("per_km", 0) * 100_000)),
        ))  # fmt: skip
    for u, members in enumerate(units):
        ps = [problem["pupils"][i] for i in members]
        k, school = schools[ps[0]["school"]]
        bell = clock(school["arrive_by"])
        boarding = sum(p.get("boarding_s", 60) for p in ps)
        ride = min(p.get("max_ride_s") or LIMITS[school["phase"]] for p in ps)
        opens = max(clock(p["window"]["from"]) if p.get("window") else 0 for p in ps)
        closes = min(clock(p["window"]["to"]) if p.get("window") else bell for p in ps)
        early, late = max(opens, bell - ride - boarding), min(closes, bell - boarding)
        if early > late:
            continue
        amount = [sum(p.get("seats", 0 if p.get("wheelchair") else 1) for p in ps),
                  sum(1 for p in ps if p.get("wheelchair"))]
        amount += [1000 if any(p.get("travel_alone") for p in ps) else 1] if alone else []
        inp.add_shipment(
            vroom.ShipmentStep(2 * u, first + members[0], default_service=boarding,
                               time_windows=[vroom.TimeWindow(early, late)]),
            vroom.ShipmentStep(2 * u + 1, k, time_windows=[vroom.TimeWindow(0, bell)]),
            amount=vroom.Amount(amount), skills={1} if any(p.get("escort") for p in ps) else set(),
        )  # fmt: skip
    solution = inp.solve(exploration_level=5, nb_threads=min(4, os.cpu_count() or 1),
                         timeout=dt.timedelta(seconds=budget))
    wall = time.perf_counter() - started
    return _as_plan(problem, units, solution.routes, dur, dist), wall


def _as_plan(problem: dict[str, Any], units: list[list[int]], frame: Any, dur: list[list[int]],
             dist: list[list[int]]) -> dict[str, Any]:
    """VROOM's routes (a DataFrame) as a plan in the JSON shape, times as VROOM gave them."""
    pupils, vehicles = problem["pupils"], problem["vehicles"]
    rows: dict[int, list[dict[str, Any]]] = {}
    for row in frame.to_dict("records"):
        rows.setdefault(int(row["vehicle_id"]), []).append(row)
    routes, placed = [], set()
    for k, steps in sorted(rows.items()):
        v = vehicles[k]
        stops: list[dict[str, Any]] = []
        seats = chairs = 0
        boarded: dict[str, int] = {}
        rides: dict[str, int] = {}
        for row in steps:
            if row["type"] not in ("pickup", "delivery"):
                continue
            members = units[int(row["id"]) // 2]
            ids = [pupils[i]["id"] for i in members]
            s = sum(pupils[i].get("seats", 0 if pupils[i].get("wheelchair") else 1) for i in members)
            c = sum(1 for i in members if pupils[i].get("wheelchair"))
            start = int(row["arrival"]) + int(row["waiting_time"])
            if row["type"] == "pickup":
                seats, chairs = seats + s, chairs + c
                for pid in ids:
                    boarded[pid] = start + int(row["service"])
                stops.append({"type": "pickup", "pupils": ids, "arrival": hhmm_s(int(row["arrival"])),
                              "wait_s": int(row["waiting_time"]), "pickup": hhmm_s(start),
                              "departure": hhmm_s(start + int(row["service"])),
                              "load": {"seats": seats, "wheelchair": chairs}})  # fmt: skip
                placed.update(ids)
            else:
                seats, chairs = seats - s, chairs - c
                for pid in ids:
                    rides[pid] = start - boarded[pid]
                stops.append({"type": "drop", "pupils": ids, "school": pupils[members[0]]["school"],
                              "arrival": hhmm_s(int(row["arrival"])), "wait_s": int(row["waiting_time"]),
                              "drop": hhmm_s(start), "load": {"seats": seats, "wheelchair": chairs}})  # fmt: skip
        if not stops:
            continue
        depart = int(steps[0]["arrival"])
        nodes = [len(problem["schools"]) + len(pupils) + k]
        for row in steps[1:-1]:
            nodes.append(int(row["location_index"]))
        travel = sum(dur[a][b] for a, b in zip(nodes, nodes[1:]))
        metres = sum(dist[a][b] for a, b in zip(nodes, nodes[1:]))
        routes.append({"vehicle": v["id"], "depart": hhmm_s(depart), "end": stops[-1]["drop"],
                       "travel_s": travel, "distance_m": metres,
                       "cost": round(v.get("day_rate", 0) + v.get("per_km", 0) * metres / 1000, 2),
                       "stops": stops, "ride_s": rides})  # fmt: skip
    used = {r["vehicle"] for r in routes}
    return {
        "placed": len(placed),
        "total_cost": round(sum(r["cost"] for r in routes), 2),
        "total_travel_s": sum(r["travel_s"] for r in routes),
        "total_distance_m": sum(r["distance_m"] for r in routes),
        "routes": routes,
        "unplaced": [{"pupil": p["id"], "reason": "no_vehicle_time", "detail": "left out by VROOM"}
                     for p in pupils if p["id"] not in placed],  # fmt: skip
        "idle_vehicles": [v["id"] for v in vehicles if v["id"] not in used],
    }


def hhmm_s(seconds: int) -> str:
    return f"{hhmm(seconds)}:{seconds % 60:02d}"


def feasible(problem: dict[str, Any], plan: dict[str, Any]) -> str:
    try:
        check_county(problem, plan)
    except AssertionError as exc:
        return f"NO ({exc})"[:40]
    return "yes"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="150,300,600")
    parser.add_argument("--budget", type=float, help="seconds for every size (default: the planner's default)")
    parser.add_argument("--seeds", default="2026", help="comma-separated: one county per seed and size")
    parser.add_argument("--again", action="store_true", help="run pyvroom alone twice (its own spread)")
    args = parser.parse_args()
    from server.planner.budget import default_budget

    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())} at the start", flush=True)
    print(f"{'seed':>4} {'pupils':>6} {'schools':>7} {'veh':>4} {'solver':<14} {'budget':>6} {'placed':>6} "
          f"{'cost £':>9} {'drive h':>7} {'wall s':>6}  feasible")  # fmt: skip
    print("-" * 91)
    for size in [int(s) for s in args.sizes.split(",")]:
        schools, vehicles = SIZES.get(size, (max(4, min(8, size // 75)), max(2, size // 12)))
        budget = args.budget if args.budget is not None else default_budget(size)
        for seed in [int(s) for s in args.seeds.split(",")]:
            problem = county(seed, size, schools, vehicles)
            solvers = [("doorstep plan", planner), ("pyvroom alone", pyvroom_alone)]
            solvers += [("pyvroom again", pyvroom_alone)] if args.again else []
            for name, run in solvers:
                plan, wall = run(problem, budget)
                print(f"{seed:>4} {size:>6} {schools:>7} {vehicles:>4} {name:<14} {budget:>6.1f} "
                      f"{plan['placed']:>6} {plan['total_cost']:>9.2f} {plan['total_travel_s'] / 3600:>7.2f} "
                      f"{wall:>6.1f}  {feasible(problem, plan)}", flush=True)  # fmt: skip
        print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
