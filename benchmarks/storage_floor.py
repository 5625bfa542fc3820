"""What the rows a push writes cost SQLite alone, against the raw insert, in one run.

    python benchmarks/storage_floor.py                 # 100,000 visits, on /dev/shm when it exists
    python benchmarks/storage_floor.py --dir /tmp      # on the disk instead

No server and no engine: the rows a new visit makes are built before the clock
starts, then inserted with ``executemany``, 500 a transaction, WAL,
``synchronous=NORMAL``; the raw insert is ``sync_bench.py``'s limit exactly (its
JSON made inside the timed loop). Each layout adds one piece of what Doorstep stores, so
the difference between two lines is what that piece costs a change: the floor
under the push rate, whatever the Python above it does (docs/performance.md).

The next three lines are not Doorstep's layout but the leanest one the guarantees
could live with (one row a create, no change-log row): the floor under any design.
The last two build those rows inside the timed loop from the push request's JSON
body, as thinly as Python can, then with the engine's field checks: the floor under
any pure-Python server, before its clock, merge, scope, log, audit and answer.
"""
from __future__ import annotations

import argparse
import os
import sqlite3
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from sync.schema import validate_fields  # noqa: E402

BATCH = 500
USER = str(uuid.uuid4())
NOW = "2026-12-04T17:00:00.000Z"
HLC = "001764867600000-000000-bench"
STAMPS = orjson.dumps({"created_at": NOW, "created_by": USER, "updated_at": NOW, "updated_by": USER})[:-1].replace(b"{", b'",', 1)

RECORDS = """CREATE TABLE visits (id TEXT PRIMARY KEY, data TEXT NOT NULL, meta TEXT NOT NULL,
  version INTEGER NOT NULL, seq INTEGER NOT NULL, deleted INTEGER NOT NULL DEFAULT 0, deleted_hlc TEXT,
  flags TEXT NOT NULL DEFAULT '{}', created_at TEXT, created_by TEXT, updated_at TEXT, updated_by TEXT,
  case_id TEXT GENERATED ALWAYS AS (json_extract(data, '$.case_id')) VIRTUAL,
  officer_id TEXT GENERATED ALWAYS AS (json_extract(data, '$.officer_id')) VIRTUAL, item BLOB)"""
CHANGES = """CREATE TABLE changes (seq INTEGER PRIMARY KEY, change_id TEXT NOT NULL, type TEXT NOT NULL,
  entity_id TEXT NOT NULL, version INTEGER NOT NULL, status TEXT NOT NULL, user_id TEXT, device_id TEXT,
  received_at TEXT NOT NULL, hlc TEXT NOT NULL, fields TEXT NOT NULL, lost_fields TEXT NOT NULL)"""
