"""Subject access covers the records added with casework, relationships and transport planning:
a pupil given each kind through the API, the office pages and the functions they call, then
exported with ``doorstep export subject``; each is in the archive, the letter as its PDF."""
from __future__ import annotations

import datetime as dt
import hashlib
import io
import uuid
import zipfile
from typing import Any

import orjson
import pytest

from server.cli import main
from server.relationships import praise
from tests.office.conftest import office_page, text_of  # noqa: F401  (fixture)
from tests.office.test_legal import MUM, WEEK1, admin, legal_case, notice_ids, request  # noqa: F401  (fixtures)

UPN = "A123456789012"  # the world's pupil, Ava Stone


def ok(response: Any) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert all(r["status"] in ("applied", "merged") for r in results), results
    return results


def read(data: bytes) -> dict[str, Any]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {n: zf.read(n) if n.endswith(".pdf") else zf.read(n).decode() if n.endswith(".txt")
                else orjson.loads(zf.read(n)) for n in zf.namelist()}


def ago(minutes: int) -> str:
    return (dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=minutes)).isoformat(timespec="seconds") \
        .replace("+00:00", "Z")


@pytest.fixture
def everything(legal_case, admin, world, app_state) -> dict[str, str]:  # noqa: F811
    page, ids = legal_case
    office, officer, _ = world
    new = {k: str(uuid.uuid4()) for k in ("mum", "plan1", "plan2", "wb1", "wb2", "check_in", "s_household",
                                         "s_person")}
    ok(office.push([
        office.change("household", ids["household"], {"contacts": [
            {"name": "Jo Stone", "relationship": "mother", "phone": "07700 900456"}]}, base_version=1),
        office.change("person", new["mum"], {"household_id": ids["household"], "name": "Jo Stone",
                                             "relationship": "mother", "phone": "07700 900456"}),
        office.change("household", new["s_household"], {"address": "1 Far Road"}),
        office.change("person", new["s_person"], {"household_id": new["s_household"], "name": "Stranger Parent"}),
    ]))
    ok(officer.push([officer.change("support_plan", new["plan1"], {
        "case_id": ids["case"], "barriers": [], "actions": [{"action": "Walk to school with a friend"}],
        "review_on": "2026-12-01", "status": "submitted"})]))
    ok(officer.push([officer.change("support_plan", new["plan2"], {
        "case_id": ids["case"], "supersedes": new["plan1"], "actions": [{"action": "Breakfast club"}],
        "review_on": "2027-01-15", "status": "draft"})]))
    ok(officer.push([officer.change("wellbeing_plan", new["wb1"], {
        "case_id": ids["case"], "what_helps": "A quiet start in the library", "status": "submitted"})]))
    ok(officer.push([officer.change("wellbeing_plan", new["wb2"], {
        "case_id": ids["case"], "supersedes": new["wb1"], "what_helps": "Art first thing", "status": "draft"})]))
    ok(officer.push([officer.change("check_in", new["check_in"], {
        "case_id": ids["case"], "started_at": ago(90), "expected_minutes": 30})]))
    assert page.post(f"/office/check-ins/{new['check_in']}/acknowledge", {"note": "Rang the officer"}) \
        .status_code == 303
    # praise: the functions the praise page calls (the pupil's marks are not improving here)
    with app_state.db.write() as txn:
        suggestions = praise.suggest(txn, [ids["pupil"]], allow_during_legal=True, interval_days=30)
        [new["message"]] = praise.queue(txn, suggestions, page.user["id"])
    r = page.post(f"/office/households/{ids['household']}/contact-preferences",
                  {"opted_out": "yes", "reason": "Asked at the door"})
    assert r.status_code == 303
    # transport needs through the API
    r = office.post("/api/transport/needs", {"pupil_id": ids["pupil"], "wheelchair": True,
                                             "driver_note": "ramp at the side door"})
    assert r.status_code == 201, r.text
    # the legal steps: a Notice to Improve, a penalty notice issued, its letter
    case = ids["case"]
    assert page.post(f"/office/cases/{case}/legal/nti", {"issued_on": "2026-10-12", "p1_name": MUM[0],
                                                          "p1_address": MUM[1]}).status_code == 303
    request(page, case, MUM, WEEK1)
    with app_state.db.read() as txn:
        kinds = {r["kind"]: r["id"] for r in txn.rows("SELECT id, kind FROM legal_notices WHERE case_id = ?", (case,))}
    new["nti"], new["pn"] = kinds["notice_to_improve"], kinds["penalty_notice"]
    assert new["pn"] in notice_ids(page, case)
    assert admin.post(f"/office/legal/notices/{new['pn']}/review", {"decision": "approved"}).status_code == 303
    assert admin.post(f"/office/legal/notices/{new['pn']}/issue", {"issued_on": "2026-11-16", "method": "post"}) \
        .status_code == 303
    assert page.post(f"/office/legal/notices/{new['pn']}/letter").status_code == 303
    # a termly targeting meeting decides about the pupil
    r = page.post(f"/office/targeting/schools/{ids['school']}/meeting", {
        "held_on": dt.date.today().isoformat(), "a_name_0": "Sue Patel", "a_role_0": "Attendance lead",
        "a_side_0": "school", "a_name_1": "Tom Reed", "a_role_1": "Education welfare officer", "a_side_1": "la",
        "notes": "Autumn meeting.", f"d_{ids['pupil']}": "la_case", f"by_{ids['pupil']}": "Sue Patel"})
    assert r.status_code == 303, text_of(r.text)
    new["meeting"] = r.headers["location"].split("?")[0].rsplit("/", 1)[1]
    return {**ids, **new}


