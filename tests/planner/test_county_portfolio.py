"""The county portfolio (docs/routing.md section 6.3, step 6): rounds of VROOM
searches on the plain model pyvroom alone would be given, each round's
searches with time to finish; every later solve and the insertion are kept
only when they do better, so the plan is never worse than the first round."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from server.planner import county_search, county_vroom, plan, plan_to_json, problem_from_json
from server.planner import vroom_solver
from server.planner.county_search import ALL_SEARCHES, next_round
from tests.planner.county_helpers import check_county, clock, county, hhmm

pytest.importorskip("vroom", reason="pyvroom is not installed")
BENCHMARK = Path(__file__).resolve().parents[2] / "benchmarks" / "county_transport.py"


def pyvroom_alone():
    """The benchmark's pyvroom-alone model, the baseline of issue 20's target."""
    spec = importlib.util.spec_from_file_location("county_transport", BENCHMARK)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.pyvroom_alone


@pytest.mark.parametrize("seed", [3, 11, 2027])
def test_the_plan_is_never_worse_than_its_first_round(monkeypatch, seed):
    keys, calls = [], []
    real_key, real_solve = county_search._key, county_vroom.solve

    def solve(*args, **kwargs):
        calls.append((args[-1], kwargs.get("plain") is not None, kwargs.get("initial") is not None))
        return real_solve(*args, **kwargs)

    def key(world, runs, vehicles=None):
        got = real_key(world, runs, vehicles)
        if vehicles is None:  # the whole plan (a neighbourhood's key judges only its runs)
            keys.append(got)
        return got

    monkeypatch.setattr(county_vroom, "solve", solve)
    monkeypatch.setattr(county_search, "_key", key)
    problem = county(seed, 60, 3, 5)  # a short fleet: not everyone fits
    result = plan_to_json(plan(problem_from_json(problem), time_budget=3.0))
    check_county(problem, result)
    assert calls[0] == (5, True, False)  # the first round: plain model, depth 5
    main_placed, main_cost = -keys[0][0], keys[0][1]
    assert result["placed"] >= main_placed
    if result["placed"] == main_placed:
        assert result["total_cost"] <= main_cost + 0.01


@pytest.mark.parametrize("seed", [4, 8])
def test_a_small_county_does_at_least_as_well_as_pyvroom_alone(seed):
    # Small enough that VROOM ends its search long before the timeout: the
    # plain member then is pyvroom alone's run, and the rest only adds.
    problem = county(seed, 40, 3, 4)
    alone, _ = pyvroom_alone()(problem, 4.0)
    result = plan_to_json(plan(problem_from_json(problem), time_budget=4.0))
    check_county(problem, alone)
    check_county(problem, result)
    assert result["placed"] >= alone["placed"]
    if result["placed"] == alone["placed"]:
        assert result["total_cost"] <= alone["total_cost"] + 0.01


def test_vroom_runs_32_searches_at_level_5():
    # VROOM's utils::get_nb_searches: 4 x (level + 1), 4 more from level 4, 4 more at 5
    assert [vroom_solver.searches(level) for level in range(6)] == [4, 8, 12, 16, 24, 32]
    assert ALL_SEARCHES == 32


def test_rounds_start_with_16_searches_and_run_only_searches_that_fit():
    assert next_round(2, 28.0, 0.0, []) == (16, True)  # 8 a thread, VROOM's own order
    assert next_round(4, 28.0, 0.0, []) == (32, True)
    assert next_round(2, 0.9, 0.0, []) == (8, True)  # a short budget: at most half of it for overruns
    first = [(16, True)]
    assert next_round(2, 20.0, 0.5, first) == (32, True)  # all 32 fit: pyvroom alone's run, time to finish
    assert next_round(2, 20.0, 0.5, first + [(32, True)]) == (2, False)  # then shuffled, one a thread
    assert next_round(2, 20.0, 0.5, first + [(32, True), (2, False)]) == (4, False)  # twice as many
    assert next_round(2, 5.5, 2.0, first + [(8, False)]) == (4, False)  # as many as fit at 2.6 s each
    assert next_round(2, 5.0, 4.5, first) == (2, False)  # the last round: merely what one took (+ 0.1 s)
    assert next_round(2, 5.0, 7.0, first) is None  # not even one a thread fits


def test_rounds_use_the_planners_model_when_the_plain_one_leaves_pupils_out(monkeypatch):
    problem = county(21, 40, 3, 5)
    primary = {s["id"]: s for s in problem["schools"] if s["phase"] == "primary"}
    pupil = next(p for p in problem["pupils"] if p["school"] in primary and not p.get("siblings"))
    bell = clock(primary[pupil["school"]]["arrive_by"])
    # boarding must start 80-100 minutes before the bell: too early for a
    # 45-minute ride to end at the bell, so the plain model leaves the pupil out
    pupil["window"] = {"from": hhmm(bell - 100 * 60), "to": hhmm(bell - 80 * 60)}
    calls = []
    real = county_vroom.solve

    def solve(*args, **kwargs):
        calls.append((kwargs.get("plain") is not None, kwargs.get("searches")))
        return real(*args, **kwargs)

    monkeypatch.setattr(county_vroom, "solve", solve)
    result = plan_to_json(plan(problem_from_json(problem), time_budget=2.0))
    check_county(problem, result)
    assert calls and all(not plain for plain, searches in calls if searches is not None)
