"""Background jobs (docs/jobs.md): imports started from the office, retention, transport planning.

``submit`` queues a row in ``jobs``; a ``Runner`` in every worker process claims it with one
guarded UPDATE that takes a lease, so across ``serve --workers N`` one process runs it; it renews
the lease while the handler runs and records 'done' or 'failed'. If the process dies, the lease
lapses and another runner (or the restarted server) runs the job again: handlers are resumable.
"""
from __future__ import annotations

import logging
import os
import socket
import sqlite3
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import TYPE_CHECKING, Any

import orjson
from starlette.concurrency import run_in_threadpool

from . import storage
from .storage import Database, SqliteTxn
from .util import now_iso

if TYPE_CHECKING:
    from .state import AppState

log = logging.getLogger("doorstep.jobs")
Handler = Callable[["JobContext"], "dict[str, Any] | None"]
_HANDLERS: dict[str, Handler] = {}
_WAKE: set[threading.Event] = set()  # one per running Runner in this process; submit() sets them
# a busy database: storage.Busy once Database.write() has a timeout, "database is locked" always
_BUSY: tuple[type[Exception], ...] = (sqlite3.OperationalError, getattr(storage, "Busy", sqlite3.OperationalError))
_DUE = ("SELECT id FROM jobs WHERE kind IN (SELECT value FROM json_each(?)) AND (status = 'queued' "
        "OR (status = 'running' AND lease_until < ?)) ORDER BY created_at, rowid LIMIT 1")
_OURS = "WHERE id = ? AND lease_owner = ? AND status = 'running'"


def register(kind: str, handler: Handler) -> None:
    """Run jobs of ``kind`` with ``handler(ctx) -> dict | None`` (in a runner's thread; the dict is
    the result). It must be resumable: after a crash or a lapsed lease it is called again for the
    same job (``ctx.attempt`` > 1, ``ctx.resume`` = progress stored so far) and must carry on from
    what the database holds, or redo work idempotently. Jobs of unregistered kinds stay queued."""
    _HANDLERS[kind] = handler


def submit(db: Database, kind: str, args: dict[str, Any] | None = None, created_by: str | None = None, *,
           job_id: str | None = None) -> str:
    """Queue a job and return its id (``job_id`` when the caller names it, e.g. an import's id);
    a runner in this process starts on it at once."""
    with db.write() as txn:
        job_id = enqueue(txn, kind, args, created_by, job_id=job_id)
    wake()
    return job_id


def enqueue(txn: SqliteTxn, kind: str, args: dict[str, Any] | None = None, created_by: str | None = None, *,
            job_id: str | None = None) -> str:
    """Queue a job inside the caller's transaction, so the job exists exactly when the caller's
    other writes do; call ``wake()`` after the commit."""
    job_id = job_id or str(uuid.uuid4())
    txn.execute("INSERT INTO jobs (id, kind, args, status, created_by, created_at) "
                "VALUES (?, ?, ?, 'queued', ?, ?)", (job_id, kind, _json(args or {}), created_by, now_iso()))
    return job_id


def wake() -> None:
    """Start this process's runners on newly queued jobs now rather than at their next poll."""
    for event in list(_WAKE):
        event.set()


def get(db: Database, job_id: str) -> dict[str, Any] | None:
    """The job's row, ``args``/``progress``/``result`` decoded; None if there is no such job."""
    rows = db.query("SELECT * FROM jobs WHERE id = ?", (job_id,))
    return _decode(rows[0]) if rows else None


def list_recent(db: Database, kind: str | None = None, limit: int = 20) -> list[dict[str, Any]]:
    """The newest jobs first, of one kind or of all."""
    where, params = ("WHERE kind = ?", [kind]) if kind is not None else ("", [])
    rows = db.query(f"SELECT * FROM jobs {where} ORDER BY created_at DESC, rowid DESC LIMIT ?", [*params, limit])
    return [_decode(r) for r in rows]


