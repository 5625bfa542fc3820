"""Faults a real server meets (issue 16, item 6): a write lock another process holds, a full
disk, a client that goes away mid-upload, an error no handler expected.

The full disk is real: the database lives on a small tmpfs that the test fills (root can
mount one; elsewhere that test is skipped), and, everywhere, a documented fault injection:
``PRAGMA max_page_count`` on the server's writer connection makes SQLite answer SQLITE_FULL
exactly as a full disk does.
"""
from __future__ import annotations

import http.client
import os
import socket
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Route
from starlette.testclient import TestClient

from server.errors import HANDLERS, STORAGE_FULL_RETRY_AFTER_S
from server.monitor.access import Monitor
from server.storage import BUSY_RETRY_AFTER_S, WRITE_WAIT_S
from sync import Clock
from tests.conftest import sqlite_only
from tests.live_server import ROOT, LiveServer

PASSWORD = "faults-test-password"
SYNC = {"Doorstep-Protocol": "1"}


def _cli(db: str, *args: str) -> None:
    env = {**os.environ, "DOORSTEP_PASSWORD": PASSWORD}
    subprocess.run([sys.executable, "-m", "server.cli", "--db", db, *args], cwd=ROOT, env=env,
                   check=True, capture_output=True, timeout=60)


def _error(r: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert r.status_code == status, (r.status_code, r.text)
    body = r.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}, body
    assert body["error"]["code"] == code, body
    assert int(r.headers["retry-after"]) >= 1
    assert r.headers.get("connection", "").lower() != "close"  # a handled error keeps the connection
    return body["error"]


class Officer:
    def __init__(self, http: httpx.Client, username: str) -> None:
        r = http.post("/api/auth/login", json={"username": username, "password": PASSWORD, "device_name": "t"})
        assert r.status_code == 200, r.text
        s = r.json()
        self.http, self.device_id = http, s["device_id"]
        self.headers = {"Authorization": f"Bearer {s['access_token']}", **SYNC}
        self.clock = Clock(self.device_id)

    def batch(self, n: int = 3) -> dict[str, Any]:
        changes = [{"change_id": str(uuid.uuid4()), "type": "school", "id": str(uuid.uuid4()), "op": "put",
                    "fields": {"name": f"Fault Academy {k}"}, "base_version": None, "hlc": self.clock.send()}
                   for k in range(n)]
        return {"client_id": self.device_id, "changes": changes}

    def push(self, batch: dict[str, Any]) -> httpx.Response:
        return self.http.post("/api/sync/push", headers=self.headers, json=batch)

    def pull(self) -> httpx.Response:
        return self.http.get("/api/sync/pull", headers=self.headers)


def logged(db: str, batch: dict[str, Any]) -> int:
    ids = [c["change_id"] for c in batch["changes"]]
    with sqlite3.connect(db) as conn:
        return conn.execute(f"SELECT count(*) FROM changes WHERE change_id IN ({','.join('?' * len(ids))})",
                            ids).fetchone()[0]


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> Iterator[tuple[str, LiveServer]]:
    """One live server for this module's tests (each leaves it as it found it)."""
    db = str(tmp_path_factory.mktemp("faults") / "faults.db")
    _cli(db, "init")
    _cli(db, "user", "add", "boss", "--role", "office")
    with LiveServer(db) as live:
        yield db, live


# -- a write lock held elsewhere ------------------------------------------------------------------

