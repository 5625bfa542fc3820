"""Termly targeting meetings in the office (server/casework/targeting*.py), through HTTP.

The small register (marks from 7 Sep 2026, AM then PM, one school; hand-worked):

    Ava   6 present, 14 N   30.0%  severe (70% missed), over the threshold, open case (support)
    Cara  9 present, 11 N   45.0%  severe (55% missed), over the threshold, no case
    Ben  17 present,  3 N   85.0%  persistent (15% missed)
    Eve 100 present, 10 N   90.9%  at risk (9.1% missed) but over the threshold (10 N in its last week)
    Dan  20 present         100.0% on no list
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import re
import uuid
from typing import Any

import pytest
from starlette.testclient import TestClient

from server.register import marks
from sync import schema

from .conftest import text_of
from .helpers import make_band, marks_csv


def add_pupil(office: Any, ids: dict[str, str], upn: str, first: str, last: str = "Test") -> str:
    pupil = str(uuid.uuid4())
    r = office.push([office.change("pupil", pupil, {"upn": upn, "first_name": first, "last_name": last,
                                                    "school_id": ids["school"], "year_group": 8})])
    assert r.json()["results"][0]["status"] == "applied", r.text
    return pupil


def register(world: Any, app_state: Any) -> dict[str, str]:
    office, _officer, ids = world
    pupils = {"ava": ids["pupil"]}
    make_band(app_state, "A123456789012", present=6, unauthorised=14)
    for key, upn, first, present, unauthorised in (("cara", "C123456789012", "Cara", 9, 11),
                                                   ("ben", "B123456789012", "Ben", 17, 3),
                                                   ("eve", "E123456789012", "Eve", 100, 10),
                                                   ("dan", "D123456789012", "Dan", 20, 0)):
        pupils[key] = add_pupil(office, ids, upn, first)
        make_band(app_state, upn, present=present, unauthorised=unauthorised)
    return pupils


def rows_of(html: str) -> list[str]:
    """The worklist table's rows as text."""
    table = html[html.index('class="tg-worklist"'):]
    table = table[:table.index("</table>")]
    return [text_of(r).strip() for r in re.findall(r"<tr[^>]*>(.*?)</tr>", table, re.S)[1:]]


GOOD = {"held_on": dt.date.today().isoformat(), "a_name_0": "Sue Patel", "a_role_0": "Attendance lead",
        "a_side_0": "school", "a_name_1": "Tom Reed", "a_role_1": "Education welfare officer", "a_side_1": "la",
        "notes": "Autumn meeting."}


def test_worklist_lists_bands_threshold_cases_and_severe_without_plan(world, office_page, app_state):
    _office, officer, ids = world
    pupils = register(world, app_state)
    page = office_page()
    index = page.get("/office/targeting")
    assert index.status_code == 200
    start = index.text.index("Hexthorpe Primary")
    row = text_of(index.text[start:index.text.index("</tr>", start)]).strip()
    # persistent, severe, severe without a plan, over the threshold, last meeting
    assert row == "Hexthorpe Primary 3 2 2 3 None yet Due this term", row
    html = page.get(f"/office/targeting/schools/{ids['school']}").text
    rows = rows_of(html)
    assert [" ".join(r.split(" ")[:2]) for r in rows] == ["Ava Stone", "Cara Test", "Ben Test", "Eve Test"]
    ava, cara, ben, eve = rows
    assert "30.0%" in ava and "6 of 20" in ava and "Severe Persistent Over the threshold" in ava
    assert "Support" in ava and officer.user["username"] in ava and "No plan" in ava
    assert "45.0%" in cara and "9 of 20" in cara and "Severe, no plan" in cara and "None" in cara
    assert "85.0%" in ben and "17 of 20" in ben and "Persistent" in ben and "Severe" not in ben
    assert "90.9%" in eve and "100 of 110" in eve and "Over the threshold" in eve and "Persistent" not in eve
    assert all("New to the list" in r for r in rows)  # no meeting yet
    assert "Dan Test" not in html
    # the severely absent without a plan: their own section, first on the page
    section = html[html.index('id="severe-without-plan"'):html.index("</section>")]
    assert html.index('id="severe-without-plan"') < html.index('class="tg-worklist"')
    assert "Severely absent without an attendance plan (2)" in text_of(section)
    assert "Ava Stone" in section and "Cara Test" in section and "Ben Test" not in section
    assert f'href="/office/cases/{ids["case"]}"' in section
    assert pupils["cara"] in section


