"""``doorstep serve --workers 2``: two processes on one database keep every guarantee.

Officers push through both workers at once (one batch re-sent after a "timeout")
while the office follows the pull cursor the whole time: nothing is lost,
duplicated or skipped, versions and the change log agree, and the audit finds
who wrote a record whichever worker took the push.
"""
from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from sync import Clock
from tests.live_server import ROOT, LiveServer

PASSWORD = "workers-test-password"
OFFICERS, BATCHES, PER_BATCH = 4, 8, 50
SYNC = {"Doorstep-Protocol": "1"}


def cli(db: str, *args: str) -> None:
    env = {**os.environ, "DOORSTEP_PASSWORD": PASSWORD}
    subprocess.run([sys.executable, "-m", "server.cli", "--db", db, *args], cwd=ROOT, env=env,
                   check=True, capture_output=True, timeout=60)


class Device:
    def __init__(self, url: str, username: str) -> None:
        r = httpx.post(f"{url}/api/auth/login", json={"username": username, "password": PASSWORD,
                                                      "device_name": "workers"}, timeout=30)
        r.raise_for_status()
        body = r.json()
        self.user_id, self.device_id = body["user"]["id"], body["device_id"]
        self.client = httpx.Client(base_url=url, timeout=60, headers={
            "Authorization": f"Bearer {body['access_token']}", **SYNC})
        self.clock = Clock(self.device_id)

    def change(self, type_: str, fields: dict[str, Any], id_: str | None = None) -> dict[str, Any]:
        return {"change_id": str(uuid.uuid4()), "type": type_, "id": id_ or str(uuid.uuid4()), "op": "put",
                "fields": fields, "base_version": None, "hlc": self.clock.send()}

    def push(self, changes: list[dict[str, Any]]) -> list[dict[str, Any]]:
        r = self.client.post("/api/sync/push", json={"client_id": self.device_id, "changes": changes})
        assert r.status_code == 200, r.text
        self.clock.receive(r.json()["server_hlc"])
        return r.json()["results"]


def worker_pids(server: LiveServer) -> set[int]:
    """The live processes whose parent is the server's supervisor."""
    assert server.proc is not None
    pids = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == server.proc.pid:
            pids.add(int(stat.parent.name))
    return pids


