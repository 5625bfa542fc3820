"""Shared pieces of the sync benchmarks: the workload, a seeded database, a server, clients.

Everything runs on 127.0.0.1. Every loop is bounded by a count; every wait by a timeout.
"""
from __future__ import annotations

import math
import os
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PASSWORD = "bench-password-1"
SYNC = {"Doorstep-Protocol": "1", "Accept-Encoding": "identity"}  # measure uncompressed: httpx asks for gzip
BATCH = 500
PAGE = 1000


# -- the workload ---------------------------------------------------------------

def visit_fields(n: int, case_id: str, household_id: str) -> dict[str, Any]:
    """A visit of about ten short fields (with id, type and HLC ~370 bytes of JSON)."""
    return {"case_id": case_id, "household_id": household_id, "started_at": "2026-11-23T09:10:00Z",
            "lat": 53.6833 + (n % 100) / 10_000, "lon": -1.4977, "outcome": "no_answer",
            "child_seen": False, "notes": f"Card left, call back {n % 7}", "status": "draft"}


def hlc(ms: int, counter: int, node: str) -> str:
    return f"{ms:015d}-{counter:06d}-{node}"


def visit_changes(count: int, cases: Sequence[tuple[str, str]], node: str) -> list[dict[str, Any]]:
    """``count`` new-visit changes spread over ``cases`` ((case_id, household_id) pairs)."""
    ms = int(time.time() * 1000) - 60_000
    out = []
    for n in range(count):
        case_id, household_id = cases[n % len(cases)]
        out.append({"change_id": str(uuid.uuid4()), "type": "visit", "id": str(uuid.uuid4()), "op": "put",
                    "fields": visit_fields(n, case_id, household_id), "base_version": None,
                    "hlc": hlc(ms + n // 1000, n % 1000, node)})
    return out


def as_doc(change: dict[str, Any]) -> dict[str, Any]:
    """The same visit as one document (raw SQLite rows, pouchdb docs): id, type, fields, HLC."""
    return {"id": change["id"], "type": "visit", **change["fields"], "hlc": change["hlc"]}


# -- figures --------------------------------------------------------------------

def percentile(values: Sequence[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, math.ceil(p / 100 * len(ordered)) - 1))
    return ordered[k]


@dataclass
class Figure:
    """One measured quantity over several runs."""

    name: str
    unit: str
    values: list[float] = field(default_factory=list)

    def add(self, v: float) -> None:
        self.values.append(v)

    @property
    def median(self) -> float:
        return statistics.median(self.values) if self.values else float("nan")

    def line(self) -> str:
        if not self.values:
            return f"| {self.name} | – | – | {self.unit} |"
        lo, hi = min(self.values), max(self.values)
        return f"| {self.name} | {fmt(self.median)} | {fmt(lo)} – {fmt(hi)} | {self.unit} |"


def fmt(v: float) -> str:
    if math.isnan(v):
        return "nan"
    if abs(v) >= 100:
        return f"{v:,.0f}"
    if abs(v) >= 10:
        return f"{v:.1f}"
    return f"{v:.2f}"


def table(figures: Sequence[Figure], runs: int) -> str:
    lines = [f"| figure | median of {runs} | min – max | unit |", "| --- | --- | --- | --- |"]
    return "\n".join(lines + [f.line() for f in figures])


def machine() -> str:
    cpu = "unknown cpu"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (f"{os.cpu_count()} cpu ({cpu}), {mem:.0f} GiB, Python {sys.version.split()[0]}, "
            f"SQLite {sqlite3.sqlite_version}")


# -- the physical limit -------------------------------------------------------

def raw_insert_rate(docs: Sequence[dict[str, Any]], workdir: Path, batch: int = BATCH) -> float:
    """Rows/s of plain executemany INSERTs, ``batch`` a transaction, WAL, synchronous=NORMAL."""
    path = workdir / f"raw-{uuid.uuid4().hex[:8]}.db"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("CREATE TABLE visits (id TEXT PRIMARY KEY, seq INTEGER NOT NULL, data TEXT NOT NULL)")
    conn.execute("CREATE INDEX visits_seq ON visits(seq)")
    start = time.perf_counter()
    for lo in range(0, len(docs), batch):
        rows = [(d["id"], lo + i, orjson.dumps(d).decode()) for i, d in enumerate(docs[lo:lo + batch])]
        conn.execute("BEGIN")
        conn.executemany("INSERT INTO visits (id, seq, data) VALUES (?, ?, ?)", rows)
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - start
    conn.close()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return len(docs) / elapsed


# -- a seeded Doorstep database -----------------------------------------------

@dataclass
class Seed:
    """What the seeded database holds: who pushes into which cases, who has a big scope."""

    path: str
    officers: list[str]  # usernames of the pushing officers
    cases: dict[str, list[tuple[str, str]]]  # username -> [(case_id, household_id)]
    office: str = "bench-office"
    scope_officer: str = "bench-scope"
    scope_records: int = 0


def seed_database(path: str, officers: int = 16, cases_per_officer: int = 10,
                  scope_records: int = 2000) -> Seed:
    """A database with an office user, ``officers`` officers with open cases, and one
    officer (``bench-scope``) whose scope holds exactly ``scope_records`` records.

    Seeded by the code of the checkout that serves it (``SERVER_ROOT``: with
    ``--server-root`` another version's layout, in a child process)."""
    if SERVER_ROOT[0].resolve() == ROOT.resolve():
        return _seed_here(path, officers, cases_per_officer, scope_records)
    script = (f"import sys; sys.path.insert(0, {str(Path(__file__).resolve().parent)!r}); import _common, orjson; "
              f"sys.path.insert(0, {str(SERVER_ROOT[0])!r}); "
              f"s = _common._seed_here({path!r}, {officers}, {cases_per_officer}, {scope_records}); "
              "print(orjson.dumps(s.__dict__).decode())")
    out = subprocess.run([sys.executable, "-c", script], cwd=SERVER_ROOT[0], check=True, capture_output=True,
                         timeout=1800, env={**os.environ, "PYTHONPATH": str(SERVER_ROOT[0])})
    data = orjson.loads(out.stdout.splitlines()[-1])
    data["cases"] = {k: [tuple(pair) for pair in v] for k, v in data["cases"].items()}
    return Seed(**data)


def _seed_here(path: str, officers: int, cases_per_officer: int, scope_records: int) -> Seed:
    try:
        from server.identity.accounts import add_user
    except ImportError:  # a checkout before server/identity/ (2026-12-05)
        from server.accounts import add_user  # type: ignore[no-redef]
    from server.config import Settings
    from server.state import open_state
    from sync import Actor
    from sync.push import push

    st = open_state(Settings(db_path=path))
    office = add_user(st.db, "bench-office", PASSWORD, "office")
    actor = Actor(office.id, "office", None)
    node = "seed"
    counter = [0]

    def change(type_: str, fields: dict[str, Any], id_: str | None = None) -> dict[str, Any]:
        counter[0] += 1
        return {"change_id": str(uuid.uuid4()), "type": type_, "id": id_ or str(uuid.uuid4()), "op": "put",
                "fields": fields, "base_version": None,
                "hlc": hlc(int(time.time() * 1000) - 3_600_000, counter[0] % 1_000_000, node)}

    pending: list[dict[str, Any]] = []

    def flush() -> None:
        for lo in range(0, len(pending), BATCH):
            out = push(st.db, actor, pending[lo:lo + BATCH], st.clock)
            bad = [r for r in out.results if r.status not in ("applied", "merged")]
            if bad:
                raise RuntimeError(f"seeding failed: {bad[0]}")
        pending.clear()

    schools = [str(uuid.uuid4()) for _ in range(4)]
    pending += [change("school", {"name": f"Bench School {i}", "lat": 53.68, "lon": -1.49,
                                  "day_starts": "08:45"}, s) for i, s in enumerate(schools)]

    def open_case(officer_id: str, n: int) -> tuple[str, str]:
        hh, pupil, case = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
        pending.append(change("household", {"address": f"{n} Bench Street", "postcode": "WF1 1AA",
                                            "lat": 53.68, "lon": -1.49}, hh))
        pending.append(change("pupil", {"upn": f"B{n:012d}", "first_name": "Sam", "last_name": f"Bench{n}",
                                        "school_id": schools[n % 4], "household_id": hh}, pupil))
        pending.append(change("case", {"pupil_id": pupil, "assigned_officer_id": officer_id}, case))
        return case, hh

    seed = Seed(path, [], {})
    n = 0
    for i in range(officers):
        username = f"bench-officer{i + 1}"
        user = add_user(st.db, username, PASSWORD, "officer")
        seed.officers.append(username)
        seed.cases[username] = []
        for _ in range(cases_per_officer):
            n += 1
            seed.cases[username].append(open_case(user.id, n))
    flush()
    if scope_records:
        # 4 schools + 100 cases with pupil and household + visits up to the total
        scoped = add_user(st.db, seed.scope_officer, PASSWORD, "officer")
        mine = []
        for _ in range(100):
            n += 1
            mine.append(open_case(scoped.id, n))
        visits = scope_records - len(schools) - 3 * len(mine)
        for k in range(visits):
            case_id, hh = mine[k % len(mine)]
            pending.append(change("visit", visit_fields(k, case_id, hh)))
        flush()
        seed.scope_records = scope_records
    st.db.close()
    return seed


def copy_db(src: str, dst: str) -> str:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{dst}{suffix}").unlink(missing_ok=True)
    conn = sqlite3.connect(src)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    shutil.copyfile(src, dst)
    return dst


def remove_db(path: str) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


# -- processes ----------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Process:
    """A server started by us, stopped by its PID (its process group)."""

    def __init__(self, argv: list[str], health_url: str, log_path: str, env: dict[str, str] | None = None,
                 cwd: Path | str = ROOT) -> None:
        self.argv, self.health_url, self.log_path = argv, health_url, log_path
        self.env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
        self.cwd = cwd
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60.0) -> Process:
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(self.argv, cwd=self.cwd, env=self.env, stdout=log,
                                         stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.argv[0]} exited with {self.proc.returncode}: "
                                   + Path(self.log_path).read_text(errors="replace")[-2000:])
            try:
                if httpx.get(self.health_url, timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"{self.health_url} did not answer in {timeout} s")

    def cpu_seconds(self) -> float:
        """User + system CPU of every live process in the server's process group."""
        if self.proc is None:
            return 0.0
        tick = os.sysconf("SC_CLK_TCK")
        total = 0
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == self.proc.pid:  # pgrp
                total += int(fields[11]) + int(fields[12])  # utime, stime
        return total / tick

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)  # the group we started: uvicorn and its workers
        except ProcessLookupError:
            return
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def __enter__(self) -> Process:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


