"""The legal steps in the office (server/casework/legal_pages.py), through the real app: term dates
imported, a Notice to Improve to each parent, a penalty notice requested, reviewed and issued with
its amounts and dates, the sessions used once per parent, the refused third, and what is due."""
from __future__ import annotations

import re

import pytest
from starlette.testclient import TestClient

from server.app import create_app
from server.register import marks

from .conftest import OfficePage, text_of
from .helpers import add_visit, marks_csv

UPN = "A123456789012"
TERMS = ("school_urn,kind,starts_on,ends_on,name\n,term,2026-09-02,2026-10-23,Autumn 1\n"
         ",term,2026-11-02,2026-12-18,Autumn 2\n")
MUM, DAD = ("Jo Stone", "12 Shady Lane, Hexthorpe"), ("Sam Stone", "4 Mill Road, Balby")


@pytest.fixture
def legal_case(world, office_page, app_state):
    """The world's case with support on record, term dates, and 30 unauthorised sessions
    (Monday 7 to Friday 25 September 2026, AM and PM)."""
    office, officer, ids = world
    add_visit(officer, ids["case"])
    report = marks.import_csv(app_state.db, app_state.clock, marks_csv(UPN, ["N"] * 30, start="2026-09-07"))
    assert not report.rejected
    page = office_page("office")
    r = page.post("/office/legal/calendar/import", files={"file": ("terms.csv", TERMS.encode(), "text/csv")})
    assert r.status_code == 303, text_of(r.text)
    return page, ids


@pytest.fixture
def admin(app_state, make_user):
    """An admin signed in on a browser of their own (the issuing permission is the admin role's)."""
    with TestClient(create_app(app_state=app_state), raise_server_exceptions=False) as client:
        page = OfficePage(client, make_user("admin"))
        assert page.sign_in().status_code == 303
        yield page


def sessions_form(page, case_id: str, dates: list[str]) -> list[str]:
    """The checkbox values of these dates' sessions on the case's legal page."""
    html = page.get(f"/office/cases/{case_id}/legal").text
    boxes = re.findall(r'name="sessions" value="(\d+-\d)"> (\S+) (AM|PM)', html)
    return [value for value, day, _s in boxes if day in dates]


def request(page, case_id: str, parent: tuple[str, str], dates: list[str], **more):
    return page.post(f"/office/cases/{case_id}/legal/pn", {
        "name": parent[0], "address": parent[1], "ground": "threshold", "requested_by": "Hexthorpe Primary",
        "requested_on": "2026-10-01", "sessions": sessions_form(page, case_id, dates), **more})


def notice_ids(page, case_id: str) -> list[str]:
    return re.findall(r'id="notice-([0-9a-f-]{36})"', page.get(f"/office/cases/{case_id}/legal").text)


WEEK1 = ["2026-09-07", "2026-09-08", "2026-09-09", "2026-09-10", "2026-09-11"]
WEEK2 = ["2026-09-14", "2026-09-15", "2026-09-16", "2026-09-17", "2026-09-18"]
WEEK3 = ["2026-09-21", "2026-09-22", "2026-09-23", "2026-09-24", "2026-09-25"]


