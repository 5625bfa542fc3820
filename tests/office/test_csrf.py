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
