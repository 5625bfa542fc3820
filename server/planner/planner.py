"""plan(problem) -> Plan: the school-run planner.

Steps: durations; each pupil tried alone in each vehicle (what no vehicle can
take alone is reported at once); the solver; timing every run as late as its
slack allows; the maximum-ride repair rounds; re-inserting anything left over
where a run has room; reasons for the rest. docs/routing.md has the detail.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from types import ModuleType

from server.planner import diagnose, fallback_solver, ridetime, vroom_solver
from server.planner.durations import duration_matrix
from server.planner.instance import Fleet, Job, RoutingInstance, SolverUnavailable
from server.planner.model import Plan, Problem, Route, Stop, Unplaced
from server.planner.schedule import Timing, schedule

SOLVER_CHOICES = ("auto", "vroom", "pyvrp", "fallback")
REPAIR_ROUNDS = 3


def plan(problem: Problem, *, solver: str = "auto", threads: int | None = None) -> Plan:
    """Plan the run.

    `solver`: "auto" (VROOM, or PyVRP when pyvroom cannot be imported),
    "vroom", or "pyvrp" / "fallback". Raises SolverUnavailable when no chosen
    solver can be imported and ValueError for an unknown choice.
    """
    started = time.perf_counter()
    candidates = _candidates(solver)
    threads = threads or min(4, os.cpu_count() or 1)
    matrix = duration_matrix(problem)
    deadline = problem.school.arrive_by
    pupils, vehicles = problem.pupils, problem.vehicles
    jobs = [
        Job(
            node=1 + i,
            service=pupil.boarding,
            seats=pupil.seats,
            early=pupil.window.start if pupil.window else 0,
            late=pupil.window.end if pupil.window else deadline,
        )
        for i, pupil in enumerate(pupils)
    ]
    fleets = tuple(
        Fleet(start=1 + len(pupils) + v, seats=vehicle.seats, available_from=vehicle.available_from)
        for v, vehicle in enumerate(vehicles)
    )
    max_ride = [vehicle.max_ride for vehicle in vehicles]

    def instance(allowed: Sequence[set[int]]) -> RoutingInstance:
        return RoutingInstance(
            durations=matrix,
            school=0,
            deadline=deadline,
            jobs=tuple(jobs),
            vehicles=fleets,
            allowed=tuple(frozenset(a) for a in allowed),
        )

    # Each pupil alone in each vehicle.
    everyone = instance([set(range(len(pupils)))] * len(vehicles))
    allowed: list[set[int]] = [set() for _ in vehicles]
    unplaced: dict[int, Unplaced] = {}
    for i, pupil in enumerate(pupils):
        tries = [
            diagnose.alone(everyone, jobs[i], v, max_ride[v], f"vehicle {vehicles[v].id}")
            for v in range(len(vehicles))
        ]
        for v, attempt in enumerate(tries):
            if attempt.ok:
                allowed[v].add(i)
        if not any(attempt.ok for attempt in tries):
            unplaced[i] = diagnose.unreachable(pupil.id, tries)
    candidate_vehicles = {
        i: [v for v in range(len(vehicles)) if i in allowed[v]] for i in range(len(pupils))
    }

    # Solve, then repair maximum-ride violations by tightening windows.
    ride_limited: dict[int, int] = {}
    fallback_reason: str | None = None
    chosen: ModuleType | None = None
    orders: list[list[int]] = []
    for round_ in range(REPAIR_ROUNDS + 1):
        active = [i for i in range(len(pupils)) if i not in unplaced]
        current = instance(allowed)
        chosen, orders, reason = _solve(candidates, chosen, current, active, threads)
        fallback_reason = fallback_reason or reason
        orders = [_settle(current, v, order) for v, order in enumerate(orders)]
        broken = _violations(current, orders, max_ride)
        if not broken or round_ == REPAIR_ROUNDS:
            break
        for i, v in broken:
            limit = max_ride[v]
            assert limit is not None
            ride_limited[i] = min(limit, ride_limited.get(i, limit))
            repaired = ridetime.tightened(jobs[i], deadline, limit)
            if repaired is None or repaired == jobs[i]:
                allowed[v].discard(i)  # this vehicle cannot carry them within its limit
            else:
                jobs[i] = repaired

    # Drop what still breaks a ride limit, then re-insert where there is room.
    current = instance(allowed)
    for v, order in enumerate(orders):
        while True:
            timing = schedule(current, v, order) if order else None
            late = ridetime.violations(current, order, timing, max_ride[v]) if timing else []
            if not late:
                break
            for i in late:
                ride_limited.setdefault(i, max_ride[v] or 0)
            order = _settle(current, v, [i for i in order if i not in late])
        orders[v] = order
    placed = {i for order in orders for i in order}
    waiting = [i for i in range(len(pupils)) if i not in unplaced and i not in placed]
    waiting.sort(key=lambda i: len(candidate_vehicles[i]))
    for i in waiting:
        if not _insert(current, orders, i, max_ride):
            used = [sum(jobs[k].seats for k in order) for order in orders]
            still = [v for v in candidate_vehicles[i] if i in allowed[v]]
            unplaced[i] = diagnose.left_over(
                pupils[i].id, jobs[i], still, used, current, ride_limited.get(i)
            )

    assert chosen is not None
    routes: list[Route] = []
    idle: list[str] = []
    for v, order in enumerate(orders):
        timing = schedule(current, v, order) if order else None
        if timing is None:
            assert not order, "a planned run must be feasible"
            idle.append(vehicles[v].id)
        else:
            routes.append(_route(vehicles[v].id, order, timing, current, problem))
    return Plan(
        routes=tuple(routes),
        unplaced=tuple(unplaced[i] for i in sorted(unplaced)),
        idle_vehicles=tuple(idle),
        deadline=deadline,
        solver=chosen.name,
        solver_version=chosen.version(),
        solve_seconds=round(time.perf_counter() - started, 4),
        fallback_reason=fallback_reason,
    )


def _candidates(choice: str) -> list[ModuleType]:
    if choice == "auto":
        return [vroom_solver, fallback_solver]
    if choice == "vroom":
        return [vroom_solver]
    if choice in ("pyvrp", "fallback"):
        return [fallback_solver]
    raise ValueError(f"unknown solver {choice!r}; choose one of {', '.join(SOLVER_CHOICES)}")


def _solve(
    candidates: list[ModuleType],
    chosen: ModuleType | None,
    current: RoutingInstance,
    active: list[int],
    threads: int,
) -> tuple[ModuleType, list[list[int]], str | None]:
    """Solve for the `active` pupils; orders come back as pupil indices."""
    position = {i: k for k, i in enumerate(active)}
    sub = RoutingInstance(
        durations=current.durations,
        school=current.school,
        deadline=current.deadline,
        jobs=tuple(current.jobs[i] for i in active),
        vehicles=current.vehicles,
        allowed=tuple(frozenset(position[i] for i in a if i in position) for a in current.allowed),
    )
    reasons: list[str] = []
    for module in [chosen] if chosen is not None else candidates:
        try:
            orders = module.solve(sub, threads)
        except SolverUnavailable as exc:
            reasons.append(str(exc))
            continue
        return module, [[active[k] for k in order] for order in orders], "; ".join(reasons) or None
    raise SolverUnavailable("no routing solver available: " + "; ".join(reasons))


def _settle(instance: RoutingInstance, vehicle: int, order: list[int]) -> list[int]:
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


def _violations(
    instance: RoutingInstance, orders: list[list[int]], max_ride: list[int | None]
) -> list[tuple[int, int]]:
    """(pupil, vehicle) for every ride over its vehicle's limit."""
    broken: list[tuple[int, int]] = []
    for v, order in enumerate(orders):
        timing = schedule(instance, v, order) if order else None
        if timing is not None:
            broken += [(i, v) for i in ridetime.violations(instance, order, timing, max_ride[v])]
    return broken


def _insert(
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


def _route(
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
