"""A planning job shows the first solver's plan while the search goes on
(docs/protocol.md §9.4 `best_so_far`): the planner runs in a process of its
own, and the job picks its interim plan up as soon as it is written."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from server.transport import plan_jobs
from tests.planner.county_helpers import check_county, county


class Recorder:
    """The job's side of a JobContext: its progress fields, each report kept."""

    def __init__(self) -> None:
        self.fields: dict[str, Any] = {}
        self.reports: list[dict[str, Any]] = []

    def progress(self, **fields: Any) -> None:
        self.fields.update(fields)
        self.reports.append(copy.deepcopy(self.fields))


@pytest.mark.slow
def test_a_county_job_reports_its_best_plan_so_far_before_the_end():
    problem = county(2027, 150, 4, 13)
    ctx = Recorder()
    final = plan_jobs.solve_apart(ctx, problem, 6.0)  # type: ignore[arg-type]
    firsts = [r for r in ctx.reports if r.get("best_so_far")]
    assert firsts, "no report carried the first plan"
    first = firsts[0]["best_so_far"]
    assert firsts[0]["elapsed_s"] < 6.0  # seen while the search went on
    check_county(problem, first)
    check_county(problem, final)
    assert final["placed"] >= first["placed"]
    assert "best_so_far" not in ctx.fields  # not kept beside the plan once it is made


def test_the_office_summary_of_a_first_plan_shows_counts_not_names():
    plan = {"routes": [{"vehicle": "V1", "depart": "07:40:00", "end": "08:25:00", "cost": 95.5,
                        "stops": [{"type": "pickup", "pupils": ["P1", "P2"]}, {"type": "pickup", "pupils": ["P3"]},
                                  {"type": "drop", "pupils": ["P1", "P2", "P3"]}]}],
            "unplaced": [{"pupil": "P4", "reason": "no_vehicle_time", "detail": "…"}], "total_cost": 95.5}
    shown = plan_jobs.first_summary(plan, {"V1": "Minibus 1"})
    assert shown == {"placed": 3, "unplaced": 1, "total_cost": 95.5,
                     "runs": [{"vehicle": "Minibus 1", "pupils": 3, "depart": "07:40", "end": "08:25", "cost": 95.5}]}
    school = {"routes": [{"vehicle": "v0", "depart": "07:50:00", "school_arrival": "08:40:00",
                          "stops": [{"pupil": "P1"}, {"pupil": "P2"}]}], "unplaced": []}
    assert plan_jobs.first_summary(school, plan_jobs.vehicle_names({"body": {"vehicles": [{"vehicle": "Van"}]}})) == {
        "placed": 2, "unplaced": 0, "total_cost": None,
        "runs": [{"vehicle": "Van", "pupils": 2, "depart": "07:50", "end": "08:40", "cost": None}]}
    assert plan_jobs.first_summary(None, {}) is None
