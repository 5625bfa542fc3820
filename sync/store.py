"""The storage seam of the sync engine, and an in-memory store for tests.

The engine talks to storage only through ``Store`` (transactions) and ``Txn``
(what one transaction can do). ``server.storage`` is the SQLite adapter.
"""
from __future__ import annotations

import copy
import threading
from collections.abc import Collection, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, Protocol

from .pull_item import record_item
from .scope import TypeFilter
from .types import AppliedChange, Conflict, Record, ScopeEvent


class Txn(Protocol):
    def get(self, type_: str, ids: Iterable[str]) -> dict[str, Record]: ...
    def find(self, type_: str, field_: str, values: Iterable[Any]) -> list[Record]: ...
    def links(self, type_: str, field_: str, values: Iterable[Any],
              columns: tuple[str, ...]) -> list[tuple[Any, ...]]:
        """``(id, deleted, *columns)`` of each record whose ``field_`` (``"id"``: its id) is one
        of ``values``, deleted ones included: ids and link values as text, without decoding a
        record (the scope's reads, sync/scope.py)."""
    def save(self, records: list[Record]) -> None: ...
    def max_seq(self) -> int: ...
    def set_max_seq(self, seq: int) -> None: ...
    def horizon(self) -> int: ...
    def counter(self, key: str) -> int:
        """A named number the server keeps (0 when never set), e.g. ``scope.RUNS_FROM``."""
    def set_counter(self, key: str, value: int) -> None: ...
    def user_role(self, user_id: str) -> str | None: ...
    def people(self, user_ids: Iterable[str], device_ids: Iterable[str]) -> tuple[dict[str, str], dict[str, str]]:
        """Names people read: ``({user id: display name}, {device id: device name})`` for those
        known (the records the server writes for officers, sync/notices.py)."""
    def applied(self, change_ids: Collection[str]) -> dict[str, AppliedChange]: ...
    def log_changes(self, rows: list[AppliedChange]) -> None: ...
    def history(self, type_: str, entity_id: str) -> list[AppliedChange]: ...
    def add_conflicts(self, conflicts: list[Conflict]) -> None: ...
    def get_conflict(self, conflict_id: str) -> Conflict | None: ...
    def update_conflict(self, conflict: Conflict) -> None: ...
    def list_conflicts(self, status: str | None, after: str | None, limit: int) -> list[Conflict]: ...
    def add_scope_events(self, events: list[ScopeEvent]) -> None: ...
    def scope_events_since(self, user_id: str, seq: int, limit: int) -> list[ScopeEvent]: ...
    def has_scope_event(self, user_id: str, type_: str, entity_id: str) -> bool: ...
    def changed_since(self, type_: str, seq: int, limit: int, where: TypeFilter | None,
                      include_deleted: bool) -> list[Record]: ...
    def changed_items(self, type_: str, seq: int, limit: int, where: TypeFilter | None,
                      include_deleted: bool) -> list[tuple[int, str, str, Any]]:
        """``(seq, type, id, pull item)``: the item as ``record_item`` decodes it, or its JSON as
        ``pull_item`` encodes it, wrapped in an ``orjson.Fragment``."""


class Store(Protocol):
    def write(self) -> Any:
        """Context manager: one exclusive write transaction yielding a Txn."""

    def read(self) -> Any:
        """Context manager: one consistent read snapshot yielding a Txn."""


class MemoryStore:
    """Everything in dicts; a write that raises leaves no trace."""

    def __init__(self) -> None:
        self.records: dict[str, dict[str, Record]] = {}
        self.changes: dict[str, AppliedChange] = {}
        self.conflicts: dict[str, Conflict] = {}
        self.events: dict[tuple[str, str, str], ScopeEvent] = {}
        self.users: dict[str, str] = {}
        self.names: dict[str, str] = {}  # user id -> display name
        self.device_names: dict[str, str] = {}
        self.seq = 0
        self.horizon_seq = 0
        self.counters: dict[str, int] = {}
        self._lock = threading.RLock()

    @contextmanager
    def write(self) -> Iterator[MemoryTxn]:
        with self._lock:
            saved = copy.deepcopy((self.records, self.changes, self.conflicts, self.events, self.seq, self.counters))
            try:
                yield MemoryTxn(self)
            except BaseException:
                self.records, self.changes, self.conflicts, self.events, self.seq, self.counters = saved
                raise

    @contextmanager
    def read(self) -> Iterator[MemoryTxn]:
        with self._lock:
            yield MemoryTxn(self)


