from __future__ import annotations

from geopy.distance import geodesic

from server.planner import Location, Problem, Pupil, School, Vehicle
from server.planner.durations import duration_matrix, travel_seconds

SCHOOL = Location(53.5228, -1.1285)
BENTLEY = Location(53.5432, -1.1461)


def test_travel_time_is_geodesic_times_detour_over_speed():
    km = geodesic((SCHOOL.lat, SCHOOL.lon), (BENTLEY.lat, BENTLEY.lon)).km
    assert 2.4 < km < 2.7
    assert travel_seconds(SCHOOL, BENTLEY, 1.3, 30.0) == round(km * 1.3 / 30 * 3600)
    assert travel_seconds(SCHOOL, BENTLEY, 1.0, 60.0) == round(km * 60)
    assert travel_seconds(SCHOOL, SCHOOL, 1.3, 30.0) == 0


def test_matrix_order_is_school_pupils_vehicles():
    problem = Problem(
        school=School(SCHOOL, arrive_by=31500),
        pupils=(Pupil("a", BENTLEY),),
        vehicles=(Vehicle("car", 3, SCHOOL, 27000),),
        detour_factor=1.5,
        speed_kmh=40.0,
    )
    m = duration_matrix(problem)
    expected = travel_seconds(SCHOOL, BENTLEY, 1.5, 40.0)
    assert m == [[0, expected, 0], [expected, 0, expected], [0, expected, 0]]
