"""The register through the API: marks import, figures in pulls, absence lists."""
from __future__ import annotations

import datetime as dt

from tests.conftest import new_id

UPN = "A123456789012"


def term_rows(weeks: int, codes_per_week: list[str], upn: str = UPN) -> list[str]:
    """Mon–Fri AM/PM sessions from 7 Sept 2026, codes cycling through the given list."""
    start = dt.date(2026, 9, 7)
    rows, n = [], 0
    for week in range(weeks):
        for day in range(5):
            date = start + dt.timedelta(weeks=week, days=day)
            for session in ("AM", "PM"):
                rows.append(f"{upn},{date.isoformat()},{session},{codes_per_week[n % len(codes_per_week)]}")
                n += 1
    return rows


def import_csv(session, rows: list[str]):
    return session.client.post("/api/register/marks", headers={**session.headers, "Content-Type": "text/csv"},
                               content=("upn,date,session,code\n" + "\n".join(rows) + "\n").encode())


def test_import_keeps_good_rows_reports_bad_ones_and_updates_pulls(world):
    office, officer, ids = world
    _, cursor = officer.pull_all()
    # 20 sessions: 16 present, 2 illness (authorised), 2 unauthorised, plus a not-counted code
    good = term_rows(2, ["/", "\\", "/", "\\", "I", "/", "\\", "O", "/", "\\"])
    bad = [f"{UPN},2026-09-21,AM,ZZ", f"B999999999999,2026-09-21,AM,/", f"{UPN},2026-13-01,AM,/"]
    r = import_csv(office, good[:10] + bad + good[10:] + [f"{UPN},2026-09-21,AM,X"])
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["stored"] == 21 and report["pupils_updated"] == 1
    assert [row["line"] for row in report["rejected"]] == [12, 13, 14]
    assert "ZZ" in report["rejected"][0]["reason"]
    items, cursor = officer.pull_all(cursor)
    [pupil] = [i for i in items if i["type"] == "pupil"]
    f = pupil["fields"]
    assert (f["possible_sessions"], f["attended_sessions"], f["authorised_absences"],
            f["unauthorised_absences"]) == (20, 16, 2, 2)
    assert f["attendance_pct"] == 80.0 and f["band"] == "persistent"
    # the same file again changes nothing, so nothing new to pull
    again = import_csv(office, good[:10] + bad + good[10:] + [f"{UPN},2026-09-21,AM,X"]).json()
    assert again["stored"] == 0 and again["pupils_updated"] == 0 and again["unchanged"] == 21
    items, _ = officer.pull_all(cursor)
    assert [i for i in items if i["type"] == "pupil"] == []


def test_absence_lists_filter_by_band_and_threshold(world):
    office, officer, ids = world
    second = new_id()
    office.push([office.change("pupil", second, {"upn": "B123456789012", "first_name": "Cal", "last_name": "Roe",
                                                 "school_id": ids["school"], "household_id": ids["household"]})])
    # first pupil: one unauthorised session a day for two weeks -> 10 in 10 school weeks, 50% absent
    rows = term_rows(2, ["/", "O"]) + term_rows(2, ["/"], upn="B123456789012")
    assert import_csv(office, rows).status_code == 200
    severe = office.get("/api/register/pupils", band="severe").json()["items"]
    assert [p["id"] for p in severe] == [ids["pupil"]]
    assert severe[0]["case_id"] == ids["case"] and severe[0]["officer_id"] == officer.user["id"]
    flagged = office.get("/api/register/pupils", threshold="true").json()["items"]
    assert [p["id"] for p in flagged] == [ids["pupil"]]
    assert len(flagged[0]["threshold_sessions"]) == 10
    assert {s["code"] for s in flagged[0]["threshold_sessions"]} == {"O"}
    ok = office.get("/api/register/pupils", band="ok").json()["items"]
    assert [p["id"] for p in ok] == [second]
    assert office.get("/api/register/pupils", band="awful").status_code == 422
    assert officer.get("/api/register/pupils").status_code == 403


def test_a_file_without_the_header_is_refused(world):
    office, officer, ids = world
    r = office.client.post("/api/register/marks", headers={**office.headers, "Content-Type": "text/csv"},
                           content=b"who,when\n1,2\n")
    assert r.status_code == 422 and r.json()["error"]["code"] == "validation_failed"
    r = office.post("/api/register/marks", {"csv": "upn,date,session,code\n" + f"{UPN},2026-09-07,AM,/\n"})
    assert r.status_code == 200 and r.json()["stored"] == 1


def test_reading_the_absence_list_is_audited(world, login):
    office, officer, ids = world
    admin = login("admin")
    assert import_csv(office, term_rows(1, ["/", "O"])).status_code == 200
    office.get("/api/register/pupils", band="severe")
    rows = admin.get("/api/audit", entity_id=ids["pupil"]).json()["items"]
    assert any(r["action"] == "read_register" and r["user_id"] == office.user["id"] for r in rows)
