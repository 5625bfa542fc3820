from __future__ import annotations

import json

import pytest

from server.planner import ProblemError, plan, plan_to_json, problem_from_json
from server.planner.jsonio import format_clock, parse_clock

SCHOOL = {"lat": 53.5228, "lon": -1.1285, "arrive_by": "08:45"}


def problem(**changes):
    data = {
        "school": dict(SCHOOL),
        "pupils": [
            {
                "id": "P1",
                "lat": 53.5432,
                "lon": -1.1461,
                "boarding_s": 90,
                "window": {"from": "08:00", "to": "08:30"},
            },
            {"id": "P2", "lat": 53.5101, "lon": -1.0802},
        ],
        "vehicles": [
            {
                "id": "car",
                "seats": 3,
                "start": {"lat": 53.519, "lon": -1.133},
                "available_from": "07:45",
                "max_ride_s": 1800,
            },
        ],
    }
    data.update(changes)
    return data


def test_clock_forms():
    assert parse_clock("08:45", "t") == 31500
    assert parse_clock("8:45:30", "t") == 31530
    assert parse_clock(31500, "t") == 31500
    assert format_clock(31530) == "08:45:30"
    for bad in ("25:00", "08:60", "quarter to nine", -1, 8.5, True):
        with pytest.raises(ProblemError, match="^t"):
            parse_clock(bad, "t")


def test_a_problem_reads_with_its_defaults():
    p = problem_from_json(json.dumps(problem()))
    assert p.school.arrive_by == 31500
    assert p.pupils[0].boarding == 90 and p.pupils[0].window.start == 8 * 3600
    assert p.pupils[1].boarding == 60 and p.pupils[1].window is None and p.pupils[1].seats == 1
    assert p.vehicles[0].max_ride == 1800 and p.vehicles[0].available_from == 27900
    assert (p.detour_factor, p.speed_kmh, p.durations) == (1.3, 30.0, None)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("{not json", "not valid JSON"),
        ([], "problem must be a JSON object"),
        (problem(school={"lat": 53.5}), "school: missing arrive_by"),
        (problem(school={**SCHOOL, "lat": 95}), "school: latitude"),
        (problem(school={**SCHOOL, "lon": None}), "school: give both lat and lon"),
        (problem(pupils=[{"id": "P1"}]), "pupil 'P1' needs a location"),
        (problem(pupils=[{"id": "", "lat": 53, "lon": -1}]), r"pupils\[0\].id"),
        (
            problem(pupils=[{"id": "P1", "lat": 53, "lon": -1, "colour": "red"}]),
            "unknown field colour",
        ),
        (
            problem(
                pupils=[
                    {"id": "P1", "lat": 53, "lon": -1, "window": {"from": "09:00", "to": "08:00"}}
                ]
            ),
            r"pupils\[0\].window: window starts",
        ),
        (
            problem(
                pupils=[{"id": "P1", "lat": 53, "lon": -1}, {"id": "P1", "lat": 53, "lon": -1}]
            ),
            "appears twice",
        ),
        (
            problem(
                vehicles=[
                    {
                        "id": "car",
                        "seats": 0,
                        "start": {"lat": 53, "lon": -1},
                        "available_from": "07:00",
                    }
                ]
            ),
            "seats must be >= 1",
        ),
        (
            problem(
                vehicles=[
                    {
                        "id": "car",
                        "seats": 2.5,
                        "start": {"lat": 53, "lon": -1},
                        "available_from": "07:00",
                    }
                ]
            ),
            r"vehicles\[0\].seats must be a whole number",
        ),
        (problem(speed_kmh=0), "speed_kmh must be a number > 0"),
        (problem(detour_factor="1.3"), "detour_factor must be a number"),
        (problem(durations_s=[[0, 1], [1, 0]]), "4x4 matrix"),
        (problem(extra=1), "unknown field extra"),
    ],
)
def test_invalid_problems_say_where(data, message):
    with pytest.raises(ProblemError, match=message):
        problem_from_json(data if isinstance(data, str) else json.dumps(data))


def test_a_given_matrix_replaces_locations():
    data = {
        "school": {"arrive_by": "08:45"},
        "pupils": [{"id": "a"}],
        "vehicles": [{"id": "car", "seats": 1, "available_from": "08:00"}],
        "durations_s": [[0, 600, 900], [600, 0, 300], [900, 300, 0]],
    }
    result = plan(problem_from_json(data))
    (route,) = result.routes
    assert route.travel == 900 and route.stops[0].ride == 600


def test_plan_json_shape():
    result = plan(problem_from_json(problem()))
    out = plan_to_json(result)
    assert json.loads(json.dumps(out)) == out
    assert set(out) == {
        "solver",
        "solver_version",
        "fallback_reason",
        "solve_seconds",
        "deadline",
        "total_travel_s",
        "routes",
        "unplaced",
        "idle_vehicles",
    }
    assert out["deadline"] == "08:45:00" and out["solver"] == "vroom"
    (route,) = out["routes"]
    assert set(route) == {"vehicle", "depart", "school_arrival", "travel_s", "stops"}
    assert set(route["stops"][0]) == {
        "pupil",
        "arrival",
        "wait_s",
        "pickup",
        "departure",
        "load",
        "ride_s",
    }
    assert out["total_travel_s"] == route["travel_s"]
