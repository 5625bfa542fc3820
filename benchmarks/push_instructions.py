"""Instructions a change of the server's push body, counted by valgrind's callgrind
(docs/performance.md, "Sync round nine"), for one checkout or several in one run.

    python benchmarks/push_instructions.py                       # this checkout
    python benchmarks/push_instructions.py --root ../old --root .  # two checkouts, one after the other

For each checkout (its own code: ``--root`` goes first on ``sys.path``), a small database seeded
by that code (2 officers, 10 cases each), then new visits pushed in batches of 500 as the server
does: decode the body, ``prepare``, and in one write transaction ``apply``, the audit row and the
device's last sync; encode the answer; at the end the close that checkpoints the WAL. Callgrind
counts only that loop (``--toggle-collect`` on ``sys.call_tracing``, which runs it), and the
figure is (I(hi) − I(lo)) ÷ (hi − lo): the building of the changes, the start-up and the seeding
are not in it. Ids come from seeded generators, the hash seed is fixed and the collector runs as
the checkout's server sets it (``server/util.py``), as are SQLite's process-wide settings
(``server/sqlite_library.py``, where the checkout has it): a figure repeats to about ±0.2 % (the changes' stamps
come from the clock). Needs valgrind.
"""
from __future__ import annotations

import argparse
import gc
import hashlib
import importlib.util
import os
import random
import re
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

GC_YOUNG = 10_000  # for checkouts from before server/util.py GC_YOUNG_THRESHOLD (their server used 700)
HERE = Path(__file__).resolve().parent


def _seeded_uuid4(seed: int) -> None:
    r = random.Random(seed)
    uuid.uuid4 = lambda: uuid.UUID(int=r.getrandbits(128), version=4)


def child(root: str, count: int, db_dir: str) -> None:
    """Push ``count`` new visits with the code at ``root`` (run under callgrind by ``main``)."""
    setup = Path(root) / "server" / "sqlite_library.py"
    if setup.exists():  # SQLite's process-wide settings, made as that checkout's server makes them
        spec = importlib.util.spec_from_file_location("_checkout_sqlite_library", setup)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        module.configure()  # where it cannot be made, that checkout's server runs without it too
    sys.path.insert(0, str(HERE))
    import _common  # puts this checkout on sys.path: the measured one goes before it
    import orjson
    sys.path.insert(0, root)
    import sync
    from server import audit
    from server.config import Settings
    from server.state import open_state
    from sync import Actor
    if not sync.__file__.startswith(root):
        raise SystemExit(f"measuring {sync.__file__}, not {root}")
    base = os.path.join(db_dir, "seeded.db")
    if not os.path.exists(base):
        _seeded_uuid4(1)
        _common._seed_here(base, 2, 10, 0)
    _seeded_uuid4(7)
    db = os.path.join(db_dir, "run.db")
    _common.copy_db(base, db)
    st = open_state(Settings(db_path=db))
    with st.db.read() as txn:
        uid = txn.execute("SELECT id FROM users WHERE username = 'bench-officer1'").fetchone()[0]
        cases = [tuple(r) for r in txn.execute(
            "SELECT c.id, json_extract(p.data, '$.household_id') FROM cases c "
            "JOIN pupils p ON p.id = json_extract(c.data, '$.pupil_id') "
            "WHERE json_extract(c.data, '$.assigned_officer_id') = ?", (uid,))]
    device = str(uuid.uuid4())
    actor = Actor(uid, "officer", device)
    changes = _common.visit_changes(count, cases, device)
    bodies = [orjson.dumps({"changes": changes[i:i + 500]}) for i in range(0, count, 500)]
    statuses: list[str] = []

    def stamp(txn: Any, out: Any) -> None:  # what the server writes with a batch
        audit.sync_record(txn, uid, device, "push", out.touched, {"changes": 500, "client_id": None},
                          at=out.server_time)
        txn.execute("UPDATE devices SET last_sync_at = ?, last_seen_at = ? WHERE id = ?",
                    (out.server_time, out.server_time, device))

    def push_all() -> None:
        for body in bodies:
            data = orjson.loads(body)
            if hasattr(sync, "prepare"):
                prepared = sync.prepare(actor, data["changes"])
                with st.db.write() as txn:
                    out = sync.apply(txn, prepared, st.clock)
                    stamp(txn, out)
            else:  # before 2026-12-05 push took a callback into its transaction
                out = sync.push(st.db, actor, data["changes"], st.clock, None, stamp)
            orjson.dumps(out.as_dict())
            statuses.extend(r.status for r in out.results)
        st.db.close()

    from server import util
    gc.collect()
    gc.freeze()
    gc.set_threshold(getattr(util, "GC_YOUNG_THRESHOLD", GC_YOUNG), 10, 10)  # as the checkout's server
    sys.call_tracing(push_all, ())
    if set(statuses) != {"applied"}:
        raise SystemExit(f"not every change applied: {sorted(set(statuses))}")


def instructions(root: str, count: int, db_dir: str) -> int:
    out = subprocess.run(
        ["valgrind", "--tool=callgrind", "--toggle-collect=sys_call_tracing", "--callgrind-out-file=/dev/null",
         sys.executable, __file__, "--child", root, str(count), db_dir],
        capture_output=True, text=True, env={**os.environ, "PYTHONHASHSEED": "0"}, check=False)
    found = re.search(r"Collected : (\d+)", out.stderr)
    if out.returncode != 0 or not found:
        raise SystemExit(f"callgrind run failed ({root}, {count}):\n{out.stdout}\n{out.stderr[-2000:]}")
    return int(found.group(1))


def main() -> None:
    if len(sys.argv) == 5 and sys.argv[1] == "--child":
        child(sys.argv[2], int(sys.argv[3]), sys.argv[4])
        return
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--root", action="append", help="a checkout to measure (default: this one)")
    ap.add_argument("--lo", type=int, default=500)
    ap.add_argument("--hi", type=int, default=4000)
    args = ap.parse_args()
    roots = [str(Path(r).resolve()) for r in (args.root or [HERE.parent])]
    figures = []
    for root in roots:
        db_dir = os.path.join(tempfile.gettempdir(), "push-instructions-" + hashlib.sha1(root.encode()).hexdigest()[:10])
        os.makedirs(db_dir, exist_ok=True)
        lo, hi = instructions(root, args.lo, db_dir), instructions(root, args.hi, db_dir)
        figures.append((hi - lo) // (args.hi - args.lo))
        print(f"{root}: {figures[-1]:,} instructions a change", flush=True)
    if len(figures) > 1:
        print(f"last ÷ first: {figures[-1] / figures[0]:.3f}")


if __name__ == "__main__":
    main()
