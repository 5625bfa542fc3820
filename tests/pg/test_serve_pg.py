"""``doorstep --db postgresql://… serve`` never migrates: on a database `init` has not made current
it refuses to start, says what to run, and leaves the database untouched (several servers
starting at once never race a migration)."""
from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import psycopg

from tests.live_server import ROOT, free_port


def test_serve_refuses_a_database_not_migrated_and_touches_nothing(pg_database: Any):
    url = pg_database().replace("/t_", "/fresh_", 1)
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:  # an empty database, not the migrated template
        conn.execute(f"CREATE DATABASE {url.rsplit('/', 1)[1]}")
    try:
        done = subprocess.run([sys.executable, "-m", "server.cli", "--db", url, "serve", "--port", str(free_port())],
                              cwd=ROOT, env=dict(os.environ), capture_output=True, text=True, timeout=60)
        assert done.returncode == 2, done.stdout + done.stderr
        assert "init" in done.stderr and "Traceback" not in done.stderr
        with psycopg.connect(url) as conn:
            assert conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").fetchone()[0] == 0
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {url.rsplit('/', 1)[1]} WITH (FORCE)")
