"""PostgreSQL storage: ``PgDatabase``, the engine's ``Store`` over psycopg 3 (docs/postgresql.md).

The pull cursor is a ``seq``: a pull returns what changed after it, in ``seq`` order. On SQLite
one writer at a time makes commit order and ``seq`` order the same. Several app servers on one
PostgreSQL database would not: two transactions that take ``seq`` 5 and 6 may commit 6 first,
and a pull between the two commits would move its cursor past 5 for good (the sequence-gap
problem). So every write transaction first locks the authority's ``max_seq`` row
(``SELECT … FOR UPDATE``) and holds the lock until it commits or rolls back: writers are
serialised in the database, whatever process they run in, each one reads the ``max_seq`` its
predecessor committed, and commit order equals ``seq`` order. PostgreSQL makes a transaction
visible before it releases its locks, so a snapshot that sees one writer's commit sees every
earlier one's: each read snapshot holds a prefix of the sequence, and a cursor taken from one
never passes a change that commits later. The lock lives in the authority's own schema (a row,
not a database-wide advisory lock number), so one authority's writers never wait for
another's.

Reads run in ``REPEATABLE READ READ ONLY`` transactions: one snapshot for a whole pull, as
SQLite's deferred read transaction gives. Each thread has its own write and read connection.
"""
from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg import errors as pg_errors
from psycopg.adapt import Loader
from psycopg.types.string import TextLoader

from ..storage import WRITE_WAIT_S, Busy
from .schema import create_schema, pending
from .txn import PgTxn

_LOCK = "SELECT value FROM meta WHERE key = 'max_seq' FOR UPDATE"


class _NumberLoader(Loader):
    def load(self, data: Any) -> int | float:
        text = bytes(data)
        return float(text) if b"." in text or b"e" in text.lower() or b"N" in text else int(text)


def refuse_password(url: str) -> None:
    """A password in the URL would show in ``ps`` and shell history: it comes from the
    environment (``PGPASSWORD``) or a file (``PGPASSFILE``, ``~/.pgpass``) instead."""
    if re.search(r"://[^/@]*:[^@/]*@", url) or re.search(r"[?&]password=", url):
        raise SystemExit("the database URL holds a password: put it in PGPASSWORD or a PGPASSFILE, "
                         "never on the command line")


def _redacted(url: str) -> str:
    return re.sub(r"(://[^:/@]*):[^@]*@", r"\1:***@", url)


class PgDatabase:
    """One authority's PostgreSQL database (``url``: a libpq connection string or URI; keep the
    password in the environment, ``PGPASSWORD``/``PGPASSFILE``, not in the URL)."""

    txn_class = PgTxn

    def __init__(self, url: str, write_wait: float = WRITE_WAIT_S) -> None:
        self.url = url
        self.write_wait = write_wait
        self._local = threading.local()
        self._conns: list[psycopg.Connection[Any]] = []
        self._conns_lock = threading.Lock()

    def connect(self) -> psycopg.Connection[Any]:
        """A new connection in autocommit mode (transactions are begun explicitly), reading
        values as the SQLite store gives them to the server: JSON as its text, a sum or an
        average (``numeric``) as an int or a float."""
        conn = psycopg.connect(self.url, autocommit=True)
        for name in ("json", "jsonb"):
            conn.adapters.register_loader(name, TextLoader)
        conn.adapters.register_loader("numeric", _NumberLoader)
        with self._conns_lock:
            self._conns.append(conn)
        return conn

    @property
    def path(self) -> str:
        """Where the database is, for messages (the URL without its password)."""
        return _redacted(self.url)

    def migrate(self) -> None:
        conn = self.connect()
        try:
            create_schema(conn)
        finally:
            self._forget(conn)

    def pending(self) -> list[str]:
        """The migrations this database does not stand for yet (``doorstep init`` applies them),
        read in one snapshot on this thread's reader (``/api/ready`` asks at every probe)."""
        with self.read() as txn:
            return pending(txn.conn)

    def close(self) -> None:
        with self._conns_lock:
            conns, self._conns = self._conns, []
        for conn in conns:
            conn.close()

    def __del__(self) -> None:
        """A database nobody closed (a command that simply ends): its connections closed, not
        left for the collector to find open."""
        try:
            self.close()
        except Exception:  # noqa: BLE001 - interpreter shutdown: nothing left to tell
            pass

    def _forget(self, conn: psycopg.Connection[Any]) -> None:
        with self._conns_lock:
            if conn in self._conns:
                self._conns.remove(conn)
        conn.close()

    def _conn(self, role: str) -> psycopg.Connection[Any]:
        conn = getattr(self._local, role, None)
        if conn is None or conn.closed or conn.broken:
            conn = self.connect()
            setattr(self._local, role, conn)
        return conn

    def _begin(self, role: str, begin: str) -> psycopg.Connection[Any]:
        """This thread's connection for ``role`` with a transaction begun. A connection the
        database server dropped while it sat idle (a restart, a failover, an idle timeout) is
        found here, before anything is done on it, and replaced once; a drop in the middle of a
        transaction is the request's fault to report (503 busy, nothing written)."""
        conn = self._conn(role)
        try:
            conn.execute(begin)
        except psycopg.OperationalError:
            self._forget(conn)
            setattr(self._local, role, None)
            conn = self._conn(role)
            conn.execute(begin)
        return conn

    @contextmanager
    def write(self, timeout: float | None = None) -> Iterator[PgTxn]:
        """One write transaction, serialised with every other writer of this authority by the
        ``max_seq`` row lock, taken before anything else and held to the end. Waits at most
        ``timeout`` seconds (default ``write_wait``) for it, else raises ``Busy``: nothing
        was written."""
        wait = self.write_wait if timeout is None else max(0.0, timeout)
        conn = self._conn("writer")
        if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            raise RuntimeError("a write inside a write on one thread: it would wait for itself")
        try:
            conn = self._begin("writer", "BEGIN ISOLATION LEVEL READ COMMITTED")
            try:
                # lock_timeout 0 means "wait for ever" to PostgreSQL: at least 1 ms
                conn.execute(f"SET LOCAL lock_timeout = {max(1, int(wait * 1000))}")
                if conn.execute(_LOCK).fetchone() is None:
                    raise RuntimeError("no max_seq row: run PgDatabase.migrate() first")
                yield self.txn_class(conn)
                conn.execute("COMMIT")
            except BaseException:
                if not conn.closed and not conn.broken:
                    conn.execute("ROLLBACK")
                raise
        except pg_errors.LockNotAvailable as exc:
            raise Busy() from exc

    @contextmanager
    def read(self) -> Iterator[PgTxn]:
        """One consistent snapshot (a prefix of the sequence: see the module's docstring)."""
        conn = self._begin("reader", "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        try:
            yield self.txn_class(conn)
        finally:
            if not conn.closed and not conn.broken:
                conn.execute("COMMIT")

    def query(self, sql: str, params: Iterable[Any] = ()) -> list[dict[str, Any]]:
        with self.read() as txn:
            return txn.rows(sql, params)