@pytest.mark.slow  # a letter is printed with WeasyPrint
def test_every_new_kind_of_record_is_in_the_archive(everything, db_path, tmp_path, app_state):
    ids = everything
    out = tmp_path / "sar.zip"
    assert main(["--db", db_path, "export", "subject", "--pupil", UPN, "--out", str(out)]) == 0
    files = read(out.read_bytes())

    assert [r["id"] for r in files["persons.json"]] == [ids["mum"]]
    plans = {r["id"]: r["fields"] for r in files["support_plans.json"]}
    assert set(plans) == {ids["plan1"], ids["plan2"]} and plans[ids["plan2"]]["plan_version"] == 2
    assert {r["id"] for r in files["wellbeing_plans.json"]} == {ids["wb1"], ids["wb2"]}
    check_ins = files["check_ins.json"]
    assert [r["id"] for r in check_ins["records"]] == [ids["check_in"]]
    assert check_ins["office_acknowledgements"][0]["note"] == "Rang the officer"

    legal = files["legal_steps.json"]
    assert {n["id"]: n["kind"] for n in legal["notices"]} == {ids["nti"]: "notice_to_improve",
                                                              ids["pn"]: "penalty_notice"}
    assert {n["status"] for n in legal["notices"]} == {"issued"}
    assert {"requested", "approved", "issued", "letter"} <= {e["action"] for e in legal["events"]}
    assert len(legal["penalty_sessions"]) == 10
    [letter] = legal["letters"]
    pdf = files[letter["file"]]
    assert pdf.startswith(b"%PDF") and hashlib.sha256(pdf).hexdigest() == letter["sha256"]

    [decision] = files["targeting.json"]
    assert decision["meeting_id"] == ids["meeting"] and decision["decision"] == "la_case"
    assert decision["attendees"] and "notes" not in decision

    messages = files["messages.json"]
    assert [m["id"] for m in messages["texts"]] == [ids["message"]]
    assert messages["texts"][0]["status"] == "cancelled"  # the family opted out after it was queued
    assert messages["contact_preferences"][0]["opted_out"] == 1

    [need] = files["transport_planning.json"]["needs"]
    assert need["pupil_id"] == ids["pupil"] and need["data"]["wheelchair"] is True

    # the change log and the audit log cover the new records
    changed = {c["entity_id"] for c in files["changes.json"]}
    assert {ids["mum"], ids["plan1"], ids["plan2"], ids["wb1"], ids["wb2"], ids["check_in"]} <= changed
    actions = {a["action"] for a in files["audit.json"]}
    assert {"legal_letter", "message_queued", "contact_preferences", "targeting_meeting"} <= actions, actions
    # the other household's parent is not this subject's
    everything_text = orjson.dumps({k: v for k, v in files.items() if k.endswith(".json")}).decode()
    assert ids["s_person"] not in everything_text and "Stranger Parent" not in everything_text
    readme = files["README.txt"]
    assert "letters/ (1 PDF file)" in readme
    for name in files:
        if name.endswith(".json"):
            assert name in readme, name
    # the export is audited, with the letters counted
    with app_state.db.read() as txn:
        [row] = txn.rows("SELECT detail FROM audit WHERE action = 'subject_export'")
    assert orjson.loads(row["detail"])["letters"] == 1


