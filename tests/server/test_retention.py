"""Retention (docs/retention.md) on a real SQLite file: the compaction horizon through the sync API,
old runs leaving a driver's phone, and ``doorstep retention apply`` through the command."""
from __future__ import annotations

import datetime as dt

import orjson
import pytest

from server.cli import main
from server.register.marks import import_csv
from tests import store
from tests.conftest import new_id
from tests.server.register_world import csv_text, days, rows_for


def retention(db_path: str, capsys, *extra: str) -> str:
    capsys.readouterr()
    assert main(["--db", db_path, "retention", "apply", *extra]) == 0
    return capsys.readouterr().out


def rows(db_path: str, sql: str, params: tuple = ()) -> list[tuple]:
    return store.rows(db_path, sql, params)


def ok(response) -> list[dict]:
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert all(r["status"] in ("applied", "merged") for r in results), results
    return results


def pull_through(session, cursor: str | None) -> str:
    """Pull every page; the cursor the device now holds."""
    return session.pull_all(cursor)[1]


def deleted_task(office, ids) -> str:
    task = new_id()
    ok(office.push([office.change("task", task, {"case_id": ids["case"], "title": "Ring the school"})]))
    ok(office.push([office.change("task", task, {}, 1, op="delete")]))
    return task


def test_tombstones_go_only_once_every_active_device_has_pulled_past_them(world, login, db_path, capsys,
                                                                           monkeypatch):
    office, phone_a, ids = world
    phone_b = login("officer", username=phone_a.user["username"], device="tablet")
    monkeypatch.setenv("DOORSTEP_RETENTION_TOMBSTONE_DAYS", "0")
    a, b = pull_through(phone_a, None), pull_through(phone_b, None)
    task = deleted_task(office, ids)
    a = pull_through(phone_a, pull_through(phone_a, a))  # A has the tombstone and has said so
    out = retention(db_path, capsys, "--apply")
    assert "tombstone: 0 due" in out  # B holds the horizon below the tombstone
    assert rows(db_path, "SELECT deleted FROM tasks WHERE id = ?", (task,)) == [(1,)]
    b = pull_through(phone_b, pull_through(phone_b, b))
    assert "tombstone: 1 due (task 1)" in retention(db_path, capsys)
    out = retention(db_path, capsys, "--apply")
    assert "removed tombstone: task 1" in out
    assert rows(db_path, "SELECT count(*) FROM tasks WHERE id = ?", (task,)) == [(0,)]
    assert rows(db_path, "SELECT count(*) FROM changes WHERE entity_id = ?", (task,)) == [(0,)]
    # both devices go on from where they are
    for phone, cursor in ((phone_a, a), (phone_b, b)):
        body = phone.pull(cursor).json()
        assert "reset" not in body and body["changes"] == []


def test_an_idle_device_is_behind_the_horizon_and_resyncs_in_full(world, db_path, capsys, monkeypatch):
    office, phone, ids = world
    old = pull_through(phone, None)
    task = deleted_task(office, ids)
    later = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=40)).date().isoformat()
    monkeypatch.setenv("DOORSTEP_TODAY", later)  # 40 days on: no device heard from in the last 30
    monkeypatch.setenv("DOORSTEP_RETENTION_TOMBSTONE_DAYS", "0")
    out = retention(db_path, capsys, "--apply")
    assert f"device {phone.device_id} (phone): idle since" in out and "its next pull is answered reset" in out
    assert rows(db_path, "SELECT count(*) FROM tasks WHERE id = ?", (task,)) == [(0,)]
    body = phone.pull(old).json()
    assert body["reset"] is True and body["changes"] == [] and body["cursor"] is None
    items, cursor = phone.pull_all(None)
    assert {(i["type"], i["id"]) for i in items} >= {("case", ids["case"]), ("pupil", ids["pupil"]),
                                                      ("household", ids["household"])}
    assert all(i["id"] != task for i in items)
    assert "reset" not in phone.pull(cursor).json()


