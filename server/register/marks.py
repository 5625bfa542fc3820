"""Attendance marks import: streamed in bounded slices, resumable, never blocking the field.

A file is read a slice at a time (``SLICE_ROWS`` rows): parsed and checked with
no lock held, then written in one short transaction that stores the marks, the
weekly counts, the figures they move, the rejected rows and how far the import
has got. So memory stays flat whatever the file's size, officers' syncs get the
write lock between slices, a pupil's marks and figures agree at every commit,
and an import stopped at any point (even by SIGKILL) is completed by running it
again. A row never overwrites a mark set from a later extract. After the last
slice, the figures of every pupil of a school whose school weeks moved are
brought up to date (``roll_forward``) and changed figures are published to the
pupil records phones pull (``publish``). docs/register.md has the rules.
"""
from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import os
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

import orjson

from sync import ADMIN, Actor, Clock

from .. import audit
from ..storage import Database, SqliteTxn
from ..util import now_iso
from . import keys, publish, tally
from .codes import SESSIONS, normalise_code
from .csv_marks import COLUMNS
from .figures import BandThresholds
from .years import week_key, year_of

SYSTEM = Actor("system", ADMIN, None)
SLICE_ROWS = 4_000
SHOWN = 200  # rejected and superseded rows kept in the report itself (all are in import_rejects)
WAIT_S = 60.0  # an import waits its turn for the write lock; requests do not wait for it
Progress = Callable[[dict[str, Any]], None]


@dataclass
class ImportReport:
    import_id: str = ""
    rows_read: int = 0
    stored: int = 0
    unchanged: int = 0
    superseded: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)
    rejected_count: int = 0
    superseded_rows: list[dict[str, Any]] = field(default_factory=list)
    pupils_updated: int = 0
    extracted_at: str = ""
    status: str = "running"

    def as_dict(self) -> dict[str, Any]:
        return {"import_id": self.import_id, "rows_read": self.rows_read, "stored": self.stored,
                "unchanged": self.unchanged, "superseded": self.superseded,
                "superseded_rows": self.superseded_rows, "rejected": self.rejected,
                "rejected_count": self.rejected_count, "pupils_updated": self.pupils_updated,
                "extracted_at": self.extracted_at, "status": self.status}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ImportReport:
        return cls(**{k: d[k] for k in cls.__dataclass_fields__ if k in d})


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
            row = txn.execute("SELECT no, line, report, extracted_at, status, moved FROM imports WHERE id = ?",
                              (import_id,)).fetchone()
            if row is None:
                cur = txn.execute(
                    "INSERT INTO imports (id, kind, user_id, filename, extracted_at, started_at, status) "
                    "VALUES (?, 'marks', ?, ?, ?, ?, 'running')",
                    (import_id, actor.user_id, filename[:200], extracted_at, now_iso()))
                self.no, self.line = int(cur.lastrowid or 0), 0
                self.report = ImportReport(import_id=import_id, extracted_at=extracted_at)
                self.moved: set[tuple[int, int]] = set()
            else:
                self.no, self.line = row[0], row[1]
                self.report = ImportReport.from_dict(orjson.loads(row[2]))
                self.report.import_id, self.report.extracted_at = import_id, row[3]
                self.finished = row[4] == "done"
                self.moved = {(school, year) for school, year in orjson.loads(row[5])}
            self.extracted = {n: e for n, e in txn.execute("SELECT no, extracted_at FROM imports")}
            self.pupils = keys.pupil_keys(txn)
        self.extracted_at = self.report.extracted_at
        self.days: dict[str, int] = {}

    def extract_of(self, txn: SqliteTxn, import_no: int) -> str:
        """When the extract behind an import was taken (imports started after this one too)."""
        if import_no not in self.extracted:
            row = txn.execute("SELECT extracted_at FROM imports WHERE no = ?", (import_no,)).fetchone()
            self.extracted[import_no] = row[0] if row else ""
        return self.extracted[import_no]

    finished = False
    columns: list[int] = [0, 1, 2, 3]

    def day(self, value: str) -> int | None:
        day = self.days.get(value)
        if day is None:
            try:
                if len(value) != 10 or value[4] != "-" or value[7] != "-":
                    return None
                day = dt.date.fromisoformat(value).toordinal()
            except ValueError:
                return None
            self.days[value] = day
        return day


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
    try:
        for line, batch in _slices(reader, run.line, columns):
            _write_slice(run, batch, line)
            if progress is not None:
                progress({"rows_read": run.report.rows_read, "stored": run.report.stored, "line": line})
    except csv.Error as exc:
        raise ValueError(f"cannot read the file as CSV (line {reader.line_num + 1}): {exc}") from None
    finish(db, clock, run.no, run.moved, actor, thresholds, progress)
    with db.read() as txn:
        row = txn.execute("SELECT report FROM imports WHERE no = ?", (run.no,)).fetchone()
    return ImportReport.from_dict(orjson.loads(row[0]))


