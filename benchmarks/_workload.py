"""The sync benchmarks' workload: the checkout, the benchmark accounts' password, new visits
as sync changes, and the physical limit they are measured against (plain executemany).

Importing this puts the checkout on ``sys.path`` (the benchmarks import ``server``).
"""
from __future__ import annotations

import sqlite3
import sys
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

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
