"""A write that cannot get the write lock in time answers 503 ``busy`` with ``Retry-After``,
never a 500, writes nothing, and goes through once when the client tries again (issue 13)."""
from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Route
from starlette.testclient import TestClient

from server.errors import HANDLERS
from server.state import is_url
from server.storage import BUSY_TIMEOUT_MS, Busy, Database, table_of
from sync import Clock
from tests.live_server import ROOT, LiveServer

PASSWORD = "busy-test-password"
SYNC = {"Doorstep-Protocol": "1"}
BUSY_MESSAGE = "The database is busy (e.g. a large import); try again shortly."


@contextmanager
def held_elsewhere(db_path: str) -> Iterator[Any]:
    """Another connection (as another process or a long import would) holds the write lock:
    SQLite's, or on PostgreSQL the authority's ``max_seq`` row (server/pg/store.py)."""
    if is_url(db_path):
        import psycopg

        with psycopg.connect(db_path) as held:
            held.execute("SELECT value FROM meta WHERE key = 'max_seq' FOR UPDATE")
            with psycopg.connect(db_path, autocommit=True) as reader:
                yield reader
            held.rollback()
        return
    other = sqlite3.connect(db_path, isolation_level=None, timeout=0)
    try:
        other.execute("BEGIN IMMEDIATE")
        yield other
        if other.in_transaction:
            other.execute("ROLLBACK")
    finally:
        other.close()


def _changes_logged(conn: Any, change_id: str) -> int:
    sql = "SELECT count(*) FROM changes WHERE change_id = ?"
    if not isinstance(conn, sqlite3.Connection):
        sql = sql.replace("?", "%s")
    return conn.execute(sql, (change_id,)).fetchone()[0]


# -- Database.write() ------------------------------------------------------------------------

@pytest.fixture
def db(tmp_path) -> Iterator[Database]:
    database = Database(tmp_path / "busy.db")
    database.migrate()
    yield database
    database.close()


def test_write_waits_at_most_its_timeout_for_another_thread(db: Database) -> None:
    inside, release = threading.Event(), threading.Event()

    def hold() -> None:
        with db.write():
            inside.set()
            release.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert inside.wait(5)
        started = time.monotonic()
        with pytest.raises(Busy) as caught:
            with db.write(timeout=0.2):
                pytest.fail("the write ran while another thread held the lock")
        assert 0.15 < time.monotonic() - started < 3
        assert caught.value.retry_after == 2
    finally:
        release.set()
        holder.join(10)
    with db.write(timeout=0.2) as txn:  # free again
        txn.execute("INSERT INTO meta (key, value) VALUES ('busy_test', 1)")
    assert db.query("SELECT value FROM meta WHERE key = 'busy_test'") == [{"value": 1}]


def test_write_waits_at_most_its_timeout_for_another_connection(db: Database) -> None:
    db.write_wait = 0.3  # what a request waits (the default is WRITE_WAIT_S)
    with held_elsewhere(db.path):
        started = time.monotonic()
        with pytest.raises(Busy):
            with db.write() as txn:
                txn.execute("INSERT INTO meta (key, value) VALUES ('busy_test', 1)")
        assert time.monotonic() - started < 3
    assert db.query("SELECT value FROM meta WHERE key = 'busy_test'") == []
    # the writer is usable again; each write waits as long as it was told to
    with db.write(timeout=60) as txn:
        assert txn.rows("PRAGMA busy_timeout")[0]["timeout"] == 60_000
    with db.write() as txn:
        txn.execute("INSERT INTO meta (key, value) VALUES ('busy_test', 1)")
        assert txn.rows("PRAGMA busy_timeout")[0]["timeout"] == 300
    assert db.query("SELECT value FROM meta WHERE key = 'busy_test'") == [{"value": 1}]
    db.migrate()  # migrations wait as long as ever
    assert db._writer.execute("PRAGMA busy_timeout").fetchone()[0] == BUSY_TIMEOUT_MS


def test_a_busy_statement_inside_the_write_rolls_back_and_is_busy(db: Database) -> None:
    with pytest.raises(Busy):
        with db.write() as txn:
            txn.execute("INSERT INTO meta (key, value) VALUES ('busy_test', 1)")
            raise sqlite3.OperationalError("database is locked")
    assert db.query("SELECT value FROM meta WHERE key = 'busy_test'") == []
    with pytest.raises(sqlite3.OperationalError, match="no such table"):  # other errors stay what they are
        with db.write() as txn:
            txn.execute("SELECT * FROM no_such_table")


