"""Retention (docs/retention.md) of the kinds added with casework, relationships and transport
planning, through ``doorstep retention apply``: plans, check-ins, legal steps and their letters
go with their case (kept as long as its legal step); check-ins and texts go after their own short
periods; retired transport needs and old county plans with the runs; targeting decisions with
the register year they were made from."""
from __future__ import annotations

import datetime as dt
import uuid

import pytest

from server.relationships import praise
from tests.office.conftest import office_page  # noqa: F401  (fixture)
from tests.office.test_legal import MUM, WEEK1, admin, legal_case, notice_ids, request  # noqa: F401  (fixtures)

from .test_retention import ok, retention, rows

TODAY = dt.date.today()


def later(days: int = 0, years: int = 0) -> str:
    """A day ahead of today as it is when called (not at import: records are stamped with the
    real clock, and a run across midnight put them a day after the module's ``TODAY``)."""
    today = dt.date.today()
    return (today.replace(year=today.year + years) + dt.timedelta(days=days)).isoformat()


def stamp(minutes_ago: int) -> str:
    at = dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=minutes_ago)
    return at.isoformat(timespec="seconds").replace("+00:00", "Z")


def live(db_path: str, table: str, id_: str) -> bool:
    found = rows(db_path, f"SELECT deleted, data FROM {table} WHERE id = ?", (id_,))
    return found != [] and found[0][0] == 0 and found[0][1] != "{}"


def count(db_path: str, sql: str, params: tuple = ()) -> int:
    return rows(db_path, sql, params)[0][0]


@pytest.fixture
def legal_file(legal_case, admin, world, db_path):  # noqa: F811
    """The world's case with a support plan, a wellbeing plan, a check-in, a Notice to Improve, a
    penalty notice issued with its letter and a targeting decision about its pupil; then closed."""
    page, ids = legal_case
    office, officer, _ = world
    new = {k: str(uuid.uuid4()) for k in ("plan", "wellbeing", "check_in")}
    ok(officer.push([
        officer.change("support_plan", new["plan"], {"case_id": ids["case"], "actions": [{"action": "Breakfast club"}],
                                                     "review_on": "2026-12-01", "status": "submitted"}),
        officer.change("wellbeing_plan", new["wellbeing"], {"case_id": ids["case"], "what_helps": "A quiet start",
                                                           "status": "draft"}),
        officer.change("check_in", new["check_in"], {"case_id": ids["case"], "started_at": stamp(60),
                                                     "expected_minutes": 30, "closed_at": stamp(20),
                                                     "closed_how": "safe"})]))
    case = ids["case"]
    assert page.post(f"/office/cases/{case}/legal/nti", {"issued_on": "2026-10-12", "p1_name": MUM[0],
                                                          "p1_address": MUM[1]}).status_code == 303
    request(page, case, MUM, WEEK1)
    pn = notice_ids(page, case)[-1]
    assert admin.post(f"/office/legal/notices/{pn}/review", {"decision": "approved"}).status_code == 303
    assert admin.post(f"/office/legal/notices/{pn}/issue", {"issued_on": "2026-11-16", "method": "post"}) \
        .status_code == 303
    assert page.post(f"/office/legal/notices/{pn}/letter").status_code == 303
    r = page.post(f"/office/targeting/schools/{ids['school']}/meeting", {
        "held_on": TODAY.isoformat(), "a_name_0": "Sue Patel", "a_role_0": "Attendance lead", "a_side_0": "school",
        "a_name_1": "Tom Reed", "a_role_1": "Education welfare officer", "a_side_1": "la",
        f"d_{ids['pupil']}": "la_case", f"by_{ids['pupil']}": "Sue Patel"})
    assert r.status_code == 303, r.text
    [(version,)] = rows(db_path, "SELECT version FROM cases WHERE id = ?", (case,))
    ok(office.push([office.change("case", case, {"status": "closed"}, version)]))
    return {**ids, **new, "pn": pn}


