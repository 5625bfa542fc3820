"""VROOM (pyvroom) adapter: the default solver."""

from __future__ import annotations

from importlib import metadata
from types import ModuleType

from server.planner.instance import RoutingInstance, SolverUnavailable

name = "vroom"
EXPLORATION_LEVEL = 5


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


def solve(instance: RoutingInstance, threads: int) -> list[list[int]]:
    """Job indices per vehicle, in visiting order; unassigned jobs are absent."""
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
    solution = problem.solve(exploration_level=EXPLORATION_LEVEL, nb_threads=threads)
    frame = solution.routes
    for vehicle, kind, job in zip(frame["vehicle_id"], frame["type"], frame.get("id", [])):
        if kind == "job":
            routes[int(vehicle)].append(int(job))
    return routes
