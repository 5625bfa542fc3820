"""Wellbeing plans over HTTP: the office records a plan and reviews it as a new version; the case
page shows the versions and the gradual return against the pupil's actual marks (sessions attended
each planned week, from the register); a phone's plan arrives the same way
(server/relationships/wellbeing*.py)."""
from __future__ import annotations

import re
import uuid

from .conftest import text_of

UPN = "A123456789012"  # the world's pupil
WEEKS = {"week_0": "2026-11-02", "sessions_0": "2", "week_1": "2026-11-09", "sessions_1": "4",
         "week_2": "2026-11-23", "sessions_2": "6"}


def marks(office) -> None:
    """Week of 2 Nov: 3 sessions attended (/ and the approved activity P), 7 absent;
    week of 9 Nov: 2 attended; nothing yet for the week of 23 Nov."""
    rows = ["upn,date,session,code"]
    days = ["2026-11-02", "2026-11-03", "2026-11-04", "2026-11-05", "2026-11-06"]
    codes = ["/", "P", "/", "N", "N", "N", "N", "N", "N", "N"]
    rows += [f"{UPN},{d},{s},{codes[i * 2 + j]}" for i, d in enumerate(days) for j, s in enumerate(("AM", "PM"))]
    days = ["2026-11-09", "2026-11-10", "2026-11-11", "2026-11-12", "2026-11-13"]
    codes = ["/", "/", "I", "I", "I", "I", "I", "I", "I", "I"]
    rows += [f"{UPN},{d},{s},{codes[i * 2 + j]}" for i, d in enumerate(days) for j, s in enumerate(("AM", "PM"))]
    r = office.client.post("/api/register/marks", headers={**office.headers, "Content-Type": "text/csv"},
                           content="\n".join(rows) + "\n")
    assert r.status_code == 200 and r.json()["stored"] == 20, r.text


def test_the_office_records_a_wellbeing_plan_shown_against_the_marks(world, office_page, monkeypatch) -> None:
    monkeypatch.setenv("DOORSTEP_TODAY", "2026-11-20")
    office, officer, ids = world
    marks(office)
    page = office_page()
    assert "No wellbeing plan" in text_of(page.get(f"/office/cases/{ids['case']}").text)
    half = page.post(f"/office/cases/{ids['case']}/wellbeing", {"week_0": "2026-11-02"})
    assert half.status_code == 422 and "Week 1: give the date" in text_of(half.text)
    falling = page.post(f"/office/cases/{ids['case']}/wellbeing", {**WEEKS, "sessions_2": "1"})
    assert falling.status_code == 422 and "gradual return rises: week 3 plans fewer sessions than week 2" in text_of(falling.text)
    r = page.post(f"/office/cases/{ids['case']}/wellbeing", {
        **WEEKS, "what_helps": "Arriving before the crowds", "what_makes_it_harder": "The busy corridor",
        "trusted_adult": "Mrs Khan (pastoral)", "safe_space": "The library", "adjustment_0": "Early arrival",
        "adjustment_1": "Time-out card", "review_on": "2026-12-07"})
    assert r.status_code == 303, r.text
    html = page.get(f"/office/cases/{ids['case']}").text
    words = text_of(html)
    assert "Version 1 (current)" in words and "Mrs Khan (pastoral)" in words and "Time-out card" in words
    table = text_of(re.search(r"<table class=\"wellbeing-weeks\".*?</table>", html, re.S).group(0))
    assert "2 Nov 2026 2 3 of 10 As planned or better" in table
    assert "9 Nov 2026 4 2 of 10 Fewer than planned" in table
    assert "23 Nov 2026 6 — Still to come" in table
    assert 'class="chart wellbeing-chart"' in html and "2 attended of 4 planned" in html
    first = re.search(r'data-wellbeing-plan="([0-9a-f-]+)"', html).group(1)
    review = page.get(f"/office/cases/{ids['case']}/wellbeing/new", reviews=first).text
    assert 'value="Mrs Khan (pastoral)"' in review and "version 2" in text_of(review)
    r = page.post(f"/office/cases/{ids['case']}/wellbeing", {**WEEKS, "supersedes": first, "trusted_adult": "Mr Ali"})
    assert r.status_code == 303, r.text
    words = text_of(page.get(f"/office/cases/{ids['case']}").text)
    assert "Version 2 (current)" in words and "Version 1 (reviewed)" in words and "Mrs Khan (pastoral)" in words
    items, _ = officer.pull_all()
    versions = sorted((i["fields"]["plan_version"], i["fields"].get("supersedes")) for i in items
                      if i["type"] == "wellbeing_plan")
    assert versions == [(1, None), (2, first)]


def test_a_phone_sends_a_wellbeing_plan_and_the_office_sees_the_draft(world, office_page) -> None:
    _office, officer, ids = world
    plan = str(uuid.uuid4())
    r = officer.push([officer.change("wellbeing_plan", plan, {
        "case_id": ids["case"], "safe_space": "The art room",
        "return_timetable": [{"week_starting": "2026-11-02", "sessions": 4}, {"week_starting": "2026-11-09"}]})])
    assert [e["field"] for e in r.json()["results"][0]["errors"]] == ["return_timetable"]
    r = officer.push([officer.change("wellbeing_plan", plan, {"case_id": ids["case"], "safe_space": "The art room"})])
    assert r.json()["results"][0]["status"] == "applied"
    page = office_page()
    words = text_of(page.get(f"/office/cases/{ids['case']}").text)
    assert "Only drafts so far" in words and "Version 1 (draft)" in words and "The art room" in words
    assert page.get(f"/office/cases/{uuid.uuid4()}/wellbeing/new").status_code == 404
