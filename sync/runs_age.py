"""Transport runs leave their driver's phone some days after their date (docs/retention.md).

The scope rule reads one number the store keeps, ``scope.RUNS_FROM``: the first run date still
on phones. ``retire_runs`` moves it forward inside the caller's write transaction and records,
as a closed case does, a ``removed`` scope event for every run, stop, pupil and household that
leaves a driver's scope with it, so the driver's next pull purges them (PROTOCOL.md §4).
"""
from __future__ import annotations

import datetime as dt

from .scope import RUNS_FROM, members, officer_scope
from .store import Txn
from .types import ScopeEvent

# a first move scans every run; later moves look up the run dates between the old and new day
_SCAN_ALL = 10**9


def retire_runs(txn: Txn, first_day: dt.date) -> list[ScopeEvent]:
    """Take runs dated before ``first_day`` off their drivers' phones (never moves back)."""
    current, new = txn.counter(RUNS_FROM), first_day.toordinal()
    if new <= current:
        return []
    if current > 0:
        days = [dt.date.fromordinal(d).isoformat() for d in range(current, new)]
        runs = txn.find("transport_run", "date", days)
    else:
        limit = first_day.isoformat()
        runs = [r for r in txn.changed_since("transport_run", 0, _SCAN_ALL, None, include_deleted=False)
                if str(r.fields.get("date") or "9999") < limit]
    drivers = sorted({r.fields["driver_id"] for r in runs if not r.deleted and r.fields.get("driver_id")})
    before = {user: members(txn, officer_scope(txn, user)) for user in drivers}
    txn.set_counter(RUNS_FROM, new)
    events: list[ScopeEvent] = []
    seq = txn.max_seq()
    for user in drivers:
        for type_, id_ in sorted(before[user] - members(txn, officer_scope(txn, user))):
            seq += 1
            events.append(ScopeEvent(user, type_, id_, "removed", seq))
    if events:
        txn.add_scope_events(events)
        txn.set_max_seq(seq)
    return events


def first_run_day(today: dt.date, keep_days: int) -> dt.date:
    """The first run date kept on phones when runs stay ``keep_days`` days after their date."""
    return today - dt.timedelta(days=max(0, keep_days))