SERVER_ROOT = [ROOT]  # the checkout whose server runs (``--server-root``: measure another version)


def doorstep_server(db: str, workers: int = 1, port: int | None = None,
                    env: dict[str, str] | None = None) -> Process:
    port = port or free_port()
    argv = [sys.executable, "-m", "server.cli", "--db", db, "serve", "--host", "127.0.0.1",
            "--port", str(port), "--workers", str(workers)]
    proc = Process(argv, f"http://127.0.0.1:{port}/api/health", f"{db}.server.log",
                   {"PYTHONPATH": str(SERVER_ROOT[0]), **(env or {})}, cwd=SERVER_ROOT[0])
    proc.url = f"http://127.0.0.1:{port}"  # type: ignore[attr-defined]
    return proc


# -- clients --------------------------------------------------------------------

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


# -- one Doorstep round -------------------------------------------------------

def workload(seed: Seed, records: int, clients: int) -> list[list[dict[str, Any]]]:
    """``records`` new visits split over ``clients`` officers, each into their own cases."""
    per = [records // clients + (1 if k < records % clients else 0) for k in range(clients)]
    return [visit_changes(per[k], seed.cases[seed.officers[k]], f"bench{k}") for k in range(clients)]


def doorstep_round(seed: Seed, work: Path, load: list[list[dict[str, Any]]], workers: int = 1,
                   pull: bool = True, initial_sync: bool = True, batch: int = BATCH) -> dict[str, Any]:
    """Fresh copy of the seeded database, fresh server; push ``load`` (one list per client,
    all at once, ``batch`` changes a request), then optionally pull everything as the office
    and run the scope officer's initial sync. Returns the runs by name."""
    clients = len(load)
    records = sum(len(part) for part in load)
    db = copy_db(seed.path, str(work / f"round-{workers}-{clients}-{uuid.uuid4().hex[:6]}.db"))
    out: dict[str, Any] = {}
    try:
        with doorstep_server(db, workers=workers) as server:
            url = server.url  # type: ignore[attr-defined]
            who = [login(url, seed.officers[k]) for k in range(clients)]
            jobs = [push_job(url, who[k], push_bodies(load[k], who[k].device_id, batch)) for k in range(clients)]
            cpu = server.cpu_seconds()
            out["push"] = run_concurrently(jobs)
            out["push"].server_cpu = server.cpu_seconds() - cpu
            if out["push"].items != records:
                raise RuntimeError(f"pushed {out['push'].items} of {records}")
            if pull:
                got, _ = pull_all(url, login(url, seed.office), PAGE)
                if got.distinct < records:
                    raise RuntimeError(f"pulled {got.distinct} distinct records, pushed {records}")
                out["pull"] = got
            if initial_sync and seed.scope_records:
                sync, _ = pull_all(url, login(url, seed.scope_officer), limit=None)
                if sync.distinct != seed.scope_records:
                    raise RuntimeError(f"initial sync gave {sync.distinct} of {seed.scope_records}")
                out["initial_sync"] = sync
    finally:
        remove_db(db)
    return out