@pytest.mark.slow
def test_a_case_s_plans_legal_steps_and_letters_stay_while_its_legal_step_keeps_it_then_go(
        legal_file, db_path, capsys, monkeypatch):
    ids = legal_file
    monkeypatch.setenv("DOORSTEP_RETENTION_PENALTY_NOTICE_YEARS", "8")
    monkeypatch.setenv("DOORSTEP_TODAY", "2034-01-01")  # past 6 years: kept for the penalty notice
    out = retention(db_path, capsys, "--apply")
    assert "case kept for a legal step: 1" in out and f"case {ids['case']}: penalty_notice, kept until" in out
    assert live(db_path, "support_plans", ids["plan"]) and live(db_path, "wellbeing_plans", ids["wellbeing"])
    assert count(db_path, "SELECT count(*) FROM legal_notices WHERE case_id = ?", (ids["case"],)) == 2
    assert count(db_path, "SELECT count(*) FROM letters WHERE case_id = ?", (ids["case"],)) == 1
    # the pupil's targeting decision stays with the register a legal step keeps
    assert count(db_path, "SELECT count(*) FROM targeting_decisions WHERE pupil_id = ?", (ids["pupil"],)) == 1
    # the check-in had its own, shorter period
    assert not live(db_path, "check_ins", ids["check_in"])
    assert count(db_path, "SELECT count(*) FROM check_in_acks") == 0

    monkeypatch.setenv("DOORSTEP_TODAY", "2035-01-01")  # past the 8 years
    out = retention(db_path, capsys, "--apply")
    assert "removed case: case 1," in out and "support_plan 1" in out and "wellbeing_plan 1" in out
    assert "legal_notices 2" in out and "letters 1" in out and "penalty_sessions 10" in out
    for table, key in (("cases", "case"), ("support_plans", "plan"), ("wellbeing_plans", "wellbeing")):
        assert rows(db_path, f"SELECT deleted, data FROM {table} WHERE id = ?", (ids[key],)) == [(1, "{}")]
        assert count(db_path, "SELECT count(*) FROM changes WHERE entity_id = ?", (ids[key],)) == 0
    for table in ("legal_notices", "letters", "penalty_sessions", "targeting_decisions", "targeting_meetings"):
        assert count(db_path, f"SELECT count(*) FROM {table}") == 0, table
    assert count(db_path, "SELECT count(*) FROM legal_events") == 0


def test_check_ins_texts_transport_needs_and_plans_go_after_their_own_periods(world, app_state, db_path, capsys,
                                                                            monkeypatch):
    office, officer, ids = world
    check_in = str(uuid.uuid4())
    ok(office.push([office.change("household", ids["household"], {"contacts": [
        {"name": "Jo Stone", "relationship": "mother", "phone": "07700 900456"}]}, base_version=1)]))
    ok(officer.push([officer.change("check_in", check_in, {"household_id": ids["household"], "started_at": stamp(60),
                                                           "expected_minutes": 30, "closed_at": stamp(10),
                                                           "closed_how": "safe"})]))
    with app_state.db.write() as txn:
        [message] = praise.queue(txn, praise.suggest(txn, [ids["pupil"]], allow_during_legal=True, interval_days=30),
                                 office.user["id"])
    other = str(uuid.uuid4())
    ok(office.push([office.change("pupil", other, {"upn": "R123456789012", "first_name": "Cal", "last_name": "Reed",
                                                   "school_id": ids["school"]})]))
    for pupil in (ids["pupil"], other):
        assert office.post("/api/transport/needs", {"pupil_id": pupil, "wheelchair": True}).status_code == 201
    r = office.client.patch(f"/api/transport/needs/{ids['pupil']}", headers=office.headers, json={"retired": True})
    assert r.status_code == 200 and r.json()["retired"] is True
    with app_state.db.write() as txn:  # a county plan as the planning job stores it (server/transport/county_plan.py)
        txn.execute("INSERT INTO transport_plans (id, date, run, created_at, created_by, problem, plan) "
                    "VALUES (?, ?, 'am', ?, NULL, '{}', '{}')", ("plan-1", TODAY.isoformat(), stamp(0)))

    monkeypatch.setenv("DOORSTEP_TODAY", later(days=89))
    out = retention(db_path, capsys, "--apply")
    assert "check_in: 0 due" in out and "message: 0 due" in out and live(db_path, "check_ins", check_in)

    monkeypatch.setenv("DOORSTEP_TODAY", later(days=91))
    out = retention(db_path, capsys, "--apply")
    assert "removed check_in: check_in 1" in out
    assert rows(db_path, "SELECT deleted, data FROM check_ins WHERE id = ?", (check_in,)) == [(1, "{}")]
    assert count(db_path, "SELECT count(*) FROM messages WHERE id = ?", (message,)) == 1

    monkeypatch.setenv("DOORSTEP_TODAY", later(days=366))
    assert "removed message: messages 1" in retention(db_path, capsys, "--apply")
    assert count(db_path, "SELECT count(*) FROM messages") == 0
    assert count(db_path, "SELECT count(*) FROM transport_needs") == 2

    monkeypatch.setenv("DOORSTEP_TODAY", later(days=1, years=6))
    out = retention(db_path, capsys)
    assert "transport_need: 1 due" in out and "transport_plan: 1 due" in out
    out = retention(db_path, capsys, "--apply")
    assert "removed transport_planning: transport_needs 1, transport_plans 1" in out
    assert rows(db_path, "SELECT pupil_id FROM transport_needs") == [(other,)]  # the current need stays
    assert count(db_path, "SELECT count(*) FROM transport_plans") == 0


