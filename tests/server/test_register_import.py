"""The register at scale: incremental figures per academic year, school weeks, leavers, the
rolling count, extracts, keyset paging. Figures are hand-computed in the comments."""
from __future__ import annotations

import datetime as dt
import os
import random

import pytest

from server.register import compute_figures, marks, marks_sort, queries
from server.register.codes import Mark
from server.register.years import bounds
from tests.server.register_world import (
    csv_text,
    days,
    figures,
    pupil,
    record,
    rows_for,
    school,
    upn,
)

W1 = dt.date(2026, 9, 7)  # a Monday of autumn term 2026 (academic year 2026)


def test_figures_are_per_academic_year(app_state):
    s = school(app_state)
    p = pupil(app_state, s, 1)
    summer = rows_for(1, days(dt.date(2026, 7, 6), 1), "N")  # 10 N in July: year 2025
    autumn = rows_for(1, days(W1, 1), "/") + rows_for(1, days(W1 + dt.timedelta(weeks=1), 1), ["/"] * 9 + ["I"])
    marks.import_rows(app_state.db, app_state.clock, summer + autumn)
    # 2025/26: 10 possible, 0 attended, 10 unauthorised: 0.0 %, severe, threshold met (10 N in one week)
    last = figures(app_state, p, 2025)
    assert (last["possible_sessions"], last["attended_sessions"], last["unauthorised_absences"]) == (10, 0, 10)
    assert last["band"] == "severe" and last["penalty_threshold_met"] is True
    # 2026/27: 20 possible, 19 attended, 1 authorised: 95.0 %, at_risk (5 %), the July N not counted
    this = figures(app_state, p, 2026)
    assert (this["possible_sessions"], this["attended_sessions"], this["authorised_absences"]) == (20, 19, 1)
    assert this["attendance_pct"] == 95.0 and this["band"] == "at_risk"
    assert this["unauthorised_absences"] == 0
    # the window may start in the previous year: the 10 N of July sit in the last 10 school weeks
    # (July, then two September weeks), so the threshold is met this year too, by July's sessions
    assert this["unauthorised_last_10_weeks"] == 10 and this["penalty_threshold_met"] is True
    with app_state.db.read() as txn:
        sessions = queries.threshold_sessions(txn, p, this["threshold_window"])
    assert len(sessions) == 10 and {s["date"][:7] for s in sessions} == {"2026-07"}
    # the phone gets this year's figures (the server's date is in 2026/27)
    assert record(app_state, p)["possible_sessions"] == 20 and record(app_state, p)["band"] == "at_risk"


def test_a_week_of_hash_is_not_a_school_week(app_state):
    s = school(app_state)
    p = pupil(app_state, s, 1)
    rows = []
    for week in range(11):
        monday = W1 + dt.timedelta(weeks=week)
        if week == 5:  # a week of planned closure
            rows += rows_for(1, days(monday, 1), "#")
        else:  # one N a week, the rest present
            rows += rows_for(1, days(monday, 1), ["N"] + ["/"] * 9)
    marks.import_rows(app_state.db, app_state.clock, rows)
    f = figures(app_state, p, 2026)
    # 10 school weeks (11 calendar weeks less the closure) hold 10 N: the threshold is met.
    # Were the closure a school week, any 10 consecutive weeks would hold only 9.
    assert f["penalty_threshold_met"] is True and f["unauthorised_last_10_weeks"] == 10
    # 100 possible (the # sessions are not possible sessions), 90 attended
    assert (f["possible_sessions"], f["attended_sessions"]) == (100, 90)


def test_the_rolling_count_moves_on_for_a_pupil_with_no_new_absence(app_state):
    s = school(app_state)
    a, b = pupil(app_state, s, 1), pupil(app_state, s, 2)
    rows = rows_for(1, days(W1, 1), ["N"] * 5 + ["/"] * 5) + rows_for(2, days(W1, 1), "/")
    for week in range(1, 10):
        monday = W1 + dt.timedelta(weeks=week)
        rows += rows_for(1, days(monday, 1), "/") + rows_for(2, days(monday, 1), "/")
    marks.import_rows(app_state.db, app_state.clock, rows)
    assert figures(app_state, a, 2026)["unauthorised_last_10_weeks"] == 5
    assert record(app_state, a)["unauthorised_last_10_weeks"] == 5
    # week 11: only pupil B's marks arrive. The school's last 10 school weeks are now weeks 2-11,
    # so A's count drops to 0 although A has no new mark at all.
    marks.import_rows(app_state.db, app_state.clock, rows_for(2, days(W1 + dt.timedelta(weeks=10), 1), "/"))
    assert figures(app_state, a, 2026)["unauthorised_last_10_weeks"] == 0
    assert record(app_state, a)["unauthorised_last_10_weeks"] == 0
    # and A's other figures did not move: 100 possible, 95 attended
    assert figures(app_state, a, 2026)["possible_sessions"] == 100


