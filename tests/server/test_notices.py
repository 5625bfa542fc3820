"""Notices (docs/protocol.md §7.6) and the combined-value resolve (§5.6), through the HTTP API.

An officer whose value is set aside in a conflict — at their own push, or afterwards when a
concurrent change replaces what they had synced — gets a ``notice`` record in their next pull,
and nobody else does; the office can resolve a conflict with a value of its own.
"""
from __future__ import annotations

import json
import time
import uuid
from typing import Any

import pytest

from tests.conftest import new_id


def results(response: Any) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    return response.json()["results"]


def stamp(session: Any, ms_ago: int) -> str:
    """An HLC stamp of this device, ``ms_ago`` milliseconds before now."""
    return f"{int(time.time() * 1000) - ms_ago:015d}-000000-{session.device_id}"


def change(session: Any, type_: str, id_: str, fields: dict[str, Any], base: int | None, hlc: str) -> dict[str, Any]:
    return {"change_id": new_id(), "type": type_, "id": id_, "op": "put", "fields": fields,
            "base_version": base, "hlc": hlc}


def of_type(session: Any, type_: str) -> list[dict[str, Any]]:
    items, _ = session.pull_all()
    return [i for i in items if i["type"] == type_ and not i.get("removed") and not i.get("deleted")]


@pytest.fixture
def two_officers(world, login):
    """The world's officer (``a``, on "phone-a") and a second officer (``b``, on "phone-b") with a case
    on Ava's brother: both see the household at 12 Shady Lane."""
    office, first, ids = world
    a = login("officer", username=first.user["username"], device="phone-a")
    b = login("officer", device="phone-b")
    brother, case_b = new_id(), new_id()
    assert [r["status"] for r in results(office.push([
        office.change("pupil", brother, {"upn": "A123456789013", "first_name": "Leo", "last_name": "Stone",
                                         "school_id": ids["school"], "household_id": ids["household"]}),
        office.change("case", case_b, {"pupil_id": brother, "assigned_officer_id": b.user["id"]}),
    ]))] == ["applied", "applied"]
    return office, a, b, ids


def test_a_value_replaced_after_it_was_synced_is_told_to_its_officer_only(two_officers):
    office, a, b, ids = two_officers
    hh = ids["household"]
    # both edited version 1 offline; a synced first, b's edit was made later (newer stamp)
    mine = change(a, "household", hh, {"access_notes": "Dog in the yard, ring twice"}, 1, stamp(a, 4000))
    theirs = change(b, "household", hh, {"access_notes": "Use the back door"}, 1, stamp(b, 2000))
    assert results(a.push([mine]))[0]["status"] == "applied"
    assert results(b.push([theirs]))[0]["status"] == "applied"  # it wins, without having seen a's

    [notice] = of_type(a, "notice")
    f = notice["fields"]
    assert f["recipient_id"] == a.user["id"] and f["kind"] == "replaced"
    assert (f["record_type"], f["record_id"], f["field"]) == ("household", hh, "access_notes")
    assert f["about"] == "12 Shady Lane"
    assert f["your_text"] == "Dog in the yard, ring twice" and f["their_text"] == "Use the back door"
    assert f["replaced_by"] == b.user["id"] and f["replaced_by_name"] == b.user["display_name"]
    assert f["replaced_on"] == "phone-b" and f["your_device"] == "phone-a"
    # to the millisecond, from the two stamps
    assert f["your_at"] < f["replaced_at"] and f["replaced_at"].endswith("Z") and len(f["replaced_at"]) == 24
    assert f["change_id"] is None and f.get("dismissed") is None
    assert notice["fields"]["created_by"] == "system"
    # privacy: the other officer (whose value won) never receives it, in a snapshot or since a cursor
    assert of_type(b, "notice") == []
    # the office sees every record
    assert [n["id"] for n in of_type(office, "notice")] == [notice["id"]]
    [conflict] = office.get("/api/conflicts", status="open").json()["items"]
    assert conflict["lost"]["value"] == "Dog in the yard, ring twice"


