from __future__ import annotations

import io
import json
from pathlib import Path

from server.planner import REASONS, problem_from_json
from server.planner.cli import main, run
from server.planner.model import Plan, Route, Stop, Unplaced
from tests.planner.helpers import check

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "docs" / "examples" / "plan-problem.json"


def from_json(out: dict) -> Plan:
    """Rebuild a Plan from its JSON so the independent checker can judge it."""

    def clock(text: str) -> int:
        h, m, s = (int(x) for x in text.split(":"))
        return h * 3600 + m * 60 + s

    routes = tuple(
        Route(
            vehicle_id=r["vehicle"],
            departure=clock(r["depart"]),
            stops=tuple(
                Stop(
                    s["pupil"],
                    clock(s["arrival"]),
                    s["wait_s"],
                    clock(s["pickup"]),
                    clock(s["departure"]),
                    s["load"],
                    s["ride_s"],
                )
                for s in r["stops"]
            ),
            school_arrival=clock(r["school_arrival"]),
            travel=r["travel_s"],
        )
        for r in out["routes"]
    )
    return Plan(
        routes=routes,
        unplaced=tuple(Unplaced(u["pupil"], u["reason"], u["detail"]) for u in out["unplaced"]),
        idle_vehicles=tuple(out["idle_vehicles"]),
        deadline=clock(out["deadline"]),
        solver=out["solver"],
        solver_version=out["solver_version"],
        solve_seconds=out["solve_seconds"],
    )


def test_the_documented_example_gives_a_valid_plan():
    out = io.StringIO()
    assert run(str(EXAMPLE), out) == 0
    data = json.loads(out.getvalue())
    problem = problem_from_json(EXAMPLE.read_text(encoding="utf-8"))
    check(problem, from_json(data))
    assert data["solver"] == "vroom"
    assert data["routes"] and all(u["reason"] in REASONS for u in data["unplaced"])


def test_unreadable_file(tmp_path, capsys):
    out = io.StringIO()
    assert run(str(tmp_path / "missing.json"), out) == 2
    assert out.getvalue() == ""
    assert "cannot read" in capsys.readouterr().err


def test_invalid_json_and_invalid_problem(tmp_path, capsys):
    broken = tmp_path / "broken.json"
    broken.write_text("{", encoding="utf-8")
    assert run(str(broken), io.StringIO()) == 2
    assert "not valid JSON" in capsys.readouterr().err
    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps({"school": {}, "pupils": [], "vehicles": []}), encoding="utf-8")
    assert run(str(wrong), io.StringIO()) == 2
    assert "school: missing arrive_by" in capsys.readouterr().err


def test_module_entry_point(capsys):
    assert main(["--problem", str(EXAMPLE)]) == 0
    assert json.loads(capsys.readouterr().out)["routes"]