def test_a_later_extract_is_never_undone_by_an_older_one(app_state):
    s = school(app_state)
    p = pupil(app_state, s, 1)
    first = rows_for(1, [W1], "N")
    corrected = rows_for(1, [W1], ["M", "N"])  # the school corrects AM to a medical appointment
    marks.import_rows(app_state.db, app_state.clock, first, extracted_at="2026-09-08T07:00:00.000Z")
    marks.import_rows(app_state.db, app_state.clock, corrected, extracted_at="2026-09-09T07:00:00.000Z")
    again = marks.import_rows(app_state.db, app_state.clock, first, extracted_at="2026-09-08T07:00:00.000Z")
    assert again.superseded == 1 and again.stored == 0 and again.unchanged == 1
    assert again.superseded_rows[0]["kept"] == "M"
    f = figures(app_state, p, 2026)
    assert (f["authorised_absences"], f["unauthorised_absences"]) == (1, 1)


def test_leavers_drop_out_of_current_lists(app_state):
    s = school(app_state)
    stays = pupil(app_state, s, 1)
    left = pupil(app_state, s, 2, left_on="2026-10-01")
    leaving = pupil(app_state, s, 3, left_on="2099-07-20")
    rows = [r for n in (1, 2, 3) for r in rows_for(n, days(W1, 1), "N")]
    marks.import_rows(app_state.db, app_state.clock, rows)
    with app_state.db.read() as txn:
        f = queries.Filter(year=2026, today=dt.date(2026, 12, 1), band="severe")
        listed = {r["id"] for r in queries.pupils(txn, f, None, 50)}
    assert listed == {stays, leaving} and left not in listed


def test_keyset_pages_cover_the_list_once_in_order(app_state, login):
    s = school(app_state)
    ids = {}
    for n in range(1, 26):  # pupil n attends n of 40 sessions: 2.5 % ... 62.5 %
        ids[pupil(app_state, s, n)] = n
    rows = []
    for n in range(1, 26):
        rows += rows_for(n, days(W1, 4), ["/"] * n + ["N"] * (40 - n))
    marks.import_rows(app_state.db, app_state.clock, rows)
    office = login("office")
    seen, cursor, pages = [], None, 0
    while True:
        pages += 1
        r = office.get("/api/register/pupils", limit=10, year="2026/27", **({"cursor": cursor} if cursor else {}))
        assert r.status_code == 200, r.text
        body = r.json()
        seen += [i["id"] for i in body["items"]]
        cursor = body["next"]
        if cursor is None:
            break
    assert len(seen) == 25 and len(set(seen)) == 25 and pages == 3
    assert [ids[i] for i in seen] == list(range(1, 26))  # lowest attendance first
    severe = office.get("/api/register/pupils", band="severe", year="2026").json()["items"]
    # severe: absence >= 50 %, i.e. attended <= 20 of 40
    assert sorted(ids[i["id"]] for i in severe) == list(range(1, 21))
    bad = office.get("/api/register/pupils", year="26")
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "validation_failed"


