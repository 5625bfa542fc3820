"""``POST /api/audit/events`` (docs/protocol.md §9.7): an officer may name only records in their
scope, records they once had, or ids the server never stored (issue #16, item 8)."""
from __future__ import annotations

from tests.conftest import new_id


def event(ids: list[str]) -> dict:
    return {"event": "outbox_unreadable", "details": {"count": len(ids)}, "entity_ids": ids}


def device_rows(admin, entity_id: str) -> list[dict]:
    rows = admin.get("/api/audit", entity_id=entity_id).json()["items"]
    return [r for r in rows if r["action"].startswith("device:")]


def test_an_officer_cannot_name_a_pupil_outside_their_scope(world, login):
    office, officer, ids = world
    admin = login("admin")
    stranger = {k: new_id() for k in ("pupil", "case")}
    r = office.push([
        office.change("pupil", stranger["pupil"], {"upn": "B123456789012", "first_name": "Cy", "last_name": "Wren",
                                                   "school_id": ids["school"], "household_id": ids["household"]}),
        office.change("case", stranger["case"], {"pupil_id": stranger["pupil"]})])
    assert r.status_code == 200, r.text
    lost = new_id()
    r = officer.post("/api/audit/events", event([ids["pupil"], lost, stranger["pupil"], stranger["case"]]))
    assert r.status_code == 403
    assert r.json() == {"error": {"code": "forbidden", "message": "entity_ids names records outside your caseload",
                                  "details": {"field": "entity_ids",
                                              "ids": sorted([stranger["pupil"], stranger["case"]])}}}
    assert device_rows(admin, stranger["pupil"]) == [] and device_rows(admin, ids["pupil"]) == []
    # their own pupil, and work the server never received, are fine
    assert officer.post("/api/audit/events", event([ids["pupil"], lost])).status_code == 201
    assert len(device_rows(admin, ids["pupil"])) == 1 and len(device_rows(admin, lost)) == 1
    # the office sees everything, so it may name anything
    assert office.post("/api/audit/events", event([stranger["pupil"]])).status_code == 201


def test_records_the_officer_had_before_the_case_moved_may_still_be_named(world, login):
    office, officer, ids = world
    other = login("officer")
    visit = new_id()
    assert officer.push([officer.change("visit", visit, {"case_id": ids["case"]})]).status_code == 200
    r = office.push([office.change("case", ids["case"], {"assigned_officer_id": other.user["id"]}, 1)])
    assert r.status_code == 200
    assert officer.post("/api/audit/events", event([visit, ids["case"], ids["pupil"]])).status_code == 201
    later = new_id()
    assert other.push([other.change("visit", later, {"case_id": ids["case"]})]).status_code == 200
    r = officer.post("/api/audit/events", event([later]))
    assert r.status_code == 403 and r.json()["error"]["details"]["ids"] == [later]
