"""Doorstep sync against the machine's own limit, in one run (docs/performance.md).

    python benchmarks/sync_bench.py            # full: 100,000 records, 5 runs, 1 and 2 workers
    python benchmarks/sync_bench.py --quick    # small: 10,000 records, 2 runs
    python benchmarks/sync_bench.py --db pg --records 20000 --runs 2   # and PostgreSQL, 1 and 2 app servers

Each run, on a fresh copy of a seeded database and a fresh server (uvicorn):
the raw ``sqlite3`` executemany rate of the same records; pushes of all
records through ``/api/sync/push`` in batches of 500 from 1, 4 and 16
concurrent clients (httpx, one signed-in officer each); a pull of everything
through ``/api/sync/pull`` in pages of 1,000 as the office; and the initial
sync of an officer whose scope holds 2,000 records. Prints median and
min–max over the runs, and the ratios.

With ``--db``, each run does the same on PostgreSQL, each round right after
SQLite's of the same size: the same seed written through the store into a
template database, cloned for each round (``CREATE DATABASE … TEMPLATE``),
with 1 and 2 ``doorstep serve`` processes on it, each on its own port, client
k pushing through server k mod n; the database's CPU and its sessions
(waiting for the lock, running, idle in a transaction) during the push; then
PostgreSQL ÷ SQLite and 2 ÷ 1 ratios (docs/performance.md).
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    BATCH,
    PAGE,
    SERVER_ROOT,
    Figure,
    PgPlace,
    as_doc,
    doorstep_round,
    fmt,
    machine,
    percentile,
    raw_insert_rate,
    seed_database,
    seed_pg,
    table,
    workload,
)

STORES = {"sqlite": "SQLite", "pg": "PostgreSQL"}


def plural(n: int, word: str) -> str:
    return f"{n} {word}{'s' if n != 1 else ''}"


class StoreFigures:
    """The figures of one store: push per (app servers or workers, clients), pull and initial sync
    per worker count. SQLite's names are the page's (no prefix); PostgreSQL's carry the store and
    count app server processes (each one worker) where SQLite counts a server's workers."""

    def __init__(self, store: str, workers: list[int], clients: list[int]) -> None:
        pre = "" if store == "sqlite" else f"{STORES[store]}: "
        unit = "worker" if store == "sqlite" else "app server"
        self.pre, self.workers, self.clients = pre, workers, clients
        self.push = {(w, c): Figure(f"{pre}push, {plural(c, 'client')}, {plural(w, unit)}", "changes/s")
                     for w in workers for c in clients}
        self.p50 = {k: Figure(f"{f.name}: p50 request", "ms") for k, f in self.push.items()}
        self.p99 = {k: Figure(f"{f.name}: p99 request", "ms") for k, f in self.push.items()}
        self.cpu = {k: Figure(f"{f.name}: server CPU a change", "µs") for k, f in self.push.items()}
        self.db_cpu = ({k: Figure(f"{f.name}: database CPU a change", "µs") for k, f in self.push.items()}
                       if store == "pg" else {})
        # the database's sessions meanwhile (means of pg_stat_activity samples, _pg.Sessions)
        self.waiting = ({k: Figure(f"{f.name}: sessions waiting for the lock", "mean")
                         for k, f in self.push.items()} if store == "pg" else {})
        self.running = ({k: Figure(f"{f.name}: sessions running a statement", "mean")
                         for k, f in self.push.items()} if store == "pg" else {})
        self.idle_txn = ({k: Figure(f"{f.name}: sessions idle in a transaction", "mean")
                          for k, f in self.push.items()} if store == "pg" else {})
        self.pull = {w: Figure(f"{pre}pull as office, pages of {PAGE}, {plural(w, unit)}", "records/s")
                     for w in workers}
        self.init = {w: Figure(f"{pre}initial sync, 2,000-record scope, {plural(w, unit)} (wall)", "ms")
                     for w in workers}
        self.init_server = {w: Figure(f"{pre}initial sync, 2,000-record scope, {plural(w, unit)} "
                                      "(server time)", "ms") for w in workers}
        self.ratio_raw = {w: Figure(f"{pre}push c1 ÷ raw insert, {plural(w, unit)}", "×") for w in workers}
        self.ratio_conc = {w: Figure(f"{pre}push c{max(clients)} ÷ push c1, {plural(w, unit)}", "×")
                           for w in workers}

    def add(self, w: int, c: int, got: dict) -> str:
        res = got["push"]
        self.push[(w, c)].add(res.rate)
        self.p50[(w, c)].add(percentile(res.latencies, 50) * 1000)
        self.p99[(w, c)].add(percentile(res.latencies, 99) * 1000)
        self.cpu[(w, c)].add(res.server_cpu / res.items * 1e6)
        line = (f"  {self.pre}w{w} c{c}: push {fmt(res.rate)}/s p99 {fmt(self.p99[(w, c)].values[-1])} ms, "
                f"server cpu {fmt(self.cpu[(w, c)].values[-1])} µs a change")
        if self.db_cpu and got.get("db_cpu") is not None:
            self.db_cpu[(w, c)].add(got["db_cpu"] / res.items * 1e6)
            line += f", database cpu {fmt(self.db_cpu[(w, c)].values[-1])} µs"
        if self.waiting and "sessions" in got:
            self.waiting[(w, c)].add(got["sessions"]["waiting"])
            self.running[(w, c)].add(got["sessions"]["running"])
            self.idle_txn[(w, c)].add(got["sessions"]["idle_in_txn"])
            line += (f"; sessions waiting {fmt(self.waiting[(w, c)].values[-1])}, running "
                     f"{fmt(self.running[(w, c)].values[-1])}, idle in txn {fmt(self.idle_txn[(w, c)].values[-1])}")
        if "pull" in got:
            self.pull[w].add(got["pull"].rate)
            sync = got["initial_sync"]
            self.init[w].add(sync.seconds * 1000)
            self.init_server[w].add(sync.server_ms)
            line += (f"; pull {fmt(got['pull'].rate)}/s; initial sync {fmt(sync.seconds * 1000)} ms "
                     f"(server {fmt(sync.server_ms)} ms)")
        return line

    def end_run(self, raw: float) -> None:
        c1, cn = self.clients[0], max(self.clients)
        for w in self.workers:
            self.ratio_raw[w].add(self.push[(w, c1)].values[-1] / raw)
            self.ratio_conc[w].add(self.push[(w, cn)].values[-1] / self.push[(w, c1)].values[-1])

    def figures(self) -> list[Figure]:
        out: list[Figure] = []
        for w in self.workers:
            for group in (self.push, self.p50, self.p99, self.cpu, self.db_cpu, self.waiting, self.running,
                          self.idle_txn):
                out += [group[(w, c)] for c in self.clients if (w, c) in group]
            out += [self.pull[w], self.init[w], self.init_server[w]]
        return out + list(self.ratio_raw.values()) + list(self.ratio_conc.values())


