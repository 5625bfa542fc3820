"""Shared pieces of the sync benchmarks: the workload, a seeded database, a server, clients.

The pieces live in sibling modules (``_workload``, ``_figures``, ``_seed``, ``_server``,
``_clients``, ``_pg`` for PostgreSQL); this module gathers them under the names the benchmarks
import, and holds one Doorstep round (a fresh server, concurrent pushes, pulls, an initial sync).

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
from _pg import PgPlace, Servers, Sessions  # noqa: E402
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
    "BATCH", "PAGE", "PASSWORD", "ROOT", "SERVER_ROOT", "SYNC", "Figure", "PgPlace", "Process", "Run", "Seed",
    "SignedIn", "_seed_here", "as_doc", "copy_db", "doorstep_round", "doorstep_server", "fmt", "free_port", "hlc",
    "login", "machine", "percentile", "pull_all", "push_bodies", "push_job", "raw_insert_rate", "remove_db",
    "run_concurrently", "seed_database", "seed_pg", "server_timing", "table", "visit_changes", "visit_fields",
    "workload",
]


def workload(seed: Seed, records: int, clients: int) -> list[list[dict[str, Any]]]:
    """``records`` new visits split over ``clients`` officers, each into their own cases."""
    per = [records // clients + (1 if k < records % clients else 0) for k in range(clients)]
    return [visit_changes(per[k], seed.cases[seed.officers[k]], f"bench{k}") for k in range(clients)]


def doorstep_round(seed: Seed, work: Path, load: list[list[dict[str, Any]]], workers: int = 1,
                   pull: bool = True, initial_sync: bool = True, batch: int = BATCH,
                   pg: PgPlace | None = None) -> dict[str, Any]:
    """Fresh copy of the seeded database, fresh server; push ``load`` (one list per client,
    all at once, ``batch`` changes a request), then optionally pull everything as the office
    and run the scope officer's initial sync. Returns the runs by name.

    On SQLite ``workers`` is the uvicorn worker count of one server; on PostgreSQL (``pg``, the
    seed a template database there) it is the number of app server processes on the one
    database, each on its own port, client k pushing through server k mod ``workers``."""
    clients = len(load)
    records = sum(len(part) for part in load)
    if pg is not None:
        db = pg.create("round", template=seed.path)
        servers: Any = Servers(db, workers, work)
    else:
        db = copy_db(seed.path, str(work / f"round-{workers}-{clients}-{uuid.uuid4().hex[:6]}.db"))
        servers = doorstep_server(db, workers=workers)
    out: dict[str, Any] = {}
    try:
        with servers:
            urls = servers.urls if pg is not None else [servers.url]
            url = urls[0]
            who = [login(urls[k % len(urls)], seed.officers[k]) for k in range(clients)]
            jobs = [push_job(urls[k % len(urls)], who[k], push_bodies(load[k], who[k].device_id, batch))
                    for k in range(clients)]
            cpu, db_cpu = servers.cpu_seconds(), pg.cpu_seconds() if pg is not None else None
            if pg is not None:
                with Sessions(db) as sessions:
                    out["push"] = run_concurrently(jobs)
                out["sessions"] = sessions.means()
            else:
                out["push"] = run_concurrently(jobs)
            out["push"].server_cpu = servers.cpu_seconds() - cpu
            db_after = pg.cpu_seconds() if pg is not None else None
            # the database's own CPU (a throwaway cluster's processes; None when not measurable)
            out["db_cpu"] = db_after - db_cpu if db_after is not None and db_cpu is not None else None
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
        if pg is not None:
            pg.drop(db)
        else:
            remove_db(db)
    return out


def seed_pg(pg: PgPlace, officers: int) -> Seed:
    """The seeded database of ``seed_database``, written through the store into a new PostgreSQL
    database (migrated by the same open), which each round then copies as its template."""
    return seed_database(pg.create("template"), officers=officers)
