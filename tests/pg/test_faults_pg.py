"""PostgreSQL's faults answer as the protocol says (server/pg/faults.py, server/pg/store.py): an
idle connection the database dropped is replaced before use; a connection dropped in the middle of
a write, and a write lock held past the wait, are 503 ``busy`` with ``Retry-After``, never a 500,
with nothing written, and the next request works."""
from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from starlette.testclient import TestClient

from server.app import create_app
from server.config import Settings
from server.identity.accounts import add_user
from server.state import open_state
from sync import Clock

PASSWORD = "faults-test-password"
SYNC = {"Doorstep-Protocol": "1"}


@pytest.fixture
def served(pg_database: Any) -> Iterator[tuple[str, TestClient, dict[str, str], Clock, str]]:
    url = pg_database()
    st = open_state(Settings(db_path=url))
    add_user(st.db, "office", PASSWORD, "office")
    with TestClient(create_app(app_state=st), raise_server_exceptions=False) as client:
        body = client.post("/api/auth/login", json={"username": "office", "password": PASSWORD,
                                                    "device_name": "pc"}).json()
        headers = {"Authorization": f"Bearer {body['access_token']}", **SYNC}
        yield url, client, headers, Clock(body["device_id"]), body["device_id"]
    st.db.close()


def school(clock: Clock) -> dict[str, Any]:
    return {"change_id": str(uuid.uuid4()), "type": "school", "id": str(uuid.uuid4()), "op": "put",
            "fields": {"name": "Fault Lane Primary"}, "base_version": None, "hlc": clock.send()}


def assert_busy(r: Any) -> None:
    assert r.status_code == 503, r.text
    assert r.json()["error"]["code"] == "busy" and int(r.headers["retry-after"]) >= 1


def test_connections_the_database_dropped_are_replaced_and_a_drop_mid_write_is_busy(served):
    url, client, headers, clock, device = served
    assert client.get("/api/sync/pull", headers=headers).status_code == 200
    with psycopg.connect(url, autocommit=True) as admin:  # a restart drops every idle connection
        dropped = admin.execute("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                "WHERE datname = current_database() AND pid <> pg_backend_pid()").fetchone()[0]
    assert dropped >= 1
    for _ in range(3):  # found dead before use and opened again: the officer never sees it
        assert client.get("/api/sync/pull", headers=headers).status_code == 200

    # dropped while a push waits for the write lock, inside its transaction: 503 busy, nothing kept
    change = school(clock)
    answers: list[Any] = []
    with psycopg.connect(url) as holder, psycopg.connect(url, autocommit=True) as admin:
        holder.execute("SELECT value FROM meta WHERE key = 'max_seq' FOR UPDATE")
        pusher = threading.Thread(target=lambda: answers.append(client.post(
            "/api/sync/push", headers=headers, json={"client_id": device, "changes": [change]})))
        pusher.start()
        waiting: list[int] = []
        for _ in range(200):
            waiting = [r[0] for r in admin.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock'")]
            if waiting:
                break
            time.sleep(0.01)
        assert waiting, "the push never waited for the lock"
        admin.execute("SELECT pg_terminate_backend(%s)", (waiting[0],))
        pusher.join(timeout=30)
        holder.rollback()
    assert_busy(answers[0])
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT count(*) FROM changes WHERE change_id = %s",
                            (change["change_id"],)).fetchone()[0] == 0
    r = client.post("/api/sync/push", headers=headers, json={"client_id": device, "changes": [change]})
    assert r.status_code == 200 and r.json()["results"][0]["status"] == "applied", r.text


def test_a_write_lock_held_past_the_wait_is_busy_and_writes_nothing(served):
    url, client, headers, clock, device = served
    change = school(clock)
    with psycopg.connect(url) as holder:  # another server's long write holds the authority's lock
        holder.execute("SELECT value FROM meta WHERE key = 'max_seq' FOR UPDATE")
        r = client.post("/api/sync/push", headers=headers, json={"client_id": device, "changes": [change]})
        assert_busy(r)
        holder.rollback()
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT count(*) FROM changes WHERE change_id = %s",
                            (change["change_id"],)).fetchone()[0] == 0
    r = client.post("/api/sync/push", headers=headers, json={"client_id": device, "changes": [change]})
    assert r.status_code == 200 and r.json()["results"][0]["status"] == "applied", r.text
