"""The PostgreSQL store's write lock and pull cursor (docs/postgresql.md): writers through
separate connections are serialised, a read is one snapshot, and a puller following the cursor
while several processes push loses, duplicates and skips nothing."""
from __future__ import annotations

import multiprocessing
import random
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from collections.abc import Callable
from typing import Any

import orjson
import pytest

from server.storage import Busy
from sync import ADMIN, Actor, Clock, apply, decode_cursor, prepare, pull

ADMIN_ID = "ad000000-0000-4000-8000-000000000001"
ADMIN_A = Actor(ADMIN_ID, ADMIN, "seed")


def _db(pg_url: str) -> Any:
    from server.pg import PgDatabase

    return PgDatabase(pg_url)


def _school(clock: Clock) -> dict[str, Any]:
    return {"change_id": str(uuid.uuid4()), "type": "school", "id": str(uuid.uuid4()), "op": "put",
            "fields": {"name": "Balby Primary"}, "base_version": None, "hlc": clock.send()}


def test_a_second_writer_waits_for_the_first_and_gives_up_busy(pg_store: Callable[[], Any], pg_url: str) -> None:
    pg_store()
    first, second = _db(pg_url), _db(pg_url)
    try:
        with first.write() as txn:
            txn.set_max_seq(1)
            with pytest.raises(Busy), second.write(timeout=0.2) as other:
                other.set_max_seq(99)  # never reached: the lock is held by ``first``
        with second.write() as txn:  # free again once the first committed
            assert txn.max_seq() == 1
    finally:
        first.close()
        second.close()


def test_a_read_is_one_snapshot(pg_store: Callable[[], Any], pg_url: str) -> None:
    pg_store()
    reader, writer = _db(pg_url), _db(pg_url)
    try:
        with reader.read() as snapshot:
            before = snapshot.max_seq()
            with writer.write() as txn:
                txn.set_max_seq(before + 5)
            assert snapshot.max_seq() == before
        with reader.read() as later:
            assert later.max_seq() == before + 5
    finally:
        reader.close()
        writer.close()


def test_a_failed_write_leaves_no_trace_and_frees_the_lock(pg_store: Callable[[], Any], pg_url: str) -> None:
    pg_store()
    db = _db(pg_url)
    try:
        with pytest.raises(ValueError), db.write() as txn:
            txn.set_max_seq(7)
            raise ValueError
        with db.write(timeout=0.2) as txn:
            assert txn.max_seq() == 0
    finally:
        db.close()


def _writer(pg_url: str, n: int, batches: int, per_batch: int) -> list[str]:
    """One writer (an app server's push path on its own connection and server clock): pushes
    batches of new records, holding each transaction open a little after taking its positions,
    so that without the write lock a later position would often commit first."""
    db, rng = _db(pg_url), random.Random(n)
    server, device = Clock(f"server-{n}"), Clock(f"dev-{n}")
    pushed: list[str] = []
    try:
        for _ in range(batches):
            changes = [_school(device) for _ in range(per_batch)]
            prepared = prepare(ADMIN_A, changes)
            with db.write(timeout=60) as txn:
                out = apply(txn, prepared, server)
                time.sleep(rng.uniform(0, 0.004))  # hold the transaction open
            assert [r.status for r in out.results] == ["applied"] * per_batch
            pushed += [c["id"] for c in changes]
    finally:
        db.close()
    return pushed


def _server_process(pg_url: str, n: int, batches: int, per_batch: int) -> list[str]:
    """A process standing for one app server: two writers at once, on two connections."""
    with ThreadPoolExecutor(2) as pool:
        runs = [pool.submit(_writer, pg_url, n * 10 + k, batches, per_batch) for k in range(2)]
        return [i for run in runs for i in run.result()]


@pytest.mark.slow
def test_a_cursor_following_puller_misses_nothing_while_processes_race(pg_store: Callable[[], Any],
                                                                        pg_url: str) -> None:
    """3 processes with 2 writers each push batches of new records while a puller in this
    process pages through the cursor: nothing lost, duplicated or skipped, the cursor never
    moves back."""
    pg_store().users[ADMIN_ID] = ADMIN
    processes, batches, per_batch = 3, 10, 3
    db, clock, cursor = _db(pg_url), Clock("server-p"), None
    seen: list[str] = []
    positions: list[int] = []
    try:
        with multiprocessing.get_context("spawn").Pool(processes) as pool:
            pushing = pool.starmap_async(_server_process, [(pg_url, n, batches, per_batch)
                                                           for n in range(processes)])
            while True:
                finished = pushing.ready()  # read before the pull: a pull after it sees every commit
                body = pull(db, ADMIN_A, cursor, 7, clock).body
                seen += [orjson.loads(orjson.dumps(item))["id"] for item in body["changes"]]
                cursor = body["cursor"]
                positions.append(decode_cursor(cursor))
                if finished and not body["has_more"]:
                    break
            pushed = [i for ids in pushing.get() for i in ids]
    finally:
        db.close()
    assert len(pushed) == processes * 2 * batches * per_batch
    assert len(seen) == len(set(seen)), "a change was delivered twice"
    assert set(seen) == set(pushed), "a change was lost or skipped"
    assert positions == sorted(positions), "the cursor moved back"


def test_a_write_inside_a_write_on_one_thread_is_refused(pg_store: Callable[[], Any], pg_url: str) -> None:
    pg_store()
    db = _db(pg_url)
    try:
        with pytest.raises(RuntimeError, match="inside a write"), db.write() as txn:
            txn.set_max_seq(3)
            with db.write():
                pass
        with db.read() as txn:
            assert txn.max_seq() == 0  # the outer write rolled back
    finally:
        db.close()
