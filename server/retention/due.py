"""What is due for removal, kind by kind, and why (docs/retention.md). Reads only.

- ``case``: a closed case whose last change (its own or any record linked to it) is older than
  its period: the ordinary one, or the longest of the legal steps it reached (``policy``): a
  stage on the ladder, or a Notice to Improve or penalty notice issued on it. Its visits,
  conversations, tasks, notes, reviews, notices, plans and check-ins go with it, and its legal
  steps, letters and texts (``kinds.case_rows``).
- ``transport_run``: a run dated before the transport period, with its stops and notes.
- ``register``: the marks, weekly counts and figures of academic years that ended more than
  the register period ago; a pupil with a kept legal-step case keeps every year of theirs.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import orjson

from sync.scope import CASE_LINKED

from ..register.years import label
from ..sqlite_txn import SqliteTxn, table_of
from .policy import Periods, first_register_day, first_register_year, years_before

# a case's last change: its own, or the newest of the records linked to it (its legal steps' and
# letters' too)
_LAST = "max(coalesce(c.updated_at, '')" + "".join(
    f", coalesce((SELECT max(updated_at) FROM {table_of(t)} x WHERE x.case_id = c.id), '')" for t in CASE_LINKED) + (
    ", coalesce((SELECT max(updated_at) FROM legal_notices x WHERE x.case_id = c.id), '')"
    ", coalesce((SELECT max(l.created_at) FROM legal_notices n JOIN letters l ON l.notice_id = n.id "
    "WHERE n.case_id = c.id), ''))")
# the legal steps issued on a case (a penalty notice for a holiday may leave the case's stage)
_ISSUED = ("(SELECT json_group_array(DISTINCT kind) FROM legal_notices n WHERE n.case_id = c.id "
           "AND json_extract(n.data, '$.issued_on') IS NOT NULL)")


@dataclass
class CaseDue:
    id: str
    pupil_id: str | None
    last: str
    years: int
    step: str | None  # the furthest legal step it reached
    kept_until: str  # the day it is due (for a kept case) or was due


@dataclass
class Due:
    today: dt.date
    cases: list[CaseDue] = field(default_factory=list)
    cases_kept: list[CaseDue] = field(default_factory=list)  # closed, kept longer for a legal step
    legal_pupils: set[str] = field(default_factory=set)  # pupils whose register a legal step keeps
    runs: list[str] = field(default_factory=list)
    run_cutoff: str = ""
    register_year: int = 0  # the first academic year kept
    register_years: list[dict[str, Any]] = field(default_factory=list)  # per due year: pupils, sessions


def find(txn: SqliteTxn, periods: Periods, today: dt.date) -> Due:
    due = Due(today)
    cases_of(txn, periods, due)
    due.run_cutoff = years_before(today, periods.transport_years).isoformat()
    due.runs = [r[0] for r in txn.execute(
        "SELECT id FROM transport_runs WHERE deleted = 0 AND json_extract(data, '$.date') < ? ORDER BY id",
        (due.run_cutoff,))]
    due.register_year = first_register_year(today, periods.register_years)
    legal_pks = legal_pupil_pks(txn, due.legal_pupils)
    for year, pupils, sessions in txn.execute(
            "SELECT year, count(*), sum(possible) FROM figures WHERE year < ? GROUP BY year ORDER BY year",
            (due.register_year,)):
        kept = txn.execute("SELECT count(*) FROM figures WHERE year = ? AND pupil_pk IN "
                           "(SELECT value FROM json_each(?))", (year, orjson.dumps(legal_pks).decode())).fetchone()[0]
        due.register_years.append({"year": label(year), "pupils": pupils - kept, "kept_for_legal_step": kept,
                                   "sessions": sessions or 0})
    return due


def cases_of(txn: SqliteTxn, periods: Periods, due: Due, ids: list[str] | None = None) -> None:
    """Sort every case (or those of ``ids``) into ``due.cases``, ``due.cases_kept`` and the pupils
    a kept legal step holds the register of."""
    sql = (f"SELECT c.id, json_extract(c.data, '$.pupil_id'), json_extract(c.data, '$.stage'), c.flags, "
           f"c.status, {_LAST}, {_ISSUED} FROM cases c WHERE c.deleted = 0")
    params: tuple[Any, ...] = ()
    if ids is not None:
        sql += " AND c.id IN (SELECT value FROM json_each(?))"
        params = (orjson.dumps(ids).decode(),)
    rows = txn.execute(sql + " ORDER BY c.id", params).fetchall()
    for id_, pupil, stage, flags, status, last, issued in rows:
        stages = list(orjson.loads(flags or "{}").get("stages", [])) + ([stage] if stage else []) \
            + orjson.loads(issued or "[]")
        years, step = periods.case_period(stages)
        case = CaseDue(id_, pupil, last, years, step,
                       _after(dt.date.fromisoformat(last[:10]) if last else due.today, years))
        if status == "closed" and last < years_before(due.today, years).isoformat():
            due.cases.append(case)
            continue
        if step is not None and pupil:
            due.legal_pupils.add(pupil)
        if status == "closed" and step is not None and last < years_before(due.today, periods.case_years).isoformat():
            due.cases_kept.append(case)


def _after(day: dt.date, years: int) -> str:
    return years_before(day, -years).isoformat()


def linked(txn: SqliteTxn, case_ids: list[str]) -> list[tuple[str, str]]:
    """Every live record that goes with these cases: ``(type, id)``, the cases first."""
    ids = orjson.dumps(case_ids).decode()
    out = [("case", i) for i in case_ids]
    for type_ in CASE_LINKED:
        out += [(type_, r[0]) for r in txn.execute(
            f"SELECT id FROM {table_of(type_)} WHERE deleted = 0 AND case_id IN (SELECT value FROM json_each(?))",
            (ids,))]
    out += [("check_in", r[0]) for r in txn.execute(
        "SELECT id FROM check_ins WHERE deleted = 0 AND case_id IN (SELECT value FROM json_each(?))", (ids,))]
    out += [("notice", r[0]) for r in txn.execute(
        "SELECT id FROM notices WHERE deleted = 0 AND json_extract(data, '$.case_id') IN "
        "(SELECT value FROM json_each(?))", (ids,))]
    return out


def run_linked(txn: SqliteTxn, run_ids: list[str]) -> list[tuple[str, str]]:
    """The runs, their stops and the notes about them."""
    ids = orjson.dumps(run_ids).decode()
    out = [("transport_run", i) for i in run_ids]
    out += [("transport_stop", r[0]) for r in txn.execute(
        "SELECT id FROM transport_stops WHERE deleted = 0 AND run_id IN (SELECT value FROM json_each(?))", (ids,))]
    out += [("note", r[0]) for r in txn.execute(
        "SELECT id FROM notes WHERE deleted = 0 AND subject_id IN (SELECT value FROM json_each(?))", (ids,))]
    return out


def legal_pupil_pks(txn: SqliteTxn, pupil_ids: set[str]) -> list[int]:
    return [r[0] for r in txn.execute(
        "SELECT pk FROM register_pupils WHERE pupil_id IN (SELECT value FROM json_each(?)) ORDER BY pk",
        (orjson.dumps(sorted(pupil_ids)).decode(),))]


def register_cutoff(periods: Periods, today: dt.date) -> tuple[int, int]:
    """``(first academic year kept, the ordinal of its first day)``."""
    return first_register_year(today, periods.register_years), first_register_day(today, periods.register_years).toordinal()