def check_header(header: list[str] | None) -> list[int]:
    expected = ",".join(COLUMNS)
    if header is None:
        raise ValueError(f"the file is empty: expected the header {expected}")
    names = [name.strip().lower().removeprefix("\ufeff") for name in header]
    if sorted(names) != sorted(COLUMNS):
        found = ",".join(header) if header else "(blank line)"
        raise ValueError(f"line 1 must be the header {expected} (any order); found {found!r}")
    return [names.index(c) for c in COLUMNS]


Row = tuple[int, list[str]]


def _slices(reader: Any, done_line: int, columns: list[int]) -> Iterator[tuple[int, list[Row]]]:
    """(physical line reached, rows) a slice at a time, skipping the lines an earlier run did."""
    batch: list[Row] = []
    previous = reader.line_num
    for fields in reader:
        line, previous = previous + 1, reader.line_num
        if line <= done_line:
            continue
        if not fields or (len(fields) == 1 and not fields[0].strip()):
            continue
        batch.append((line, fields))
        if len(batch) >= SLICE_ROWS:
            yield previous, batch
            batch = []
    if batch or previous > done_line:
        yield previous, batch


def _raw(fields: list[str], columns: list[int]) -> dict[str, str]:
    raw = {name: fields[i] for name, i in zip(COLUMNS, columns) if i < len(fields)}
    for position in range(len(COLUMNS), len(fields)):
        raw[f"column_{position + 1}"] = fields[position]
    return raw


def _check(run: _Run, fields: list[str], columns: list[int]) -> tuple[tuple[Any, ...] | None, str]:
    if len(fields) != len(COLUMNS):
        return None, f"expected 4 columns, found {len(fields)}"
    upn, date, session, code = (fields[i] for i in columns)
    reasons = []
    upn = upn.strip()
    pupil = run.pupils.get(upn)
    if not upn:
        reasons.append("empty upn")
    elif pupil is None:
        reasons.append(f"unknown pupil {upn!r}")
    day = run.day(date.strip())
    if day is None:
        value = date.strip()
        try:
            dt.date.fromisoformat(value)
            reasons.append(f"bad date {value!r}: expected YYYY-MM-DD")
        except ValueError:
            ok_shape = len(value) == 10 and value[4] == "-" and value[7] == "-" and value.replace("-", "").isdigit()
            reasons.append(f"bad date {value!r}: no such day" if ok_shape else
                           f"bad date {value!r}: expected YYYY-MM-DD")
    s = session.strip().upper()
    if s not in SESSIONS:
        reasons.append(f"bad session {session!r}: expected AM or PM")
    c = normalise_code(code)
    if c not in tally.COUNTER:
        reasons.append(f"unknown attendance code {code!r}")
    if reasons or pupil is None or day is None:
        return None, "; ".join(reasons)
    return (pupil[0], day, 0 if s == "AM" else 1, c, pupil[1]), ""