def cancel(db: Database, job_id: str) -> bool:
    """Cancel a queued or running job (its handler sees it within a heartbeat); False if it ended."""
    with db.write() as txn:
        return txn.execute("UPDATE jobs SET status = 'cancelled', finished_at = ?, lease_owner = NULL, "
                           "lease_until = NULL WHERE id = ? AND status IN ('queued', 'running')",
                           (now_iso(), job_id)).rowcount == 1


class JobCancelled(Exception):
    """From ``progress`` once the job is cancelled, taken over or shutting down: let it propagate."""


class JobContext:
    """What a handler gets: ``id``, ``kind``, ``args``, ``db``, ``state`` (AppState or None),
    ``attempt`` (1 on the first run) and ``resume`` (progress stored by earlier attempts)."""

    def __init__(self, runner: Runner, job: dict[str, Any]) -> None:
        self.id: str = job["id"]
        self.kind: str = job["kind"]
        self.attempt: int = job["attempts"]
        self.args: dict[str, Any] = job["args"]
        self.resume, self.fields = dict(job["progress"]), dict(job["progress"])  # fields: as last reported
        self.db, self.state = runner.db, runner.state
        self._runner, self._lost, self._last = runner, threading.Event(), 0.0

    def progress(self, **fields: Any) -> None:
        """Merge ``fields`` into the job's progress and renew the lease (writes at most twice a
        second; the last report is stored when the job ends). Never call it inside a
        ``db.write()`` block: the write lock is not re-entrant."""
        self.fields.update(fields)
        if not self.cancelled() and time.monotonic() - self._last >= 0.5:
            self._last = time.monotonic()
            self._runner._renew(self, with_progress=True)
        if self.cancelled():
            raise JobCancelled(self.id)

    def cancelled(self) -> bool:
        """True once the job should stop: see ``JobCancelled``."""
        return self._lost.is_set() or self._runner._stop.is_set()


