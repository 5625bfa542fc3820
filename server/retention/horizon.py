"""The compaction horizon over SQLite (docs/retention.md): where each device has pulled to, which
devices are active, advancing the horizon and removing the tombstones below it; and moving the
first run date still on phones (``sync.retire_runs``) once a day, at the first pull that sees it due.
"""
from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import sync
from sync.scope import RUNS_FROM

from ..migrations import ENTITY_TABLES
from ..storage import Busy, Database, SqliteTxn
from .policy import Periods
from .records import forget, json_ids

# every device, its user's state and when it was last heard from
_DEVICES = ("SELECT d.id, d.name, d.user_id, d.pulled_seq, d.revoked_at, u.active AS user_active, "
            "coalesce(d.last_sync_at, d.last_seen_at, d.created_at) AS seen FROM devices d "
            "JOIN users u ON u.id = d.user_id")


def iso(moment: dt.datetime) -> str:
    """The server's timestamp form (``server.util.now_iso``), for comparing stored times."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def record_pull(txn: SqliteTxn, device_id: str | None, held: int | None) -> None:
    """After a pull page: the position the device now holds (``sync.PullOutcome.held``)."""
    if device_id and held is not None:
        txn.execute("UPDATE devices SET pulled_seq = ? WHERE id = ?", (held, device_id))


@dataclass
class HorizonPlan:
    current: int
    new: int
    top: int
    active: int = 0  # devices that hold the horizon back (their positions count)
    behind: list[dict[str, Any]] = field(default_factory=list)  # idle devices a pull would reset
    tombstones: Counter[str] = field(default_factory=Counter)  # due now, per type

    def as_dict(self) -> dict[str, Any]:
        return {"from": self.current, "to": self.new, "top": self.top, "active_devices": self.active,
                "behind": len(self.behind), "tombstones": dict(self.tombstones)}


def is_active(device: dict[str, Any], seen_since: str) -> bool:
    """Active: not revoked, its user not deactivated, and heard from (a sync, a sign-in, a
    refresh) since ``seen_since``. Only an active device's position holds the horizon back."""
    return (device["revoked_at"] is None and bool(device["user_active"])
            and (device["seen"] or "") >= seen_since)


def plan(txn: SqliteTxn, periods: Periods, now: dt.datetime) -> HorizonPlan:
    seen_since = iso(now - dt.timedelta(days=periods.device_idle_days))
    devices = txn.rows(_DEVICES)
    held = [d["pulled_seq"] for d in devices if is_active(d, seen_since) and d["pulled_seq"] is not None]
    current, top = txn.horizon(), txn.max_seq()
    out = HorizonPlan(current, sync.next_horizon(current, held, top), top, len(held))
    out.behind = [d for d in devices if not is_active(d, seen_since) and d["revoked_at"] is None
                  and d["user_active"] and d["pulled_seq"] is not None and d["pulled_seq"] < out.new]
    before = iso(now - dt.timedelta(days=periods.tombstone_days))
    for type_, (table, _links) in ENTITY_TABLES.items():
        n = txn.execute(f"SELECT count(*) FROM {table} WHERE deleted = 1 AND seq <= ? "
                        "AND coalesce(updated_at, '') < ?", (out.new, before)).fetchone()[0]
        if n:
            out.tombstones[type_] = n
    return out


def advance(txn: SqliteTxn, new: int) -> None:
    """Move the horizon up to ``new`` (never down): a cursor below it is answered ``reset``."""
    txn.execute("UPDATE meta SET value = max(value, ?) WHERE key = 'horizon'", (new,))


def prune_slice(txn: SqliteTxn, periods: Periods, now: dt.datetime, limit: int) -> Counter[str]:
    """Remove at most ``limit`` tombstones at or below the horizon and older than the tombstone
    period, with their change-log rows, conflicts and review states."""
    horizon, before = txn.horizon(), iso(now - dt.timedelta(days=periods.tombstone_days))
    removed: Counter[str] = Counter()
    for type_, (table, _links) in ENTITY_TABLES.items():
        left = limit - sum(removed.values())
        if left <= 0:
            break
        ids = [r[0] for r in txn.execute(
            f"SELECT id FROM {table} WHERE deleted = 1 AND seq <= ? AND coalesce(updated_at, '') < ? "
            "ORDER BY seq LIMIT ?", (horizon, before, left))]
        if ids:
            forget(txn, type_, ids)
            txn.execute(f"DELETE FROM {table} WHERE id IN (SELECT value FROM json_each(?))", (json_ids(ids),))
            removed[type_] += len(ids)
    return removed


# -- runs leaving phones ------------------------------------------------------------

_checked: dict[str, int] = {}  # database path -> the first run day this process has seen applied


def retire_runs_if_due(db: Database, periods: Periods, today: dt.date) -> int:
    """At a pull: once a day, runs older than the period leave their drivers' phones (scope
    events, so the next pull purges them). A busy database leaves it to a later pull."""
    first = sync.first_run_day(today, periods.runs_on_phone_days)
    if _checked.get(db.path) == first.toordinal():
        return 0
    with db.read() as txn:
        due = txn.counter(RUNS_FROM) < first.toordinal()
    events = 0
    if due:
        try:
            with db.write(timeout=0.2) as txn:  # never more than a moment of the pull's own wait
                events = len(sync.retire_runs(txn, first))
        except Busy:
            return 0
    _checked[db.path] = first.toordinal()
    return events