def test_recording_a_meeting_then_the_trend_at_the_next(world, office_page, app_state, login):
    _office, _officer, ids = world
    pupils = register(world, app_state)
    page = office_page()
    url = f"/office/targeting/schools/{ids['school']}/meeting"
    form = page.get(url)
    assert form.status_code == 200 and f'name="d_{pupils["eve"]}"' in form.text
    body = {**GOOD, f"d_{pupils['ava']}": "la_case", f"by_{pupils['ava']}": "Sue Patel and Tom Reed",
            f"note_{pupils['ava']}": "Case continues; contract next.",
            f"d_{pupils['cara']}": "la_case", f"by_{pupils['cara']}": "Tom Reed",
            f"d_{pupils['ben']}": "school_led", f"by_{pupils['ben']}": "Sue Patel",
            f"note_{pupils['ben']}": "=HYPERLINK(\"x\")"}
    r = page.post(url, body)
    assert r.status_code == 303, text_of(r.text)
    meeting_url = r.headers["location"].split("?")[0]
    meeting_id = meeting_url.rsplit("/", 1)[1]
    shown = page.get(r.headers["location"]).text
    text = text_of(shown)
    assert "Meeting saved." in text and "Sue Patel, Attendance lead (School)" in text
    assert "Tom Reed, Education welfare officer (Local authority)" in text
    assert "Decisions (3)" in text and "Also on the list, not discussed (1)" in text
    assert "LA case" in text and "School-led support" in text and "Case continues; contract next." in text
    # LA case: Ava has her case; Cara is offered one
    assert f'href="/office/cases/new?pupil={pupils["cara"]}"' in shown
    assert f'href="/office/cases/new?pupil={pupils["ava"]}"' not in shown
    assert f'href="/office/cases/{ids["case"]}"' in shown
    # audited: the meeting and each pupil it saw
    admin = login("admin")
    for entity in (meeting_id, pupils["eve"]):
        actions = [a["action"] for a in admin.get("/api/audit", entity_id=entity).json()["items"]]
        assert "targeting_meeting" in actions, actions

    # the register moves: Ben gets worse, Cara attends every session, Finn joins the list
    marks.import_csv(app_state.db, app_state.clock, marks_csv("B123456789012", ["/"] * 7 + ["N"] * 13))
    marks.import_csv(app_state.db, app_state.clock, marks_csv("C123456789012", ["/"] * 20))
    add_pupil(world[0], ids, "F123456789012", "Finn")
    make_band(app_state, "F123456789012", present=15, unauthorised=5)
    html = page.get(f"/office/targeting/schools/{ids['school']}").text
    rows = {r.split(" ")[0]: r for r in rows_of(html)}
    assert set(rows) == {"Ava", "Ben", "Eve", "Finn"}
    assert "No change: 30.0% then" in rows["Ava"] and "Agreed then: LA case" in rows["Ava"]
    assert "Worse: 85.0% then (-50.0 points) Persistent absence → Severe absence" in rows["Ben"]
    assert "35.0%" in rows["Ben"] and "Agreed then: School-led support" in rows["Ben"]
    assert "No change: 90.9% then" in rows["Eve"]
    assert "New to the list" in rows["Finn"] and "75.0%" in rows["Finn"]
    gone = text_of(html[html.index('id="off-the-list"'):])
    assert "Cara Test: 45.0% then (Severe absence), 100.0% now" in gone
    assert f'href="/office/targeting/meetings/{meeting_id}"' in html


