"""The county planner's search: rounds of VROOM searches that each get time
enough to finish, on the plain model pyvroom alone would be given, then,
within half the budget, VROOM searching on from the best plan on the
planner's own model and that model at several exploration levels (each kept
only when better); then neighbourhoods re-planned with the rest
(county_neighbourhoods); making runs feasible, inserting who is left and
naming why someone fits nowhere. docs/routing.md section 6.3, steps 6-7."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from server.planner import county_neighbourhoods, county_vroom, vroom_solver
from server.planner.budget import RESERVE_S, Budget
from server.planner.county_schedule import DROP, PICKUP, RunTiming, Step, Unit, Wagon, timing
from server.planner.model import NO_VEHICLE_CAPACITY, NO_VEHICLE_TIME

SECOND_TRY_S = 0.5  # no further VROOM solve with less than this left
LEVELS = (vroom_solver.EXPLORATION_LEVEL, 2, 0)  # most thorough first
ALL_SEARCHES = vroom_solver.searches(vroom_solver.EXPLORATION_LEVEL)  # 32
MAX_ROUNDS = 8  # rounds of searches at most (small problems finish them in well under the budget)
SLOT_MARGIN = 1.25  # a round's searches each get at least this times what one took in the last round
FIRST_PER_THREAD = 8  # the first round: this many searches a thread (16 on 2 cores)
GROWTH = 2  # ... and there are at most this many times as many as in the last round
# The rounds keep back only this share of the budget (at least RESERVE_S)
# for checking the runs and building the plan (0.6 s at 600 pupils), not
# the whole reserve: pyvroom alone's timeout is the whole budget.
FINISH_SHARE = 0.02
# VROOM gives each search its share of the timeout from the search's own start
# and looks at the clock only between steps, so each search a thread runs
# may end a little late and the lateness adds up: a round's timeout is what
# is left less this much for each search a thread runs.
OVERRUN_S = 0.1
# The rounds (and what follows them on the whole county) stop by this share of
# the budget; re-planning neighbourhoods (county_neighbourhoods) gets the rest.
ROUNDS_SHARE = 0.5
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


def next_round(
    threads: int, left: float, slot: float, done: Sequence[tuple[int, bool]]
) -> tuple[int, bool] | None:
    """The next round of searches, (how many, in VROOM's own order?), or None
    when not even one a thread fits. `left`: seconds left; `slot`: what a
    search took in the last round; `done`: the rounds so far.

    The first round runs FIRST_PER_THREAD searches a thread in VROOM's own
    order (fewer on a budget under 1.6 s). Later rounds run only searches
    that fit when each may take SLOT_MARGIN x `slot` plus OVERRUN_S (the
    last round, once, merely `slot` plus OVERRUN_S): all 32 in VROOM's own
    order (pyvroom alone's run, with time to finish) the first time they
    fit, otherwise shuffled, one a thread in the first shuffled round and
    at most GROWTH times as many as the shuffled round before."""
    threads = max(1, threads)
    if not done:  # and on a short budget at most half of it for OVERRUN_S
        per_thread = min(FIRST_PER_THREAD, max(1, int(left / (2 * OVERRUN_S))))
        return min(ALL_SEARCHES, per_thread * threads), True
    slot = max(slot, 1e-3)
    fit = threads * int(left / (SLOT_MARGIN * slot + OVERRUN_S))
    fit = fit or (threads if left >= slot + OVERRUN_S else 0)  # the last round: merely `slot`
    if not fit:
        return None
    if fit >= ALL_SEARCHES and (ALL_SEARCHES, True) not in done:
        return ALL_SEARCHES, True
    shuffled = [n for n, own in done if not own]
    return min(fit, ALL_SEARCHES, GROWTH * shuffled[-1] if shuffled else threads), False


def portfolio(
    world: World,
    active: Sequence[int],
    threads: int,
    budget: Budget,
    everyone: Sequence[int] = (),
    vehicles: Sequence[int] = (),
    on_first: Callable[[list[list[Step]]], None] | None = None,
) -> list[list[Step]]:
    """The plan's runs within the budget: the best of several VROOM solves of
    the whole county (`solves`) by ROUNDS_SHARE of it (given to `on_first`,
    a copy, as soon as they are done), then neighbourhoods re-planned one at
    a time while the rest lasts, each kept only when better
    (county_neighbourhoods.improve)."""
    runs = solves(world, active, threads, Budget(budget.seconds * ROUNDS_SHARE, budget.started),
                  everyone, vehicles)  # fmt: skip
    if on_first is not None:
        on_first([list(run) for run in runs])
    finish = max(RESERVE_S, FINISH_SHARE * budget.seconds)
    return county_neighbourhoods.improve(world, runs, active, threads, budget, finish, _key)


def solves(
    world: World,
    active: Sequence[int],
    threads: int,
    budget: Budget,
    everyone: Sequence[int] = (),
    vehicles: Sequence[int] = (),
) -> list[list[Step]]:
    """The best of several VROOM solves within the budget (most pupils, then
    cost, then driving); each is kept only when strictly better than the
    best so far.

    Rounds first, on the plain model (what pyvroom alone is given: every
    unit in `everyone`, every vehicle in `vehicles`, none barred), the local
    search at depth 5 (`next_round` says how many searches each). VROOM
    shares its timeout out equally among the searches a thread runs, so
    pyvroom alone at level 5 (32 searches, 16 a thread on 2 cores) stops
    most of them before they converge on a few hundred pupils, and where it
    stops them depends on the machine's load. The first round runs VROOM's
    first 16 searches (8 a thread), each with twice pyvroom alone's share;
    later rounds run only searches that fit, all 32 in VROOM's own order
    (pyvroom alone's run, with time to finish) the first time they do, else
    with the vehicles and shipments shuffled (the same model: VROOM's
    heuristics break ties by that order, so it is a different start), while
    time lasts, at most MAX_ROUNDS. Each round's timeout is what is left
    less FINISH_SHARE of the budget to finish the plan with and OVERRUN_S
    for each search a thread runs. When the plain model would leave out
    pupils the planner's model has (a window closing before the ride could
    start from the bell), the rounds run on the planner's model instead.

    With what is left, VROOM searches on from the best plan so far on the
    planner's own model (vehicles barred up front, `active` units only, the
    best plan's runs as initial routes), then that model runs at levels 5,
    2 and 0, a further solve starting only when the last one's duration,
    scaled to its number of searches, fits in what is left; when one of
    them did better, VROOM searches on from that."""
    best: tuple[Key, list[list[Step]]] | None = None

    def solve(
        level: int, timeout: float, plain: bool = False, initial: Sequence[Sequence[Step]] | None = None,
        searches: int | None = None, order: int = 0,
    ) -> float:  # fmt: skip
        """VROOM at `level`; the seconds its solve took."""
        nonlocal best
        runs, took = county_vroom.solve(
            world.durations, world.distances, world.units, world.wagons, world.costs,
            world.allowed, everyone if plain else active, threads, timeout, level,
            plain=vehicles if plain else None, initial=initial, searches=searches, order=order,
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

    top = vroom_solver.EXPLORATION_LEVEL
    finish = max(RESERVE_S, FINISH_SHARE * budget.seconds)
    # The planner's own model when it has pupils the plain model leaves out
    plain = all(county_vroom.in_plain(world.units[u]) for u in active)
    done: list[tuple[int, bool]] = []  # the rounds so far: (searches, in VROOM's own order?)
    slot = 0.0  # seconds a search took in the last round
    for number in range(MAX_ROUNDS):
        left = budget.left(finish)
        step = next_round(threads, left, slot, done)
        if step is None or (done and left < SECOND_TRY_S):
            break
        searches, own = step
        per_thread = math.ceil(searches / max(1, threads))
        timeout = max(0.0, left - OVERRUN_S * per_thread)
        took = solve(top, timeout, plain=plain, searches=searches, order=0 if own else number)
        done.append(step)
        if took <= 0.0:
            break  # nothing for VROOM to place
        slot = took / per_thread
    last = (done[-1][0], slot) if done else None
    searched = best[0] if best is not None else None
    search_on()
    for level in LEVELS:
        if budget.left() < SECOND_TRY_S:
            break
        if last is not None:
            expected = last[1] * vroom_solver.searches(level) / max(1, threads)
            if expected > budget.left():
                continue
        took = solve(level, budget.left())
        searches = vroom_solver.searches(level)
        last = (searches, took / math.ceil(searches / max(1, threads)))
    assert best is not None  # the first round always runs (with no time: heuristics only)
    if best[0] != searched:
        search_on()
    return best[1]


def _key(world: World, runs: Sequence[Sequence[Step]], vehicles: Sequence[int] | None = None) -> Key:
    """How good the runs (of `vehicles`; None: all) are: smaller is better."""
    placed, cost, travel = 0, 0.0, 0
    for v in range(len(runs)) if vehicles is None else vehicles:
        run = runs[v]
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
