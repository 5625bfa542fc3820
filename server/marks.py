"""Attendance marks in the database: import, and the pupils' register figures.

An import keeps every good row, reports each bad one, and recomputes the
register fields of the pupils whose marks changed; those pupils then reach
the next pull of everyone who can see them. Importing the same file again
changes nothing.
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import orjson

from sync import ADMIN, Actor, Clock, system_write

from . import audit
from .register import BandThresholds, Mark, compute_figures, parse_marks_csv
from .storage import Database, SqliteTxn
from .util import now_iso

SYSTEM = Actor("system", ADMIN, None)


@dataclass
class ImportReport:
    rows_read: int = 0
    stored: int = 0
    unchanged: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)
    pupils_updated: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"rows_read": self.rows_read, "stored": self.stored, "unchanged": self.unchanged,
                "rejected": self.rejected, "pupils_updated": self.pupils_updated}


def import_csv(db: Database, clock: Clock, text: str, actor: Actor = SYSTEM,
               thresholds: BandThresholds = BandThresholds()) -> ImportReport:
    """Raises ValueError when the file cannot be read at all (e.g. no header)."""
    upns = pupil_ids_by_upn(db)
    marks, errors = parse_marks_csv(text, known_upns=lambda u: u in upns)
    report = ImportReport(rows_read=len(marks) + len(errors))
    report.rejected = [{"line": e.line, "reason": e.reason, "row": e.raw} for e in errors]
    return store_marks(db, clock, marks, upns, report, actor, thresholds)


def pupil_ids_by_upn(db: Database) -> dict[str, str]:
    return {r["upn"]: r["id"] for r in db.query("SELECT id, upn FROM pupils WHERE deleted = 0")}


def store_marks(db: Database, clock: Clock, marks: list[Mark], upns: dict[str, str],
                report: ImportReport, actor: Actor = SYSTEM,
                thresholds: BandThresholds = BandThresholds()) -> ImportReport:
    """Store validated marks of known pupils and recompute their figures, in one transaction."""
    rows = [(upns[m.upn], m.date.isoformat(), m.session, m.code) for m in marks]
    with db.write() as txn:
        changed = _store(txn, rows, report)
        report.pupils_updated = recompute(txn, clock, sorted(changed), actor, thresholds)
        if report.stored:
            audit.record(txn, actor.user_id, actor.device_id, "marks_import", sorted(changed),
                         {"stored": report.stored, "rejected": len(report.rejected)})
    return report


def _store(txn: SqliteTxn, rows: list[tuple[str, str, str, str]], report: ImportReport) -> set[str]:
    if not rows:
        return set()
    existing = {(r["pupil_id"], r["date"], r["session"]): r["code"] for r in txn.rows(
        "SELECT m.pupil_id, m.date, m.session, m.code FROM marks m "
        "JOIN (SELECT DISTINCT value AS pid FROM json_each(?)) p ON p.pid = m.pupil_id",
        (_json_list({r[0] for r in rows}),))}
    fresh = [r for r in rows if existing.get(r[:3]) != r[3]]
    report.stored, report.unchanged = len(fresh), len(rows) - len(fresh)
    now = now_iso()
    txn.conn.executemany("INSERT OR REPLACE INTO marks (pupil_id, date, session, code, imported_at) "
                         "VALUES (?, ?, ?, ?, ?)", [(*r, now) for r in fresh])
    return {r[0] for r in fresh}


def _json_list(values: set[str]) -> str:
    return orjson.dumps(sorted(values)).decode()


def school_weeks(txn: SqliteTxn, school_id: str) -> list[dt.date]:
    rows = txn.rows("SELECT DISTINCT m.date FROM marks m JOIN pupils p ON p.id = m.pupil_id "
                    "WHERE p.school_id = ?", (school_id,))
    return [dt.date.fromisoformat(r["date"]) for r in rows]


def pupil_marks(txn: SqliteTxn, pupil_id: str, upn: str = "") -> list[Mark]:
    rows = txn.rows("SELECT date, session, code FROM marks WHERE pupil_id = ? ORDER BY date, session",
                    (pupil_id,))
    return [Mark(upn, dt.date.fromisoformat(r["date"]), r["session"], r["code"]) for r in rows]


def recompute(txn: SqliteTxn, clock: Clock, pupil_ids: list[str], actor: Actor,
              thresholds: BandThresholds) -> int:
    """Write new register figures for pupils whose figures differ; returns how many."""
    if not pupil_ids:
        return 0
    pupils = txn.get("pupil", pupil_ids)
    weeks_cache: dict[str, list[dt.date]] = {}
    by_school: dict[str, list[str]] = defaultdict(list)
    for pid, p in pupils.items():
        by_school[p.fields.get("school_id", "")].append(pid)
    updated = 0
    now = now_iso()
    for school_id, ids in by_school.items():
        weeks = weeks_cache.setdefault(school_id, school_weeks(txn, school_id))
        for pid in ids:
            pupil = pupils[pid]
            marks = pupil_marks(txn, pid, pupil.fields.get("upn", ""))
            fields = compute_figures(marks, thresholds, school_weeks=weeks).register_fields()
            if any(pupil.fields.get(k) != v for k, v in fields.items()):
                system_write(txn, actor, "pupil", pid, fields, clock, now, "register")
                updated += 1
    return updated


def threshold_detail(txn: SqliteTxn, pupil_id: str, thresholds: BandThresholds = BandThresholds()) -> dict[str, Any]:
    pupil = txn.get("pupil", [pupil_id]).get(pupil_id)
    if pupil is None:
        return {}
    weeks = school_weeks(txn, pupil.fields.get("school_id", ""))
    figures = compute_figures(pupil_marks(txn, pupil_id, pupil.fields.get("upn", "")), thresholds,
                              school_weeks=weeks)
    return {"threshold_sessions": figures.threshold_sessions}