def test_a_value_that_loses_at_its_own_push_is_told_with_the_change(two_officers):
    office, a, b, ids = two_officers
    hh = ids["household"]
    _, cursor_a = a.pull_all()
    _, cursor_b = b.pull_all()
    theirs = change(b, "household", hh, {"access_notes": "Key safe code 4321"}, 1, stamp(b, 2000))
    mine = change(a, "household", hh, {"access_notes": "Gate sticks"}, 1, stamp(a, 4000))
    assert results(b.push([theirs]))[0]["status"] == "applied"
    [result] = results(a.push([mine]))
    assert result["status"] == "merged" and result["lost_fields"] == ["access_notes"]

    items, _ = a.pull_all(cursor_a)
    [notice] = [i for i in items if i["type"] == "notice"]
    f = notice["fields"]
    assert f["kind"] == "lost_at_push" and f["change_id"] == mine["change_id"]
    assert f["your_text"] == "Gate sticks" and f["their_text"] == "Key safe code 4321"
    assert f["replaced_by_name"] == b.user["display_name"] and f["replaced_on"] == "phone-b"
    items_b, _ = b.pull_all(cursor_b)
    assert [i for i in items_b if i["type"] == "notice"] == []
    # sending the same push again (a lost answer) makes no second notice
    assert results(a.push([mine]))[0]["status"] == "duplicate"
    assert len(of_type(a, "notice")) == 1


def test_one_officer_on_two_phones_is_told_on_both(world, login):
    _office, officer, ids = world
    phone = login("officer", username=officer.user["username"], device="phone")
    tablet = login("officer", username=officer.user["username"], device="tablet")
    hh = ids["household"]
    early = change(tablet, "household", hh, {"access_notes": "ring twice"}, 1, stamp(tablet, 4000))
    late = change(phone, "household", hh, {"access_notes": "use the side gate"}, 1, stamp(phone, 2000))
    assert results(phone.push([late]))[0]["status"] == "applied"
    assert results(tablet.push([early]))[0]["status"] == "merged"
    for device in (phone, tablet):
        [notice] = of_type(device, "notice")
        assert notice["fields"]["your_text"] == "ring twice" and notice["fields"]["your_device"] == "tablet"
        assert notice["fields"]["replaced_on"] == "phone"


def test_no_notice_when_the_set_aside_value_is_the_offices(world):
    office, officer, ids = world
    hh = ids["household"]
    assert results(office.push([change(office, "household", hh, {"access_notes": "office note"}, 1,
                                       stamp(office, 4000))]))[0]["status"] == "applied"
    assert results(officer.push([change(officer, "household", hh, {"access_notes": "officer note"}, 1,
                                        stamp(officer, 2000))]))[0]["status"] == "applied"
    assert len(office.get("/api/conflicts", status="open").json()["items"]) == 1
    assert of_type(officer, "notice") == [] and of_type(office, "notice") == []