def test_a_notice_to_improve_to_each_parent_ends_after_the_half_term(legal_case, world):
    page, ids = legal_case
    r = page.post(f"/office/cases/{ids['case']}/legal/nti", {
        "issued_on": "2026-10-12", "p1_name": MUM[0], "p1_address": MUM[1], "p2_name": DAD[0], "p2_address": DAD[1]})
    assert r.status_code == 303, text_of(r.text)
    text = text_of(page.get(r.headers["location"]).text)
    # Monday 12 Oct: weeks of 12 Oct, 19 Oct, [half term], 2 Nov, 9 Nov: ends Friday 13 November
    assert text.count("4 school weeks, until 2026-11-13") == 2
    assert "Notice to Improve to Jo Stone" in text and "Notice to Improve to Sam Stone" in text
    assert "Stage Notice to improve" in text  # the case moved up the ladder, through the engine
    assert "Home visit" in text  # the support on record, kept with the notice
    office, _officer, _ = world
    api = page.client.get(f"/api/casework/cases/{ids['case']}/legal", headers=office.headers).json()
    nti = api["notices"][0]
    assert nti["attendance"]["unauthorised"] == 30 and nti["support"][0].startswith("2026-11-04: Home visit")
    # the outcome is due on 13 November: on the due list until it is recorded
    due = page.client.get("/api/casework/legal/due", headers=office.headers).json()["items"]
    assert [d["due_on"] for d in due] == ["2026-11-13", "2026-11-13"]
    r = page.post(f"/office/legal/notices/{nti['id']}/outcome", {"outcome": "not_improved", "note": "No change"})
    assert r.status_code == 303
    assert len(page.client.get("/api/casework/legal/due", headers=office.headers).json()["items"]) == 1


def test_a_notice_to_improve_needs_term_dates_far_enough_ahead(legal_case):
    page, ids = legal_case
    r = page.post(f"/office/cases/{ids['case']}/legal/nti", {"issued_on": "2026-12-07", "p1_name": MUM[0],
                                                             "p1_address": MUM[1]})
    assert r.status_code == 422 and "enter the next term" in text_of(r.text)


def test_penalty_notice_requested_reviewed_issued_and_the_refused_third(legal_case, admin, world):
    page, ids = legal_case
    case = ids["case"]
    assert page.post(f"/office/cases/{case}/legal/nti", {"issued_on": "2026-10-12", "p1_name": MUM[0],
                                                         "p1_address": MUM[1]}).status_code == 303
    r = request(page, case, MUM, WEEK1)
    assert r.status_code == 303 and r.headers["location"].endswith("done=requested"), text_of(r.text)
    first = notice_ids(page, case)[-1]
    # the office role may request but not review: issuing is a permission (admin by default)
    denied = page.post(f"/office/legal/notices/{first}/review", {"decision": "approved"})
    assert denied.status_code == 403 and "Only admin users may approve" in text_of(denied.text)
    assert admin.post(f"/office/legal/notices/{first}/review", {"decision": "approved"}).status_code == 303
    r = admin.post(f"/office/legal/notices/{first}/issue", {"issued_on": "2026-11-16", "method": "post"})
    assert r.status_code == 303 and r.headers["location"].endswith("done=issued")
    text = text_of(admin.get(f"/office/cases/{case}/legal").text)
    # posted Monday 16 Nov, received 2 working days later (Wed 18 Nov): £80 by 9 Dec, £160 by 16 Dec
    assert "received 2026-11-18" in text and "£80 by 2026-12-09, or £160 by 2026-12-16" in text
    assert "Stage Penalty notice" in text

    # the same sessions cannot evidence another notice to the same parent, but may to the other parent
    again = request(page, case, MUM, WEEK1[:3] + WEEK2[:2])
    assert again.status_code == 409 and "6 of these sessions already evidence another notice to Jo Stone" \
        in text_of(again.text)
    assert request(page, case, DAD, WEEK1).headers["location"].endswith("done=requested")

    # a second notice to Mum: £160 within 28 days
    assert request(page, case, MUM, WEEK2).headers["location"].endswith("done=requested")
    second = notice_ids(page, case)[-1]
    admin.post(f"/office/legal/notices/{second}/review", {"decision": "approved"})
    admin.post(f"/office/legal/notices/{second}/issue", {"issued_on": "2026-11-20", "method": "hand"})
    text = text_of(admin.get(f"/office/cases/{case}/legal").text)
    assert "issued 2026-11-20 by hand; received 2026-11-20 (a second notice)" in text.lower()
    assert "£160 by 2026-12-18" in text

    # a third within 3 years is refused, with the reason and the other tools
    third = request(page, case, MUM, WEEK3, requested_on="2026-11-23")
    assert third.headers["location"].endswith("done=refused")
    text = text_of(page.get(third.headers["location"]).text)
    assert "at most 2 penalty notices for the same child in a rolling 3 years" in text
    assert "prosecution under section 444" in text and "education supervision order" in text
    # its sessions are free again: a refused request does not use them
    assert "(used: Jo Stone" not in page.get(f"/office/cases/{case}/legal").text.split("2026-09-21 AM")[1][:40]


