"""Random small counties: no constraint is ever broken in the returned plan.

The plans are checked by county_helpers.check_county, which recomputes every
promise from the problem JSON alone (not the planner's code)."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.planner import plan, plan_to_json, problem_from_json
from tests.planner.county_helpers import check_county, hhmm

BELLS = [8 * 3600 + 30 * 60 + 300 * k for k in range(5)]  # 08:30 .. 08:50
AFTERNOON = 7 * 3600 + 30 * 60  # afternoon times: the morning's, 7.5 hours later


@st.composite
def counties(draw: st.DrawFn) -> dict[str, Any]:
    afternoon = draw(st.booleans())
    shift = AFTERNOON if afternoon else 0
    n_schools = draw(st.integers(1, 3))
    n_pupils = draw(st.integers(0, 9))
    n_vehicles = draw(st.integers(0, 4))
    size = n_schools + n_pupils + n_vehicles
    # grid points keep the matrix a metric; zeros (same place) allowed
    points = draw(st.lists(st.tuples(st.integers(-25, 25), st.integers(-25, 25)),
                           min_size=size, max_size=size))
    durations = [[60 * (abs(ax - bx) + abs(ay - by)) for bx, by in points] for ax, ay in points]
    schools = [{"id": f"S{k}", "arrive_by": hhmm(draw(st.sampled_from(BELLS))),
                "leaves_at": hhmm(draw(st.sampled_from(BELLS)) + 6 * 3600 + 30 * 60),
                "phase": draw(st.sampled_from(["primary", "secondary"]))} for k in range(n_schools)]
    pupils: list[dict[str, Any]] = []
    for k in range(n_pupils):
        pupil: dict[str, Any] = {"id": f"p{k}", "school": f"S{draw(st.integers(0, n_schools - 1))}",
                                 "boarding_s": draw(st.sampled_from([0, 30, 60, 180]))}
        if draw(st.booleans()):
            pupil["wheelchair"] = True
            pupil["seats"] = draw(st.integers(0, 1))
        else:
            pupil["seats"] = draw(st.integers(1, 2))
        pupil["escort"] = draw(st.integers(0, 3)) == 0
        pupil["travel_alone"] = draw(st.integers(0, 4)) == 0
        if draw(st.booleans()):
            opens = 7 * 3600 + shift + 60 * draw(st.integers(0, 100))
            pupil["window"] = {"from": hhmm(opens), "to": hhmm(opens + 60 * draw(st.integers(0, 40)))}
        if draw(st.integers(0, 3)) == 0:
            pupil["max_ride_s"] = 60 * draw(st.integers(5, 60))
        if k and draw(st.integers(0, 3)) == 0:  # a sibling of the pupil before: same place, same school
            before = pupils[-1]
            pupil["school"] = before["school"]
            pupil["siblings"] = before.setdefault("siblings", f"g{k}")
            durations[n_schools + k] = durations[n_schools + k - 1][:]
            for row in durations:
                row[n_schools + k] = row[n_schools + k - 1]
            durations[n_schools + k][n_schools + k] = 0
        pupils.append(pupil)
    vehicles = []
    for k in range(n_vehicles):
        opens = 7 * 3600 + shift + 60 * draw(st.integers(0, 90))
        vehicles.append({
            "id": f"v{k}", "seats": draw(st.integers(1, 8)),
            "wheelchair_places": draw(st.integers(0, 2)), "escort": draw(st.booleans()),
            "available": {"from": hhmm(opens), "to": hhmm(opens + 60 * draw(st.integers(20, 150)))},
            "day_rate": draw(st.sampled_from([0, 60, 150])), "per_km": draw(st.sampled_from([0, 1.2])),
        })
    return {"schools": schools, "pupils": pupils, "vehicles": vehicles, "durations_s": durations,
            "run": "afternoon" if afternoon else "morning",
            "ride_limits_s": {"primary": 60 * draw(st.integers(20, 45)), "secondary": 75 * 60}}


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(counties())
def test_county_plans_keep_every_constraint(problem: dict[str, Any]) -> None:
    result = plan_to_json(plan(problem_from_json(copy.deepcopy(problem)), time_budget=1.0))
    check_county(problem, result)
