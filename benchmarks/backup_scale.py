"""Backup at scale: how long ``doorstep backup`` takes on a large database while officers push,
and what it does to their push latency (docs/performance.md, "Backup at scale").

    .venv/bin/python benchmarks/backup_scale.py --size-gb 11 --workdir /work/bench

1. Builds a database: the sync benchmark's seeded users and cases (``_common.seed_database``)
   plus a ballast table of 1,900-byte rows (two a page) with a random-key index (like the
   entity tables' UUID keys), grown in large transactions to ``--size-gb``. The rows are
   zero-filled blobs: SQLite stores bytes as they are (nothing here compresses), so a page
   of zeros costs the backup, the check and the hash what a page of records does, and the
   build is bound by the disk rather than by generating random bytes on a shared CPU.
2. Starts ``doorstep serve`` on it; ``--officers`` officers each push a batch of
   ``--batch`` new visits, pause ``--pause`` s, and again, the whole time.
3. Measures, one after the other: the pushes alone (a baseline, taken again at the end);
   ``doorstep backup`` (SQLite's online backup in one step); ``doorstep backup --method
   vacuum`` (``VACUUM INTO``); and a stepwise backup (``pages=--step-pages`` a step) in this
   process, which restarts whenever the server writes, stopped after ``--step-timeout`` s.

The backup and the database must both fit: it refuses unless twice the size (and a margin)
fits in the free space of ``--workdir`` and under ``--max-disk-gb``. Everything it made is
removed at the end.
"""
from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import orjson

import _common as c

ROW_BYTES = 1900  # two rows a 4 KiB page
ROWS_PER_TXN = 100_000  # ~200 MB a transaction


def build(path: str, size_gb: float) -> dict[str, Any]:
    started = time.monotonic()
    seed = c.seed_database(path, officers=4, cases_per_officer=10, scope_records=0)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = DELETE")  # the build alone: no WAL to write twice
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("PRAGMA cache_size = -1000000")
    conn.execute("CREATE TABLE IF NOT EXISTS bench_ballast (id INTEGER PRIMARY KEY, k TEXT NOT NULL, body BLOB)")
    conn.execute("CREATE INDEX IF NOT EXISTS bench_ballast_k ON bench_ballast(k)")
    target = size_gb * 2**30
    while Path(path).stat().st_size < target:
        conn.execute("BEGIN")
        conn.execute("WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n LIMIT ?) "
                     "INSERT INTO bench_ballast (k, body) SELECT hex(randomblob(8)), zeroblob(?) FROM n",
                     (ROWS_PER_TXN, ROW_BYTES))
        conn.execute("COMMIT")
        print(f"  {Path(path).stat().st_size / 2**30:.1f} GiB", end="\r", flush=True)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.close()
    print()
    return {"seed": seed, "seconds": time.monotonic() - started, "bytes": Path(path).stat().st_size}


class Officers:
    """``count`` officers pushing batches of new visits until stopped; (start time, latency) each."""

    def __init__(self, url: str, seed: c.Seed, count: int, batch: int, pause: float) -> None:
        self.url, self.seed, self.batch, self.pause = url, seed, batch, pause
        self.users = seed.officers[:count]
        self.samples: list[tuple[float, float]] = []
        self.errors: list[str] = []
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._run, args=(u,), daemon=True) for u in self.users]

    def _run(self, username: str) -> None:
        who = c.login(self.url, username)
        with httpx.Client(timeout=120) as http:
            for _ in range(10_000_000):
                if self.stop.is_set():
                    return
                body = orjson.dumps({"client_id": who.device_id,
                                     "changes": c.visit_changes(self.batch, self.seed.cases[username], who.device_id)})
                t0 = time.monotonic()
                r = http.post(f"{self.url}/api/sync/push", content=body, headers=who.headers)
                self.samples.append((t0, time.monotonic() - t0))
                if r.status_code != 200:
                    self.errors.append(f"{r.status_code} {r.text[:200]}")
                time.sleep(self.pause)

    def __enter__(self) -> Officers:
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(180)

    def between(self, t0: float, t1: float) -> list[float]:
        return [lat * 1000 for start, lat in list(self.samples) if t0 <= start < t1]


def pushes(values: list[float]) -> str:
    if not values:
        return "no pushes"
    return f"{len(values)} pushes, p50 {c.fmt(c.percentile(values, 50))} ms, p99 {c.fmt(c.percentile(values, 99))} ms"


def cli_backup(db: str, dest: str, method: str, officers: Officers) -> dict[str, Any]:
    t0 = time.monotonic()
    r = subprocess.run([sys.executable, "-m", "server.cli", "--db", db, "backup", dest, "--method", method],
                       cwd=c.ROOT, capture_output=True, text=True, timeout=7200)
    t1 = time.monotonic()
    if r.returncode != 0:
        raise RuntimeError(r.stderr)
    manifest = orjson.loads(Path(dest + ".manifest.json").read_bytes())
    copy_s = manifest["seconds"]["copy"]
    start = t1 - manifest["seconds"]["total"]  # the command's own start, after Python started
    check_s = manifest["seconds"].get("check", 0.0)
    out = {"method": method, "wall": t1 - t0, "copy": copy_s, "check": check_s,
           "hash": manifest["seconds"]["total"] - copy_s - check_s,
           "bytes": manifest["size_bytes"], "during_copy": officers.between(start, start + copy_s),
           "during_check": officers.between(start + copy_s, t1)}
    for suffix in ("", ".manifest.json"):
        Path(dest + suffix).unlink()
    return out


