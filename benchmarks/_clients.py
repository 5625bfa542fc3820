"""The benchmarks' sync clients: signing in, pushing and pulling with timings, and running
several clients at once.

Every loop is bounded by a count; every wait by a timeout.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import orjson

from _workload import BATCH, PAGE, PASSWORD, SYNC


@dataclass
class SignedIn:
    username: str
    token: str
    device_id: str
    user_id: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json", **SYNC}


def login(url: str, username: str) -> SignedIn:
    r = httpx.post(f"{url}/api/auth/login", json={"username": username, "password": PASSWORD,
                                                  "device_name": "bench"}, timeout=30)
    r.raise_for_status()
    body = r.json()
    return SignedIn(username, body["access_token"], body["device_id"], body["user"]["id"])


@dataclass
class Run:
    """The outcome of one timed load: items, wall seconds, per-request latencies."""

    items: int
    seconds: float
    latencies: list[float]
    server_ms: float = 0.0  # the sum of the answers' Server-Timing (time inside the handler)
    server_cpu: float = 0.0  # CPU seconds the server processes used meanwhile
    distinct: int = 0  # distinct (type, id) among the items

    @property
    def rate(self) -> float:
        return self.items / self.seconds


def run_concurrently(jobs: list[Callable[[], tuple[int, list[float]]]]) -> Run:
    """Start every job in its own thread at once; the run lasts until the last ends."""
    results: list[tuple[int, list[float]] | BaseException] = [(0, [])] * len(jobs)
    barrier = threading.Barrier(len(jobs) + 1)

    def runner(k: int) -> None:
        barrier.wait()
        try:
            results[k] = jobs[k]()
        except BaseException as exc:
            results[k] = exc

    threads = [threading.Thread(target=runner, args=(k,)) for k in range(len(jobs))]
    for t in threads:
        t.start()
    barrier.wait()
    start = time.perf_counter()
    for t in threads:
        t.join(timeout=900)
    elapsed = time.perf_counter() - start
    items, latencies = 0, []
    for res in results:
        if isinstance(res, BaseException):
            raise res
        items += res[0]
        latencies += res[1]
    return Run(items, elapsed, latencies)


def push_bodies(changes: list[dict[str, Any]], device_id: str, batch: int = BATCH) -> list[bytes]:
    return [orjson.dumps({"client_id": device_id, "changes": changes[lo:lo + batch]})
            for lo in range(0, len(changes), batch)]


def push_job(url: str, who: SignedIn, bodies: list[bytes], check: bool = True
             ) -> Callable[[], tuple[int, list[float]]]:
    def job() -> tuple[int, list[float]]:
        latencies, items = [], 0
        with httpx.Client(base_url=url, timeout=120, headers=who.headers) as client:
            for body in bodies:
                t0 = time.perf_counter()
                r = client.post("/api/sync/push", content=body)
                latencies.append(time.perf_counter() - t0)
                if r.status_code != 200:
                    raise RuntimeError(f"push answered {r.status_code}: {r.text[:300]}")
                results = orjson.loads(r.content)["results"]
                if check:
                    bad = [x for x in results if x["status"] != "applied"]
                    if bad:
                        raise RuntimeError(f"push not applied: {bad[0]}")
                items += len(results)
        return items, latencies
    return job


def pull_all(url: str, who: SignedIn, limit: int | None = PAGE, cursor: str | None = None,
             max_pages: int = 10_000) -> tuple[Run, str | None]:
    """Follow has_more from ``cursor``; returns the timed run and the last cursor."""
    latencies, items, timings, pages = [], 0, [], []
    with httpx.Client(base_url=url, timeout=120, headers=who.headers) as client:
        start = time.perf_counter()
        for _ in range(max_pages):
            params = {"limit": str(limit)} if limit else {}
            if cursor:
                params["cursor"] = cursor
            t0 = time.perf_counter()
            r = client.get("/api/sync/pull", params=params)
            latencies.append(time.perf_counter() - t0)
            if r.status_code != 200:
                raise RuntimeError(f"pull answered {r.status_code}: {r.text[:300]}")
            body = orjson.loads(r.content)
            items += len(body["changes"])
            timings.append(r.headers.get("server-timing", ""))
            pages.append(body["changes"])
            cursor = body["cursor"]
            if not body["has_more"]:
                break
        elapsed = time.perf_counter() - start
    # the benchmark's own checks, after the clock: the peer's loop (peer_compare.py) does as much
    # inside it as this one (parse each page, count, follow the cursor)
    keys = {(c["type"], c["id"]) for page in pages for c in page}
    server_ms = sum(server_timing(t) for t in timings)
    return Run(items, elapsed, latencies, server_ms=server_ms, distinct=len(keys)), cursor


def server_timing(header: str) -> float:
    """Milliseconds from a ``Server-Timing: app;dur=…`` header (0 when absent)."""
    for part in header.split(";"):
        if part.strip().startswith("dur="):
            try:
                return float(part.strip()[4:])
            except ValueError:
                return 0.0
    return 0.0
