"""The visit log: order, filters, paging, the detail with its history, reviews, CSV, escaping."""
from __future__ import annotations

import csv
import io
import re
import uuid

import orjson

from .conftest import text_of
from .helpers import add_conversation, add_visit, make_band


def ids_in_order(html: str) -> list[str]:
    return re.findall(r'<tr class="[^"]*" data-id="([0-9a-f-]{36})"', html)


def test_log_lists_visits_and_conversations_newest_first_with_concerns_on_top(world, office_page):
    _office, officer, ids = world
    old = add_visit(officer, ids["case"], started_at="2026-10-01T09:00:00Z")
    concern = add_visit(officer, ids["case"], started_at="2026-09-01T09:00:00Z", safeguarding_concern=True,
                        concern_details="Bruising on the arm", outcome="seen_child_and_parent")
    new = add_visit(officer, ids["case"], started_at="2026-11-10T09:00:00Z")
    conv = add_conversation(officer, ids["case"])  # received now: the newest of all
    page = office_page()
    html = page.get("/office/visits").text
    assert ids_in_order(html) == [concern, conv, new, old]
    row = html[html.index(f'data-id="{concern}"'):]
    row = row[:row.index("</tr>")]
    assert 'class="row-concern"' in html[html.index(f'data-id="{concern}"') - 40:html.index(f'data-id="{concern}"')]
    assert "Safeguarding concern" in text_of(row)  # marked in words, not colour only


def test_filters(world, office_page, login):
    office, officer, ids = world
    officer2 = login("officer")
    seen = add_visit(officer, ids["case"], outcome="seen_child_and_parent", started_at="2026-11-02T09:00:00Z")
    not_seen = add_visit(officer, ids["case"], outcome="no_answer", child_seen=False,
                         started_at="2026-11-05T09:00:00Z")
    concern = add_visit(officer, ids["case"], safeguarding_concern=True, concern_details="Said she is hungry",
                        started_at="2026-11-07T09:00:00Z")
    conv = add_conversation(officer, ids["case"])
    # a second officer's visit on a case of their own
    case2 = str(uuid.uuid4())
    assert office.push([office.change("case", case2, {"pupil_id": ids["pupil"],
                                                      "assigned_officer_id": officer2.user["id"]})]).json()[
        "results"][0]["status"] == "applied"
    other = add_visit(officer2, case2, started_at="2026-11-20T09:00:00Z")
    page = office_page()

    def listed(**params: str) -> set[str]:
        r = page.get("/office/visits", **params)
        assert r.status_code == 200
        return set(ids_in_order(r.text))

    assert listed() == {seen, not_seen, concern, conv, other}
    assert listed(child_not_seen="1") == {not_seen}
    assert listed(concern="1") == {concern}
    assert listed(outcome="no_answer") == {not_seen}
    assert listed(kind="conversation") == {conv}
    assert listed(kind="visit") == {seen, not_seen, concern, other}
    assert listed(officer=officer2.user["id"]) == {other}
    assert listed(officer=officer.user["id"]) == {seen, not_seen, concern, conv}
    assert listed(**{"from": "2026-11-03", "to": "2026-11-07"}) == {not_seen, concern}
    assert listed(**{"from": "2026-11-08", "kind": "visit"}) == {other}
    assert listed(review="new") == {seen, not_seen, concern, conv, other}
    assert listed(review="reviewed") == set()
    # unusable values are ignored and said so, never a server error
    r = page.get("/office/visits", outcome="<script>", **{"from": "yesterday"})
    assert r.status_code == 200 and "Some filters were ignored" in r.text and "<script>" not in r.text


def test_out_of_scope_submissions(world, office_page, login):
    office, officer, ids = world
    officer2 = login("officer")
    r = office.push([office.change("case", ids["case"], {"assigned_officer_id": officer2.user["id"]}, 1)])
    assert r.json()["results"][0]["status"] == "applied"
    late = add_visit(officer, ids["case"], notes="Done before I heard it was moved")
    normal = add_visit(officer2, ids["case"])
    page = office_page()
    html = page.get("/office/visits", out_of_scope="1").text
    assert ids_in_order(html) == [late]
    assert "Out of scope" in text_of(html) and normal not in html
    assert "left" in text_of(page.get(f"/office/visits/{late}").text)


def test_paging_keeps_the_filters(world, office_page):
    _office, officer, ids = world
    made = [add_visit(officer, ids["case"], started_at=f"2026-10-{day:02d}T09:00:00Z", child_seen=False,
                      outcome="no_answer") for day in range(1, 31)]
    page = office_page()
    first = page.get("/office/visits", child_not_seen="1").text
    assert len(ids_in_order(first)) == 25 and "Page 1 of 2" in first
    assert 'href="/office/visits?child_not_seen=1&amp;page=2"' in first
    second = page.get("/office/visits", child_not_seen="1", page="2").text
    assert ids_in_order(second) == list(reversed(made))[25:]
    assert page.get("/office/visits", page="999").status_code == 200  # clamped to the last page