def test_old_runs_leave_the_drivers_phone_at_the_next_pull(world, monkeypatch):
    office, driver, ids = world
    monkeypatch.setenv("DOORSTEP_TODAY", "2026-11-16")
    old_run, new_run, stop, pupil, household = new_id(), new_id(), new_id(), new_id(), new_id()
    ok(office.push([
        office.change("household", household, {"address": "3 Mill Lane"}),
        office.change("pupil", pupil, {"upn": "R123456789012", "first_name": "Cal", "last_name": "Reed",
                                       "school_id": ids["school"], "household_id": household}),
        office.change("transport_run", old_run, {"date": "2026-11-13", "school_id": ids["school"],
                                                 "driver_id": driver.user["id"], "seats": 4}),
        office.change("transport_stop", stop, {"run_id": old_run, "position": 1, "pupil_id": pupil,
                                               "household_id": household}),
        office.change("transport_run", new_run, {"date": "2026-11-27", "school_id": ids["school"],
                                                 "driver_id": driver.user["id"], "seats": 4})]))
    items, cursor = driver.pull_all()
    held = {(i["type"], i["id"]) for i in items}
    assert {("transport_run", old_run), ("transport_stop", stop), ("pupil", pupil), ("transport_run", new_run)} <= held
    monkeypatch.setenv("DOORSTEP_TODAY", "2026-11-27")  # the old run is 14 days old: still on the phone
    assert driver.pull(cursor).json()["changes"] == []
    monkeypatch.setenv("DOORSTEP_TODAY", "2026-11-28")  # 15 days old: it leaves
    items, cursor = driver.pull_all(cursor)
    assert sorted((i["type"], i["id"], i.get("removed")) for i in items) == sorted([
        ("transport_run", old_run, True), ("transport_stop", stop, True), ("pupil", pupil, True),
        ("household", household, True)])
    snapshot = {(i["type"], i["id"]) for i in driver.pull_all()[0]}
    assert ("transport_run", new_run) in snapshot and ("transport_run", old_run) not in snapshot
    assert ("transport_run", old_run) in {(i["type"], i["id"]) for i in office.pull_all()[0]}


@pytest.fixture
def authority(world, login, app_state):
    """The world's open case; a closed case with a visit, a task and a note; a closed case that
    reached a penalty notice; and a term of marks for both closed cases' pupils."""
    office, officer, ids = world
    plain, legal = {k: new_id() for k in ("pupil", "case", "visit", "task", "note", "pupil_note")}, \
        {k: new_id() for k in ("pupil", "case", "conversation")}
    ok(office.push([
        office.change("pupil", plain["pupil"], {"upn": "P100000000001", "first_name": "Dan", "last_name": "Hale",
                                                "school_id": ids["school"], "household_id": ids["household"]}),
        office.change("pupil", legal["pupil"], {"upn": "P100000000002", "first_name": "Eve", "last_name": "Hale",
                                                "school_id": ids["school"], "household_id": ids["household"]}),
        office.change("case", plain["case"], {"pupil_id": plain["pupil"], "assigned_officer_id": officer.user["id"]}),
        office.change("case", legal["case"], {"pupil_id": legal["pupil"], "assigned_officer_id": officer.user["id"],
                                              "stage": "attendance_contract"})]))
    ok(officer.push([
        officer.change("visit", plain["visit"], {"case_id": plain["case"], "outcome": "no_answer", "notes": "card"}),
        officer.change("task", plain["task"], {"case_id": plain["case"], "title": "Ring mum"}),
        officer.change("note", plain["note"], {"subject_type": "visit", "subject_id": plain["visit"],
                                               "text": "card was for the old address"}),
        officer.change("note", plain["pupil_note"], {"subject_type": "pupil", "subject_id": plain["pupil"],
                                                     "text": "moved in with gran"}),
        officer.change("conversation", legal["conversation"], {"case_id": legal["case"], "spoke_with": "dad",
                                                               "status": "submitted"})]))
    ok(office.push([office.change("case", legal["case"], {"stage": "penalty_notice"}, 1)]))
    ok(office.push([office.change("case", plain["case"], {"status": "closed"}, 1),
                    office.change("case", legal["case"], {"status": "closed"}, 2)]))
    term = days(dt.date(2026, 9, 7), 4)
    marks = [(f"P10000000000{n}", d, s, c) for n in (1, 2) for (_, d, s, c) in rows_for(0, term, "O")]
    assert import_csv(app_state.db, app_state.clock, csv_text(marks)).stored == len(marks)
    return office, officer, ids, plain, legal