def test_the_list_audit_finds_every_page_that_showed_a_pupil(app_state, login):
    s = school(app_state)
    p = pupil(app_state, s, 1)
    marks.import_rows(app_state.db, app_state.clock, rows_for(1, days(W1, 1), "N"))
    office, admin = login("office"), login("admin")
    for _ in range(2):
        assert office.get("/api/register/pupils", band="severe").status_code == 200
    entries = admin.get("/api/audit", entity_id=p).json()["items"]
    assert [e["action"] for e in entries].count("read_register") == 2
    assert "marks_import" in [e["action"] for e in entries]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_incremental_figures_equal_a_full_recomputation(app_state, seed):
    """Marks arrive in several files, out of order, with corrections; the figures kept
    incrementally equal compute_figures over each year's marks with the school's weeks."""
    rng = random.Random(seed)
    s = school(app_state)
    pupils = {n: pupil(app_state, s, n) for n in range(1, 7)}
    codes = ["/"] * 12 + ["\\", "L", "I", "M", "N", "O", "G", "U", "B", "#", "X", "Y1", "C2"]
    first = dt.date(2026, 6, 1)
    all_days = [first + dt.timedelta(days=i) for i in range(0, 200) if (first + dt.timedelta(days=i)).weekday() < 5]
    truth: dict[tuple[int, dt.date, str], str] = {}
    for extract in range(4):
        rows = []
        for _ in range(600):
            n, day, session = rng.randint(1, 6), rng.choice(all_days), rng.choice(("AM", "PM"))
            if (n, day, session) in {(r[0], r[1], r[2]) for r in rows}:
                continue
            code = rng.choice(codes)
            rows.append((n, day, session, code))
        rng.shuffle(rows)
        marks.import_rows(app_state.db, app_state.clock, [(upn(n), d.isoformat(), se, c) for n, d, se, c in rows],
                          extracted_at=f"2026-12-0{extract + 1}T00:00:00.000Z")
        for n, d, se, c in rows:
            truth[(n, d, se)] = c
    weeks = sorted({d - dt.timedelta(days=d.weekday()) for (_, d, _), c in truth.items() if c != "#"})
    for n, pupil_id in pupils.items():
        for year in (2025, 2026):
            lo, hi = bounds(year)
            mine = [Mark(upn(n), d, se, c) for (m, d, se), c in truth.items() if m == n and lo <= d <= hi]
            got = figures(app_state, pupil_id, year)
            if not mine:
                assert got is None or got["possible_sessions"] == 0
                continue
            year_weeks = [w for w in weeks if w <= hi]
            window_weeks = [w for w in year_weeks if w >= lo - dt.timedelta(days=6)]
            window_weeks = [w for w in year_weeks if w < lo][-9:] + window_weeks
            window_marks = [Mark(upn(n), d, se, c) for (m, d, se), c in truth.items()
                            if m == n and window_weeks and window_weeks[0] <= d <= hi]
            want = compute_figures(mine, school_weeks=[w for w in weeks if lo <= w <= hi]).register_fields()
            window = compute_figures(window_marks, school_weeks=window_weeks)
            for name in ("possible_sessions", "attended_sessions", "authorised_absences",
                         "unauthorised_absences", "band"):
                assert got[name] == want[name], (n, year, name)
            assert got["attendance_pct"] == want["attendance_pct"]
            assert got["penalty_threshold_met"] == window.penalty_threshold_met, (n, year)
            assert got["unauthorised_last_10_weeks"] == window.unauthorised_last_10_weeks, (n, year)


def test_schools_that_sent_no_recent_marks_are_overdue(app_state):
    on_time, late, silent = school(app_state, "A School"), school(app_state, "B School"), school(app_state, "C School")
    pupil(app_state, on_time, 1)
    pupil(app_state, late, 2)
    friday = dt.date(2026, 11, 27)
    marks.import_rows(app_state.db, app_state.clock, rows_for(1, [friday], "/") +
                      rows_for(2, [friday - dt.timedelta(days=4)], "/"))  # Monday 23 Nov
    with app_state.db.read() as txn:
        status = {r["name"]: r for r in queries.schools_status(txn, dt.date(2026, 12, 1), 2)}
    # Tuesday 1 Dec: A's Friday marks are 2 school days behind (Mon, Tue), B's Monday ones 6
    assert status["A School"]["school_days_behind"] == 2 and not status["A School"]["overdue"]
    assert status["B School"]["school_days_behind"] == 6 and status["B School"]["overdue"]
    assert status["C School"]["last_mark_date"] is None and status["C School"]["overdue"]
    assert status["A School"]["last_import_at"] is not None


