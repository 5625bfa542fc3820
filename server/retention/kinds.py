"""Retention of the kinds added with casework, relationships and transport planning
(docs/retention.md has the table and the reasons). Reads and removals, inside the caller's
transaction; ``apply`` slices them.

- with their case (``case_rows``): its legal steps (Notices to Improve, penalty notices, their
  history and the sessions they rest on), its letters (the PDFs) and the texts about it; its
  support plans, wellbeing plans and check-ins are synced and go as tombstones (``due.linked``);
- ``check_in``: a lone-working check-in, ``check_in_days`` after it closed (or started, if never
  closed), with the office's acknowledgement;
- ``message``: a text to a family, ``message_days`` after it was made;
- ``transport_need``: a pupil's needs, the transport period after they were retired;
  ``transport_plan``: a stored county plan dated before the transport period, as runs are;
- ``targeting``: a meeting's decisions about pupils, with the register year the figures they saw
  came from (a pupil a kept legal step holds keeps theirs); a meeting goes with its last decision;
- ``school_codes`` (codes used per school and year) go with the register year (``apply._register``).

Parents (``person``) and a household's contact preferences stay with the household, as the roll
does (docs/retention.md, "Not covered yet").
"""
from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field

from ..sqlite_txn import SqliteTxn
from .policy import Periods, first_register_year, years_before
from .records import json_ids

_IN = "(SELECT value FROM json_each(?))"
_CHECK_IN_END = "coalesce(json_extract(data, '$.closed_at'), json_extract(data, '$.started_at'), created_at)"


@dataclass
class KindsDue:
    check_in_cutoff: str = ""
    check_ins: list[str] = field(default_factory=list)
    message_cutoff: str = ""
    messages: list[str] = field(default_factory=list)
    transport_cutoff: str = ""
    needs: list[str] = field(default_factory=list)  # pupil ids
    plans: list[str] = field(default_factory=list)
    register_year: int = 0
    decisions: int = 0  # targeting decisions due

    def counts(self) -> dict[str, int]:
        return {"check_in": len(self.check_ins), "message": len(self.messages), "transport_need": len(self.needs),
                "transport_plan": len(self.plans), "targeting_decision": self.decisions}


def _moment(day: dt.date) -> str:
    """The first moment of ``day`` as stored times are written (UTC ISO)."""
    return day.isoformat() + "T00:00:00"


def find(txn: SqliteTxn, periods: Periods, today: dt.date, legal_pupils: set[str]) -> KindsDue:
    due = KindsDue()
    due.check_in_cutoff = _moment(today - dt.timedelta(days=periods.check_in_days))
    due.check_ins = check_ins_due(txn, due.check_in_cutoff)
    due.message_cutoff = _moment(today - dt.timedelta(days=periods.message_days))
    due.messages = messages_due(txn, due.message_cutoff)
    due.transport_cutoff = years_before(today, periods.transport_years).isoformat()
    due.needs = [r[0] for r in txn.execute(
        "SELECT pupil_id FROM transport_needs WHERE retired_at IS NOT NULL AND retired_at < ? ORDER BY pupil_id",
        (_moment(dt.date.fromisoformat(due.transport_cutoff)),))]
    due.plans = [r[0] for r in txn.execute("SELECT id FROM transport_plans WHERE date < ? ORDER BY id",
                                           (due.transport_cutoff,))]
    due.register_year = first_register_year(today, periods.register_years)
    due.decisions = txn.execute(f"SELECT count(*) FROM targeting_decisions d JOIN targeting_meetings m ON "
                                f"m.id = d.meeting_id WHERE m.year < ? AND d.pupil_id NOT IN {_IN}",
                                (due.register_year, json_ids(legal_pupils))).fetchone()[0]
    return due


def check_ins_due(txn: SqliteTxn, cutoff: str, ids: list[str] | None = None) -> list[str]:
    sql = f"SELECT id FROM check_ins WHERE deleted = 0 AND {_CHECK_IN_END} < ?"
    params: tuple[str, ...] = (cutoff,)
    if ids is not None:
        sql += f" AND id IN {_IN}"
        params += (json_ids(ids),)
    return [r[0] for r in txn.execute(sql + " ORDER BY id", params)]


def messages_due(txn: SqliteTxn, cutoff: str) -> list[str]:
    return [r[0] for r in txn.execute("SELECT id FROM messages WHERE created_at < ? ORDER BY id", (cutoff,))]


