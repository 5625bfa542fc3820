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
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from sync import Clock
from tests import race
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
        race_ = race.run(batches, lambda k, _b, batch: officers[k].push(batch),
                         lambda cursor: office.client.get("/api/sync/pull", params={"limit": "120"} | (
                             {"cursor": cursor} if cursor else {})), timeout=60)
        race.assert_nothing_lost_duplicated_or_skipped(race_, batches)
        assert len(race_.results) == OFFICERS * BATCHES * PER_BATCH
        pushed = [c for per in batches for batch in per for c in batch]

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