def test_a_second_publish_in_sql_gives_the_record_the_engine_would(app_state, login):
    """The first publish of a pupil's figures goes through the engine (force_write, full save);
    later ones edit the stored JSON in SQL. The record, its stamps and its pull item must be
    exactly what the engine would have written."""
    import orjson

    from server.storage import pull_item

    s = school(app_state)
    p = pupil(app_state, s, 1, first_name="Ada")
    marks.import_rows(app_state.db, app_state.clock, rows_for(1, days(W1, 1), "/"))
    with app_state.db.read() as txn:
        first = txn.get("pupil", [p])[p]
    marks.import_rows(app_state.db, app_state.clock, rows_for(1, days(W1 + dt.timedelta(weeks=1), 1), "N"))
    with app_state.db.read() as txn:
        after = txn.get("pupil", [p])[p]
        item = txn.execute("SELECT item FROM pupils WHERE id = ?", (p,)).fetchone()[0]
    # 20 possible, 10 attended: 50.0 %, severe; 10 N in one week: the threshold is met
    assert after.fields["possible_sessions"] == 20 and after.fields["attendance_pct"] == 50.0
    assert after.fields["band"] == "severe" and after.fields["penalty_threshold_met"] is True
    assert after.fields["first_name"] == "Ada" and after.version == first.version + 1
    assert after.seq > first.seq
    register = after.meta["band"]
    assert all(after.meta[n] is register for n in ("possible_sessions", "penalty_threshold_met"))
    assert register.version == after.version and register.hlc > first.meta["band"].hlc
    assert after.meta["first_name"] == first.meta["first_name"]  # other fields' stamps untouched
    assert orjson.loads(item) == orjson.loads(pull_item(after))
    office = login("office")
    pulled = [c for c in office.pull_all()[0] if c["id"] == p][0]
    assert pulled["fields"]["unauthorised_absences"] == 10 and pulled["version"] == after.version


def test_odd_list_parameters_are_refused_not_500(app_state, login):
    import base64
    import json

    def cursor(value: object) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    office = login("office")
    for params in ({"year": "²⁰²⁵"}, {"year": "2025/99"}, {"cursor": cursor([2026, 2**70, 1])},
                   {"cursor": cursor([2026, -1, 1])}, {"school": "x"}, {"cursor": "!!"}):
        r = office.get("/api/register/pupils", **params)
        assert r.status_code == 422 and r.json()["error"]["code"] == "validation_failed", (params, r.text)


def test_extract_times_are_read_as_utc_or_refused():
    from server.register.years import normalise_time

    assert normalise_time("2026-09-07T17:00:00+01:00") == "2026-09-07T16:00:00.000Z"
    assert normalise_time("2026-09-07") == "2026-09-07T00:00:00.000Z"
    assert normalise_time("0001-01-01T00:00:00+05:00") is None and normalise_time("yesterday") is None


def test_a_file_in_date_order_is_stored_per_pupil_with_repeats_caught_across_slices(app_state, monkeypatch):
    """An extract lists every pupil's morning, then every pupil's afternoon: the import sorts it by
    pupil, so a repeat of a (pupil, day, session) many lines and slices apart is still caught."""
    monkeypatch.setattr(marks, "READ_ROWS", 7)  # the file is read 7 rows at a time
    monkeypatch.setattr(marks, "SLICE_ROWS", 3)
    monkeypatch.setattr(marks, "MAX_SLICE", 3)  # and written a pupil or two at a time
    monkeypatch.setattr(marks, "MIN_SLICE", 3)
    s = school(app_state)
    pupils = [pupil(app_state, s, n) for n in (1, 2, 3, 4)]
    mon, tue = W1, W1 + dt.timedelta(days=1)
    rows = [(upn(n), d.isoformat(), se, "/") for d in (mon, tue) for se in ("AM", "PM") for n in (1, 2, 3, 4)]
    rows += [(upn(2), mon.isoformat(), "AM", "N"),  # line 18: pupil 2's Monday AM again, another code
             (upn(3), tue.isoformat(), "PM", "/")]  # line 19: pupil 3's Tuesday PM again, the same code
    report = marks.import_rows(app_state.db, app_state.clock, rows)
    # lines 2-17 are the 16 marks; the header is line 1
    assert (report.rows_read, report.stored, report.rejected_count) == (18, 16, 1)
    assert [(r["line"], r["reason"]) for r in report.rejected] == [
        (18, "duplicate of line 3 with a different code ('/' then 'N')")]
    assert report.rejected[0]["row"] == {"upn": upn(2), "date": mon.isoformat(), "session": "AM", "code": "N"}
    for p in pupils:  # the first line wins: every pupil attended all four sessions
        f = figures(app_state, p, 2026)
        assert (f["possible_sessions"], f["attended_sessions"]) == (4, 4)
    folder = os.path.dirname(marks_sort.scratch_path(app_state.db, report.import_id))
    scratch = [name for name in os.listdir(folder) if f".import-{report.import_id}" in name]
    assert scratch == []  # the import's sorted scratch file is gone
