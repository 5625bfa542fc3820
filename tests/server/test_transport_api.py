"""Transport through the API: plan runs from the register, drivers get them, lateness on the day."""
from __future__ import annotations

import pytest

from tests.conftest import new_id

HOMES = [(53.6905, -1.4950), (53.6850, -1.5100), (53.6790, -1.4880), (53.6950, -1.5200)]


@pytest.fixture(autouse=True)
def _runs_day(monkeypatch):
    """The runs here are dated 23-24 November 2026: the server's day is pinned near them, for a
    run leaves its driver's phone some days after its date (docs/retention.md)."""
    monkeypatch.setenv("DOORSTEP_TODAY", "2026-11-23")


def setup_school(office, officer):
    school = new_id()
    changes = [office.change("school", school, {"name": "Eastmoor Primary", "lat": 53.6880, "lon": -1.4870,
                                                "day_starts": "08:45"})]
    pupils = []
    for n, (lat, lon) in enumerate(HOMES):
        household, pupil = new_id(), new_id()
        pupils.append(pupil)
        changes += [office.change("household", household, {"address": f"{n + 1} Park Road", "lat": lat, "lon": lon}),
                    office.change("pupil", pupil, {"upn": f"T00000000000{n}", "first_name": f"Kid{n}",
                                                   "last_name": "Rider", "school_id": school,
                                                   "household_id": household, "transport_eligible": True}),
                    office.change("case", new_id(), {"pupil_id": pupil, "assigned_officer_id": officer.user["id"]})]
    r = office.push(changes)
    assert {x["status"] for x in r.json()["results"]} == {"applied"}
    return school, pupils


def test_plan_creates_runs_that_reach_the_driver_and_report_lateness(world, login):
    office, officer, _ = world
    driver = login("officer")
    school, pupils = setup_school(office, officer)
    body = {"school_id": school, "date": "2026-11-23",
            "vehicles": [{"driver_id": driver.user["id"], "vehicle": "Astra", "seats": 3,
                          "start_lat": 53.6830, "start_lon": -1.4990}]}
    dry = office.post("/api/transport/plan", {**body, "dry_run": True})
    assert dry.status_code == 200, dry.text
    plan = dry.json()
    assert plan["dry_run"] is True and plan["solver"] in ("vroom", "vroom+pyvrp", "pyvrp")
    [run] = plan["runs"]
    assert len(run["stops"]) == 3  # three seats
    assert [u["pupil"] for u in plan["unplaced"]] and plan["unplaced"][0]["reason"] == "no_vehicle_capacity"
    assert run["school_arrival"] <= plan["register_close"] == "2026-11-23T09:15:00Z"
    assert office.get("/api/transport/runs", date="2026-11-23").json()["items"] == []

    made = office.post("/api/transport/plan", body).json()
    [run] = made["runs"]
    items, cursor = driver.pull_all()
    got = {(i["type"], i["id"]) for i in items}
    assert ("transport_run", run["id"]) in got
    assert all(("transport_stop", s["id"]) in got and ("pupil", s["pupil_id"]) in got for s in run["stops"])
    # the driver picks up the first pupil and arrives after the register closed
    first, second = run["stops"][0], run["stops"][1]
    r = driver.push([driver.change("transport_stop", first["id"], {"status": "picked_up",
                                                                    "event_at": "2026-11-23T08:40:00Z"}, 1),
                     driver.change("transport_stop", second["id"], {"status": "no_show"}, 1),
                     driver.change("transport_run", run["id"], {"status": "done",
                                                                "arrived_at": "2026-11-23T09:20:00Z"}, 1)])
    assert {x["status"] for x in r.json()["results"]} == {"applied"}
    [day] = office.get("/api/transport/runs", date="2026-11-23").json()["items"]
    arrivals = {s["id"]: s["arrival"] for s in day["stops"]}
    assert arrivals[first["id"]]["label"] == "late after register closed (U)"
    assert arrivals[second["id"]]["code"] == "not_carried"
    # a driver may not re-route a run
    r = driver.push([driver.change("transport_stop", first["id"], {"pupil_id": pupils[0]}, 2)])
    assert r.json()["results"][0]["status"] == "rejected"