def forget_check_ins(txn: SqliteTxn, ids: list[str]) -> Counter[str]:
    """The office's acknowledgements of check-ins that go (the check-ins go as tombstones)."""
    n = txn.execute(f"DELETE FROM check_in_acks WHERE check_in_id IN {_IN}", (json_ids(ids),)).rowcount
    return Counter({"check_in_acks": n}) if n else Counter()


def case_rows(txn: SqliteTxn, case_ids: list[str]) -> Counter[str]:
    """The office's rows that go with these cases: legal steps, their history, sessions and
    letters, the texts about the cases, the acknowledgements of their check-ins."""
    ids = json_ids(case_ids)
    out: Counter[str] = Counter()
    notices = f"(SELECT id FROM legal_notices WHERE case_id IN {_IN})"
    for table, where in (("letters", f"case_id IN {_IN} OR notice_id IN {notices}"),
                         ("legal_events", f"notice_id IN {notices}"),
                         ("penalty_sessions", f"notice_id IN {notices}"),
                         ("legal_notices", f"case_id IN {_IN}"),
                         ("messages", f"case_id IN {_IN}"),
                         ("check_in_acks", f"check_in_id IN (SELECT id FROM check_ins WHERE case_id IN {_IN})")):
        n = txn.execute(f"DELETE FROM {table} WHERE {where}", (ids,) * where.count("?")).rowcount
        if n:
            out[table] += n
    return out


def remove_messages(txn: SqliteTxn, ids: list[str], cutoff: str) -> Counter[str]:
    n = txn.execute(f"DELETE FROM messages WHERE created_at < ? AND id IN {_IN}", (cutoff, json_ids(ids))).rowcount
    return Counter({"messages": n}) if n else Counter()


def remove_transport(txn: SqliteTxn, due: KindsDue) -> Counter[str]:
    """Retired needs and old county plans (read again: a need brought back since stays)."""
    out: Counter[str] = Counter()
    out["transport_needs"] = txn.execute(
        f"DELETE FROM transport_needs WHERE retired_at IS NOT NULL AND retired_at < ? AND pupil_id IN {_IN}",
        (_moment(dt.date.fromisoformat(due.transport_cutoff)), json_ids(due.needs))).rowcount
    out["transport_plans"] = txn.execute(f"DELETE FROM transport_plans WHERE date < ? AND id IN {_IN}",
                                         (due.transport_cutoff, json_ids(due.plans))).rowcount
    return +out


def remove_targeting(txn: SqliteTxn, register_year: int, legal_pupils: set[str]) -> Counter[str]:
    """Decisions of register years that go, except about pupils a kept legal step holds; then
    the meetings of those years left with no decision."""
    out: Counter[str] = Counter()
    out["targeting_decisions"] = txn.execute(
        f"DELETE FROM targeting_decisions WHERE pupil_id NOT IN {_IN} AND meeting_id IN "
        "(SELECT id FROM targeting_meetings WHERE year < ?)", (json_ids(legal_pupils), register_year)).rowcount
    out["targeting_meetings"] = txn.execute(
        "DELETE FROM targeting_meetings WHERE year < ? AND NOT EXISTS "
        "(SELECT 1 FROM targeting_decisions d WHERE d.meeting_id = targeting_meetings.id)", (register_year,)).rowcount
    return +out


def describe(due: KindsDue, periods: Periods, register_first: str) -> list[str]:
    return [
        f"check_in: {len(due.check_ins)} due: lone-working check-ins closed (or started) before "
        f"{due.check_in_cutoff[:10]} ({periods.check_in_days} days), with the office's acknowledgements; "
        "a case's go with it",
        f"message: {len(due.messages)} due: texts to families made before {due.message_cutoff[:10]} "
        f"({periods.message_days} days); a case's go with it",
        f"transport_need: {len(due.needs)} due: pupils' needs retired before {due.transport_cutoff} "
        f"({periods.transport_years} years)",
        f"transport_plan: {len(due.plans)} due: county plans dated before {due.transport_cutoff} "
        f"({periods.transport_years} years)",
        f"targeting: {due.decisions} decisions due: meetings' decisions of academic years before {register_first} "
        "(with the register they were made from; pupils kept for a legal step keep theirs)",
    ]

