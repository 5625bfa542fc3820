"""County problems: several schools, pupils' needs, vehicles' features and costs.

Every plan here passes the independent checker (county_helpers.check_county),
which reads only the JSON."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from server.planner import CountyProblem, ProblemError, plan, plan_to_json, problem_from_json
from tests.planner.county_helpers import check_county, county

MIN = 60


def line(schools: list[dict[str, Any]], pupils: list[dict[str, Any]],
         vehicles: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    """Everything on one road: `at` is minutes from the origin; a matrix in seconds."""
    points = [s.pop("at") for s in schools] + [p.pop("at") for p in pupils]
    points += [v.pop("at") for v in vehicles]
    durations = [[abs(a - b) * MIN for b in points] for a in points]
    for v in vehicles:
        v.setdefault("available", {"from": "07:00"})
    return {"schools": schools, "pupils": pupils, "vehicles": vehicles, "durations_s": durations,
            **extra}


def solve(problem: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    result = plan_to_json(plan(problem_from_json(copy.deepcopy(problem)), **kwargs))
    check_county(problem, result)
    return result


def reasons(result: dict[str, Any]) -> dict[str, str]:
    return {u["pupil"]: u["reason"] for u in result["unplaced"]}


def carrier(result: dict[str, Any]) -> dict[str, str]:
    return {i: r["vehicle"] for r in result["routes"] for s in r["stops"] if s["type"] == "pickup"
            for i in s["pupils"]}


def test_a_problem_with_schools_is_a_county_problem_and_the_old_form_still_parses():
    assert isinstance(problem_from_json(county(1, 10, 2, 3)), CountyProblem)
    old = {"school": {"arrive_by": "08:45", "lat": 53.5, "lon": -1.1}, "pupils": [],
           "vehicles": []}
    assert not isinstance(problem_from_json(old), CountyProblem)


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda p: p["pupils"][0].update(bus=1), "unknown field bus"),
        (lambda p: p["pupils"][0].update(school="nowhere"), "no school 'nowhere'"),
        (lambda p: p["schools"][0].update(phase="nursery"), "phase must be primary or secondary"),
        (lambda p: p["vehicles"][0].update(available={"from": "09:00", "to": "08:00"}),
         "availability"),
        (lambda p: p["vehicles"][0].update(day_rate=-5), "day_rate must be from 0"),
        (lambda p: p["pupils"][0].update(wheelchair="yes"), "wheelchair must be true or false"),
        (lambda p: p.update(ride_limits_s={"primary": 0}), "ride_limits_s"),
        (lambda p: p.update(run="evening"), "morning"),
    ],
)
def test_invalid_county_problems_are_refused_with_the_place(change, message):
    problem = county(2, 6, 2, 2)
    change(problem)
    with pytest.raises(ProblemError, match=message):
        problem_from_json(problem)


def test_siblings_must_share_a_pickup_point_and_a_school():
    problem = line([{"id": "A", "at": 0, "arrive_by": "08:30"}, {"id": "B", "at": 5, "arrive_by": "08:30"}],
                   [{"id": "p1", "school": "A", "at": 10, "siblings": "g"},
                    {"id": "p2", "school": "B", "at": 10, "siblings": "g"}],
                   [{"id": "v", "seats": 4, "at": 20}])
    for p in problem["pupils"]:
        p.update(lat=53.5, lon=-1.1)
    with pytest.raises(ProblemError, match="one school"):
        problem_from_json(problem)


def test_one_vehicle_serves_two_schools_with_their_own_bells():
    problem = line(
        [{"id": "A", "at": 0, "arrive_by": "08:30"}, {"id": "B", "at": 10, "arrive_by": "08:50"}],
        [{"id": "a1", "school": "A", "at": 20}, {"id": "b1", "school": "B", "at": 25}],
        [{"id": "v", "seats": 4, "at": 30}],
    )
    result = solve(problem)
    assert result["placed"] == 2
    (route,) = result["routes"]
    assert [s.get("school") for s in route["stops"] if s["type"] == "drop"] == ["A", "B"] or \
        [s.get("school") for s in route["stops"] if s["type"] == "drop"] == ["B", "A"]


def test_a_wheelchair_user_rides_only_where_there_is_a_wheelchair_place():
    pupils = [{"id": "w", "school": "A", "at": 10, "wheelchair": True}]
    taxi = {"id": "taxi", "seats": 8, "at": 12, "day_rate": 10}
    result = solve(line([{"id": "A", "at": 0, "arrive_by": "08:30"}], copy.deepcopy(pupils),
                        [dict(taxi)]))
    assert reasons(result) == {"w": "no_wheelchair_place"}
    accessible = {"id": "van", "seats": 4, "wheelchair_places": 1, "at": 30, "day_rate": 200}
    result = solve(line([{"id": "A", "at": 0, "arrive_by": "08:30"}], pupils, [taxi, accessible]))
    assert carrier(result) == {"w": "van"}
    assert result["routes"][0]["stops"][0]["load"] == {"seats": 0, "wheelchair": 1}


def test_a_pupil_needing_an_escort_rides_only_with_one():
    problem = line([{"id": "A", "at": 0, "arrive_by": "08:30"}],
                   [{"id": "e", "school": "A", "at": 10, "escort": True}, {"id": "n", "school": "A", "at": 11}],
                   [{"id": "plain", "seats": 8, "at": 12}])
    assert reasons(solve(copy.deepcopy(problem))) == {"e": "no_escort"}
    problem["vehicles"].append({"id": "escorted", "seats": 4, "escort": True,
                                "available": {"from": "07:00"}})
    problem["durations_s"] = [row + [row[2]] for row in problem["durations_s"]]
    problem["durations_s"].append(problem["durations_s"][2][:])
    result = solve(problem)
    assert carrier(result)["e"] == "escorted" and not result["unplaced"]


def test_a_pupil_travelling_alone_has_the_vehicle_to_themselves():
    problem = line([{"id": "A", "at": 0, "arrive_by": "09:00"}],
                   [{"id": "solo", "school": "A", "at": 10, "travel_alone": True},
                    {"id": "x", "school": "A", "at": 10}, {"id": "y", "school": "A", "at": 11}],
                   [{"id": "v", "seats": 8, "at": 12}])
    result = solve(problem)  # the checker asserts nobody else is ever on board with solo
    assert result["placed"] == 3
    (route,) = result["routes"]
    assert sum(s["type"] == "drop" for s in route["stops"]) == 2


def test_siblings_ride_together_and_board_at_one_stop():
    problem = line([{"id": "A", "at": 0, "arrive_by": "08:30"}],
                   [{"id": "s1", "school": "A", "at": 10, "siblings": "g"},
                    {"id": "s2", "school": "A", "at": 10, "siblings": "g"},
                    {"id": "o", "school": "A", "at": 30}],
                   [{"id": "v1", "seats": 2, "at": 10}, {"id": "v2", "seats": 2, "at": 30}])
    result = solve(problem)
    assert carrier(result)["s1"] == carrier(result)["s2"]
    stops = [s["pupils"] for r in result["routes"] for s in r["stops"] if s["type"] == "pickup"]
    assert ["s1", "s2"] in stops


def test_siblings_who_do_not_fit_together_are_both_left_out():
    problem = line([{"id": "A", "at": 0, "arrive_by": "08:30"}],
                   [{"id": "s1", "school": "A", "at": 10, "siblings": "g"},
                    {"id": "s2", "school": "A", "at": 10, "siblings": "g"}],
                   [{"id": "v1", "seats": 1, "at": 10}, {"id": "v2", "seats": 1, "at": 10}])
    assert reasons(solve(problem)) == {"s1": "no_vehicle_capacity", "s2": "no_vehicle_capacity"}


@pytest.mark.parametrize("phase, placed", [("primary", False), ("secondary", True)])
def test_ride_limits_follow_the_school_phase(phase, placed):
    # 50 minutes' drive: over the 45-minute primary limit, within the 75-minute secondary one.
    problem = line([{"id": "A", "at": 0, "arrive_by": "08:30", "phase": phase}],
                   [{"id": "far", "school": "A", "at": 50}], [{"id": "v", "seats": 4, "at": 50}])
    result = solve(problem)
    assert (result["placed"] == 1) is placed
    if not placed:
        assert reasons(result) == {"far": "max_ride_time"}


def test_ride_limits_come_from_settings_and_each_pupil_may_have_their_own():
    problem = line([{"id": "A", "at": 0, "arrive_by": "08:30", "phase": "primary"}],
                   [{"id": "far", "school": "A", "at": 50}, {"id": "near", "school": "A", "at": 20,
                                                             "max_ride_s": 15 * MIN}],
                   [{"id": "v", "seats": 4, "at": 50}])
    parsed = problem_from_json(copy.deepcopy(problem), ride_limits={"primary": 3600, "secondary": 4500})
    result = plan_to_json(plan(parsed))
    assert reasons(result) == {"near": "max_ride_time"}
    assert result["routes"][0]["ride_s"]["far"] <= 3600


def test_rides_within_the_limit_even_when_the_run_is_long():
    # Ten pupils strung out along the road, one minibus, primary limit 45 minutes.
    pupils = [{"id": f"p{k}", "school": "A", "at": 5 + 5 * k} for k in range(10)]
    problem = line([{"id": "A", "at": 0, "arrive_by": "08:30", "phase": "primary"}], pupils,
                   [{"id": "v", "seats": 16, "at": 60}])
    result = solve(problem)  # the checker asserts every ride <= 45 min
    assert result["placed"] >= 5


def test_the_cheaper_vehicle_is_used():
    problem = line([{"id": "A", "at": 0, "arrive_by": "08:30"}],
                   [{"id": "p", "school": "A", "at": 10}],
                   [{"id": "dear", "seats": 4, "at": 11, "day_rate": 100},
                    {"id": "cheap", "seats": 4, "at": 14, "day_rate": 50}])
    result = solve(problem)
    assert carrier(result) == {"p": "cheap"} and result["total_cost"] == 50
    assert result["idle_vehicles"] == ["dear"]


def test_vehicle_availability_bounds_the_run():
    problem = line([{"id": "A", "at": 0, "arrive_by": "08:30"}],
                   [{"id": "p", "school": "A", "at": 10}],
                   [{"id": "late", "seats": 4, "at": 10, "available": {"from": "08:25"}},
                    {"id": "short", "seats": 4, "at": 10, "available": {"from": "07:00", "to": "07:10"}}])
    assert reasons(solve(problem)) == {"p": "deadline_unreachable"}


def test_a_generated_county_keeps_every_constraint():
    problem = county(3, 40, 4, 6)
    result = solve(problem, time_budget=3)
    assert result["placed"] > 20 and result["format"] == "county"
    assert result["time_budget_s"] == 3


def test_the_cli_plans_a_county(tmp_path, capsys):
    import json

    from server.planner.cli import run

    problem = county(4, 12, 2, 3)
    path = tmp_path / "county.json"
    path.write_text(json.dumps(problem))
    assert run(str(path), __import__("sys").stdout, time_budget=2) == 0
    result = json.loads(capsys.readouterr().out)
    check_county(problem, result)


def afternoon(**extra: Any) -> dict[str, Any]:
    problem = line(
        [{"id": "A", "at": 0, "arrive_by": "08:30", "leaves_at": "15:15"},
         {"id": "B", "at": 10, "arrive_by": "08:50", "leaves_at": "15:30"}],
        [{"id": "a1", "school": "A", "at": 20}, {"id": "b1", "school": "B", "at": 25},
         {"id": "b2", "school": "B", "at": 30, "window": {"from": "16:10", "to": "16:30"}}],
        [{"id": "v", "seats": 4, "at": 0, "available": {"from": "15:00", "to": "17:30"}}],
        run="afternoon", **extra)
    return problem


def test_an_afternoon_run_collects_at_each_school_and_drops_at_home():
    result = solve(afternoon())  # the checker: boarding after the school lets out, windows at home, limits
    assert result["placed"] == 3
    (route,) = result["routes"]
    pickups = [s for s in route["stops"] if s["type"] == "pickup"]
    assert {s["school"] for s in pickups} == {"A", "B"}
    drops = {p: s for s in route["stops"] if s["type"] == "drop" for p in s["pupils"]}
    assert all("school" not in s for s in drops.values())
    assert "16:10" <= drops["b2"]["drop"] <= "16:30"  # someone is home only then


def test_an_afternoon_run_needs_the_end_of_the_day_and_keeps_ride_limits():
    problem = afternoon()
    del problem["schools"][1]["leaves_at"]
    with pytest.raises(ProblemError, match="leaves_at"):
        problem_from_json(problem)
    problem = afternoon()
    del problem["schools"][0]["arrive_by"]  # the morning bell is not needed in the afternoon
    assert problem_from_json(copy.deepcopy(problem)).run == "afternoon"
    problem["run"] = "morning"
    with pytest.raises(ProblemError, match="arrive_by"):
        problem_from_json(problem)
    late = afternoon()
    late["vehicles"][0]["available"] = {"from": "16:00"}  # reaches school 45 minutes after A lets out
    assert reasons(solve(late))["a1"] == "deadline_unreachable"
    strict = afternoon()
    strict["pupils"][0]["max_ride_s"] = 15 * MIN  # 20 minutes' drive home
    assert reasons(solve(strict)) == {"a1": "max_ride_time"}


def test_a_generated_afternoon_keeps_every_constraint():
    problem = county(8, 40, 4, 6, run="afternoon")
    result = solve(problem, time_budget=3)
    assert result["placed"] > 20


def test_doorstep_plan_takes_the_ride_limit_settings(tmp_path, capsys, monkeypatch):
    import json

    from server.cli import main

    problem = line([{"id": "A", "at": 0, "arrive_by": "08:30", "phase": "primary"}],
                   [{"id": "far", "school": "A", "at": 50}], [{"id": "v", "seats": 4, "at": 50}])
    path = tmp_path / "county.json"
    path.write_text(json.dumps(problem))
    assert main(["plan", "--problem", str(path), "--time-budget", "1"]) == 0
    assert json.loads(capsys.readouterr().out)["placed"] == 0  # 50 minutes: over the 45-minute default
    monkeypatch.setenv("DOORSTEP_RIDE_LIMIT_PRIMARY_MIN", "60")
    assert main(["plan", "--problem", str(path), "--time-budget", "1"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["placed"] == 1
    check_county({**problem, "ride_limits_s": {"primary": 3600}}, result)
