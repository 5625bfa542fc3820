"""The server clock across app servers on one PostgreSQL database (sync/clock_mark.py): two
stores on their own connections, as two servers would have, each with its own
``Clock("server")`` and one wall clock minutes behind the other, push at once from two threads;
their answers' ``server_hlc``, in commit (``seq``) order, strictly increase."""
from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from typing import Any

from sync import ADMIN, Actor, Clock, apply, prepare
from sync.hlc import now_ms

ADMIN_ID = "ad000000-0000-4000-8000-000000000001"
ADMIN_A = Actor(ADMIN_ID, ADMIN, "seed")
BEHIND_MS = 3 * 60 * 1000


def _server(pg_url: str, n: int, behind_ms: int, batches: int, start: threading.Barrier,
            out: list[tuple[int, str]]) -> None:
    """One app server's push path: its own store (connection) and server clock."""
    from server.pg import PgDatabase

    db = PgDatabase(pg_url)
    server = Clock("server", wall=lambda: now_ms() - behind_ms)
    device = Clock(f"dev-{n}")
    try:
        start.wait()
        for _ in range(batches):
            changes = [{"change_id": str(uuid.uuid4()), "type": "school", "id": str(uuid.uuid4()),
                        "op": "put", "fields": {"name": f"School {n}"}, "base_version": None,
                        "hlc": device.send()} for _ in range(2)]
            prepared = prepare(ADMIN_A, changes)
            with db.write(timeout=60) as txn:
                answer = apply(txn, prepared, server)
                out.append((txn.max_seq(), answer.server_hlc))
            assert [r.status for r in answer.results] == ["applied", "applied"]
    finally:
        db.close()


def test_concurrent_pushes_through_two_servers_answer_stamps_in_commit_order(
        pg_store: Callable[[], Any], pg_url: str) -> None:
    pg_store().users[ADMIN_ID] = ADMIN
    batches, start = 25, threading.Barrier(2)
    out: list[tuple[int, str]] = []
    errors: list[BaseException] = []

    def run(n: int, behind_ms: int) -> None:
        try:
            _server(pg_url, n, behind_ms, batches, start, out)
        except BaseException as exc:  # reported below, not lost in the thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(n, behind)) for n, behind in ((1, 0), (2, BEHIND_MS))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert len(out) == 2 * batches
    in_commit_order = [hlc for _, hlc in sorted(out)]
    assert len({seq for seq, _ in out}) == len(out)
    assert all(a < b for a, b in zip(in_commit_order, in_commit_order[1:])), \
        "a server_hlc is not later than one committed before it"
