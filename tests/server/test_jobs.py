"""Background jobs (server/jobs.py): run once, recorded, resumed after a crash, never run twice."""
from __future__ import annotations

import collections
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from starlette.testclient import TestClient

from server import jobs
from server.app import create_app
from server.state import open_database
from server.storage import Database, SqliteTxn
from server.util import now_iso
from tests.live_server import ROOT


def wait_for(predicate: Callable[[], Any], timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError("timed out waiting")


def wait_status(db: Database, job_id: str, *statuses: str, timeout: float = 10.0) -> dict[str, Any]:
    return wait_for(lambda: (job := jobs.get(db, job_id)) and job["status"] in statuses and job, timeout)


@pytest.fixture
def db(db_path: str) -> Iterator[Database]:
    d = open_database(db_path)
    d.migrate()
    yield d
    d.close()


class Runners:
    """Runners with short leases, and the extra Database objects standing for other processes;
    all stopped and closed at the end of the test."""

    def __init__(self, db: Database) -> None:
        self.db, self.started, self.opened = db, [], []  # type: ignore[var-annotated]

    def open_db(self) -> Database:
        return self.add(type(self.db)(getattr(self.db, "url", self.db.path)))

    def add(self, d: Database) -> Database:
        self.opened.append(d)
        return d

    def start(self, db: Database | None = None, **kw: Any) -> jobs.Runner:
        kw = {"lease_s": 2.0, "heartbeat_s": 0.2, "poll_s": 0.05, **kw}
        r = jobs.Runner(db or self.db, **kw).start()
        self.started.append(r)
        return r


@pytest.fixture
def runners(db: Database) -> Iterator[Runners]:
    rs = Runners(db)
    yield rs
    for r in rs.started:
        r.stop(timeout=2)
    for d in rs.opened:
        d.close()


@pytest.fixture
def kind() -> Iterator[Callable[[jobs.Handler], str]]:
    """Register a handler under a fresh kind (removed after the test)."""
    names: list[str] = []

    def register(handler: jobs.Handler) -> str:
        names.append(f"test-{uuid.uuid4().hex[:8]}")
        jobs.register(names[-1], handler)
        return names[-1]
    yield register
    for name in names:
        jobs._HANDLERS.pop(name, None)


def insert_job(db: Database, kind: str, **columns: Any) -> str:
    row = {"id": str(uuid.uuid4()), "kind": kind, "args": "{}", "status": "queued", "created_at": now_iso(),
           **columns}
    with db.write() as txn:
        txn.execute(f"INSERT INTO jobs ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})", row.values())
    return row["id"]


def test_a_submitted_job_runs_and_its_progress_and_result_are_readable(db, runners, kind):
    go = threading.Event()

    def handler(ctx: jobs.JobContext) -> dict[str, Any]:
        ctx.progress(done=1, total=2)
        go.wait(10)
        ctx.progress(done=2)  # within half a second of the first: stored when the job ends
        return {"rows": ctx.args["rows"], "attempt": ctx.attempt}
    name = kind(handler)
    runner = runners.start()
    job_id = jobs.submit(db, name, {"rows": 2}, created_by="user-1")
    running = wait_for(lambda: (job := jobs.get(db, job_id)) and job["progress"] and job)
    assert running["status"] == "running" and running["lease_owner"] == runner.owner_id
    assert running["progress"] == {"done": 1, "total": 2} and running["started_at"]
    go.set()
    job = wait_status(db, job_id, "done")
    assert job["result"] == {"rows": 2, "attempt": 1} and job["progress"] == {"done": 2, "total": 2}
    assert job["error"] is None and job["attempts"] == 1 and job["finished_at"] >= job["started_at"]
    assert job["created_by"] == "user-1" and job["args"] == {"rows": 2} and job["lease_owner"] is None
    assert [j["id"] for j in jobs.list_recent(db, kind=name)] == [job_id]
    assert job_id in [j["id"] for j in jobs.list_recent(db)]
    assert jobs.get(db, "no-such-job") is None


def test_submit_wakes_the_runner_at_once(db, runners, kind):
    name = kind(lambda ctx: {"ok": True})
    runners.start(poll_s=60)
    time.sleep(0.2)  # the runner has looked, found nothing and gone to sleep
    job_id = jobs.submit(db, name)
    assert wait_status(db, job_id, "done", timeout=3)["result"] == {"ok": True}


def test_a_failing_handler_is_recorded_and_the_runner_keeps_running(db, runners, kind):
    def fail(ctx: jobs.JobContext) -> None:
        raise ValueError("bad row 7\nsecond line")
    failing, fine = kind(fail), kind(lambda ctx: {"ok": True})
    runner = runners.start()
    bad = jobs.submit(db, failing)
    job = wait_status(db, bad, "failed")
    assert job["error"] == "ValueError: bad row 7" and job["result"] is None and job["finished_at"]
    good = jobs.submit(db, fine)
    assert wait_status(db, good, "done")["result"] == {"ok": True}
    assert all(t.is_alive() for t in runner._threads)


def test_a_job_whose_kind_nobody_handles_stays_queued(db, runners, kind):
    name = kind(lambda ctx: None)
    runners.start()
    unknown = jobs.submit(db, "nobody-handles-this")
    known = jobs.submit(db, name)
    assert wait_status(db, known, "done")["result"] is None
    job = jobs.get(db, unknown)
    assert job and job["status"] == "queued" and job["attempts"] == 0


def test_a_job_left_running_by_a_dead_owner_is_resumed_by_another_runner(db, runners, kind):
    seen: list[tuple[int, dict[str, Any]]] = []

    def handler(ctx: jobs.JobContext) -> dict[str, Any]:
        seen.append((ctx.attempt, ctx.resume))
        return {"from": ctx.resume.get("done", 0)}
    name = kind(handler)
    dead = insert_job(db, name, status="running", lease_owner="dead", lease_until=time.time() - 1, attempts=1,
                      progress='{"done": 40}', started_at=now_iso())
    alive = insert_job(db, name, status="running", lease_owner="alive", lease_until=time.time() + 60, attempts=1)
    runners.start()
    job = wait_status(db, dead, "done")
    assert job["result"] == {"from": 40} and job["attempts"] == 2 and seen == [(2, {"done": 40})]
    time.sleep(0.3)
    held = jobs.get(db, alive)
    assert held and held["status"] == "running" and held["lease_owner"] == "alive"  # its lease still holds


def test_a_job_that_keeps_killing_its_process_is_given_up(db, runners, kind):
    calls: list[str] = []
    name = kind(lambda ctx: calls.append(ctx.id))
    job_id = insert_job(db, name, status="running", lease_owner="dead", lease_until=time.time() - 1, attempts=5)
    runners.start(max_attempts=5)
    job = wait_status(db, job_id, "failed")
    assert "gave up after 5 attempts" in job["error"] and job["attempts"] == 6 and not calls


def test_two_runners_never_run_the_same_job_twice(db, db_path, runners, kind):
    calls: collections.Counter[str] = collections.Counter()
    lock = threading.Lock()

    def handler(ctx: jobs.JobContext) -> None:
        with lock:
            calls[ctx.id] += 1
        time.sleep(0.002)
    class SlowToClaim(type(db)):  # type: ignore[misc]  # widens the gap between seeing a job due and claiming it
        def query(self, sql: str, params: Any = ()) -> list[dict[str, Any]]:
            rows = super().query(sql, params)
            time.sleep(0.005)
            return rows
    name = kind(handler)
    ids = [jobs.submit(db, name, {"n": n}) for n in range(30)]  # a backlog both find at once
    a, b = (runners.start(runners.add(SlowToClaim(db_path))) for _ in "ab")  # two "worker processes"
    more = [jobs.submit(db, name, {"n": n}) for n in range(30, 40)]  # and new jobs waking both
    done = [wait_status(db, job_id, "done") for job_id in ids + more]
    assert calls == {job_id: 1 for job_id in ids + more}
    assert {job["attempts"] for job in done} == {1}
    assert {job["id"] for job in done} == set(ids + more) and a.owner_id != b.owner_id


def test_a_runner_stopped_mid_job_leaves_it_to_another_once_the_lease_lapses(db, runners, kind):
    """As a crash: runner A's handler hangs past A's stop, A's heartbeat ends, the lease lapses and
    runner B (another Database, as another process) runs the job; A's late return changes nothing."""
    release = threading.Event()

    def handler(ctx: jobs.JobContext) -> dict[str, Any]:
        if ctx.attempt == 1:
            ctx.progress(step="hanging")
            release.wait(10)
            return {"by": "a"}
        return {"by": "b", "resume": ctx.resume}
    name = kind(handler)
    a = runners.start(lease_s=0.5, heartbeat_s=0.1)
    job_id = jobs.submit(db, name)
    wait_for(lambda: (job := jobs.get(db, job_id)) and job["progress"])
    a.stop(timeout=0.1)
    b = runners.start(runners.open_db(), lease_s=0.5, heartbeat_s=0.1)
    job = wait_status(db, job_id, "done")
    assert job["result"] == {"by": "b", "resume": {"step": "hanging"}} and job["attempts"] == 2
    release.set()
    wait_for(lambda: not a._threads[0].is_alive())
    late = jobs.get(db, job_id)
    assert late and late["result"]["by"] == "b" and b.owner_id != a.owner_id


def test_a_graceful_stop_queues_the_running_job_again(db, runners, kind):
    first = threading.Event()

    def handler(ctx: jobs.JobContext) -> dict[str, Any]:
        if not first.is_set():
            first.set()
            for n in range(1000):
                ctx.progress(n=n)
                time.sleep(0.01)
        return {"resume": ctx.resume, "attempt": ctx.attempt}
    name = kind(handler)
    a = runners.start()
    job_id = jobs.submit(db, name)
    wait_for(lambda: (job := jobs.get(db, job_id)) and job["progress"])
    a.stop()
    assert not a._threads[0].is_alive()
    job = jobs.get(db, job_id)
    assert job and job["status"] == "queued" and job["attempts"] == 0 and job["lease_owner"] is None
    runners.start(runners.open_db())
    job = wait_status(db, job_id, "done")
    assert job["result"]["attempt"] == 1 and job["result"]["resume"]["n"] > 0


def test_cancel_stops_a_queued_or_running_job(db, runners, kind):
    started, ended = threading.Event(), threading.Event()

    def handler(ctx: jobs.JobContext) -> None:
        started.set()
        try:
            while True:
                ctx.progress(at=time.time())
                time.sleep(0.02)
        finally:
            ended.set()
    name = kind(handler)
    queued = jobs.submit(db, name)
    assert jobs.cancel(db, queued)
    runners.start()
    running = jobs.submit(db, name)
    assert started.wait(10)
    assert jobs.cancel(db, running)
    assert ended.wait(10)
    time.sleep(0.1)
    assert [(jobs.get(db, i) or {}).get("status") for i in (queued, running)] == ["cancelled", "cancelled"]
    assert not jobs.cancel(db, running)


def test_a_busy_database_does_not_kill_the_runner(db, db_path, runners, kind):
    """Every other write the runner tries fails as if the database were locked (or Busy, once
    Database.write() has a timeout): the job still gets claimed, reported and finished."""
    class Flaky(type(db)):  # type: ignore[misc]
        calls = 0

        @contextmanager
        def write(self, *args: Any, **kw: Any) -> Iterator[SqliteTxn]:
            Flaky.calls += 1
            if Flaky.calls % 2 == 1 and threading.current_thread().name.startswith("doorstep-jobs"):
                raise jobs._BUSY[-1]("database is locked")
            with super().write(*args, **kw) as txn:
                yield txn

    def handler(ctx: jobs.JobContext) -> dict[str, Any]:
        ctx.progress(step=1)
        time.sleep(0.5)
        return {"ok": True}
    name = kind(handler)
    runner = runners.start(runners.add(Flaky(db_path)))
    job = wait_status(db, jobs.submit(db, name), "done")
    assert job["result"] == {"ok": True} and job["progress"] == {"step": 1} and Flaky.calls > 3
    assert all(t.is_alive() for t in runner._threads)


def test_the_app_runs_jobs_while_it_serves(app_state, kind):
    name = kind(lambda ctx: {"db": ctx.db is ctx.state.db})
    before = {t for t in threading.enumerate() if t.name.startswith("doorstep-jobs")}
    with TestClient(create_app(app_state=app_state)) as client:
        assert client.get("/api/health").status_code == 200
        job_id = jobs.submit(app_state.db, name)
        assert wait_status(app_state.db, job_id, "done")["result"] == {"db": True}
    after = {t for t in threading.enumerate() if t.name.startswith("doorstep-jobs") and t.is_alive()}
    assert after <= before  # the runner stopped with the app


CRASHING_PROCESS = """
import sys, time
from server import jobs
from server.state import open_database

def handler(ctx):
    ctx.progress(done=3)
    time.sleep(3600)

jobs.register(sys.argv[2], handler)
jobs.Runner(open_database(sys.argv[1]), owner_id="process-a", lease_s=1.0, heartbeat_s=0.2, poll_s=0.05).start()
time.sleep(3600)
"""


def test_a_job_survives_the_process_running_it_being_killed(db, db_path, runners, kind):
    """A real process claims the job and is SIGKILLed mid-run; while it lived its heartbeat kept
    the job from this process's runner, and once its lease lapses the job is resumed here."""
    resumed: list[dict[str, Any]] = []
    def handler(ctx: jobs.JobContext) -> dict[str, Any]:
        resumed.append(ctx.resume)
        return {"from": ctx.resume["done"]}
    name = kind(handler)
    job_id = jobs.submit(db, name)
    proc = subprocess.Popen([sys.executable, "-c", CRASHING_PROCESS, db_path, name], cwd=ROOT)
    try:
        wait_for(lambda: (job := jobs.get(db, job_id)) and job["progress"] and job["lease_owner"] == "process-a",
                 timeout=30)
        runners.start(runners.open_db(), lease_s=1.0)
        time.sleep(1.5)  # longer than the lease: the live process's heartbeat renews it
        job = jobs.get(db, job_id)
        assert job and job["status"] == "running" and job["lease_owner"] == "process-a" and not resumed
    finally:
        proc.kill()
        proc.wait(10)
    job = wait_status(db, job_id, "done")
    assert job["result"] == {"from": 3} and job["attempts"] == 2 and resumed == [{"done": 3}]