@pytest.mark.slow
def test_a_held_write_lock_makes_every_writing_call_busy_within_the_wait(served):
    db, live = served
    with httpx.Client(base_url=live.url, timeout=60) as http:
        boss = Officer(http, "boss")
        batch = boss.batch()
        # the day's first pull also retires old transport runs (a write of its own, server/retention);
        # a server that has been running has done that already
        assert boss.pull().status_code == 200
        other = sqlite3.connect(db, isolation_level=None, timeout=0)
        other.execute("BEGIN IMMEDIATE")  # another process holds SQLite's write lock (for 40 s, say)
        try:
            calls = {
                "push": lambda: boss.push(batch),
                "pull": boss.pull,
                "device status": lambda: http.get("/api/devices", headers={**boss.headers, "Doorstep-Unsent": "7"}),
                "sign-in": lambda: http.post("/api/auth/login", json={"username": "boss", "password": PASSWORD,
                                                                      "device_name": "t"}),
                "sign-out": lambda: http.post("/api/auth/logout", headers=boss.headers),
            }
            for name, call in calls.items():
                started = time.monotonic()
                r = call()
                waited = time.monotonic() - started
                err = _error(r, 503, "busy")
                assert r.headers["retry-after"] == str(BUSY_RETRY_AFTER_S), name
                assert err["details"]["retry_after"] == BUSY_RETRY_AFTER_S
                assert waited < WRITE_WAIT_S + 5, (name, waited)  # the wait, not SQLite's 30 s
            ready = http.get("/api/ready")
            assert ready.status_code == 503 and ready.json()["error"]["details"]["failed"] == ["database"]
            assert http.get("/api/health").status_code == 200  # alive, if not ready
        finally:
            other.execute("ROLLBACK")
            other.close()
        assert logged(db, batch) == 0
        r = boss.push(batch)
        assert r.status_code == 200 and {x["status"] for x in r.json()["results"]} == {"applied"}
        assert http.get("/api/ready").status_code == 200
    assert logged(db, batch) == 3
    assert "Traceback" not in live.output()


# -- a full disk ----------------------------------------------------------------------------------

@contextmanager
def small_tmpfs(path: Path, size: str) -> Iterator[Path]:
    path.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                          capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.decode().strip()}); "
                    "the max_page_count test covers a full disk")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True)


def fill(disk: Path) -> Path:
    """Write a file until the disk has no space left."""
    filler = disk / "filler"
    with open(filler, "wb") as f:
        try:
            while True:
                f.write(b"\0" * 65536)
                f.flush()
        except OSError:
            pass
    return filler


@pytest.mark.slow
def test_a_full_disk_answers_507_loses_nothing_and_applies_once_after_space_is_freed(tmp_path):
    with small_tmpfs(tmp_path / "disk", "6m") as disk:
        db = str(disk / "full.db")
        _cli(db, "init")
        _cli(db, "user", "add", "boss", "--role", "office")
        os.environ["DOORSTEP_READY_MIN_FREE_MB"] = "1"
        try:
            live = LiveServer(db).start()
        finally:
            os.environ.pop("DOORSTEP_READY_MIN_FREE_MB")
        try:
            with httpx.Client(base_url=live.url, timeout=60) as http:
                boss = Officer(http, "boss")
                batch = boss.batch(50)
                filler = fill(disk)
                err = _error(boss.push(batch), 507, "storage_full")
                assert err["details"]["retry_after"] == STORAGE_FULL_RETRY_AFTER_S
                _error(boss.pull(), 507, "storage_full")
                ready = http.get("/api/ready")
                assert ready.status_code == 503 and "disk" in ready.json()["error"]["details"]["failed"]
                assert logged(db, batch) == 0  # nothing of the batch was kept

                filler.unlink()  # space freed: the client's retry goes through, once
                r = boss.push(batch)
                assert r.status_code == 200, r.text
                assert {x["status"] for x in r.json()["results"]} == {"applied"}
                again = boss.push(batch)
                assert {x["status"] for x in again.json()["results"]} == {"duplicate"}
                assert boss.pull().status_code == 200
            assert logged(db, batch) == 50
            with sqlite3.connect(db) as conn:
                assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            assert "Traceback" not in live.output()
        finally:
            live.stop()


