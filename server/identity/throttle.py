"""Sign-in throttling, decided before any password is hashed (docs/operations.md, "Sign-in
throttling").

Failed sign-ins are counted in the ``signin_throttle`` table, so every worker process sees the
same counts. Two kinds of row:

- ``addr:<address>`` — failures from one source address in a fixed window
  (``login_window_s``, 15 min). At ``signin_address_limit`` (300) every further sign-in from
  that address is refused with 429 until the window ends. Generous on purpose: a council's
  offices or a mobile carrier's CGNAT put a whole authority's staff behind one address.
- ``pair:<username>|<address>`` — failures of one username from one address. The first
  ``login_max_failures`` (5) are free; then each failure makes that pair wait 30 s, 1, 2, 4 …
  min, at most ``login_window_s``; a pair is forgotten a day after its last failure or at
  its first success. Nothing is counted per account across addresses, so a stranger elsewhere
  can never lock the real officer out: they only slow down their own address.

Each process also remembers the addresses it has seen refused (until their window ends), so
the sign-in handler refuses them first thing, before reading the body, with no database read
and after holding the answer back ``HOLD_BACK_S`` (``hold_back``: an idle coroutine, no thread):
a flood that has spent its address's budget costs little more than its HTTP parsing, and a
client that waits for each answer before the next cannot send more than one a second a
connection. The database stays the one record; a process that has not seen the refusal yet
finds it there at the next attempt.

An attempt is counted as a failure *before* its hash (in the same write transaction as the
check), so a burst of parallel attempts cannot all slip past the check; a success gives the
count back. A refusal is one read and no write. Unknown usernames are hashed against a dummy
hash like a wrong password (so timing does not tell which usernames exist), and only while
their address and pair are within the limits, so each costs exactly one hash, never more.
"""
from __future__ import annotations

import asyncio
import math
import os
import threading
import time
from dataclasses import dataclass
from typing import Any, Protocol

from argon2 import PasswordHasher

from ..errors import ApiError
from ..monitor import metrics
from ..storage import Busy, Database, SqliteTxn

FIRST_DELAY_S = 30  # a pair's wait after its last free failure; doubles with each failure after
PAIR_MEMORY_S = 24 * 3600  # a pair's failures are forgotten this long after the last one
PRUNE_BATCH = 200  # forgotten rows deleted per recorded attempt (keeps the table small)
# argon2 hashes at once per process (46 MiB each): bounds memory under any flood
HASH_SLOTS = max(1, int(os.environ.get("DOORSTEP_HASH_SLOTS", "2") or 2))
HASH_WAIT_S = 5.0
HOLD_BACK_S = 1.0  # a refused address's 429 is sent this much later
REMEMBERED = 10_000  # refused addresses one process remembers (forgets them all past that)

_refused: dict[tuple[str, str], float] = {}  # (database, address) -> time.time() it is refused until


class Limits(Protocol):
    """What the throttle reads from the settings (server/config.py)."""

    login_max_failures: int
    login_window_s: int
    signin_address_limit: int


@dataclass(frozen=True)
class Policy:
    free_failures: int = 5
    window_s: int = 15 * 60
    address_limit: int = 300

    @classmethod
    def of(cls, settings: Limits) -> Policy:
        return cls(max(1, settings.login_max_failures), max(1, settings.login_window_s),
                   max(1, settings.signin_address_limit))

    def pair_delay(self, failures: int) -> float:
        """How long a pair waits after its ``failures``-th failure."""
        if failures < self.free_failures:
            return 0.0
        return float(min(self.window_s, FIRST_DELAY_S * 2 ** min(failures - self.free_failures, 20)))


def _keys(username: str, address: str) -> tuple[str, str]:
    return f"addr:{address}", f"pair:{username.lower()}|{address}"


def _refusal(db: Database, rows: list[dict[str, Any]], username: str, address: str, policy: Policy,
             now: float) -> ApiError | None:
    """The 429 these rows call for now, or None."""
    addr_key, pair_key = _keys(username, address)
    for row in rows:
        if row["key"] == addr_key:
            left = row["first_at"] + policy.window_s - now
            if left > 0 and row["failures"] >= policy.address_limit:
                if len(_refused) >= REMEMBERED:
                    _refused.clear()
                _refused[(db.path, address)] = now + left
                return _too_many("address", left)
        elif row["key"] == pair_key and now - row["last_at"] < PAIR_MEMORY_S:
            left = row["last_at"] + policy.pair_delay(row["failures"]) - now
            if left > 0:
                return _too_many("account", left)
    return None


