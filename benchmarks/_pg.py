"""PostgreSQL for the benchmarks (``--db``): a throwaway cluster (``--db pg``, tests/pg/cluster.py)
or a given one (``--db postgresql://…``), databases the benchmark creates and drops itself (a
seeded template, cloned for each round), app servers on one database, and the cluster's CPU.

Everything the benchmark creates is dropped at the end; a throwaway cluster is stopped by its PID.
"""
from __future__ import annotations

import os
import sys
import threading
import uuid
from pathlib import Path
from typing import Self
from urllib.parse import urlsplit, urlunsplit

from _server import SERVER_ROOT, Process, free_port
from _workload import ROOT


def is_url(where: str) -> bool:
    return where.startswith(("postgresql://", "postgres://"))


def with_dbname(url: str, name: str) -> str:
    """``url`` naming the database ``name`` instead of its own."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


def dbname(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


class PgPlace:
    """Where the benchmark's PostgreSQL databases go: ``where`` is ``pg`` (a throwaway cluster for
    the run) or a URL of a cluster whose role may create databases."""

    def __init__(self, where: str) -> None:
        self.cluster = None
        if where == "pg":
            if str(ROOT) not in sys.path:
                sys.path.insert(0, str(ROOT))
            from tests.pg import cluster

            why = cluster.why_not()
            if why:
                raise SystemExit(f"--db pg: {why}")
            self.cluster = cluster.start()
            self.url = self.cluster.url("postgres")
        elif is_url(where):
            self.url = where
        else:
            raise SystemExit(f"--db: expected pg or postgresql://…, not {where!r}")
        self.prefix = f"doorstep_bench_{uuid.uuid4().hex[:6]}"
        self.made: list[str] = []

    def _admin(self, sql: str) -> list[tuple[object, ...]]:
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as conn:
            cur = conn.execute(sql)  # type: ignore[arg-type]  # names made here, never input
            return cur.fetchall() if cur.description else []

    def create(self, label: str, template: str | None = None) -> str:
        """A new empty database (or a copy of ``template``'s), its URL."""
        name = f"{self.prefix}_{label}_{uuid.uuid4().hex[:6]}"
        self._admin(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{dbname(template)}"' if template else ""))
        self.made.append(name)
        return with_dbname(self.url, name)

    def drop(self, url: str) -> None:
        name = dbname(url)
        self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if name in self.made:
            self.made.remove(name)

    def describe(self) -> str:
        """The server's version and the settings that decide what a commit costs."""
        names = ("fsync", "synchronous_commit", "full_page_writes", "shared_buffers", "max_connections")
        shown = [f"{n}={self._admin(f'SHOW {n}')[0][0]}" for n in names]
        version = self._admin("SHOW server_version")[0][0]
        where = "a throwaway cluster on 127.0.0.1" if self.cluster else "the given cluster"
        return f"PostgreSQL {version}, {where}: " + ", ".join(shown)

    def cpu_seconds(self) -> float | None:
        """User + system CPU of the throwaway cluster's processes (the postmaster, its live
        children, and the children it has reaped); None for a given cluster."""
        if self.cluster is None:
            return None
        tick = os.sysconf("SC_CLK_TCK")
        total = 0
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                pid = int(stat.parent.name)
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except (OSError, ValueError):
                continue
            if pid == self.cluster.pid:
                total += sum(int(f) for f in fields[11:15])  # utime, stime, cutime, cstime
            elif int(fields[1]) == self.cluster.pid:  # ppid
                total += int(fields[11]) + int(fields[12])
        return total / tick

    def close(self) -> None:
        for name in list(self.made):
            try:
                self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            except Exception as exc:  # noqa: BLE001 - the cluster may be gone; say so, go on
                print(f"could not drop {name}: {exc}", file=sys.stderr)
        self.made.clear()
        if self.cluster is not None:
            self.cluster.stop()
            self.cluster = None


class Sessions:
    """What the database's sessions are doing during a load, sampled every ``every`` seconds from
    ``pg_stat_activity`` on a connection of its own: the mean number of sessions waiting for a
    lock (a writer queued on the ``max_seq`` row), running a statement, and idle in a transaction
    (a writer holding the lock while its app server runs Python or the answer is on the wire)."""

    def __init__(self, url: str, every: float = 0.02) -> None:
        self.url, self.every = url, every
        self.samples: list[tuple[int, int, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as conn:
            for _ in range(int(3600 / self.every)):
                row = conn.execute(
                    "SELECT count(*) FILTER (WHERE wait_event_type = 'Lock'), "
                    "count(*) FILTER (WHERE state = 'active' AND wait_event_type IS DISTINCT FROM 'Lock'), "
                    "count(*) FILTER (WHERE state = 'idle in transaction') "
                    "FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
                ).fetchone()
                self.samples.append(tuple(int(x) for x in row))  # type: ignore[arg-type, union-attr]
                if self._stop.wait(self.every):
                    return

    def means(self) -> dict[str, float]:
        n = max(1, len(self.samples))
        return {name: sum(s[k] for s in self.samples) / n
                for k, name in enumerate(("waiting", "running", "idle_in_txn"))}

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)


class Servers:
    """``count`` ``doorstep serve`` processes on one database, each on its own port; stopped by
    their process groups."""

    def __init__(self, db: str, count: int, log_dir: Path, workers: int = 1) -> None:
        self.procs: list[Process] = []
        self.urls: list[str] = []
        for k in range(count):
            port = free_port()
            argv = [sys.executable, "-m", "server.cli", "--db", db, "serve", "--host", "127.0.0.1",
                    "--port", str(port), "--workers", str(workers)]
            self.procs.append(Process(argv, f"http://127.0.0.1:{port}/api/health",
                                      str(log_dir / f"{dbname(db) or 'db'}-{k}.server.log"),
                                      {"PYTHONPATH": str(SERVER_ROOT[0])}, cwd=SERVER_ROOT[0]))
            self.urls.append(f"http://127.0.0.1:{port}")

    def cpu_seconds(self) -> float:
        return sum(p.cpu_seconds() for p in self.procs)

    def __enter__(self) -> Self:
        try:
            for p in self.procs:
                p.start()
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        for p in self.procs:
            p.stop()
