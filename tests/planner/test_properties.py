"""Any problem, however awkward, gives a plan that keeps every promise."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.planner import Problem, Pupil, School, Vehicle, Window, plan
from tests.planner.helpers import check

DEADLINE = 8 * 3600 + 45 * 60


@st.composite
def problems(draw: st.DrawFn) -> Problem:
    n_pupils = draw(st.integers(0, 7))
    n_vehicles = draw(st.integers(0, 3))
    size = 1 + n_pupils + n_vehicles
    # points on a line or a grid keep the matrix a metric; zeros allowed (same address)
    points = draw(
        st.lists(
            st.tuples(st.integers(-20, 20), st.integers(-20, 20)), min_size=size, max_size=size
        )
    )
    durations = tuple(
        tuple(60 * (abs(ax - bx) + abs(ay - by)) for bx, by in points) for ax, ay in points
    )
    pupils = []
    for k in range(n_pupils):
        window = None
        if draw(st.booleans()):
            start = DEADLINE - 60 * draw(st.integers(-5, 90))
            window = Window(max(0, start), max(0, start) + 60 * draw(st.integers(0, 30)))
        pupils.append(
            Pupil(
                id=f"p{k}",
                location=None,
                boarding=draw(st.sampled_from([0, 30, 60, 120])),
                window=window,
                seats=draw(st.integers(1, 3)),
            )
        )
    vehicles = [
        Vehicle(
            id=f"v{k}",
            seats=draw(st.integers(1, 6)),
            start=None,
            available_from=DEADLINE - 60 * draw(st.integers(-5, 120)),
            max_ride=draw(st.sampled_from([None, 5 * 60, 15 * 60, 30 * 60])),
        )
        for k in range(n_vehicles)
    ]
    return Problem(
        school=School(location=None, arrive_by=DEADLINE),
        pupils=tuple(pupils),
        vehicles=tuple(vehicles),
        durations=durations,
    )


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems())
def test_vroom_plans_keep_every_promise(problem: Problem) -> None:
    check(problem, plan(problem, solver="vroom"))


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems())
def test_fallback_plans_keep_every_promise(problem: Problem) -> None:
    pytest.importorskip("pyvrp", reason="the fallback solver pyvrp is not installed")
    check(problem, plan(problem, solver="pyvrp"))
