"""Three ``doorstep serve`` processes on one PostgreSQL database (issue #21, "Must show").

Eight officers' phones push at once, each batch through the next server in turn, one batch
sent again after a "timeout", while the office follows the pull cursor through the servers in
turn the whole time: nothing is lost, duplicated or skipped. Sign-in throttling and device
revocation hold whichever server a request reaches, because both are rows in the database.
"""
from __future__ import annotations

import itertools
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests import race
from tests.live_server import ROOT, LiveServer

PASSWORD = "servers-test-password"
SERVERS, PUSHERS, BATCHES, PER_BATCH = 3, 8, 6, 40


def cli(db: str, *args: str) -> None:
    env = {**os.environ, "DOORSTEP_PASSWORD": PASSWORD}
    done = subprocess.run([sys.executable, "-m", "server.cli", "--db", db, *args], cwd=ROOT, env=env,
                          capture_output=True, timeout=120, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def sign_in(url: str, username: str) -> race.Phone:
    return race.Phone(url, username, PASSWORD, "servers")


@pytest.fixture
def servers(pg_database: Any) -> Iterator[tuple[str, list[LiveServer]]]:
    db = pg_database()
    cli(db, "init")  # the one process that migrates; serve never does on PostgreSQL
    cli(db, "user", "add", "office", "--role", "office")
    for k in range(PUSHERS):
        cli(db, "user", "add", f"officer{k}", "--role", "officer")
    running = [LiveServer(db) for _ in range(SERVERS)]
    try:
        for server in running:
            server.start(timeout=60)
        yield db, running
    finally:
        for server in running:
            server.stop()


def test_three_servers_eight_pushers_lose_nothing_duplicate_nothing_skip_nothing(servers):
    db, running = servers
    urls = [s.url for s in running]
    office = sign_in(urls[0], "office")
    officers = [sign_in(urls[k % SERVERS], f"officer{k}") for k in range(PUSHERS)]
    school, cases = str(uuid.uuid4()), []
    setup = [office.change("school", {"name": "Three Server Primary"}, school)]
    for k, officer in enumerate(officers):
        hh, pupil, case = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
        setup += [office.change("household", {"address": f"{k} Server Row"}, hh),
                  office.change("pupil", {"upn": f"S{k:012d}", "first_name": "Sol", "last_name": f"S{k}",
                                          "school_id": school, "household_id": hh}, pupil),
                  office.change("case", {"pupil_id": pupil, "assigned_officer_id": officer.user_id}, case)]
        cases.append(case)
    assert {r["status"] for r in office.push(url=urls[1], changes=setup)} == {"applied"}

    batches = [[[officers[k].change("visit", {"case_id": cases[k], "outcome": "no_answer",
                                              "notes": f"visit {k}.{b}.{n}"}) for n in range(PER_BATCH)]
                for b in range(BATCHES)] for k in range(PUSHERS)]
    pulls = itertools.cycle(urls)  # the office pulls through the servers in turn
    race_ = race.run(batches, lambda k, b, batch: officers[k].push(url=urls[(k + b) % SERVERS], changes=batch),
                     lambda cursor: office.pull(cursor, 150, url=next(pulls)),
                     resend=lambda k, b, batch: officers[k].push(url=urls[(k + b + 1) % SERVERS], changes=batch))
    race.assert_nothing_lost_duplicated_or_skipped(race_, batches)
    assert len(race_.results) == PUSHERS * BATCHES * PER_BATCH and len(race_.resent) == PUSHERS * PER_BATCH
    assert len(race_.pages) >= 2 * SERVERS  # pulls spread over the servers
    pushed = [c for per in batches for batch in per for c in batch]

    import psycopg

    with psycopg.connect(db) as conn:
        visits = conn.execute("SELECT count(*) FROM visits").fetchone()[0]
        logged = conn.execute("SELECT count(*), count(DISTINCT change_id) FROM changes "
                              "WHERE type = 'visit'").fetchone()
        seqs = [r[0] for r in conn.execute("SELECT seq FROM changes ORDER BY seq")]
        top = conn.execute("SELECT value FROM meta WHERE key = 'max_seq'").fetchone()[0]
    assert visits == len(pushed) and logged == (len(pushed), len(pushed))
    # positions handed out once each, whichever server wrote (scope events take positions too)
    assert len(seqs) == len(set(seqs)) and max(seqs) <= top
    for device in (office, *officers):
        device.client.close()


def test_sign_in_failures_count_on_every_server_and_a_revoke_holds_on_all(servers):
    _db, running = servers
    urls = [s.url for s in running]
    # five wrong passwords spread over three servers: the sixth try waits, on any server
    for k in range(5):
        r = httpx.post(f"{urls[k % SERVERS]}/api/auth/login", json={
            "username": "officer0", "password": "wrong-password", "device_name": "phone"}, timeout=30)
        assert r.status_code == 401, r.text
    for url in urls:
        r = httpx.post(f"{url}/api/auth/login", json={
            "username": "officer0", "password": PASSWORD, "device_name": "phone"}, timeout=30)
        assert r.status_code == 429 and r.json()["error"]["code"] == "rate_limited", r.text

    # revoked through one server: refused by every server, its refresh token too
    office = sign_in(urls[0], "office")
    phone = sign_in(urls[1], "officer1")
    for url in urls:
        assert phone.pull(None, 150, url=url).status_code == 200
    r = office.client.post(f"{urls[2]}/api/devices/{phone.device_id}/revoke", headers=office.headers,
                           json={"kind": "lost"})
    assert r.status_code == 200, r.text
    for url in urls:
        r = phone.pull(None, 150, url=url)
        assert r.status_code == 401 and r.json()["error"]["code"] == "device_revoked", r.text
        r = httpx.post(f"{url}/api/auth/refresh", json={"refresh_token": phone.refresh_token}, timeout=30)
        assert r.status_code == 401, r.text
    office.client.close()
    phone.client.close()
