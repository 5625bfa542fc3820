"""PyVRP adapter: the fallback when pyvroom's wheel is unavailable, and the
second solver of the "auto" portfolio, which searches on from VROOM's plan.

PyVRP (iterated local search, the successor of HGS-CVRP) has no per-job
vehicle restrictions, so a vehicle that may not take a pupil gets its own
routing profile in which that pupil's node is out of reach.
"""

from __future__ import annotations

import time
from importlib import metadata
from types import ModuleType
from typing import Any

from server.planner.instance import RoutingInstance, SolverUnavailable

name = "pyvrp"
MAX_RUNTIME_S = 5.0  # hard cap per solve
NO_IMPROVEMENT = 2_000  # iterations without a better solution before stopping
SEED = 1


def _import() -> ModuleType:
    try:
        import pyvrp
        import pyvrp.stop
    except (ImportError, OSError) as exc:
        raise SolverUnavailable(f"pyvrp unavailable: {exc}") from exc
    return pyvrp


def version() -> str:
    try:
        return metadata.version("pyvrp")
    except metadata.PackageNotFoundError:
        return "unknown"


def solve(
    instance: RoutingInstance,
    threads: int,
    *,
    until: float | None = None,
    timeout: float | None = None,
    no_improvement: int = NO_IMPROVEMENT,
    initial: list[list[int]] | None = None,
) -> list[list[int]]:
    """Job indices per vehicle, in visiting order; unassigned jobs are absent.

    `initial` (job indices per vehicle, as returned) starts the search from
    that solution instead of a random one: the portfolio seeds PyVRP with
    VROOM's plan. The search stops after `no_improvement` iterations without
    a better solution, at `until` (a time.perf_counter() value) if given,
    after `timeout` seconds if given, and after MAX_RUNTIME_S, whichever
    comes first.
    """
    if timeout is not None:
        until = min(until or float("inf"), time.perf_counter() + timeout)
    pyvrp = _import()
    import numpy as np

    routes: list[list[int]] = [[] for _ in instance.vehicles]
    usable = [
        index
        for index, fleet in enumerate(instance.vehicles)
        if fleet.available_from <= instance.deadline and instance.allowed[index]
    ]
    if not instance.jobs or not usable:
        return routes

    base = np.asarray(instance.durations, dtype=np.int64)
    longest = int(base.max()) if base.size else 0
    # Placing a pupil must always beat leaving them out, whatever the detour.
    prize = 4 * (longest + max(job.service for job in instance.jobs)) + 1_000
    unreachable = 100 * prize

    merged = instance.start_nodes()
    starts = sorted({merged[index] for index in usable})
    depot_of = {node: 1 + k for k, node in enumerate(starts)}
    depots = [pyvrp.Depot(location=instance.school)] + [
        pyvrp.Depot(location=node) for node in starts
    ]
    clients = [
        pyvrp.Client(
            location=job.node,
            pickup=[job.seats],
            service_duration=job.service,
            tw_early=job.early,
            tw_late=job.late,
            required=False,
            prize=prize,
        )
        for job in instance.jobs
    ]

    # Vehicles alike in start, seats, availability, restrictions and ride
    # limit share a type (PyVRP may swap the runs of vehicles of one type).
    profiles: dict[frozenset[int], int] = {}
    matrices: list[Any] = []
    groups: dict[tuple[int, int, int, int, int | None], list[int]] = {}
    for index in usable:
        allowed = instance.allowed[index]
        if allowed not in profiles:
            matrix = base.copy()
            for job_index, job in enumerate(instance.jobs):
                if job_index not in allowed:
                    matrix[:, job.node] = unreachable
                    matrix[job.node, job.node] = 0
            profiles[allowed] = len(matrices)
            matrices.append(matrix)
        fleet = instance.vehicles[index]
        key = (merged[index], fleet.seats, fleet.available_from, profiles[allowed], fleet.max_ride)
        groups.setdefault(key, []).append(index)
    members = list(groups.values())
    type_of = {vehicle: t for t, group in enumerate(members) for vehicle in group}
    vehicle_types = [
        pyvrp.VehicleType(
            num_available=len(group),
            capacity=[seats],
            start_depot=depot_of[start],
            end_depot=0,
            tw_early=available_from,
            tw_late=instance.deadline,
            profile=profile,
        )
        for (start, seats, available_from, profile, _), group in groups.items()
    ]

    locations = [pyvrp.Location(0.0, 0.0) for _ in range(len(base))]
    data = pyvrp.ProblemData(
        locations=locations,
        clients=clients,
        depots=depots,
        vehicle_types=vehicle_types,
        distance_matrices=matrices,
        duration_matrices=matrices,
    )
    seed = None
    if initial is not None:
        seed = pyvrp.Solution(
            data,
            [
                pyvrp.Route(data, list(order), type_of[vehicle])
                for vehicle, order in enumerate(initial)
                if order and vehicle in type_of
            ],
        )
    runtime = MAX_RUNTIME_S
    if until is not None:
        runtime = min(runtime, max(0.0, until - time.perf_counter()))
    stop = pyvrp.stop.MultipleCriteria(
        [pyvrp.stop.MaxRuntime(runtime), pyvrp.stop.NoImprovement(no_improvement)]
    )
    result = pyvrp.solve(
        data, stop=stop, seed=SEED, collect_stats=False, display=False, initial_solution=seed
    )
    client_kind = pyvrp.ActivityType.CLIENT
    for route in result.best.routes():
        if not route.is_feasible():
            continue  # the planner re-inserts what it can and reports the rest
        vehicle = members[route.vehicle_type()].pop(0)
        routes[vehicle] = [
            activity.idx for activity in route.schedule() if activity.type == client_kind
        ]
    return routes