def _write_slice(run: _Run, batch: list[Row], line: int) -> None:
    report = run.report
    columns = run.columns
    good: dict[tuple[int, int, int], tuple[int, str, int | None]] = {}
    rejects: list[tuple[int, str, str]] = []
    for number, fields in batch:
        mark, reason = _check(run, fields, columns)
        if mark is None:
            rejects.append((number, reason, orjson.dumps(_raw(fields, columns)).decode()))
            continue
        key = mark[:3]
        first = good.get(key)
        if first is not None:
            if first[1] != mark[3]:
                rejects.append((number, f"duplicate of line {first[0]} with a different code "
                                        f"({first[1]!r} then {mark[3]!r})", orjson.dumps(_raw(fields, columns)).decode()))
            continue
        good[key] = (number, mark[3], mark[4])
    report.rows_read += len(batch)
    with run.db.write(timeout=WAIT_S) as txn:
        existing = {(r[0], r[1], r[2]): (r[3], r[4]) for r in txn.execute(
            "SELECT m.pupil_pk, m.day, m.session, m.code, m.import_no FROM json_each(?) j "
            "JOIN register_marks m ON m.pupil_pk = j.value ->> 0 AND m.day = j.value ->> 1 "
            "AND m.session = j.value ->> 2", (orjson.dumps([list(k) for k in good]).decode(),))}
        t = tally.Tally()
        writes = []
        for key, (number, code, school) in good.items():
            old = existing.get(key)
            pupil, day, session = key
            if old is not None:
                if old[0] == code:
                    report.unchanged += 1
                    continue
                if old[1] == run.no:
                    rejects.append((number, f"duplicate of an earlier line with a different code "
                                            f"({old[0]!r} then {code!r})", ""))
                    continue
                if run.extract_of(txn, old[1]) > run.extracted_at:
                    report.superseded += 1
                    if len(report.superseded_rows) < SHOWN:
                        report.superseded_rows.append({"line": number, "code": code, "kept": old[0],
                                                       "kept_from": run.extract_of(txn, old[1])})
                    continue
            writes.append((pupil, day, session, code, run.no))
            year, week = year_of(dt.date.fromordinal(day)), week_key(day)
            if old is not None:
                t.add(pupil, school, day, old[0], -1, year, week)
            t.add(pupil, school, day, code, 1, year, week)
        txn.conn.executemany("INSERT OR REPLACE INTO register_marks (pupil_pk, day, session, code, import_no) "
                             "VALUES (?, ?, ?, ?, ?)", writes)
        report.stored += len(writes)
        run.moved |= tally.apply(txn, t, run.bands)
        if rejects:
            txn.conn.executemany("INSERT OR REPLACE INTO import_rejects (import_no, line, reason, raw) "
                                 "VALUES (?, ?, ?, ?)", [(run.no, *r) for r in rejects])
            report.rejected_count += len(rejects)
            for number, reason, raw in rejects[:max(0, SHOWN - len(report.rejected))]:
                report.rejected.append({"line": number, "reason": reason, "row": orjson.loads(raw) if raw else {}})
        txn.execute("UPDATE imports SET line = ?, report = ?, moved = ? WHERE no = ?",
                    (line, orjson.dumps(report.as_dict()).decode(), orjson.dumps(sorted(run.moved)).decode(),
                     run.no))


def finish(db: Database, clock: Clock, import_no: int, moved: set[tuple[int, int]], actor: Actor,
           thresholds: BandThresholds, progress: Progress | None = None) -> None:
    """After the last slice: roll figures forward where school weeks moved (kept with the
    import, so a resumed import knows what moved before it stopped), publish, close."""
    publish.roll_forward(db, moved)
    updated = publish.publish(db, clock, actor, progress)
    with db.write(timeout=WAIT_S) as txn:
        row = txn.execute("SELECT report, id FROM imports WHERE no = ?", (import_no,)).fetchone()
        report = ImportReport.from_dict(orjson.loads(row[0]))
        report.pupils_updated += updated
        report.status = "done"
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
    if report.stored > 50_000:
        with db.write(timeout=WAIT_S) as txn:
            txn.execute("PRAGMA optimize")


def rejected_rows(db: Database, import_id: str, limit: int | None = None) -> list[dict[str, Any]]:
    with db.read() as txn:
        sql = ("SELECT r.line, r.reason, r.raw FROM import_rejects r JOIN imports i ON i.no = r.import_no "
               "WHERE i.id = ? ORDER BY r.line")
        params: list[Any] = [import_id]
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        return [{"line": n, "reason": reason, "row": orjson.loads(raw) if raw else {}}
                for n, reason, raw in txn.execute(sql, params)]


def pupil_marks(txn: SqliteTxn, pupil_id: str, first: dt.date | None = None,
                last: dt.date | None = None) -> list[tuple[dt.date, str, str]]:
    """(date, AM|PM, code) of one pupil, in order, optionally between two dates."""
    lo = first.toordinal() if first else 0
    hi = last.toordinal() if last else 10**7
    return [(dt.date.fromordinal(d), SESSIONS[s], c) for d, s, c in txn.execute(
        "SELECT m.day, m.session, m.code FROM register_marks m JOIN register_pupils p ON p.pk = m.pupil_pk "
        "WHERE p.pupil_id = ? AND m.day BETWEEN ? AND ? ORDER BY m.day, m.session", (pupil_id, lo, hi))]

