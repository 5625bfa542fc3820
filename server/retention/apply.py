"""``doorstep retention apply`` (docs/retention.md): report what is due, and with ``apply`` remove it.

The report is read in one snapshot and changes nothing. Removing goes kind by kind in slices,
each one short write transaction sized to hold the write lock about ``SLICE_S`` (like the
marks import), so officers' pushes and pulls get in between; each slice checks again that
what it removes is still due. A run that stops part way leaves every slice before it done and
consistent; running it again completes it. The audit log gets a row when it starts (what was
due) and one when it ends (what went): kinds and counts, never the data.
"""
from __future__ import annotations

import datetime as dt
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

import sync
from sync.scope import RUNS_FROM

from .. import audit
from ..state import AppState
from ..storage import SqliteTxn
from . import due as _due
from . import horizon as _horizon
from . import kinds as _kinds
from .horizon import iso
from .policy import Periods
from .records import remove

SLICE_S = 0.15  # how long one slice may hold the write lock
WAIT_S = 60.0  # a slice waits its turn for the write lock; requests do not wait for it
PAUSE_S = 0.005  # between slices: another process's writer takes the lock


@dataclass
class Outcome:
    """What was due (``planned``) and, after ``apply``, what went (``removed``), per kind."""

    today: dt.date
    applied: bool
    planned: dict[str, Any] = field(default_factory=dict)
    removed: dict[str, Counter[str]] = field(default_factory=dict)
    lines: list[str] = field(default_factory=list)


class _Slices:
    """A slice size that keeps each slice's transaction near ``SLICE_S``."""

    def __init__(self, first: int, low: int = 10, high: int = 20_000) -> None:
        self.size, self.low, self.high = first, low, high

    def took(self, seconds: float) -> None:
        scale = min(2.0, max(0.5, SLICE_S / max(seconds, 1e-4)))
        self.size = max(self.low, min(self.high, int(self.size * scale)))


def run(st: AppState, periods: Periods, today: dt.date, now: dt.datetime, apply: bool = False) -> Outcome:
    """Report what is due (dry run), or remove it (``apply``)."""
    from .report import describe

    with st.db.read() as txn:
        found = _due.find(txn, periods, today)
        hplan = _horizon.plan(txn, periods, now)
        leaving = _runs_leaving(txn, periods, today)
        more = _kinds.find(txn, periods, today, found.legal_pupils)
    out = Outcome(today, apply)
    out.planned = {"case": len(found.cases), "case_kept_for_legal_step": len(found.cases_kept),
                   "transport_run": len(found.runs), "register_pupil_years": sum(y["pupils"] for y in found.register_years),
                   "runs_leaving_phones": leaving["runs"], **more.counts(), "horizon": hplan.as_dict()}
    out.lines = describe(found, hplan, leaving, periods, more)
    if not apply:
        return out
    with st.db.write(timeout=WAIT_S) as txn:
        audit.record(txn, None, None, "retention_started", [], {"due": out.planned, "today": today.isoformat()})
    with st.db.write(timeout=WAIT_S) as txn:
        events = sync.retire_runs(txn, sync.first_run_day(today, periods.runs_on_phone_days))
    out.removed["runs_off_phones"] = Counter(e.type for e in events)
    stamp_at = iso(now)

    def tombstones(txn: SqliteTxn, items: list[tuple[str, str]]) -> Counter[str]:
        """``remove`` stamped inside this slice's transaction: later than every write committed
        before it, whichever server process made that (sync/clock_mark.py)."""
        return remove(txn, items, sync.server_stamp(txn, st.clock), stamp_at) if items else Counter()

    def cases(txn: SqliteTxn, ids: list[str]) -> Counter[str]:
        still = _still_due_cases(txn, periods, today, ids)
        return tombstones(txn, _due.linked(txn, still)) + _kinds.case_rows(txn, still)

    def check_ins(txn: SqliteTxn, ids: list[str]) -> Counter[str]:
        still = _kinds.check_ins_due(txn, more.check_in_cutoff, ids)
        return _kinds.forget_check_ins(txn, still) + tombstones(txn, [("check_in", i) for i in still])

    out.removed["case"] = _sliced(st, [c.id for c in found.cases], 50, cases)
    out.removed["transport_run"] = _sliced(st, found.runs, 50, lambda txn, ids: tombstones(
        txn, _due.run_linked(txn, _still_due_runs(txn, ids, found.run_cutoff))))
    out.removed["check_in"] = _sliced(st, more.check_ins, 200, check_ins)
    out.removed["message"] = _sliced(st, more.messages, 500,
                                     lambda txn, ids: _kinds.remove_messages(txn, ids, more.message_cutoff))
    with st.db.write(timeout=WAIT_S) as txn:
        out.removed["transport_planning"] = _kinds.remove_transport(txn, more)
    out.removed["register"] = _register(st, periods, today)
    with st.db.write(timeout=WAIT_S) as txn:
        hnow = _horizon.plan(txn, periods, now)
        _horizon.advance(txn, hnow.new)
    out.removed["tombstone"] = _prune(st, periods, now)
    summary = {kind: dict(counts) for kind, counts in out.removed.items()}
    with st.db.write(timeout=WAIT_S) as txn:
        audit.record(txn, None, None, "retention_apply", [],
                     {"removed": summary, "horizon": {"from": hplan.current, "to": hnow.new},
                      "today": today.isoformat(), "periods": _periods(periods)})
    return out


