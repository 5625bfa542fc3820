"""School-run planner: who picks up whom, in what order, arriving before the register closes.

    from server.planner import plan, problem_from_json, plan_to_json
    result = plan(problem_from_json(text))

See docs/routing.md.
"""

from __future__ import annotations

from server.planner.county_model import (
    CountyPlan,
    CountyProblem,
    CountyPupil,
    CountySchool,
    CountyVehicle,
)
from server.planner.instance import SolverUnavailable
from server.planner.jsonio import plan_to_json, problem_from_json
from server.planner.model import (
    REASONS,
    Location,
    Plan,
    Problem,
    ProblemError,
    Pupil,
    Route,
    School,
    Stop,
    Unplaced,
    Vehicle,
    Window,
)
from server.planner.planner import plan

__all__ = [
    "CountyPlan",
    "CountyProblem",
    "CountyPupil",
    "CountySchool",
    "CountyVehicle",
    "REASONS",
    "Location",
    "Plan",
    "Problem",
    "ProblemError",
    "Pupil",
    "Route",
    "School",
    "SolverUnavailable",
    "Stop",
    "Unplaced",
    "Vehicle",
    "Window",
    "plan",
    "plan_to_json",
    "problem_from_json",
]
