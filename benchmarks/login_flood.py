"""Officers' pull latency with and without a flood of sign-ins with random usernames.

    python benchmarks/login_flood.py                  # 60 s a phase, 32 flooding threads
    python benchmarks/login_flood.py --seconds 20 --threads 32

A real ``doorstep serve`` (one worker, production argon2: 46 MiB, one pass) on the demo
local authority. Four officers, signed in before anything starts, pull in turn from their
latest cursor (what a phone's "sync now" does) as fast as one client can, for each phase:

1. quiet: no flood;
2. flood: ``--threads`` threads sign in with random usernames and wrong passwords, from the
   same address, as fast as they can (the throttle as shipped: 300 failures an address);
3. flood, address limit off (``DOORSTEP_SIGNIN_ADDRESS_LIMIT`` = 10^9): every attempt is a new
   username, so every one hashes, as before the throttle.

Reported per phase: pull p50 / p95 / max (ms), pulls done, sign-in answers by status, argon2
hashes computed (the server's own ``doorstep_password_hashes_total``), and the server's peak
resident memory. The throttled flood is reported in two parts: while the address's budget of
failures is being spent (each attempt hashes, at most two at once), and once the address is
refused (429 before any hash). Results: docs/performance.md, "Sign-in floods".
"""
from __future__ import annotations

import argparse
import collections
import multiprocessing
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Event
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks._common import machine, percentile  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SYNC = {"Doorstep-Protocol": "1"}
OFFICERS = [("officer1", "doorstep-officer1"), ("officer2", "doorstep-officer2"),
            ("officer3", "doorstep-officer3"), ("officer4", "doorstep-officer4")]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def hashes(metrics_port: int) -> float:
    for line in httpx.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=10).text.splitlines():
        if line.startswith("doorstep_password_hashes_total "):
            return float(line.split()[1])
    return 0.0


def cli(db: str, *args: str, env: dict[str, str]) -> None:
    subprocess.run([sys.executable, "-m", "server.cli", "--db", db, *args], cwd=ROOT, env=env, check=True,
                   capture_output=True, timeout=600)


def flood(url: str, threads: int, stop: Event, refused: Event, results: Queue) -> None:
    """In a process of its own (its own GIL: the officers' client is not slowed by it): ``threads``
    threads signing in with random usernames until ``stop``; the answers by status to ``results``."""
    answers: collections.Counter[int] = collections.Counter()
    lock = threading.Lock()

    def one() -> None:
        with httpx.Client(base_url=url, timeout=60) as http:
            while not stop.is_set():
                try:
                    r = http.post("/api/auth/login", json={"username": "x" + uuid.uuid4().hex[:12],
                                                           "password": "not-a-password", "device_name": "f"})
                    status = r.status_code
                except httpx.HTTPError:
                    status = 0
                with lock:
                    answers[status] += 1
                if status == 429:
                    refused.set()

    workers = [threading.Thread(target=one, daemon=True) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=180)
    results.put(dict(answers))


def summary(latencies: list[float]) -> dict[str, float]:
    if not latencies:
        return {"pulls": 0, "p50": float("nan"), "p95": float("nan"), "max": float("nan")}
    return {"pulls": len(latencies), "p50": percentile(latencies, 50), "p95": percentile(latencies, 95),
            "max": max(latencies)}


def phase(db: str, env: dict[str, str], seconds: float, threads: int) -> list[dict[str, object]]:
    port, metrics_port = free_port(), free_port()
    proc = subprocess.Popen([sys.executable, "-m", "server.cli", "--db", db, "serve", "--port", str(port)],
                            cwd=ROOT, env={**env, "DOORSTEP_METRICS_PORT": str(metrics_port)},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/api/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        officers = []
        with httpx.Client(base_url=url, timeout=60) as http:
            for username, password in OFFICERS:
                r = http.post("/api/auth/login", json={"username": username, "password": password,
                                                       "device_name": "bench"})
                r.raise_for_status()
                headers = {"Authorization": f"Bearer {r.json()['access_token']}", **SYNC}
                cursor = None
                while True:  # to the end of the officer's caseload: later pulls are the usual kind
                    body = http.get("/api/sync/pull", headers=headers, params={"cursor": cursor or ""}).json()
                    cursor = body["cursor"]
                    if not body["has_more"]:
                        break
                officers.append((headers, cursor))
        start_hashes = hashes(metrics_port)
        ctx = multiprocessing.get_context("fork")
        stop, refused, results = ctx.Event(), ctx.Event(), ctx.Queue()
        flooder = ctx.Process(target=flood, args=(url, threads, stop, refused, results), daemon=True)
        if threads:
            flooder.start()
        latencies: tuple[list[float], list[float]] = ([], [])  # before and after the first 429
        peak = rss_mb(proc.pid)
        with httpx.Client(base_url=url, timeout=120) as http:
            end = time.monotonic() + seconds
            k = 0
            while time.monotonic() < end:
                headers, cursor = officers[k % len(officers)]
                after = refused.is_set()
                t0 = time.perf_counter()
                r = http.get("/api/sync/pull", headers=headers, params={"cursor": cursor})
                latencies[after].append((time.perf_counter() - t0) * 1000)
                r.raise_for_status()
                k += 1
                peak = max(peak, rss_mb(proc.pid))
        stop.set()
        answers: dict[int, int] = {}
        if threads:
            answers = results.get(timeout=180)
            flooder.join(timeout=30)
        common = {"answers": dict(sorted(answers.items())), "hashes": hashes(metrics_port) - start_hashes,
                  "peak_rss_mb": peak}
        return [{**summary(part), "part": k, **common} for k, part in enumerate(latencies) if part]
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--seconds", type=float, default=60.0)
    p.add_argument("--threads", type=int, default=32)
    args = p.parse_args()
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOORSTEP_")}  # production settings
    with tempfile.TemporaryDirectory(prefix="login-flood-") as tmp:
        db = str(Path(tmp) / "flood.db")
        cli(db, "init", env=env)
        cli(db, "fixtures", "load", env=env)
        print(f"machine: {machine()}")
        print(f"{args.threads} flooding threads, {args.seconds:g} s a phase\n")
        print("| phase | pulls | pull p50 ms | p95 ms | max ms | sign-in answers | hashes | peak RSS MB |")
        print("| --- | --- | --- | --- | --- | --- | --- | --- |")
        phases = [("quiet", 0, {}), ("flood, throttled", args.threads, {}),
                  ("flood, address limit off", args.threads, {"DOORSTEP_SIGNIN_ADDRESS_LIMIT": "1000000000"})]
        for name, threads, extra in phases:
            parts = phase(db, {**env, **extra}, args.seconds, threads)
            for r in parts:
                label = name if len(parts) == 1 else f"{name}: {('budget being spent', 'address refused')[r['part']]}"  # type: ignore[index]
                answers = ", ".join(f"{s}: {n}" for s, n in r["answers"].items()) or "-"  # type: ignore[union-attr]
                print(f"| {label} | {r['pulls']} | {r['p50']:.1f} | {r['p95']:.1f} | {r['max']:.1f} | {answers} "
                      f"| {r['hashes']:.0f} | {r['peak_rss_mb']:.0f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