def test_a_meeting_with_mistakes_is_not_saved_and_says_why_beside_each_field(world, office_page, app_state):
    _office, _officer, ids = world
    pupils = register(world, app_state)
    page = office_page()
    url = f"/office/targeting/schools/{ids['school']}/meeting"
    tomorrow = (dt.date.today() + dt.timedelta(days=1)).isoformat()
    r = page.post(url, {"held_on": tomorrow, "a_name_0": "Sue Patel", "a_side_0": "school",
                        "a_role_1": "Head", "a_side_1": "la",
                        f"d_{pupils['ava']}": "la_case",
                        f"d_{pupils['ben']}": "prosecute", f"by_{pupils['ben']}": "Sue",
                        f"by_{pupils['eve']}": "Sue"})
    assert r.status_code == 422

    def beside(name: str) -> str:
        match = re.search(rf'id="err-{name}">([^<]*)<', r.text)
        assert match, name
        return text_of(match.group(1))

    assert "cannot be in the future" in beside("held_on")
    assert "Give their role" in beside("a_role_0")
    assert "Give this attendee's name" in beside("a_name_1")
    assert "Say who agreed this decision" in beside(f"by_{pupils['ava']}")
    assert "Choose one of the decisions listed" in beside(f"d_{pupils['ben']}")
    assert "Choose a decision" in beside(f"d_{pupils['eve']}")
    assert f'id="d-{pupils["ben"]}" name="d_{pupils["ben"]}" aria-invalid="true"' in r.text
    assert 'value="Sue Patel"' in r.text  # what was typed is kept
    only_school = page.post(url, {**{k: v for k, v in GOOD.items() if not k.endswith("_1")},
                                  f"d_{pupils['ava']}": "no_action", f"by_{pupils['ava']}": "Sue"})
    assert only_school.status_code == 422
    assert "someone from the school and someone from the authority" in only_school.text
    none_decided = page.post(url, GOOD)
    assert none_decided.status_code == 422 and "Record at least one decision" in none_decided.text
    stranger = page.post(url, {**GOOD, f"d_{uuid.uuid4()}": "no_action"})
    assert stranger.status_code == 422 and "no longer on this school" in stranger.text
    assert "No meeting recorded with this school yet." in page.get(f"/office/targeting/schools/{ids['school']}").text
    assert page.post(url, {**GOOD, f"d_{pupils['ava']}": "no_action", f"by_{pupils['ava']}": "Sue"},
                     csrf=False).status_code == 403


def test_worklist_csv_and_formula_escaping(world, office_page, app_state):
    office, _officer, ids = world
    register(world, app_state)
    add_pupil(office, ids, "G123456789012", "=SUM(A1)", "@Risky")
    make_band(app_state, "G123456789012", present=2, unauthorised=18)
    page = office_page()
    r = page.get(f"/office/targeting/schools/{ids['school']}/worklist.csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert [x["upn"] for x in rows] == ["G123456789012", "A123456789012", "C123456789012", "B123456789012",
                                        "E123456789012"]
    risky, ava, cara, ben, eve = rows
    assert risky["first_name"] == "'=SUM(A1)" and risky["last_name"] == "'@Risky"
    assert risky["attendance_pct"] == "10.0" and risky["band"] == "severe"
    assert ava["lists"] == "severe persistent threshold" and ava["case_stage"] == "support"
    assert ava["severe_without_plan"] == "yes" and ava["support_plan"] == "no" and ava["open_case_id"] == ids["case"]
    assert ben["band"] == "persistent" and ben["severe_without_plan"] == "no" and ben["lists"] == "persistent"
    assert eve["attendance_pct"] == "90.9" and eve["band"] == "at_risk" and eve["penalty_threshold_met"] == "yes"
    assert cara["trend"] == "new" and cara["pct_at_last_meeting"] == ""


