"""Attendance marks import: streamed in bounded slices, resumable, never blocking the field.

The file is read and checked (``csv_marks.check_row``, the one check of a row) with no lock
held, into a scratch file that gives the rows back in pupil order (``marks_sort``); then each
slice, the marks of a run of whole pupils, is written in one short transaction that stores the marks,
the weekly counts, the figures they move and how far the import has got (the
last pupil done). So memory stays flat whatever the file's size, each pupil's
figures are written once, officers' syncs get the write lock between slices, a
pupil's marks and figures agree at every commit, and an import stopped at any
point (even by SIGKILL) is completed by running it again. A row never overwrites a mark set from a later extract. After the last
slice, the figures of every pupil of a school whose school weeks moved are
brought up to date (``roll_forward``) and changed figures are published to the
pupil records phones pull (``publish``). docs/register.md has the rules.
"""
from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import itertools
import os
import time
import uuid
from collections.abc import Callable, Iterable, Iterator

from typing import IO, Any

import orjson

from sync import ADMIN, Actor, Clock

from .. import audit
from ..storage import Database, SqliteTxn
from ..util import now_iso, today
from . import code_usage, improvement, keys, publish, tally
from .codes import SESSIONS
from .csv_marks import COLUMNS, check_header, check_row, raw_row
from .figures import BandThresholds
from .marks_read import ImportReport, pupil_marks, rejected_rows
from .marks_sort import Repeat, Sorted
from .portable import on_sqlite
from .years import week_key, year_of

__all__ = ["ImportReport", "import_csv", "import_file", "import_rows", "import_stream", "file_import_id",
           "check_header", "finish", "pupil_marks", "rejected_rows", "SYSTEM"]

SYSTEM = Actor("system", ADMIN, None)
READ_ROWS = 20_000  # rows checked and sorted at a time while the file is read (no lock held)
READ_SHOWN = 200_000  # rows read between two updates of the import's progress
REJECTS_A_SLICE = 5_000
SLICE_ROWS = 4_000  # the first slice written; later ones are sized to hold the write lock about SLICE_S
SLICE_S = 0.15
MIN_SLICE, MAX_SLICE = 500, 20_000
ANALYSIS_ROWS = 1000
SHOWN = 200  # rejected and superseded rows kept in the report itself (all are in import_rejects)
WAIT_S = 60.0  # an import waits its turn for the write lock; requests do not wait for it
Progress = Callable[[dict[str, Any]], None]


def import_csv(db: Database, clock: Clock, text: str, actor: Actor = SYSTEM,
               thresholds: BandThresholds = BandThresholds(), *, extracted_at: str | None = None,
               filename: str = "") -> ImportReport:
    """Import marks from CSV text (the API and small files). Raises ValueError when the file
    cannot be read at all (no header, not CSV)."""
    return import_stream(db, clock, io.StringIO(text.removeprefix("\ufeff"), newline=""), actor,
                         thresholds, extracted_at=extracted_at, filename=filename)


def import_file(db: Database, clock: Clock, path: str, actor: Actor = SYSTEM,
                thresholds: BandThresholds = BandThresholds(), *, extracted_at: str | None = None,
                import_id: str | None = None, progress: Progress | None = None,
                filename: str = "") -> ImportReport:
    """Import marks from a file on disk; with ``import_id`` of an unfinished import, resume it."""
    with open(path, encoding="utf-8-sig", newline="") as stream:
        return import_stream(db, clock, stream, actor, thresholds, extracted_at=extracted_at,
                             filename=filename or os.path.basename(path), import_id=import_id,
                             progress=progress)


def import_rows(db: Database, clock: Clock, rows: Iterable[tuple[str, str, str, str]],
                actor: Actor = SYSTEM, thresholds: BandThresholds = BandThresholds(), *,
                import_id: str | None = None, extracted_at: str | None = None) -> ImportReport:
    """Import (upn, YYYY-MM-DD, AM|PM, code) tuples (the demo, tests)."""
    def lines() -> Iterator[str]:
        yield ",".join(COLUMNS) + "\n"
        for row in rows:
            yield ",".join(row) + "\n"

    return import_stream(db, clock, lines(), actor, thresholds, import_id=import_id, extracted_at=extracted_at)


