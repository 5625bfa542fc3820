"""Hard time limits: every solver call gets at most what is left of the plan's budget."""

from __future__ import annotations

import time

import pytest

from server.planner import (
    county_neighbourhoods,
    county_search,
    county_vroom,
    fallback_solver,
    plan,
    plan_to_json,
    problem_from_json,
    vroom_solver,
)
from server.planner.budget import MAX_BUDGET_S, RESERVE_S, VROOM_SHARE, Budget, default_budget
from server.planner.county import plan_county
from tests.planner.county_helpers import check_county, county
from tests.planner.helpers import check, random_problem


def test_the_default_budget_grows_with_the_problem_and_is_capped():
    assert default_budget(0) == default_budget(50) == 1.6
    assert default_budget(100) == pytest.approx(4.1)
    assert default_budget(300) > default_budget(150) > default_budget(100)
    assert default_budget(10_000) == MAX_BUDGET_S


def test_a_budget_keeps_a_reserve_and_refuses_nonsense():
    budget = Budget(10.0)
    assert 0 < budget.left() <= 10.0 - budget.reserve
    assert Budget(0).left() == 0
    for bad in (-1, float("nan")):
        with pytest.raises(ValueError):
            Budget(bad)
    with pytest.raises(ValueError):
        plan(random_problem(1), time_budget=-1)


@pytest.fixture
def vroom_timeouts(monkeypatch):
    seen: list[float | None] = []
    real = vroom_solver.solve

    def solve(instance, threads, timeout=None):
        seen.append(timeout)
        return real(instance, threads, timeout=timeout)

    monkeypatch.setattr(vroom_solver, "solve", solve)
    return seen


@pytest.mark.parametrize("solver, share", [("auto", VROOM_SHARE), ("vroom", 1.0)])
def test_vroom_and_every_repair_round_get_what_is_left(vroom_timeouts, solver, share):
    # seed 3 has ride limits to repair: more than one VROOM call
    problem = random_problem(3, pupils=14, vehicles=3)
    result = plan(problem, solver=solver, time_budget=2.0)
    check(problem, result)
    first, *repairs = vroom_timeouts
    assert first is not None and 0 < first <= share * 2.0
    assert all(t is not None and 0 <= t <= 2.0 for t in repairs)
    assert repairs == sorted(repairs, reverse=True)  # what is left only shrinks


def test_pyvrp_alone_gets_the_budget_too(monkeypatch):
    pytest.importorskip("pyvrp")
    seen = []
    real = fallback_solver.solve

    def solve(instance, threads, **kwargs):
        seen.append(kwargs)
        return real(instance, threads, **kwargs)

    monkeypatch.setattr(fallback_solver, "solve", solve)
    problem = random_problem(2, pupils=10, vehicles=3)
    check(problem, plan(problem, solver="pyvrp", time_budget=1.5))
    assert seen and all(0 <= call["timeout"] <= 1.5 for call in seen)


def test_the_county_solve_gets_the_budget_less_the_reserve(monkeypatch):
    seen = []
    real = county_vroom.solve

    def solve(*args, **kwargs):
        seen.append((*args[-2:], kwargs.get("plain") is not None, kwargs.get("initial") is not None,
                     kwargs.get("searches"), kwargs.get("only")))  # fmt: skip
        called.append(time.perf_counter())
        return real(*args, **kwargs)

    called: list[float] = []
    monkeypatch.setattr(county_vroom, "solve", solve)
    problem = county(5, 30, 3, 5)
    started = time.perf_counter()
    result = plan(problem_from_json(problem), time_budget=2.5)
    timeouts = [call[0] for call in seen]
    assert seen[0][1:4] == (vroom_solver.EXPLORATION_LEVEL, True, False)  # the first round: the plain model
    whole = [call for call in seen if call[5] is None]  # solves of the whole county
    parts = [call for call in seen if call[5] is not None]  # neighbourhoods
    assert seen[: len(whole)] == whole and parts  # the whole county first, then neighbourhoods
    rounds_until = county_search.ROUNDS_SHARE * 2.5
    finish = max(RESERVE_S, county_search.FINISH_SHARE * rounds_until)
    rounds = [call for call in whole if call[4] is not None]
    assert all(0 < timeout <= rounds_until - finish for timeout, *_ in rounds)  # what is left, less enough to finish
    others = whole[len(rounds):]
    assert all(call[4] is None for call in others)  # the rounds come first
    assert all(0 < timeout <= rounds_until - Budget(rounds_until).reserve for timeout, *_ in others)
    assert all(timeout <= 2.5 - (at - started) for timeout, at in zip(timeouts, called))  # only what is left
    barred = [level for _, level, plain, initial, _, _ in others if not plain and not initial]
    assert len(set(barred)) == len(barred)  # each level of the barred model once at most
    size = county_neighbourhoods.RUNS + county_neighbourhoods.IDLE
    assert all(timeout <= county_neighbourhoods.SOLVE_S and level == county_neighbourhoods.LEVEL
               and 0 < len(only) <= size for timeout, level, _, _, _, only in parts)  # fmt: skip
    assert result.time_budget == 2.5


@pytest.mark.slow
def test_a_big_single_school_plan_stops_at_its_budget():
    # 200 pupils with windows and ride limits: VROOM alone ran for minutes on such problems.
    problem = random_problem(7, pupils=200, vehicles=20)
    started = time.perf_counter()
    result = plan(problem, time_budget=4.0)
    elapsed = time.perf_counter() - started
    check(problem, result)
    assert elapsed < 4.0 + 3.0  # a generous margin: the machine is shared


@pytest.mark.slow
def test_a_big_county_plan_stops_at_its_budget():
    problem = county(6, 300, 6, 25)
    started = time.perf_counter()
    result = plan(problem_from_json(problem), time_budget=5.0)
    elapsed = time.perf_counter() - started

    check_county(problem, plan_to_json(result))
    assert elapsed < 5.0 + 3.0


def test_a_large_county_plans_in_rounds_that_each_fit_what_is_left(monkeypatch):
    seen = []
    real = county_vroom.solve

    def solve(*args, **kwargs):
        out = real(*args, **kwargs)
        seen.append((args[-2], kwargs.get("searches"), kwargs.get("order")))
        return out

    monkeypatch.setattr(county_vroom, "solve", solve)
    problem = county(9, 140, 4, 12)  # more than 120 units
    result = plan_county(problem_from_json(problem), time_budget=4.0, threads=2)
    rounds = [call for call in seen if call[1] is not None]
    assert rounds[0][1:] == (16, 0)  # 8 searches a thread, in VROOM's own order
    assert all(0 < timeout <= 4.0 - RESERVE_S for timeout, *_ in seen)
    starts = [(searches, order) for _, searches, order in rounds]
    assert len(set(starts)) == len(starts)  # every round a different start
    shuffled = [searches for _, searches, order in rounds if order]
    assert all(later <= 2 * before for before, later in zip(shuffled, shuffled[1:]))
    check_county(problem, plan_to_json(result))