INSERT_RECORD = ("INSERT INTO visits (id, data, meta, version, seq, deleted, deleted_hlc, flags, created_at, "
                 "created_by, updated_at, updated_by, item) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
INSERT_CHANGE = "INSERT INTO changes VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"


def visits(n: int) -> list[dict[str, Any]]:
    cases = [str(uuid.uuid4()) for _ in range(160)]
    return [{"id": str(uuid.uuid4()), "change_id": str(uuid.uuid4()),
             "fields": {"case_id": cases[k % 160], "household_id": str(uuid.uuid4()),
                        "started_at": "2026-11-23T09:10:00Z", "lat": 53.6833 + (k % 100) / 10_000,
                        "lon": -1.4977, "outcome": "no_answer", "child_seen": False,
                        "notes": f"Card left, call back {k % 7}", "status": "draft", "officer_id": USER,
                        "barriers": [], "safeguarding_concern": False}} for k in range(n)]


RowSource = list[tuple[Any, ...]] | Callable[[int], list[tuple[Any, ...]]]  # prebuilt, or built per batch


def layouts(docs: Sequence[dict[str, Any]]) -> list[tuple[str, list[str], list[tuple[str, RowSource]]]]:
    raw_docs = [{"id": d["id"], "type": "visit", **d["fields"], "hlc": HLC} for d in docs]

    def raw(lo: int) -> list[tuple[Any, ...]]:  # as sync_bench.py's limit: the JSON made in the loop
        return [(d["id"], k, orjson.dumps(d).decode()) for k, d in enumerate(raw_docs[lo:lo + BATCH], lo)]
    meta = orjson.dumps([[[HLC, 1, USER]], dict.fromkeys(docs[0]["fields"], 0)]).decode()
    records = []
    for k, d in enumerate(docs):
        data = orjson.dumps(d["fields"])
        item = (b'{"type":"visit","id":"' + d["id"].encode() + b'","version":1,"deleted":false,"fields":'
                + data[:-1] + b',"id":"' + d["id"].encode() + STAMPS + b"}}")
        records.append((d["id"], data.decode(), meta, 1, k, 0, None, "{}", NOW, USER, NOW, USER, item))
    log = [(k, d["change_id"], "visit", d["id"], 1, "applied", USER, "bench", NOW, HLC,
            records[k][1], "[]") for k, d in enumerate(docs)]
    seq = "CREATE INDEX visits_seq ON visits(seq)"
    links = ["CREATE INDEX visits_case_id ON visits(case_id)", "CREATE INDEX visits_officer_id ON visits(officer_id)"]
    # The leanest row any layout could keep for a new visit: fields and server stamps in one
    # JSON (no second copy), the one write every field shares, the creating change's id, and
    # the two keys a guarantee looks up, as plain columns (no json_extract at insert).
    lean_meta = orjson.dumps([[HLC, 1, USER]]).decode()
    lean = [(d["id"], k, orjson.dumps({"id": d["id"], **d["fields"], "created_at": NOW, "created_by": USER,
                                       "updated_at": NOW, "updated_by": USER}).decode(),
             lean_meta, d["change_id"], d["fields"]["case_id"]) for k, d in enumerate(docs)]
    lean_table = ["CREATE TABLE visits (id TEXT PRIMARY KEY, seq INTEGER NOT NULL, doc TEXT NOT NULL, "
                  "meta TEXT NOT NULL, change_id TEXT, case_id TEXT)", seq]
    lean_scoped = [*lean_table, "CREATE INDEX visits_case_id ON visits(case_id)"]
    lean_both = [*lean_scoped, "CREATE UNIQUE INDEX visits_change_id ON visits(change_id)"]
    lean_sql = "INSERT INTO visits VALUES (?, ?, ?, ?, ?, ?)"
    lean_insert = [(lean_sql, lean)]
    # The same rows built from the push request inside the timed loop: the batch's JSON body
    # parsed, then one row a change, as thin as a Python server could make it (no HLC, merge,
    # scope, change log, audit or answer); then the same with the engine's own field checks.
    bodies = [orjson.dumps({"client_id": "bench", "changes": [
        {"change_id": d["change_id"], "type": "visit", "id": d["id"], "op": "put", "fields": d["fields"],
         "base_version": None, "hlc": HLC} for d in docs[lo:lo + BATCH]]}) for lo in range(0, len(docs), BATCH)]

    def from_request(checked: bool) -> RowSource:
        def build(lo: int) -> list[tuple[Any, ...]]:
            rows = []
            for k, c in enumerate(orjson.loads(bodies[lo // BATCH])["changes"], lo):
                fields = c["fields"]
                if checked:
                    fields, errors = validate_fields(c["type"], fields)
                    if errors:
                        raise SystemExit(f"the benchmark's visit fails the engine's checks: {errors}")
                rows.append((c["id"], k, orjson.dumps({"id": c["id"], **fields, "created_at": NOW,
                                                        "created_by": USER, "updated_at": NOW,
                                                        "updated_by": USER}).decode(),
                             lean_meta, c["change_id"], fields["case_id"]))
            return rows
        return build
    return [
        ("raw insert: id, seq, JSON (the limit)", [
            "CREATE TABLE visits (id TEXT PRIMARY KEY, seq INTEGER NOT NULL, data TEXT NOT NULL)", seq],
         [("INSERT INTO visits (id, seq, data) VALUES (?, ?, ?)", raw)]),
        ("record row, id and seq indexes", [RECORDS, seq], [(INSERT_RECORD, records)]),
        ("+ case_id and officer_id link indexes", [RECORDS, seq, *links], [(INSERT_RECORD, records)]),
        ("+ change-log row", [RECORDS, seq, *links, CHANGES],
         [(INSERT_RECORD, records), (INSERT_CHANGE, log)]),
        ("+ its change_id (idempotency) index: Doorstep's push of a new record today", [RECORDS, seq, *links, CHANGES,
                                                 "CREATE UNIQUE INDEX changes_change_id ON changes(change_id)"],
         [(INSERT_RECORD, records), (INSERT_CHANGE, log)]),
        ("+ its entity index (a new record's change left it in m016)", [
            RECORDS, seq, *links, CHANGES, "CREATE UNIQUE INDEX changes_change_id ON changes(change_id)",
            "CREATE INDEX changes_entity ON changes(entity_id)"],
         [(INSERT_RECORD, records), (INSERT_CHANGE, log)]),
        ("leanest row a new visit could have: one JSON, one write, id and seq indexes", lean_table, lean_insert),
        ("+ case_id index (an officer's scope)", lean_scoped, lean_insert),
        ("+ change_id index (exactly-once): the floor of any layout keeping both", lean_both, lean_insert),
        ("  the same, rows built from the parsed request in Python", lean_both, [(lean_sql, from_request(False))]),
        ("  the same, with the engine's field checks (sync.schema)", lean_both, [(lean_sql, from_request(True))]),
    ]


def rate(folder: Path, schema: list[str], inserts: list[tuple[str, RowSource]], n: int) -> float:
    path = folder / f"floor-{uuid.uuid4().hex[:8]}.db"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    for sql in schema:
        conn.execute(sql)
    start = time.perf_counter()
    for lo in range(0, n, BATCH):
        conn.execute("BEGIN")
        for sql, rows in inserts:
            conn.executemany(sql, rows(lo) if callable(rows) else rows[lo:lo + BATCH])
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - start
    conn.close()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return n / elapsed


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--records", type=int, default=100_000)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--dir", default="/dev/shm" if os.path.isdir("/dev/shm") else None)
    args = p.parse_args(argv)
    docs = visits(args.records)
    cases = layouts(docs)
    figures: dict[str, list[float]] = {name: [] for name, _s, _i in cases}
    with tempfile.TemporaryDirectory(prefix="doorstep-floor-", dir=args.dir) as tmp:
        for _ in range(args.runs):  # layouts alternate inside each run
            for name, schema, inserts in cases:
                figures[name].append(rate(Path(tmp), schema, inserts, args.records))
    print(f"# storage_floor: {args.records:,} new visits, {BATCH} a transaction, {args.runs} runs, "
          f"in {args.dir or tempfile.gettempdir()}; SQLite {sqlite3.sqlite_version}")
    print("| rows a change writes | rows/s (median) | µs a change | ÷ raw insert |")
    print("| --- | --- | --- | --- |")
    raw = sorted(figures[cases[0][0]])[args.runs // 2]
    for name, values in figures.items():
        med = sorted(values)[args.runs // 2]
        print(f"| {name} | {med:,.0f} | {1e6 / med:.1f} | {med / raw:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())