def _dump(db_path: str) -> list[str]:
    """Every table's rows."""
    return store.dump(db_path)


def test_a_dry_run_reports_what_is_due_and_changes_nothing(authority, db_path, capsys, monkeypatch):
    office, officer, ids, plain, legal = authority
    monkeypatch.setenv("DOORSTEP_TODAY", "2034-01-01")
    monkeypatch.setenv("DOORSTEP_RETENTION_PENALTY_NOTICE_YEARS", "8")
    before = _dump(db_path)
    out = retention(db_path, capsys)
    assert _dump(db_path) == before
    assert "case: 1 due" in out and f"case {plain['case']}: last changed" in out
    assert "case kept for a legal step: 1" in out and f"case {legal['case']}: penalty_notice, kept until 2034-" in out
    assert "register: 2026/27: 1 pupils' marks, weekly counts and figures due" in out
    assert "1 pupils kept for a legal step" in out
    assert "dry run: nothing changed" in out


def test_apply_removes_exactly_what_is_due_keeps_legal_evidence_and_audits_it(authority, login, db_path, capsys,
                                                                              monkeypatch):
    office, officer, ids, plain, legal = authority
    _, office_cursor = office.pull_all()
    monkeypatch.setenv("DOORSTEP_TODAY", "2034-01-01")
    monkeypatch.setenv("DOORSTEP_RETENTION_PENALTY_NOTICE_YEARS", "8")
    monkeypatch.setenv("DOORSTEP_RETENTION_DEVICE_IDLE_DAYS", "4000")  # the office's device is still active
    out = retention(db_path, capsys, "--apply")
    assert "removed case: case 1, note 1, task 1, visit 1" in out
    for table, key in (("cases", "case"), ("visits", "visit"), ("tasks", "task"), ("notes", "note")):
        assert rows(db_path, f"SELECT deleted, data FROM {table} WHERE id = ?", (plain[key],)) == [(1, "{}")]
        assert rows(db_path, "SELECT count(*) FROM changes WHERE entity_id = ?", (plain[key],)) == [(0,)]
    # kept: the open case, the case with a penalty notice and its conversation, every pupil record
    # and what is about the pupil rather than the case
    for table, id_ in (("cases", ids["case"]), ("cases", legal["case"]), ("conversations", legal["conversation"]),
                       ("pupils", plain["pupil"]), ("notes", plain["pupil_note"])):
        [(deleted, data)] = rows(db_path, f"SELECT deleted, data FROM {table} WHERE id = ?", (id_,))
        assert deleted == 0 and data != "{}"
    marks = dict(rows(db_path, "SELECT p.pupil_id, count(m.day) FROM register_pupils p "
                               "LEFT JOIN register_marks m ON m.pupil_pk = p.pk GROUP BY p.pupil_id"))
    assert marks[plain["pupil"]] == 0 and marks[legal["pupil"]] == 40
    # a device that held the removed records is told to purge them
    gone = {i["id"] for i in office.pull_all(office_cursor)[0] if i.get("deleted")}
    assert gone == {plain["case"], plain["visit"], plain["task"], plain["note"]}
    # the audit log says what went: kinds and counts, not the data
    admin = login("admin")
    entries = {e["action"]: e for e in admin.get("/api/audit").json()["items"]}
    done = entries["retention_apply"]["detail"]
    assert done["removed"]["case"] == {"case": 1, "note": 1, "task": 1, "visit": 1}
    assert done["removed"]["register"]["register_marks"] == 40 and done["today"] == "2034-01-01"
    assert entries["retention_started"]["detail"]["due"]["case"] == 1
    text = orjson.dumps([entries["retention_apply"], entries["retention_started"]]).decode()
    assert plain["case"] not in text and "Dan" not in text and "P100000000001" not in text
    # nothing more is due
    again = retention(db_path, capsys, "--apply")
    assert "removed case: nothing" in again and "register: 2026/27: 0 pupils' marks" in again


def test_a_register_period_below_six_years_is_refused(db_path, capsys, monkeypatch):
    monkeypatch.setenv("DOORSTEP_RETENTION_REGISTER_YEARS", "5")
    assert main(["--db", db_path, "retention", "apply", "--apply"]) == 2
    assert "DOORSTEP_RETENTION_REGISTER_YEARS=5: at least 6" in capsys.readouterr().err