def test_arrival_before_close_is_late_but_marked_l(world, login):
    office, officer, _ = world
    driver = login("officer")
    school, _ = setup_school(office, officer)
    made = office.post("/api/transport/plan", {
        "school_id": school, "date": "2026-11-24", "vehicles": [{
            "driver_id": driver.user["id"], "seats": 8, "start_lat": 53.6830, "start_lon": -1.4990}]}).json()
    [run] = made["runs"]
    assert len(run["stops"]) == 4 and made["unplaced"] == []
    driver.pull_all()
    stop = run["stops"][0]
    driver.push([driver.change("transport_stop", stop["id"], {"status": "picked_up"}, 1),
                 driver.change("transport_run", run["id"], {"arrived_at": "2026-11-24T08:55:00Z"}, 1)])
    [day] = office.get("/api/transport/runs", date="2026-11-24").json()["items"]
    assert day["stops"][0]["arrival"]["mark"] == "L"


def test_plan_validates_its_input(world, login):
    office, officer, ids = world
    bad = [{}, {"school_id": ids["school"]}, {"school_id": ids["school"], "date": "2026-02-30", "vehicles": []},
           {"school_id": ids["school"], "date": "2026-11-23", "vehicles": [{"driver_id": office.user["id"],
                                                                              "seats": 2, "start_lat": 53,
                                                                              "start_lon": -1}]},
           {"school_id": ids["school"], "date": "2026-11-23", "pupil_ids": ["x"],
            "vehicles": [{"driver_id": officer.user["id"], "seats": 0, "start_lat": 53, "start_lon": -1}]}]
    for body in bad:
        r = office.post("/api/transport/plan", body)
        assert r.status_code == 422 and r.json()["error"]["code"] == "validation_failed", body
    assert office.post("/api/transport/plan", {"school_id": new_id(), "date": "2026-11-23",
                                               "vehicles": []}).status_code == 404
    assert officer.post("/api/transport/plan", {}).status_code == 403


def _wait_for(office, url, timeout=90.0):
    import time

    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        r = office.get(url)
        assert r.status_code == 200, r.text
        job = r.json()
        seen.append(job)
        if job["status"] in ("done", "failed"):
            return job, seen
        time.sleep(0.2)
    raise AssertionError(f"the planning job did not finish: {seen[-1]}")


def test_planning_as_a_job_reports_progress_then_the_plan(world, login):
    office, officer, _ = world
    driver = login("officer")
    school, pupils = setup_school(office, officer)
    body = {"school_id": school, "date": "2026-11-23", "time_budget_s": 1.0,
            "vehicles": [{"driver_id": driver.user["id"], "vehicle": "Astra", "seats": 3,
                          "start_lat": 53.6830, "start_lon": -1.4990}]}
    r = office.post("/api/transport/plan-jobs", {**body, "dry_run": True})
    assert r.status_code == 202, r.text
    queued = r.json()
    assert queued["status"] == "queued" and queued["time_budget_s"] == 1.0
    job, seen = _wait_for(office, queued["status_url"])
    assert job["status"] == "done", job["error"]
    assert job["progress"]["fraction"] == 1.0 and job["progress"]["time_budget_s"] == 1.0
    assert all(0 <= s["progress"]["fraction"] <= 1 for s in seen)
    plan = job["result"]
    assert plan["dry_run"] is True and plan["arrive_by"] == "08:35"  # the day starts 08:45, less 10 minutes
    [run] = plan["runs"]
    assert len(run["stops"]) == 3 and run["school_arrival"] <= "2026-11-23T08:35:00Z"
    assert office.get("/api/transport/runs", date="2026-11-23").json()["items"] == []

    made, _ = _wait_for(office, office.post("/api/transport/plan-jobs", body).json()["status_url"])
    [run] = made["result"]["runs"]
    [day] = office.get("/api/transport/runs", date="2026-11-23").json()["items"]
    assert day["id"] == run["id"] and len(day["stops"]) == 3


def test_a_planning_job_is_checked_before_it_is_queued(world, login):
    office, officer, _ = world
    school, _ = setup_school(office, officer)
    bad = {"school_id": school, "date": "2026-11-23", "time_budget_s": 0,
           "vehicles": [{"driver_id": officer.user["id"], "seats": 3, "start_lat": 53.68, "start_lon": -1.49}]}
    r = office.post("/api/transport/plan-jobs", bad)
    assert r.status_code == 422 and r.json()["error"]["details"]["field"] == "time_budget_s"
    assert office.get(f"/api/transport/plan-jobs/{new_id()}").status_code == 404
    assert office.get("/api/transport/plan-jobs/nope").status_code == 404
    assert officer.post("/api/transport/plan-jobs", {**bad, "time_budget_s": 1}).status_code == 403