def file_import_id(db: Database, path: str, extracted_at: str | None) -> str:
    """An id for importing this file: the unfinished import of the same contents and extract time
    if there is one (running it again resumes it), else a new one."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    digest.update((extracted_at or "").encode())
    resumable = str(uuid.UUID(bytes=digest.digest()[:16], version=5))
    with db.read() as txn:
        row = txn.execute("SELECT status FROM imports WHERE id = ?", (resumable,)).fetchone()
    if row is not None and row[0] == "done":
        return str(uuid.uuid4())
    return resumable


class _Run:
    """One import: its row in ``imports``, the pupils' keys and the running report."""

    def __init__(self, db: Database, actor: Actor, thresholds: BandThresholds, import_id: str,
                 extracted_at: str, filename: str) -> None:
        self.db, self.actor, self.bands = db, actor, thresholds
        with db.write(timeout=WAIT_S) as txn:
            keys.refresh(txn)
            row = txn.execute("SELECT no, position, report, extracted_at, status, moved FROM imports WHERE id = ?",
                              (import_id,)).fetchone()
            if row is None:
                cur = txn.execute(
                    "INSERT INTO imports (id, kind, user_id, filename, extracted_at, started_at, status) "
                    "VALUES (?, 'marks', ?, ?, ?, ?, 'running')",
                    (import_id, actor.user_id, filename[:200], extracted_at, now_iso()))
                self.no, self.position = int(cur.lastrowid or 0), 0
                self.report = ImportReport(import_id=import_id, extracted_at=extracted_at)
                self.moved: set[tuple[int, int]] = set()
            else:
                self.no, self.position = row[0], row[1]
                self.report = ImportReport.from_dict(orjson.loads(row[2]))
                self.report.import_id, self.report.extracted_at = import_id, row[3]
                self.finished = row[4] == "done"
                self.moved = {(school, year) for school, year in orjson.loads(row[5])}
            self.extracted = {n: e for n, e in txn.execute("SELECT no, extracted_at FROM imports")}
            self.pupils = keys.pupil_keys(txn)
        self.extracted_at = self.report.extracted_at
        # raw spellings met so far -> checked value (the fast path of _check_slice)
        self.days: dict[str, tuple[int, int, int]] = {}
        self.sessions: dict[str, int] = {}
        self.codes: dict[str, tuple[str, int]] = {}
        self.slice_rows = SLICE_ROWS
        self.upns: dict[int, str] | None = None  # pupil -> UPN, made when a repeated row needs it

    def extract_of(self, txn: SqliteTxn, import_no: int) -> str:
        """When the extract behind an import was taken (imports started after this one too)."""
        if import_no not in self.extracted:
            row = txn.execute("SELECT extracted_at FROM imports WHERE no = ?", (import_no,)).fetchone()
            self.extracted[import_no] = row[0] if row else ""
        return self.extracted[import_no]

    finished = False
    columns: list[int] = [0, 1, 2, 3]


