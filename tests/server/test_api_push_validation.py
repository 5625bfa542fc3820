"""Validation inside a push: many kinds of bad change in one batch are each ``rejected`` with
errors naming the field, while the good changes in the same batch are ``applied``.

(Malformed requests to every endpoint: tests/server/test_api_bad_input.py.)
"""
from __future__ import annotations

import uuid
from typing import Any


def test_each_bad_change_is_rejected_naming_the_field_and_the_good_ones_apply(world):
    office, officer, ids = world
    good_visit = officer.change("visit", str(uuid.uuid4()), {"case_id": ids["case"], "outcome": "no_answer",
                                                             "notes": "Nobody home"})
    good_note = officer.change("note", str(uuid.uuid4()), {"subject_type": "case", "subject_id": ids["case"],
                                                           "text": "Left a card"})

    def visit(**fields: Any) -> dict[str, Any]:
        return officer.change("visit", str(uuid.uuid4()), {"case_id": ids["case"], **fields})

    bad: list[tuple[str, Any, str]] = [  # (label, change, field the errors must name)
        ("change_id not a uuid", {**visit(), "change_id": "change-1"}, "change_id"),
        ("unknown type", {**visit(), "type": "spaceship"}, "type"),
        ("id not a uuid", {**visit(), "id": "visit-1"}, "id"),
        ("unknown op", {**visit(), "op": "patch"}, "op"),
        ("fields not an object", {**visit(), "fields": ["case_id"]}, "fields"),
        ("negative base_version", {**visit(), "base_version": -1}, "base_version"),
        ("base_version a string", {**visit(), "base_version": "3"}, "base_version"),
        ("hlc garbage", {**visit(), "hlc": "yesterday"}, "hlc"),
        ("outcome not allowed", visit(outcome="abducted_by_aliens"), "outcome"),
        ("unknown field", visit(colour="blue"), "colour"),
        ("lat out of range", visit(lat=91.5), "lat"),
        ("lon a string", visit(lon="west"), "lon"),
        ("child_seen not a boolean", visit(child_seen="yes"), "child_seen"),
        ("started_at not a time", visit(started_at="half past nine"), "started_at"),
        ("barriers not a list", visit(barriers="housing"), "barriers"),
        ("barrier unknown", visit(barriers=["boredom"]), "barriers"),
        ("notes too long", visit(notes="x" * 10_001), "notes"),
        ("status unknown", visit(status="done"), "status"),
        ("case_id not a uuid", officer.change("visit", str(uuid.uuid4()), {"case_id": "case-1"}), "case_id"),
        ("case_id unknown", officer.change("visit", str(uuid.uuid4()), {"case_id": str(uuid.uuid4())}),
         "case_id"),
        ("task without title", officer.change("task", str(uuid.uuid4()), {"case_id": ids["case"]}), "title"),
        ("task due_on impossible date", officer.change(
            "task", str(uuid.uuid4()), {"case_id": ids["case"], "title": "Call", "due_on": "2026-02-30"}),
         "due_on"),
        ("delete carrying fields", {**visit(notes="x"), "op": "delete"}, "fields"),
        ("conversation agreed_actions malformed", officer.change(
            "conversation", str(uuid.uuid4()), {"case_id": ids["case"], "agreed_actions": [{"who": "me"}]}),
         "agreed_actions"),
    ]
    batch = [good_visit] + [c for _, c, _ in bad] + [good_note]
    r = officer.push(batch)
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert len(results) == len(batch)
    assert results[0]["status"] == "applied", results[0]
    assert results[-1]["status"] == "applied", results[-1]
    for (label, change, name), result in zip(bad, results[1:-1]):
        assert result["status"] == "rejected", (label, result)
        assert result["version"] is None and result["lost_fields"] == [], (label, result)
        assert result["errors"], (label, result)
        for e in result["errors"]:
            assert set(e) >= {"field", "code", "message"}, (label, e)
            assert isinstance(e["code"], str) and isinstance(e["message"], str) and e["message"], (label, e)
        assert name in [e["field"] for e in result["errors"]], (label, result["errors"])
        if isinstance(change.get("change_id"), str) and len(change["change_id"]) <= 100:
            assert result["change_id"] == change["change_id"], (label, result)
    by_label = dict(zip([b[0] for b in bad], results[1:-1]))
    assert by_label["unknown type"]["errors"][0]["code"] == "unknown_type"
    assert "not_found" in [e["code"] for e in by_label["case_id unknown"]["errors"]]

    # Nothing of the rejected changes was written; the good ones were.
    pulled, _ = office.pull_all()
    pulled_ids = {c["id"] for c in pulled}
    assert good_visit["id"] in pulled_ids and good_note["id"] in pulled_ids
    for label, change, _ in bad:
        if isinstance(change.get("id"), str):
            assert change["id"] not in pulled_ids, f"rejected change was written: {label}"


def test_non_object_changes_are_rejected_one_by_one(world):
    _, officer, ids = world
    good = officer.change("note", str(uuid.uuid4()), {"subject_type": "case", "subject_id": ids["case"],
                                                      "text": "ok"})
    junk = [42, "change", None, [], True]
    r = officer.push([*junk, good])
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert [x["status"] for x in results] == ["rejected"] * len(junk) + ["applied"]
    for result in results[:-1]:
        assert result["errors"] and result["errors"][0]["code"] == "validation_failed"


def test_an_officer_writing_a_read_only_field_is_rejected_naming_it(world):
    office, officer, ids = world
    good = officer.change("visit", str(uuid.uuid4()), {"case_id": ids["case"]})
    school = officer.change("school", ids["school"], {"name": "Renamed"}, base_version=1)
    household = officer.change("household", ids["household"], {"address": "1 Other Street"}, base_version=1)
    register = office.change("pupil", ids["pupil"], {"attendance_pct": 100.0}, base_version=1)
    r = officer.push([school, household, good])
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert [x["status"] for x in results] == ["rejected", "rejected", "applied"], results
    assert {e["code"] for e in results[0]["errors"]} == {"forbidden"}
    assert [e["field"] for e in results[1]["errors"]] == ["address"]
    assert results[1]["errors"][0]["code"] == "forbidden"
    r = office.push([register])
    result = r.json()["results"][0]
    assert result["status"] == "rejected"
    assert [(e["field"], e["code"]) for e in result["errors"]] == [("attendance_pct", "forbidden")]
