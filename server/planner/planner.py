"""plan(problem) -> Plan: the school-run planner.

Steps: durations; each pupil tried alone in each vehicle (what no vehicle can
take alone is reported at once); the solver; timing every run as late as its
slack allows; the maximum-ride repair rounds; re-inserting anything left over
where a run has room; reasons for the rest. With solver="auto", PyVRP then
searches on from VROOM's plan while the time budget lasts, and the better of
the two finished plans is kept. docs/routing.md has the detail.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Any, overload

from server.planner import diagnose, fallback_solver, ridetime, runfix, vroom_solver
from server.planner.budget import VROOM_SHARE, Budget, default_budget
from server.planner.durations import duration_matrix
from server.planner.instance import Fleet, Job, RoutingInstance, SolverUnavailable
from server.planner.county_model import CountyPlan, CountyProblem
from server.planner.model import Plan, Problem, Pupil, Route, Unplaced
from server.planner.schedule import schedule

SOLVER_CHOICES = ("auto", "vroom", "pyvrp", "fallback")
REPAIR_ROUNDS = 3
IMPROVE_NO_IMPROVEMENT = 10_000  # ... or until this many iterations bring nothing better,
IMPROVE_PER_PUPIL = 100  # ... fewer on small problems: this many a pupil
IMPROVE_MIN_S = 0.05  # not worth starting PyVRP with less time left than this
IMPROVE_RESERVE_S = 0.05  # kept back for checking PyVRP's runs and building the Plan


@overload
def plan(
    problem: Problem,
    *,
    solver: str = ...,
    threads: int | None = ...,
    time_budget: float | None = ...,
    on_first: Callable[[Plan], None] | None = ...,
) -> Plan: ...


@overload
def plan(
    problem: CountyProblem,
    *,
    solver: str = ...,
    threads: int | None = ...,
    time_budget: float | None = ...,
    on_first: Callable[[CountyPlan], None] | None = ...,
) -> CountyPlan: ...


def plan(
    problem: Problem | CountyProblem,
    *,
    solver: str = "auto",
    threads: int | None = None,
    time_budget: float | None = None,
    on_first: Callable[[Any], None] | None = None,
) -> Plan | CountyPlan:
    """Plan the run.

    `solver`: "auto" (VROOM, then PyVRP improving on VROOM's plan while the
    `time_budget` lasts; PyVRP alone when pyvroom cannot be imported),
    "vroom", or "pyvrp" / "fallback" (one solver each). `time_budget` is in
    seconds from the start of the call (default `budget.default_budget`, sized
    to the number of pupils): every solver call, VROOM's, each repair round's
    and PyVRP's, gets at most what is left of it. Raises SolverUnavailable
    when no chosen solver can be imported and ValueError for an unknown
    choice or a negative budget. A CountyProblem goes to
    `county.plan_county` (VROOM with every constraint up front; `solver`
    must be "auto" or "vroom").

    `on_first`, when given, is called with a finished plan as soon as the
    first solver's is ready while another still searches for a better one
    (PyVRP after VROOM; a county's neighbourhoods after its whole-county
    solves): a job shows it meanwhile.
    """
    if isinstance(problem, CountyProblem):
        if solver not in ("auto", "vroom"):
            raise ValueError("a county problem is planned by VROOM: solver 'auto' or 'vroom'")
        from server.planner.county import plan_county

        return plan_county(problem, time_budget=time_budget, threads=threads, on_first=on_first)
    started = time.perf_counter()
    budget = Budget(
        default_budget(len(problem.pupils)) if time_budget is None else time_budget, started
    )
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
        Fleet(
            start=1 + len(pupils) + v,
            seats=vehicle.seats,
            available_from=vehicle.available_from,
            max_ride=vehicle.max_ride,
        )
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
        # The first solve leaves PyVRP its share when it may run after it.
        share = VROOM_SHARE if round_ == 0 and solver == "auto" else 1.0
        chosen, orders, reason = _solve(
            candidates, chosen, current, active, threads, budget, share
        )
        fallback_reason = fallback_reason or reason
        orders = [runfix.settle(current, v, order) for v, order in enumerate(orders)]
        broken = runfix.violations(current, orders, max_ride)
        if not broken or round_ == REPAIR_ROUNDS or budget.left() <= 0:
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
    finishing = time.perf_counter()
    best = _finish(current, orders, max_ride, ride_limited, pupils, candidate_vehicles)
    finishing = time.perf_counter() - finishing
    assert chosen is not None
    solver_name, solver_version = chosen.name, chosen.version()

    # Portfolio: with time left, PyVRP searches on from VROOM's finished plan
    # on the repaired instance; the better finished plan is kept (first more
    # pupils placed, then less driving; a tie keeps VROOM's). Checking
    # PyVRP's runs afterwards costs about what checking VROOM's did, so that
    # is kept back from its time, twice over.
    def built(best: _Outcome, solver_name: str, solver_version: str) -> Plan:
        routes: list[Route] = []
        idle: list[str] = []
        for v, order in enumerate(best.orders):
            timing = schedule(current, v, order) if order else None
            if timing is None:
                assert not order, "a planned run must be feasible"
                idle.append(vehicles[v].id)
            else:
                routes.append(runfix.route(vehicles[v].id, order, timing, current, problem))
        left = {**unplaced, **best.unplaced}
        return Plan(
            routes=tuple(routes),
            unplaced=tuple(left[i] for i in sorted(left)),
            idle_vehicles=tuple(idle),
            deadline=deadline,
            solver=solver_name,
            solver_version=solver_version,
            solve_seconds=round(time.perf_counter() - started, 4),
            fallback_reason=fallback_reason,
        )

    if solver == "auto" and chosen is vroom_solver:
        if on_first is not None:
            on_first(built(best, solver_name, solver_version))
        until = budget.until - IMPROVE_RESERVE_S - 2 * finishing
        improved = _improve(current, best, unplaced, until, threads)
        if improved is not None:
            other = _finish(current, improved, max_ride, ride_limited, pupils, candidate_vehicles)
            if other.key < best.key:
                best = other
                solver_name = f"{vroom_solver.name}+{fallback_solver.name}"
                solver_version = f"{vroom_solver.version()}+{fallback_solver.version()}"
    return built(best, solver_name, solver_version)


@dataclass(frozen=True)
class _Outcome:
    """Feasible runs and what is left over, before the Plan is built."""

    orders: list[list[int]]
    unplaced: dict[int, Unplaced]  # pupils no run could take after solving
    travel: int

    @property
    def key(self) -> tuple[int, int]:
        """Smaller is better: first fewer pupils left over, then less driving."""
        return (len(self.unplaced), self.travel)


def _finish(
    current: RoutingInstance,
    orders: list[list[int]],
    max_ride: list[int | None],
    ride_limited: dict[int, int],
    pupils: Sequence[Pupil],
    candidate_vehicles: dict[int, list[int]],
) -> _Outcome:
    """Drop what still breaks a ride limit, re-insert where there is room,
    and give a reason for whoever fits nowhere."""
    orders = [list(order) for order in orders]
    ride_limited = dict(ride_limited)
    for v, order in enumerate(orders):
        while True:
            timing = schedule(current, v, order) if order else None
            late = ridetime.violations(current, order, timing, max_ride[v]) if timing else []
            if not late:
                break
            for i in late:
                ride_limited.setdefault(i, max_ride[v] or 0)
            order = runfix.settle(current, v, [i for i in order if i not in late])
        orders[v] = order
    placed = {i for order in orders for i in order}
    waiting = [i for i in candidate_vehicles if candidate_vehicles[i] and i not in placed]
    waiting.sort(key=lambda i: len(candidate_vehicles[i]))
    unplaced: dict[int, Unplaced] = {}
    for i in waiting:
        if not runfix.insert(current, orders, i, max_ride):
            used = [sum(current.jobs[k].seats for k in order) for order in orders]
            still = [v for v in candidate_vehicles[i] if i in current.allowed[v]]
            unplaced[i] = diagnose.left_over(
                pupils[i].id, current.jobs[i], still, used, current, ride_limited.get(i)
            )
    travel = 0
    for v, order in enumerate(orders):
        timing = schedule(current, v, order) if order else None
        travel += timing.travel if timing else 0
    return _Outcome(orders=orders, unplaced=unplaced, travel=travel)


def _improve(
    current: RoutingInstance,
    start: _Outcome,
    unplaced: dict[int, Unplaced],
    until: float,
    threads: int,
) -> list[list[int]] | None:
    """PyVRP's runs, searched from `start` until `until` at the latest, or
    None when there is no time for it, nothing to improve or no PyVRP."""
    active = [i for i in range(len(current.jobs)) if i not in unplaced]
    if len(active) < 2 or until - time.perf_counter() < IMPROVE_MIN_S:
        return None
    position = {i: k for k, i in enumerate(active)}
    seed = [[position[i] for i in order] for order in start.orders]
    try:
        orders = fallback_solver.solve(
            _restricted(current, active),
            threads,
            until=until,
            no_improvement=min(IMPROVE_NO_IMPROVEMENT, IMPROVE_PER_PUPIL * len(active)),
            initial=seed,
        )
    except SolverUnavailable:
        return None
    return [
        runfix.settle(current, v, [active[k] for k in order]) for v, order in enumerate(orders)
    ]


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
    budget: Budget,
    share: float = 1.0,
) -> tuple[ModuleType, list[list[int]], str | None]:
    """Solve for the `active` pupils within `share` of what is left of the
    budget; orders come back as pupil indices."""
    sub = _restricted(current, active)
    reasons: list[str] = []
    for module in [chosen] if chosen is not None else candidates:
        try:
            orders = module.solve(sub, threads, timeout=share * budget.left())
        except SolverUnavailable as exc:
            reasons.append(str(exc))
            continue
        return module, [[active[k] for k in order] for order in orders], "; ".join(reasons) or None
    raise SolverUnavailable("no routing solver available: " + "; ".join(reasons))


def _restricted(current: RoutingInstance, active: list[int]) -> RoutingInstance:
    """`current` with only the `active` jobs, renumbered in that order."""
    position = {i: k for k, i in enumerate(active)}
    return RoutingInstance(
        durations=current.durations,
        school=current.school,
        deadline=current.deadline,
        jobs=tuple(current.jobs[i] for i in active),
        vehicles=current.vehicles,
        allowed=tuple(frozenset(position[i] for i in a if i in position) for a in current.allowed),
    )