class MemoryTxn:
    def __init__(self, store: MemoryStore) -> None:
        self.s = store

    def _table(self, type_: str) -> dict[str, Record]:
        return self.s.records.setdefault(type_, {})

    def get(self, type_: str, ids: Iterable[str]) -> dict[str, Record]:
        table = self._table(type_)
        return {i: copy.deepcopy(table[i]) for i in ids if i in table}

    def find(self, type_: str, field_: str, values: Iterable[Any]) -> list[Record]:
        wanted = set(values)
        return [copy.deepcopy(r) for r in self._table(type_).values()
                if r.fields.get(field_) in wanted]

    def links(self, type_: str, field_: str, values: Iterable[Any],
              columns: tuple[str, ...]) -> list[tuple[Any, ...]]:
        wanted = set(values)
        return [(r.id, r.deleted, *(r.fields.get(c) for c in columns)) for r in self._table(type_).values()
                if (r.id if field_ == "id" else r.fields.get(field_)) in wanted]

    def save(self, records: list[Record]) -> None:
        for r in records:
            self._table(r.type)[r.id] = copy.deepcopy(r)

    def max_seq(self) -> int:
        return self.s.seq

    def set_max_seq(self, seq: int) -> None:
        self.s.seq = seq

    def horizon(self) -> int:
        return self.s.horizon_seq

    def counter(self, key: str) -> int:
        return self.s.counters.get(key, 0)

    def set_counter(self, key: str, value: int) -> None:
        self.s.counters[key] = value

    def user_role(self, user_id: str) -> str | None:
        return self.s.users.get(user_id)

    def people(self, user_ids: Iterable[str], device_ids: Iterable[str]) -> tuple[dict[str, str], dict[str, str]]:
        return ({u: self.s.names[u] for u in user_ids if u in self.s.names},
                {d: self.s.device_names[d] for d in device_ids if d in self.s.device_names})

    def applied(self, change_ids: Collection[str]) -> dict[str, AppliedChange]:
        return {c: self.s.changes[c] for c in change_ids if c in self.s.changes}

    def log_changes(self, rows: list[AppliedChange]) -> None:
        for row in rows:
            self.s.changes[row.change_id] = row

    def history(self, type_: str, entity_id: str) -> list[AppliedChange]:
        rows = [c for c in self.s.changes.values() if c.type == type_ and c.entity_id == entity_id]
        return sorted(rows, key=lambda c: c.seq)

    def add_conflicts(self, conflicts: list[Conflict]) -> None:
        for c in conflicts:
            self.s.conflicts[c.id] = copy.deepcopy(c)

    def get_conflict(self, conflict_id: str) -> Conflict | None:
        c = self.s.conflicts.get(conflict_id)
        return copy.deepcopy(c) if c else None

    def update_conflict(self, conflict: Conflict) -> None:
        self.s.conflicts[conflict.id] = copy.deepcopy(conflict)

    def list_conflicts(self, status: str | None, after: str | None, limit: int) -> list[Conflict]:
        rows = sorted(self.s.conflicts.values(), key=lambda c: (c.created_at or "", c.id))
        rows = [c for c in rows if status is None or c.status == status]
        if after:
            rows = [c for c in rows if (c.created_at or "", c.id) > tuple(after.split("|", 1))]
        return copy.deepcopy(rows[:limit])

    def add_scope_events(self, events: list[ScopeEvent]) -> None:
        for e in events:
            self.s.events[(e.user_id, e.type, e.entity_id)] = copy.deepcopy(e)

    def scope_events_since(self, user_id: str, seq: int, limit: int) -> list[ScopeEvent]:
        rows = sorted((e for e in self.s.events.values() if e.user_id == user_id and e.seq > seq),
                      key=lambda e: e.seq)
        return copy.deepcopy(rows[:limit])

    def has_scope_event(self, user_id: str, type_: str, entity_id: str) -> bool:
        return (user_id, type_, entity_id) in self.s.events

    def changed_since(self, type_: str, seq: int, limit: int, where: TypeFilter | None,
                      include_deleted: bool) -> list[Record]:
        rows = [r for r in self._table(type_).values()
                if r.seq > seq and (include_deleted or not r.deleted)
                and (where is None or where.matches(r))]
        rows.sort(key=lambda r: r.seq)
        return copy.deepcopy(rows[:limit])

    def changed_items(self, type_: str, seq: int, limit: int, where: TypeFilter | None,
                      include_deleted: bool) -> list[tuple[int, str, str, Any]]:
        return [(r.seq, r.type, r.id, record_item(r))
                for r in self.changed_since(type_, seq, limit, where, include_deleted)]
