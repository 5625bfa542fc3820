"""The register lists, their CSV, and a pupil's weekly chart (server-rendered SVG)."""
from __future__ import annotations

import csv
import datetime as dt
import io
import re
import uuid

from server.office import svg
from server.register.pages import term_of

from .conftest import text_of
from .helpers import make_band


def add_pupil(office, ids, upn: str, first: str) -> str:
    pupil = str(uuid.uuid4())
    r = office.push([office.change("pupil", pupil, {"upn": upn, "first_name": first, "last_name": "Test",
                                                    "school_id": ids["school"]})])
    assert r.json()["results"][0]["status"] == "applied"
    return pupil


def test_lists_with_figures_threshold_sessions_case_and_officer(world, office_page, app_state):
    office, officer, ids = world
    make_band(app_state, "A123456789012", present=6, unauthorised=14)  # 30%: severe, threshold met
    persistent = add_pupil(office, ids, "P123456789012", "Pat")
    make_band(app_state, "P123456789012", present=17, unauthorised=3)  # 85%: persistent, under the threshold
    add_pupil(office, ids, "F123456789012", "Fay")
    make_band(app_state, "F123456789012", present=20, unauthorised=0)
    page = office_page()
    severe = page.get("/office/register").text
    assert "Ava Stone" in severe and "Pat Test" not in severe and "Fay Test" not in severe
    row = text_of(severe[severe.index("Ava Stone"):severe.index("</tr>", severe.index("Ava Stone"))])
    assert "30.0%" in row and "Severe" in row and "Met" in row and "14 unauthorised sessions" in row
    assert "Support" in row and officer.user["username"] in row
    assert f'href="/office/cases/{ids["case"]}"' in severe
    listed = page.get("/office/register", list="persistent").text
    assert "Ava Stone" in listed and "Pat Test" in listed and "Fay Test" not in listed
    assert f'href="/office/cases/new?pupil={persistent}"' in listed  # no case yet: open one
    over = page.get("/office/register", list="threshold").text
    assert "Ava Stone" in over and "Pat Test" not in over
    assert re.search(r"Over the penalty-notice threshold <span class=\"count\">1<", over)
    rows = list(csv.DictReader(io.StringIO(page.get("/office/register.csv", list="threshold").content
                                           .decode("utf-8-sig"))))
    assert len(rows) == 1 and rows[0]["upn"] == "A123456789012" and rows[0]["band"] == "severe"
    assert rows[0]["attendance_pct"] == "30.0" and rows[0]["penalty_threshold_met"] == "yes"
    assert len(rows[0]["threshold_sessions"].split("; ")) == 14 and rows[0]["case_stage"] == "support"
    assert page.get("/office/register", list="nonsense").status_code == 200


def test_school_filter(world, office_page, app_state):
    _office, _officer, ids = world
    make_band(app_state, "A123456789012", present=6, unauthorised=14)
    page = office_page()
    assert "Ava Stone" in page.get("/office/register", school=ids["school"]).text
    assert "Ava Stone" not in page.get("/office/register", school=str(uuid.uuid4())).text


def test_pupil_page_draws_the_term_as_an_svg_chart(world, office_page, app_state):
    _office, _officer, ids = world
    make_band(app_state, "A123456789012", present=10, unauthorised=20)  # three school weeks
    page = office_page()
    html = page.get(f"/office/pupils/{ids['pupil']}").text
    chart = html[html.index("<svg"):html.index("</svg>")]
    assert 'role="img"' in chart and "Weekly attendance of Ava Stone" in chart
    bars = re.findall(r'<rect class="bar"[^>]*><title>([^<]*)</title>', chart)
    assert bars == ["Week of 7 Sep: 100.0% (10 of 10 sessions)", "Week of 14 Sep: 0.0% (0 of 10 sessions)",
                    "Week of 21 Sep: 0.0% (0 of 10 sessions)"]
    assert "style=" not in chart and "<script" not in chart
    text = text_of(html)
    assert "Weekly attendance, 1 Sep 2026 to 31 Dec 2026" in text
    assert "33.3%" in text and "Met: 20 unauthorised sessions" in text


def test_chart_draws_gaps_and_escapes_names():
    weeks = [{"week": "2026-09-07", "possible": 10, "attended": 9, "pct": 90.0},
             {"week": "2026-09-14", "possible": 0, "attended": 0, "pct": 0.0},
             {"week": "2026-09-21", "possible": 10, "attended": 4, "pct": 40.0}]
    out = str(svg.weekly_chart(weeks, "c1", "<b>Zoë</b>"))
    assert out.count('<rect class="bar"') == 2 and "no counted sessions" in out
    assert "&lt;b&gt;Zoë&lt;/b&gt;" in out and "<b>" not in out
    assert 'fill="#2f6f3e"' in out and 'fill="#b00020"' in out  # 90% and 40%
    assert "lowest 40.0% in the week of 21 Sep" in out
    empty = str(svg.weekly_chart([], "c2", "Nobody"))
    assert "No counted sessions" in empty


def test_terms():
    assert term_of(dt.date(2026, 11, 5)) == (dt.date(2026, 9, 1), dt.date(2026, 12, 31))
    assert term_of(dt.date(2027, 2, 1)) == (dt.date(2027, 1, 1), dt.date(2027, 4, 14))
    assert term_of(dt.date(2027, 6, 1)) == (dt.date(2027, 4, 15), dt.date(2027, 8, 31))


def test_unknown_pupil(office_page):
    page = office_page()
    assert page.get(f"/office/pupils/{uuid.uuid4()}").status_code == 404
