"""The school roll import: schools, households and pupils from a CSV, as sync records.

``import_file`` (the CLI), ``import_text`` (the office page) and ``import_rows``
(the demo) all run the same code. The file is read as a stream in chunks of
``CHUNK`` rows: each chunk's existing pupils are read by UPN in one query, its
changes are pushed through ``sync.push`` as the importing actor (so phones get
them at their next pull) in batches of at most ``PUSH_BATCH`` changes, and its
enrolments are written in the same transaction as its last batch. Memory grows
only with the set of UPNs seen (needed to know who is missing from a full roll).

Records have deterministic ids (uuid5 of the URN, the UPN, the normalised
address and postcode) and only fields that differ are written, so importing the
same file again changes nothing. Columns and rules: docs/register.md, "The
school roll".

This module runs the import; the parts it uses are beside it: ``roll_csv``
(reading the file, checking a row), ``roll_ids`` (the derived ids),
``roll_changes`` (what a chunk changes in the records), ``roll_enrol`` (the
registrations), ``roll_alerts`` (possible children missing education) and
``roll_report`` (the report, and as text). Their public names are importable
from here too.
"""
from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable, Container, Iterable, Iterator
from pathlib import Path
from typing import Any

from sync import ADMIN, Actor, Clock, apply, prepare
from sync.clock_mark import stamp_changes

from .. import audit
from ..storage import Database, SqliteTxn
from .keys import json_list
from .roll_alerts import Leaver, count_open_alerts, leaver_alerts, open_alerts, resolve_alert, save_alerts
from .roll_changes import RecordChanges
from .roll_csv import URN, Numbered, Row, check_row, read_csv, rows_source
from .roll_enrol import Enrol, write_enrolments
from .roll_ids import household_id_for, normalise_address, pupil_id_for, school_id_for
from .roll_report import RollReport, print_report, summary

SYSTEM = Actor("system", ADMIN, None)
CHUNK = 500           # rows read, checked and written together: one sync.push (one write transaction)
PUSH_BATCH = 2000     # at most this many changes per push (a chunk of new pupils in new households: ~1000)
LEAVER_BATCH = 500    # pupils marked as left per write
LEAVER_LIMIT = 0.10   # a full roll may mark at most this share of a school's pupils as left without force

# what callers use, wherever it is written (roll_csv, roll_ids, roll_alerts, roll_report)
__all__ = [
    "CHUNK", "LEAVER_LIMIT", "SYSTEM", "RollReport", "check_row", "count_open_alerts", "household_id_for",
    "import_file", "import_rows", "import_text", "normalise_address", "open_alerts", "print_report",
    "pupil_id_for", "read_csv", "resolve_alert", "rows_source", "run", "school_id_for", "summary",
]


# -- the import -------------------------------------------------------------------------

def import_file(db: Database, clock: Clock, path: str | Path, **options: Any) -> RollReport:
    """Import a roll CSV from a file (read twice for a full roll: once to count leavers)."""

    def opener() -> Iterator[str]:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            yield from fh

    return run(db, clock, lambda report: read_csv(opener(), report), **options)


def import_text(db: Database, clock: Clock, text: str, **options: Any) -> RollReport:
    return run(db, clock, lambda report: read_csv(io.StringIO(text.removeprefix("\ufeff"), newline=""), report),
               **options)


def import_rows(db: Database, clock: Clock, rows: Callable[[], Iterable[dict[str, Any]]], **options: Any
                ) -> RollReport:
    """Python rows keyed by column name (values as Python values): how the demo loads.

    With ``explicit_ids=True`` the rows may carry ``pupil_id``, ``household_id`` and
    ``school_id``: records created get those ids instead of the derived ones.
    """
    return run(db, clock, lambda report: rows_source(rows()), **options)


