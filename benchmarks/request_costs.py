"""The fixed costs of a sync request, for one checkout or several alternated in one run
(docs/performance.md, "Sync round eleven"):

- **a push of one change**, what a phone sends after one visit: the server's CPU a request over
  HTTP (a real ``doorstep serve``, one worker), for an officer with 10 and with 80 open cases;
- **the officer's scope** (``sync/scope.py``), worked out on every push and pull page of an
  officer: CPU a call, in process, for caseloads of 10, 80 and 200 cases;
- **a phone's routine pull** (docs/performance.md, "Sync round thirteen"): an officer with 80
  open cases, synced already, pulling from the cursor of the last pull with nothing new: the
  server's CPU a pull;
- **a pull page of 1,000** (docs/performance.md, "Sync round twelve"): the office pulling
  ``--pull-records`` pushed visits ``--pulls`` times after one pull to warm up; the server's CPU
  and the handler's time (its ``Server-Timing``) a record.

    python benchmarks/request_costs.py                                   # this checkout
    python benchmarks/request_costs.py --root /tmp/old --root . --pairs 3  # alternated

Each checkout seeds its own databases and runs its own server and engine (``--root`` goes
first on ``sys.path``). Every loop is bounded by a count; every wait by a timeout.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import _seed
import _server
import httpx

from _clients import login, pull_all, push_bodies, push_job
from _figures import Figure, machine, table
from _workload import ROOT, visit_changes

PUSH_CASES = (10, 80)
ROUTINE_CASES = 80
SCOPE_CASES = (10, 80, 200)
WARM = 50

_SCOPE = """
import sys, time
sys.path.insert(0, {root!r})
from server.config import Settings
from server.state import open_state
from sync.scope import officer_scope
st = open_state(Settings(db_path={db!r}))
user = st.db.query("SELECT id FROM users WHERE username = ?", ({who!r},))[0]["id"]
best = float("inf")
with st.db.read() as txn:
    for _ in range(5):
        t = time.process_time()
        for _ in range({calls}):
            scope = officer_scope(txn, user)
        best = min(best, (time.process_time() - t) / {calls})
