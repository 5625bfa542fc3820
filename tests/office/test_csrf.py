"""Every office form refuses a request without its CSRF token, and changes nothing."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from starlette.routing import Mount, Route

from server import office
from server.identity import sessions

from .helpers import add_visit

TEMPLATES = Path(office.__file__).parent / "templates"

# every POST route of the office pages, with how to fill its path
FORMS = {
    "/office/login": lambda ids, dev: "/office/login",
    "/office/logout": lambda ids, dev: "/office/logout",
    "/office/visits/{record_id}/review": lambda ids, dev: f"/office/visits/{ids['visit']}/review",
    "/office/conversations/{record_id}/review": lambda ids, dev: f"/office/conversations/{ids['visit']}/review",
    "/office/conflicts/{conflict_id}/resolve": lambda ids, dev: f"/office/conflicts/{ids['visit']}/resolve",
    "/office/cases": lambda ids, dev: "/office/cases",
    "/office/cases/{case_id}/assign": lambda ids, dev: f"/office/cases/{ids['case']}/assign",
    "/office/cases/{case_id}/stage": lambda ids, dev: f"/office/cases/{ids['case']}/stage",
    "/office/marks": lambda ids, dev: "/office/marks",
    "/office/roll": lambda ids, dev: "/office/roll",
    "/office/roll/{upload_id}/apply": lambda ids, dev: f"/office/roll/{ids['visit']}/apply",
    "/office/roll/alerts/{alert_id}/resolve": lambda ids, dev: f"/office/roll/alerts/{ids['visit']}/resolve",
    "/office/devices/{device_id}/revoke": lambda ids, dev: f"/office/devices/{dev}/revoke",
    "/office/export": lambda ids, dev: "/office/export",
    "/office/subject-access": lambda ids, dev: "/office/subject-access",
    "/office/transport/plan": lambda ids, dev: "/office/transport/plan",
    "/office/transport/create": lambda ids, dev: "/office/transport/create",
    "/office/users/{user_id}/{action}": lambda ids, dev: f"/office/users/{ids['visit']}/rename",
    "/office/account/second-factor": lambda ids, dev: "/office/account/second-factor",
    "/office/login/code": lambda ids, dev: "/office/login/code",
    "/office/reset-password": lambda ids, dev: "/office/reset-password",
    "/office/transport/fleet": lambda ids, dev: "/office/transport/fleet",
    "/office/transport/fleet/{vehicle_id}": lambda ids, dev: f"/office/transport/fleet/{ids['visit']}",
    "/office/transport/needs": lambda ids, dev: "/office/transport/needs",
    "/office/transport/needs/{pupil_id}": lambda ids, dev: f"/office/transport/needs/{ids['pupil']}",
    "/office/transport/county": lambda ids, dev: "/office/transport/county",
    "/office/cases/{case_id}/legal/nti": lambda ids, dev: f"/office/cases/{ids['case']}/legal/nti",
    "/office/cases/{case_id}/legal/pn": lambda ids, dev: f"/office/cases/{ids['case']}/legal/pn",
    "/office/legal/notices/{notice_id}/outcome": lambda ids, dev: f"/office/legal/notices/{ids['visit']}/outcome",
    "/office/legal/notices/{notice_id}/review": lambda ids, dev: f"/office/legal/notices/{ids['visit']}/review",
    "/office/legal/notices/{notice_id}/issue": lambda ids, dev: f"/office/legal/notices/{ids['visit']}/issue",
    "/office/legal/notices/{notice_id}/record": lambda ids, dev: f"/office/legal/notices/{ids['visit']}/record",
    "/office/legal/notices/{notice_id}/letter": lambda ids, dev: f"/office/legal/notices/{ids['visit']}/letter",
    "/office/legal/calendar": lambda ids, dev: "/office/legal/calendar",
    "/office/legal/calendar/import": lambda ids, dev: "/office/legal/calendar/import",
    "/office/legal/calendar/{term_id}/delete": lambda ids, dev: f"/office/legal/calendar/{ids['visit']}/delete",
    "/office/legal/templates/{kind}": lambda ids, dev: "/office/legal/templates/nti",
    "/office/households/{household_id}/persons": lambda ids, dev: f"/office/households/{ids['household']}/persons",
    "/office/persons/{person_id}": lambda ids, dev: f"/office/persons/{ids['visit']}",
    "/office/cases/{case_id}/plans": lambda ids, dev: f"/office/cases/{ids['case']}/plans",
    "/office/cases/{case_id}/parents": lambda ids, dev: f"/office/cases/{ids['case']}/parents",
    "/office/cases/{case_id}/wellbeing": lambda ids, dev: f"/office/cases/{ids['case']}/wellbeing",
    "/office/targeting/schools/{school_id}/meeting":
        lambda ids, dev: f"/office/targeting/schools/{ids['school']}/meeting",
    "/office/check-ins/{check_in_id}/acknowledge": lambda ids, dev: f"/office/check-ins/{ids['visit']}/acknowledge",
    "/office/praise/queue": lambda ids, dev: "/office/praise/queue",
    "/office/praise/send": lambda ids, dev: "/office/praise/send",
    "/office/praise/export": lambda ids, dev: "/office/praise/export",
    "/office/praise/templates": lambda ids, dev: "/office/praise/templates",
    "/office/households/{household_id}/contact-preferences":
        lambda ids, dev: f"/office/households/{ids['household']}/contact-preferences",
}


def post_routes() -> set[str]:
    return {r.path for r in office.routes if isinstance(r, Route) and r.methods and "POST" in r.methods
            and "{rest:path}" not in r.path}


def test_the_list_covers_every_post_route():
    assert post_routes() == set(FORMS)


@pytest.mark.parametrize("route", sorted(FORMS))
@pytest.mark.parametrize("token", ["missing", "wrong"])
def test_post_without_the_token_is_refused(route, token, world, office_page, login, app_state):
    _, officer, ids = world
    ids = {**ids, "visit": add_visit(officer, ids["case"])}
    phone = login("officer")
    page = office_page()
    path = FORMS[route](ids, phone.device_id)
    before = app_state.db.query("SELECT (SELECT max(seq) FROM changes) AS seq, "
                                "(SELECT count(*) FROM reviews) AS reviews, "
                                "(SELECT count(*) FROM devices WHERE revoked_at IS NOT NULL) AS revoked, "
                                "(SELECT count(*) FROM office_sessions) AS sessions, "
                                "(SELECT count(*) FROM audit WHERE action = 'office_export') AS exports")
    data = {"state": "reviewed", "choose": "kept", "stage": "attendance_meeting", "officer": officer.user["id"],
            "pupil_id": ids["pupil"], "opened_on": "2026-11-20", "kind": "visit", "from": "2026-01-01",
            "to": "2026-12-31", "username": page.user["username"], "password": "correct-horse-battery"}
    if token == "wrong":
        data["csrf_token"] = "A" * len(page.csrf)
    files = {"file": ("m.csv", b"upn,date,session,code\n", "text/csv")} if route == "/office/marks" else None
    r = page.client.post(path, data=data, files=files, follow_redirects=False)
    assert r.status_code == 403, (route, r.status_code)
    assert "security token" in r.text or "form had expired" in r.text
    after = app_state.db.query("SELECT (SELECT max(seq) FROM changes) AS seq, "
                               "(SELECT count(*) FROM reviews) AS reviews, "
                               "(SELECT count(*) FROM devices WHERE revoked_at IS NOT NULL) AS revoked, "
                               "(SELECT count(*) FROM office_sessions) AS sessions, "
                               "(SELECT count(*) FROM audit WHERE action = 'office_export') AS exports")
    assert after == before
    assert page.get("/office/").status_code == 200  # still signed in


def test_a_token_from_another_session_is_refused(world, office_page):
    _, officer, ids = world
    visit = add_visit(officer, ids["case"])
    first = office_page()
    token = first.csrf
    first.client.cookies.clear()
    second = office_page()
    assert second.csrf != token
    r = second.client.post(f"/office/visits/{visit}/review", data={"csrf_token": token, "state": "reviewed"},
                           follow_redirects=False)
    assert r.status_code == 403


def test_signed_out_post_is_refused(world, client):
    _, officer, ids = world
    visit = add_visit(officer, ids["case"])
    r = client.post(f"/office/visits/{visit}/review", data={"state": "reviewed"}, follow_redirects=False)
    assert r.status_code == 403


def test_every_post_form_in_the_templates_carries_the_token():
    forms = 0
    for template in TEMPLATES.glob("*.html"):
        for form in re.findall(r"<form[^>]*>.*?</form>", template.read_text(), flags=re.DOTALL):
            if 'method="post"' in form:
                forms += 1
                assert re.search(r'name="{{ csrf_field }}" value="{{ (csrf|login_csrf) }}"', form), template.name
    assert forms >= 11
    assert sessions.CSRF_FIELD == "csrf_token"


def test_static_files_are_not_pages():
    assert any(isinstance(r, Mount) and r.path == "/office/static" for r in office.routes)
