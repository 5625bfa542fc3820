"""Shared pieces of the sync benchmarks: the workload, a seeded database, a server, clients.

The pieces live in sibling modules (``_workload``, ``_figures``, ``_seed``, ``_server``,
``_clients``); this module gathers them under the names the benchmarks import, and holds one
Doorstep round (a fresh server, concurrent pushes, pulls, an initial sync).

Everything runs on 127.0.0.1. Every loop is bounded by a count; every wait by a timeout.
"""
from __future__ import annotations

import sys
import uuid
from pathlib import Path
from typing import Any

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:  # imported as ``benchmarks._common``: the siblings are top-level modules
    sys.path.insert(0, _HERE)

from _clients import (  # noqa: E402
    Run,
    SignedIn,
    login,
    pull_all,
    push_bodies,
    push_job,
    run_concurrently,
    server_timing,
)
from _figures import Figure, fmt, machine, percentile, table  # noqa: E402
from _seed import Seed, _seed_here, copy_db, remove_db, seed_database  # noqa: E402
from _server import SERVER_ROOT, Process, doorstep_server, free_port  # noqa: E402
from _workload import (  # noqa: E402
    BATCH,
    PAGE,
    PASSWORD,
    ROOT,
    SYNC,
    as_doc,
    hlc,
    raw_insert_rate,
    visit_changes,
    visit_fields,
)

__all__ = [
    "BATCH", "PAGE", "PASSWORD", "ROOT", "SERVER_ROOT", "SYNC", "Figure", "Process", "Run", "Seed", "SignedIn",
    "_seed_here", "as_doc", "copy_db", "doorstep_round", "doorstep_server", "fmt", "free_port", "hlc", "login",
    "machine", "percentile", "pull_all", "push_bodies", "push_job", "raw_insert_rate", "remove_db",
    "run_concurrently", "seed_database", "server_timing", "table", "visit_changes", "visit_fields", "workload",
]


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
