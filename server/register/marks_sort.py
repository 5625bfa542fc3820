"""The marks import's sort: a file's checked rows, put in pupil order on disk.

An extract arrives in date order (every pupil's morning, then every pupil's
afternoon…), so a slice of the file touches thousands of pupils once each and
every pupil's weekly counts and figures would be rewritten once per slice. The
import first reads the whole file, with no lock held, into a scratch SQLite
file of its own beside the database. One ``GROUP BY`` (SQLite's sorter: bounded
memory, temporary files beyond it) then writes the rows in pupil, day and
session order, one row a mark, the file's first line for it winning; lines that
repeat a mark with another code are listed apart, to be rejected. Each slice of
the import then copies the marks of a run of whole pupils into the database
connection's ``stage`` table, through the slice's transaction (``stage``): a
pupil's counts and figures are written once per import, and the marks go into
their table in key order. On SQLite the scratch file is attached to the
database's writer and the copy is one ``INSERT … SELECT`` (no row passes through
Python: an ``executemany`` of the same rows costs the import about a third more
CPU); on PostgreSQL the slice's rows are read here before the write lock is
taken (``rows``) and written with ``executemany``.

The scratch file is the import's alone (named by its id), a file of this process
beside a SQLite database (in the system's temporary folder on PostgreSQL), never
part of the database; it is removed when the import ends. An import stopped by a
crash leaves it, and running the import again rebuilds it from the file.
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
_STAGED = "line, pupil_pk, day, session, code, k, school_pk, year, week"  # a Staged row's columns


def scratch_path(db: Any, import_id: str) -> str:
    """Where an import's scratch file goes: beside a SQLite database when its folder is writable,
    else (and on PostgreSQL) in the system's temporary folder."""
    if isinstance(db, Database):
        folder, name = os.path.dirname(os.path.abspath(db.path)), os.path.basename(db.path)
    else:
        folder, name = tempfile.gettempdir(), "doorstep"
    if not os.access(folder, os.W_OK):
        folder = tempfile.gettempdir()
    return os.path.join(folder, f".{name}.import-{import_id}")


class Sorted:
    """One import's scratch file: ``add`` rows as the file is read, ``sort``, ``attach``, then
    ``stage`` slices of the table ``sorted`` (rowid ranges of whole pupils: ``slice_end``)."""

    def __init__(self, db: Any, import_no: int, import_id: str) -> None:
        self.path = scratch_path(db, import_id)
        self.db, self.name, self.attached = db, f"import_{import_no}", False
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

    def attach(self) -> None:
        """After ``sort``: on SQLite, attach the sorted rows to the database's writer."""
        if isinstance(self.db, Database):
            self.db.attach(self.path, self.name)
            self.attached = True

    def rows(self, first: int, last: int) -> list[Staged] | None:
        """Rows ``first``..``last`` of ``sorted`` for ``stage``, read with no lock held (None when
        attached: ``stage`` copies them in SQL)."""
        if self.attached:
            return None
        return self.conn.execute(f"SELECT {_STAGED} FROM sorted WHERE rowid BETWEEN ? AND ?",
                                 (first, last)).fetchall()

    def stage(self, txn: Any, first: int, last: int, rows: list[Staged] | None) -> None:
        """Copy rows ``first``..``last`` (``rows``, as ``rows`` gave them) into ``stage``, in ``txn``."""
        insert = f"INSERT INTO stage ({_STAGED}) "
        if rows is None:
            txn.execute(insert + f"SELECT {_STAGED} FROM {self.name}.sorted WHERE rowid BETWEEN ? AND ?",
                        (first, last))
        else:
            txn.executemany(insert + "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)

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