@sqlite_only  # PostgreSQL's full disk (DiskFull) is tested by its mapping: server/pg/faults.py
def test_sqlite_full_from_the_writer_is_507_and_nothing_is_kept(app_state, login, db_path):
    """The fault injection: a page limit on the server's own writer connection, so the next
    write that needs a page finds the database "full" (SQLITE_FULL, as on a full disk)."""
    office = login("office")
    school = str(uuid.uuid4())
    change = office.change("school", school, {"name": "Full Academy " + "x" * 100})
    writer = app_state.db._writer  # the fault is injected here, and only here
    pages = writer.execute("PRAGMA page_count").fetchone()[0]
    writer.execute(f"PRAGMA max_page_count = {pages}")
    try:
        r = None
        for _ in range(200):  # until a write needs a page the limit refuses
            r = office.push([office.change("school", str(uuid.uuid4()), {"name": "Filler " + "y" * 3000})])
            if r.status_code != 200:
                break
        assert r is not None and r.status_code == 507, r.text
        assert r.headers["retry-after"] == str(STORAGE_FULL_RETRY_AFTER_S)
        assert r.json()["error"]["code"] == "storage_full"
        assert office.push([change]).status_code == 507
    finally:
        writer.execute("PRAGMA max_page_count = 4294967294")
    r = office.push([change])
    assert r.status_code == 200 and r.json()["results"][0]["status"] == "applied"
    assert office.push([change]).json()["results"][0]["status"] == "duplicate"
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("SELECT count(*) FROM changes WHERE change_id = ?", (change["change_id"],)).fetchone()[0] == 1


# -- connections and disconnects ------------------------------------------------------------------

def test_an_unexpected_error_is_one_500_that_says_it_closes_the_connection(caplog):
    def broken(request):
        raise RuntimeError("a bug")

    app = Starlette(routes=[Route("/broken", broken)], exception_handlers=HANDLERS,  # type: ignore[arg-type]
                    middleware=[Middleware(Monitor)])
    with TestClient(app, raise_server_exceptions=False) as c:
        r = c.get("/broken", headers={"X-Request-Id": "bug-1"})
    assert r.status_code == 500 and r.headers["connection"] == "close"
    assert r.headers["x-request-id"] == "bug-1"
    assert r.json()["error"]["code"] == "internal_error"
    assert sum("Traceback" in (rec.exc_text or "") or rec.exc_info is not None for rec in caplog.records) == 1


@pytest.mark.slow
def test_handled_errors_keep_the_connection_alive(served):
    _db, live = served
    conn = http.client.HTTPConnection("127.0.0.1", live.port, timeout=30)
    try:
        for path in ("/api/sync/pull", "/api/nowhere", "/api/health"):
            conn.request("GET", path, headers=SYNC)
            r = conn.getresponse()
            r.read()
            sock = conn.sock
            assert r.getheader("connection", "").lower() != "close", path
            assert sock is not None  # still open: the next request reuses it
        conn.request("POST", "/api/auth/login", body=b"{not json", headers={"Content-Type": "application/json"})
        r = conn.getresponse()
        r.read()
        assert r.status == 422 and conn.sock is sock
    finally:
        conn.close()


@pytest.mark.slow
def test_a_client_that_goes_away_mid_upload_is_one_quiet_line(served):
    _db, live = served
    with httpx.Client(base_url=live.url, timeout=30) as http:
        token = Officer(http, "boss").headers["Authorization"]
    seen = len(live.output())
    with socket.create_connection(("127.0.0.1", live.port)) as s:
        s.sendall((f"POST /api/sync/push HTTP/1.1\r\nHost: x\r\nAuthorization: {token}\r\n"
                   "Doorstep-Protocol: 1\r\nContent-Type: application/json\r\n"
                   "Content-Length: 1000000\r\n\r\n").encode() + b'{"changes": [' + b" " * 20000)
        time.sleep(0.5)  # the server is reading the body
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and '"status":499' not in live.output()[seen:]:
        time.sleep(0.1)
    time.sleep(0.5)  # anything else the server would log about it
    out = live.output()[seen:]
    lines = [line for line in out.splitlines() if "/api/sync/push" in line]
    assert len(lines) == 1 and '"status":499' in lines[0], out
    assert "Traceback" not in out and "Exception" not in out
