"""The planner on standard routing benchmarks with published best-known solutions.

    pip install vrpsolvereasy      # ships the CVRPLIB and Solomon instance files
    python benchmarks/routing.py [--solver auto|vroom|pyvrp] [--only NAME ...] [--budget S]

The default, --solver auto, is what the office gets: VROOM, then PyVRP
improving on VROOM's plan within plan()'s time budget. Times are whole plan()
calls.

Each instance becomes a planner Problem with its own duration matrix: the
depot is the school, customers are pupils (demand = seats, service = boarding
time, time window = pickup window) and every vehicle starts at the depot.
Distances follow the literature: CVRPLIB rounds Euclidean distances to the
nearest integer (TSPLIB nint); the Solomon optima are computed on distances
truncated to one decimal, so Solomon times and distances are kept in tenths.
The 25- and 50-customer Solomon instances are the first 25 and 50 customers of
the 100-customer file, as in the literature.

Best-known values: CVRP from each file's COMMENT (the proven optima of the A,
B, E and P sets); Solomon from the exact-method literature (Kohl et al. 1999,
Kallehauge et al. 2005), distance objective.
"""

from __future__ import annotations

import argparse
import math
import os
import re
import sys
import time
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from server.planner import Problem, Pupil, School, Vehicle, Window, plan

CVRP = [
    "A-n32-k5",
    "A-n45-k6",
    "A-n53-k7",
    "A-n60-k9",
    "A-n69-k9",
    "A-n80-k10",
    "B-n50-k7",
    "B-n78-k10",
    "E-n51-k5",
    "E-n76-k10",
    "P-n76-k5",
]
SOLOMON_BKS = {  # customers -> optimal distance, one-decimal truncated distances
    "C101": {25: 191.3, 50: 362.4, 100: 827.3},
    "R101": {25: 617.1, 50: 1044.0, 100: 1637.7},
    "RC101": {25: 461.1, 50: 944.0, 100: 1619.8},
}
TARGET_STOPS, TARGET_GAP, TARGET_SECONDS = 100, 1.0, 5.0


@dataclass(frozen=True)
class Case:
    name: str
    stops: int
    bks: float
    scale: int  # matrix units per literature unit
    problem: Problem


def data_dir() -> Path:
    try:
        root = resources.files("VRPSolverEasy")
    except ModuleNotFoundError:
        sys.exit("benchmarks/routing.py needs the instance files: pip install vrpsolvereasy")
    return Path(str(root)) / "demos" / "data"


def problem_of(
    coords: list[tuple[float, float]],
    demand: list[int],
    capacity: int,
    vehicles: int,
    distance,
    service: list[int] | None = None,
    windows: list[tuple[int, int]] | None = None,
) -> Problem:
    """Node 0 is the depot (school); vehicles start at copies of it."""
    points = coords + [coords[0]] * vehicles
    durations = tuple(tuple(distance(a, b) for b in points) for a in points)
    ready, due = windows[0] if windows else (0, 10**7)
    pupils = tuple(
        Pupil(
            id=str(i),
            location=None,
            boarding=service[i] if service else 0,
            window=Window(*windows[i]) if windows else None,
            seats=demand[i],
        )
        for i in range(1, len(coords))
    )
    return Problem(
        school=School(location=None, arrive_by=due),
        pupils=pupils,
        vehicles=tuple(
            Vehicle(id=f"v{k}", seats=capacity, start=None, available_from=ready)
            for k in range(vehicles)
        ),
        durations=durations,
    )


def nint(a: tuple[float, float], b: tuple[float, float]) -> int:
    return int(math.hypot(a[0] - b[0], a[1] - b[1]) + 0.5)


def tenths_truncated(a: tuple[float, float], b: tuple[float, float]) -> int:
    return int(math.hypot(a[0] - b[0], a[1] - b[1]) * 10 + 1e-9)


def cvrp_case(path: Path) -> Case:
    text = path.read_text(encoding="utf-8")
    header = {
        k.strip(): v.strip()
        for k, v in re.findall(r"^\s*([A-Z_]+)\s*:\s*(.*)$", text, re.MULTILINE)
    }
    bks = float(re.search(r"(?:Optimal|Best) value:\s*(\d+)", header["COMMENT"])[1])
    trucks = int(re.search(r"trucks:\s*(\d+)", header["COMMENT"])[1])
    size = int(header["DIMENSION"])

    def section(name: str) -> list[str]:
        return text.split(name, 1)[1].split("\n", 1)[1].splitlines()[:size]

    coords_lines, demand_lines = section("NODE_COORD_SECTION"), section("DEMAND_SECTION")
    coords = [(float(x), float(y)) for _, x, y in (line.split() for line in coords_lines)]
    demand = [int(d) for _, d in (line.split() for line in demand_lines)]
    problem = problem_of(coords, demand, int(header["CAPACITY"]), trucks, nint)
    return Case(path.stem, size - 1, bks, 1, problem)


def solomon_case(path: Path, customers: int) -> Case:
    lines = path.read_text(encoding="utf-8").splitlines()
    fleet, capacity = (int(x) for x in lines[4].split())
    rows = [[float(x) for x in line.split()] for line in lines[9:] if line.strip()]
    rows = rows[: customers + 1]
    coords = [(r[1], r[2]) for r in rows]
    problem = problem_of(
        coords,
        [int(r[3]) for r in rows],
        capacity,
        fleet,
        tenths_truncated,
        service=[int(r[6] * 10) for r in rows],
        windows=[(int(r[4] * 10), int(r[5] * 10)) for r in rows],
    )
    name = path.stem if customers == 100 else f"{path.stem}.{customers}"
    return Case(name, customers, SOLOMON_BKS[path.stem][customers], 10, problem)


def cases() -> list[Case]:
    root = data_dir()
    found = [cvrp_case(root / "CVRP" / f"{name}.vrp") for name in CVRP]
    for name, sizes in SOLOMON_BKS.items():
        found += [solomon_case(root / "CVRPTW" / f"{name}.txt", n) for n in sizes]
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--solver", default="auto", choices=["auto", "vroom", "pyvrp"])
    parser.add_argument("--only", nargs="*", help="instance names to run")
    parser.add_argument("--budget", type=float, help="plan()'s time budget, s (default: sized to the problem)")
    args = parser.parse_args(argv)

    header = f"{'instance':<12} {'n':>4} {'BKS':>8} {'cost':>8} {'gap %':>6} {'time s':>6}  solver"
    print(header)
    print("-" * len(header))
    met = total = 0
    for case in cases():
        if args.only and case.name not in args.only:
            continue
        started = time.perf_counter()
        result = plan(case.problem, solver=args.solver, time_budget=args.budget)
        seconds = time.perf_counter() - started
        cost = result.total_travel / case.scale
        gap = 100.0 * (cost - case.bks) / case.bks
        missing = f"  ({len(result.unplaced)} unplaced)" if result.unplaced else ""
        print(
            f"{case.name:<12} {case.stops:>4} {case.bks:>8.1f} {cost:>8.1f} {gap:>6.2f} "
            f"{seconds:>6.2f}  {result.solver}{missing}"
        )
        if case.stops <= TARGET_STOPS:
            total += 1
            met += gap <= TARGET_GAP and seconds < TARGET_SECONDS and not result.unplaced
    print(
        f"\ntarget (n <= {TARGET_STOPS}: gap <= {TARGET_GAP}% and < {TARGET_SECONDS} s, "
        f"all placed): met on {met} of {total}"
    )
    print("load average (1, 5, 15 min): " + ", ".join(f"{x:.2f}" for x in os.getloadavg()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
