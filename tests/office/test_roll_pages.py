"""The school roll in the office: upload, dry run, confirm (or force), report, alerts."""
from __future__ import annotations

import csv
import io
import re
import time

import orjson

from server.register import roll
from tests.server.test_roll import DAY, pupil, pupil_by_upn, roll_csv, snapshot, upn

from .conftest import text_of


def upload(page, text: str | bytes, name: str = "roll.csv", full: bool = False, date: str = DAY):
    data = {"csrf_token": page.csrf, "date": date}
    if full:
        data["full"] = "yes"
    body = text.encode() if isinstance(text, str) else text
    return page.client.post("/office/roll", data=data, files={"file": (name, body, "text/csv")},
                            follow_redirects=False)


def checked(page, url: str) -> str:
    """The report page once the background check is done (bounded wait)."""
    deadline = time.monotonic() + 30
    html = page.get(url).text
    while 'id="checking"' in html and time.monotonic() < deadline:
        time.sleep(0.05)
        html = page.get(url).text
    return html


def confirm(page, url: str, force: bool = False):
    """Confirm the import; it runs as a background job, so wait (bounded) for it to finish."""
    r = page.post(url + "/apply", {"force": "yes"} if force else {})
    deadline = time.monotonic() + 30
    while r.status_code == 303 and time.monotonic() < deadline:
        if 'id="applying"' not in page.get(url).text:
            break
        time.sleep(0.05)
    return r


def count(html: str, key: str) -> int:
    match = re.search(rf'id="{key}">(\d+)<', html)
    assert match, f"no {key} on the page"
    return int(match.group(1))


def test_upload_checks_first_then_imports_on_confirmation(office_page, app_state):
    page = office_page()
    form = page.get("/office/roll")
    assert form.status_code == 200 and 'name="full"' in form.text and 'type="date"' in form.text
    rows = [pupil(n) for n in range(1, 6)] + [{**pupil(6), "date_of_birth": "2016-13-01"}]
    before = snapshot(app_state)
    r = upload(page, roll_csv(rows))
    assert r.status_code == 303
    url = r.headers["location"]
    assert re.fullmatch(r"/office/roll/[0-9a-f-]{36}", url)
    html = checked(page, url)
    assert 'id="dry-run"' in html and "nothing has changed yet" in html
    assert count(html, "rows-read") == 6 and count(html, "pupils-created") == 5 and count(html, "rows-rejected") == 1
    assert "bad date_of_birth '2016-13-01'" in text_of(html) and 'id="confirm-form"' in html
    after_check = snapshot(app_state)
    assert {t: v for t, v in after_check.items() if t not in ("roll_uploads", "jobs")} == \
        {t: v for t, v in before.items() if t not in ("roll_uploads", "jobs")}  # the check wrote nothing but the upload (and its job)
    r = confirm(page, url)
    assert r.status_code == 303 and r.headers["location"] == url
    html = page.get(url).text
    assert 'id="applied"' in html and count(html, "pupils-created") == 5 and 'id="confirm-form"' not in html
    assert len(app_state.db.query("SELECT id FROM pupils")) == 5
    assert pupil_by_upn(app_state, upn(1))["first_name"] == "Ava1"
    [row] = app_state.db.query("SELECT status, content, user_id FROM roll_uploads")
    assert row["status"] == "applied" and row["content"] is None and row["user_id"] == page.user["id"]
    # confirming twice imports once
    assert confirm(page, url).status_code == 303
    rejected = list(csv.DictReader(io.StringIO(page.get(url + "/rejected.csv").content.decode("utf-8-sig"))))
    assert [(int(r["line"]), r["upn"]) for r in rejected] == [(7, upn(6))]
    listed = page.get("/office/roll").text
    assert url in listed and "roll.csv" in listed and "imported" in listed


def test_a_full_roll_needs_force_above_10_percent(office_page, app_state):
    rows = [pupil(n) for n in range(1, 11)]
    roll.import_text(app_state.db, app_state.clock, roll_csv(rows), on=DAY)
    page = office_page()
    url = upload(page, roll_csv(rows[:8]), full=True, date="2026-11-02").headers["location"]
    html = checked(page, url)
    assert 'id="refusal"' in html and "2 of 10 pupils (20.0%) of Hexthorpe Primary" in text_of(html)
    assert count(html, "pupils-left") == 2 and 'name="force"' in html
    assert "Pupils missing from the full roll" in html
    refused = confirm(page, url)
    assert refused.status_code == 409 and "Not imported" in refused.text
    assert "left_on" not in pupil_by_upn(app_state, upn(9))
    assert confirm(page, url, force=True).status_code == 303
    assert pupil_by_upn(app_state, upn(9))["left_on"] == "2026-11-02"
    html = page.get(url).text
    assert 'id="applied"' in html and count(html, "pupils-left") == 2
    # the two leavers have no known destination: open alerts on the roll page, which resolve
    listed = page.get("/office/roll").text
    alerts = re.findall(r'action="(/office/roll/alerts/[0-9a-f-]{36}/resolve)"', listed)
    assert len(alerts) == 2 and "Possible child missing education: Ava9 Stone" in text_of(listed)
    assert page.post(alerts[0]).status_code == 303
    assert len(re.findall(r"/resolve\"", page.get("/office/roll").text)) == 1
    assert app_state.db.query("SELECT count(*) AS n FROM register_alerts WHERE resolved_at IS NOT NULL")[0]["n"] == 1
    viewed = app_state.db.query("SELECT detail FROM audit WHERE action = 'office_view' ORDER BY id DESC LIMIT 1")
    assert orjson.loads(viewed[0]["detail"])["page"] == "roll alerts"


def test_unreadable_files_and_bad_forms_are_refused_with_a_reason(office_page):
    page = office_page()
    r = upload(page, "name,when\nx,y\n")
    assert r.status_code == 422 and "upn, first_name, last_name" in r.text
    r = upload(page, "upn,first_name\n".encode("utf-16"))
    assert r.status_code == 422 and "not UTF-8" in r.text
    r = upload(page, roll_csv([pupil(1)]), date="")
    assert r.status_code == 422 and "the file&#39;s date" in r.text.lower()
    # a file broken after its header is found by the background check, which says where
    r = upload(page, roll_csv([pupil(1), pupil(2)]) + "X," + "a" * 200_000 + "\n")  # over csv's field limit
    assert r.status_code == 303
    html = checked(page, r.headers["location"])
    assert 'id="unreadable"' in html and "cannot read the file as CSV (line 4): field larger than field limit" in html
    assert 'id="confirm-form"' not in html and "cannot be read" in page.get("/office/roll").text
    r = page.client.post("/office/roll", data={"csrf_token": page.csrf, "date": DAY}, follow_redirects=False)
    assert r.status_code == 422 and "Choose a roll CSV file" in r.text
    assert page.get("/office/roll/not-an-id").status_code == 404
    assert page.get("/office/roll/00000000-0000-4000-8000-000000000000").status_code == 404


def test_the_roll_pages_need_an_office_sign_in(client, office_page):
    r = client.get("/office/roll", follow_redirects=False)
    assert r.status_code == 303 and "/office/login" in r.headers["location"]
    page = office_page()
    r = page.client.post("/office/roll", data={"date": DAY}, files={"file": ("r.csv", b"x", "text/csv")},
                         follow_redirects=False)
    assert r.status_code == 403  # no CSRF token
