"""Doorstep sync against the machine's own limit, in one run (docs/performance.md).

    python benchmarks/sync_bench.py            # full: 100,000 records, 5 runs, 1 and 2 workers
    python benchmarks/sync_bench.py --quick    # small: 10,000 records, 2 runs

Each run, on a fresh copy of a seeded database and a fresh server (uvicorn):
the raw ``sqlite3`` executemany rate of the same records; pushes of all
records through ``/api/sync/push`` in batches of 500 from 1, 4 and 16
concurrent clients (httpx, one signed-in officer each); a pull of everything
through ``/api/sync/pull`` in pages of 1,000 as the office; and the initial
sync of an officer whose scope holds 2,000 records. Prints median and
min–max over the runs, and the ratios.
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
    as_doc,
    doorstep_round,
    fmt,
    machine,
    percentile,
    raw_insert_rate,
    seed_database,
    table,
    workload,
)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="10,000 records, 2 runs")
    p.add_argument("--records", type=int, default=None)
    p.add_argument("--runs", type=int, default=None)
    p.add_argument("--clients", default="1,4,16", help="concurrent pushing clients (comma list)")
    p.add_argument("--workers", default="1,2", help="uvicorn worker counts (comma list)")
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
    print(f"# sync_bench: {records:,} records, pushes of {args.batch}, {runs} runs; {machine()}", flush=True)
    t0 = time.perf_counter()
    seed = seed_database(str(work / "template.db"), officers=max(clients))
    print(f"seeded template in {time.perf_counter() - t0:.1f} s", flush=True)
    loads = {c: workload(seed, records, c) for c in clients}
    docs = [as_doc(ch) for part in loads[clients[0]] for ch in part]
    print(f"record: {len(orjson.dumps(docs[0]))} bytes of JSON", flush=True)

    raw = Figure("raw sqlite3 executemany insert, 500 a transaction, WAL", "rows/s")
    push = {(w, c): Figure(f"push, {c} client{'s' if c > 1 else ''}, {w} worker{'s' if w > 1 else ''}",
                           "changes/s") for w in workers for c in clients}
    p50 = {k: Figure(f"{f.name}: p50 request", "ms") for k, f in push.items()}
    p99 = {k: Figure(f"{f.name}: p99 request", "ms") for k, f in push.items()}
    cpu = {k: Figure(f"{f.name}: server CPU a change", "µs") for k, f in push.items()}
    pull = {w: Figure(f"pull as office, pages of {PAGE}, {w} worker{'s' if w > 1 else ''}", "records/s")
            for w in workers}
    init = {w: Figure(f"initial sync, 2,000-record scope, {w} worker{'s' if w > 1 else ''} (wall)", "ms")
            for w in workers}
    init_server = {w: Figure(f"initial sync, 2,000-record scope, {w} worker{'s' if w > 1 else ''} "
                             "(server time)", "ms") for w in workers}
    ratio_raw = {w: Figure(f"push c1 ÷ raw insert, {w} worker{'s' if w > 1 else ''}", "×") for w in workers}
    ratio_conc = {w: Figure(f"push c{max(clients)} ÷ push c1, {w} worker{'s' if w > 1 else ''}", "×")
                  for w in workers}

    for r in range(runs):
        raw.add(raw_insert_rate(docs, work))
        print(f"run {r + 1}: raw insert {fmt(raw.values[-1])} rows/s", flush=True)
        for w in workers:
            for c in clients:
                got = doorstep_round(seed, work, loads[c], workers=w, pull=c == clients[0],
                                     initial_sync=c == clients[0], batch=args.batch)
                res = got["push"]
                push[(w, c)].add(res.rate)
                p50[(w, c)].add(percentile(res.latencies, 50) * 1000)
                p99[(w, c)].add(percentile(res.latencies, 99) * 1000)
                cpu[(w, c)].add(res.server_cpu / res.items * 1e6)
                line = (f"  w{w} c{c}: push {fmt(res.rate)}/s p99 {fmt(p99[(w, c)].values[-1])} ms, "
                        f"server cpu {fmt(cpu[(w, c)].values[-1])} µs a change")
                if "pull" in got:
                    pull[w].add(got["pull"].rate)
                    sync = got["initial_sync"]
                    init[w].add(sync.seconds * 1000)
                    init_server[w].add(sync.server_ms)
                    line += (f"; pull {fmt(got['pull'].rate)}/s; initial sync {fmt(sync.seconds * 1000)} ms "
                             f"(server {fmt(sync.server_ms)} ms)")
                print(line, flush=True)
            ratio_raw[w].add(push[(w, clients[0])].values[-1] / raw.values[-1])
            ratio_conc[w].add(push[(w, max(clients))].values[-1] / push[(w, clients[0])].values[-1])

    figures = [raw]
    for w in workers:
        figures += [push[(w, c)] for c in clients] + [p50[(w, c)] for c in clients]
        figures += [p99[(w, c)] for c in clients] + [cpu[(w, c)] for c in clients]
        figures += [pull[w], init[w], init_server[w]]
    figures += list(ratio_raw.values()) + list(ratio_conc.values())
    print()
    print(f"## sync_bench ({records:,} records, {runs} runs, {time.perf_counter() - t0:.0f} s)")
    print(f"machine: {machine()}")
    print()
    print(table(figures, runs))
    print()
    for w in workers:
        print(f"targets, {w} worker{'s' if w > 1 else ''}: push c1 ÷ raw = {fmt(ratio_raw[w].median)} (≥ 0.25); "
              f"push c{max(clients)} ÷ c1 = {fmt(ratio_conc[w].median)} (≥ 0.9); "
              f"p99 c{max(clients)} = {fmt(p99[(w, max(clients))].median)} ms "
              f"(< 500 at pushes of 200); "
              f"initial sync server time = {fmt(init_server[w].median)} ms (< 200)")
    if args.json:
        Path(args.json).write_text(orjson.dumps({f.name: f.values for f in figures},
                                                option=orjson.OPT_INDENT_2).decode())
    tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