def import_stream(db: Database, clock: Clock, stream: IO[str] | Iterable[str], actor: Actor = SYSTEM,
                  thresholds: BandThresholds = BandThresholds(), *, extracted_at: str | None = None,
                  filename: str = "", import_id: str | None = None,
                  progress: Progress | None = None) -> ImportReport:
    reader = csv.reader(stream)
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise ValueError(f"cannot read the file as CSV (line 1): {exc}") from None
    columns = check_header(header)
    run = _Run(db, actor, thresholds, import_id or str(uuid.uuid4()), extracted_at or now_iso(), filename)
    run.columns = columns
    if run.finished:
        return run.report
    with Sorted(db, run.no, run.report.import_id) as rows:
        try:
            line = _read(run, reader, rows, progress)
        except csv.Error as exc:
            raise ValueError(f"cannot read the file as CSV (line {reader.line_num + 1}): {exc}") from None
        rows.sort()
        _save_rejects(run, rows)
        rows.attach()
        start = rows.first_after(run.position)
        while start <= rows.last:
            end, last_pupil = rows.slice_end(start, run.slice_rows)
            _write_slice(run, rows, start, end, last_pupil, line)
            start = end + 1
            if progress is not None:
                progress({"rows_read": run.report.rows_read, "stored": run.report.stored, "line": line})
    finish(db, clock, run.no, run.moved, actor, thresholds, progress)
    with db.read() as txn:
        row = txn.execute("SELECT report FROM imports WHERE no = ?", (run.no,)).fetchone()
    return ImportReport.from_dict(orjson.loads(row[0]))


def _read(run: _Run, reader: Any, rows: Sorted, progress: Progress | None) -> int:
    """Read and check the whole file into ``rows`` (no lock held); returns the last line read.
    A run that resumes an import reads the file again: the rows count is the file's, not a sum."""
    batch: list[tuple[int, list[str]]] = []
    previous = reader.line_num
    run.report.rows_read = 0
    for fields in reader:
        line, previous = previous + 1, reader.line_num
        batch.append((line, fields))
        if len(batch) >= READ_ROWS:
            rows.add(*_check_slice(run, batch))
            batch = []
            if progress is not None:
                progress({"rows_read": run.report.rows_read, "stored": run.report.stored, "line": line})
            if run.report.rows_read % READ_SHOWN < READ_ROWS:  # the office's progress, while reading
                _save_read(run)
    rows.add(*_check_slice(run, batch))
    return previous


def _check(run: _Run, fields: list[str], columns: list[int]) -> tuple[tuple[Any, ...] | None, str]:
    """The full check of a row the fast path did not take (``check_row``): every reason it is
    wrong, or the mark ``(pupil, day, session, code, counter, school, year, week)``; learns the
    raw spellings of a good row."""
    values, reasons = check_row(fields, columns, run.pupils.__contains__, tally.COUNTER)
    if values is None:
        return None, "; ".join(reasons)
    upn, date, session, code = values
    pupil, ordinal, counter = run.pupils[upn], date.toordinal(), tally.COUNTER[code]
    day = run.days[fields[columns[1]]] = (ordinal, year_of(date), week_key(ordinal))
    run.sessions[fields[columns[2]]] = SESSIONS.index(session)
    run.codes[fields[columns[3]]] = (code, counter)
    return (pupil[0], ordinal, SESSIONS.index(session), code, counter, pupil[1], day[1], day[2]), ""


def _check_slice(run: _Run, batch: list[tuple[int, list[str]]]) -> tuple[list[Any], list[tuple[int, str, str]]]:
    """The marks ``(line, pupil, day, session, code, counter, school, year, week)`` of a slice of
    the file, and its rejected rows ``(line, reason, raw)``."""
    report = run.report
    columns = run.columns
    iu, idate, isession, icode = columns
    pupils, days, sessions, codes = run.pupils, run.days, run.sessions, run.codes
    staged: list[tuple[Any, ...]] = []
    rejects: list[tuple[int, str, str]] = []
    for number, fields in batch:
        # the fast path: every value spelt as one met before
        if len(fields) == 4:
            p, d = pupils.get(fields[iu]), days.get(fields[idate])
            s, c = sessions.get(fields[isession]), codes.get(fields[icode])
            if p is not None and d is not None and s is not None and c is not None:
                staged.append((number, p[0], d[0], s, c[0], c[1], p[1], d[1], d[2]))
                continue
        elif not fields or (len(fields) == 1 and not fields[0].strip()):
            report.rows_read -= 1  # a blank line is not a row
            continue
        mark, reason = _check(run, fields, columns)
        if mark is None:
            rejects.append((number, reason, orjson.dumps(raw_row(fields, columns)).decode()))
        else:
            staged.append((number, *mark))
    report.rows_read += len(batch)
    return staged, rejects


