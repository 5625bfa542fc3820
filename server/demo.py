"""Loading the demo local authority (fixtures/) into a database, through the sync engine.

Schools, households and pupils go in through the school roll import
(server/register/roll.py), as a roll dated the first day of term, keeping the
fixtures' ids; what a roll does not carry (a household's language and access
notes, a pupil's transport eligibility) and every other record go in as changes
with a change id derived from the record's id. Loading twice changes nothing (the
roll finds nothing different; the other changes are duplicates).
"""
from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sync import ADMIN, OFFICER, Actor, Clock, push

from .casework import plans_demo
from .identity import accounts
from .register import keys, marks, roll
from .state import AppState

NAMESPACE = uuid.UUID("5b0c3c1e-7d1e-4a53-9d55-6f4a0c1d2e3f")
ORDER = (("case", "cases"), ("task", "tasks"))  # after the roll (schools, households, pupils)
# fixture fields -> roll columns (docs/register.md); the rest of a record is pushed as it is
ROLL_PUPIL = {"id": "pupil_id", "upn": "upn", "first_name": "first_name", "last_name": "last_name",
              "date_of_birth": "date_of_birth", "year_group": "year_group", "send": "send",
              "school_id": "school_id", "household_id": "household_id", "on_roll_from": "on_roll_from",
              "left_on": "left_on", "destination": "destination", "free_school_meals": "fsm",
              "child_in_need": "cin", "child_protection": "cp"}
ROLL_SCHOOL = {"id": "school_id", "urn": "urn", "name": "school_name", "address": "school_address",
               "postcode": "school_postcode", "lat": "school_lat", "lon": "school_lon",
               "day_starts": "school_day_starts"}
ROLL_HOUSEHOLD = {"id": "household_id", "address": "household_address", "postcode": "household_postcode",
                  "lat": "household_lat", "lon": "household_lon", "contacts": "contacts"}
BATCH = 500


def _changes(type_: str, rows: list[dict[str, Any]], clock: Clock) -> list[dict[str, Any]]:
    out = []
    for row in rows:
        fields = {k: v for k, v in row.items() if k != "id"}
        out.append({"change_id": str(uuid.uuid5(NAMESPACE, f"{type_}:{row['id']}")), "type": type_,
                    "id": row["id"], "op": "put", "fields": fields, "base_version": None,
                    "hlc": clock.send()})
    return out


def _push_all(st: AppState, actor: Actor, changes: list[dict[str, Any]]) -> list[str]:
    problems = []
    for i in range(0, len(changes), BATCH):
        outcome = push(st.db, actor, changes[i:i + BATCH], st.clock)
        problems += [f"{r.change_id}: {r.errors}" for r in outcome.results if r.status == "rejected"]
    return problems


def _roll_rows(data: Any) -> list[dict[str, Any]]:
    """One roll row per pupil, its school's and household's columns repeated, with the fixtures' ids."""
    schools = {s["id"]: s for s in data.schools}
    households = {h["id"]: h for h in data.households}
    rows = []
    for pupil in data.pupils:
        row = {col: pupil[f] for f, col in ROLL_PUPIL.items() if pupil.get(f) is not None}
        school = schools[pupil["school_id"]]
        row.update({col: school[f] for f, col in ROLL_SCHOOL.items() if school.get(f) is not None})
        household = households.get(pupil.get("household_id"))
        if household is not None:
            row.update({col: household[f] for f, col in ROLL_HOUSEHOLD.items() if household.get(f) is not None})
        rows.append(row)
    return rows


def _not_on_the_roll(data: Any) -> list[tuple[str, list[dict[str, Any]]]]:
    """What the roll does not carry: records no pupil names, and fields outside the roll's columns."""
    on_roll = {p["school_id"] for p in data.pupils}, {p.get("household_id") for p in data.pupils}
    out: list[tuple[str, list[dict[str, Any]]]] = []
    for (type_, attr), taken, named in ((("school", "schools"), ROLL_SCHOOL, on_roll[0]),
                                        (("household", "households"), ROLL_HOUSEHOLD, on_roll[1]),
                                        (("pupil", "pupils"), ROLL_PUPIL, None)):
        rows = []
        for record in getattr(data, attr):
            if named is not None and record["id"] not in named:
                rows.append(record)
                continue
            rest = {k: v for k, v in record.items() if k not in taken}
            if rest:
                rows.append({"id": record["id"], **rest})
        out.append((type_, rows))
    return out


