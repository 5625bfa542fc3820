"""The admin page for subject access exports: the same archive as the command, as a download."""
from __future__ import annotations

import re

from server import audit
from server.headers import CSP

from tests.server.subject_world import UPN, build, check_archive, read_zip

from .conftest import text_of


def test_admins_download_the_archive_and_the_export_is_audited(world, app_state, office_page):
    ids = build(world, app_state)
    admin = office_page("admin")
    form = admin.get("/office/subject-access")
    assert form.status_code == 200 and "Subject access export" in text_of(form.text)
    assert form.headers["content-security-policy"] == CSP and 'label for="s-upn"' in form.text
    assert not re.search(r"\sstyle=|<style|<script", form.text)
    assert f'value="{UPN}"' in admin.get("/office/subject-access", upn=UPN.lower()).text
    assert 'value=""' in admin.get("/office/subject-access", upn="<b>").text
    r = admin.post("/office/subject-access", {"upn": f" {UPN.lower()} "})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/zip"
    assert f'filename="subject-access-{UPN}-' in r.headers["content-disposition"]
    assert r.headers["cache-control"] == "no-store"
    files = read_zip(r.content)
    check_archive(files, ids)
    assert admin.user["username"] in files["README.txt"]
    rows = [a for a in audit.for_entity(app_state.db, ids["pupil"], None, 50) if a["action"] == "subject_export"]
    assert len(rows) == 1 and rows[0]["user_id"] == admin.user["id"] and rows[0]["detail"]["via"] == "office"


def test_an_unknown_upn_says_so_and_a_malformed_one_is_refused(world, office_page):
    admin = office_page("admin")
    r = admin.post("/office/subject-access", {"upn": "N000000000000"})
    assert r.status_code == 404 and "no pupil has the UPN N000000000000" in text_of(r.text)
    assert 'value="N000000000000"' in r.text  # the form again, with what was typed
    r = admin.post("/office/subject-access", {"upn": "<script>"})
    assert r.status_code == 422 and "is not a UPN" in text_of(r.text) and "<script>" not in r.text


def test_office_staff_are_refused(world, app_state, office_page):
    office = office_page("office")
    assert office.get("/office/subject-access").status_code == 403
    r = office.post("/office/subject-access", {"upn": UPN})
    assert r.status_code == 403 and "admin staff" in text_of(r.text)
    assert not [a for a in audit.for_entity(app_state.db, world[2]["pupil"], None, 50)
                if a["action"] == "subject_export"]


def test_a_form_without_the_token_is_refused(world, app_state, office_page):
    admin = office_page("admin")
    assert admin.post("/office/subject-access", {"upn": UPN}, csrf=False).status_code == 403
    assert not [a for a in audit.for_entity(app_state.db, world[2]["pupil"], None, 50)
                if a["action"] == "subject_export"]


def test_signed_out_visitors_are_sent_to_sign_in(client):
    r = client.get("/office/subject-access", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/office/login")