def test_office_staff_only(world, office_page, client, app_state, login):
    _office, _officer, ids = world
    paths = ["/office/targeting", f"/office/targeting/schools/{ids['school']}",
             f"/office/targeting/schools/{ids['school']}/worklist.csv",
             f"/office/targeting/schools/{ids['school']}/print",
             f"/office/targeting/schools/{ids['school']}/meeting"]
    admin = office_page("admin")
    for path in paths:
        assert admin.get(path).status_code == 200, path
    assert admin.get(f"/office/targeting/schools/{uuid.uuid4()}").status_code == 404
    assert admin.get("/office/targeting/schools/not-a-school").status_code == 404
    assert admin.get(f"/office/targeting/meetings/{uuid.uuid4()}").status_code == 404
    officer = login("officer")  # an officer's token opens no office page
    with TestClient(client.app) as other:
        for path in paths:
            r = other.get(path, headers=officer.headers, follow_redirects=False)
            assert r.status_code == 303 and r.headers["location"].startswith("/office/login"), path
    with app_state.db.write() as txn:  # a signed-in user who is now an officer
        txn.execute("UPDATE users SET role = 'officer' WHERE id = ?", (admin.user["id"],))
    for path in paths:
        r = admin.get(path)
        assert r.status_code == 403 and "for office and admin staff" in r.text, path


def test_printable_form(world, office_page, app_state):
    _office, _officer, ids = world
    register(world, app_state)
    page = office_page()
    html = page.get(f"/office/targeting/schools/{ids['school']}/print").text
    assert '/office/static/targeting.css' in html and 'class="tg-print-list"' in html
    text = text_of(html)
    assert "Severely absent without an attendance plan (2)" in text
    assert text.index("Ava Stone") < text.index("Cara Test") < text.index("Ben Test") < text.index("Eve Test")
    css = page.get("/office/static/targeting.css").text
    assert "@media print" in css and ".top" in css


@pytest.mark.skipif("support_plan" not in schema.FIELDS, reason="the support_plan type is not declared yet")
def test_a_support_plan_takes_a_pupil_off_the_severe_without_plan_list(world, office_page, app_state):
    office, _officer, ids = world
    register(world, app_state)
    page = office_page()

    def without_plan() -> list[str]:
        html = page.get(f"/office/targeting/schools/{ids['school']}").text
        section = html[html.index('id="severe-without-plan"'):html.index("</section>")]
        return sorted(n for n in ("Ava Stone", "Cara Test") if n in section)

    def push_plan(status: str, **extra: Any) -> str:
        plan_id = str(uuid.uuid4())
        fields = {"case_id": ids["case"], "status": status, "review_on": "2027-01-15",
                  "actions": [{"action": "Meet the SENCo", "owner": "school", "due_on": "2026-12-18"}], **extra}
        r = office.push([office.change("support_plan", plan_id, fields)])
        assert r.json()["results"][0]["status"] == "applied", r.text
        return plan_id

    push_plan("draft")  # not agreed yet: no plan in place
    assert without_plan() == ["Ava Stone", "Cara Test"]
    first = push_plan("submitted")
    assert without_plan() == ["Cara Test"]
    html = page.get(f"/office/targeting/schools/{ids['school']}").text
    ava = next(r for r in rows_of(html) if r.startswith("Ava"))
    assert ava.endswith("Yes") and "No plan" not in ava
    rows = list(csv.DictReader(io.StringIO(page.get(f"/office/targeting/schools/{ids['school']}/worklist.csv")
                                           .content.decode("utf-8-sig"))))
    assert [(x["first_name"], x["support_plan"], x["severe_without_plan"]) for x in rows[:2]] == [
        ("Ava", "yes", "no"), ("Cara", "no", "yes")]
    second = push_plan("submitted", supersedes=first, review_outcome="continue")  # reviewed, continues
    assert without_plan() == ["Cara Test"]
    push_plan("submitted", supersedes=second, review_outcome="improved_ended")  # reviewed, ended
    assert without_plan() == ["Ava Stone", "Cara Test"]
