"""``/api/ready`` and the Prometheus metrics port (issue 16, item 7).

Readiness is checked in process against a real database file (a lock held by another
connection, a threshold above the disk's free space, a migration not applied); the metrics
through a real ``doorstep serve``, with one worker and with two (multiprocess mode).
"""
from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.testclient import TestClient

import sync
from server.app import create_app
from server.config import Settings
from server.state import open_state
from sync import Clock
from tests.live_server import ROOT, LiveServer, free_port

PASSWORD = "metrics-test-password"
SYNC = {"Doorstep-Protocol": "1"}


def _ready(client: TestClient) -> tuple[int, dict[str, Any]]:
    r = client.get("/api/ready")
    return r.status_code, r.json()


@pytest.fixture
def ready_client(tmp_path) -> Iterator[tuple[str, TestClient]]:
    path = str(tmp_path / "ready.db")
    st = open_state(Settings(db_path=path, ready_min_free_mb=1))
    with TestClient(create_app(app_state=st), raise_server_exceptions=False) as c:
        yield path, c
    st.db.close()


def test_ready_when_writable_current_and_with_space(ready_client):
    _path, client = ready_client
    status, body = _ready(client)
    assert status == 200 and body["status"] == "ready"
    assert {name: check["ok"] for name, check in body["checks"].items()} == {
        "database": True, "migrations": True, "disk": True}
    assert body["checks"]["disk"]["free_mb"] >= 1


def test_not_ready_while_another_process_holds_the_write_lock_but_still_alive(ready_client):
    path, client = ready_client
    other = sqlite3.connect(path, isolation_level=None, timeout=0)
    other.execute("BEGIN IMMEDIATE")
    try:
        r = client.get("/api/ready")
        assert client.get("/api/health").json() == {"status": "ok"}  # liveness: no database at all
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert r.status_code == 503 and int(r.headers["retry-after"]) >= 1
    err = r.json()["error"]
    assert err["code"] == "not_ready" and err["details"]["failed"] == ["database"]
    assert "write lock" in err["details"]["checks"]["database"]["reason"]
    assert _ready(client)[0] == 200


def test_not_ready_below_the_disk_threshold(tmp_path):
    st = open_state(Settings(db_path=str(tmp_path / "disk.db"), ready_min_free_mb=10**9))  # a petabyte
    try:
        with TestClient(create_app(app_state=st)) as client:
            status, body = _ready(client)
    finally:
        st.db.close()
    assert status == 503 and body["error"]["details"]["failed"] == ["disk"]
    disk = body["error"]["details"]["checks"]["disk"]
    assert disk["min_free_mb"] == 10**9 and disk["free_mb"] < disk["min_free_mb"]


def test_not_ready_when_a_migration_is_not_applied(ready_client):
    path, client = ready_client
    with sqlite3.connect(path) as conn:  # as a database last migrated by the previous release
        conn.execute("DELETE FROM _sqlite_migrations WHERE name = 'm020_signin_throttle'")
    status, body = _ready(client)
    assert status == 503 and body["error"]["details"]["failed"] == ["migrations"]
    assert body["error"]["details"]["checks"]["migrations"]["pending"] == ["m020_signin_throttle"]


# -- metrics, through a real server ----------------------------------------------------------

def _cli(db: str, *args: str) -> None:
    env = {**os.environ, "DOORSTEP_PASSWORD": PASSWORD}
    subprocess.run([sys.executable, "-m", "server.cli", "--db", db, *args], cwd=ROOT, env=env,
                   check=True, capture_output=True, timeout=60)


