"""Transport through the API: plan runs from the register, drivers get them, lateness on the day."""
from __future__ import annotations

from tests.conftest import new_id

HOMES = [(53.6905, -1.4950), (53.6850, -1.5100), (53.6790, -1.4880), (53.6950, -1.5200)]


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