def _save_rejects(run: _Run, rows: Sorted) -> None:
    """The rows the read rejected, into ``import_rejects`` a chunk at a time, then the count read."""
    chunks = itertools.chain(rows.rejects(REJECTS_A_SLICE),
                             ([_repeat(run, r) for r in chunk] for chunk in rows.repeats(REJECTS_A_SLICE)))
    for chunk in chunks:
        with run.db.write(timeout=WAIT_S) as txn:
            txn.executemany("INSERT OR REPLACE INTO import_rejects (import_no, line, reason, raw) "
                                 "VALUES (?, ?, ?, ?)", [(run.no, *r) for r in chunk])
        publish.step_aside(run.db)
    _save_read(run)


def _save_read(run: _Run) -> None:
    with run.db.write(timeout=WAIT_S) as txn:
        txn.execute("UPDATE imports SET report = json_set(report, '$.rows_read', ?) WHERE no = ?",
                    (run.report.rows_read, run.no))


def _repeat(run: _Run, repeat: Repeat) -> tuple[int, str, str]:
    """A reject for a (pupil, day, session) the file gives twice with different codes."""
    number, first, pupil, day, session, code_first, code = repeat
    if run.upns is None:
        run.upns = {pk: upn for upn, (pk, _school) in run.pupils.items()}
    raw = {"upn": run.upns.get(pupil, ""), "date": dt.date.fromordinal(day).isoformat(),
           "session": SESSIONS[session], "code": code}
    return (number, f"duplicate of line {first} with a different code ({code_first!r} then {code!r})",
            orjson.dumps(raw).decode())


def _write_slice(run: _Run, rows: Sorted, first: int, last: int, last_pupil: int, line: int) -> None:
    """Store the marks of a run of whole pupils (rows ``first``..``last`` of the sorted scratch
    file) with their counts and figures, in one transaction that also records how far the
    import has got (the last pupil done)."""
    report = run.report
    staged = rows.rows(first, last)  # read before the write lock (None: copied in SQL)
    rejects: list[tuple[int, str, str]] = []
    no, extract = run.no, run.extracted_at
    with run.db.write(timeout=WAIT_S) as txn:
        started = time.perf_counter()
        tally.prepare_stage(txn)
        rows.stage(txn, first, last, staged)
        if not on_sqlite(txn):
            txn.execute("ANALYZE stage")  # nothing else gives the planner a temporary table's size
        txn.execute("UPDATE stage SET old = m.code, ko = c.counter, old_import = m.import_no "
                    "FROM register_marks m JOIN code_counter c ON c.code = m.code "
                    "WHERE m.pupil_pk = stage.pupil_pk AND m.day = stage.day AND m.session = stage.session")
        report.unchanged += txn.execute("SELECT count(*) FROM stage WHERE old = code").fetchone()[0]
        for number, old, code in txn.execute(
                "SELECT line, old, code FROM stage WHERE old_import = ? AND old != code", (no,)).fetchall():
            rejects.append((number, f"duplicate of an earlier line with a different code ({old!r} then {code!r})", ""))
        for number, code, old, kept_from in txn.execute(
                "SELECT s.line, s.code, s.old, i.extracted_at FROM stage s JOIN imports i ON i.no = s.old_import "
                "WHERE s.old != s.code AND s.old_import != ? AND i.extracted_at > ? ORDER BY s.line",
                (no, extract)).fetchall():
            report.superseded += 1
            if len(report.superseded_rows) < SHOWN:
                report.superseded_rows.append({"line": number, "code": code, "kept": old, "kept_from": kept_from})
        txn.execute("DELETE FROM stage WHERE old IS NOT NULL AND (old = code OR old_import = ? OR old_import IN "
                    "(SELECT no FROM imports WHERE extracted_at > ?))", (no, extract))
        report.stored += txn.execute(
            "INSERT OR REPLACE INTO register_marks (pupil_pk, day, session, code, import_no) "
            "SELECT pupil_pk, day, session, code, ? FROM stage", (no,)).rowcount
        run.moved |= tally.apply_stage(txn, run.bands)
        improvement.after_slice(txn, run.bands)
        code_usage.after_slice(txn)
        if rejects:
            txn.executemany("INSERT OR REPLACE INTO import_rejects (import_no, line, reason, raw) "
                            "VALUES (?, ?, ?, ?)", [(no, *r) for r in rejects])
        txn.execute("UPDATE imports SET line = ?, position = ?, report = ?, moved = ? WHERE no = ?",
                    (line, last_pupil, orjson.dumps(report.as_dict()).decode(),
                     orjson.dumps(sorted(run.moved)).decode(), no))
        held = time.perf_counter() - started
    run.position = last_pupil
    publish.step_aside(run.db)  # officers' pushes waiting for the lock go first
    # the next slice's size aims at SLICE_S of write lock, whatever this machine's speed
    if held > 0:
        run.slice_rows = max(MIN_SLICE, min(MAX_SLICE, int((last - first + 1) * SLICE_S / held)))


