"""Cases in the office: open, reassign (the old officer's device purges it), move along the ladder."""
from __future__ import annotations

import csv
import io
import re
import uuid

from .conftest import text_of
from .helpers import add_visit


def by_key(items):
    return {(i["type"], i["id"]): i for i in items}


def test_case_list_and_csv(world, office_page):
    _office, officer, ids = world
    page = office_page()
    html = page.get("/office/cases").text
    assert f'href="/office/cases/{ids["case"]}"' in html and "Ava Stone" in html
    assert ids["case"] not in page.get("/office/cases", stage="prosecution").text
    assert ids["case"] in page.get("/office/cases", officer=officer.user["id"]).text
    rows = list(csv.DictReader(io.StringIO(page.get("/office/cases.csv").content.decode("utf-8-sig"))))
    assert [r["case_id"] for r in rows] == [ids["case"]] and rows[0]["officer"] == officer.user["username"]


def test_open_a_case_from_the_register_link(world, office_page, login):
    office, officer, ids = world
    pupil = str(uuid.uuid4())
    assert office.push([office.change("pupil", pupil, {"upn": "B123456789012", "first_name": "Ben",
                                                       "last_name": "Hale", "school_id": ids["school"],
                                                       "household_id": ids["household"]})]).json()[
        "results"][0]["status"] == "applied"
    page = office_page()
    form = page.get("/office/cases/new", pupil=pupil).text
    assert "Ben Hale" in form and 'name="pupil_id"' in form
    r = page.post("/office/cases", {"pupil_id": pupil, "officer": officer.user["id"], "stage": "support",
                                    "opened_on": "2026-11-20", "summary": "Referred by school"})
    assert r.status_code == 303
    case_id = re.fullmatch(r"/office/cases/([0-9a-f-]{36})\?done=created", r.headers["location"]).group(1)
    assert "Case opened" in page.get(r.headers["location"]).text
    items, _ = officer.pull_all()  # the officer's device receives it
    case = by_key(items)[("case", case_id)]["fields"]
    assert case["pupil_id"] == pupil and case["assigned_officer_id"] == officer.user["id"]
    assert case["stage"] == "support" and case["opened_on"] == "2026-11-20" and case["created_by"] == page.user["id"]
    again = page.post("/office/cases", {"pupil_id": pupil, "officer": officer.user["id"], "stage": "support",
                                        "opened_on": "2026-11-20"})
    assert again.status_code == 422 and "already has an open case" in again.text


def test_open_a_case_by_upn_and_its_errors(world, office_page):
    _office, officer, _ids = world
    page = office_page()
    bad = page.post("/office/cases", {"upn": "nope", "officer": "", "stage": "support", "opened_on": "x"})
    text = text_of(bad.text)
    assert bad.status_code == 422
    assert "Give the pupil's UPN" in text and "Choose the officer" in text and "Give the date" in text
    unknown = page.post("/office/cases", {"upn": "Z999999999999", "officer": officer.user["id"], "stage": "support",
                                          "opened_on": "2026-11-20"})
    assert "No pupil has that UPN" in unknown.text
    exists = page.post("/office/cases", {"upn": "a123456789012", "officer": officer.user["id"], "stage": "support",
                                         "opened_on": "2026-11-20"})
    assert exists.status_code == 422 and "already has an open case" in exists.text


def test_new_case_cannot_start_at_enforcement(world, office_page):
    office, officer, ids = world
    pupil = str(uuid.uuid4())
    office.push([office.change("pupil", pupil, {"upn": "C123456789012", "first_name": "Cy", "last_name": "Dee",
                                                "school_id": ids["school"]})])
    page = office_page()
    r = page.post("/office/cases", {"pupil_id": pupil, "officer": officer.user["id"], "stage": "prosecution",
                                    "opened_on": "2026-11-20"})
    assert r.status_code == 422
    assert "Cannot move to prosecution: the record shows no home visit" in text_of(r.text)


def test_reassign_moves_the_case_off_the_old_officers_device(world, office_page, login):
    _office, officer, ids = world
    officer2 = login("officer")
    _, cursor1 = officer.pull_all()
    _, cursor2 = officer2.pull_all()
    page = office_page()
    r = page.post(f"/office/cases/{ids['case']}/assign", {"officer": officer2.user["id"], "version": "1"})
    assert r.status_code == 303 and r.headers["location"] == f"/office/cases/{ids['case']}?done=assigned"
    html = page.get(r.headers["location"]).text
    assert "Case reassigned" in html
    assert re.search(rf'id="case-officer">{officer2.user["username"]}<', html)
    gone, _ = officer.pull_all(cursor1)
    assert by_key(gone)[("case", ids["case"])].get("removed") is True
    assert by_key(gone)[("pupil", ids["pupil"])].get("removed") is True
    came, _ = officer2.pull_all(cursor2)
    assert by_key(came)[("case", ids["case"])]["fields"]["assigned_officer_id"] == officer2.user["id"]
    # the history says who reassigned it, from where
    history = text_of(html[html.index('id="history-heading"'):])
    assert f"{page.user['username']} no device (office pages or the server) Officer: " \
           f"{officer.user['username']} → {officer2.user['username']}" in history


def test_reassign_to_someone_not_an_officer_is_refused_in_words(world, office_page):
    _office, _officer, ids = world
    page = office_page()
    r = page.post(f"/office/cases/{ids['case']}/assign", {"officer": page.user["id"]})
    assert r.status_code == 422 and "not an active officer" in r.text
    assert page.post(f"/office/cases/{ids['case']}/assign", {"officer": "x"}).status_code == 422


def test_ladder_rule_is_shown_in_words_and_then_allowed(world, office_page):
    office, officer, ids = world
    page = office_page()
    r = page.post(f"/office/cases/{ids['case']}/stage", {"stage": "penalty_notice"})
    assert r.status_code == 422
    assert ("Cannot move to penalty notice: the record shows no home visit or doorstep conversation and no "
            "attendance contract or notice to improve.") in text_of(r.text)
    assert 'id="case-stage">Support<' in r.text  # unchanged
    assert page.post(f"/office/cases/{ids['case']}/stage", {"stage": "attendance_contract"}).status_code == 303
    r = page.post(f"/office/cases/{ids['case']}/stage", {"stage": "penalty_notice"})
    assert r.status_code == 422 and "no home visit or doorstep conversation." in text_of(r.text)
    add_visit(officer, ids["case"])
    r = page.post(f"/office/cases/{ids['case']}/stage", {"stage": "penalty_notice"})
    assert r.status_code == 303
    html = page.get(r.headers["location"]).text
    assert 'id="case-stage">Penalty notice<' in html and "Stage moved" in html
    assert 'aria-current="step" class="current">Penalty notice' in html
    items, _ = office.pull_all()
    assert by_key(items)[("case", ids["case"])]["fields"]["stage"] == "penalty_notice"


def test_unknown_case(office_page):
    page = office_page()
    assert page.get(f"/office/cases/{uuid.uuid4()}").status_code == 404
    assert page.post(f"/office/cases/{uuid.uuid4()}/stage", {"stage": "support"}).status_code == 404
    assert page.post(f"/office/cases/{uuid.uuid4()}/assign", {"officer": str(uuid.uuid4())}).status_code == 404
