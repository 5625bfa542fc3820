"""An office review reaches its officer's phone as a ``review`` record (docs/protocol.md §7.7), and
a follow-up the office asked for is answered by the officer's note, conversation or visit."""
from __future__ import annotations

import uuid
from typing import Any

from sync.notices import review_id

from .conftest import text_of
from .helpers import add_conversation, add_visit


def reviews(session: Any, cursor: str | None = None) -> dict[str, dict[str, Any]]:
    items, _ = session.pull_all(cursor)
    return {i["id"]: i for i in items if i["type"] == "review"}


def ask_follow_up(page: Any, visit: str, comment: str = "Please check the school has the new address") -> None:
    r = page.post(f"/office/visits/{visit}/review", {"state": "needs_follow_up", "comment": comment})
    assert r.status_code == 303, r.text


def test_a_review_becomes_a_record_in_its_officers_scope_only(world, office_page, login):
    office, officer, ids = world
    other = login("officer")
    visit = add_visit(officer, ids["case"])
    _, cursor = officer.pull_all()
    page = office_page()
    ask_follow_up(page, visit)

    got = reviews(officer, cursor)
    [review] = got.values()
    assert review["id"] == review_id(visit) and review["version"] == 1
    f = review["fields"]
    assert (f["subject_type"], f["subject_id"], f["case_id"], f["officer_id"]) == \
        ("visit", visit, ids["case"], officer.user["id"])
    assert f["state"] == "needs_follow_up" and f["comment"] == "Please check the school has the new address"
    assert f["reviewed_by"] == page.user["id"] and f["reviewed_by_name"] == page.user["display_name"]
    assert f["reviewed_at"].endswith("Z") and f.get("answered_id") is None
    assert reviews(other) == {}  # another officer never receives it
    assert review_id(visit) in reviews(office)

    # the office changes its mind: the same record, a new version
    assert page.post(f"/office/visits/{visit}/review", {"state": "reviewed", "comment": ""}).status_code == 303
    [again] = reviews(officer).values()
    assert again["version"] == 2 and again["fields"]["state"] == "reviewed" and again["fields"]["comment"] is None


def test_a_note_on_the_visit_answers_the_follow_up(world, office_page):
    office, officer, ids = world
    visit = add_visit(officer, ids["case"])
    page = office_page()
    ask_follow_up(page, visit)
    assert "follow-up-waiting" in page.get(f"/office/visits/{visit}").text
    note = str(uuid.uuid4())
    r = officer.push([officer.change("note", note, {"subject_type": "visit", "subject_id": visit,
                                                   "text": "School has the new address now."})])
    assert r.json()["results"][0]["status"] == "applied"
    f = reviews(officer)[review_id(visit)]["fields"]
    assert (f["answered_type"], f["answered_id"]) == ("note", note) and f["answered_at"].endswith("Z")
    assert f["state"] == "needs_follow_up"  # the office's state stays; the answer is beside it
    text = text_of(page.get(f"/office/visits/{visit}").text)
    assert "Followed up by the officer: a note reached the office" in text
    # asking again asks afresh
    ask_follow_up(page, visit, "And the GP")
    f = reviews(officer)[review_id(visit)]["fields"]
    assert f["answered_id"] is None and f["comment"] == "And the GP"


def test_a_conversation_on_the_visit_or_a_visit_that_follows_it_up_answers_too(world, office_page):
    office, officer, ids = world
    first, second = add_visit(officer, ids["case"]), add_visit(officer, ids["case"])
    page = office_page()
    ask_follow_up(page, first)
    ask_follow_up(page, second)
    conv = add_conversation(officer, ids["case"], visit_id=first)
    follow = add_visit(officer, ids["case"], follow_up_of=second)
    got = reviews(officer)
    assert (got[review_id(first)]["fields"]["answered_type"], got[review_id(first)]["fields"]["answered_id"]) == \
        ("conversation", conv)
    assert (got[review_id(second)]["fields"]["answered_type"], got[review_id(second)]["fields"]["answered_id"]) == \
        ("visit", follow)


def test_a_draft_follow_up_answers_nothing_until_it_is_submitted(world, office_page):
    office, officer, ids = world
    reviewed = add_visit(officer, ids["case"])
    ask_follow_up(office_page(), reviewed)
    follow = add_visit(officer, ids["case"], follow_up_of=reviewed, status="draft")  # saved, not final
    assert reviews(officer)[review_id(reviewed)]["fields"].get("answered_id") is None
    r = officer.push([officer.change("visit", follow, {"status": "submitted"}, base_version=1)])
    assert r.json()["results"][0]["status"] == "applied", r.text
    f = reviews(officer)[review_id(reviewed)]["fields"]
    assert (f["answered_type"], f["answered_id"]) == ("visit", follow)  # the link was set by the draft


def test_the_office_writing_a_note_does_not_answer_for_the_officer(world, office_page):
    office, officer, ids = world
    visit = add_visit(officer, ids["case"])
    ask_follow_up(office_page(), visit)
    r = office.push([office.change("note", str(uuid.uuid4()), {"subject_type": "visit", "subject_id": visit,
                                                              "text": "Office note"})])
    assert r.json()["results"][0]["status"] == "applied"
    assert reviews(officer)[review_id(visit)]["fields"].get("answered_id") is None


def test_a_conversation_review_reaches_the_phone(world, office_page):
    _office, officer, ids = world
    conv = add_conversation(officer, ids["case"])
    page = office_page()
    r = page.post(f"/office/conversations/{conv}/review", {"state": "needs_follow_up", "comment": "Agree a date"})
    assert r.status_code == 303
    f = reviews(officer)[review_id(conv)]["fields"]
    assert (f["subject_type"], f["subject_id"], f["officer_id"]) == ("conversation", conv, officer.user["id"])


def test_nobody_pushes_a_review(world, office_page):
    office, officer, ids = world
    visit = add_visit(officer, ids["case"])
    ask_follow_up(office_page(), visit)
    rid = review_id(visit)
    for session in (officer, office):
        r = session.push([session.change("review", rid, {"state": "reviewed"}, 1)])
        [result] = r.json()["results"]
        assert result["status"] == "rejected" and result["errors"][0]["code"] == "forbidden", result


def test_a_reassigned_case_takes_its_reviews_off_the_old_officers_phone(world, office_page, login):
    office, officer, ids = world
    visit = add_visit(officer, ids["case"])
    ask_follow_up(office_page(), visit)
    _, cursor = officer.pull_all()
    newcomer = login("officer")
    r = office.push([office.change("case", ids["case"], {"assigned_officer_id": newcomer.user["id"]}, 1)])
    assert r.json()["results"][0]["status"] == "applied", r.text
    items, _ = officer.pull_all(cursor)
    assert {"type": "review", "id": review_id(visit), "removed": True} in items
    assert review_id(visit) in reviews(newcomer)
