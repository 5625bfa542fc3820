"""Whose caseload a push batch changes, and the scope events that say so (PROTOCOL.md §4.2).

Before a batch changes a record that decides an officer's scope (a case's officer, status or
pupil; a pupil's household; a run's driver; a stop's run, pupil or household), the scope of
every officer it concerns is read as it was; once the batch is written, what entered and left
each of those scopes becomes a scope event. ``sync.batch.Batch`` drives it.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .scope import members, officer_scope
from .store import Txn
from .types import Record, ScopeEvent

# the fields of each type that decide whose scope its records are in
SCOPE_ROOTS = {"case": ("assigned_officer_id", "status", "pupil_id"), "pupil": ("household_id",),
               "transport_run": ("driver_id",),
               "transport_stop": ("run_id", "pupil_id", "household_id")}


def decides_scope(type_: str, fields: dict[str, Any]) -> bool:
    roots = SCOPE_ROOTS.get(type_)
    return roots is not None and any(f in fields for f in roots)


class ScopeWatch:
    """The scopes, as they were before the batch, of the officers its changes concern.

    It keeps no reference to the batch: ``note`` is handed the batch's working-set read and
    flush. A watch holding the batch's bound methods would make a reference cycle of every
    batch, and everything a batch holds (its records, log rows, rows to write) would wait for
    the garbage collector instead of being freed when the push ends (docs/performance.md,
    "Sync round fourteen")."""

    def __init__(self, txn: Txn) -> None:
        self.txn = txn
        self.before: dict[str, set[tuple[str, str]]] = {}

    def note(self, t: str, fields: dict[str, Any], record: Record | None,
             load: Callable[[str, str], Record | None], flush: Callable[[], None]) -> None:
        """A change of ``record`` (None: new) to ``fields`` is about to be merged: read, once a
        batch, the scope of each officer whose caseload it may change (``load`` and ``flush``:
        the batch's working-set read and flush)."""
        users: set[Any] = set()  # officer ids; None where a record names nobody (discarded below)
        current = record.fields if record else {}
        if t == "case":
            users |= {current.get("assigned_officer_id"), fields.get("assigned_officer_id")}
        elif t == "transport_run":
            users |= {current.get("driver_id"), fields.get("driver_id")}
        elif t == "transport_stop":
            run_ids: set[str] = {current.get("run_id"), fields.get("run_id")} - {None}  # type: ignore[assignment]
            for run_id in run_ids:
                run = load("transport_run", run_id)
                if run is not None:
                    users.add(run.fields.get("driver_id"))
        elif t == "pupil" and record is not None:
            flush()
            users |= {c.fields.get("assigned_officer_id")
                      for c in self.txn.find("case", "pupil_id", [record.id])}
            stops = self.txn.find("transport_stop", "pupil_id", [record.id])
            run_ids = {s.fields["run_id"] for s in stops if s.fields.get("run_id") is not None}
            runs = self.txn.get("transport_run", run_ids)
            users |= {r.fields.get("driver_id") for r in runs.values()}
        users.discard(None)
        pending = [u for u in users if u not in self.before]
        if pending:
            flush()
            for user in pending:
                self.before[user] = members(self.txn, officer_scope(self.txn, user))

    def events(self) -> list[ScopeEvent]:
        """What entered and left each watched scope, read after the batch's records are saved."""
        out: list[ScopeEvent] = []
        for user, before in self.before.items():
            after = members(self.txn, officer_scope(self.txn, user))
            out += [ScopeEvent(user, type_, id_, "entered") for type_, id_ in sorted(after - before)]
            out += [ScopeEvent(user, type_, id_, "removed") for type_, id_ in sorted(before - after)]
        return out
