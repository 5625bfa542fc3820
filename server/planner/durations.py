"""Travel times between the nodes of a problem.

Node order everywhere in the planner: 0 is the school, then one node per
pupil, then one node per vehicle start.
"""

from __future__ import annotations

import math

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


EARTH_RADIUS_KM = 6371.0088  # the mean radius (IUGG)


def haversine_km(a: Location, b: Location) -> float:
    """Great-circle km on a sphere: the county planner's estimate (fast for
    hundreds of points; within 0.5% of geodesic)."""
    lat1, lon1, lat2, lon2 = map(math.radians, (a.lat, a.lon, b.lat, b.lon))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin(
        (lon2 - lon1) / 2
    ) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def km_matrix(locations: list[Location]) -> list[list[float]]:
    """haversine_km between every pair, vectorised."""
    import numpy as np

    lat = np.radians([loc.lat for loc in locations])
    lon = np.radians([loc.lon for loc in locations])
    h = (
        np.sin((lat[:, None] - lat[None, :]) / 2) ** 2
        + np.cos(lat)[:, None] * np.cos(lat)[None, :] * np.sin((lon[:, None] - lon[None, :]) / 2) ** 2
    )
    km = 2 * EARTH_RADIUS_KM * np.arcsin(np.minimum(1.0, np.sqrt(h)))
    rows: list[list[float]] = km.tolist()
    return rows
