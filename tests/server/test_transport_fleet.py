"""The fleet and pupils' transport needs as records, through the API: validated (the house
422, every problem by field), audited, retired rather than deleted."""
from __future__ import annotations

from tests.conftest import new_id

TAXI = {"name": "Taxi 1", "contractor": "A1 Cars", "seats": 4, "depot": {"lat": 53.68, "lon": -1.49},
        "available_from": "07:00", "available_to": "09:30", "day_rate": 80, "per_km": 1.2}


def test_vehicles_are_added_listed_changed_and_retired(login):
    office = login("office")
    r = office.post("/api/transport/vehicles", TAXI)
    assert r.status_code == 201, r.text
    taxi = r.json()
    assert taxi["wheelchair_places"] == 0 and taxi["escort"] is False and taxi["retired"] is False
    assert [v["id"] for v in office.get("/api/transport/vehicles").json()["items"]] == [taxi["id"]]
    r = office.client.patch(f"/api/transport/vehicles/{taxi['id']}", headers=office.headers,
                            json={"wheelchair_places": 1, "escort": True})
    assert r.status_code == 200, r.text
    assert r.json()["wheelchair_places"] == 1 and r.json()["name"] == "Taxi 1"
    r = office.client.patch(f"/api/transport/vehicles/{taxi['id']}", headers=office.headers, json={"retired": True})
    assert r.json()["retired"] is True
    assert office.get("/api/transport/vehicles").json()["items"] == []
    [kept] = office.get("/api/transport/vehicles", retired="include").json()["items"]
    assert kept["retired_at"]


def test_a_bad_vehicle_is_refused_with_every_problem_by_field(login):
    office = login("office")
    bad = {**TAXI, "seats": 0, "wheelchair_places": 0, "available_to": "06:00", "per_km": -1, "colour": "red",
           "depot": {"lat": 95, "lon": 0}}
    r = office.post("/api/transport/vehicles", bad)
    assert r.status_code == 422
    error = r.json()["error"]
    assert error["code"] == "validation_failed"
    assert set(error["details"]["fields"]) == {"seats", "available_to", "per_km", "colour", "depot"}
    assert office.get("/api/transport/vehicles").json()["items"] == []  # nothing written
    for body in ([], "x", {**TAXI, "seats": True}, {**TAXI, "name": ""}, {**TAXI, "depot": None}):
        r = office.post("/api/transport/vehicles", body)
        assert r.status_code in (400, 422), (body, r.text)
        assert r.json()["error"]["code"] in ("validation_failed", "bad_request", "invalid_json")
    r = office.client.patch(f"/api/transport/vehicles/{new_id()}", headers=office.headers, json={"seats": 3})
    assert r.status_code == 404
    officer = login("officer")
    assert officer.post("/api/transport/vehicles", TAXI).status_code == 403


def test_a_pupils_needs_are_recorded_changed_retired_and_every_access_audited(world, login):
    office, _, ids = world
    admin = login("admin")
    pupil = ids["pupil"]
    r = office.post("/api/transport/needs", {"pupil_id": pupil, "wheelchair": True, "escort": True,
                                             "window": {"from": "07:45", "to": "08:15"}, "max_ride_min": 40,
                                             "driver_note": "ramp at the side door"})
    assert r.status_code == 201, r.text
    need = r.json()
    assert need["seats"] == 0 and need["boarding_s"] == 60 and need["name"] == "Ava Stone"
    assert office.post("/api/transport/needs", {"pupil_id": pupil}).status_code == 409
    r = office.client.patch(f"/api/transport/needs/{pupil}", headers=office.headers,
                            json={"siblings_together": True, "window": None})
    assert r.status_code == 200 and r.json()["window"] is None and r.json()["wheelchair"] is True
    [listed] = office.get("/api/transport/needs").json()["items"]
    assert listed["pupil_id"] == pupil and listed["siblings_together"] is True
    actions = [a["action"] for a in admin.get("/api/audit", entity_id=pupil).json()["items"]]
    assert {"transport_need_create", "transport_need_update", "read_transport_needs"} <= set(actions)
    r = office.client.patch(f"/api/transport/needs/{pupil}", headers=office.headers, json={"retired": True})
    assert r.json()["retired"] is True
    assert office.get("/api/transport/needs").json()["items"] == []


def test_bad_needs_are_refused_by_field(world):
    office, _, ids = world
    r = office.post("/api/transport/needs", {"pupil_id": ids["pupil"], "seats": 0, "boarding_s": 99999,
                                             "window": {"from": "09:00", "to": "08:00"}, "max_ride_min": 1})
    assert r.status_code == 422
    assert set(r.json()["error"]["details"]["fields"]) == {"seats", "boarding_s", "window", "max_ride_min"}
    assert office.post("/api/transport/needs", {"pupil_id": new_id()}).status_code == 422
    assert office.post("/api/transport/needs", {"pupil_id": "nope"}).status_code == 422
    r = office.client.patch(f"/api/transport/needs/{ids['pupil']}", headers=office.headers, json={"seats": 2})
    assert r.status_code == 404
    assert office.get("/api/transport/needs").json()["items"] == []
