"""County plans from the office's records through the API: several schools with their bells,
every pupil's needs and every vehicle's features sent to the planner, the plan made as a job,
and a re-plan keeping the runs nothing changed in."""
from __future__ import annotations

import json
import random
import time

import pytest

from tests.conftest import new_id
from tests.planner.county_helpers import check_county



SCHOOLS = [("North Primary", 53.700, -1.500, "08:45"), ("South Academy", 53.660, -1.470, "08:50")]


@pytest.fixture(autouse=True)
def _day(monkeypatch):
    monkeypatch.setenv("DOORSTEP_TODAY", "2026-11-23")


def county_world(office, n_pupils=14, seed=3):
    rng = random.Random(seed)
    schools, changes, pupils = [], [], []
    for name, lat, lon, bell in SCHOOLS:
        sid = new_id()
        schools.append(sid)
        changes.append(office.change("school", sid, {"name": name, "lat": lat, "lon": lon, "day_starts": bell}))
    for n in range(n_pupils):
        household, pupil = new_id(), new_id()
        k = n % 2
        lat, lon = SCHOOLS[k][1] + rng.uniform(-0.03, 0.03), SCHOOLS[k][2] + rng.uniform(-0.04, 0.04)
        changes += [office.change("household", household, {"address": f"{n} Mill Lane", "lat": lat, "lon": lon}),
                    office.change("pupil", pupil, {"upn": f"C{n:012d}", "first_name": f"Kid{n}", "last_name": "Rider",
                                                   "school_id": schools[k], "household_id": household,
                                                   "year_group": 4 if k == 0 else 9, "transport_eligible": True})]
        pupils.append(pupil)
    r = office.push(changes)
    assert {x["status"] for x in r.json()["results"]} == {"applied"}, r.text
    for n, pupil in enumerate(pupils):
        need = {"pupil_id": pupil, "wheelchair": n % 5 == 0, "escort": n == 3}
        assert office.post("/api/transport/needs", need).status_code == 201
    fleet = [{"name": "Taxi A", "seats": 4}, {"name": "Taxi B", "seats": 4},
             {"name": "Minibus", "seats": 8, "wheelchair_places": 2, "escort": True, "day_rate": 150},
             {"name": "Access van", "seats": 3, "wheelchair_places": 2, "escort": True, "day_rate": 170}]
    vehicles = []
    for v in fleet:
        r = office.post("/api/transport/vehicles", {"depot": {"lat": 53.68, "lon": -1.49}, "day_rate": 80,
                                                    "per_km": 1.2, **v})
        assert r.status_code == 201, r.text
        vehicles.append(r.json())
    return schools, pupils, vehicles


def plan(office, body, timeout=120.0):
    r = office.post("/api/transport/county-plans", body)
    assert r.status_code == 202, r.text
    url = r.json()["status_url"]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = office.get(url).json()
        if job["status"] in ("done", "failed"):
            assert job["status"] == "done", job
            return job["result"]
        time.sleep(0.2)
    raise AssertionError("the county plan did not finish")


def stored_problem(app_state, plan_id):
    [row] = app_state.db.query("SELECT problem FROM transport_plans WHERE id = ?", (plan_id,))
    return json.loads(row["problem"])


def test_a_county_plan_uses_every_need_and_feature_and_a_replan_keeps_unchanged_runs(login, app_state):
    office = login("office")
    schools, pupils, vehicles = county_world(office)
    body = {"date": "2026-11-23", "schools": [{"school_id": s} for s in schools], "time_budget_s": 2}
    first = plan(office, body)
    problem = stored_problem(app_state, first["plan_id"])
    check_county(problem, first["plan"])
    assert {s["arrive_by"] for s in problem["schools"]} == {"08:35", "08:40"}  # the bell less 10 minutes
    assert {s["phase"] for s in problem["schools"]} == {"primary", "secondary"}
    wheelchair = {p["id"] for p in problem["pupils"] if p["wheelchair"]}
    assert len(wheelchair) == 3 and all(p["max_ride_s"] in (2700, 4500) for p in problem["pupils"])
    places = {v["id"]: v["wheelchair_places"] for v in vehicles}
    for route in first["plan"]["routes"]:
        riders = {p for s in route["stops"] for p in s["pupils"]}
        assert places[route["vehicle"]] > 0 or not riders & wheelchair
    assert first["plan"]["placed"] >= 10

    # one more pupil: the other vehicles' runs stay as they were
    extra, household = new_id(), new_id()
    r = office.push([office.change("household", household, {"address": "1 New Row", "lat": 53.701, "lon": -1.501}),
                     office.change("pupil", extra, {"upn": "C999999999999", "first_name": "New", "last_name": "Rider",
                                                    "school_id": schools[0], "household_id": household,
                                                    "year_group": 3})])
    assert {x["status"] for x in r.json()["results"]} == {"applied"}
    assert office.post("/api/transport/needs", {"pupil_id": extra}).status_code == 201
    second = plan(office, body)
    assert second["base_plan_id"] == first["plan_id"]
    check_county(stored_problem(app_state, second["plan_id"]), second["plan"])
    before = {r["vehicle"]: r for r in first["plan"]["routes"]}
    after = {r["vehicle"]: r for r in second["plan"]["routes"]}
    changed = [v for v in set(before) | set(after) if before.get(v) != after.get(v)]
    assert len(changed) <= 1, changed
    assert set(second["plan"]["kept_runs"]) >= set(before) - set(changed)
    assert extra in {p for r in second["plan"]["routes"] for s in r["stops"] for p in s["pupils"]}


def test_a_county_plan_request_is_checked_field_by_field(login):
    office = login("office")
    r = office.post("/api/transport/county-plans", {"date": "2026-13-01", "run": "evening",
                                                    "schools": [{"school_id": new_id(), "arrive_by": "8am"}]})
    assert r.status_code == 422
    fields = r.json()["error"]["details"]["fields"]
    assert {"date", "run", "schools[0].school_id"} <= set(fields)
    assert office.post("/api/transport/county-plans", []).status_code == 422
    officer = login("officer")
    assert officer.post("/api/transport/county-plans", {}).status_code == 403
