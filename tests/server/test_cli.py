"""The `doorstep` command as PROTOCOL.md §8 specifies it, run as a real process."""
from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.live_server import ROOT, LiveServer


def doorstep(db: str, *args: str, password: str | None = None, stdin: str | None = None):
    env = {k: v for k, v in os.environ.items() if k != "DOORSTEP_PASSWORD"}
    if password is not None:
        env["DOORSTEP_PASSWORD"] = password
    return subprocess.run([sys.executable, "-m", "server.cli", "--db", db, *args], cwd=ROOT, env=env,
                          input=stdin, capture_output=True, text=True, timeout=120)


def snapshot(db: str) -> dict[str, list]:
    conn = sqlite3.connect(db)
    try:
        tables = [r[0] for r in conn.execute(
            # the logs of who did what (an import run again is logged again) are not the data
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT IN "
            "('audit', 'audit_entities', 'audit_pupils', 'imports', 'import_rejects', 'jobs') "
            "AND name NOT LIKE 'sqlite_stat%'")]  # nor the query planner's statistics
        return {t: sorted(map(repr, conn.execute(f"SELECT * FROM {t}").fetchall())) for t in tables}
    finally:
        conn.close()


def test_init_is_idempotent(tmp_path):
    db = str(tmp_path / "a.db")
    assert doorstep(db, "init").returncode == 0
    first = snapshot(db)
    assert doorstep(db, "init").returncode == 0
    assert snapshot(db) == first
    assert "pupils" in first and "changes" in first


def test_user_add_reads_the_password_from_env_or_stdin(tmp_path):
    db = str(tmp_path / "a.db")
    r = doorstep(db, "user", "add", "amira", "--role", "officer", "--display-name", "Amira Khan",
                 password="from-the-environment")
    assert r.returncode == 0, r.stderr
    r = doorstep(db, "user", "add", "boss", "--role", "office", stdin="from-standard-input\n")
    assert r.returncode == 0, r.stderr
    assert doorstep(db, "user", "add", "boss", "--role", "office", password="whatever-123").returncode == 1
    assert doorstep(db, "user", "add", "x", "--role", "wizard", password="whatever-123").returncode != 0
    with LiveServer(db) as server:
        ok = httpx.post(f"{server.url}/api/auth/login", json={
            "username": "amira", "password": "from-the-environment", "device_name": "t"})
        assert ok.status_code == 200 and ok.json()["user"]["display_name"] == "Amira Khan"
        assert ok.json()["user"]["role"] == "officer"
        ok = httpx.post(f"{server.url}/api/auth/login", json={
            "username": "boss", "password": "from-standard-input", "device_name": "t"})
        assert ok.status_code == 200


@pytest.mark.slow
def test_fixtures_load_twice_changes_nothing(tmp_path):
    db = str(tmp_path / "a.db")
    r = doorstep(db, "fixtures", "load")
    assert r.returncode == 0, r.stderr
    first = snapshot(db)
    assert len(first["pupils"]) >= 400 and len(first["register_marks"]) > 10_000
    r = doorstep(db, "fixtures", "load")
    assert r.returncode == 0, r.stderr
    assert snapshot(db) == first


def write_csv(path: Path, rows: list[str]) -> str:
    path.write_text("upn,date,session,code\n" + "\n".join(rows) + "\n")
    return str(path)


def test_marks_import_reports_bad_rows_and_keeps_good_ones(tmp_path):
    db = str(tmp_path / "a.db")
    assert doorstep(db, "fixtures", "load").returncode == 0
    conn = sqlite3.connect(db)
    upn = conn.execute("SELECT json_extract(data, '$.upn') FROM pupils LIMIT 1").fetchone()[0]
    before = conn.execute("SELECT count(*) FROM register_marks").fetchone()[0]
    conn.close()
    csv = write_csv(tmp_path / "marks.csv", [
        f"{upn},2027-01-04,AM,/", f"{upn},2027-01-04,PM,O",
        f"{upn},2027-01-05,AM,QQ",            # line 4: unknown code
        "Z999999999999,2027-01-05,AM,/",      # line 5: unknown pupil
        f"{upn},2027-02-30,AM,/",            # line 6: no such date
        f"{upn},2027-01-05,XX,/",            # line 7: bad session
    ])
    r = doorstep(db, "marks", "import", csv)
    assert r.returncode == 0, r.stderr
    assert "stored 2 rows" in r.stdout
    for line in (4, 5, 6, 7):
        assert f"line {line}:" in r.stdout
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT count(*) FROM register_marks").fetchone()[0] == before + 2
    conn.close()
    first = snapshot(db)
    again = doorstep(db, "marks", "import", csv)
    assert again.returncode == 0 and "stored 0 rows" in again.stdout
    assert snapshot(db) == first
    missing = doorstep(db, "marks", "import", str(tmp_path / "nope.csv"))
    assert missing.returncode == 1 and "cannot read" in missing.stderr
    (tmp_path / "bad.csv").write_text("pupil,day\n1,2\n")
    assert doorstep(db, "marks", "import", str(tmp_path / "bad.csv")).returncode == 1


@pytest.mark.slow
def test_the_demo_serves_an_officer_their_caseload_and_nothing_else(tmp_path):
    """README command 1: health answers, a demo officer signs in, the first pull is their caseload."""
    from fixtures.demo import DEMO_PASSWORD

    with LiveServer(str(tmp_path / "demo.db"), "--demo", ) as server:
        assert httpx.get(f"{server.url}/api/health").json() == {"status": "ok"}
        assert "officer1" in server.output() and DEMO_PASSWORD["officer1"] in server.output()
        login = httpx.post(f"{server.url}/api/auth/login", json={
            "username": "officer1", "password": DEMO_PASSWORD["officer1"], "device_name": "phone"}).json()
        headers = {"Authorization": f"Bearer {login['access_token']}", "Doorstep-Protocol": "1"}
        items, cursor = [], None
        while True:
            body = httpx.get(f"{server.url}/api/sync/pull", headers=headers,
                             params={"cursor": cursor} if cursor else {}).json()
            items += body["changes"]
            cursor = body["cursor"]
            if not body["has_more"]:
                break
        me = login["user"]["id"]
        cases = [i for i in items if i["type"] == "case"]
        assert cases and all(c["fields"]["assigned_officer_id"] == me and c["fields"]["status"] == "open"
                             for c in cases)
        case_ids = {c["id"] for c in cases}
        pupil_ids = {c["fields"]["pupil_id"] for c in cases}
        for item in items:
            f = item["fields"]
            if item["type"] in ("visit", "conversation", "task"):
                assert f["case_id"] in case_ids
            elif item["type"] == "pupil":
                assert item["id"] in pupil_ids
        office = httpx.post(f"{server.url}/api/auth/login", json={
            "username": "office", "password": DEMO_PASSWORD["office"], "device_name": "laptop"}).json()
        everything = httpx.get(f"{server.url}/api/sync/pull", params={"limit": 5000}, headers={
            "Authorization": f"Bearer {office['access_token']}", "Doorstep-Protocol": "1"}).json()["changes"]
        all_cases = [i for i in everything if i["type"] == "case"]
        assert len(all_cases) > len(cases)
