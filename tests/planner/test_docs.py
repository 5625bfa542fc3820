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
