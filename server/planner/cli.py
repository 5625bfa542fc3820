"""`doorstep plan --problem FILE.json`: read a problem, write the plan as JSON.

server/cli.py calls run(); `python -m server.planner.cli --problem FILE` does
the same without the rest of the server.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TextIO

from server.planner.instance import SolverUnavailable
from server.planner.jsonio import plan_to_json, problem_from_json
from server.planner.model import ProblemError
from server.planner.planner import plan


def run(
    problem_path: str,
    out: TextIO,
    time_budget: float | None = None,
    ride_limits: Mapping[str, int] | None = None,
    interim: str | None = None,
) -> int:
    """Plan the problem in `problem_path`, write the plan JSON to `out`.

    Returns 0 on success, 2 for an unreadable or invalid problem file (the
    error goes to stderr), 1 when no solver can run. `time_budget`: seconds
    for the whole plan (None: sized to the problem); `ride_limits`: a county
    problem's default ride limits (phase -> seconds; the server's settings).
    `interim`: a file the first solver's finished plan is written to (whole,
    by rename) while another still improves on it (planner.plan's
    `on_first`); a job shows it meanwhile.
    """
    if time_budget is not None and not time_budget >= 0:
        print("doorstep plan: --time-budget must be a number of seconds >= 0", file=sys.stderr)
        return 2
    try:
        text = Path(problem_path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        print(f"doorstep plan: cannot read {problem_path}: {reason}", file=sys.stderr)
        return 2
    try:
        problem = problem_from_json(text, ride_limits)
    except ProblemError as exc:
        print(f"doorstep plan: invalid problem in {problem_path}: {exc}", file=sys.stderr)
        return 2
    try:
        result = plan(problem, time_budget=time_budget,
                      on_first=None if interim is None else (lambda first: _write(interim, first)))
    except SolverUnavailable as exc:
        print(f"doorstep plan: {exc}", file=sys.stderr)
        return 1
    json.dump(plan_to_json(result), out, indent=2)
    out.write("\n")
    return 0


def _write(path: str, first: object) -> None:
    """The plan as JSON in `path`, whole or not at all (a reader never sees half of it)."""
    part = f"{path}.part"
    with open(part, "w", encoding="utf-8") as f:
        json.dump(plan_to_json(first), f)  # type: ignore[arg-type]
    os.replace(part, path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="doorstep plan", description=__doc__)
    parser.add_argument("--problem", required=True, help="problem JSON file")
    parser.add_argument("--time-budget", type=float, help="seconds for the whole plan")
    parser.add_argument("--interim", help="write the first solver's plan here while the search goes on")
    args = parser.parse_args(argv)
    return run(args.problem, sys.stdout, time_budget=args.time_budget, interim=args.interim)


if __name__ == "__main__":
    raise SystemExit(main())