def test_an_officer_dismisses_their_own_notice_and_nothing_else(two_officers):
    office, a, b, ids = two_officers
    hh = ids["household"]
    results(a.push([change(a, "household", hh, {"access_notes": "one"}, 1, stamp(a, 4000))]))
    results(b.push([change(b, "household", hh, {"access_notes": "two"}, 1, stamp(b, 2000))]))
    [notice] = of_type(a, "notice")
    nid, version = notice["id"], notice["version"]

    # b cannot touch a's notice; nobody creates one; only ``dismissed`` is the officer's to write
    [r] = results(b.push([b.change("notice", nid, {"dismissed": True}, version)]))
    assert r["status"] == "rejected" and r["errors"][0]["code"] == "forbidden"
    [r] = results(a.push([a.change("notice", nid, {"their_text": "changed"}, version)]))
    assert r["status"] == "rejected" and r["errors"][0] == {
        "field": "their_text", "code": "forbidden", "message": "officers may not change notice.their_text"}
    [r] = results(a.push([a.change("notice", new_id(), {
        "recipient_id": a.user["id"], "kind": "replaced", "record_type": "household", "record_id": hh})]))
    assert r["status"] == "rejected" and r["errors"][0]["code"] == "forbidden"
    [r] = results(office.push([office.change("notice", nid, {"dismissed": True}, version)]))
    assert r["status"] == "rejected" and r["errors"][0]["message"] == "notice records are written by the server"
    [r] = results(a.push([a.change("notice", nid, {}, version, op="delete")]))
    assert r["status"] == "rejected" and r["errors"][0]["code"] == "not_deletable"

    [r] = results(a.push([a.change("notice", nid, {"dismissed": True}, version)]))
    assert r["status"] == "applied"
    [after] = of_type(a, "notice")
    assert after["fields"]["dismissed"] is True and after["fields"]["their_text"] == "two"
    # the same dismissal from the officer's other phone is no conflict (equal values)
    other = b.client.post("/api/auth/login", json={"username": a.user["username"], "password": "correct-horse-battery",
                                                   "device_name": "tablet"}).json()
    headers = {"Authorization": f"Bearer {other['access_token']}", "Doorstep-Protocol": "1"}
    r = b.client.post("/api/sync/push", headers=headers, json={"changes": [
        change(a, "notice", nid, {"dismissed": True}, version, f"{int(time.time() * 1000):015d}-000000-{other['device_id']}")]})
    assert r.json()["results"][0]["status"] == "applied"
    assert [c for c in office.get("/api/conflicts").json()["items"] if c["type"] == "notice"] == []


def test_a_notice_names_a_visits_pupil_and_case(world, login):
    office, officer, ids = world
    tablet = login("officer", username=officer.user["username"], device="tablet")
    visit = new_id()
    results(officer.push([change(officer, "visit", visit, {"case_id": ids["case"], "notes": "first"}, None,
                                 stamp(officer, 5000))]))
    results(officer.push([change(officer, "visit", visit, {"notes": "phone text"}, 1, stamp(officer, 1000))]))
    [r] = results(tablet.push([change(tablet, "visit", visit, {"notes": "tablet text"}, 1, stamp(tablet, 3000))]))
    assert r["status"] == "merged"
    [notice] = of_type(officer, "notice")
    f = notice["fields"]
    assert (f["record_type"], f["case_id"], f["about"], f["field"]) == ("visit", ids["case"], "Ava Stone", "notes")
    assert f["your_text"] == "tablet text" and f["their_text"] == "phone text"


# -- the combined value (§5.6) -------------------------------------------------------


def make_conflict(world, login) -> tuple[dict[str, Any], Any]:
    _office, officer, ids = world
    tablet = login("officer", username=officer.user["username"], device="tablet")
    hh = ids["household"]
    assert results(officer.push([change(officer, "household", hh, {"access_notes": "use the side gate"}, 1,
                                        stamp(officer, 2000))]))[0]["status"] == "applied"
    assert results(tablet.push([change(tablet, "household", hh, {"access_notes": "ring twice"}, 1,
                                       stamp(tablet, 4000))]))[0]["status"] == "merged"
    [conflict] = world[0].get("/api/conflicts", status="open").json()["items"]
    return conflict, tablet


def test_the_office_resolves_with_a_combined_value(world, login, app_state):
    office, officer, ids = world
    conflict, _ = make_conflict(world, login)
    _, cursor = officer.pull_all()
    combined = "Use the side gate and ring twice"
    r = office.post(f"/api/conflicts/{conflict['id']}/resolve", {"value": combined})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "resolved" and body["choice"] == "combined" and body["value"] == combined
    assert body["kept"] == conflict["kept"] and body["lost"] == conflict["lost"]
    [done] = office.get("/api/conflicts", status="resolved").json()["items"]
    assert done["choice"] == "combined" and done["value"] == combined
    items, _ = officer.pull_all(cursor)  # every device in scope gets it as a new change
    [household] = [i for i in items if i["id"] == ids["household"]]
    assert household["fields"]["access_notes"] == combined
    rows = app_state.db.query("SELECT user_id, action, detail FROM audit WHERE action = 'resolve_conflict'")
    assert [(row["user_id"], json.loads(row["detail"])) for row in rows] == [
        (office.user["id"], {"choose": "combined", "field": "access_notes"})]
    again = office.post(f"/api/conflicts/{conflict['id']}/resolve", {"value": "again"})
    assert again.status_code == 422 and "already resolved" in again.json()["error"]["message"]