@pytest.mark.slow
def test_two_workers_lose_nothing_duplicate_nothing_skip_nothing(tmp_path):
    db = str(tmp_path / "workers.db")
    cli(db, "init")
    cli(db, "user", "add", "office", "--role", "office")
    cli(db, "user", "add", "admin", "--role", "admin")
    for k in range(OFFICERS):
        cli(db, "user", "add", f"officer{k}", "--role", "officer")
    with LiveServer(db, "--workers", "2") as server:
        deadline = time.monotonic() + 15
        while len(worker_pids(server)) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(worker_pids(server)) >= 2, "serve --workers 2 runs two worker processes"

        office = Device(server.url, "office")
        officers = [Device(server.url, f"officer{k}") for k in range(OFFICERS)]
        school, cases = str(uuid.uuid4()), []
        setup = [office.change("school", {"name": "Two Worker Primary"}, school)]
        for k, officer in enumerate(officers):
            hh, pupil, case = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
            setup += [office.change("household", {"address": f"{k} Worker Row"}, hh),
                      office.change("pupil", {"upn": f"W{k:012d}", "first_name": "Wren", "last_name": f"W{k}",
                                              "school_id": school, "household_id": hh}, pupil),
                      office.change("case", {"pupil_id": pupil, "assigned_officer_id": officer.user_id}, case)]
            cases.append(case)
        assert {r["status"] for r in office.push(setup)} == {"applied"}

        batches = [[[officers[k].change("visit", {"case_id": cases[k], "outcome": "no_answer",
                                                  "notes": f"visit {k}.{b}.{n}"})
                     for n in range(PER_BATCH)] for b in range(BATCHES)] for k in range(OFFICERS)]
        results: dict[str, dict[str, Any]] = {}
        resent: dict[str, dict[str, Any]] = {}
        errors: list[BaseException] = []
        lock = threading.Lock()
        pushing = threading.Event()
        pushing.set()

        def officer_pushes(k: int) -> None:
            try:
                for b, batch in enumerate(batches[k]):
                    answer = officers[k].push(batch)
                    if b == 2:  # the answer "timed out": the device sends the same batch again
                        again = officers[k].push(batch)
                        with lock:
                            resent.update({r["change_id"]: r for r in again})
                    with lock:
                        results.update({r["change_id"]: r for r in answer})
            except BaseException as exc:  # noqa: BLE001 - reported by the main thread
                errors.append(exc)

        seen: dict[str, int] = {}
        pages: list[list[dict[str, Any]]] = []
        cursor: list[str | None] = [None]

        def office_pulls() -> None:
            # follows the cursor while the pushes land, then once more after they end
            try:
                for _ in range(2000):
                    done = not pushing.is_set()
                    while True:
                        params = {"limit": "120"} | ({"cursor": cursor[0]} if cursor[0] else {})
                        r = office.client.get("/api/sync/pull", params=params)
                        assert r.status_code == 200, r.text
                        body = r.json()
                        pages.append(body["changes"])
                        for item in body["changes"]:
                            seen[item["id"]] = max(seen.get(item["id"], 0), item.get("version", 0))
                        cursor[0] = body["cursor"]
                        if not body["has_more"]:
                            break
                    if done:
                        return
                    time.sleep(0.02)
            except BaseException as exc:  # noqa: BLE001
                errors.append(exc)

        puller = threading.Thread(target=office_pulls)
        threads = [threading.Thread(target=officer_pushes, args=(k,)) for k in range(OFFICERS)]
        puller.start()
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        pushing.clear()
        puller.join(timeout=60)
        assert not errors, errors

        pushed = [c for per in batches for batch in per for c in batch]
        # nothing lost: every change answered applied, once, at version 1
        assert len(results) == len(pushed) == OFFICERS * BATCHES * PER_BATCH
        assert {r["status"] for r in results.values()} == {"applied"}
        assert {r["version"] for r in results.values()} == {1}
        # nothing duplicated: the re-sent batch answers duplicate with the first versions
        assert resent and {r["status"] for r in resent.values()} == {"duplicate"}
        assert all(resent[c]["version"] == results[c]["version"] for c in resent)
        # nothing skipped: the office, pulling while both workers wrote, saw every visit
        assert {c["id"] for c in pushed} <= set(seen)
        assert all(seen[c["id"]] == 1 for c in pushed)
        assert all(len({i["id"] for i in page}) == len(page) for page in pages), "an entity twice in a page"

        # the audit finds who wrote a visit, whichever worker took the push
        admin = Device(server.url, "admin")
        for k in range(OFFICERS):
            visit = batches[k][0][0]["id"]
            rows = admin.client.get("/api/audit", params={"entity_id": visit}).json()["items"]
            assert (officers[k].user_id, "push", officers[k].device_id) in {
                (r["user_id"], r["action"], r["device_id"]) for r in rows}
        for device in (office, admin, *officers):
            device.client.close()

    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        visits = conn.execute("SELECT count(*) FROM visits").fetchone()[0]
        logged = conn.execute("SELECT count(*), count(DISTINCT change_id) FROM changes WHERE type = 'visit'")
        assert visits == len(pushed)
        assert logged.fetchone() == (len(pushed), len(pushed))
        seqs = [r[0] for r in conn.execute("SELECT seq FROM changes ORDER BY seq")]
        top = conn.execute("SELECT value FROM meta WHERE key = 'max_seq'").fetchone()[0]
        assert len(seqs) == len(set(seqs)) and max(seqs) <= top
    finally:
        conn.close()
