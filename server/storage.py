"""SQLite storage: the connection wrapper and one writer (the sync engine's Txn adapter,
``SqliteTxn``, is in ``server/sqlite_txn.py``).

Every write goes through ``Database.write()``: a process-wide lock around one
write connection inside ``BEGIN IMMEDIATE`` (SQLite has one writer anyway;
across worker processes ``BEGIN IMMEDIATE`` and the busy timeout serialise).
A request's write waits at most ``WRITE_WAIT_S`` for both, then raises ``Busy``
(503 ``busy`` with ``Retry-After``); background work passes a longer timeout.
Reads use a per-thread connection inside a deferred transaction, so one pull
sees one consistent snapshot.
"""
from __future__ import annotations

import math
import sqlite3
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlite_utils

from sync import pull_item

from .checkpointer import Checkpointer
from .migrations import migrations
from .sqlite_txn import SqliteTxn, table_of

# what callers import from here, wherever it is written (sqlite_txn; pull_item from sync)
__all__ = [
    "BUSY_RETRY_AFTER_S", "BUSY_TIMEOUT_MS", "MMAP_BYTES", "READER_CACHE_KIB", "WAL_CHECKPOINT_PAGES",
    "WRITER_CACHE_KIB", "WRITE_WAIT_S", "Busy", "Database", "SqliteTxn", "is_busy", "pull_item", "table_of",
]

BUSY_TIMEOUT_MS = 30_000
# How long a request's write waits for the write lock (this process's and SQLite's, held by
# another worker or a long import) before it answers 503 busy; and the Retry-After it sends.
WRITE_WAIT_S = 5.0
BUSY_RETRY_AFTER_S = 2
# Page cache per connection (KiB, as a negative cache_size): the writer touches the random-key
# indexes of every table a push writes, so it gets the larger share (docs/performance.md).
WRITER_CACHE_KIB = 64 * 1024
READER_CACHE_KIB = 16 * 1024
MMAP_BYTES = 256 * 1024 * 1024
# The writer's own checkpoint, at ~160 MB of WAL. A thread (server/checkpointer.py) copies the
# WAL back a quarter of a second after writes (~10 MB at the fastest pushes), so the writer
# reaches this only should that thread fall behind.
WAL_CHECKPOINT_PAGES = 4 * 10_000


def _connect(path: str, cache_kib: int = READER_CACHE_KIB) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=BUSY_TIMEOUT_MS / 1000)
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA foreign_keys = OFF")
    conn.execute(f"PRAGMA cache_size = -{cache_kib}")
    conn.execute(f"PRAGMA mmap_size = {MMAP_BYTES}")
    conn.execute("PRAGMA temp_store = MEMORY")
    conn.execute(f"PRAGMA wal_autocheckpoint = {WAL_CHECKPOINT_PAGES}")
    return conn


def _identifier(name: str) -> str:
    if not name.isidentifier():
        raise ValueError(f"not a database name: {name!r}")
    return name


class Busy(Exception):
    """The write lock was not free within the wait (e.g. a long import holds it): nothing was
    written; the caller answers 503 ``busy`` with ``Retry-After: retry_after``."""

    def __init__(self, retry_after: int = BUSY_RETRY_AFTER_S,
                 message: str = "The database is busy (e.g. a large import); try again shortly.") -> None:
        super().__init__(message)
        self.retry_after, self.message = retry_after, message


def is_busy(exc: BaseException) -> bool:
    """An ``sqlite3.OperationalError`` that only says another connection holds the lock
    (SQLITE_BUSY and its extended codes: "database is locked"); on PostgreSQL, a fault worth
    trying again after (server/pg/faults.py: a dropped connection, a lock timeout …)."""
    postgres = sys.modules.get("psycopg")  # loaded only in a process on PostgreSQL
    if postgres is not None and isinstance(exc, postgres.Error):
        from .pg.faults import as_busy

        return as_busy(exc) is not None
    if not isinstance(exc, sqlite3.OperationalError):
        return False
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF == sqlite3.SQLITE_BUSY
    text = str(exc).lower()
    return "database is locked" in text or "database is busy" in text


