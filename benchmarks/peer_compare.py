"""Doorstep against a real peer on the same work: pouchdb-server (the CouchDB HTTP API).

    python benchmarks/peer_compare.py           # 100,000 records, 5 runs
    python benchmarks/peer_compare.py --quick   # 20,000 records, 2 runs

pouchdb-server 4.2.0 is installed from the npm registry into a temporary
folder (or ``--pouchdb-dir`` names a folder that already has it), started on
127.0.0.1 with a warning-level log, and stopped by its PID at the end. Each
run pushes the same visits (same JSON documents, 500 a request) with 1, 4 and
16 clients through ``POST /db/_bulk_docs`` and ``POST /api/sync/push``, and
pulls them all through ``GET /db/_changes?include_docs=true&limit=1000`` and
``GET /api/sync/pull?limit=1000``, the peer and Doorstep alternating. Prints
each figure and the ratios Doorstep ÷ peer.
"""
from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    PAGE,
    SERVER_ROOT,
    Figure,
    Process,
    Run,
    as_doc,
    doorstep_round,
    fmt,
    free_port,
    machine,
    percentile,
    run_concurrently,
    seed_database,
    table,
    workload,
)

POUCHDB = "pouchdb-server@4.2.0"


def install_pouchdb(folder: Path) -> Path:
    """``npm install pouchdb-server@4.2.0`` into ``folder``; returns the executable."""
    exe = folder / "node_modules" / ".bin" / "pouchdb-server"
    if not exe.exists():
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "package.json").write_text('{"name": "doorstep-peer", "private": true}\n')  # install here
        t0 = time.perf_counter()
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--loglevel=error", POUCHDB],
                       cwd=folder, check=True, timeout=600)
        print(f"installed {POUCHDB} in {time.perf_counter() - t0:.0f} s", flush=True)
    return exe


def pouchdb_server(exe: Path, work: Path) -> Process:
    port = free_port()
    data = work / "pouch-data"
    data.mkdir(exist_ok=True)
    config = work / "pouch-config.json"
    config.write_text(json.dumps({"log": {"level": "warning", "file": str(work / "pouch.log")}}))
    argv = [str(exe), "--host", "127.0.0.1", "--port", str(port), "--dir", str(data), "--config", str(config),
            "-n"]
    proc = Process(argv, f"http://127.0.0.1:{port}/", str(work / "pouch-stdout.log"), cwd=work)
    proc.url = f"http://127.0.0.1:{port}"  # type: ignore[attr-defined]
    return proc


def pouch_push(url: str, db: str, docs: list[dict[str, Any]]):
    bodies = [orjson.dumps({"docs": docs[lo:lo + 500]}) for lo in range(0, len(docs), 500)]

    def job() -> tuple[int, list[float]]:
        latencies, items = [], 0
        with httpx.Client(base_url=url, timeout=300,
                          headers={"Content-Type": "application/json", "Accept-Encoding": "identity"}) as client:
            for body in bodies:
                t0 = time.perf_counter()
                r = client.post(f"/{db}/_bulk_docs", content=body)
                latencies.append(time.perf_counter() - t0)
                if r.status_code not in (200, 201):
                    raise RuntimeError(f"_bulk_docs answered {r.status_code}: {r.text[:300]}")
                answer = orjson.loads(r.content)
                bad = [x for x in answer if not x.get("ok")]
                if bad:
                    raise RuntimeError(f"_bulk_docs refused: {bad[0]}")
                items += len(answer)
        return items, latencies
    return job


def pouch_pull(url: str, db: str, max_pages: int = 10_000) -> Run:
    latencies, items, since = [], 0, "0"
    with httpx.Client(base_url=url, timeout=300, headers={"Accept-Encoding": "identity"}) as client:
        start = time.perf_counter()
        for _ in range(max_pages):
            t0 = time.perf_counter()
            r = client.get(f"/{db}/_changes", params={"since": since, "limit": str(PAGE),
                                                       "include_docs": "true"})
            latencies.append(time.perf_counter() - t0)
            r.raise_for_status()
            body = orjson.loads(r.content)
            items += len(body["results"])
            since = str(body["last_seq"])
            if len(body["results"]) < PAGE:
                break
        elapsed = time.perf_counter() - start
    return Run(items, elapsed, latencies)


