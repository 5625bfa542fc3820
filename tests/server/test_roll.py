"""The school roll import (server/register/roll.py, docs/register.md "The school roll")."""
from __future__ import annotations

import csv
import io
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import orjson
import pytest

from server.register import roll
from server.register.upn import check_letter, is_temporary, make_upn, upn_error
from sync import ADMIN, Actor, push
from tests.conftest import ON_POSTGRES
from tests.live_server import ROOT

DAY = "2026-09-03"
URN_A, URN_B = "100001", "100002"
SCHOOL_A = {"urn": URN_A, "school_name": "Hexthorpe Primary", "school_address": "Urban Road, Doncaster",
            "school_postcode": "DN4 0HH", "school_lat": "53.52", "school_lon": "-1.15", "school_day_starts": "08:45"}
SCHOOL_B = {"urn": URN_B, "school_name": "Balby Carr Academy", "school_postcode": "DN4 8ND"}


def upn(n: int) -> str:
    return make_upn(f"384{n:09d}")


def pupil(n: int, school: dict[str, str] = SCHOOL_A, **extra: Any) -> dict[str, Any]:
    row = {"upn": upn(n), "first_name": f"Ava{n}", "last_name": "Stone", "date_of_birth": "2016-03-01",
           "year_group": "4", **school, "household_address": f"{n} Shady Lane, Doncaster",
           "household_postcode": "DN4 0AB"}
    row.update({k: str(v) for k, v in extra.items()})
    return row


