"""The marks import as a process: memory stays flat with the file's size, and a SIGKILL
mid-import leaves a consistent database that running the same import again completes."""
from __future__ import annotations

import datetime as dt
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from server.config import Settings
from server.state import open_state
from tests.server.register_world import pupil, school, upn

pytestmark = pytest.mark.slow
PUPILS = 400
CODES = ["/", "/", "/", "\\", "/", "I", "N", "/", "L", "M", "/", "O", "#", "/", "G", "/"]


def _authority(db_path: str) -> None:
    st = open_state(Settings(db_path=db_path))
    s = school(st)
    for n in range(1, PUPILS + 1):
        pupil(st, s, n)
    st.db.close()


def _marks_file(path: Path, school_days: int) -> int:
    """Every pupil, every weekday from 2025-09-01, AM and PM, ordered by date then pupil."""
    rows = 0
    day = dt.date(2025, 9, 1)
    with open(path, "w") as f:
        f.write("upn,date,session,code\n")
        done = 0
        while done < school_days:
            if day.weekday() < 5:
                for n in range(1, PUPILS + 1):
                    for s, session in enumerate(("AM", "PM")):
                        f.write(f"{upn(n)},{day.isoformat()},{session},{CODES[(n * 7 + done * 3 + s) % len(CODES)]}\n")
                        rows += 1
                done += 1
            day += dt.timedelta(days=1)
    return rows


def _import(db_path: str, csv_path: Path) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "server.cli", "--db", db_path, "marks", "import", str(csv_path),
                             "--extracted-at", "2026-07-31T18:00:00Z"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _peak_rss_mb(db_path: str, csv_path: Path) -> float:
    probe = ("import resource, subprocess, sys; r = subprocess.run(sys.argv[1:], capture_output=True); "
             "assert r.returncode == 0, r.stderr; print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    out = subprocess.run([sys.executable, "-c", probe, sys.executable, "-m", "server.cli", "--db", db_path,
                          "marks", "import", str(csv_path)], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    return int(out.stdout.strip()) / 1024


def test_memory_stays_flat_as_the_file_grows(tmp_path):
    small_db, large_db = str(tmp_path / "small.db"), str(tmp_path / "large.db")
    _authority(small_db)
    _authority(large_db)
    small = _marks_file(tmp_path / "small.csv", 10)  # 8,000 marks
    large = _marks_file(tmp_path / "large.csv", 190)  # 152,000 marks: a whole year
    small_mb, large_mb = _peak_rss_mb(small_db, tmp_path / "small.csv"), _peak_rss_mb(large_db, tmp_path / "large.csv")
    # 19x the rows: the peak may not grow by more than a few slices' worth
    assert large_mb - small_mb < 25, (small, small_mb, large, large_mb)
    n = sqlite3.connect(large_db).execute("SELECT count(*) FROM register_marks").fetchone()[0]
    assert n == large


def _consistent(db_path: str) -> None:
    """Marks, weekly counts and figures agree (whatever moment the import stopped at)."""
    conn = sqlite3.connect(db_path)
    weekly = conn.execute(
        "SELECT pupil_pk, year, sum(present + approved + authorised + unauthorised), sum(unauthorised) "
        "FROM pupil_weeks GROUP BY pupil_pk, year ORDER BY 1, 2").fetchall()
    yearly = conn.execute("SELECT pupil_pk, year, possible, unauthorised FROM figures WHERE possible > 0 "
                          "ORDER BY 1, 2").fetchall()
    assert weekly == yearly
    counted = conn.execute(
        "SELECT count(*) FROM register_marks WHERE code NOT IN ('#', 'D', 'X', 'Q', 'Z', 'Y1', 'Y2', 'Y3', "
        "'Y4', 'Y5', 'Y6', 'Y7')").fetchone()[0]
    assert counted == sum(r[2] for r in yearly)
    conn.close()


def test_sigkill_mid_import_then_the_same_import_completes(tmp_path):
    db_path = str(tmp_path / "d.db")
    _authority(db_path)
    csv_path = tmp_path / "marks.csv"
    rows = _marks_file(csv_path, 120)  # 96,000 marks: 240 a pupil, written a run of pupils at a time
    proc = _import(db_path, csv_path)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=1)
            stored = conn.execute("SELECT count(*) FROM register_marks").fetchone()[0]
            conn.close()
        except sqlite3.OperationalError:
            stored = 0
        if stored > rows // 4:
            break
        time.sleep(0.05)
    assert proc.poll() is None, "the import finished before it could be killed: make the file larger"
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=30)
    stored = sqlite3.connect(db_path).execute("SELECT count(*) FROM register_marks").fetchone()[0]
    assert 0 < stored < rows
    _consistent(db_path)
    again = _import(db_path, csv_path)
    out, err = again.communicate(timeout=300)
    assert again.returncode == 0, err
    conn = sqlite3.connect(db_path)
    assert conn.execute("SELECT count(*) FROM register_marks").fetchone()[0] == rows
    assert conn.execute("SELECT status FROM imports WHERE kind = 'marks'").fetchall() == [("done",)]
    conn.close()
    _consistent(db_path)
    # the report is the whole import's, across both runs
    assert f"stored {rows} rows (0 unchanged, 0 rejected" in out, out


def test_an_import_started_for_a_server_ends_with_that_server(tmp_path):
    """The office's import job starts ``marks import --parent-pid <server>``: when the server
    process dies (here a shell standing in for it is SIGKILLed), the import dies with it, so a
    restarted server's job never races a leftover import; a parent already gone stops it at once."""
    db_path = str(tmp_path / "d.db")
    _authority(db_path)
    csv_path = tmp_path / "marks.csv"
    rows = _marks_file(csv_path, 120)
    cli = f"{sys.executable} -m server.cli --db {db_path} marks import {csv_path}"
    parent = subprocess.Popen(["sh", "-c", f"{cli} --parent-pid $$ & echo $!; wait"], stdout=subprocess.PIPE,
                              text=True)
    child = int(parent.stdout.readline())
    time.sleep(1.0)
    assert os.path.exists(f"/proc/{child}"), "the import ended before its parent was killed"
    os.kill(parent.pid, signal.SIGKILL)
    parent.wait(timeout=10)
    parent.stdout.close()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and os.path.exists(f"/proc/{child}") and not _zombie(child):
        time.sleep(0.05)
    assert not os.path.exists(f"/proc/{child}") or _zombie(child), "the import outlived its server"
    conn = sqlite3.connect(db_path)
    stored = conn.execute("SELECT count(*) FROM register_marks").fetchone()[0]
    conn.close()
    assert stored < rows
    gone = subprocess.run(cli.split() + ["--parent-pid", "1"], capture_output=True, text=True, timeout=60)
    assert gone.returncode == 1


def _zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[1].startswith("Z")
    except FileNotFoundError:
        return True