def finish(db: Database, clock: Clock, import_no: int, moved: set[tuple[int, int]], actor: Actor,
           thresholds: BandThresholds, progress: Progress | None = None) -> None:
    """After the last slice: roll figures forward where school weeks moved (kept with the
    import, so a resumed import knows what moved before it stopped), publish, close."""
    publish.roll_forward(db, moved, thresholds)
    updated = publish.publish(db, clock, actor, progress)
    code_usage.refresh_profiles(db, today())
    with db.write(timeout=WAIT_S) as txn:
        row = txn.execute("SELECT report, id FROM imports WHERE no = ?", (import_no,)).fetchone()
        report = ImportReport.from_dict(orjson.loads(row[0]))
        report.pupils_updated += updated
        report.status = "done"
        report.rejected_count = txn.execute("SELECT count(*) FROM import_rejects WHERE import_no = ?",
                                            (import_no,)).fetchone()[0]
        report.rejected = [{"line": n, "reason": reason, "row": orjson.loads(raw) if raw else {}}
                           for n, reason, raw in txn.execute(
                               "SELECT line, reason, raw FROM import_rejects WHERE import_no = ? ORDER BY line "
                               "LIMIT ?", (import_no, SHOWN))]
        report.superseded_rows.sort(key=lambda r: r["line"])
        schools = [r[0] for r in txn.execute(
            "SELECT DISTINCT s.school_id FROM register_schools s JOIN register_pupils p ON p.school_pk = s.pk "
            "JOIN register_marks m ON m.pupil_pk = p.pk AND m.import_no = ? LIMIT 1000", (import_no,))]
        audit_id = audit.record(txn, actor.user_id, actor.device_id, "marks_import", schools,
                                {"import_id": row[1], "stored": report.stored,
                                 "rejected": report.rejected_count, "superseded": report.superseded})
        txn.execute("UPDATE register_schools SET last_import_at = ? WHERE school_id IN "
                    "(SELECT value FROM json_each(?))", (now_iso(), orjson.dumps(schools).decode()))
        txn.execute("UPDATE imports SET status = 'done', finished_at = ?, report = ?, audit_id = ? WHERE no = ?",
                    (now_iso(), orjson.dumps(report.as_dict()).decode(), audit_id, import_no))
    if report.stored > 50_000 and isinstance(db, Database):  # PostgreSQL's autovacuum analyses by itself
        with db.write(timeout=WAIT_S) as txn:
            txn.execute(f"PRAGMA analysis_limit = {ANALYSIS_ROWS}")  # sampled: milliseconds, not seconds
            txn.execute("PRAGMA optimize")
