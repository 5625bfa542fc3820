"""``register_scale.py``'s measurements without a server: the raw insert limit, ``doorstep``
as a child process (wall time, peak RSS from /proc), and the database's bytes on disk."""
from __future__ import annotations

import csv
import datetime as dt
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _common import ROOT

RAW_BATCH = 4_000
CHILD_TIMEOUT_S = 3 * 3600
MB = 1024 * 1024


def raw_import(csv_path: Path, upn_pk: dict[str, int], db_path: Path) -> tuple[int, float]:
    """Rows and seconds: csv.reader, UPN -> key, date -> ordinal, executemany 4,000 a transaction."""
    conn = sqlite3.connect(db_path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("CREATE TABLE register_marks (pupil_pk INTEGER, day INTEGER, session INTEGER, code TEXT, "
                     "import_no INTEGER, PRIMARY KEY (pupil_pk, day, session)) WITHOUT ROWID")
        sql = "INSERT INTO register_marks (pupil_pk, day, session, code, import_no) VALUES (?, ?, ?, ?, ?)"
        days: dict[str, int] = {}
        rows = 0
        start = time.perf_counter()
        with open(csv_path, newline="", encoding="utf-8") as fh:
            reader = csv.reader(fh)
            next(reader)
            batch: list[tuple[int, int, int, str, int]] = []
            for upn, date, session, code in reader:
                day = days.get(date)
                if day is None:
                    day = days[date] = dt.date.fromisoformat(date).toordinal()
                batch.append((upn_pk[upn], day, 0 if session == "AM" else 1, code, 1))
                if len(batch) >= RAW_BATCH:
                    conn.execute("BEGIN")
                    conn.executemany(sql, batch)
                    conn.execute("COMMIT")
                    rows += len(batch)
                    batch = []
            if batch:
                conn.execute("BEGIN")
                conn.executemany(sql, batch)
                conn.execute("COMMIT")
                rows += len(batch)
        return rows, time.perf_counter() - start
    finally:
        conn.close()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db_path}{suffix}").unlink(missing_ok=True)


# -- child processes --------------------------------------------------------------------------

@dataclass
class Child:
    seconds: float
    maxrss_mb: float  # the child's peak resident set (VmHWM), memory-mapped database pages included
    returncode: int
    output: str
    anon_mb: float = float("nan")  # peak RssAnon sampled every 0.1 s: the heap alone, no mapped file
    file_mb: float = float("nan")  # peak RssFile sampled likewise: mostly the database's mmap
    shmem_mb: float = float("nan")  # peak RssShmem sampled likewise (the WAL index)


def _rss(pid: int) -> tuple[int, int, int, int]:
    """(RssAnon, RssFile, RssShmem, VmHWM) of a process in KiB; zeros once it is gone. VmHWM is
    the peak resident set of the process's own memory since its exec; ``ru_maxrss`` is not:
    Linux carries into it the pages the child shared with this (large) parent at fork."""
    got = {"RssAnon:": 0, "RssFile:": 0, "RssShmem:": 0, "VmHWM:": 0}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            name = line.split(" ", 1)[0].split("\t", 1)[0]
            if name in got:
                got[name] = int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return got["RssAnon:"], got["RssFile:"], got["RssShmem:"], got["VmHWM:"]


def doorstep_cli(db: Path, *args: str, env: dict[str, str] | None = None,
                 timeout: float = CHILD_TIMEOUT_S) -> Child:
    """Run ``doorstep --db DB ARGS`` as a child; its wall time and its own peak RSS (VmHWM from
    /proc: ru_maxrss would include the pages it shared with this process at fork)."""
    argv = [sys.executable, "-m", "server.cli", "--db", str(db), *args]
    log = Path(f"{db}.cli-{uuid.uuid4().hex[:6]}.log")
    with open(log, "wb") as out:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
                                env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})})
        got: list[Any] = []
        waiter = threading.Thread(target=lambda: got.append(os.wait4(proc.pid, 0)), daemon=True)
        waiter.start()
        anon = file = shmem = hwm = 0
        deadline = time.monotonic() + timeout
        for _ in range(int(timeout / 0.1) + 1):
            if not waiter.is_alive() or time.monotonic() > deadline:
                break
            a, f, m, h = _rss(proc.pid)
            anon, file, shmem, hwm = max(anon, a), max(file, f), max(shmem, m), max(hwm, h)
            waiter.join(0.1)
        if waiter.is_alive():
            os.killpg(proc.pid, signal.SIGKILL)
            waiter.join(30)
            raise RuntimeError(f"doorstep {' '.join(args)} did not finish in {timeout:.0f} s")
        seconds = time.perf_counter() - start
    _pid, status, usage = got[0]
    proc.returncode = os.waitstatus_to_exitcode(status)
    text = log.read_text(errors="replace")
    log.unlink(missing_ok=True)
    if proc.returncode != 0:
        raise RuntimeError(f"doorstep {' '.join(args)} exited with {proc.returncode}: {text[-2000:]}")
    # the child's own peak (VmHWM, sampled to its last 0.1 s); ru_maxrss only when /proc gave nothing
    peak = hwm if hwm else usage.ru_maxrss
    return Child(seconds, peak / 1024, proc.returncode, text, anon / 1024, file / 1024, shmem / 1024)


def marks_import(db: Path, path: Path) -> Child:
    return doorstep_cli(db, "marks", "import", str(path))


# -- the database on disk ------------------------------------------------------------------------

def disk_use(db: Path) -> dict[str, int]:
    """Bytes by table or index (dbstat), after a checkpoint; '*' is the whole file."""
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        out: dict[str, int] = {}
        try:
            out = {name: size for name, size in conn.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name")}
        except sqlite3.OperationalError:
            pass  # no dbstat in this SQLite: the whole file only
        out["*"] = conn.execute("PRAGMA page_count").fetchone()[0] * conn.execute("PRAGMA page_size").fetchone()[0]
        return out
    finally:
        conn.close()


def read_only(db: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    conn.execute("PRAGMA busy_timeout = 30000")
    return conn