def test_payment_and_non_payment(legal_case, admin):
    page, ids = legal_case
    case = ids["case"]
    page.post(f"/office/cases/{case}/legal/nti", {"issued_on": "2026-10-12", "p1_name": MUM[0], "p1_address": MUM[1]})
    request(page, case, MUM, WEEK1)
    request(page, case, DAD, WEEK1, ground="threshold")
    mum, dad = notice_ids(page, case)[-2:]
    for n in (mum, dad):
        admin.post(f"/office/legal/notices/{n}/review", {"decision": "approved"})
        admin.post(f"/office/legal/notices/{n}/issue", {"issued_on": "2026-11-16", "method": "post"})
    wrong = page.post(f"/office/legal/notices/{mum}/record", {"what": "payment", "on": "2026-12-10", "amount": "80"})
    assert wrong.status_code == 422 and "A payment on 2026-12-10 is £160" in text_of(wrong.text)
    paid = page.post(f"/office/legal/notices/{mum}/record", {"what": "payment", "on": "2026-12-09", "amount": "80"})
    assert paid.status_code == 303
    early = page.post(f"/office/legal/notices/{dad}/record", {"what": "non_payment", "on": "2026-12-16"})
    assert early.status_code == 422 and "The parent may pay until 2026-12-16" in text_of(early.text)
    assert page.post(f"/office/legal/notices/{dad}/record", {"what": "non_payment", "on": "2026-12-17"}
                     ).status_code == 303
    due = text_of(page.get("/office/legal").text)
    assert "Not paid: consider prosecution" in due and "Sam Stone: not paid by 2026-12-16" in due


def test_api_request_errors_are_in_the_house_shape(legal_case, world):
    _page, ids = legal_case
    office, _officer, _ = world
    r = page_post = office.client.post(f"/api/casework/cases/{ids['case']}/penalty-notices", headers=office.headers,
                                       json={"parent_name": MUM[0], "parent_address": MUM[1], "sessions": [
                                           {"date": "2026-09-07", "session": "AM"}]})
    assert page_post.status_code == 422
    assert r.json()["error"]["code"] == "validation_failed" and "threshold is 10" in r.json()["error"]["message"]
    bad = office.client.post(f"/api/casework/cases/{ids['case']}/penalty-notices", headers=office.headers,
                             json={"sessions": "x"})
    assert bad.status_code == 422 and bad.json()["error"]["details"]["field"] == "sessions"
    end = office.client.get("/api/casework/school-weeks", headers=office.headers,
                            params={"start": "2026-10-12", "weeks": 4}).json()
    assert end["ends_on"] == "2026-11-13"


def test_a_term_time_holiday_needs_no_notice_to_improve_where_the_authority_says_so(legal_case, admin, app_state):
    import dataclasses

    page, ids = legal_case
    case = ids["case"]
    holiday = marks_csv(UPN, ["G"] * 10, start="2026-10-12")  # Monday 12 to Friday 16 October
    assert not marks.import_csv(app_state.db, app_state.clock, holiday).rejected
    days = ["2026-10-12", "2026-10-13", "2026-10-14", "2026-10-15", "2026-10-16"]
    mixed = request(page, case, MUM, days[:4] + WEEK1[:1], ground="holiday")
    assert mixed.status_code == 422 and "rests on holiday sessions (code G) only" in text_of(mixed.text)

    def ask_and_approve(parent):
        r = request(page, case, parent, days, ground="holiday", requested_on="2026-10-19")
        assert r.headers["location"].endswith("done=requested"), text_of(r.text)
        notice = notice_ids(page, case)[-1]
        admin.post(f"/office/legal/notices/{notice}/review", {"decision": "approved"})
        return notice

    # the authority does not allow it: the ladder rule refuses (no Notice to Improve on the case)
    legal = app_state.settings.legal
    app_state.settings = dataclasses.replace(app_state.settings,
                                             legal=dataclasses.replace(legal, holiday_without_nti=False))
    refused = admin.post(f"/office/legal/notices/{ask_and_approve(MUM)}/issue",
                         {"issued_on": "2026-10-20", "method": "hand"})
    assert refused.status_code == 422 and "notice to improve" in text_of(refused.text).lower()
    # the default: issued without one, and the case keeps its stage
    app_state.settings = dataclasses.replace(app_state.settings, legal=legal)
    issued = admin.post(f"/office/legal/notices/{ask_and_approve(DAD)}/issue",
                        {"issued_on": "2026-10-20", "method": "hand"})
    assert issued.headers["location"].endswith("done=issued"), text_of(issued.text)
    text = text_of(admin.get(f"/office/cases/{case}/legal").text)
    assert "Term-time holiday (G)" in text and "Stage Support" in text


