"""Marks import in the office: good rows kept, every rejected row reported with its line and reason."""
from __future__ import annotations

import csv
import io
import re
import time

from .conftest import text_of
from .helpers import marks_csv

UPN = "A123456789012"  # the world's pupil


def upload(page, text: str | bytes, name: str = "marks.csv"):
    data = text.encode() if isinstance(text, str) else text
    return page.client.post("/office/marks", data={"csrf_token": page.csrf},
                            files={"file": (name, data, "text/csv")}, follow_redirects=False)


def finished(page, url: str) -> str:
    """The import's page once its background job is done (it shows progress until then)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        html = page.get(url).text
        if 'id="rows-rejected"' in html:
            return html
        assert "The import stopped" not in html, html
        time.sleep(0.05)
    raise AssertionError(f"the import at {url} did not finish in 30 s")


def test_three_bad_rows_reported_and_the_rest_stored(world, office_page, app_state):
    office, _officer, ids = world
    good = marks_csv(UPN, ["/"] * 12 + ["N"] * 8).splitlines()
    lines = good[:5] + [f"{UPN},2026-09-32,AM,/"] + good[5:10] + ["Z999999999999,2026-09-08,AM,/"] + \
        good[10:] + [f"{UPN},2026-10-05,AM,QQ"]
    page = office_page()
    r = upload(page, "\n".join(lines) + "\n")
    assert r.status_code == 303
    report_url = r.headers["location"]
    assert re.fullmatch(r"/office/marks/[0-9a-f-]{36}", report_url)
    html = finished(page, report_url)
    assert re.search(r'id="rows-read">23<', html) and re.search(r'id="rows-stored">20<', html)
    assert re.search(r'id="rows-rejected">3<', html)
    table = text_of(html[html.index('class="rejected"'):])
    assert table.count("<tr>") == 0 and len(re.findall(r"<tr>", html[html.index('class="rejected"'):])) == 4
    for line in (6, 12, 24):
        assert f" {line} " in f" {table} "
    assert "Z999999999999" in table and "QQ" in table
    stored = app_state.db.query("SELECT count(*) AS n FROM register_marks m JOIN register_pupils p "
                                "ON p.pk = m.pupil_pk WHERE p.pupil_id = ?", (ids["pupil"],))[0]["n"]
    assert stored == 20
    items, _ = office.pull_all()
    [pupil] = [i for i in items if i["id"] == ids["pupil"]]
    assert pupil["fields"]["possible_sessions"] == 20 and pupil["fields"]["attendance_pct"] == 60.0
    rejected = list(csv.DictReader(io.StringIO(page.get(report_url + "/rejected.csv").content.decode("utf-8-sig"))))
    assert [int(r["line"]) for r in rejected] == [6, 12, 24] and rejected[1]["upn"] == "Z999999999999"
    listed = page.get("/office/marks").text
    assert report_url in listed and "marks.csv" in listed
    # the same file again stores nothing
    again = finished(page, upload(page, "\n".join(lines) + "\n").headers["location"])
    assert re.search(r'id="rows-stored">0<', again) and re.search(r'id="rows-unchanged">20<', again)


def test_unreadable_files_are_refused_with_a_reason(office_page):
    page = office_page()
    r = upload(page, "name,when\nx,y\n")
    assert r.status_code == 422 and "upn,date,session,code" in r.text
    r = upload(page, "upn,date,session,code\n".encode("utf-16"))
    assert r.status_code == 422 and "not UTF-8" in r.text
    r = page.client.post("/office/marks", data={"csrf_token": page.csrf}, follow_redirects=False)
    assert r.status_code == 422 and "Choose a CSV file" in r.text


def test_a_file_with_a_bom_and_crlf_imports(world, office_page):
    page = office_page()
    text = marks_csv(UPN, ["/", "/", "I", "N"]).replace("\n", "\r\n")
    r = upload(page, "\ufeff" + text)
    assert r.status_code == 303
    assert re.search(r'id="rows-stored">4<', finished(page, r.headers["location"]))
