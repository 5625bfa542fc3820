"""The county planner's search: the plain VROOM run pyvroom alone would be,
then, within the budget, VROOM searching on from the best plan and the
planner's own model at several exploration levels (each kept only when
better); making runs feasible, inserting who is left and naming why someone
fits nowhere. docs/routing.md section 6.3, steps 6-7."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from server.planner import county_vroom, vroom_solver
from server.planner.budget import RESERVE_S, Budget, default_budget
from server.planner.county_schedule import DROP, PICKUP, RunTiming, Step, Unit, Wagon, timing
from server.planner.model import NO_VEHICLE_CAPACITY, NO_VEHICLE_TIME

SECOND_TRY_S = 0.5  # no further VROOM solve with less than this left
HEURISTIC_SHARE = 0.5  # large problems: VROOM's construction heuristics may take this share of what is left
LEVELS = (vroom_solver.EXPLORATION_LEVEL, 2, 0)  # most thorough first
# The main member keeps back only this share of the budget (at least RESERVE_S)
# for checking its runs and building the plan (0.3 s at 600 pupils), not the
# whole reserve: pyvroom alone's timeout is the whole budget.
FINISH_SHARE = 0.01
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


def portfolio(
    world: World,
    active: Sequence[int],
    threads: int,
    budget: Budget,
    everyone: Sequence[int] = (),
    vehicles: Sequence[int] = (),
) -> list[list[Step]]:
    """The best of several VROOM solves within the budget (most pupils, then
    cost, then driving), the first of them the main member, every later one
    kept only when strictly better, so the plan is never worse than the main
    member's.

    The main member is the plain model (what pyvroom alone is given: every
    unit in `everyone`, every vehicle in `vehicles`, none barred) at
    exploration level 5 with what is left as its timeout, less only
    FINISH_SHARE of the budget to finish the plan with: the plan
    starts from what pyvroom alone reaches in the same time. VROOM's local
    search often ends before its timeout; with what is left, VROOM searches
    on from the best plan so far on the planner's own model (vehicles barred
    up front, `active` units only, the best plan's runs as initial routes),
    then that model runs at levels 5, 2 and 0, a further solve starting only
    when the last one's duration, scaled to its number of searches, fits in
    what is left; when one of them did better, VROOM searches on from that.

    VROOM's timeout bounds its local search, not the construction heuristic
    that starts each of its 4 x (level + 1) searches. When the budget is
    shorter than the default for the size on a problem of more than
    FULL_EXPLORATION_JOBS units, a probe at level 0 with no time for local
    search measures what they cost here and now (its plan is a candidate
    too); the first solve is then at the highest level whose heuristics,
    scaled from the probe, take at most HEURISTIC_SHARE of what is left."""
    best: tuple[Key, list[list[Step]]] | None = None

    def solve(level: int, timeout: float, plain: bool = False, initial: Sequence[Sequence[Step]] | None = None) -> float:
        """VROOM at `level`; the seconds its solve took."""
        nonlocal best
        runs, took = county_vroom.solve(
            world.durations, world.distances, world.units, world.wagons, world.costs,
            world.allowed, everyone if plain else active, threads, timeout, level,
            plain=vehicles if plain else None, initial=initial,
        )  # fmt: skip
        runs = [settle(world, v, [s for s in run if s[1] in world.allowed[v]]) for v, run in enumerate(runs)]
        key = _key(world, runs)
        if best is None or key < best[0]:
            best = (key, runs)
        return took

    def search_on() -> None:
        """VROOM's search from the best plan so far, again while it improves."""
        while best is not None and budget.left() >= SECOND_TRY_S:
            before = best[0]
            try:
                solve(0, budget.left(), initial=best[1])
            except county_vroom.RouteRefused:  # VROOM judged a run infeasible: keep what we have
                return
            if not best[0] < before:
                return

    last: tuple[int, float] | None = None  # (level, seconds it took)
    first = vroom_solver.EXPLORATION_LEVEL
    pupils = sum(len(unit.members) for unit in world.units)
    if len(active) <= vroom_solver.FULL_EXPLORATION_JOBS or budget.seconds >= default_budget(pupils):
        finish = max(RESERVE_S, FINISH_SHARE * budget.seconds)
        last = (first, solve(first, budget.left(finish), plain=True))
        search_on()
    else:
        probe = solve(0, 0.0)
        room = HEURISTIC_SHARE * budget.left()
        fits = [lvl for lvl in LEVELS if probe * vroom_solver.searches(lvl) / vroom_solver.searches(0) <= room]
        first = fits[0] if fits else 0
    searched = best[0] if best is not None else None
    for level in dict.fromkeys([first, *LEVELS]):
        if last is not None:
            expected = last[1] * vroom_solver.searches(level) / vroom_solver.searches(last[0])
            if expected > budget.left() or budget.left() < SECOND_TRY_S:
                continue
        elif best is not None and budget.left() < SECOND_TRY_S:
            break  # the probe used the budget up
        last = (level, solve(level, budget.left()))
    assert best is not None
    if best[0] != searched:
        search_on()
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