def pouch_round(url: str, load: list[list[dict[str, Any]]], pull: bool) -> dict[str, Run]:
    db = f"bench-{uuid.uuid4().hex[:10]}"
    httpx.put(f"{url}/{db}", timeout=60).raise_for_status()
    try:
        docs = [[{"_id": d["id"], **{k: v for k, v in d.items() if k != "id"}} for d in map(as_doc, part)]
                for part in load]
        out = {"push": run_concurrently([pouch_push(url, db, part) for part in docs])}
        if pull:
            out["pull"] = pouch_pull(url, db)
            if out["pull"].items < out["push"].items:
                raise RuntimeError(f"pulled {out['pull'].items} of {out['push'].items}")
        return out
    finally:
        httpx.delete(f"{url}/{db}", timeout=120)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="20,000 records, 2 runs")
    p.add_argument("--records", type=int, default=None)
    p.add_argument("--runs", type=int, default=None)
    p.add_argument("--clients", default="1,4,16")
    p.add_argument("--pouchdb-dir", default=None,
                   help=f"a folder with {POUCHDB} installed (default: install into a temporary folder)")
    p.add_argument("--server-root", default=None,
                   help="run the Doorstep server from this checkout (to measure another version)")
    p.add_argument("--workdir", default=None)
    args = p.parse_args(argv)
    if args.server_root:
        SERVER_ROOT[0] = Path(args.server_root).resolve()
    records = args.records or (20_000 if args.quick else 100_000)
    runs = args.runs or (2 if args.quick else 5)
    clients = [int(c) for c in args.clients.split(",")]

    tmp = tempfile.TemporaryDirectory(prefix="doorstep-peer-", dir=args.workdir)
    work = Path(tmp.name)
    t0 = time.perf_counter()
    print(f"# peer_compare: {records:,} records, 500 a request, {runs} runs; {machine()}", flush=True)
    exe = install_pouchdb(Path(args.pouchdb_dir) if args.pouchdb_dir else work / "pouchdb")
    seed = seed_database(str(work / "template.db"), officers=max(clients), scope_records=0)
    loads = {c: workload(seed, records, c) for c in clients}

    names = {"pouch": "pouchdb-server", "door": "Doorstep"}
    push = {(s, c): Figure(f"{names[s]} push, {c} client{'s' if c > 1 else ''}", "docs/s")
            for s in names for c in clients}
    p50 = {(s, c): Figure(f"{names[s]} push, {c} client{'s' if c > 1 else ''}: p50 request", "ms")
           for s in names for c in clients}
    p99 = {(s, c): Figure(f"{names[s]} push, {c} client{'s' if c > 1 else ''}: p99 request", "ms")
           for s in names for c in clients}
    pull = {s: Figure(f"{names[s]} pull, pages of {PAGE}", "docs/s") for s in names}
    ratio_push = {c: Figure(f"Doorstep ÷ peer, push {c} client{'s' if c > 1 else ''}", "×") for c in clients}
    ratio_pull = Figure("Doorstep ÷ peer, pull", "×")

    peer = pouchdb_server(exe, work)
    with peer:
        print(f"pouchdb-server pid {peer.pid} on {peer.url}", flush=True)  # type: ignore[attr-defined]
        for r in range(runs):
            for c in clients:
                first = c == clients[0]
                got: dict[str, dict[str, Run]] = {}
                order = ("pouch", "door") if r % 2 == 0 else ("door", "pouch")
                for side in order:
                    if side == "pouch":
                        got[side] = pouch_round(peer.url, loads[c], pull=first)  # type: ignore[attr-defined]
                    else:
                        got[side] = doorstep_round(seed, work, loads[c], workers=1, pull=first,
                                                   initial_sync=False)
                    res = got[side]["push"]
                    push[(side, c)].add(res.rate)
                    p50[(side, c)].add(percentile(res.latencies, 50) * 1000)
                    p99[(side, c)].add(percentile(res.latencies, 99) * 1000)
                    if first:
                        pull[side].add(got[side]["pull"].rate)
                ratio_push[c].add(got["door"]["push"].rate / got["pouch"]["push"].rate)
                line = (f"run {r + 1} c{c}: push door {fmt(got['door']['push'].rate)}/s "
                        f"peer {fmt(got['pouch']['push'].rate)}/s")
                if first:
                    ratio_pull.add(got["door"]["pull"].rate / got["pouch"]["pull"].rate)
                    line += (f"; pull door {fmt(got['door']['pull'].rate)}/s "
                             f"peer {fmt(got['pouch']['pull'].rate)}/s")
                print(line, flush=True)
    print(f"pouchdb-server (pid {peer.pid}) stopped", flush=True)

    figures = [push[(s, c)] for s in names for c in clients] + [p50[(s, c)] for s in names for c in clients]
    figures += [p99[(s, c)] for s in names for c in clients] + list(pull.values())
    figures += list(ratio_push.values()) + [ratio_pull]
    print()
    print(f"## peer_compare ({records:,} records, {runs} runs, {time.perf_counter() - t0:.0f} s)")
    print(f"machine: {machine()}")
    print()
    print(table(figures, runs))
    print()
    print(f"targets: push c1 Doorstep ÷ peer = {fmt(ratio_push[clients[0]].median)} (≥ 1.25); "
          f"pull Doorstep ÷ peer = {fmt(ratio_pull.median)} (≥ 5)")
    if not args.pouchdb_dir:
        shutil.rmtree(work / "pouchdb", ignore_errors=True)
    tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