def stepwise(db: str, dest: str, pages: int, timeout: float) -> dict[str, Any]:
    """A stepwise backup in this process: the steps, the restarts (remaining pages going up
    again after another process wrote), and whether it finished before ``timeout``."""
    src = sqlite3.connect(db, isolation_level=None)
    dst = sqlite3.connect(dest, isolation_level=None)
    seen = {"steps": 0, "restarts": 0, "last": None, "done": False}
    deadline = time.monotonic() + timeout

    def progress(status: int, remaining: int, total: int) -> None:
        seen["steps"] += 1
        if seen["last"] is not None and remaining > seen["last"]:
            seen["restarts"] += 1
        seen["last"] = remaining
        if time.monotonic() > deadline:
            raise TimeoutError

    t0 = time.monotonic()
    try:
        src.backup(dst, pages=pages, progress=progress)
        seen["done"] = True
    except TimeoutError:
        pass
    finally:
        src.close()
        dst.close()
        Path(dest).unlink(missing_ok=True)
    return {**seen, "seconds": time.monotonic() - t0}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--size-gb", type=float, default=11.0, help="database size in GiB (default 11)")
    p.add_argument("--workdir", default=None, help="where the files go (default: the system's temporary directory)")
    p.add_argument("--max-disk-gb", type=float, default=25.0, help="refuse to use more than this (default 25)")
    p.add_argument("--officers", type=int, default=4)
    p.add_argument("--batch", type=int, default=20, help="visits a push (default 20)")
    p.add_argument("--pause", type=float, default=0.2, help="seconds between an officer's pushes (default 0.2)")
    p.add_argument("--baseline", type=float, default=60.0,
                   help="seconds of pushes alone, before the backups and after them (default 60)")
    p.add_argument("--step-pages", type=int, default=4096, help="pages a step of the stepwise backup")
    p.add_argument("--step-timeout", type=float, default=120.0)
    p.add_argument("--methods", nargs="+", default=["backup", "vacuum"], choices=["backup", "vacuum"])
    args = p.parse_args()
    work = Path(tempfile.mkdtemp(prefix="doorstep-backup-scale-", dir=args.workdir))
    need = args.size_gb * 2.1 + 1
    free = shutil.disk_usage(work).free / 2**30
    if need > min(free, args.max_disk_gb):
        print(f"refused: needs ~{need:.0f} GiB (the database and one backup), {free:.0f} GiB free, "
              f"limit {args.max_disk_gb:.0f} GiB", file=sys.stderr)
        shutil.rmtree(work)
        return 2
    db, dest = str(work / "doorstep.db"), str(work / "backup.db")
    print(f"machine: {c.machine()}\nbuilding {args.size_gb} GiB in {work} …", flush=True)
    try:
        built = build(db, args.size_gb)
        t0 = time.monotonic()
        os.sync()  # the build's dirty pages written out first, so they do not land in the baseline
        print(f"built {built['bytes'] / 2**30:.2f} GiB in {built['seconds']:.0f} s (+ {time.monotonic() - t0:.0f} s "
              "to sync it to the disk)", flush=True)
        with c.doorstep_server(db) as server, Officers(server.url, built["seed"], args.officers, args.batch,
                                                       args.pause) as officers:
            t0 = time.monotonic()
            time.sleep(args.baseline)
            print(f"baseline ({args.officers} officers, {args.batch} visits a push): "
                  f"{pushes(officers.between(t0, time.monotonic()))}", flush=True)
            for method in args.methods:
                r = cli_backup(db, dest, method, officers)
                rate = r["bytes"] / 2**20 / r["copy"] if r["copy"] else float("nan")
                print(f"{method}: {r['bytes'] / 2**30:.2f} GiB; copy {r['copy']:.0f} s ({rate:.0f} MiB/s), "
                      f"integrity check + row counts {r['check']:.0f} s, sha256 {r['hash']:.0f} s, "
                      f"command {r['wall']:.0f} s\n"
                      f"  during the copy: {pushes(r['during_copy'])}\n"
                      f"  during the check: {pushes(r['during_check'])}", flush=True)
                t0 = time.monotonic()
                time.sleep(10)
                print(f"  after: {pushes(officers.between(t0, time.monotonic()))}", flush=True)
            if args.step_timeout > 0:
                t0 = time.monotonic()
                s = stepwise(db, dest, args.step_pages, args.step_timeout)
                print(f"stepwise ({args.step_pages} pages a step): {'finished' if s['done'] else 'stopped unfinished'} "
                      f"after {s['seconds']:.0f} s, {s['steps']} steps, {s['restarts']} restarts; "
                      f"{pushes(officers.between(t0, time.monotonic()))}", flush=True)
            t0 = time.monotonic()
            time.sleep(args.baseline)
            print(f"baseline again, at the end: {pushes(officers.between(t0, time.monotonic()))}", flush=True)
            if officers.errors:
                print(f"push errors: {len(officers.errors)}, first: {officers.errors[0]}", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