@pytest.mark.parametrize("path", ["/office/cases/{case}/legal/nti", "/office/cases/{case}/legal/pn",
                                  "/office/legal/calendar", "/office/legal/templates/penalty_notice"])
def test_the_legal_forms_refuse_a_post_without_its_token(legal_case, app_state, path):
    page, ids = legal_case
    before = app_state.db.query("SELECT (SELECT count(*) FROM legal_notices) + (SELECT count(*) FROM term_dates) "
                                "+ (SELECT count(*) FROM letter_templates) AS n")
    r = page.post(path.format(case=ids["case"]), {"issued_on": "2026-10-12", "p1_name": MUM[0],
                                                  "p1_address": MUM[1], "kind": "term", "starts_on": "2027-01-04",
                                                  "ends_on": "2027-02-12", "body": "{parent_name} {pupil_name} "
                                                  "{full_amount} {pay_by}"}, csrf=False)
    assert r.status_code == 403 and "Form expired" in r.text
    assert app_state.db.query("SELECT (SELECT count(*) FROM legal_notices) + (SELECT count(*) FROM term_dates) "
                              "+ (SELECT count(*) FROM letter_templates) AS n") == before


def test_a_parent_from_their_person_record_and_a_schools_own_term_dates(legal_case, world, app_state):
    import uuid

    page, ids = legal_case
    office, _officer, _ = world
    person = str(uuid.uuid4())
    result = office.push([office.change("person", person, {"household_id": ids["household"], "name": "Kim Stone",
                                                           "parental_responsibility": True})]).json()["results"][0]
    assert result["status"] == "applied", result
    # the school keeps its own year: a two-week half term (19 to 30 October)
    bad = page.post("/office/legal/calendar", {"school_id": ids["school"], "kind": "holiday",
                                               "starts_on": "2026-09-02", "ends_on": "2026-08-01"})
    assert bad.status_code == 422 and "Kind must be term or closed" in text_of(bad.text)
    for start, end in (("2026-09-02", "2026-10-16"), ("2026-11-02", "2026-12-18")):
        assert page.post("/office/legal/calendar", {"school_id": ids["school"], "kind": "term", "starts_on": start,
                                                    "ends_on": end, "name": "Own"}).status_code == 303
    r = page.post(f"/office/cases/{ids['case']}/legal/nti", {"issued_on": "2026-10-12", "p1_person_id": person})
    assert r.status_code == 303, text_of(r.text)
    text = text_of(page.get(f"/office/cases/{ids['case']}/legal").text)
    # the person's name, the household's address; 12 Oct (1), [19 and 26 Oct off], 2 Nov (2), 9 (3), 16 (4)
    assert "Notice to Improve to Kim Stone" in text and "Address 12 Shady Lane" in text
    assert "4 school weeks, until 2026-11-20" in text
    notice = app_state.db.query("SELECT person_id, parent_key FROM legal_notices")[0]
    assert notice == {"person_id": person, "parent_key": f"person:{person}"}
