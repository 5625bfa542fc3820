"""Prometheus metrics (``prometheus-client``), served on their own port (docs/operations.md).

Every worker process counts into these objects. With ``serve --workers N`` (N > 1) and a
metrics port, ``serve`` sets ``PROMETHEUS_MULTIPROC_DIR`` before any worker starts, so each
worker writes its counts to files there and the metrics port (in the supervisor process) adds
them up: the figures are the whole server's, whichever worker took a request. With one worker
the counts live in the process and the port serves them straight.

Labels never carry a name, an id or a raw path: the route is its template
(``/api/devices/{device_id}/revoke``), so the number of series stays fixed.
"""
from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
from collections.abc import Iterable, Iterator
from typing import Any

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, start_http_server
from prometheus_client import multiprocess
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

import sync

from ..state import database_errors, is_url, open_database

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

REQUESTS = Counter("doorstep_http_requests", "HTTP requests answered, by route template and status",
                   ["method", "route", "status"])
LATENCY = Histogram("doorstep_http_request_duration_seconds", "Time to answer, by route template",
                    ["method", "route"],
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0))
SYNC_CHANGES = Counter("doorstep_sync_changes", "Pushed changes, by their result status", ["status"])
PASSWORD_HASHES = Counter("doorstep_password_hashes", "argon2 hashes computed (sign-ins and new passwords)")
SIGNIN_FAILURES = Counter("doorstep_signin_failures", "Sign-ins refused: wrong password or unknown user")
SIGNIN_THROTTLED = Counter("doorstep_signin_throttled",
                           "Sign-ins refused with 429 before any hashing, by what was over its limit",
                           ["scope"])
SERVER_ERRORS = Counter("doorstep_server_errors", "Answers that were errors of the server's own, by code",
                        ["code"])


def count_push(results: Iterable[dict]) -> None:
    """One committed push's results (``{"status": …}`` each), counted by status."""
    tally: dict[str, int] = {}
    for result in results:
        status = str(result.get("status", "unknown"))
        tally[status] = tally.get(status, 0) + 1
    for status, n in tally.items():
        SYNC_CHANGES.labels(status).inc(n)


class FromDatabase(Collector):
    """Figures read from the database at each scrape, so they are right whichever process did
    the work (an import runs in a process of its own, the CLI's or the one the office starts):

    - ``doorstep_import_rows_total{kind}``: rows read by imports (marks imports from ``imports``,
      applied roll uploads from ``roll_uploads``);
    - ``doorstep_conflicts_created_total``: conflicts the pushes recorded (every conflict held; a
      retention run that removes a closed case's conflicts lowers it, which Prometheus takes as a
      counter reset); ``doorstep_conflicts_open``: those still waiting for the office.
    """

    IMPORTS = (
        "SELECT kind, sum(coalesce(json_extract(report, '$.rows_read'), 0)) FROM imports GROUP BY kind",
        "SELECT 'roll', sum(coalesce(json_extract(report, '$.rows_read'), 0)) FROM roll_uploads "
        "WHERE applied_at IS NOT NULL",
    )

    def __init__(self, db_path: str) -> None:
        self.db_path = db_path
        self._pg: Any = None

    def _rows(self, sql: str) -> list[tuple[Any, ...]]:
        """``sql``'s rows, read only: the SQLite file opened read-only, or PostgreSQL through
        its store (one connection kept for the scrapes)."""
        if is_url(self.db_path):
            if self._pg is None:
                self._pg = open_database(self.db_path)
            return [tuple(r.values()) for r in self._pg.query(sql)]
        conn = sqlite3.connect(f"file:{self.db_path}?mode=ro", uri=True, timeout=1)
        try:
            return conn.execute(sql).fetchall()
        finally:
            conn.close()

    def collect(self) -> Iterator[CounterMetricFamily]:
        family = CounterMetricFamily("doorstep_import_rows", "Rows read by imports, by kind", labels=["kind"])
        totals: dict[str, int] = {}
        conflicts: dict[str, int] = {}
        try:
            for sql in self.IMPORTS:
                for kind, rows in self._rows(sql):
                    totals[str(kind)] = totals.get(str(kind), 0) + int(rows or 0)
            conflicts = dict(self._rows("SELECT status, count(*) FROM conflicts GROUP BY status"))
        except database_errors():
            pass  # no figure rather than a failed scrape; /api/ready tells what is wrong
        for kind, rows in sorted(totals.items()):
            family.add_metric([kind], rows)
        yield family
        yield CounterMetricFamily("doorstep_conflicts_created", "Conflicts recorded by pushes (held now)",
                                  value=sum(conflicts.values()))
        yield GaugeMetricFamily("doorstep_conflicts_open", "Conflicts waiting for the office",
                                value=conflicts.get("open", 0))
        yield GaugeMetricFamily("doorstep_sync_engine_compiled", "1 when the sync engine runs compiled "
                                "(sync/native.py), 0 when it runs interpreted", value=1 if sync.NATIVE else 0)


def prepare_multiprocess(workers: int) -> str | None:
    """For ``serve --workers N`` (N > 1): a fresh directory for the workers' counts, put in the
    environment they inherit; None for one worker (counts stay in the process)."""
    if workers <= 1:
        return None
    path = tempfile.mkdtemp(prefix="doorstep-metrics-")
    os.environ[MULTIPROC_ENV] = path
    return path


def cleanup_multiprocess(path: str | None) -> None:
    if path:
        shutil.rmtree(path, ignore_errors=True)


def registry(db_path: str) -> CollectorRegistry:
    """What the metrics port serves: every worker's files added up in multiprocess mode, else
    this process's own counts; and the import rows, from the database."""
    path = os.environ.get(MULTIPROC_ENV)
    if path:
        reg = CollectorRegistry()
        multiprocess.MultiProcessCollector(reg, path=path)
    else:
        reg = REGISTRY
    reg.register(FromDatabase(db_path))
    return reg


def serve(port: int, host: str, db_path: str) -> None:
    """Serve ``/metrics`` on ``host:port`` from a daemon thread of this process."""
    start_http_server(port, addr=host, registry=registry(db_path))
