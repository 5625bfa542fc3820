"""Small hand-checkable problems and an independent plan checker."""

from __future__ import annotations

import random
from collections.abc import Sequence

from server.planner import REASONS, Plan, Problem, Pupil, School, Vehicle, Window
from server.planner.durations import duration_matrix

MIN = 60
EIGHT = 8 * 3600


def at(hh_mm: str) -> int:
    hours, minutes = hh_mm.split(":")
    return int(hours) * 3600 + int(minutes) * 60


def line_problem(
    pupils: Sequence[tuple[str, float]],
    vehicles: Sequence[tuple[str, float, int]],
    *,
    arrive_by: str = "08:45",
    available_from: str = "07:00",
    boarding: int = MIN,
    windows: dict[str, tuple[str, str]] | None = None,
    max_ride: dict[str, int] | None = None,
    seats_needed: dict[str, int] | None = None,
) -> Problem:
    """Everything on one road: positions in minutes from the school (at 0).

    pupils: (id, position); vehicles: (id, position, seats).
    """
    windows = windows or {}
    max_ride = max_ride or {}
    seats_needed = seats_needed or {}
    positions = [0.0] + [p for _, p in pupils] + [p for _, p, _ in vehicles]
    durations = tuple(tuple(round(abs(a - b) * MIN) for b in positions) for a in positions)
    return Problem(
        school=School(location=None, arrive_by=at(arrive_by)),
        pupils=tuple(
            Pupil(
                id=pid,
                location=None,
                boarding=boarding,
                window=Window(at(windows[pid][0]), at(windows[pid][1])) if pid in windows else None,
                seats=seats_needed.get(pid, 1),
            )
            for pid, _ in pupils
        ),
        vehicles=tuple(
            Vehicle(
                id=vid,
                seats=seats,
                start=None,
                available_from=at(available_from),
                max_ride=max_ride.get(vid),
            )
            for vid, _, seats in vehicles
        ),
        durations=durations,
    )


def random_problem(seed: int, pupils: int = 10, vehicles: int = 3) -> Problem:
    """Random points on a 20 x 20 minute grid, windows and ride limits sprinkled in."""
    rng = random.Random(seed)
    points = [(0.0, 0.0)] + [
        (rng.uniform(-10, 10), rng.uniform(-10, 10)) for _ in range(pupils + vehicles)
    ]
    durations = tuple(
        tuple(round(((ax - bx) ** 2 + (ay - by) ** 2) ** 0.5 * MIN) for bx, by in points)
        for ax, ay in points
    )
    deadline = at("08:45")
    pupil_list = []
    for k in range(pupils):
        window = None
        if rng.random() < 0.3:
            start = deadline - rng.randint(15, 50) * MIN
            window = Window(start, start + rng.randint(3, 15) * MIN)
        pupil_list.append(
            Pupil(id=f"p{k}", location=None, boarding=rng.choice([30, 60, 90]), window=window)
        )
    vehicle_list = [
        Vehicle(
            id=f"v{k}",
            seats=rng.randint(2, 5),
            start=None,
            available_from=deadline - rng.randint(20, 70) * MIN,
            max_ride=rng.choice([None, None, 15 * MIN, 25 * MIN]),
        )
        for k in range(vehicles)
    ]
    return Problem(
        school=School(location=None, arrive_by=deadline),
        pupils=tuple(pupil_list),
        vehicles=tuple(vehicle_list),
        durations=durations,
    )


def check(problem: Problem, plan: Plan) -> None:
    """Assert every promise the plan makes, recomputed from the problem alone."""
    d = duration_matrix(problem)
    pupil_index = {p.id: i for i, p in enumerate(problem.pupils)}
    vehicle_index = {v.id: k for k, v in enumerate(problem.vehicles)}
    deadline = problem.school.arrive_by

    placed = [stop.pupil_id for route in plan.routes for stop in route.stops]
    unplaced = [u.pupil_id for u in plan.unplaced]
    assert sorted(placed + unplaced) == sorted(pupil_index), "each pupil exactly once"
    assert all(u.reason in REASONS and u.detail for u in plan.unplaced)
    used = {route.vehicle_id for route in plan.routes}
    assert len(used) == len(plan.routes)
    assert sorted(used | set(plan.idle_vehicles)) == sorted(vehicle_index)

    for route in plan.routes:
        k = vehicle_index[route.vehicle_id]
        vehicle = problem.vehicles[k]
        node = 1 + len(problem.pupils) + k
        clock = route.departure
        assert clock >= vehicle.available_from
        load = travel = 0
        for stop in route.stops:
            i = pupil_index[stop.pupil_id]
            pupil = problem.pupils[i]
            travel += d[node][1 + i]
            assert stop.arrival == clock + d[node][1 + i]
            assert stop.wait == stop.pickup - stop.arrival >= 0
            if pupil.window is not None:
                assert pupil.window.start <= stop.pickup <= pupil.window.end
            assert stop.departure == stop.pickup + pupil.boarding
            load += pupil.seats
            assert stop.load == load <= vehicle.seats, "capacity"
            clock, node = stop.departure, 1 + i
        travel += d[node][0]
        assert route.school_arrival == clock + d[node][0]
        assert route.school_arrival <= deadline, "deadline"
        assert route.travel == travel
        for stop in route.stops:
            assert stop.ride == route.school_arrival - stop.departure
            if vehicle.max_ride is not None:
                assert stop.ride <= vehicle.max_ride, "max ride"