def run(db: Database, clock: Clock, source: Callable[[RollReport], Numbered], *, actor: Actor = SYSTEM,
        full: bool = False, dry_run: bool = False, force: bool = False, on: dt.date | str | None = None,
        explicit_ids: bool = False, progress: Callable[[RollReport], None] | None = None) -> RollReport:
    """Import a roll. ``source(report)`` opens the rows afresh each time it is called.

    ``full``: the file is the whole roll of every school it names; a pupil on such a
    school's roll who is not in the file is marked as left on ``on`` (default today).
    A full import that would mark more than 10% of some school's pupils as left is
    refused (``report.refused``) unless ``force``; a dry run says so and writes nothing.
    Raises ValueError when the file cannot be read.
    """
    day = on.isoformat() if isinstance(on, dt.date) else (on or dt.date.today().isoformat())
    dt.date.fromisoformat(day)
    report = RollReport(date=day, full=full, dry_run=dry_run)
    if full and not dry_run:
        # count the leavers before writing anything: a refused file changes nothing
        scout = RollReport(date=day, full=True)
        upns, urns = _scan(source(scout), scout)
        scout.leaving = _leaving(db, upns, urns)
        _judge(scout, force)
        if scout.refused:
            return scout
    job = _Import(db, clock, actor, report, explicit_ids, progress)
    job.read(source(report))
    if full:
        report.leaving = _leaving(db, job.seen, job.urns)
        if dry_run:
            _judge(report, force)
        job.leave_missing()
    return report


def _scan(rows: Numbered, report: RollReport) -> tuple[set[str], set[str]]:
    upns, urns = set(), set()
    for _line, raw in rows:
        report.rows_read += 1
        upn = raw.get("upn", "").strip().upper()
        if upn:
            upns.add(upn)
        urn = raw.get("urn", "").strip()
        if urn:
            urns.add(urn)
    return upns, urns


def _on_roll(db: Database, urns: Iterable[str], in_file: Container[str]
             ) -> tuple[dict[str, dict[str, Any]], list[dict[str, Any]], list[tuple[str, str]]]:
    """The schools (by id) of these URNs; per school, its pupils on roll and how many of them are
    not in the file; and those pupils, (pupil id, school id). Streamed: no list of every pupil."""
    with db.read() as txn:
        schools = {r["id"]: r for r in txn.rows(
            "SELECT id, json_extract(data, '$.urn') AS urn, json_extract(data, '$.name') AS name FROM schools "
            "WHERE deleted = 0 AND json_extract(data, '$.urn') IN (SELECT value FROM json_each(?))",
            (json_list(sorted(urns)),))}
        counts = {sid: [0, 0] for sid in schools}
        missing: list[tuple[str, str]] = []
        for pid, upn, sid in txn.execute(
                "SELECT id, upn, school_id FROM pupils WHERE deleted = 0 AND school_id IN "
                "(SELECT value FROM json_each(?)) AND json_extract(data, '$.left_on') IS NULL",
                (json_list(sorted(schools)),)):
            counts[sid][0] += 1
            if upn not in in_file:
                counts[sid][1] += 1
                missing.append((pid, sid))
    leaving = sorted(({"urn": schools[sid]["urn"], "name": schools[sid]["name"], "on_roll": n, "leaving": gone}
                      for sid, (n, gone) in counts.items()), key=lambda s: (-s["leaving"], s["name"] or ""))
    return schools, leaving, missing


def _leaving(db: Database, in_file: Container[str], urns: Iterable[str]) -> list[dict[str, Any]]:
    return _on_roll(db, urns, in_file)[1]


def _judge(report: RollReport, force: bool) -> None:
    over = [s for s in report.leaving if s["on_roll"] and s["leaving"] / s["on_roll"] > LEAVER_LIMIT]
    if over and not force:
        report.refused = True
        report.refusal = "; ".join(
            f"{s['leaving']} of {s['on_roll']} pupils ({100 * s['leaving'] / s['on_roll']:.1f}%) of "
            f"{s['name']} (URN {s['urn']}) would be marked as left" for s in over) + \
            f": more than {LEAVER_LIMIT:.0%}. Check the file is the full roll of each school in it."