def ratio(name: str, num: Figure, den: Figure) -> Figure:
    """``num`` ÷ ``den`` run by run (both measured in the same runs)."""
    return Figure(name, "×", [a / b for a, b in zip(num.values, den.values, strict=True)])


def comparisons(by: dict[str, StoreFigures], workers: list[int], clients: list[int]) -> list[Figure]:
    """PostgreSQL ÷ SQLite at each size, and the most app servers (workers) ÷ the fewest."""
    out: list[Figure] = []
    sq, pg = by["sqlite"], by.get("pg")
    if pg is not None:
        for w in workers:
            at = f"{w} server process{'es' if w > 1 else ''}"
            out += [ratio(f"PostgreSQL ÷ SQLite: push, {plural(c, 'client')}, {at}", pg.push[(w, c)],
                          sq.push[(w, c)]) for c in clients]
            out += [ratio(f"PostgreSQL ÷ SQLite: pull rate, {at}", pg.pull[w], sq.pull[w]),
                    ratio(f"PostgreSQL ÷ SQLite: initial sync server time, {at}", pg.init_server[w],
                          sq.init_server[w])]
    lo, hi = min(workers), max(workers)
    if hi > lo:
        for store, f in by.items():
            unit = "workers" if store == "sqlite" else "app servers"
            out += [ratio(f"{STORES[store]}: push {hi} ÷ {lo} {unit}, {plural(c, 'client')}",
                          f.push[(hi, c)], f.push[(lo, c)]) for c in clients]
            out += [ratio(f"{STORES[store]}: pull {hi} ÷ {lo} {unit}", f.pull[hi], f.pull[lo])]
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="10,000 records, 2 runs")
    p.add_argument("--records", type=int, default=None)
    p.add_argument("--runs", type=int, default=None)
    p.add_argument("--clients", default="1,4,16", help="concurrent pushing clients (comma list)")
    p.add_argument("--workers", default="1,2",
                   help="uvicorn worker counts on SQLite, app server processes on PostgreSQL (comma list)")
    p.add_argument("--db", default=None,
                   help="also measure PostgreSQL, against SQLite in the same run: pg (a throwaway cluster "
                        "for the run, tests/pg/cluster.py) or postgresql://… (a cluster whose role may "
                        "create databases; the benchmark creates and drops its own)")
    p.add_argument("--batch", type=int, default=BATCH,
                   help="changes a push request (default 500; the PWA sends 200); the raw insert keeps 500")
    p.add_argument("--server-root", default=None,
                   help="run the Doorstep server from this checkout (to measure another version)")
    p.add_argument("--workdir", default=None, help="where the temporary databases go")
    p.add_argument("--json", default=None, help="also write every figure to this JSON file")
    args = p.parse_args(argv)
    if args.server_root:
        SERVER_ROOT[0] = Path(args.server_root).resolve()
    records = args.records or (10_000 if args.quick else 100_000)
    runs = args.runs or (2 if args.quick else 5)
    clients = [int(c) for c in args.clients.split(",")]
    workers = [int(w) for w in args.workers.split(",")]

    tmp = tempfile.TemporaryDirectory(prefix="doorstep-bench-", dir=args.workdir)
    work = Path(tmp.name)
    pg = PgPlace(args.db) if args.db else None
    try:
        print(f"# sync_bench: {records:,} records, pushes of {args.batch}, {runs} runs; {machine()}", flush=True)
        if pg is not None:
            print(f"# {pg.describe()}", flush=True)
        t0 = time.perf_counter()
        seeds = {"sqlite": seed_database(str(work / "template.db"), officers=max(clients))}
        if pg is not None:
            seeds["pg"] = seed_pg(pg, max(clients))
        print(f"seeded {', '.join(STORES[s] for s in seeds)} in {time.perf_counter() - t0:.1f} s", flush=True)
        loads = {s: {c: workload(seed, records, c) for c in clients} for s, seed in seeds.items()}
        docs = [as_doc(ch) for part in loads["sqlite"][clients[0]] for ch in part]
        print(f"record: {len(orjson.dumps(docs[0]))} bytes of JSON", flush=True)

        raw = Figure("raw sqlite3 executemany insert, 500 a transaction, WAL", "rows/s")
        by = {s: StoreFigures(s, workers, clients) for s in seeds}
        for r in range(runs):
            raw.add(raw_insert_rate(docs, work))
            print(f"run {r + 1}: raw insert {fmt(raw.values[-1])} rows/s", flush=True)
            for w in workers:
                for c in clients:
                    for s, f in by.items():  # the stores side by side, so a ratio meets one load
                        got = doorstep_round(seeds[s], work, loads[s][c], workers=w, pull=c == clients[0],
                                             initial_sync=c == clients[0], batch=args.batch,
                                             pg=pg if s == "pg" else None)
                        print(f.add(w, c, got), flush=True)
            for f in by.values():
                f.end_run(raw.values[-1])

        figures = [raw] + [x for f in by.values() for x in f.figures()]
        compared = comparisons(by, workers, clients)
        print()
        print(f"## sync_bench ({records:,} records, {runs} runs, {time.perf_counter() - t0:.0f} s)")
        print(f"machine: {machine()}")
        if pg is not None:
            print(f"database: {pg.describe()}")
        print()
        print(table(figures, runs))
        if compared:
            print()
            print(table(compared, runs))
        print()
        for s, f in by.items():
            for w in workers:
                unit = "worker" if s == "sqlite" else "app server"
                print(f"targets, {STORES[s]}, {plural(w, unit)}: push c1 ÷ raw = {fmt(f.ratio_raw[w].median)} "
                      f"(≥ 0.25); push c{max(clients)} ÷ c1 = {fmt(f.ratio_conc[w].median)} (≥ 0.9); "
                      f"p99 c{max(clients)} = {fmt(f.p99[(w, max(clients))].median)} ms "
                      f"(< 500 at pushes of 200); "
                      f"initial sync server time = {fmt(f.init_server[w].median)} ms (< 200)")
        if args.json:
            Path(args.json).write_text(orjson.dumps({f.name: f.values for f in figures + compared},
                                                    option=orjson.OPT_INDENT_2).decode())
    finally:
        if pg is not None:
            pg.close()
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
