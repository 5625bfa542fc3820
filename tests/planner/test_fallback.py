from __future__ import annotations

import sys

import pytest

from server.planner import SolverUnavailable, plan
from tests.planner.helpers import MIN, check, line_problem, random_problem
from tests.planner.test_planner import spokes


@pytest.fixture
def pyvrp():
    """The fallback solver; skipped (not failed) where pyvrp is not installed."""
    return pytest.importorskip("pyvrp", reason="the fallback solver pyvrp is not installed")


@pytest.fixture
def no_pyvroom(monkeypatch):
    """Make `import vroom` fail as it would where the wheel is missing."""
    monkeypatch.setitem(sys.modules, "vroom", None)


def test_auto_falls_back_to_pyvrp_when_pyvroom_is_unavailable(pyvrp, no_pyvroom):
    problem = random_problem(3)
    result = plan(problem)
    check(problem, result)
    assert result.solver == "pyvrp"
    assert result.solver_version
    assert "pyvroom unavailable" in (result.fallback_reason or "")


def test_fallback_can_be_chosen_explicitly(pyvrp):
    problem = line_problem([("a", -10), ("b", -5)], [("car", -20, 3)])
    result = plan(problem, solver="fallback")
    check(problem, result)
    assert result.solver == "pyvrp" and result.fallback_reason is None
    assert [stop.pupil_id for stop in result.routes[0].stops] == ["a", "b"]


@pytest.mark.parametrize("seed", range(4))
def test_fallback_gives_valid_plans(pyvrp, seed):
    problem = random_problem(seed)
    result = plan(problem, solver="pyvrp")
    check(problem, result)
    assert len(result.placed) >= 1


def test_fallback_repairs_max_ride_time_too(pyvrp):
    problem = spokes(15 * MIN)
    result = plan(problem, solver="pyvrp")
    check(problem, result)
    assert not result.unplaced


def test_fallback_keeps_vehicle_restrictions(pyvrp):
    # Only the van may carry `far` (a 30 min ride; the car's limit is 20).
    problem = line_problem(
        [("far", -30), ("near", -5)],
        [("car", -31, 3), ("van", 1, 3)],
        max_ride={"car": 20 * MIN},
    )
    result = plan(problem, solver="pyvrp")
    check(problem, result)
    assert result.placed["far"] == "van"


def test_asking_for_vroom_without_it_fails_loudly(no_pyvroom):
    with pytest.raises(SolverUnavailable, match="pyvroom"):
        plan(line_problem([("a", -5)], [("car", -5, 3)]), solver="vroom")


def test_no_solver_at_all(no_pyvroom, monkeypatch):
    monkeypatch.setitem(sys.modules, "pyvrp", None)
    with pytest.raises(SolverUnavailable, match="no routing solver"):
        plan(line_problem([("a", -5)], [("car", -5, 3)]))
