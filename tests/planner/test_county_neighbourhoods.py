"""Re-planning neighbourhoods (docs/routing.md section 6.3, step 6): what a
neighbourhood holds, and that re-planning them only ever improves a plan and
keeps every constraint."""

from __future__ import annotations

import pytest

from server.planner import county_neighbourhoods as hood
from server.planner import county_search
from server.planner.budget import Budget
from server.planner.county import world_of
from server.planner.county_json import county_from_json
from server.planner.county_schedule import PICKUP
from tests.planner.county_helpers import county


def world(seed: int, pupils: int, schools: int, vehicles: int):
    built, unplaced = world_of(county_from_json(county(seed, pupils, schools, vehicles)))
    active = [u for u in range(len(built.units)) if u not in unplaced]
    return built, active


def placed(runs) -> set[int]:
    return {u for run in runs for kind, u in run if kind == PICKUP}


def feasible(w, runs) -> bool:
    return all(not run or w.timing(v, run) is not None for v, run in enumerate(runs))


def test_a_neighbourhood_is_the_runs_nearest_the_seed_an_idle_vehicle_and_who_waits_nearby():
    w, active = world(12, 80, 3, 10)
    runs = county_search.solves(w, active, 2, Budget(2.0), active, range(len(w.wagons)))
    waiting = [u for u in active if u not in placed(runs)]
    vehicles = [v for v in range(len(runs)) if w.allowed[v]]
    seed = sorted(placed(runs))[0]
    chosen, units = hood.neighbourhood(w, runs, vehicles, waiting, seed)
    d, home = w.durations, w.units[seed].home

    def apart(u):
        return min(d[home][w.units[u].home], d[w.units[u].home][home])

    busy = [v for v in chosen if runs[v]]
    idle = [v for v in chosen if not runs[v]]
    assert len(busy) == min(hood.RUNS, sum(1 for v in vehicles if runs[v]))
    assert len(idle) <= hood.IDLE
    assert any(seed in {u for _, u in runs[v]} for v in busy)  # the seed's own run is nearest (0 apart)
    nearest = {v: min(apart(u) for kind, u in runs[v] if kind == PICKUP) for v in vehicles if runs[v]}
    assert max(nearest[v] for v in busy) <= min([nearest[v] for v in nearest if v not in busy] or [10**9])
    on_runs = {u for v in chosen for _, u in runs[v]}
    assert on_runs <= set(units)  # every pupil of those runs
    extra = set(units) - on_runs
    assert extra <= set(waiting) and len(extra) <= hood.WAITING  # and only unplaced pupils besides


@pytest.mark.parametrize("seed", [3, 21])
def test_re_planning_neighbourhoods_places_pupils_from_nothing_and_keeps_every_constraint(seed):
    w, active = world(seed, 60, 3, 6)
    runs: list[list] = [[] for _ in w.wagons]
    out = hood.improve(w, runs, active, 2, Budget(3.0), 0.05, county_search._key)
    assert out is runs
    assert placed(runs)  # pupils placed where there were none
    assert feasible(w, runs)
    assert county_search._key(w, runs) < county_search._key(w, [[] for _ in w.wagons])


@pytest.mark.parametrize("seed", [5, 2027])
def test_re_planning_neighbourhoods_never_makes_a_plan_worse(seed):
    w, active = world(seed, 90, 3, 8)
    runs = county_search.solves(w, active, 2, Budget(1.5), active, range(len(w.wagons)))
    before = county_search._key(w, runs)
    judged = []

    def key(world, trial, vehicles=None):
        got = county_search._key(world, trial, vehicles)
        judged.append(vehicles)
        return got

    hood.improve(w, runs, active, 2, Budget(2.0), 0.05, key)
    assert judged and all(v is not None for v in judged)  # each neighbourhood judged on its own runs
    assert county_search._key(w, runs) <= before
    assert feasible(w, runs)


def test_with_no_time_left_nothing_is_re_planned():
    w, active = world(8, 40, 2, 5)
    runs = county_search.solves(w, active, 2, Budget(1.0), active, range(len(w.wagons)))
    copy = [list(run) for run in runs]
    spent = Budget(0.0)
    hood.improve(w, runs, active, 2, spent, 0.05, county_search._key)
    assert runs == copy