class Database:
    """The one database file; ``write()`` and ``read()`` yield a ``SqliteTxn``."""

    def __init__(self, path: str | Path, write_wait: float = WRITE_WAIT_S) -> None:
        self.path = str(path)
        self.write_wait = write_wait
        self._writer = _connect(self.path, WRITER_CACHE_KIB)
        self._writer_busy_ms = BUSY_TIMEOUT_MS
        self._write_lock = threading.Lock()
        self._local = threading.local()
        self._readers: list[sqlite3.Connection] = []
        self.checkpointer = Checkpointer(self.path)

    def migrate(self) -> None:
        with self._write_lock:
            self._writer_busy_timeout(BUSY_TIMEOUT_MS / 1000)
            migrations.apply(sqlite_utils.Database(self._writer))
            # statistics for the query planner, refreshed where they are missing or stale
            self._writer.execute("PRAGMA analysis_limit = 1000")  # sampled statistics: quick at any size
            self._writer.execute("PRAGMA optimize")

    def pending(self) -> list[str]:
        """The migrations not yet applied (``doorstep init`` applies them)."""
        with self.read() as txn:
            return [m.name for m in migrations.pending(sqlite_utils.Database(txn.conn))]

    def batch_mode(self, cache_kib: int = 16 * 1024) -> None:
        """For a process that only runs one long import: no memory map and a smaller page
        cache, so its resident memory stays flat whatever the database's size (the import
        writes mostly; its reads are key lookups the page cache serves)."""
        with self._write_lock:
            self._writer.execute("PRAGMA mmap_size = 0")
            self._writer.execute(f"PRAGMA cache_size = -{cache_kib}")
            for conn in self._readers:
                conn.execute("PRAGMA mmap_size = 0")
        self._mmap_bytes, self._reader_cache_kib = 0, min(cache_kib, READER_CACHE_KIB)

    _mmap_bytes = MMAP_BYTES
    last_begin_wait = 0.0  # how long the last write waited for another connection's lock
    _reader_cache_kib = READER_CACHE_KIB

    def attach(self, path: str, name: str) -> None:
        """Attach another SQLite file to the writer connection (a long job's scratch file), so
        its write transactions can read it in SQL; ``detach`` when done."""
        with self._write_lock:
            self._writer.execute("ATTACH DATABASE ? AS " + _identifier(name), (path,))

    def detach(self, name: str) -> None:
        with self._write_lock:
            if self._writer.in_transaction:  # never: write() always ends its transaction
                self._writer.execute("ROLLBACK")
            self._writer.execute("DETACH DATABASE " + _identifier(name))

    def close(self) -> None:
        self.checkpointer.stop()
        with self._write_lock:
            self._writer.close()
            for conn in self._readers:
                conn.close()

    @contextmanager
    def write(self, timeout: float | None = None) -> Iterator[SqliteTxn]:
        """One write transaction. Waits at most ``timeout`` seconds (default ``write_wait``, a
        request's few seconds; background work passes more) for this process's lock and then
        SQLite's (``BEGIN IMMEDIATE`` under a busy timeout of what is left), else raises
        ``Busy``; so does a statement or the COMMIT that finds the database locked, after
        rolling back: a ``Busy`` always means nothing was written."""
        wait = self.write_wait if timeout is None else max(0.0, timeout)
        deadline = time.monotonic() + wait
        if not self._write_lock.acquire(timeout=wait):
            raise Busy()
        conn = self._writer
        try:
            # the busy timeout bounds BEGIN by what is left of the wait, and each statement
            # inside (a WAL writer rarely waits once it has begun) by the whole wait
            self._begin(conn, deadline)
            self._writer_busy_timeout(wait)
            try:
                yield SqliteTxn(conn)
                conn.execute("COMMIT")
            except BaseException as exc:
                if conn.in_transaction:  # a failed COMMIT leaves it open; SQLite may have ended it
                    conn.execute("ROLLBACK")
                if is_busy(exc):
                    raise Busy() from exc
                raise
        finally:
            self._write_lock.release()
        self.checkpointer.wrote()  # after the commit, outside its error handling: never raises

    def _begin(self, conn: sqlite3.Connection, deadline: float) -> None:
        """``BEGIN IMMEDIATE``, retried every few milliseconds until ``deadline``. SQLite's own
        busy handler sleeps up to 100 ms between tries, so a writer in another process that
        takes the lock back within that (an import between its slices) would starve it; a
        short poll takes the gap between two slices."""
        self._writer_busy_timeout(0)
        pause = 0.001
        started = time.monotonic()
        while True:
            try:
                conn.execute("BEGIN IMMEDIATE")
                self.last_begin_wait = time.monotonic() - started
                return
            except sqlite3.OperationalError as exc:
                if not is_busy(exc):
                    raise
                left = deadline - time.monotonic()
                if left <= 0:
                    raise Busy() from exc
                time.sleep(min(pause, left))
                pause = min(pause * 1.5, 0.004)

    def _writer_busy_timeout(self, seconds: float) -> None:
        """Every use of the writer sets the busy timeout it needs (only when it changes: in
        whole tenths of a second, so usually not at all)."""
        ms = max(0, math.ceil(round(seconds * 10, 6))) * 100  # round: 0.7 * 10 is 7.000000000000001
        if ms != self._writer_busy_ms:
            self._writer.execute(f"PRAGMA busy_timeout = {ms}")
            self._writer_busy_ms = ms

    def _reader(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = _connect(self.path, self._reader_cache_kib)
            if self._mmap_bytes != MMAP_BYTES:
                conn.execute(f"PRAGMA mmap_size = {self._mmap_bytes}")
            self._local.conn = conn
            self._readers.append(conn)
        return conn

    @contextmanager
    def read(self) -> Iterator[SqliteTxn]:
        """A consistent snapshot. A WAL reader rarely waits; should it find the database locked
        (past the busy timeout) that is ``Busy``, not a server fault."""
        conn = self._reader()
        try:
            conn.execute("BEGIN")
            try:
                yield SqliteTxn(conn, snapshot=True)
            finally:
                if conn.in_transaction:
                    conn.execute("COMMIT")
        except sqlite3.OperationalError as exc:
            if is_busy(exc):
                raise Busy() from exc
            raise

    def query(self, sql: str, params: Iterable[Any] = ()) -> list[dict[str, Any]]:
        with self.read() as txn:
            return txn.rows(sql, params)
