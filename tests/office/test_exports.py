"""Export: visits or conversations for a date range as CSV, audited."""
from __future__ import annotations

import csv
import io

import orjson

from .helpers import add_conversation, add_visit


def rows_of(r) -> list[dict[str, str]]:
    assert r.status_code == 200 and r.headers["content-type"] == "text/csv; charset=utf-8", r.text[:500]
    return list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))


def test_visits_for_a_date_range(world, office_page, app_state):
    _office, officer, ids = world
    inside = add_visit(officer, ids["case"], started_at="2026-11-03T23:30:00Z", notes="-1 late evening",
                       barriers=["transport", "housing"])  # 23:30 UTC is 3 Nov in London (GMT)
    add_visit(officer, ids["case"], started_at="2026-10-01T09:00:00Z")
    summer = add_visit(officer, ids["case"], started_at="2026-07-01T23:30:00Z")  # 00:30 BST on 2 July
    page = office_page()
    r = page.post("/office/export", {"kind": "visit", "from": "2026-11-01", "to": "2026-11-30"})
    assert r.headers["content-disposition"] == 'attachment; filename="visits-2026-11-01-to-2026-11-30.csv"'
    [row] = rows_of(r)
    assert row["id"] == inside and row["pupil"] == "Ava Stone" and row["officer"] == officer.user["username"]
    assert row["notes"] == "'-1 late evening"  # never a spreadsheet formula
    assert row["barriers"] == "transport; housing" and row["gps_flagged"] == "no" and row["lat"] == "53.521"
    july = rows_of(page.post("/office/export", {"kind": "visit", "from": "2026-07-02", "to": "2026-07-02"}))
    assert [r["id"] for r in july] == [summer]
    audit = app_state.db.query("SELECT detail FROM audit WHERE action = 'office_export'")
    assert [orjson.loads(a["detail"])["rows"] for a in audit] == [1, 1]


def test_conversations(world, office_page):
    _office, officer, ids = world
    conv = add_conversation(officer, ids["case"])
    page = office_page()
    import datetime as dt

    today = dt.date.today().isoformat()
    [row] = rows_of(page.post("/office/export", {"kind": "conversation", "from": today, "to": today}))
    assert row["id"] == conv and row["spoke_with"] == "Mum"
    assert row["agreed_actions"] == "Meet the SENCo (school, due 2026-11-20)"


def test_bad_ranges(office_page):
    page = office_page()
    assert "Give both dates" in page.post("/office/export", {"kind": "visit", "from": "", "to": ""}).text
    r = page.post("/office/export", {"kind": "visit", "from": "2026-12-01", "to": "2026-11-01"})
    assert r.status_code == 422 and "before the start" in r.text
    assert page.post("/office/export", {"kind": "pupil", "from": "2026-11-01", "to": "2026-11-02"}).status_code == 422


FORMULAS = ["=1+1", "+1", "-1", "@SUM(A1)", " =1+1", "\u00a0=1+1", "\n=1+1", "\t=1+1", "\r=1+1",
            "\uff1d1+1", "\uff0b1", "\uff0d1", "\uff20SUM(A1)", "\ufe661+1", "\u3000=1+1"]


def test_every_cell_a_spreadsheet_could_run_is_neutralised():
    from server.office.exports import csv_text

    text = csv_text(["v"], [[v] for v in [*FORMULAS, "Ann", "1 Oak Road", 5, -5, None, True]])
    got = [row[0] for row in csv.reader(io.StringIO(text))][1:]
    assert got == ["'" + v for v in FORMULAS] + ["Ann", "1 Oak Road", "5", "-5", "", "yes"]


def test_an_exported_note_starting_with_white_space_or_a_wide_equals_sign_is_neutralised(world, office_page):
    _office, officer, ids = world
    notes = {add_visit(officer, ids["case"], started_at="2026-11-03T10:00:00Z", notes=n): n
             for n in ("\u00a0=HYPERLINK(\"http://x\")", "\uff1dHYPERLINK(\"http://x\")", " +1")}
    rows = rows_of(office_page().post("/office/export", {"kind": "visit", "from": "2026-11-03", "to": "2026-11-03"}))
    assert {r["id"]: r["notes"] for r in rows} == {id_: "'" + n for id_, n in notes.items()}
