"""A pupil with everything a subject access export gathers, and a stranger it must leave out
(shared by tests/server/test_subject_export.py and tests/office/test_subject_page.py)."""
from __future__ import annotations

import io
import uuid
import zipfile
from typing import Any

import orjson

from tests.office.helpers import add_conversation, add_visit, make_band

UPN = "A123456789012"  # tests/conftest.py's world pupil
STRANGER_UPN = "Z987654321098"


def build(world: Any, app_state: Any) -> dict[str, str]:
    """The world's pupil with a sibling, contacts, a visit, a conversation, a note, a task, a
    transport stop and marks; and a stranger in another household with a case and a visit."""
    office, officer, ids = world
    new = {k: str(uuid.uuid4()) for k in ("sibling", "note", "task", "run", "stop", "s_household", "s_pupil",
                                          "s_case")}
    r = office.push([
        office.change("household", ids["household"], {"contacts": [
            {"name": "Jo Stone", "relationship": "mother", "phone": "07700 900123"}]}, base_version=1),
        office.change("pupil", new["sibling"], {"upn": "B123456789012", "first_name": "Ben", "last_name": "Stone",
                                                "school_id": ids["school"], "household_id": ids["household"]}),
        office.change("task", new["task"], {"case_id": ids["case"], "title": "Ring the school"}),
        office.change("transport_run", new["run"], {"date": "2026-11-05", "school_id": ids["school"]}),
        office.change("transport_stop", new["stop"], {"run_id": new["run"], "pupil_id": ids["pupil"],
                                                      "household_id": ids["household"]}),
        office.change("household", new["s_household"], {"address": "1 Far Road"}),
        office.change("pupil", new["s_pupil"], {"upn": STRANGER_UPN, "first_name": "Cal", "last_name": "Other",
                                                "school_id": ids["school"], "household_id": new["s_household"]}),
        office.change("case", new["s_case"], {"pupil_id": new["s_pupil"],
                                              "assigned_officer_id": officer.user["id"]}),
    ])
    assert all(x["status"] in ("applied", "merged") for x in r.json()["results"]), r.text
    new["visit"] = add_visit(officer, ids["case"], notes="Mum says the bus is late")
    new["conversation"] = add_conversation(officer, ids["case"], visit_id=new["visit"])
    r = officer.push([officer.change("note", new["note"], {"subject_type": "visit", "subject_id": new["visit"],
                                                             "text": "Follow up with the SENCo"})])
    assert r.json()["results"][0]["status"] == "applied", r.text
    new["s_visit"] = add_visit(officer, new["s_case"], notes="Stranger's visit")
    make_band(app_state, UPN, present=8, unauthorised=2)
    return {**ids, **new}


def read_zip(data: bytes) -> dict[str, Any]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {name: zf.read(name).decode() if name.endswith(".txt") else orjson.loads(zf.read(name))
                for name in zf.namelist()}


def check_archive(files: dict[str, Any], ids: dict[str, str]) -> None:
    """Everything about the pupil and household is there, nothing of the stranger."""
    def record_ids(name: str) -> set[str]:
        return {r["id"] for r in files[name]}

    assert record_ids("pupil.json") == {ids["pupil"]}
    assert files["pupil.json"][0]["fields"]["upn"] == UPN
    household = files["household.json"][0]
    assert household["id"] == ids["household"] and household["fields"]["contacts"][0]["name"] == "Jo Stone"
    assert record_ids("household_members.json") == {ids["sibling"]}
    assert record_ids("cases.json") == {ids["case"]}
    assert record_ids("visits.json") == {ids["visit"]}
    assert record_ids("conversations.json") == {ids["conversation"]}
    assert record_ids("notes.json") == {ids["note"]}
    assert record_ids("tasks.json") == {ids["task"]}
    assert {r["id"] for r in files["transport.json"]["stops"]} == {ids["stop"]}
    assert {r["id"] for r in files["transport.json"]["runs"]} == {ids["run"]}
    attendance = files["attendance.json"][ids["pupil"]]
    assert [m["code"] for m in attendance["marks"]] == ["/"] * 8 + ["N"] * 2
    assert any(f["unauthorised_absences"] == 2 for f in attendance["figures"].values())
    changed = {c["entity_id"] for c in files["changes.json"]}
    assert {ids["pupil"], ids["household"], ids["case"], ids["visit"], ids["note"]} <= changed
    actions = {a["action"] for a in files["audit.json"]}
    assert {"push", "marks_import"} <= actions, actions
    everything = orjson.dumps({k: v for k, v in files.items() if k != "README.txt"}).decode()
    for key in ("s_pupil", "s_case", "s_visit", "s_household"):
        assert ids[key] not in everything, key
    assert STRANGER_UPN not in everything and "Stranger's visit" not in everything
    readme = files["README.txt"]
    assert UPN in readme
    for name in files:
        if name != "README.txt":
            assert name in readme, name
