from __future__ import annotations

import pytest

from server.planner import Problem, Pupil, School, Vehicle, plan
from server.planner.model import (
    DEADLINE_UNREACHABLE,
    MAX_RIDE_TIME,
    NO_VEHICLE,
    NO_VEHICLE_CAPACITY,
    NO_VEHICLE_TIME,
    PICKUP_WINDOW_UNREACHABLE,
)
from tests.planner.helpers import MIN, at, check, line_problem, random_problem


def reasons(result) -> dict[str, str]:
    return {u.pupil_id: u.reason for u in result.unplaced}


def test_one_pupil_is_collected_as_late_as_the_deadline_allows():
    problem = line_problem([("a", -10)], [("car", -20, 3)])
    result = plan(problem)
    check(problem, result)
    (route,) = result.routes
    (stop,) = route.stops
    assert route.departure == at("08:24")
    assert (stop.arrival, stop.pickup, stop.departure) == (at("08:34"), at("08:34"), at("08:35"))
    assert route.school_arrival == at("08:45")
    assert stop.ride == 10 * MIN and stop.load == 1
    assert result.solver == "vroom" and result.fallback_reason is None


def test_a_closing_window_pulls_the_run_earlier():
    problem = line_problem([("a", -10)], [("car", -20, 3)], windows={"a": ("07:50", "08:00")})
    result = plan(problem)
    check(problem, result)
    (route,) = result.routes
    assert route.stops[0].pickup == at("08:00")
    assert route.departure == at("07:50")
    assert route.school_arrival == at("08:11")


def test_waiting_for_a_window_to_open_happens_at_the_door():
    # a must board by 08:00, b not before 08:30: the car waits outside b's house.
    problem = line_problem(
        [("a", -10), ("b", -5)],
        [("car", -20, 3)],
        windows={"a": ("07:00", "08:00"), "b": ("08:30", "08:40")},
    )
    result = plan(problem)
    check(problem, result)
    (route,) = result.routes
    a, b = route.stops
    assert (a.pupil_id, b.pupil_id) == ("a", "b")
    assert a.pickup == at("08:00") and a.wait == 0
    assert b.arrival == at("08:06") and b.wait == 24 * MIN and b.pickup == at("08:30")
    assert route.school_arrival == at("08:36")
    assert a.ride == 35 * MIN and b.ride == 5 * MIN


def test_capacity_is_never_exceeded_and_the_overflow_is_reported():
    problem = line_problem(
        [("a", -5), ("b", -6), ("c", -7), ("d", -8), ("e", -9)],
        [("car", -10, 2), ("van", -10, 2)],
    )
    result = plan(problem)
    check(problem, result)
    assert all(stop.load <= 2 for route in result.routes for stop in route.stops)
    assert len(result.placed) == 4
    assert list(reasons(result).values()) == [NO_VEHICLE_CAPACITY]


def test_a_pickup_needing_more_seats_than_any_vehicle_has():
    problem = line_problem([("w", -5), ("a", -6)], [("car", -10, 2)], seats_needed={"w": 3})
    result = plan(problem)
    check(problem, result)
    assert reasons(result) == {"w": NO_VEHICLE_CAPACITY}
    assert "3 seats" in result.unplaced[0].detail


def test_every_placed_pupil_arrives_by_the_deadline():
    problem = line_problem(
        [("a", -5), ("b", -15), ("c", 12), ("d", 20), ("far", -60)],
        [("car", 0, 4), ("van", 5, 4)],
        available_from="08:00",
    )
    result = plan(problem)
    check(problem, result)
    assert all(route.school_arrival <= at("08:45") for route in result.routes)
    assert reasons(result) == {"far": DEADLINE_UNREACHABLE}
    assert "08:45" in result.unplaced[0].detail


def test_pickup_windows_are_respected():
    windows = {"a": ("08:10", "08:12"), "b": ("08:20", "08:30"), "c": ("07:00", "08:05")}
    problem = line_problem(
        [("a", -10), ("b", -12), ("c", 8)], [("car", -15, 4), ("van", 10, 4)], windows=windows
    )
    result = plan(problem)
    check(problem, result)
    assert not result.unplaced
    for route in result.routes:
        for stop in route.stops:
            start, end = windows[stop.pupil_id]
            assert at(start) <= stop.pickup <= at(end)