def scrape(port: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def serve_with_metrics(db: str, *extra: str) -> tuple[LiveServer, int]:
    port = free_port()
    os.environ["DOORSTEP_METRICS_PORT"] = str(port)
    try:
        return LiveServer(db, *extra).start(timeout=60), port
    finally:
        os.environ.pop("DOORSTEP_METRICS_PORT")


def sign_in(http: httpx.Client, username: str) -> tuple[dict[str, str], str]:
    r = http.post("/api/auth/login", json={"username": username, "password": PASSWORD, "device_name": "m"})
    assert r.status_code == 200, r.text
    body = r.json()
    return {"Authorization": f"Bearer {body['access_token']}", **SYNC}, body["device_id"]


def school_change(clock: Clock, school: str, name: str, base: int | None) -> dict[str, Any]:
    return {"change_id": str(uuid.uuid4()), "type": "school", "id": school, "op": "put",
            "fields": {"name": name}, "base_version": base, "hlc": clock.send()}


@pytest.mark.slow
def test_metrics_count_requests_by_route_template_sync_results_conflicts_and_import_rows(tmp_path):
    db = str(tmp_path / "metrics.db")
    _cli(db, "init")
    _cli(db, "user", "add", "boss", "--role", "office")
    live, port = serve_with_metrics(db)
    try:
        with httpx.Client(base_url=live.url, timeout=30) as http:
            first, first_id = sign_in(http, "boss")
            second, second_id = sign_in(http, "boss")
            one, two = Clock(first_id), Clock(second_id)
            school = str(uuid.uuid4())
            late = two.send()  # the second phone's edit, made before the first phone's
            push = [
                (first, first_id, [school_change(one, school, "Created", None)]),
                (first, first_id, [school_change(one, school, "First phone", 1)]),
                (second, second_id, [{**school_change(two, school, "Second phone", 1), "hlc": late}]),
            ]
            for headers, device, changes in push:
                r = http.post("/api/sync/push", headers=headers, json={"client_id": device, "changes": changes})
                assert r.status_code == 200, r.text
            http.post("/api/sync/push", headers=first, json={"client_id": first_id, "changes": push[0][2]})
            assert http.get("/api/sync/pull", headers=first).status_code == 200
            device = str(uuid.uuid4())
            assert http.post(f"/api/devices/{device}/revoke", headers=first).status_code == 404
            r = http.post("/api/register/marks", headers={**first, "Content-Type": "text/csv"},
                          content=b"upn,date,session,code\nA123456789012,2026-11-20,AM,/\nZZ,bad,XX,h\n")
            assert r.status_code == 200 and r.json()["rows_read"] == 2, r.text
        samples = scrape(port)
    finally:
        live.stop()
    assert value(samples, "doorstep_http_requests_total", method="POST", route="/api/sync/push", status="200") == 4
    assert value(samples, "doorstep_http_requests_total", method="POST",
                 route="/api/devices/{device_id}/revoke", status="404") == 1  # the template, never the id
    assert not any(device in str(key) for key in samples)
    assert value(samples, "doorstep_http_request_duration_seconds_count", method="GET", route="/api/sync/pull") == 1
    assert value(samples, "doorstep_sync_changes_total", status="applied") == 2
    assert value(samples, "doorstep_sync_changes_total", status="merged") == 1
    assert value(samples, "doorstep_sync_changes_total", status="duplicate") == 1
    assert value(samples, "doorstep_conflicts_created_total") == 1
    assert value(samples, "doorstep_conflicts_open") == 1
    assert value(samples, "doorstep_sync_engine_compiled") == (1 if sync.NATIVE else 0)  # what the server runs
    assert ("sync engine: compiled (mypyc)" if sync.NATIVE else "sync engine: interpreted") in live.output()
    assert value(samples, "doorstep_import_rows_total", kind="marks") == 2
    assert value(samples, "doorstep_password_hashes_total") == 3  # the start-up dummy hash, two sign-ins


@pytest.mark.slow
def test_metrics_add_up_every_worker_in_multiprocess_mode(tmp_path):
    db = str(tmp_path / "workers.db")
    _cli(db, "init")
    live, port = serve_with_metrics(db, "--workers", "2")
    try:
        requests = 40
        before = value(scrape(port), "doorstep_http_requests_total", method="GET", route="/api/health",
                       status="200")  # the start-up checks'
        for _ in range(requests):  # new connections, so both workers take some
            assert httpx.get(f"{live.url}/api/health", timeout=30).status_code == 200
        samples = scrape(port)
        assert httpx.get(f"{live.url}/metrics", timeout=10).status_code == 404  # not on the API's port
    finally:
        live.stop()
    assert value(samples, "doorstep_http_requests_total", method="GET", route="/api/health",
                 status="200") == before + requests
    assert "Traceback" not in live.output()


def test_the_engine_gauge_says_interpreted_when_the_server_runs_the_interpreted_engine(tmp_path):
    """``doorstep_sync_engine_compiled`` follows the engine the process runs: in a fresh
    interpreter with ``DOORSTEP_PURE=1`` it is 0 (the test above sees this process's, 1 in CI)."""
    script = ("import sys, sync; from server.state import open_state; from server.config import Settings; "
              "from server.monitor.metrics import FromDatabase; "
              "open_state(Settings(db_path=sys.argv[1])).db.close(); "
              "print(sync.NATIVE, [s.value for f in FromDatabase(sys.argv[1]).collect() "
              "if f.name == 'doorstep_sync_engine_compiled' for s in f.samples])")
    out = subprocess.run([sys.executable, "-c", script, str(tmp_path / "pure.db")], cwd=ROOT, check=True,
                         capture_output=True, text=True, timeout=120,
                         env={**os.environ, "PYTHONPATH": str(ROOT), "DOORSTEP_PURE": "1"})
    assert out.stdout.split("\n")[-2] == "False [0]"
