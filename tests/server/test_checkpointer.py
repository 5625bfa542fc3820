"""The WAL is copied back by the checkpoint thread (server/checkpointer.py), not by the commit
that crosses a threshold; the thread ends when idle and when the database closes."""
from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from server.checkpointer import Checkpointer
from server.storage import Database

ROWS = 2_000  # about 400 pages of WAL


def _until(done: Callable[[], bool], seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if done():
            return True
        time.sleep(0.02)
    return done()


def _fill(db: Database, rows: int = ROWS) -> None:
    with db.write() as txn:
        txn.execute("CREATE TABLE IF NOT EXISTS filler (k INTEGER PRIMARY KEY, v TEXT)")
    for lo in range(0, rows, 500):
        with db.write() as txn:
            txn.executemany("INSERT INTO filler (v) VALUES (?)", [(os.urandom(400).hex(),)] * 500)


def _all_copied(db: Database) -> bool:
    last = db.checkpointer.last
    return last is not None and last[0] == 0 and last[1] > 0 and last[2] == last[1]


@pytest.fixture
def db(tmp_path: Path):
    d = Database(tmp_path / "ck.db")
    d.migrate()
    yield d
    d.close()


def test_writes_are_copied_back_by_the_thread_within_about_a_period(db: Database) -> None:
    _fill(db)
    assert _until(lambda: db.checkpointer.runs >= 1), "no checkpoint ran within 10 s of the writes"
    busy, frames, copied = db.checkpointer.last or (1, 0, 0)
    assert busy == 0 and frames >= 300 and copied == frames, db.checkpointer.last
    # what the WAL held is in the database file now: a fresh read of it sees every row
    with db.read() as txn:
        assert txn.execute("SELECT count(*) FROM filler").fetchone()[0] == ROWS


def test_the_thread_ends_when_idle_and_a_later_write_starts_another(db: Database) -> None:
    _fill(db, 500)
    assert _until(lambda: db.checkpointer.runs >= 1)
    assert _until(lambda: not db.checkpointer.running, 5.0), "the thread did not end after an idle period"
    before = db.checkpointer.runs
    _fill(db, 500)
    assert _until(lambda: db.checkpointer.runs > before), "a write after the thread ended started no other"


def test_a_reader_holding_frames_gets_them_copied_back_once_it_lets_go(db: Database) -> None:
    _fill(db, 500)
    assert _until(lambda: db.checkpointer.runs >= 1)
    reader = sqlite3.connect(db.path, isolation_level=None)
    try:
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM filler").fetchone()  # holds this snapshot
        _fill(db, 500)  # the reader's snapshot keeps the checkpoint from copying all of these back
        runs = db.checkpointer.runs
        assert _until(lambda: db.checkpointer.runs > runs)
        assert not _all_copied(db), db.checkpointer.last
        reader.execute("COMMIT")
    finally:
        reader.close()
    assert _until(lambda: _all_copied(db)), db.checkpointer.last  # tried again until all are copied back


def test_closing_stops_the_thread_and_later_writes_start_none(tmp_path: Path) -> None:
    d = Database(tmp_path / "close.db")
    d.migrate()
    _fill(d, 500)
    d.close()
    assert not d.checkpointer.running
    d.checkpointer.wrote()
    assert not d.checkpointer.running


def test_a_checkpoint_that_fails_is_logged_once_and_tried_again(tmp_path: Path, caplog) -> None:
    path = tmp_path / "broken.db"
    path.write_bytes(b"not a database " * 100)  # opens, and the checkpoint fails
    ck = Checkpointer(str(path), period=0.05)
    with caplog.at_level(logging.WARNING, logger="doorstep.storage"):
        ck.wrote()
        assert _until(lambda: any("failed" in r.message for r in caplog.records), 5.0)
        time.sleep(0.3)  # several more periods: tried again, not logged again
        assert ck.running and ck.runs == 0
        assert len([r for r in caplog.records if "failed" in r.message]) == 1
        fresh = tmp_path / "fresh.db"
        sqlite3.connect(fresh).close()
        os.replace(fresh, path)  # a database again, in one step: the file is never missing (that ends the thread)
        assert _until(lambda: ck.runs >= 1, 5.0)
        assert any("succeeded again" in r.message for r in caplog.records)
    ck.stop()
    assert not ck.running


def test_a_file_that_is_gone_ends_the_thread(tmp_path: Path) -> None:
    path = tmp_path / "gone.db"
    sqlite3.connect(path).close()
    ck = Checkpointer(str(path), period=0.05)
    path.unlink()
    ck.wrote()
    assert _until(lambda: not ck.running, 5.0)
    assert ck.runs == 0


def test_a_write_commits_and_answers_even_when_no_thread_can_start(db: Database, monkeypatch, caplog) -> None:
    class NoThread(threading.Thread):
        def start(self) -> None:
            raise RuntimeError("can't start new thread")

    monkeypatch.setattr(threading, "Thread", NoThread)  # the fault: the process is out of threads
    with caplog.at_level(logging.WARNING, logger="doorstep.storage"):
        _fill(db, 500)
    with db.read() as txn:
        assert txn.execute("SELECT count(*) FROM filler").fetchone()[0] == 500
    assert not db.checkpointer.running
    assert any("no WAL checkpoint thread" in r.message for r in caplog.records)
