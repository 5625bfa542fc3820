"""The county portfolio starts from the plain VROOM run pyvroom alone would be
(docs/routing.md section 6.3, step 6): every later solve and the insertion
are kept only when they do better, so the plan is never worse than that run."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from server.planner import county_search, county_vroom, plan, plan_to_json, problem_from_json
from tests.planner.county_helpers import check_county, county

pytest.importorskip("vroom", reason="pyvroom is not installed")
BENCHMARK = Path(__file__).resolve().parents[2] / "benchmarks" / "county_transport.py"


def pyvroom_alone():
    """The benchmark's pyvroom-alone model, the baseline of issue 20's target."""
    spec = importlib.util.spec_from_file_location("county_transport", BENCHMARK)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.pyvroom_alone


@pytest.mark.parametrize("seed", [3, 11, 2027])
def test_the_plan_is_never_worse_than_its_main_member(monkeypatch, seed):
    keys, calls = [], []
    real_key, real_solve = county_search._key, county_vroom.solve

    def solve(*args, **kwargs):
        calls.append((args[-1], kwargs.get("plain") is not None, kwargs.get("initial") is not None))
        return real_solve(*args, **kwargs)

    def key(world, runs):
        keys.append(real_key(world, runs))
        return keys[-1]

    monkeypatch.setattr(county_vroom, "solve", solve)
    monkeypatch.setattr(county_search, "_key", key)
    problem = county(seed, 60, 3, 5)  # a short fleet: not everyone fits
    result = plan_to_json(plan(problem_from_json(problem), time_budget=3.0))
    check_county(problem, result)
    assert calls[0] == (5, True, False)  # the main member: plain model, level 5
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