def load_demo(st: AppState) -> dict[str, int]:
    """Load (or re-load, changing nothing) the demo local authority."""
    from fixtures import legal, praise, relationships, targeting, transport
    from fixtures.demo import DEMO_PASSWORD, generate

    data = generate()
    existing = {u.username for u in accounts.list_users(st.db)}
    for user in data.users:
        if user["username"] not in existing:
            accounts.add_user(st.db, user["username"], DEMO_PASSWORD[user["username"]], user["role"],
                              user["display_name"], user_id=user["id"])
    clock = Clock("fixtures")
    system = Actor(next(u["id"] for u in data.users if u["role"] == ADMIN), ADMIN, None)
    problems: list[str] = []
    cases = {c["id"]: c for c in data.cases}
    opened = [{**c, "status": "open"} for c in data.cases]  # closed ones close after their visits
    loaded = roll.import_rows(st.db, clock, lambda: _roll_rows(data), actor=system, on=data.term_start,
                              explicit_ids=True)
    problems += [f"roll line {r['line']}: {r['reason']}" for r in loaded.rejected]
    for type_, rows in _not_on_the_roll(data):
        problems += _push_all(st, system, _changes(type_, rows, clock))
    for type_, attr in ORDER:
        rows = opened if attr == "cases" else getattr(data, attr)
        problems += _push_all(st, system, _changes(type_, rows, clock))
    # visits and conversations are recorded by their officers, as in the field
    for type_, attr in (("visit", "visits"), ("conversation", "conversations")):
        by_officer: dict[str, list[dict[str, Any]]] = {}
        for row in getattr(data, attr):
            officer = row.get("officer_id") or cases[row["case_id"]]["assigned_officer_id"]
            by_officer.setdefault(officer, []).append(row)
        for officer, rows in sorted(by_officer.items()):
            problems += _push_all(st, Actor(officer, OFFICER, None), _changes(type_, rows, clock))
    problems += plans_demo.load(st, data, clock, system)  # parents and support plans (fixtures/plans.py)
    problems += relationships.load_relationships(st, data)  # a wellbeing plan, an overdue check-in
    closing = [{"change_id": str(uuid.uuid5(NAMESPACE, f"close:{c['id']}")), "type": "case", "id": c["id"],
                "op": "put", "fields": {"status": "closed"}, "base_version": 1, "hlc": clock.send()}
               for c in data.cases if c["status"] == "closed"]
    problems += _push_all(st, system, closing)
    if problems:
        raise RuntimeError("the demo data did not load cleanly:\n" + "\n".join(problems[:20]))
    report = marks.import_rows(st.db, st.clock, data.marks, import_id=str(uuid.uuid5(NAMESPACE, "demo-marks")),
                               extracted_at="2000-01-01T00:00:00.000Z")
    transport.load_transport(st, data)  # the fleet and pupils' transport needs (docs/routing.md section 8)
    targeting.load_meetings(st, data)  # a targeting meeting a school
    legal.load_legal(st, data)  # notices, penalty notices, letters
    praise.load_praise(st, data)  # praise texts to improving pupils' families
    with st.db.write() as txn:  # the register's mirror past the records the steps above wrote,
        keys.refresh(txn)  # as the next import would: a second load then changes nothing
    return {"users": len(data.users), "schools": len(data.schools), "households": len(data.households),
            "pupils": len(data.pupils), "cases": len(data.cases), "visits": len(data.visits),
            "conversations": len(data.conversations), "marks_stored": report.stored,
            "pupils_updated": report.pupils_updated}


def demo_logins() -> list[tuple[str, str, str]]:
    from fixtures.demo import DEMO_PASSWORD, generate

    return [(u["username"], DEMO_PASSWORD[u["username"]], u["role"]) for u in generate().users]
