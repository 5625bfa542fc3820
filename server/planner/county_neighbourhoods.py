"""The county planner's improvement step: neighbourhoods re-planned one at a
time (large neighbourhood search by decomposition). docs/routing.md section
6.3, step 6.

On a few hundred pupils one VROOM search needs seconds to converge, and where
a timeout stops it depends on the CPU it gets. A neighbourhood (the runs
nearest a pupil's home and one idle vehicle nearby, with their pupils and the
pupils nobody has placed near there yet) is a problem of a few dozen
shipments: VROOM solves it afresh, construction and local search to the end,
in a tenth of a second, and finds arrangements the search on the whole county
stops short of. The new runs are kept only when the neighbourhood does
strictly better (more pupils, then cost, then driving); its pupils and
vehicles are the same before and after, so the whole plan does too. It never
gets worse, and every run is re-timed by the planner's own clock
(`county_search.settle`) as every VROOM run is.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence

from server.planner import county_vroom
from server.planner.budget import Budget
from server.planner.county_schedule import PICKUP, Step

RUNS = 4  # runs a neighbourhood takes: those nearest the seed pupil's home
IDLE = 1  # ... and so many idle vehicles, nearest first (a new run may be what it needs)
WAITING = 20  # ... and at most so many unplaced pupils, nearest the seed first
LEVEL = 2  # VROOM's exploration level in a neighbourhood (12 searches)
SOLVE_S = 2.0  # a neighbourhood's solve gets at most this long
MIN_LEFT_S = 0.3  # no neighbourhood with less than this left
UNPLACED_SEED = 0.7  # the seed is an unplaced pupil this often (while there are any)
PATIENCE = 50  # stop after so many neighbourhoods in a row did no better (small problems)
Key = tuple[int, float, int]


def improve(
    world,  # county_search.World: runs are judged by it
    runs: list[list[Step]],
    active: Sequence[int],
    threads: int,
    budget: Budget,
    finish: float,
    key: Callable[..., Key],
) -> list[list[Step]]:
    """Re-plan neighbourhoods while `budget` lasts (keeping back `finish`
    seconds), each kept only when it does strictly better; `key(world, runs,
    vehicles)` judges the runs of `vehicles`. Returns the runs (changed in
    place). The seeds are drawn with a fixed seed: the same problem and
    timings give the same plan."""
    import numpy as np

    from server.planner.county_search import settle  # county_search calls this module

    durations = np.asarray(world.durations, dtype=np.uint32)  # once, not each solve
    distances = np.asarray(world.distances, dtype=np.uint32)
    draw = random.Random(len(active) * 7919 + len(runs))
    vehicles = [v for v in range(len(runs)) if world.allowed[v]]
    idle_since = 0
    while budget.left(finish) >= MIN_LEFT_S and idle_since < max(PATIENCE, 4 * len(vehicles)):
        placed = {u for run in runs for kind, u in run if kind == PICKUP}
        waiting = [u for u in active if u not in placed]
        if waiting and draw.random() < UNPLACED_SEED:
            seed = draw.choice(waiting)
        elif placed:
            seed = draw.choice(sorted(placed))
        else:
            break
        chosen, units = neighbourhood(world, runs, vehicles, waiting, seed)
        if not chosen or not units:
            idle_since += 1
            continue
        timeout = min(SOLVE_S, budget.left(finish) - MIN_LEFT_S / 2)
        new, _ = county_vroom.solve(
            durations, distances, world.units, world.wagons, world.costs,
            world.allowed, units, threads, timeout, LEVEL, only=chosen,
        )  # fmt: skip
        trial = list(runs)
        for v in chosen:
            trial[v] = settle(world, v, [s for s in new[v] if s[1] in world.allowed[v]])
        if key(world, trial, chosen) < key(world, runs, chosen):
            runs[:] = trial
            idle_since = 0
        else:
            idle_since += 1
    return runs


def neighbourhood(
    world, runs: Sequence[Sequence[Step]], vehicles: Sequence[int], waiting: Sequence[int], seed: int
) -> tuple[list[int], list[int]]:
    """(vehicles, units) of the neighbourhood around unit `seed`: the RUNS
    runs that pass nearest its home (by driving time either way between
    homes), the IDLE idle vehicles that start nearest it, every unit on those
    runs and the WAITING unplaced units nearest the seed that one of those
    vehicles may take."""
    d = world.durations
    home = world.units[seed].home

    def apart(u: int) -> int:
        other = world.units[u].home
        return min(d[home][other], d[other][home])

    busy = sorted((v for v in vehicles if runs[v]),
                  key=lambda v: min(apart(u) for kind, u in runs[v] if kind == PICKUP))  # fmt: skip
    idle = sorted((v for v in vehicles if not runs[v] and seed in world.allowed[v]),
                  key=lambda v: d[world.wagons[v].start][home])  # fmt: skip
    chosen = busy[:RUNS] + idle[:IDLE]
    units = {u for v in chosen for kind, u in runs[v] if kind == PICKUP}
    near = sorted((u for u in waiting if any(u in world.allowed[v] for v in chosen)), key=apart)
    units.update(near[:WAITING])
    return chosen, sorted(units)
