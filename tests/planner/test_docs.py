from __future__ import annotations

import re
from pathlib import Path

from server.planner import REASONS, plan, plan_to_json, problem_from_json

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "routing.md").read_text(encoding="utf-8")
EXAMPLE = ROOT / "docs" / "examples" / "plan-problem.json"


def test_every_reason_is_documented():
    for reason in REASONS:
        assert f"| `{reason}` |" in DOC


def test_every_plan_field_is_documented():
    out = plan_to_json(plan(problem_from_json(EXAMPLE.read_text(encoding="utf-8"))))
    names = set(out) | set(out["routes"][0]) | set(out["routes"][0]["stops"][0])
    names |= set(out["unplaced"][0])
    words = {w for token in re.findall(r"`([^`\n]+)`", DOC) for w in re.findall(r"\w+", token)}
    assert names <= words, names - words


def test_every_problem_field_is_documented():
    for name in [
        "school.arrive_by",
        "school.lat",
        "school.name",
        "pupils[].id",
        "pupils[].boarding_s",
        "pupils[].window",
        "pupils[].seats",
        "vehicles[].seats",
        "vehicles[].start",
        "vehicles[].available_from",
        "vehicles[].max_ride_s",
        "detour_factor",
        "speed_kmh",
        "durations_s",
    ]:
        assert f"`{name}" in DOC, name


def _county_example() -> dict:
    import json

    section = DOC[DOC.index("### 6.1") :]
    return json.loads(section[section.index("```json") + 7 : section.index("```\n")])


def test_the_county_example_plans_and_keeps_every_constraint():
    from tests.planner.county_helpers import check_county

    problem = _county_example()
    result = plan_to_json(plan(problem_from_json(problem)))
    check_county(problem, result)
    assert result["placed"] == 4


def test_every_county_reason_and_field_is_documented():
    from server.planner.county_model import COUNTY_REASONS
    from tests.planner.county_helpers import county

    for reason in COUNTY_REASONS:
        assert f"| `{reason}` |" in DOC
    problem = county(1, 20, 2, 4)
    out = plan_to_json(plan(problem_from_json(problem)))
    route = out["routes"][0]
    names = set(out) | set(route) | {k for stop in route["stops"] for k in stop}
    names |= set(route["stops"][0]["load"])
    words = {w for token in re.findall(r"`([^`\n]+)`", DOC) for w in re.findall(r"\w+", token)}
    assert names <= words, names - words
    fields = {f"schools[].{k}" for s in problem["schools"] for k in s if k not in ("lat", "lon", "name")}
    fields |= {f"pupils[].{k}" for p in problem["pupils"] for k in p if k not in ("id", "lat", "lon")}
    fields |= {f"vehicles[].{k}" for v in problem["vehicles"] for k in v if k != "id"}
    for name in sorted(fields - {"vehicles[].per_km"}):
        assert f"`{name}" in DOC, name