assert len(scope.cases) == {cases}, len(scope.cases)
print(best * 1e6)
"""


def push_cpu(root: Path, workdir: Path, cases: int, pushes: int) -> float:
    """Server CPU (ms) a push of one new visit, after ``WARM`` pushes."""
    _server.SERVER_ROOT[0] = root
    db = str(workdir / f"push-{cases}-{time.monotonic_ns()}.db")
    seed = _seed.seed_database(db, officers=1, cases_per_officer=cases, scope_records=0)
    officer = seed.officers[0]
    with _server.doorstep_server(db) as srv:
        who = login(srv.url, officer)  # type: ignore[attr-defined]
        bodies = push_bodies(visit_changes(WARM + pushes, seed.cases[officer], who.device_id), who.device_id, 1)
        push_job(srv.url, who, bodies[:WARM])()  # type: ignore[attr-defined]
        before = srv.cpu_seconds()
        push_job(srv.url, who, bodies[WARM:])()  # type: ignore[attr-defined]
        spent = srv.cpu_seconds() - before
    _seed.remove_db(db)
    return spent / pushes * 1000


def routine_pull_cpu(root: Path, workdir: Path, cases: int, pulls: int) -> float:
    """Server CPU (ms) a pull with nothing new, by an officer with ``cases`` open cases and a
    visit in each, after the initial sync and ``WARM`` pulls."""
    _server.SERVER_ROOT[0] = root
    db = str(workdir / f"routine-{cases}-{time.monotonic_ns()}.db")
    seed = _seed.seed_database(db, officers=1, cases_per_officer=cases, scope_records=0)
    officer = seed.officers[0]
    with _server.doorstep_server(db) as srv:
        url = srv.url  # type: ignore[attr-defined]
        who = login(url, officer)
        push_job(url, who, push_bodies(visit_changes(cases, seed.cases[officer], who.device_id), who.device_id))()
        synced, cursor = pull_all(url, who, limit=None)
        if synced.distinct < cases:
            raise RuntimeError(f"the initial sync gave {synced.distinct} records, fewer than the {cases} visits")
        with httpx.Client(base_url=url, timeout=60, headers=who.headers) as client:
            def pull() -> None:
                r = client.get("/api/sync/pull", params={"cursor": cursor} if cursor else {})
                if r.status_code != 200 or r.json()["changes"]:
                    raise RuntimeError(f"a routine pull answered {r.status_code}: {r.text[:200]}")
            for _ in range(WARM):
                pull()
            before = srv.cpu_seconds()
            for _ in range(pulls):
                pull()
            spent = srv.cpu_seconds() - before
    _seed.remove_db(db)
    return spent / pulls * 1000


def pull_costs(root: Path, workdir: Path, records: int, pulls: int) -> tuple[float, float]:
    """Server CPU and handler time (µs) a record of the office's pull of ``records`` visits,
    pages of 1,000, over ``pulls`` pulls after one to warm up."""
    _server.SERVER_ROOT[0] = root
    db = str(workdir / f"pull-{time.monotonic_ns()}.db")
    seed = _seed.seed_database(db, officers=1, cases_per_officer=10, scope_records=0)
    officer = seed.officers[0]
    with _server.doorstep_server(db) as srv:
        url = srv.url  # type: ignore[attr-defined]
        who = login(url, officer)
        push_job(url, who, push_bodies(visit_changes(records, seed.cases[officer], who.device_id), who.device_id))()
        office = login(url, seed.office)
        pull_all(url, office)
        before, items, handler_ms = srv.cpu_seconds(), 0, 0.0
        for _ in range(pulls):
            got, _ = pull_all(url, office)
            if got.distinct < records:
                raise RuntimeError(f"pulled {got.distinct} distinct records of the {records} pushed")
            items, handler_ms = items + got.items, handler_ms + got.server_ms
        spent = srv.cpu_seconds() - before
    _seed.remove_db(db)
    return spent / items * 1e6, handler_ms / items * 1000


def scope_cpu(root: Path, workdir: Path, cases: int) -> float:
    """CPU (µs) of one ``officer_scope`` for an officer with ``cases`` open cases, best of 5."""
    _server.SERVER_ROOT[0] = root
    db = str(workdir / f"scope-{cases}-{time.monotonic_ns()}.db")
    seed = _seed.seed_database(db, officers=1, cases_per_officer=cases, scope_records=0)
    script = _SCOPE.format(root=str(root), db=db, who=seed.officers[0], calls=max(20, 4000 // cases),
                           cases=cases)
    out = subprocess.run([sys.executable, "-c", script], cwd=root, check=True, capture_output=True, timeout=600,
                         env={**os.environ, "PYTHONPATH": str(root)})
    _seed.remove_db(db)
    return float(out.stdout.decode().split()[-1])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--root", action="append", default=None, help="a checkout to measure (repeatable)")
    p.add_argument("--pairs", type=int, default=1, help="rounds: each checkout once a round, in turn")
    p.add_argument("--pushes", type=int, default=1000,
                   help="measured pushes of one change a run (and routine pulls)")
    p.add_argument("--pull-records", type=int, default=10_000, help="visits the office pulls")
    p.add_argument("--pulls", type=int, default=3, help="measured pulls of them all a run")
    a = p.parse_args(argv)
    roots = [Path(r).resolve() for r in (a.root or [str(ROOT)])]
    names = [f"{r.name} ({i + 1})" if len(roots) > 1 else r.name for i, r in enumerate(roots)]
    figures: dict[tuple[int, str], Figure] = {}
    for i, name in enumerate(names):
        for c in PUSH_CASES:
            figures[(i, f"push {c}")] = Figure(f"{name}: push of one change, {c} cases: server CPU", "ms")
        for c in SCOPE_CASES:
            figures[(i, f"scope {c}")] = Figure(f"{name}: officer_scope, {c} cases", "µs")
        figures[(i, "routine pull")] = Figure(
            f"{name}: routine pull (nothing new), {ROUTINE_CASES} cases: server CPU", "ms")
        figures[(i, "pull cpu")] = Figure(f"{name}: pull, pages of 1,000: server CPU a record", "µs")
        figures[(i, "pull handler")] = Figure(f"{name}: pull, pages of 1,000: handler time a record", "µs")
    with tempfile.TemporaryDirectory(prefix="request-costs-") as tmp:
        workdir = Path(tmp)
        for n in range(a.pairs):
            for i, root in enumerate(roots):
                for c in PUSH_CASES:
                    figures[(i, f"push {c}")].add(push_cpu(root, workdir, c, a.pushes))
                for c in SCOPE_CASES:
                    figures[(i, f"scope {c}")].add(scope_cpu(root, workdir, c))
                figures[(i, "routine pull")].add(routine_pull_cpu(root, workdir, ROUTINE_CASES, a.pushes))
                cpu, handler = pull_costs(root, workdir, a.pull_records, a.pulls)
                figures[(i, "pull cpu")].add(cpu)
                figures[(i, "pull handler")].add(handler)
                print(f"round {n + 1}, {names[i]}: " + "; ".join(
                    f"{k} {f.values[-1]:.3g}" for (j, k), f in figures.items() if j == i), flush=True)
    print(f"\n## request_costs ({a.pairs} rounds)\nmachine: {machine()}\n")
    print(table(list(figures.values()), a.pairs))
    if len(roots) > 1:
        print("\nlast ÷ first, per round (median):")
        for key in [k for (i, k) in figures if i == 0]:
            ratios = sorted(b / o for o, b in zip(figures[(0, key)].values, figures[(len(roots) - 1, key)].values))
            print(f"- {key}: {ratios[len(ratios) // 2]:.2f} ({ratios[0]:.2f}–{ratios[-1]:.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
