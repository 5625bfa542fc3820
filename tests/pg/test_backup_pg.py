"""``doorstep backup`` and ``restore`` on PostgreSQL (server/ops/pg_backup.py): a checked pg_dump
with its manifest, and a restore that brings the database back to it in one transaction."""
from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import orjson
import psycopg

from tests.live_server import ROOT


def cli(db: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DOORSTEP_PASSWORD": "backup-test-password"}
    return subprocess.run([sys.executable, "-m", "server.cli", "--db", db, *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def users(url: str) -> list[str]:
    with psycopg.connect(url) as conn:
        return [r[0] for r in conn.execute("SELECT username FROM users ORDER BY username")]


def test_a_backup_is_checked_and_a_restore_brings_the_database_back(pg_database: Any, tmp_path):
    url = pg_database()
    assert cli(url, "init").returncode == 0
    assert cli(url, "user", "add", "ada", "--role", "office").returncode == 0
    done = cli(url, "backup", str(tmp_path))
    assert done.returncode == 0, done.stderr
    dumps = sorted(tmp_path.glob("doorstep-*.dump"))
    assert len(dumps) == 1 and (dumps[0].stat().st_mode & 0o777) == 0o600
    manifest = orjson.loads((tmp_path / (dumps[0].name + ".manifest.json")).read_bytes())
    assert manifest["format"] == "doorstep-backup-postgresql/1" and manifest["schema"]["count"] > 20
    assert "password" not in manifest["source"]

    assert cli(url, "user", "add", "bea", "--role", "office").returncode == 0
    assert users(url) == ["ada", "bea"]
    refused = cli(url, "restore", str(dumps[0]))
    assert refused.returncode == 1 and "--force" in refused.stderr and users(url) == ["ada", "bea"]
    done = cli(url, "restore", str(dumps[0]), "--force")
    assert done.returncode == 0, done.stderr
    assert users(url) == ["ada"]
    with psycopg.connect(url) as conn:  # every phone's cursor is behind the horizon now: reset
        seq, horizon = (conn.execute("SELECT value FROM meta WHERE key = %s", (k,)).fetchone()[0]
                        for k in ("max_seq", "horizon"))
    assert seq == horizon >= 10**10 + manifest["max_seq"]

    # a damaged file is refused before anything is touched
    dumps[0].write_bytes(dumps[0].read_bytes()[:-10] + b"0123456789")
    damaged = cli(url, "restore", str(dumps[0]), "--force")
    assert damaged.returncode == 1 and "does not match its manifest" in damaged.stderr
    assert users(url) == ["ada"]


def test_after_a_recovery_by_other_means_one_command_sends_every_phone_back_to_the_start(pg_database: Any):
    url = pg_database()
    assert cli(url, "init").returncode == 0
    with psycopg.connect(url) as conn:
        conn.execute("UPDATE meta SET value = 42 WHERE key = 'max_seq'")
    done = cli(url, "recovered")
    assert done.returncode == 0, done.stderr
    with psycopg.connect(url) as conn:
        seq, horizon = (conn.execute("SELECT value FROM meta WHERE key = %s", (k,)).fetchone()[0]
                        for k in ("max_seq", "horizon"))
        audited = conn.execute("SELECT detail FROM audit WHERE action = 'restore'").fetchall()
    assert seq == horizon == 42 + 10**10 and len(audited) == 1 and '"seq_at_backup":42' in audited[0][0]