class _Import(RecordChanges):
    """One run of the import: reads the rows, checks them, tracks the UPNs seen, and writes
    each chunk's changes (``RecordChanges``), registrations and alerts."""

    def __init__(self, db: Database, clock: Clock, actor: Actor, report: RollReport, explicit_ids: bool,
                 progress: Callable[[RollReport], None] | None) -> None:
        super().__init__(db, clock, report)
        self.actor, self.explicit_ids, self.progress = actor, explicit_ids, progress
        self.dry = report.dry_run
        # upn -> its first row, packed (``_pack``): line, URN, main; a rejected row has line 0, so a
        # pupil whose row was bad is not taken for missing from a full roll. One int a pupil.
        self.seen: dict[str, int] = {}
        self.urn_index: dict[str, int] = {}
        self.urn_list: list[str] = []
        self.dual: set[tuple[str, str]] = set()  # (upn, urn) of second rows (dual registration)
        self.urns: set[str] = set()

    # -- reading ------------------------------------------------------------------------
    def read(self, rows: Numbered) -> None:
        chunk: list[Row] = []
        for line, raw in rows:
            self.report.rows_read += 1
            checked = check_row(line, raw, self.explicit_ids)
            if isinstance(checked, list):
                self._mention(raw)
                self.report.reject(line, "; ".join(checked), raw)
                continue
            packed = self.seen.get(checked.upn)
            first = self._unpack(packed) if packed is not None else None
            if first is not None and first[0] > 0:
                if first[1] == checked.urn:
                    self.report.reject(line, f"duplicate: UPN {checked.upn} is already on line {first[0]} "
                                             "at the same school", raw)
                    continue
                if first[2] and checked.main:
                    self.report.reject(line, f"UPN {checked.upn} is on line {first[0]} at another school: "
                                             "for dual registration mark one row's enrolment S (subsidiary)", raw)
                    continue
                self.dual.add((checked.upn, checked.urn))
            elif first is None or first[0] == 0:
                self.seen[checked.upn] = self._pack(line, checked.urn, checked.main)
            self.urns.add(checked.urn)
            chunk.append(checked)
            if len(chunk) >= CHUNK:
                self._chunk(chunk)
                chunk = []
        if chunk:
            self._chunk(chunk)

    def _pack(self, line: int, urn: str, main: bool) -> int:
        index = self.urn_index.get(urn)
        if index is None:
            index = self.urn_index[urn] = len(self.urn_list)
            self.urn_list.append(urn)
        return (((line << 24) | index) << 1) | main

    def _unpack(self, packed: int) -> tuple[int, str, bool]:
        return packed >> 25, self.urn_list[(packed >> 1) & 0xFFFFFF], bool(packed & 1)

    def _first_line(self, upn: str) -> int | None:
        packed = self.seen.get(upn)
        return None if packed is None else packed >> 25

    def _mention(self, raw: dict[str, str]) -> None:
        upn = raw.get("upn", "").strip().upper()
        urn = raw.get("urn", "").strip()
        if upn and upn not in self.seen:
            self.seen[upn] = self._pack(0, urn, True)
        if urn and URN.fullmatch(urn):
            self.urns.add(urn)

    # -- one chunk ----------------------------------------------------------------------
    def _chunk(self, rows: list[Row]) -> None:
        changes: list[dict[str, Any]] = []
        lines: dict[str, int] = {}  # change id -> line, for a change the engine refuses
        rows = self._schools(rows, changes, lines)
        with self.db.read() as txn:
            existing = {r.fields["upn"]: r for r in txn.find("pupil", "upn", {r.upn for r in rows}) if not r.deleted}
            hids = {self._household_id(r) for r in rows if r.household is not None}
            households = txn.get("household", hids)
        self._households(rows, existing, households, changes, lines)
        intents, leavers = self._pupils(rows, existing, changes, lines)
        self._write(changes, lines, intents, leavers)
        if self.progress is not None:
            self.progress(self.report)

    def _reject_row(self, row: Row, reason: str) -> None:
        self.report.reject(row.line, reason, row.raw)
        if self._first_line(row.upn) == row.line:
            self.seen[row.upn] = self._pack(0, row.urn, True)

    def _write(self, changes: list[dict[str, Any]], lines: dict[str, int], intents: list[Enrol],
               leavers: list[Leaver]) -> None:
        tasks: list[dict[str, Any]] = []
        alerts = leaver_alerts(self.db, self.day, self.report, leavers, tasks)
        if self.dry or not (changes or intents or alerts):
            return
        changes = changes + tasks
        batches = [changes[i:i + PUSH_BATCH] for i in range(0, len(changes), PUSH_BATCH)]

        def finish(txn: SqliteTxn) -> None:
            write_enrolments(txn, intents, self.day, self.report)
            save_alerts(txn, alerts)

        for n, batch in enumerate(batches):
            last = n == len(batches) - 1

            prepared = prepare(self.actor, batch)
            with self.db.write() as txn:
                stamp_changes(txn, self.clock, prepared)  # later than every committed write
                outcome = apply(txn, prepared, self.clock)
                touched = [i for t, i in outcome.touched if t in audit.PERSONAL_TYPES]
                if touched:
                    audit.record(txn, self.actor.user_id, self.actor.device_id, "roll_import", touched,
                                 {"changes": len(outcome.results), "date": self.day})
                if last:
                    finish(txn)
            for r in outcome.results:
                if r.status == "rejected":
                    self._not_saved(r, lines)
        if not batches:
            with self.db.write() as txn:
                finish(txn)

    def _not_saved(self, result: Any, lines: dict[str, int]) -> None:
        reason = "; ".join(e.get("message", "") for e in result.errors)
        line = lines.get(result.change_id or "", 0)
        self.report.not_saved.append(f"line {line}: {reason}")
        self.report.reject(line, f"not saved: {reason}", {})

    # -- a full roll: who is missing --------------------------------------------------------
    def leave_missing(self) -> None:
        """Mark as left every pupil on the roll of a school in the file who is not in it."""
        schools, _leaving, missing = _on_roll(self.db, self.urns, self.seen)
        for i in range(0, len(missing), LEAVER_BATCH):
            part = missing[i:i + LEAVER_BATCH]
            with self.db.read() as txn:
                records = txn.get("pupil", [pid for pid, _ in part])
            changes: list[dict[str, Any]] = []
            lines: dict[str, int] = {}
            leavers, intents = [], []
            for pid, sid in part:
                record = records.get(pid)
                if record is None or record.fields.get("left_on"):
                    continue
                changes.append(self._change("pupil", pid, {"left_on": self.day}, record.version, lines, 0))
                leavers.append(Leaver(pid, {**record.fields, "left_on": self.day}, schools[sid]["name"] or "",
                                      self.day, record.fields.get("destination")))
                intents.append(Enrol(pid, sid, self.day, False, self.day, True, leave=True))
                self.report.pupils_left += 1
            self._write(changes, lines, intents, leavers)
        self._close_subsidiary(schools)

    def _close_subsidiary(self, schools: dict[str, dict[str, Any]]) -> None:
        """Subsidiary (dual) registrations at a school of the file whose pupil is not in it at that school."""
        if not schools or self.dry:
            return
        with self.db.read() as txn:
            rows = txn.execute(
                "SELECT p.pupil_id, p.upn, s.school_id, s.urn FROM enrolments e "
                "JOIN register_pupils p ON p.pk = e.pupil_pk JOIN register_schools s ON s.pk = e.school_pk "
                "WHERE e.main = 0 AND e.to_date IS NULL AND s.school_id IN (SELECT value FROM json_each(?))",
                (json_list(sorted(schools)),)).fetchall()
        intents = [Enrol(pid, sid, self.day, False, self.day, False, leave=True)
                   for pid, upn, sid, urn in rows
                   if not ((upn, urn) in self.dual or (upn in self.seen and self._unpack(self.seen[upn])[1] == urn))]
        if intents:
            with self.db.write() as txn:
                write_enrolments(txn, intents, self.day, self.report)