class Runner:
    """Runs due jobs in this process, one at a time: a claiming thread and a heartbeat thread."""

    def __init__(self, db: Database, state: AppState | None = None, owner_id: str | None = None, *,
                 lease_s: float = 30.0, heartbeat_s: float = 10.0, poll_s: float = 0.5,
                 max_attempts: int = 5) -> None:
        self.db, self.state = db, state
        self.owner_id = owner_id or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.lease_s, self.heartbeat_s, self.poll_s, self.max_attempts = lease_s, heartbeat_s, poll_s, max_attempts
        self._stop, self._wake = threading.Event(), threading.Event()
        self._current: JobContext | None = None
        self._threads = [threading.Thread(target=self._loop, name="doorstep-jobs", daemon=True),
                         threading.Thread(target=self._beat, name="doorstep-jobs-heartbeat", daemon=True)]

    def start(self) -> Runner:
        """Start claiming and running jobs."""
        _WAKE.add(self._wake)
        for t in self._threads:
            t.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Stop claiming; the running handler gets ``JobCancelled`` at its next ``progress`` and
        its job is queued again. One that does not stop within ``timeout`` s keeps its lease
        until it lapses, as if the process had died."""
        self._stop.set()
        self._wake.set()
        _WAKE.discard(self._wake)
        deadline = time.monotonic() + timeout
        for t in self._threads:
            if t.is_alive():
                t.join(max(0.0, deadline - time.monotonic()))

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            try:
                due = self.db.query(_DUE, (_json(sorted(_HANDLERS)), time.time())) if _HANDLERS else []
                if due:
                    job = self._claim(due[0]["id"])
                    if job is not None:
                        self._run(job)
                    continue  # ran it, lost it to another runner or gave up on it: look again
            except _BUSY as exc:
                log.warning("jobs: database busy (%s); trying again", exc)
            except Exception:  # the runner never dies
                log.exception("jobs: the runner failed; trying again")
            self._wake.wait(self.poll_s)

    def _claim(self, job_id: str) -> dict[str, Any] | None:
        with self.db.write() as txn:
            claimed = txn.execute(
                "UPDATE jobs SET status = 'running', lease_owner = ?, lease_until = ?, attempts = attempts + 1, "
                "started_at = COALESCE(started_at, ?) WHERE id = ? AND (status = 'queued' "
                "OR (status = 'running' AND lease_until < ?))",
                (self.owner_id, time.time() + self.lease_s, now_iso(), job_id, time.time())).rowcount
            if claimed != 1:
                return None
            job = _decode(txn.rows("SELECT * FROM jobs WHERE id = ?", (job_id,))[0])
            if job["attempts"] <= self.max_attempts:
                return job
            error = f"gave up after {self.max_attempts} attempts: the process running it stopped each time"
            log.error("jobs: job %s (%s) %s", job_id, job["kind"], error)
            txn.execute("UPDATE jobs SET status = 'failed', error = ?, finished_at = ?, lease_owner = NULL, "
                        "lease_until = NULL WHERE id = ?", (error, now_iso(), job_id))
            return None

    def _run(self, job: dict[str, Any]) -> None:
        ctx = self._current = JobContext(self, job)
        try:
            result = _HANDLERS[ctx.kind](ctx)
            self._end(ctx, "status = 'done', result = ?", [None if result is None else _json(result)])
        except JobCancelled:
            if self._stop.is_set():  # shutting down: queue it again, not counted as an attempt
                self._end(ctx, "status = 'queued', attempts = attempts - 1", [], finished=False)
        except Exception as exc:
            log.exception("jobs: job %s (%s) failed", ctx.id, ctx.kind)
            line = (str(exc).strip().splitlines() or [""])[0][:500]
            error = f"{type(exc).__name__}: {line}" if line else type(exc).__name__
            self._end(ctx, "status = 'failed', error = ?", [error])
        finally:
            self._current = None

    def _end(self, ctx: JobContext, sets: str, params: list[Any], finished: bool = True) -> None:
        """Record how the job ended, if it is still ours; retried while the database is busy."""
        sql = (f"UPDATE jobs SET {sets}, progress = ?, finished_at = ?, lease_owner = NULL, "
               f"lease_until = NULL {_OURS}")
        args = [*params, _json(ctx.fields), now_iso() if finished else None, ctx.id, self.owner_id]
        while self._update(sql, args) is None and not self._stop.wait(self.poll_s):
            pass

    def _beat(self) -> None:
        while not self._stop.wait(self.heartbeat_s):
            ctx = self._current
            if ctx is not None:
                try:
                    self._renew(ctx)
                except Exception:
                    log.exception("jobs: renewing the lease failed")

    def _renew(self, ctx: JobContext, with_progress: bool = False) -> None:
        params: list[Any] = [time.time() + self.lease_s]
        sets = "lease_until = ?, progress = ?" if with_progress else "lease_until = ?"
        params += [_json(ctx.fields)] if with_progress else []
        if self._update(f"UPDATE jobs SET {sets} {_OURS}", [*params, ctx.id, self.owner_id]) == 0:
            ctx._lost.set()  # cancelled, or the lease lapsed and another runner has it

    def _update(self, sql: str, params: Iterable[Any]) -> int | None:
        """One short UPDATE: its rowcount, or None when the database was busy."""
        try:
            with self.db.write() as txn:
                return txn.execute(sql, params).rowcount
        except _BUSY as exc:
            log.warning("jobs: database busy (%s); trying again later", exc)
            return None


def lifespan(state: AppState) -> Callable[[Any], AbstractAsyncContextManager[None]]:
    """The app's lifespan: a ``Runner`` in this worker process while the app serves."""
    @asynccontextmanager
    async def run(_app: Any) -> AsyncIterator[None]:
        runner = Runner(state.db, state).start()
        try:
            yield
        finally:
            await run_in_threadpool(runner.stop)
    return run


def _json(value: Any) -> str:
    return orjson.dumps(value).decode()


def _decode(row: dict[str, Any]) -> dict[str, Any]:
    for key in ("args", "progress", "result"):
        if row.get(key) is not None:
            row[key] = orjson.loads(row[key])
    return row