def _sliced(st: AppState, ids: list[str], first: int,
            step: Callable[[SqliteTxn, list[str]], Counter[str]]) -> Counter[str]:
    total: Counter[str] = Counter()
    slices = _Slices(first)
    at = 0
    while at < len(ids):
        chunk = ids[at:at + slices.size]
        started = time.perf_counter()
        with st.db.write(timeout=WAIT_S) as txn:
            total += step(txn, chunk)
        slices.took(time.perf_counter() - started)
        at += len(chunk)
        time.sleep(PAUSE_S)
    return total


def _still_due_cases(txn: SqliteTxn, periods: Periods, today: dt.date, ids: list[str]) -> list[str]:
    """The cases of ``ids`` still due now (one may have been reopened or written since the report)."""
    found = _due.Due(today)
    _due.cases_of(txn, periods, found, ids)
    return [c.id for c in found.cases]


def _still_due_runs(txn: SqliteTxn, ids: list[str], cutoff: str) -> list[str]:
    return [r[0] for r in txn.execute(
        "SELECT id FROM transport_runs WHERE deleted = 0 AND json_extract(data, '$.date') < ? "
        "AND id IN (SELECT value FROM json_each(?)) ORDER BY id", (cutoff, orjson.dumps(ids).decode()))]


def _register(st: AppState, periods: Periods, today: dt.date) -> Counter[str]:
    """Old academic years' marks, weekly counts and figures, a run of pupils a slice; a pupil
    with a kept legal-step case keeps theirs (read again here, just before)."""
    year, first_day = _due.register_cutoff(periods, today)
    with st.db.read() as txn:
        legal = _due.Due(today)
        _due.cases_of(txn, periods, legal, None)
        kept = set(_due.legal_pupil_pks(txn, legal.legal_pupils))
    with st.db.write(timeout=WAIT_S) as txn:  # the targeting decisions made from these years' figures
        total = _kinds.remove_targeting(txn, year, legal.legal_pupils)
    slices = _Slices(200)
    after = 0
    while True:
        started = time.perf_counter()
        with st.db.write(timeout=WAIT_S) as txn:
            pks = [r[0] for r in txn.execute("SELECT pk FROM register_pupils WHERE pk > ? ORDER BY pk LIMIT ?",
                                             (after, slices.size))]
            if not pks:
                break
            after = pks[-1]
            doomed = orjson.dumps([p for p in pks if p not in kept]).decode()
            for table, column, bound in (("register_marks", "day", first_day), ("pupil_weeks", "year", year),
                                         ("figures", "year", year)):
                n = txn.execute(f"DELETE FROM {table} WHERE pupil_pk IN (SELECT value FROM json_each(?)) "
                                f"AND {column} < ?", (doomed, bound)).rowcount
                total[table] += n
        slices.took(time.perf_counter() - started)
        time.sleep(PAUSE_S)
    with st.db.write(timeout=WAIT_S) as txn:
        # a week (named by its Monday) goes when all of it is before the first day kept
        total["school_weeks"] += txn.execute("DELETE FROM school_weeks WHERE week < ?", (first_day - 6,)).rowcount
        total["school_codes"] += txn.execute("DELETE FROM school_codes WHERE year < ?", (year,)).rowcount
        # the raw lines an old import rejected (they may hold a UPN)
        total["import_rejects"] += txn.execute(
            "DELETE FROM import_rejects WHERE import_no IN (SELECT no FROM imports WHERE started_at < ?)",
            (dt.date.fromordinal(first_day).isoformat(),)).rowcount
    return +total


def _prune(st: AppState, periods: Periods, now: dt.datetime) -> Counter[str]:
    total: Counter[str] = Counter()
    slices = _Slices(500)
    while True:
        started = time.perf_counter()
        with st.db.write(timeout=WAIT_S) as txn:
            done = _horizon.prune_slice(txn, periods, now, slices.size)
        total += done
        if not done:
            return total
        slices.took(time.perf_counter() - started)
        time.sleep(PAUSE_S)


def _runs_leaving(txn: SqliteTxn, periods: Periods, today: dt.date) -> dict[str, Any]:
    """The runs the next move of the first run day takes off their drivers' phones."""
    first = sync.first_run_day(today, periods.runs_on_phone_days)
    current = txn.counter(RUNS_FROM)
    start = dt.date.fromordinal(current).isoformat() if current else "0000-00-00"
    runs, drivers = txn.execute(
        "SELECT count(*), count(DISTINCT driver_id) FROM transport_runs WHERE deleted = 0 AND driver_id IS NOT NULL "
        "AND json_extract(data, '$.date') >= ? AND json_extract(data, '$.date') < ?",
        (start, first.isoformat())).fetchone()
    return {"first_day": first.isoformat(), "runs": runs, "drivers": drivers}


def _periods(periods: Periods) -> dict[str, Any]:
    return {"register_years": periods.register_years, "case_years": periods.case_years,
            "legal_years": dict(periods.legal_years), "transport_years": periods.transport_years,
            "runs_on_phone_days": periods.runs_on_phone_days, "device_idle_days": periods.device_idle_days,
            "tombstone_days": periods.tombstone_days, "check_in_days": periods.check_in_days,
            "message_days": periods.message_days}
