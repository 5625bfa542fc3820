"""Hybrid logical clock stamps, as PROTOCOL.md §6.

A stamp is ``<ms since epoch, 15 digits>-<counter, 6 digits>-<node id>`` and
stamps order as plain strings.
"""
from __future__ import annotations

import datetime as dt
import re
import threading
import time
from collections.abc import Callable
from typing import NamedTuple

HLC_RE = re.compile(r"^(\d{15})-(\d{6})-([A-Za-z0-9][A-Za-z0-9_.:-]{0,63})$")
MAX_COUNTER = 999_999


class Stamp(NamedTuple):
    """A parsed stamp; orders as (ms, counter, node), as the strings do."""

    ms: int
    counter: int
    node: str

    def __str__(self) -> str:
        return f"{self.ms:015d}-{self.counter:06d}-{self.node}"


def parse(stamp: object) -> Stamp:
    """Parse a stamp string; raise ValueError when it is not one."""
    if not isinstance(stamp, str):
        raise ValueError("an HLC stamp must be a string")
    m = HLC_RE.fullmatch(stamp)
    if m is None:
        raise ValueError("an HLC stamp looks like 001763799300000-000000-<node id>")
    return Stamp(int(m.group(1)), int(m.group(2)), m.group(3))


def is_valid(stamp: object) -> bool:
    return isinstance(stamp, str) and HLC_RE.fullmatch(stamp) is not None


def utc_iso(now: dt.datetime) -> str:
    """A wall-clock time as the protocol writes it: ``2026-11-23T08:15:02.418Z``."""
    return now.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + \
        f"{now.microsecond // 1000:03d}Z"


def now_ms() -> int:
    return time.time_ns() // 1_000_000


class Clock:
    """A thread-safe hybrid logical clock for one node."""

    def __init__(self, node: str, wall: Callable[[], int] = now_ms) -> None:
        self.node = node
        self._wall = wall
        self._ms = 0
        self._counter = 0
        self._lock = threading.Lock()

    def send(self) -> str:
        """A new stamp, later than every stamp this clock sent or received."""
        with self._lock:
            wall = self._wall()
            if wall > self._ms:
                self._ms, self._counter = wall, 0
            else:
                self._bump()
            return str(Stamp(self._ms, self._counter, self.node))

    def receive(self, stamp: str | Stamp) -> None:
        """Advance past a stamp seen from elsewhere."""
        other = stamp if isinstance(stamp, Stamp) else parse(stamp)
        with self._lock:
            if (other.ms, other.counter) > (self._ms, self._counter):
                self._ms, self._counter = other.ms, other.counter

    def _bump(self) -> None:
        if self._counter >= MAX_COUNTER:
            self._ms += 1
            self._counter = 0
        else:
            self._counter += 1
