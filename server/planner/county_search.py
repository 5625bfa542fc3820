"""The county planner's search: VROOM at several exploration levels within
the budget, then making runs feasible, inserting who is left and naming why
someone fits nowhere. docs/routing.md section 6.3, steps 6-7."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from server.planner import county_vroom, vroom_solver
from server.planner.budget import Budget
from server.planner.county_schedule import DROP, PICKUP, RunTiming, Step, Unit, Wagon, timing
from server.planner.model import NO_VEHICLE_CAPACITY, NO_VEHICLE_TIME

SECOND_TRY_S = 0.5  # no further VROOM solve with less than this left
HEURISTIC_SHARE = 0.5  # large problems: VROOM's construction heuristics may take this share of what is left
LEVELS = (vroom_solver.EXPLORATION_LEVEL, 2, 0)  # most thorough first
Key = tuple[int, float, int]  # (-pupils placed, cost, driving): smaller is better


@dataclass(frozen=True)
class World:
    """Everything a run is judged by."""

    durations: Sequence[Sequence[int]]
    distances: Sequence[Sequence[int]]
    units: Sequence[Unit]
    wagons: Sequence[Wagon]
    costs: Sequence[tuple[float, float]]  # per vehicle: (day rate, per km), pounds
    allowed: Sequence[set[int]]  # per vehicle: the units it may take

    def timing(self, v: int, run: Sequence[Step]) -> RunTiming | None:
        if not run:
            return None
        return timing(self.durations, self.distances, self.units, self.wagons[v], run)

    def cost(self, v: int, distance: int) -> float:
        day_rate, per_km = self.costs[v]
        return day_rate + per_km * distance / 1000.0


def portfolio(world: World, active: Sequence[int], threads: int, budget: Budget) -> list[list[Step]]:
    """VROOM within the budget at the most thorough exploration level whose
    construction heuristics fit, then, while the budget allows, at the other
    levels; the best plan is kept (most pupils, then cost, then driving).

    VROOM's timeout bounds its local search, not the construction heuristic
    that starts each of its 4 x (level + 1) searches. On large problems a
    probe at level 0 with no time for local search measures what they cost
    here and now (its plan is a candidate too), and the level is the highest
    whose heuristics, scaled from the probe, take at most HEURISTIC_SHARE of
    what is left. A further solve starts only when the last one's duration,
    scaled to the next level's searches, fits in what is left."""
    best: tuple[Key, list[list[Step]]] | None = None

    def solve(level: int, timeout: float) -> float:
        """VROOM at `level`; the seconds its solve took."""
        nonlocal best
        runs, took = county_vroom.solve(
            world.durations, world.distances, world.units, world.wagons, world.costs,
            world.allowed, active, threads, timeout, level,
        )  # fmt: skip
        runs = [settle(world, v, run) for v, run in enumerate(runs)]
        key = _key(world, runs)
        if best is None or key < best[0]:
            best = (key, runs)
        return took

    first = vroom_solver.EXPLORATION_LEVEL
    if len(active) > vroom_solver.FULL_EXPLORATION_JOBS:
        probe = solve(0, 0.0)
        room = HEURISTIC_SHARE * budget.left()
        fits = [lvl for lvl in LEVELS if probe * vroom_solver.searches(lvl) / vroom_solver.searches(0) <= room]
        first = fits[0] if fits else 0
    last: tuple[int, float] | None = None  # (level, seconds it took)
    for level in dict.fromkeys([first, *LEVELS]):
        if last is not None:
            expected = last[1] * vroom_solver.searches(level) / vroom_solver.searches(last[0])
            if expected > budget.left() or budget.left() < SECOND_TRY_S:
                continue
        elif best is not None and budget.left() < SECOND_TRY_S:
            break  # the probe used the budget up
        last = (level, solve(level, budget.left()))
    assert best is not None
    return best[1]


def _key(world: World, runs: Sequence[Sequence[Step]]) -> Key:
    placed, cost, travel = 0, 0.0, 0
    for v, run in enumerate(runs):
        timed = world.timing(v, run)
        if timed is not None:
            placed += sum(len(world.units[u].members) for kind, u in run if kind == PICKUP)
            cost += world.cost(v, timed.distance)
            travel += timed.travel
    return (-placed, round(cost, 2), travel)


def settle(world: World, v: int, run: Sequence[Step]) -> list[Step]:
    """`run` made feasible by taking out as few units as it greedily can (the
    solver's runs are not taken on trust)."""
    run = list(run)
    while run and world.timing(v, run) is None:
        pickups = [u for kind, u in run if kind == PICKUP]
        for u in pickups:
            trial = [s for s in run if s[1] != u]
            if not trial or world.timing(v, trial) is not None:
                run = trial
                break
        else:
            run = [s for s in run if s[1] != pickups[-1]]
    return run


def insert(world: World, runs: list[list[Step]], u: int) -> bool:
    """Cheapest feasible insertion of unit `u` (money, then driving). In the
    morning the drop goes straight after the pickup or beside a drop at the
    same school; in the afternoon anywhere after the pickup."""
    best: tuple[tuple[float, int], int, list[Step]] | None = None
    unit = world.units[u]
    morning = unit.drop == unit.school
    for v, run in enumerate(runs):
        if u not in world.allowed[v]:
            continue
        before = world.timing(v, run)
        base = (world.cost(v, before.distance), before.travel) if before else (0.0, 0)
        for i in range(len(run) + 1):
            if morning:
                drops = {i} | {k + 1 for k in range(i, len(run)) if run[k][0] == DROP
                               and world.units[run[k][1]].drop == unit.drop}  # fmt: skip
            else:
                drops = set(range(i, len(run) + 1))
            for j in sorted(drops):
                trial = run[:i] + [(PICKUP, u)] + run[i:j] + [(DROP, u)] + run[j:]
                timed = world.timing(v, trial)
                if timed is None:
                    continue
                extra = (world.cost(v, timed.distance) - base[0], timed.travel - base[1])
                if best is None or extra < best[0]:
                    best = (extra, v, trial)
    if best is None:
        return False
    runs[best[1]] = best[2]
    return True


def left_over(world: World, runs: Sequence[Sequence[Step]], u: int) -> tuple[str, str]:
    """Why a unit some vehicle could take alone is in no run: short of room
    (every such vehicle is full at its fullest) or short of time."""
    unit = world.units[u]
    candidates = [v for v in range(len(world.wagons)) if u in world.allowed[v]]
    full = 0
    for v in candidates:
        timed = world.timing(v, runs[v])
        peak_s = max(timed.seats) if timed else 0
        peak_w = max(timed.wheelchairs) if timed else 0
        wagon = world.wagons[v]
        if peak_s + unit.seats > wagon.seats or peak_w + unit.wheelchair > wagon.wheelchair:
            full += 1
    if candidates and full == len(candidates):
        return NO_VEHICLE_CAPACITY, (
            f"every vehicle that can reach this pupil in time is full ({full} checked)"
        )
    return NO_VEHICLE_TIME, (
        "the vehicles with room cannot fit this pickup in without someone missing "
        "their bell, a pickup window or a ride limit"
    )
