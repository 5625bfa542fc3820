"""VROOM (pyvroom) adapter: the default solver."""

from __future__ import annotations

import datetime as dt
from importlib import metadata
from types import ModuleType
from typing import Any

from server.planner.instance import RoutingInstance, SolverUnavailable

name = "vroom"
EXPLORATION_LEVEL = 5  # the most thorough; for problems up to FULL_EXPLORATION_JOBS
FULL_EXPLORATION_JOBS = 120
REDUCED_EXPLORATION = ((300, 2), (None, 0))  # (up to so many jobs, level) beyond that


def exploration_level(jobs: int) -> int:
    """VROOM's exploration level for a problem of `jobs` jobs (or shipments).

    VROOM's timeout bounds its local search, not the construction heuristics
    that start each of its 4 x (level + 1) searches; on large problems those
    alone can outlast a budget, so fewer searches are run there, each with
    more of the time for its local search.
    """
    if jobs <= FULL_EXPLORATION_JOBS:
        return EXPLORATION_LEVEL
    for limit, level in REDUCED_EXPLORATION:
        if limit is None or jobs <= limit:
            return level
    return 0


def _import() -> ModuleType:
    try:
        import vroom
    except (ImportError, OSError) as exc:  # no wheel, or a broken shared library
        raise SolverUnavailable(f"pyvroom unavailable: {exc}") from exc
    module: ModuleType = vroom
    return module


def version() -> str:
    try:
        return metadata.version("pyvroom")
    except metadata.PackageNotFoundError:
        return "unknown"


def searches(level: int) -> int:
    """How many searches (a construction heuristic and a local search each)
    VROOM runs at `level`: 4 x (level + 1), 4 more from level 4 and 4 more
    again at 5 (32)."""
    return 4 * (level + 1) + (4 if level >= 4 else 0) + (4 if level >= EXPLORATION_LEVEL else 0)


def solve_searches(problem: Any, searches: int, depth: int, threads: int, timeout: float | None) -> Any:
    """VROOM's solve running only its first `searches` searches, its local
    search at `depth` (what exploration level `depth` would use).

    VROOM gives each search at most timeout / (searches a thread runs), the
    construction heuristic included: at level 5 (32 searches) on 2 threads
    each gets a sixteenth, which on a few hundred shipments stops most of
    them before they converge; fewer searches each get more time. pyvroom's public solve() has no such parameter, so this calls
    the overload its solve() wraps (`Input._solve(nb_searches, depth,
    nb_threads, timeout)`); without it, the whole level runs instead."""
    from vroom.solution.solution import Solution

    try:
        raw = problem._solve(
            nb_searches=int(searches), depth=int(depth), nb_threads=int(threads),
            timeout=timeout_of(timeout),
        )  # fmt: skip
    except (AttributeError, TypeError):  # another pyvroom: the public call
        return problem.solve(exploration_level=depth, nb_threads=threads, timeout=timeout_of(timeout))
    solution = Solution(raw)
    solution._geometry = problem._geometry
    solution._distances = problem._distances
    return solution


def timeout_of(seconds: float | None) -> dt.timedelta | None:
    """VROOM's timeout for `seconds` (None: no limit), in whole milliseconds."""
    return None if seconds is None else dt.timedelta(milliseconds=max(0, int(seconds * 1000)))


def solve(
    instance: RoutingInstance, threads: int, *, timeout: float | None = None
) -> list[list[int]]:
    """Job indices per vehicle, in visiting order; unassigned jobs are absent.
    VROOM stops its search after `timeout` seconds and returns its best."""
    vroom = _import()
    problem = vroom.Input()
    problem.set_durations_matrix(
        profile="car", matrix_input=[list(row) for row in instance.durations]
    )
    restricted = instance.restricted
    # Without binding times VROOM runs its capacity-only search, which is
    # stronger there; the planner times the runs afterwards either way.
    timed = instance.times_bind
    starts = instance.start_nodes()
    for index, fleet in enumerate(instance.vehicles):
        if fleet.available_from > instance.deadline or not instance.allowed[index]:
            continue  # can take nobody; VROOM rejects empty time windows
        window = vroom.TimeWindow(fleet.available_from, instance.deadline) if timed else None
        problem.add_vehicle(
            vroom.Vehicle(
                index,
                start=starts[index],
                end=instance.school,
                capacity=[fleet.seats],
                time_window=window,
                skills=set(instance.allowed[index]) if restricted else None,
            )
        )
    jobs = [
        vroom.Job(
            index,
            location=job.node,
            default_service=job.service,
            pickup=[job.seats],
            time_windows=[vroom.TimeWindow(job.early, job.late)] if timed else (),
            skills={index} if restricted else None,
        )
        for index, job in enumerate(instance.jobs)
    ]
    routes: list[list[int]] = [[] for _ in instance.vehicles]
    if not jobs or not problem.vehicles:
        return routes
    problem.add_job(jobs)
    solution = problem.solve(
        exploration_level=exploration_level(len(jobs)),
        nb_threads=threads,
        timeout=timeout_of(timeout),
    )
    frame = solution.routes
    for vehicle, kind, job in zip(frame["vehicle_id"], frame["type"], frame.get("id", [])):
        if kind == "job":
            routes[int(vehicle)].append(int(job))
    return routes
