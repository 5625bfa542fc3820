"""The marks import's sort: a file's checked rows, put in pupil order on disk.

An extract arrives in date order (every pupil's morning, then every pupil's
afternoon…), so a slice of the file touches thousands of pupils once each and
every pupil's weekly counts and figures would be rewritten once per slice. The
import first reads the whole file, with no lock held, into a scratch SQLite
file of its own beside the database. One ``GROUP BY`` (SQLite's sorter: bounded
memory, temporary files beyond it) then writes the rows in pupil, day and
session order, one row a mark, the file's first line for it winning; lines that
repeat a mark with another code are listed apart, to be rejected. The scratch
file is attached to the database's writer, so each slice of the import copies
the marks of a run of whole pupils in SQL: a pupil's counts and figures are
written once per import, and the marks go into their table in key order.

The scratch file is the import's alone (named by its id) and is removed when
the import ends; an import stopped by a crash leaves it, and running the import
again rebuilds it from the file.
"""
from __future__ import annotations

import contextlib
import os
import sqlite3
import tempfile
from collections.abc import Iterator
from typing import Any

from ..storage import Database

SCRATCH_CACHE_KIB = 16 * 1024  # the sorter's memory; beyond it SQLite merges through temporary files

# a checked mark: (line, pupil, day, session, code, counter, school, year, week)
Staged = tuple[int, int, int, int, str, int, Any, int, int]
Reject = tuple[int, str, str]  # (line, reason, raw row as JSON)
# a line giving a mark the file already gave with another code:
# (line, first line, pupil, day, session, first code, code)
Repeat = tuple[int, int, int, int, int, str, str]


class Sorted:
    """One import's scratch file: ``add`` rows as the file is read, ``sort``, then ``slices``
    of the attached table ``<name>.sorted`` (rowid ranges of whole pupils)."""

    def __init__(self, db: Database, import_no: int, import_id: str) -> None:
        folder = os.path.dirname(os.path.abspath(db.path))
        if not os.access(folder, os.W_OK):
            folder = tempfile.gettempdir()
        self.db, self.name = db, f"import_{import_no}"
        self.path = os.path.join(folder, f".{os.path.basename(db.path)}.import-{import_id}")
        self.attached = False
        self.last = 0  # rows in ``sorted`` (rowids 1..last)
        self._remove()
        self.conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        for pragma in ("journal_mode = OFF", "synchronous = OFF", f"cache_size = -{SCRATCH_CACHE_KIB}",
                       "temp_store = FILE"):
            self.conn.execute(f"PRAGMA {pragma}")
        self.conn.execute("CREATE TABLE marks (line INTEGER, pupil_pk INTEGER, day INTEGER, session INTEGER, "
                          "code TEXT, k INTEGER, school_pk INTEGER, year INTEGER, week INTEGER)")
        self.conn.execute("CREATE TABLE rejects (line INTEGER, reason TEXT, raw TEXT)")
        self.conn.execute("CREATE TABLE repeats (line INTEGER, first INTEGER, pupil_pk INTEGER, day INTEGER, "
                          "session INTEGER, first_code TEXT, code TEXT)")
        self.conn.execute("BEGIN")

    def add(self, staged: list[Staged], rejects: list[Reject]) -> None:
        self.conn.executemany("INSERT INTO marks VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", staged)
        if rejects:
            self.conn.executemany("INSERT INTO rejects VALUES (?, ?, ?)", rejects)

    def sort(self) -> None:
        """One row a mark in key order (``min(line)`` makes SQLite take the other columns from
        the first line), and the repeats with another code."""
        conn = self.conn
        conn.execute("COMMIT")
        conn.execute("CREATE TABLE sorted AS SELECT min(line) AS line, pupil_pk, day, session, code, k, school_pk, "
                     "year, week, count(*) AS n FROM marks GROUP BY pupil_pk, day, session "
                     "ORDER BY pupil_pk, day, session")
        self.last = conn.execute("SELECT max(rowid) FROM sorted").fetchone()[0] or 0
        if conn.execute("SELECT count(*) FROM marks").fetchone()[0] != self.last:
            conn.execute("CREATE TABLE firsts (pupil_pk INTEGER, day INTEGER, session INTEGER, line INTEGER, "
                         "code TEXT, PRIMARY KEY (pupil_pk, day, session)) WITHOUT ROWID")
            conn.execute("INSERT INTO firsts SELECT pupil_pk, day, session, line, code FROM sorted WHERE n > 1")
            conn.execute("INSERT INTO repeats SELECT m.line, f.line, m.pupil_pk, m.day, m.session, f.code, m.code "
                         "FROM marks m JOIN firsts f USING (pupil_pk, day, session) "
                         "WHERE m.line != f.line AND m.code != f.code")
        conn.execute("DROP TABLE marks")

    def rejects(self, size: int) -> Iterator[list[Reject]]:
        cur = self.conn.execute("SELECT line, reason, raw FROM rejects ORDER BY line")
        while batch := cur.fetchmany(size):
            yield batch

    def repeats(self, size: int) -> Iterator[list[Repeat]]:
        cur = self.conn.execute("SELECT * FROM repeats ORDER BY line")
        while batch := cur.fetchmany(size):
            yield batch

    def attach(self) -> str:
        """Attach the sorted rows to the database's writer; returns the table's qualified name."""
        self.db.attach(self.path, self.name)
        self.attached = True
        return f"{self.name}.sorted"

    def first_after(self, pupil: int) -> int:
        """The first row of the pupils after ``pupil`` (1 for a new import)."""
        row = self.conn.execute("SELECT rowid FROM sorted WHERE pupil_pk > ? ORDER BY rowid LIMIT 1",
                                (pupil,)).fetchone()
        return row[0] if row else self.last + 1

    def slice_end(self, start: int, size: int) -> tuple[int, int]:
        """(last row, its pupil) of a slice of at least ``size`` rows from ``start`` that ends
        with a pupil's last row."""
        end = min(start + max(1, size) - 1, self.last)
        pupil = self.conn.execute("SELECT pupil_pk FROM sorted WHERE rowid = ?", (end,)).fetchone()[0]
        if end < self.last:
            after = self.conn.execute("SELECT rowid FROM sorted WHERE rowid > ? AND pupil_pk != ? ORDER BY rowid "
                                      "LIMIT 1", (end, pupil)).fetchone()
            end = after[0] - 1 if after else self.last
        return end, pupil

    def close(self) -> None:
        if self.attached:
            with contextlib.suppress(sqlite3.Error):
                self.db.detach(self.name)
            self.attached = False
        with contextlib.suppress(sqlite3.Error):
            self.conn.close()
        self._remove()

    def _remove(self) -> None:
        for suffix in ("", "-journal", "-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.path + suffix)

    def __enter__(self) -> Sorted:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
