"""The first solver's plan while the search goes on (planner.plan's `on_first`,
`doorstep plan --interim`, docs/routing.md section 7): a finished plan that
keeps every constraint, and the final plan is never worse than it."""

from __future__ import annotations

import io
import json
from typing import Any

from server.planner import plan, plan_to_json, problem_from_json
from server.planner.cli import run
from tests.planner.county_helpers import check_county, county
from tests.planner.helpers import check, random_problem
from tests.planner.test_cli import from_json


def test_a_county_plan_shows_its_whole_county_solves_before_the_neighbourhoods():
    problem = county(2027, 60, 3, 6)
    seen: list[Any] = []
    final = plan(problem_from_json(problem), time_budget=3.0, on_first=seen.append)
    assert len(seen) == 1  # once, when the whole-county solves are done
    first, last = plan_to_json(seen[0]), plan_to_json(final)
    check_county(problem, first)  # a finished plan: everyone once, every constraint, a reason for who is left
    check_county(problem, last)
    assert first["solve_seconds"] <= last["solve_seconds"]
    assert last["placed"] >= first["placed"]
    if last["placed"] == first["placed"]:
        assert last["total_cost"] <= first["total_cost"] + 0.01


def test_a_school_plan_shows_vrooms_plan_while_pyvrp_searches_on():
    problem = random_problem(5, pupils=40, vehicles=4)
    seen: list[Any] = []
    final = plan(problem, time_budget=3.0, on_first=seen.append)
    assert len(seen) == 1 and seen[0].solver == "vroom"
    check(problem, seen[0])
    check(problem, final)
    assert len(final.unplaced) <= len(seen[0].unplaced)


def test_a_school_plan_with_one_solver_has_no_first_plan():
    seen: list[Any] = []
    plan(random_problem(6, pupils=10, vehicles=2), solver="vroom", time_budget=1.0, on_first=seen.append)
    assert seen == []  # nothing searches on after VROOM: the plan itself is the first


def test_the_cli_writes_the_first_plan_whole_to_the_interim_file(tmp_path):
    problem = county(4, 40, 2, 4)
    path, interim = tmp_path / "county.json", tmp_path / "first.json"
    path.write_text(json.dumps(problem))
    out = io.StringIO()
    assert run(str(path), out, time_budget=2.0, interim=str(interim)) == 0
    first, last = json.loads(interim.read_text()), json.loads(out.getvalue())
    check_county(problem, first)
    assert last["placed"] >= first["placed"]
    assert not (tmp_path / "first.json.part").exists()  # written aside, then renamed over


def test_the_cli_interim_file_of_a_school_plan(tmp_path):
    problem = problem_from_json(json.dumps(_school_json()))
    path, interim = tmp_path / "school.json", tmp_path / "first.json"
    path.write_text(json.dumps(_school_json()))
    assert run(str(path), io.StringIO(), time_budget=2.0, interim=str(interim)) == 0
    check(problem, from_json(json.loads(interim.read_text())))


def _school_json() -> dict[str, Any]:
    from pathlib import Path

    example = Path(__file__).resolve().parents[2] / "docs" / "examples" / "plan-problem.json"
    return json.loads(example.read_text(encoding="utf-8"))
