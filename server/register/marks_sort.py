"""The marks import's sort: a file's checked rows, put in pupil order on disk.

An extract arrives in date order (every pupil's morning, then every pupil's
afternoon…), so a slice of the file touches thousands of pupils once each and
every pupil's weekly counts and figures would be rewritten once per slice. The
import first reads the whole file, with no lock held, into a scratch SQLite
file of its own beside the database; SQLite's sorter (bounded memory, temporary
files) then hands the rows back ordered by pupil, day and session, and each
slice written to the register holds every mark of a run of whole pupils: a
pupil's counts and figures are written once per import, and the marks go into
their table in key order. Repeats of a (pupil, day, session) in the file meet
here too, next to each other, whichever lines they were on.

The scratch file is the import's alone (named by its id) and is removed when
the import ends; an import stopped by a crash leaves it, and running the import
again rebuilds it from the file.
"""
from __future__ import annotations

import contextlib
import os
import sqlite3
import tempfile
from collections.abc import Callable, Iterator
from typing import Any

SCRATCH_CACHE_KIB = 32 * 1024  # the sorter's memory; beyond it SQLite merges through temporary files

# a staged mark: (line, pupil, day, session, code, counter, school, year, week)
Staged = tuple[int, int, int, int, str, int, Any, int, int]
Reject = tuple[int, str, str]  # (line, reason, raw row as JSON)


class Sorted:
    """One import's scratch file: ``add`` rows as the file is read, then ``slices`` in pupil order."""

    def __init__(self, db_path: str, import_id: str) -> None:
        folder = os.path.dirname(os.path.abspath(db_path))
        if not os.access(folder, os.W_OK):
            folder = tempfile.gettempdir()
        self.path = os.path.join(folder, f".{os.path.basename(db_path)}.import-{import_id}")
        self._remove()
        self.conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        for pragma in ("journal_mode = OFF", "synchronous = OFF", "locking_mode = EXCLUSIVE",
                       f"cache_size = -{SCRATCH_CACHE_KIB}", "temp_store = FILE"):
            self.conn.execute(f"PRAGMA {pragma}")
        self.conn.execute("CREATE TABLE marks (line INTEGER, pupil_pk INTEGER, day INTEGER, session INTEGER, "
                          "code TEXT, k INTEGER, school_pk INTEGER, year INTEGER, week INTEGER)")
        self.conn.execute("CREATE TABLE rejects (line INTEGER, reason TEXT, raw TEXT)")
        self.conn.execute("BEGIN")

    def add(self, staged: list[Staged], rejects: list[Reject]) -> None:
        self.conn.executemany("INSERT INTO marks VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", staged)
        if rejects:
            self.conn.executemany("INSERT INTO rejects VALUES (?, ?, ?)", rejects)

    def done_reading(self) -> None:
        self.conn.execute("COMMIT")

    def rejects(self, size: int) -> Iterator[list[Reject]]:
        cur = self.conn.execute("SELECT line, reason, raw FROM rejects ORDER BY line")
        while batch := cur.fetchmany(size):
            yield batch

    def slices(self, after: int, size: Callable[[], int]
               ) -> Iterator[tuple[list[Staged], list[tuple[int, int, int, int, int, str, str]], int]]:
        """(marks, repeats, last pupil) for runs of whole pupils above ``after``, each of at least
        ``size()`` marks unless the last. A repeat of a (pupil, day, session) already met is left
        out of the marks and listed as (line, first line, pupil, day, session, first code, code)."""
        cur = self.conn.execute(
            "SELECT line, pupil_pk, day, session, code, k, school_pk, year, week FROM marks WHERE pupil_pk > ? "
            "ORDER BY pupil_pk, day, session, line", (after,))
        batch: list[Staged] = []
        repeats: list[tuple[int, int, int, int, int, str, str]] = []
        pupil, day, session, first_line, first_code = -1, -1, -1, 0, ""
        want = size()
        for row in cur:
            if row[1] != pupil:
                if len(batch) >= want:
                    yield batch, repeats, pupil
                    batch, repeats, want = [], [], size()
                pupil, day, session, first_line, first_code = row[1], row[2], row[3], row[0], row[4]
            elif row[2] == day and row[3] == session:
                repeats.append((row[0], first_line, pupil, day, session, first_code, row[4]))
                continue
            else:
                day, session, first_line, first_code = row[2], row[3], row[0], row[4]
            batch.append(row)
        if batch or repeats:
            yield batch, repeats, pupil

    def close(self) -> None:
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