# -- the HTTP answer -------------------------------------------------------------------------

def _assert_busy(r: httpx.Response) -> None:
    assert r.status_code == 503, r.text
    assert r.headers["retry-after"] == "2"
    assert r.json() == {"error": {"code": "busy", "message": BUSY_MESSAGE, "details": {"retry_after": 2}}}


def test_a_locked_database_anywhere_in_a_request_is_busy_not_500() -> None:
    def locked(request):
        raise sqlite3.OperationalError("database is locked")

    def broken(request):
        raise sqlite3.OperationalError("no such table: nowhere")

    app = Starlette(routes=[Route("/locked", locked), Route("/broken", broken)],
                    exception_handlers=HANDLERS)  # type: ignore[arg-type]
    with TestClient(app, raise_server_exceptions=False) as c:
        _assert_busy(c.get("/locked"))
        r = c.get("/broken")
        assert r.status_code == 500 and r.json()["error"]["code"] == "internal_error"


def test_push_in_process_answers_busy_quickly(app_state, login, db_path) -> None:
    officer = login("office")
    app_state.db.write_wait = 0.3
    change = officer.change("school", str(uuid.uuid4()), {"name": "Busy Academy"})
    with held_elsewhere(db_path) as other:
        _assert_busy(officer.push([change]))
        assert _changes_logged(other, change["change_id"]) == 0
    r = officer.push([change])
    assert r.status_code == 200 and r.json()["results"][0]["status"] == "applied"


def test_office_page_answers_a_busy_page_with_retry_after(app_state, client, make_user, db_path) -> None:
    from tests.office.conftest import OfficePage

    page = OfficePage(client, make_user("office"))
    assert page.sign_in().status_code == 303
    app_state.db.write_wait = 0.3
    with held_elsewhere(db_path):
        r = page.post("/office/logout")
    assert r.status_code == 503
    assert r.headers["retry-after"] == "2"
    assert "text/html" in r.headers["content-type"]
    assert "busy" in r.text and "Wait 2 seconds" in r.text
    assert page.get("/office/").status_code == 200, "still signed in: the logout was not done"


# -- a real server ---------------------------------------------------------------------------

def _cli(db: str, *args: str) -> None:
    env = {**os.environ, "DOORSTEP_PASSWORD": PASSWORD}
    subprocess.run([sys.executable, "-m", "server.cli", "--db", db, *args], cwd=ROOT, env=env,
                   check=True, capture_output=True, timeout=60)


def test_live_push_while_another_process_holds_the_lock_is_busy_then_applies_once(tmp_path) -> None:
    db = str(tmp_path / "live-busy.db")
    _cli(db, "init")
    _cli(db, "user", "add", "boss", "--role", "office")
    with LiveServer(db) as server, httpx.Client(base_url=server.url, timeout=30) as http:
        r = http.post("/api/auth/login", json={"username": "boss", "password": PASSWORD, "device_name": "busy"})
        assert r.status_code == 200, r.text
        session = r.json()
        headers = {"Authorization": f"Bearer {session['access_token']}", **SYNC}
        school = str(uuid.uuid4())
        change = {"change_id": str(uuid.uuid4()), "type": "school", "id": school, "op": "put",
                  "fields": {"name": "Busy Academy"}, "base_version": None,
                  "hlc": Clock(session["device_id"]).send()}
        batch = {"client_id": session["device_id"], "changes": [change]}

        with held_elsewhere(db) as other:
            started = time.monotonic()
            r = http.post("/api/sync/push", headers=headers, json=batch)
            assert time.monotonic() - started < 15
            _assert_busy(r)
            assert _changes_logged(other, change["change_id"]) == 0
            assert other.execute(f"SELECT count(*) FROM {table_of('school')} WHERE id = ?",
                                 (school,)).fetchone()[0] == 0

        r = http.post("/api/sync/push", headers=headers, json=batch)  # the client's retry
        assert r.status_code == 200, r.text
        assert r.json()["results"][0]["status"] == "applied"
        again = http.post("/api/sync/push", headers=headers, json=batch)
        assert again.json()["results"][0]["status"] == "duplicate"
        assert "Traceback" not in server.output()

    with sqlite3.connect(db) as conn:
        assert _changes_logged(conn, change["change_id"]) == 1
        assert conn.execute(f"SELECT version FROM {table_of('school')} WHERE id = ?",
                            (school,)).fetchall() == [(1,)]