@pytest.mark.parametrize(
    ("window", "detail"),
    [(("07:00", "07:30"), "window closes"), (("08:40", "08:50"), "window opens")],
)
def test_a_window_no_vehicle_can_meet_is_reported(window, detail):
    problem = line_problem(
        [("a", -10)], [("car", -20, 3)], available_from="07:45", windows={"a": window}
    )
    result = plan(problem)
    check(problem, result)
    assert reasons(result) == {"a": PICKUP_WINDOW_UNREACHABLE}
    assert detail in result.unplaced[0].detail


def test_a_direct_ride_over_the_limit_is_reported():
    problem = line_problem([("a", -30)], [("car", -35, 3)], max_ride={"car": 20 * MIN})
    result = plan(problem)
    check(problem, result)
    assert reasons(result) == {"a": MAX_RIDE_TIME}
    assert "30 min" in result.unplaced[0].detail and "20 min" in result.unplaced[0].detail


def spokes(max_ride: int | None) -> Problem:
    """A and B on two spokes 10 min out; car V1 sits by A, V2 at the school.

    Without a limit V1 takes both (A rides 19 min); with a 15 min limit it may not.
    """
    m = [
        [0, 10, 10, 10, 1],
        [10, 0, 8, 2, 10],
        [10, 8, 0, 9, 10],
        [10, 2, 9, 0, 10],
        [1, 10, 10, 10, 0],
    ]
    return Problem(
        school=School(location=None, arrive_by=at("08:45")),
        pupils=(Pupil("A", None), Pupil("B", None)),
        vehicles=(
            Vehicle("V1", 4, None, at("07:00"), max_ride=max_ride),
            Vehicle("V2", 4, None, at("07:00")),
        ),
        durations=tuple(tuple(x * MIN for x in row) for row in m),
    )


def test_max_ride_time_is_repaired_when_the_fleet_allows():
    unlimited = plan(spokes(None))
    check(spokes(None), unlimited)
    assert (
        max(stop.ride for stop in unlimited.routes[0].stops) > 15 * MIN
    )  # the naive plan breaks it

    problem = spokes(15 * MIN)
    result = plan(problem)
    check(problem, result)  # includes every ride <= its vehicle's limit
    assert not result.unplaced


def test_a_pupil_whose_window_forces_a_long_ride_moves_to_another_vehicle():
    # In the car, A (window closes 08:00) would sit 35 min waiting for B's
    # window to open; the car's limit is 20 min, the van has none.
    windows = {"A": ("07:00", "08:00"), "B": ("08:30", "08:40")}
    vehicles = [("car", -20, 3), ("van", -25, 3)]
    pupils = [("A", -10), ("B", -5)]
    naive = plan(line_problem(pupils, vehicles, windows=windows))
    assert naive.placed == {"A": "car", "B": "car"}
    problem = line_problem(pupils, vehicles, windows=windows, max_ride={"car": 20 * MIN})
    result = plan(problem)
    check(problem, result)
    assert result.placed["A"] == "van" and not result.unplaced


def test_max_ride_time_that_cannot_be_repaired_is_reported():
    # One car from the west; A on the way, B past the school. Either order
    # makes the first pupil ride over 20 min, so only one can go.
    problem = line_problem([("A", -15), ("B", 3)], [("car", -20, 4)], max_ride={"car": 20 * MIN})
    result = plan(problem)
    check(problem, result)
    assert len(result.placed) == 1
    assert list(reasons(result).values()) == [MAX_RIDE_TIME]


def test_seats_but_no_time_is_reported_as_such():
    problem = line_problem([("a", -20), ("b", 20)], [("car", 0, 3)], available_from="08:00")
    result = plan(problem)
    check(problem, result)
    assert len(result.placed) == 1
    assert list(reasons(result).values()) == [NO_VEHICLE_TIME]


def test_no_vehicles_and_no_pupils():
    nobody = line_problem([], [("car", -5, 3)])
    result = plan(nobody)
    assert result.routes == () and result.idle_vehicles == ("car",)
    no_fleet = line_problem([("a", -5)], [])
    result = plan(no_fleet)
    assert reasons(result) == {"a": NO_VEHICLE}


@pytest.mark.parametrize("seed", range(6))
def test_random_problems_give_valid_plans(seed):
    problem = random_problem(seed)
    result = plan(problem)
    check(problem, result)
    assert len(result.placed) >= 1


def test_unknown_solver_is_refused():
    with pytest.raises(ValueError, match="unknown solver"):
        plan(line_problem([("a", -5)], [("car", -5, 3)]), solver="gurobi")
