"""``doorstep serve --workers 2`` on SQLite: each worker has its own ``Clock("server")``, and
the clock's mark in the database (sync/clock_mark.py) orders their stamps. Devices whose
clocks run up to two minutes fast (within the skew limit) push through both workers at once;
the answers' ``server_hlc``, in the order their batches were committed (their ``seq``),
strictly increase. Without the mark a worker that had received a fast device's stamp answers
later than the other worker's next commit."""
from __future__ import annotations

import sqlite3
import threading
import time
from typing import Any

import pytest

from sync import Clock
from sync.hlc import now_ms
from tests.live_server import LiveServer
from tests.race import Phone
from tests.server.test_workers import cli, sign_in, worker_pids

DEVICES, BATCHES = 4, 15
SKEW_MS = 40_000  # device k's clock runs k * 40 s fast


@pytest.mark.slow
def test_two_workers_answer_stamps_in_commit_order(tmp_path):
    db = str(tmp_path / "clock.db")
    cli(db, "init")
    cli(db, "user", "add", "office", "--role", "office")
    with LiveServer(db, "--workers", "2") as server:
        deadline = time.monotonic() + 15
        while len(worker_pids(server)) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(worker_pids(server)) >= 2, "serve --workers 2 runs two worker processes"
        devices = [sign_in(server.url, "office") for _ in range(DEVICES)]
        for k, device in enumerate(devices):
            device.clock = Clock(device.device_id, wall=lambda k=k: now_ms() + k * SKEW_MS)
        answers: list[tuple[list[str], str]] = []  # (the batch's record ids, its server_hlc)
        errors: list[BaseException] = []
        lock = threading.Lock()

        def pushes(device: Phone) -> None:
            try:
                for b in range(BATCHES):
                    batch = [device.change("school", {"name": f"Clock Primary {b}.{n}"}) for n in range(3)]
                    r = device.client.post("/api/sync/push", json={"client_id": device.device_id,
                                                                   "changes": batch})
                    assert r.status_code == 200, r.text
                    body: dict[str, Any] = r.json()
                    assert {x["status"] for x in body["results"]} == {"applied"}
                    device.clock.receive(body["server_hlc"])
                    with lock:
                        answers.append(([c["id"] for c in batch], body["server_hlc"]))
            except BaseException as exc:  # noqa: BLE001 - reported by the main thread
                errors.append(exc)

        threads = [threading.Thread(target=pushes, args=(d,)) for d in devices]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        assert not errors, errors
        for device in devices:
            device.client.close()

    conn = sqlite3.connect(db)
    try:
        seq = dict(conn.execute("SELECT entity_id, seq FROM changes WHERE type = 'school'").fetchall())
    finally:
        conn.close()
    assert len(answers) == DEVICES * BATCHES
    in_commit_order = [hlc for _, hlc in sorted((seq[ids[0]], hlc) for ids, hlc in answers)]
    assert all(a < b for a, b in zip(in_commit_order, in_commit_order[1:])), \
        "a server_hlc is not later than one committed before it"