def test_the_short_periods_are_settings(monkeypatch):
    from server.retention.policy import Periods

    monkeypatch.setenv("DOORSTEP_RETENTION_CHECK_IN_DAYS", "30")
    monkeypatch.setenv("DOORSTEP_RETENTION_MESSAGE_DAYS", "180")
    periods = Periods()
    assert (periods.check_in_days, periods.message_days) == (30, 180)


@pytest.mark.slow
def test_an_issued_penalty_notice_keeps_a_case_whose_stage_never_reached_it(legal_case, admin, world, app_state,
                                                                          db_path, capsys, monkeypatch):  # noqa: F811
    """A term-time holiday notice is issued without a Notice to Improve, so the case keeps its
    stage ("support"): the issued notice itself is the legal step that keeps the case."""
    from server.register import marks

    from tests.office.helpers import marks_csv
    from tests.office.test_legal import UPN, notice_ids as notices, request as ask  # noqa: F811

    page, ids = legal_case
    office, _officer, _ = world
    case = ids["case"]
    days = ["2026-10-12", "2026-10-13", "2026-10-14", "2026-10-15", "2026-10-16"]
    assert not marks.import_csv(app_state.db, app_state.clock, marks_csv(UPN, ["G"] * 10, start=days[0])).rejected
    assert ask(page, case, MUM, days, ground="holiday", requested_on="2026-10-19").status_code == 303
    pn = notices(page, case)[-1]
    assert admin.post(f"/office/legal/notices/{pn}/review", {"decision": "approved"}).status_code == 303
    assert admin.post(f"/office/legal/notices/{pn}/issue", {"issued_on": "2026-10-20", "method": "hand"}) \
        .status_code == 303
    [(version, stage)] = rows(db_path, "SELECT version, json_extract(data, '$.stage') FROM cases WHERE id = ?", (case,))
    assert stage in (None, "support")  # the case never reached the penalty notice stage
    ok(office.push([office.change("case", case, {"status": "closed"}, version)]))

    monkeypatch.setenv("DOORSTEP_RETENTION_PENALTY_NOTICE_YEARS", "8")
    monkeypatch.setenv("DOORSTEP_TODAY", "2034-01-01")  # past the 6 years a case is kept
    out = retention(db_path, capsys, "--apply")
    assert f"case {case}: penalty_notice, kept until" in out
    assert live(db_path, "cases", case)
    monkeypatch.setenv("DOORSTEP_TODAY", "2035-01-01")  # past the penalty notice's 8
    retention(db_path, capsys, "--apply")
    assert not live(db_path, "cases", case)