def roll_csv(rows: list[dict[str, Any]]) -> str:
    columns: list[str] = []
    for r in rows:
        columns += [c for c in r if c not in columns]
    out = io.StringIO()
    w = csv.DictWriter(out, columns, lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    return out.getvalue()


def run(st, rows: list[dict[str, Any]] | str, **kw: Any) -> roll.RollReport:
    text = rows if isinstance(rows, str) else roll_csv(rows)
    kw.setdefault("on", DAY)
    return roll.import_text(st.db, st.clock, text, **kw)


def record(st, table: str, id_: str) -> dict[str, Any]:
    [row] = st.db.query(f"SELECT data FROM {table} WHERE id = ?", (id_,))
    return orjson.loads(row["data"])


def pupil_by_upn(st, u: str) -> dict[str, Any]:
    [row] = st.db.query("SELECT id, data FROM pupils WHERE upn = ?", (u,))
    return {"id": row["id"], **orjson.loads(row["data"])}


def enrolments(st, u: str) -> list[tuple[str, str, str | None, int]]:
    """(urn, from, to, main) of the pupil's registrations, oldest first."""
    return [tuple(r.values()) for r in st.db.query(
        "SELECT s.urn, e.from_date, e.to_date, e.main FROM enrolments e "
        "JOIN register_pupils p ON p.pk = e.pupil_pk JOIN register_schools s ON s.pk = e.school_pk "
        "WHERE p.upn = ? ORDER BY e.from_date, s.urn", (u,))]


def snapshot(st) -> dict[str, list[str]]:
    """Every row of every table but the audit's, read through the store."""
    if ON_POSTGRES:
        listed = "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema()"
    else:
        listed = "SELECT name FROM sqlite_master WHERE type = 'table'"
    with st.db.read() as txn:
        tables = [r["name"] for r in txn.rows(listed)
                  if r["name"] not in ("audit", "audit_entities", "audit_pupils")]
        return {t: sorted(repr(tuple(r.values())) for r in txn.rows(f"SELECT * FROM {t}")) for t in tables}


def open_case(st, pupil_id: str, officer_id: str | None) -> str:
    case_id = str(uuid.uuid4())
    fields: dict[str, Any] = {"pupil_id": pupil_id}
    if officer_id:
        fields["assigned_officer_id"] = officer_id
    out = push(st.db, Actor("system", ADMIN), [{"change_id": str(uuid.uuid4()), "type": "case", "id": case_id,
                                                "op": "put", "fields": fields, "base_version": None,
                                                "hlc": st.clock.send()}], st.clock)
    assert out.results[0].status == "applied", out.results[0]
    return case_id


# -- UPNs -------------------------------------------------------------------------------

def test_upn_check_letter_follows_the_dfe_rule():
    # weights 2..13 over characters 2-13, modulo 23, letters without I, O, S
    assert check_letter("207000016049") == "P"  # 4 + 28 + 9 + 60 + 48 + 117 = 266 = 11 x 23 + 13 -> P
    assert upn_error("P207000016049") is None
    assert "wrong check letter 'B' (expected P)" in upn_error("B207000016049")
    # a temporary UPN: 11 digits and a letter, the letter worth its place in the table (A = 0)
    assert upn_error("X00180001701A") is None and is_temporary("X00180001701A")
    assert not is_temporary("P207000016049")
    assert "never ends in I, O or S" in upn_error("X00180001701I")
    assert "13 characters" in upn_error("P20700001604")
    assert upn_error("P2070000160A9") is not None  # a letter only in the last place
    assert upn_error("") == "empty UPN"
    for n in (0, 1, 42, 384200126001, "38420012600Z"):
        made = make_upn(n)
        assert len(made) == 13 and upn_error(made) is None
    with pytest.raises(ValueError):
        make_upn(10 ** 12)


def test_demo_upns_are_valid():
    from fixtures.demo import generate

    assert all(upn_error(p["upn"]) is None for p in generate().pupils)


# -- creating and updating --------------------------------------------------------------

def test_new_schools_households_and_pupils(app_state):
    rows = [pupil(1, contacts="Mary Stone|mother|07700 900001", send="K", on_roll_from="2025-09-01"),
            pupil(2, SCHOOL_B, household_lat="53.521", household_lon="-1.151")]
    report = run(app_state, rows)
    assert (report.rows_read, report.rejected_total) == (2, 0)
    assert (report.schools_created, report.pupils_created, report.households_created) == (2, 2, 2)
    p1 = pupil_by_upn(app_state, upn(1))
    assert p1["first_name"] == "Ava1" and p1["year_group"] == 4 and p1["send"] == "sen_support"
    assert p1["on_roll_from"] == "2025-09-01" and "left_on" not in p1
    assert p1["id"] == roll.pupil_id_for(upn(1))  # derived from the UPN
    school = record(app_state, "schools", p1["school_id"])
    assert school == {"urn": URN_A, "name": "Hexthorpe Primary", "address": "Urban Road, Doncaster",
                      "postcode": "DN4 0HH", "lat": 53.52, "lon": -1.15, "day_starts": "08:45"}
    home = record(app_state, "households", p1["household_id"])
    assert home["contacts"] == [{"name": "Mary Stone", "relationship": "mother", "phone": "07700 900001"}]
    assert "lat" not in home  # no geocoding: without latitude/longitude the household has none
    assert record(app_state, "households", pupil_by_upn(app_state, upn(2))["household_id"])["lat"] == 53.521
    assert enrolments(app_state, upn(1)) == [(URN_A, "2025-09-01", None, 1)]
    assert enrolments(app_state, upn(2)) == [(URN_B, DAY, None, 1)]  # from the file's date when not given


def test_changed_fields_are_updated_and_nothing_else(app_state):
    run(app_state, [pupil(1), pupil(2), pupil(3)])
    before = pupil_by_upn(app_state, upn(2))
    report = run(app_state, [pupil(1), {**pupil(2), "first_name": "Avery", "year_group": "5"}, pupil(3)])
    assert (report.pupils_created, report.pupils_updated, report.pupils_unchanged) == (0, 1, 2)
    after = pupil_by_upn(app_state, upn(2))
    assert after["first_name"] == "Avery" and after["year_group"] == 5 and after["id"] == before["id"]
    [change] = app_state.db.query("SELECT fields FROM changes WHERE entity_id = ? ORDER BY seq DESC LIMIT 1",
                                  (before["id"],))
    assert orjson.loads(change["fields"]) == {"first_name": "Avery", "year_group": 5}


def test_a_pupil_made_elsewhere_is_matched_by_upn(world, app_state):
    _office, _officer, ids = world  # the world's pupil has UPN A123456789012 (a valid one) and a case
    report = run(app_state, [{**pupil(1), "upn": "A123456789012", "first_name": "Ava", "urn": URN_A}])
    assert report.pupils_updated == 1 and report.pupils_created == 0
    p = pupil_by_upn(app_state, "A123456789012")
    assert p["id"] == ids["pupil"] and p["school_id"] != ids["school"]  # moved to the roll's school


def test_moving_school_keeps_the_enrolment_history(app_state):
    run(app_state, [pupil(1, on_roll_from="2024-09-04")], on="2025-07-01")
    report = run(app_state, [pupil(1, SCHOOL_B, on_roll_from="2026-01-05")], on="2026-01-10")
    assert report.pupils_moved == 1 and report.pupils_updated == 1
    p = pupil_by_upn(app_state, upn(1))
    assert record(app_state, "schools", p["school_id"])["urn"] == URN_B
    assert p["on_roll_from"] == "2026-01-05" and "left_on" not in p
    assert enrolments(app_state, upn(1)) == [(URN_A, "2024-09-04", "2026-01-04", 1), (URN_B, "2026-01-05", None, 1)]
    # and back again: a third registration, the history kept
    run(app_state, [pupil(1, on_roll_from="2026-04-13")], on="2026-04-13")
    assert enrolments(app_state, upn(1)) == [(URN_A, "2024-09-04", "2026-01-04", 1),
                                            (URN_B, "2026-01-05", "2026-04-12", 1), (URN_A, "2026-04-13", None, 1)]


def test_dual_registration_is_two_open_enrolments(app_state):
    rows = [pupil(1), {**pupil(1, SCHOOL_B), "enrolment": "S"}]
    report = run(app_state, rows)
    assert report.rejected_total == 0 and report.pupils_created == 1
    assert enrolments(app_state, upn(1)) == [(URN_A, DAY, None, 1), (URN_B, DAY, None, 0)]
    p = pupil_by_upn(app_state, upn(1))
    assert record(app_state, "schools", p["school_id"])["urn"] == URN_A  # the main school
    # the same pupil twice as main at two schools is a mistake in the file
    bad = run(app_state, [pupil(2), pupil(2, SCHOOL_B)])
    assert [r["line"] for r in bad.rejected] == [3] and "subsidiary" in bad.rejected[0]["reason"]
    # a full roll of B without the pupil ends the subsidiary registration only
    run(app_state, [pupil(3, SCHOOL_B)], full=True, force=True, on="2026-10-01")
    assert enrolments(app_state, upn(1)) == [(URN_A, DAY, None, 1), (URN_B, DAY, "2026-10-01", 0)]
    assert "left_on" not in pupil_by_upn(app_state, upn(1))


# -- full rolls, leavers, the 10% refusal ------------------------------------------------

def test_a_pupil_missing_from_a_full_roll_is_marked_as_left_never_deleted(app_state):
    rows = [pupil(n, destination="Wakefield College") for n in range(1, 21)]
    run(app_state, rows)
    report = run(app_state, rows[:19], full=True, on="2026-11-02")  # pupil 20 is missing: 5%
    assert not report.refused and report.pupils_left == 1 and report.pupils_unchanged == 19
    assert report.leaving == [{"urn": URN_A, "name": "Hexthorpe Primary", "on_roll": 20, "leaving": 1}]
    gone = pupil_by_upn(app_state, upn(20))
    assert gone["left_on"] == "2026-11-02" and gone["first_name"] == "Ava20"
    assert app_state.db.query("SELECT deleted FROM pupils WHERE upn = ?", (upn(20),))[0]["deleted"] == 0
    assert enrolments(app_state, upn(20)) == [(URN_A, DAY, "2026-11-02", 1)]
    assert report.alerts == []  # a known destination and no case: nothing to chase
    # not a full roll: nobody is marked as left
    assert run(app_state, rows[:10]).pupils_left == 0
    # back on a later full roll: on roll again
    run(app_state, rows, full=True, on="2026-11-20")
    assert "left_on" not in {k for k, v in pupil_by_upn(app_state, upn(20)).items() if v is not None}
    assert enrolments(app_state, upn(20))[-1] == (URN_A, "2026-11-20", None, 1)


def test_a_dry_run_counts_and_changes_nothing(app_state):
    run(app_state, [pupil(n) for n in range(1, 11)])
    before = snapshot(app_state)
    rows = [pupil(n) for n in range(2, 11)] + [{**pupil(3), "upn": upn(11)}, pupil(12, SCHOOL_B)]
    rows[0] = {**rows[0], "last_name": "Smith"}
    report = run(app_state, rows, full=True, dry_run=True, on="2026-11-02")
    assert report.dry_run and not report.refused
    assert (report.pupils_created, report.pupils_updated, report.pupils_unchanged) == (2, 1, 8)
    assert (report.schools_created, report.households_created, report.pupils_left) == (1, 1, 1)
    assert {s["urn"]: (s["on_roll"], s["leaving"]) for s in report.leaving} == {URN_A: (10, 1)}
    assert snapshot(app_state) == before


def test_a_full_roll_leaving_out_more_than_10_percent_is_refused_without_force(app_state):
    rows = [pupil(n) for n in range(1, 11)]
    run(app_state, rows)
    before = snapshot(app_state)
    short = rows[:8] + [pupil(11)]  # 2 of 10 missing: 20%
    dry = run(app_state, short, full=True, dry_run=True, on="2026-11-02")
    assert dry.refused and dry.pupils_left == 2 and "2 of 10 pupils (20.0%) of Hexthorpe Primary" in dry.refusal
    refused = run(app_state, short, full=True, on="2026-11-02")
    assert refused.refused and refused.pupils_created == 0 and snapshot(app_state) == before
    forced = run(app_state, short, full=True, force=True, on="2026-11-02")
    assert not forced.refused and forced.pupils_left == 2 and forced.pupils_created == 1
    assert pupil_by_upn(app_state, upn(9))["left_on"] == "2026-11-02"


# -- bad rows ---------------------------------------------------------------------------

def test_bad_rows_are_reported_with_their_line_and_the_good_rows_kept(app_state):
    wrong = upn(2)
    wrong = ("A" if wrong[0] != "A" else "B") + wrong[1:]
    rows = [pupil(1), {**pupil(2), "upn": wrong}, pupil(3), {**pupil(4), "urn": "999999", "school_name": ""},
            {**pupil(5), "date_of_birth": "2016-02-30"}, {**pupil(6), "on_roll_from": "next week"},
            {**pupil(7), "year_group": "twelve", "fsm": "maybe"}, pupil(8)]
    report = run(app_state, rows)
    assert report.rows_read == 8 and report.pupils_created == 3
    reasons = {r["line"]: r["reason"] for r in report.rejected}
    assert sorted(reasons) == [3, 5, 6, 7, 8]
    assert f"bad UPN '{wrong}': wrong check letter" in reasons[3]
    assert "unknown school" in reasons[5] and "999999" in reasons[5]
    assert "bad date_of_birth '2016-02-30': no such day" in reasons[6]
    assert "bad on_roll_from 'next week'" in reasons[7]
    assert "bad year_group 'twelve'" in reasons[8] and "bad fsm 'maybe'" in reasons[8]  # every reason at once
    assert report.rejected[0]["row"]["upn"] == wrong
    assert {p["upn"] for p in app_state.db.query("SELECT upn FROM pupils")} == {upn(1), upn(3), upn(8)}


def test_a_pupil_whose_row_was_rejected_is_not_taken_for_a_leaver(app_state):
    rows = [pupil(n) for n in range(1, 11)]
    run(app_state, rows)
    rows[4] = {**rows[4], "date_of_birth": "yesterday"}
    report = run(app_state, rows, full=True)
    assert report.rejected_total == 1 and report.pupils_left == 0


def test_unreadable_files_raise(app_state):
    with pytest.raises(ValueError, match="missing date_of_birth, year_group"):
        run(app_state, "upn,first_name,last_name,urn\nx,y,z,100001\n")
    with pytest.raises(ValueError, match="empty"):
        run(app_state, "")
    with pytest.raises(ValueError, match="twice"):
        run(app_state, "upn,UPN,first_name,last_name,date_of_birth,year_group,urn\n")


def test_header_names_are_case_insensitive_and_extra_columns_ignored(app_state):
    text = ("UPN,First Name,SURNAME,DOB,Year_Group,URN,School_Name,Ethnicity,FSM\n"
            f"{upn(1)},Ava,Stone,01/03/2016,R,{URN_A},Hexthorpe Primary,WBRI,y\n")
    report = run(app_state, text)
    assert report.pupils_created == 1 and report.ignored_columns == ["Ethnicity"]
    p = pupil_by_upn(app_state, upn(1))
    assert (p["last_name"], p["date_of_birth"], p["year_group"], p["free_school_meals"]) == \
        ("Stone", "2016-03-01", 0, True)


# -- households and flags -----------------------------------------------------------------

def test_households_are_formed_by_address_and_postcode(app_state):
    rows = [pupil(1, household_address="12 Shady Lane, Doncaster", household_postcode="DN4 0AB",
                  contact_name="Mary Stone", contact_relationship="mother", contact_phone="07700 900001"),
            pupil(2, household_address="12  shady lane doncaster", household_postcode="dn40ab",
                  contacts="Mary Stone|mother|07700 900001;John Stone|father|07700 900002"),
            pupil(3, household_address="12 Shady Lane, Doncaster", household_postcode="DN4 0AC"),
            {**pupil(4), "household_address": "", "household_postcode": ""}]
    report = run(app_state, rows)
    assert report.households_created == 2
    h1, h2, h3 = (pupil_by_upn(app_state, upn(n)).get("household_id") for n in (1, 2, 3))
    assert h1 == h2 != h3 and "household_id" not in pupil_by_upn(app_state, upn(4))
    home = record(app_state, "households", h1)
    assert home["address"] == "12 Shady Lane, Doncaster" and home["postcode"] == "DN4 0AB"
    assert [c["name"] for c in home["contacts"]] == ["Mary Stone", "John Stone"]
    assert h1 == roll.household_id_for(roll.normalise_address("12 Shady Lane, Doncaster", "DN4 0AB"))
    # a family moving house: the pupil gets the new household; the old one stays
    run(app_state, [pupil(2, household_address="7 New Street, Doncaster", household_postcode="DN1 1AA")])
    assert pupil_by_upn(app_state, upn(2))["household_id"] not in (h1, h3)


def test_flags_are_carried_when_the_file_has_them(app_state):
    run(app_state, [pupil(1, fsm="Y", cin="N", cp="1", send="E"), pupil(2, fsm="false")])
    p1, p2 = pupil_by_upn(app_state, upn(1)), pupil_by_upn(app_state, upn(2))
    assert (p1["free_school_meals"], p1["child_in_need"], p1["child_protection"], p1["send"]) == \
        (True, False, True, "ehcp")
    assert p2["free_school_meals"] is False and "child_in_need" not in p2 and "send" not in p2
    # blank means not known: the stored value stays
    run(app_state, [pupil(1, fsm="", cin="", cp="0")])
    p1 = pupil_by_upn(app_state, upn(1))
    assert (p1["free_school_meals"], p1["child_in_need"], p1["child_protection"]) == (True, False, False)


# -- alerts -------------------------------------------------------------------------------

def test_a_leaver_with_an_open_case_alerts_the_officer_and_the_office(app_state, login):
    officer = login("officer")
    run(app_state, [pupil(n, destination="Wakefield College" if n == 1 else "") for n in range(1, 21)])
    ava = pupil_by_upn(app_state, upn(1))
    case_id = open_case(app_state, ava["id"], officer.user["id"])
    rows = [pupil(n) for n in range(2, 21)]
    report = run(app_state, rows, full=True, on="2026-11-02")
    assert report.pupils_left == 1 and len(report.alerts) == 1
    [task] = [t for t in app_state.db.query("SELECT id, data FROM tasks")]
    fields = orjson.loads(task["data"])
    assert fields["case_id"] == case_id and fields["assigned_to"] == officer.user["id"]
    assert fields["title"].startswith("Possible child missing education: Ava1 Stone left Hexthorpe Primary on "
                                      "2026-11-02")
    [alert] = roll.open_alerts(app_state.db)
    assert alert["pupil_id"] == ava["id"] and alert["kind"] == "possible_cme" and "an open case" in alert["detail"]
    assert alert["school"] == "Hexthorpe Primary"
    # the task reaches the officer's phone
    items, _ = officer.pull_all()
    assert any(i["type"] == "task" and i["id"] == task["id"] for i in items)
    # importing again raises nothing new
    assert run(app_state, rows, full=True, on="2026-11-02").alerts == []
    assert len(roll.open_alerts(app_state.db)) == 1 and len(app_state.db.query("SELECT id FROM tasks")) == 1


def test_a_leaver_without_a_known_destination_alerts_the_office(app_state):
    run(app_state, [pupil(1), pupil(2)])
    report = run(app_state, [pupil(1, left_on="2026-10-16", destination="Moved to Leeds: Park View School"),
                             pupil(2, left_on="2026-10-16")])
    assert report.pupils_left == 2
    [alert] = report.alerts
    assert alert["upn"] == upn(2) and "no known destination" in alert["detail"]
    assert [a["pupil_id"] for a in roll.open_alerts(app_state.db)] == [pupil_by_upn(app_state, upn(2))["id"]]
    assert enrolments(app_state, upn(1)) == [(URN_A, DAY, "2026-10-16", 1)]
    assert not app_state.db.query("SELECT id FROM tasks")  # no case, no officer to task
    [row] = app_state.db.query("SELECT id FROM register_alerts")
    assert roll.resolve_alert(app_state.db, row["id"], "system") and roll.open_alerts(app_state.db) == []


# -- idempotence, chunks, the CLI ---------------------------------------------------------

def test_importing_the_same_file_again_changes_nothing(app_state):
    rows = [pupil(n, contacts=f"Parent {n}|mother|07700 900{n:03d}", fsm="Y") for n in range(1, 30)]
    rows += [pupil(30, SCHOOL_B), {**pupil(31, SCHOOL_B), "left_on": "2026-10-01"}]
    run(app_state, rows, full=True)
    first = snapshot(app_state)
    report = run(app_state, rows, full=True)
    assert (report.pupils_unchanged, report.pupils_created, report.pupils_updated, report.pupils_left) == \
        (31, 0, 0, 0)
    assert snapshot(app_state) == first


def test_chunks_give_the_same_result_as_one_pass(app_state, monkeypatch, tmp_path):
    from server.config import Settings
    from server.state import open_state

    rows = []
    for n in range(1, 40):  # siblings and dual registrations across chunk boundaries
        rows.append(pupil(n, household_address=f"{n // 3} Long Row", contacts=f"Carer {n}|aunt|"))
        if n % 7 == 0:
            rows.append({**pupil(n, SCHOOL_B), "enrolment": "S"})
    whole = run(app_state, rows)
    monkeypatch.setattr(roll, "CHUNK", 4)
    other = open_state(Settings(db_path=str(tmp_path / "other.db")))
    try:
        chunked = run(other, rows)
        assert {k: v for k, v in chunked.as_dict().items()} == whole.as_dict()

        def records(st):
            return {t: sorted((r["id"], orjson.loads(r["data"])) for r in st.db.query(f"SELECT id, data FROM {t}"))
                    for t in ("schools", "households", "pupils")} | {
                "enrolments": sorted(map(tuple, (r.values() for r in st.db.query(
                    "SELECT p.upn, s.urn, from_date, to_date, main FROM enrolments e JOIN register_pupils p "
                    "ON p.pk = e.pupil_pk JOIN register_schools s ON s.pk = e.school_pk"))))}
        assert records(other) == records(app_state)
    finally:
        other.db.close()


def doorstep(db: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "server.cli", "--db", db, *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)


def test_the_roll_import_command(tmp_path: Path):
    db = str(tmp_path / "cli.db")
    path = tmp_path / "roll.csv"
    rows = [pupil(n) for n in range(1, 11)]
    path.write_text(roll_csv(rows + [{**pupil(11), "date_of_birth": "31/02/2016"}]))
    r = doorstep(db, "roll", "import", str(path), "--date", DAY)
    assert r.returncode == 0, r.stderr
    assert "11 rows read, 1 rejected" in r.stdout and "pupils 10 created" in r.stdout
    assert "line 12: bad date_of_birth '31/02/2016': no such day" in r.stdout
    path.write_text(roll_csv(rows[:7]))
    dry = doorstep(db, "roll", "import", str(path), "--full", "--dry-run", "--date", "2026-11-02")
    assert dry.returncode == 2 and "3 of 10 pupils (30.0%)" in dry.stderr
    assert "would change (dry run)" in dry.stdout and "3 marked as left" in dry.stdout
    refused = doorstep(db, "roll", "import", str(path), "--full", "--date", "2026-11-02")
    assert refused.returncode == 2 and "refused" in refused.stderr and "--force" in refused.stderr
    forced = doorstep(db, "roll", "import", str(path), "--full", "--force", "--date", "2026-11-02")
    assert forced.returncode == 0, forced.stderr
    assert "3 marked as left" in forced.stdout and "alert: Possible child missing education" in forced.stdout
    assert doorstep(db, "roll", "import", str(tmp_path / "none.csv")).returncode == 1
    assert doorstep(db, "roll", "import", str(path), "--date", "soon").returncode == 1


def test_the_sample_file_imports_cleanly(app_state):
    sample = Path(ROOT) / "docs" / "examples" / "roll-sample.csv"
    report = roll.import_file(app_state.db, app_state.clock, sample, on="2026-09-03")
    assert report.rejected_total == 0 and report.pupils_created >= 5 and report.schools_created >= 2
    assert report.ignored_columns == []
