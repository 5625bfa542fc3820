"""Travel times between the nodes of a problem.

Node order everywhere in the planner: 0 is the school, then one node per
pupil, then one node per vehicle start.
"""

from __future__ import annotations

from geopy.distance import geodesic

from server.planner.model import Location, Problem


def travel_seconds(a: Location, b: Location, detour_factor: float, speed_kmh: float) -> int:
    """Driving estimate: geodesic km x detour factor / speed, whole seconds."""
    if a == b:
        return 0
    km: float = geodesic((a.lat, a.lon), (b.lat, b.lon)).km
    return round(km * detour_factor / speed_kmh * 3600.0)


def node_locations(problem: Problem) -> list[Location | None]:
    return (
        [problem.school.location]
        + [pupil.location for pupil in problem.pupils]
        + [vehicle.start for vehicle in problem.vehicles]
    )


def duration_matrix(problem: Problem) -> list[list[int]]:
    """The problem's own matrix if it has one, else the geodesic estimate."""
    if problem.durations is not None:
        return [list(row) for row in problem.durations]
    locations = node_locations(problem)
    size = len(locations)
    matrix = [[0] * size for _ in range(size)]
    cache: dict[tuple[Location, Location], int] = {}
    for i in range(size):
        a = locations[i]
        assert a is not None  # Problem validation guarantees locations without a matrix
        for j in range(i + 1, size):
            b = locations[j]
            assert b is not None
            key = (a, b)
            if key not in cache:
                cache[key] = travel_seconds(a, b, problem.detour_factor, problem.speed_kmh)
            matrix[i][j] = matrix[j][i] = cache[key]
    return matrix
