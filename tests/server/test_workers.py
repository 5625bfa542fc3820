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

import pytest

from tests import race
from tests.live_server import ROOT, LiveServer

PASSWORD = "workers-test-password"
OFFICERS, BATCHES, PER_BATCH = 4, 8, 50


def cli(db: str, *args: str) -> None:
    env = {**os.environ, "DOORSTEP_PASSWORD": PASSWORD}
    subprocess.run([sys.executable, "-m", "server.cli", "--db", db, *args], cwd=ROOT, env=env,
                   check=True, capture_output=True, timeout=60)


def sign_in(url: str, username: str) -> race.Phone:
    return race.Phone(url, username, PASSWORD, "workers")


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

        office = sign_in(server.url, "office")
        officers = [sign_in(server.url, f"officer{k}") for k in range(OFFICERS)]
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
                         lambda cursor: office.pull(cursor, 120), timeout=60)
        race.assert_nothing_lost_duplicated_or_skipped(race_, batches)
        assert len(race_.results) == OFFICERS * BATCHES * PER_BATCH
        pushed = [c for per in batches for batch in per for c in batch]

        # the audit finds who wrote a visit, whichever worker took the push
        admin = sign_in(server.url, "admin")
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
