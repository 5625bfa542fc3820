"""The WAL copied back into the database file by a thread of its own, off the writers' path.

SQLite's automatic checkpoint runs inside the COMMIT of the write that takes the WAL past its
threshold: that request waits while tens of megabytes of pages are copied back and both files
synced. Here the writer leaves that to this thread (docs/performance.md, sync round thirteen):
``PERIOD_S`` after a write it opens a connection of its own, runs
``PRAGMA wal_checkpoint(PASSIVE)`` and closes it, at a lower CPU priority than the requests'
threads. On two cores the copy runs beside the next requests; a quarter of a second's WAL is
small enough that a pull soon after reads the database file, not the WAL, and large enough
that a page written again within it is copied back once. A passive checkpoint copies every
frame no reader still needs and never blocks a writer or a reader.

- Frames a reader still needs, a checkpoint that finds another running (another process's) or
  a fault (a full disk: logged once until one succeeds) are tried again a period later; a file
  that is gone is not.
- The thread ends after a period with no writes; the next write starts another. It holds no
  connection between checkpoints, so an idle database holds no thread and no file open here.
- Should the thread fall behind, the writer's own automatic checkpoint is still there, at four
  times the threshold it had (``server/storage.py``).
"""
from __future__ import annotations

import logging
import os
import sqlite3
import threading
from pathlib import Path

PERIOD_S = 0.25
NICE = 10
STOP_WAIT_S = 30.0

log = logging.getLogger("doorstep.storage")


class Checkpointer:
    """``wrote()`` after every commit; ``stop()`` once, before the database closes."""

    def __init__(self, path: str, period: float = PERIOD_S) -> None:
        self.path, self.period = path, period
        self.runs = 0  # checkpoints that ran
        self.last: tuple[int, int, int] | None = None  # (busy, frames in the WAL, frames copied back)
        self._lock = threading.Lock()
        self._pending = False
        self._failing = False
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def wrote(self) -> None:
        """Called after a COMMIT: never raises, so a committed write is never answered as failed
        (should no thread start, the writer's own checkpoint is the fallback)."""
        with self._lock:
            self._pending = True
            if self._thread is None and not self._stopping.is_set():
                thread = threading.Thread(target=self._run, name="doorstep-checkpoint", daemon=True)
                try:
                    thread.start()
                except RuntimeError as exc:  # "can't start new thread": out of threads or memory
                    log.warning("no WAL checkpoint thread (%s); the writer checkpoints at its own threshold", exc)
                    return
                self._thread = thread

    @property
    def running(self) -> bool:
        return self._thread is not None

    def stop(self) -> None:
        """End the thread (a checkpoint under way finishes first); later writes start none."""
        with self._lock:
            self._stopping.set()
            thread = self._thread
        if thread is not None:
            thread.join(STOP_WAIT_S)

    def _run(self) -> None:
        try:  # a background task: the requests' threads come first for the CPU (Linux: per thread)
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), NICE)
        except (AttributeError, OSError):
            pass
        while not self._stopping.wait(self.period):  # a period's writes, copied back together
            with self._lock:
                if not self._pending:
                    self._thread = None  # idle: the next write starts another thread
                    return
                self._pending = False
            self._checkpoint()
        with self._lock:
            self._thread = None

    def _checkpoint(self) -> None:
        uri = Path(self.path).resolve().as_uri() + "?mode=rw"  # never creates a file
        try:
            conn = sqlite3.connect(uri, uri=True, isolation_level=None)
            try:
                row = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            finally:
                conn.close()
        except sqlite3.Error as exc:
            if not Path(self.path).exists():
                return  # the file is gone (a test's, or moved away): nothing to copy back
            if not self._failing:
                log.warning("WAL checkpoint of %s failed; trying again every %g s: %s", self.path, self.period, exc)
            self._failing = True
            self._again()
            return
        if self._failing:
            log.warning("WAL checkpoint of %s succeeded again", self.path)
        self._failing = False
        self.runs += 1
        self.last = (int(row[0]), int(row[1]), int(row[2]))
        if self.last[0] or self.last[2] < self.last[1]:  # a reader still needs the rest
            self._again()

    def _again(self) -> None:
        with self._lock:
            self._pending = True