def test_a_pull_that_returned_a_plan_or_check_in_is_found_by_its_id_in_the_audit_log(world, login):
    """support_plan, wellbeing_plan, check_in and person are personal (``audit.PERSONAL_TYPES``): the
    pull pages that showed one are indexed by its id."""
    office, officer, ids = world
    new = {k: str(uuid.uuid4()) for k in ("person", "plan", "wellbeing", "check_in")}
    ok(office.push([office.change("person", new["person"], {"household_id": ids["household"], "name": "Jo Stone"})]))
    ok(officer.push([
        officer.change("support_plan", new["plan"], {"case_id": ids["case"], "status": "draft"}),
        officer.change("wellbeing_plan", new["wellbeing"], {"case_id": ids["case"], "status": "draft"}),
        officer.change("check_in", new["check_in"], {"case_id": ids["case"], "started_at": ago(5),
                                                     "expected_minutes": 30})]))
    pulled = {i["id"] for i in office.pull_all()[0]}
    assert set(new.values()) <= pulled
    admin = login("admin")
    for key, id_ in new.items():
        actions = [a["action"] for a in admin.get("/api/audit", entity_id=id_).json()["items"]]
        assert "pull" in actions, (key, actions)


def test_a_county_plan_that_placed_the_pupil_is_exported_without_the_other_pupils(world, app_state, db_path,
                                                                                  tmp_path):
    """A stored county plan (as the planning job stores it, server/transport/county_plan.py) carrying
    the pupil and another child on one vehicle: the export has the pupil's entry and stop only."""
    _office, _officer, ids = world
    other = str(uuid.uuid4())
    problem = {"pupils": [{"id": ids["pupil"], "school": "s1", "seats": 1}, {"id": other, "school": "s1"}]}
    plan = {"routes": [{"vehicle": "taxi-1", "depart": "07:40", "stops": [
        {"type": "pickup", "pupils": [ids["pupil"]], "pickup": "07:50"},
        {"type": "pickup", "pupils": [other], "pickup": "08:00"},
        {"type": "drop", "pupils": [ids["pupil"], other], "school": "s1", "drop": "08:20"}],
        "ride_s": {ids["pupil"]: 1800, other: 1200}},
        {"vehicle": "taxi-2", "stops": [{"type": "pickup", "pupils": [other]}], "ride_s": {other: 600}}]}
    with app_state.db.write() as txn:
        txn.execute("INSERT INTO transport_plans (id, date, run, created_at, created_by, problem, plan) "
                    "VALUES ('plan-1', '2026-12-07', 'am', '2026-12-06T10:00:00Z', NULL, ?, ?)",
                    (orjson.dumps(problem).decode(), orjson.dumps(plan).decode()))
    out = tmp_path / "sar.zip"
    assert main(["--db", db_path, "export", "subject", "--pupil", UPN, "--out", str(out)]) == 0
    [found] = read(out.read_bytes())["transport_planning.json"]["county_plans"]
    assert found["id"] == "plan-1" and found["request"] == problem["pupils"][0]
    [trip] = found["trips"]
    assert trip["vehicle"] == "taxi-1" and trip["ride_s"] == 1800
    assert [s["type"] for s in trip["stops"]] == ["pickup", "drop"]
    assert other not in orjson.dumps(found).decode()