@pytest.mark.parametrize("body, message", [
    ({"value": "x" * 2001}, "value: access_notes must be at most 2000 characters"),
    ({"value": 12}, "value: access_notes must be a string"),
    ({"value": ["a"]}, "value: access_notes must be a string"),
    ({"value": "both", "choose": "kept"}, "send either choose or value, not both"),
])
def test_a_combined_value_is_checked_by_the_fields_rule(world, login, body, message):
    office, _officer, _ids = world
    conflict, _ = make_conflict(world, login)
    r = office.post(f"/api/conflicts/{conflict['id']}/resolve", body)
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error["code"] == "validation_failed" and error["message"] == message
    assert error["details"]["field"] in ("value", "choose")
    assert len(office.get("/api/conflicts", status="open").json()["items"]) == 1  # nothing changed


def test_a_combined_value_keeps_the_rules_on_the_whole_record(world, login):
    office, officer, ids = world
    tablet = login("officer", username=officer.user["username"], device="tablet")
    visit = new_id()
    results(officer.push([change(officer, "visit", visit, {"case_id": ids["case"], "outcome": "no_answer",
                                                           "safeguarding_concern": True,
                                                           "concern_details": "first"}, None, stamp(officer, 5000))]))
    results(officer.push([change(officer, "visit", visit, {"concern_details": "bruise on arm"}, 1,
                                 stamp(officer, 1000))]))
    results(tablet.push([change(tablet, "visit", visit, {"concern_details": "seemed withdrawn"}, 1,
                                stamp(tablet, 3000))]))
    results(officer.push([officer.change("visit", visit, {"status": "submitted"}, 2)]))
    [conflict] = office.get("/api/conflicts", status="open").json()["items"]
    blank = office.post(f"/api/conflicts/{conflict['id']}/resolve", {"value": "  "})
    assert blank.status_code == 422
    assert blank.json()["error"]["message"] == "value: a safeguarding concern needs its details"
    # a combined value may still correct a submitted visit, as a choice may (§5.4)
    ok = office.post(f"/api/conflicts/{conflict['id']}/resolve",
                     {"value": "Bruise on arm; seemed withdrawn"})
    assert ok.status_code == 200, ok.text
    visits = {i["id"]: i for i in of_type(officer, "visit")}
    assert visits[visit]["fields"]["concern_details"] == "Bruise on arm; seemed withdrawn"


def test_a_whole_record_conflict_takes_a_side_not_a_value(world, login):
    office, officer, ids = world
    tablet = login("officer", username=officer.user["username"], device="tablet")
    task = new_id()
    results(officer.push([change(officer, "task", task, {"case_id": ids["case"], "title": "Call school"}, None,
                                 stamp(officer, 5000))]))
    results(officer.push([change(officer, "task", task, {"title": "Call the SENCo"}, 1, stamp(officer, 1000))]))
    [r] = results(tablet.push([{**change(tablet, "task", task, {}, 1, stamp(tablet, 3000)), "op": "delete"}]))
    assert r["status"] == "merged"
    [conflict] = office.get("/api/conflicts", status="open").json()["items"]
    assert conflict["field"] is None
    r = office.post(f"/api/conflicts/{conflict['id']}/resolve", {"value": {"title": "x"}})
    assert r.status_code == 422 and r.json()["error"]["details"] == {"field": "value"}


def test_an_officer_may_not_resolve(world, login):
    _office, officer, _ids = world
    conflict, _ = make_conflict(world, login)
    r = officer.post(f"/api/conflicts/{conflict['id']}/resolve", {"value": "mine"})
    assert r.status_code == 403


def test_unknown_conflict_is_404_with_a_value_too(world):
    office, _officer, _ids = world
    r = office.post(f"/api/conflicts/{uuid.uuid4()}/resolve", {"value": "x"})
    assert r.status_code == 404
