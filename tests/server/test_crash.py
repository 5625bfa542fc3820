"""A server killed with SIGKILL mid-push loses nothing and applies nothing twice."""
from __future__ import annotations

import os
import subprocess
import sys
import threading
import uuid

import httpx
import pytest

from sync import Clock
from tests import store
from tests.live_server import ROOT, LiveServer

PASSWORD = "crash-test-password"
BATCHES, PER_BATCH = 40, 100


def cli(db: str, *args: str) -> None:
    env = {**os.environ, "DOORSTEP_PASSWORD": PASSWORD}
    subprocess.run([sys.executable, "-m", "server.cli", "--db", db, *args], cwd=ROOT, env=env,
                   check=True, capture_output=True)


def login(url: str, username: str) -> dict:
    r = httpx.post(f"{url}/api/auth/login", json={"username": username, "password": PASSWORD,
                                                  "device_name": "crash"})
    r.raise_for_status()
    return r.json()


@pytest.mark.slow
def test_sigkill_during_pushes_loses_nothing_and_duplicates_nothing(db_path):
    db = db_path  # a SQLite file, or a PostgreSQL database with DOORSTEP_TEST_STORE=postgresql
    cli(db, "init")
    cli(db, "user", "add", "boss", "--role", "office")
    server = LiveServer(db).start()
    try:
        session = login(server.url, "boss")
        headers = {"Authorization": f"Bearer {session['access_token']}", "Doorstep-Protocol": "1"}
        clock = Clock(session["device_id"])
        school = str(uuid.uuid4())
        batches = [[{"change_id": str(uuid.uuid4()), "type": "school", "id": school, "op": "put",
                     "fields": {"name": "Crash Academy"}, "base_version": None, "hlc": clock.send()}]]
        for _ in range(BATCHES):
            batches.append([{"change_id": str(uuid.uuid4()), "type": "household", "id": str(uuid.uuid4()),
                             "op": "put", "fields": {"address": f"{n} Crash Street", "access_notes": "x" * 200},
                             "base_version": None, "hlc": clock.send()} for n in range(PER_BATCH)])
        answered: dict[int, dict] = {}
        statuses: list[int] = []
        lock = threading.Lock()

        def send(indices: list[int]) -> None:
            with httpx.Client(base_url=server.url, timeout=30) as c:
                for i in indices:
                    try:
                        r = c.post("/api/sync/push", headers=headers,
                                   json={"client_id": session["device_id"], "changes": batches[i]})
                    except httpx.HTTPError:
                        return  # the server died under us
                    with lock:
                        statuses.append(r.status_code)
                        if r.status_code == 200:
                            answered[i] = r.json()

        send([0])
        threads = [threading.Thread(target=send, args=(list(range(1 + k, len(batches), 4)),)) for k in range(4)]
        for t in threads:
            t.start()
        while len(answered) < 8:  # some batches in, many more in flight
            pass
        server.kill()
        for t in threads:
            t.join()
        assert len(answered) < len(batches), "the kill came too late to test anything"

        server = LiveServer(db, port=server.port).start()
        # the client retries everything it has no answer for, and (being unsure) some it has
        unsure = list(answered)[:3]
        first_answers = {i: answered.pop(i) for i in unsure}
        send([i for i in range(len(batches)) if i not in answered])
        assert set(statuses) == {200}
        assert len(answered) == len(batches)
        for i in unsure:  # a batch sent again repeats its first result as duplicates
            assert [r["status"] for r in answered[i]["results"]] == ["duplicate"] * len(batches[i])
            assert [r["version"] for r in answered[i]["results"]] == \
                [r["version"] for r in first_answers[i]["results"]]
        for answer in answered.values():
            assert {r["status"] for r in answer["results"]} <= {"applied", "duplicate"}, answer
    finally:
        server.stop()

    assert store.intact(db)
    all_ids = [c["change_id"] for b in batches for c in b]
    logged = store.rows(db, "SELECT change_id, count(*) FROM changes GROUP BY change_id")
    assert sorted(cid for cid, _ in logged) == sorted(all_ids)
    assert all(n == 1 for _, n in logged)
    assert store.rows(db, "SELECT version, count(*) FROM households GROUP BY version") == \
        [(1, BATCHES * PER_BATCH)]