def _too_many(scope: str, left: float) -> ApiError:
    metrics.SIGNIN_THROTTLED.labels(scope).inc()
    retry = max(1, math.ceil(left))
    return ApiError(429, "rate_limited", "too many failed sign-ins; try again later",
                    {"retry_after_s": retry}, headers={"Retry-After": str(retry)})


def refuse_early(db: Database, address: str) -> None:
    """Raise the 429 at once if this process has seen ``address`` refused and its window has
    not ended: the sign-in handler's first call, before it reads the body."""
    until = _refused.get((db.path, address))
    if until is not None:
        left = until - time.time()
        if left > 0:
            raise _too_many("address", left)
        _refused.pop((db.path, address), None)


async def hold_back(db: Database, address: str) -> None:
    """``refuse_early``, the 429 sent after ``HOLD_BACK_S``: the sign-in handler's first call."""
    try:
        refuse_early(db, address)
    except ApiError:
        await asyncio.sleep(HOLD_BACK_S)
        raise


def _rows(txn: SqliteTxn, username: str, address: str) -> list[dict[str, Any]]:
    return txn.rows("SELECT key, failures, first_at, last_at FROM signin_throttle WHERE key IN (?, ?)",
                    _keys(username, address))


def check(db: Database, username: str, address: str, policy: Policy) -> None:
    """Raise the 429 if this address or this (username, address) pair must wait: one read (none
    for an address this process has seen refused)."""
    refuse_early(db, address)
    with db.read() as txn:
        refusal = _refusal(db, _rows(txn, username, address), username, address, policy, time.time())
    if refusal is not None:
        raise refusal


def reserve(db: Database, username: str, address: str, policy: Policy) -> None:
    """Check again under the write lock and count this attempt as a failure (given back by
    ``succeeded``): parallel attempts are counted one by one, before any of them hashes."""
    now = time.time()
    addr_key, pair_key = _keys(username, address)
    with db.write() as txn:
        refusal = _refusal(db, _rows(txn, username, address), username, address, policy, now)
        if refusal is None:
            txn.execute(
                "INSERT INTO signin_throttle AS t (key, failures, first_at, last_at) VALUES (?, 1, ?, ?) "
                "ON CONFLICT(key) DO UPDATE SET failures = CASE WHEN ? - t.first_at >= ? THEN 1 "
                "ELSE t.failures + 1 END, first_at = CASE WHEN ? - t.first_at >= ? THEN ? ELSE t.first_at END, "
                "last_at = ?", (addr_key, now, now, now, policy.window_s, now, policy.window_s, now, now))
            txn.execute(
                "INSERT INTO signin_throttle AS t (key, failures, first_at, last_at) VALUES (?, 1, ?, ?) "
                "ON CONFLICT(key) DO UPDATE SET failures = CASE WHEN ? - t.last_at >= ? THEN 1 "
                "ELSE t.failures + 1 END, last_at = ?", (pair_key, now, now, now, PAIR_MEMORY_S, now))
            txn.execute("DELETE FROM signin_throttle WHERE rowid IN (SELECT rowid FROM signin_throttle "
                        "WHERE last_at < ? LIMIT ?)", (now - PAIR_MEMORY_S, PRUNE_BATCH))
    if refusal is not None:
        raise refusal


def succeeded(db: Database, username: str, address: str) -> None:
    """The password was right: the address gets its failure back and the pair is forgotten."""
    addr_key, pair_key = _keys(username, address)
    with db.write() as txn:
        txn.execute("UPDATE signin_throttle SET failures = max(0, failures - 1) WHERE key = ?", (addr_key,))
        txn.execute("DELETE FROM signin_throttle WHERE key = ?", (pair_key,))


def failed() -> None:
    """The password was wrong (already counted by ``reserve``)."""
    metrics.SIGNIN_FAILURES.inc()


class CountingHasher(PasswordHasher):
    """argon2's hasher, counting every hash it computes (``doorstep_password_hashes_total``) and
    computing at most ``HASH_SLOTS`` at once in this process; a hash that cannot start within
    ``HASH_WAIT_S`` is ``Busy`` (503 with ``Retry-After``), so memory stays bounded."""

    _slots = threading.BoundedSemaphore(HASH_SLOTS)

    def _slot(self) -> None:
        if not self._slots.acquire(timeout=HASH_WAIT_S):
            raise Busy(message="Too many sign-ins at once; try again shortly.")
        metrics.PASSWORD_HASHES.inc()

    def hash(self, password: str | bytes, *, salt: bytes | None = None) -> str:
        self._slot()
        try:
            return super().hash(password, salt=salt)
        finally:
            self._slots.release()

    def verify(self, hash: str | bytes, password: str | bytes) -> bool:  # noqa: A002 (argon2's name)
        self._slot()
        try:
            return super().verify(hash, password)
        finally:
            self._slots.release()
