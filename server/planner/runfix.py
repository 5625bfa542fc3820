"""Runs made and kept feasible for the single-school planner: settling a solver's
run, the ride-limit violations of a plan, the cheapest insertion of a
pupil, and a timed run as a Route (docs/routing.md section 3, steps 4-6)."""

from __future__ import annotations

from server.planner import ridetime
from server.planner.instance import RoutingInstance
from server.planner.model import Problem, Route, Stop
from server.planner.schedule import Timing, schedule


def settle(instance: RoutingInstance, vehicle: int, order: list[int]) -> list[int]:
    """`order` made feasible by dropping as few stops as it greedily can.

    The solvers' own routes are feasible; this guards against a solver that
    hands back an infeasible one and against dropping a stop from a run whose
    durations break the triangle inequality.
    """
    order = list(order)
    while order and schedule(instance, vehicle, order) is None:
        for k in range(len(order)):
            trial = order[:k] + order[k + 1 :]
            if not trial or schedule(instance, vehicle, trial) is not None:
                order = trial
                break
        else:
            order = order[:-1]
    return order


def violations(
    instance: RoutingInstance, orders: list[list[int]], max_ride: list[int | None]
) -> list[tuple[int, int]]:
    """(pupil, vehicle) for every ride over its vehicle's limit."""
    broken: list[tuple[int, int]] = []
    for v, order in enumerate(orders):
        timing = schedule(instance, v, order) if order else None
        if timing is not None:
            broken += [(i, v) for i in ridetime.violations(instance, order, timing, max_ride[v])]
    return broken


def insert(
    instance: RoutingInstance, orders: list[list[int]], pupil: int, max_ride: list[int | None]
) -> bool:
    """Cheapest feasible insertion of `pupil` into some run; False if none."""
    best: tuple[int, int, int] | None = None  # (extra travel, vehicle, position)
    for v, order in enumerate(orders):
        if pupil not in instance.allowed[v]:
            continue
        before = schedule(instance, v, order) if order else None
        base = before.travel if before else 0
        for k in range(len(order) + 1):
            trial = order[:k] + [pupil] + order[k:]
            timing = schedule(instance, v, trial)
            if timing is None or ridetime.violations(instance, trial, timing, max_ride[v]):
                continue
            extra = timing.travel - base
            if best is None or extra < best[0]:
                best = (extra, v, k)
    if best is None:
        return False
    _, v, k = best
    orders[v].insert(k, pupil)
    return True


def route(
    vehicle_id: str, order: list[int], timing: Timing, instance: RoutingInstance, problem: Problem
) -> Route:
    stops = []
    for k, i in enumerate(order):
        job = instance.jobs[i]
        stops.append(
            Stop(
                pupil_id=problem.pupils[i].id,
                arrival=timing.arrivals[k],
                wait=timing.pickups[k] - timing.arrivals[k],
                pickup=timing.pickups[k],
                departure=timing.pickups[k] + job.service,
                load=timing.loads[k],
                ride=timing.ride(k, job.service),
            )
        )
    return Route(
        vehicle_id=vehicle_id,
        departure=timing.departure,
        stops=tuple(stops),
        school_arrival=timing.school_arrival,
        travel=timing.travel,
    )
