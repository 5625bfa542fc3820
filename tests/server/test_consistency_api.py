"""Consistency checks through the HTTP sync API (sync/schema.py CONSISTENCY): a change
that breaks an error rule is rejected naming the field; a warning's combination is accepted."""
from __future__ import annotations

from tests.conftest import new_id


def push_one(session, fields: dict) -> dict:
    r = session.push([session.change("visit", new_id(), fields)])
    assert r.status_code == 200, r.text
    return r.json()["results"][0]


def test_errors_are_rejected_with_the_field_and_warnings_accepted(world):
    _office, officer, ids = world
    seen = {"case_id": ids["case"], "status": "submitted", "outcome": "child_seen", "child_seen": False}
    r = push_one(officer, seen)
    assert r["status"] == "rejected"
    assert [(e["field"], e["code"]) for e in r["errors"]] == [("child_seen", "validation_failed")]
    assert "child was seen" in r["errors"][0]["message"]

    backwards = {"case_id": ids["case"], "status": "draft", "started_at": "2026-11-04T10:30:00Z",
                 "ended_at": "2026-11-04T10:00:00Z"}
    r = push_one(officer, backwards)
    assert r["status"] == "rejected" and r["errors"][0]["field"] == "started_at"

    # possible, if unusual: the child seen at a window when nobody answered
    r = push_one(officer, {"case_id": ids["case"], "status": "submitted", "outcome": "no_answer", "child_seen": True})
    assert r["status"] == "applied", r

    # a later change is checked against the whole record: a draft made consistent, then broken
    visit_id = new_id()
    r = officer.push([officer.change("visit", visit_id, {"case_id": ids["case"], "status": "draft",
                                                        "outcome": "child_seen", "child_seen": True})]).json()["results"][0]
    assert r["status"] == "applied", r
    r = officer.push([officer.change("visit", visit_id, {"child_seen": False}, base_version=r["version"])]).json()["results"][0]
    assert r["status"] == "rejected" and r["errors"][0]["field"] == "child_seen"