def test_review_is_kept_with_who_and_when(world, office_page, app_state):
    _office, officer, ids = world
    visit = add_visit(officer, ids["case"])
    page = office_page()
    assert "Not reviewed yet" in page.get(f"/office/visits/{visit}").text
    r = page.post(f"/office/visits/{visit}/review", {"state": "reviewed", "comment": "Checked against the register"})
    assert r.status_code == 303 and r.headers["location"] == f"/office/visits/{visit}?saved=review#review"
    html = text_of(page.get(f"/office/visits/{visit}").text)
    assert f"Reviewed by {page.user['username']}," in html
    assert "“Checked against the register”" in html
    row = app_state.db.query("SELECT state, user_id, at FROM reviews WHERE entity_id = ?", (visit,))[0]
    assert row["state"] == "reviewed" and row["user_id"] == page.user["id"] and row["at"].startswith("20")
    # follow-up needs a comment; the list shows the state
    assert page.post(f"/office/visits/{visit}/review", {"state": "needs_follow_up"}).status_code == 422
    assert page.post(f"/office/visits/{visit}/review", {"state": "needs_follow_up",
                                                        "comment": "Ask school about Fridays"}).status_code == 303
    listed = page.get("/office/visits", review="needs_follow_up").text
    assert visit in listed and "Needs follow-up" in listed
    history = app_state.db.query("SELECT state FROM review_history WHERE entity_id = ? ORDER BY id", (visit,))
    assert [h["state"] for h in history] == ["reviewed", "needs_follow_up"]
    assert page.post(f"/office/visits/{visit}/review", {"state": "bogus"}).status_code == 422
    assert page.post(f"/office/visits/{uuid.uuid4()}/review", {"state": "reviewed"}).status_code == 404


def test_conversation_review_and_detail(world, office_page):
    _office, officer, ids = world
    conv = add_conversation(officer, ids["case"], reason_given="Bus pass ran out")
    page = office_page()
    html = text_of(page.get(f"/office/conversations/{conv}").text)
    assert "Bus pass ran out" in html and "Meet the SENCo — school, due 20 Nov 2026" in html
    assert page.post(f"/office/conversations/{conv}/review", {"state": "reviewed"}).status_code == 303
    assert "Reviewed by" in text_of(page.get(f"/office/conversations/{conv}").text)


def test_detail_shows_every_version_with_who_when_and_device(world, office_page, login):
    _office, officer, ids = world
    visit_id = str(uuid.uuid4())
    draft = officer.change("visit", visit_id, {"case_id": ids["case"], "outcome": "no_answer", "child_seen": False,
                                               "notes": "First knock"})
    assert officer.push([draft]).json()["results"][0]["version"] == 1
    edit = officer.change("visit", visit_id, {"notes": "Second knock, card left", "outcome": "card_left",
                                              "status": "submitted"}, 1)
    assert officer.push([edit]).json()["results"][0]["version"] == 2
    page = office_page()
    html = page.get(f"/office/visits/{visit_id}").text
    history = html[html.index('id="history-heading"'):]
    text = text_of(history)
    assert "phone" in text  # the device's name (tests/conftest.py signs in as "phone")
    assert text.count(officer.user["username"]) >= 2
    assert "Notes: First knock → Second knock, card left" in text  # before → after
    assert "<del>First knock</del>" in history and "<ins>Second knock, card left</ins>" in history
    assert "Outcome: No answer → Card left" in text


def test_severely_absent_child_not_seen_stands_out(world, office_page, app_state):
    _office, officer, ids = world
    make_band(app_state, "A123456789012", present=4, unauthorised=16)  # 20% attendance: severe
    visit = add_visit(officer, ids["case"], outcome="no_answer", child_seen=False)
    page = office_page()
    html = page.get("/office/visits").text
    at = html.index(f'data-id="{visit}"')
    assert 'class="row-alert"' in html[at - 40:at]
    assert "Severely absent, child not seen" in text_of(html)
    detail = text_of(page.get(f"/office/visits/{visit}").text)
    assert "Severely absent child not seen" in detail and "20.0% attendance" in detail


def test_record_text_is_escaped(world, office_page):
    _office, officer, ids = world
    visit = add_visit(officer, ids["case"], notes='<script>alert("x")</script><img src=x onerror=alert(1)>')
    page = office_page()
    for path in ("/office/visits", f"/office/visits/{visit}"):
        html = page.get(path).text
        assert "<script>alert" not in html and "<img src=x" not in html
        assert "&lt;script&gt;" in html


def test_log_csv_follows_the_filters_and_neutralises_formulas(world, office_page):
    _office, officer, ids = world
    add_visit(officer, ids["case"], notes="=HYPERLINK(\"http://evil\")", child_seen=False, outcome="no_answer")
    add_visit(officer, ids["case"], notes="Fine")
    page = office_page()
    r = page.get("/office/visits.csv", child_not_seen="1")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert len(rows) == 1 and rows[0]["summary"].startswith("'=HYPERLINK")
    assert rows[0]["child_seen"] == "no" and rows[0]["officer"] == officer.user["username"]


def test_every_view_of_pupil_records_is_audited(world, office_page, app_state):
    _office, officer, ids = world
    visit = add_visit(officer, ids["case"])
    page = office_page()
    page.get("/office/visits")
    page.get(f"/office/visits/{visit}")
    rows = app_state.db.query("SELECT entity_ids, detail FROM audit WHERE action = 'office_view' AND user_id = ?",
                              (page.user["id"],))
    pages = [orjson.loads(r["detail"])["page"] for r in rows]
    assert pages == ["visit log", "visit detail"]
    assert all(ids["pupil"] in orjson.loads(r["entity_ids"]) for r in rows)


def test_unknown_record_is_a_404_page(office_page):
    page = office_page()
    assert page.get(f"/office/visits/{uuid.uuid4()}").status_code == 404
    assert page.get("/office/visits/not-an-id").status_code == 404
    assert page.get("/office/no-such-page").status_code == 404
