"""Over HTTP (the SQLite store's scope events): field work sent after a case left an officer's
scope may not hang on a visit another officer made afterwards (issue #16, item 8)."""
from __future__ import annotations

from tests.conftest import new_id


def results(response) -> list[dict]:
    assert response.status_code == 200, response.text
    return response.json()["results"]


def test_links_to_a_visit_made_after_the_case_left_are_refused(world, login):
    office, officer, ids = world
    other = login("officer")
    seen = new_id()
    results(office.push([office.change("visit", seen, {"case_id": ids["case"]})]))
    officer.pull_all()  # the officer has the visit
    results(office.push([office.change("case", ids["case"], {"assigned_officer_id": other.user["id"]}, 1)]))
    later = new_id()
    results(other.push([other.change("visit", later, {"case_id": ids["case"], "outcome": "no_answer"})]))

    forbidden = {"field": None, "code": "forbidden"}
    conversation = officer.change("conversation", new_id(), {"case_id": ids["case"], "visit_id": later})
    note = officer.change("note", new_id(), {"subject_type": "visit", "subject_id": later, "text": "x"})
    task = officer.change("task", new_id(), {"case_id": ids["case"], "title": "call"})
    for r in results(officer.push([conversation, note, task])):
        assert r["status"] == "rejected" and {**r["errors"][0], "message": None} == {**forbidden, "message": None}
    # on the visit the officer had, the same work is kept and flagged
    kept = [officer.change("conversation", new_id(), {"case_id": ids["case"], "visit_id": seen}),
            officer.change("note", new_id(), {"subject_type": "visit", "subject_id": seen, "text": "x"})]
    assert [r["status"] for r in results(officer.push(kept))] == ["applied", "applied"]
    items, _ = office.pull_all()
    got = {i["id"] for i in items}
    assert {kept[0]["id"], kept[1]["id"]} <= got
    assert not {conversation["id"], note["id"], task["id"]} & got
