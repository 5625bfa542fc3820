"""``PgTestStore``: the PostgreSQL store with the views the engine's tests read on the memory
store (``records``, ``changes``, ``conflicts``, ``seq``, ``horizon_seq``, ``users``), so those
tests' bodies run unchanged against PostgreSQL. Every view reads or writes the database."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson

from server.migrations import ENTITY_TABLES
from server.pg import PgDatabase, PgTxn
from server.pg.schema import tables
from server.sqlite_txn import table_of
from sync import AppliedChange, Conflict, Record


class _Table:
    def __init__(self, store: PgTestStore, type_: str) -> None:
        self.store, self.type = store, type_

    def _ids(self) -> list[str]:
        return [r["id"] for r in self.store.query(f"SELECT id FROM {table_of(self.type)} ORDER BY id")]

    def __getitem__(self, id_: str) -> Record:
        with self.store.read() as txn:
            return txn.get(self.type, [id_])[id_]

    def get(self, id_: str, default: Any = None) -> Any:
        try:
            return self[id_]
        except KeyError:
            return default

    def __contains__(self, id_: object) -> bool:
        return self.get(str(id_)) is not None

    def __iter__(self) -> Iterator[str]:
        return iter(self._ids())

    def __len__(self) -> int:
        return len(self._ids())

    def keys(self) -> list[str]:
        return self._ids()

    def values(self) -> list[Record]:
        with self.store.read() as txn:
            return list(txn.get(self.type, self._ids()).values())

    def items(self) -> list[tuple[str, Record]]:
        return [(r.id, r) for r in self.values()]

    def __delitem__(self, id_: str) -> None:
        with self.store.write() as txn:
            txn.execute(f"DELETE FROM {table_of(self.type)} WHERE id = ?", (id_,))


class _Records:
    def __init__(self, store: PgTestStore) -> None:
        self.store = store

    def __getitem__(self, type_: str) -> _Table:
        return _Table(self.store, type_)

    def get(self, type_: str, default: Any = None) -> _Table:
        return _Table(self.store, type_)

    def items(self) -> list[tuple[str, _Table]]:
        return [(t, _Table(self.store, t)) for t in ENTITY_TABLES if len(_Table(self.store, t))]


class _Users:
    def __init__(self, store: PgTestStore) -> None:
        self.store = store

    def __setitem__(self, user_id: str, role: str) -> None:
        with self.store.write() as txn:
            txn.execute("INSERT INTO users (id, username, display_name, role, password_hash, created_at) "
                        "VALUES (?, ?, ?, ?, '', '') ON CONFLICT (id) DO UPDATE SET role = EXCLUDED.role",
                        (user_id, user_id, user_id, role))

    def __contains__(self, user_id: object) -> bool:
        with self.store.read() as txn:
            return txn.user_role(str(user_id)) is not None

    def update(self, roles: dict[str, str]) -> None:
        for user_id, role in roles.items():
            self[user_id] = role


class _DecodingTxn(PgTxn):
    """Pull items decoded, as the memory store hands them out (the engine's tests read them as
    dicts); the bytes decoded are the ones PostgreSQL stored, as an HTTP answer would carry them."""

    def changed_items(self, *args: Any, **kwargs: Any) -> list[tuple[int, str, str, Any]]:
        return [(s, t, i, orjson.loads(orjson.dumps(item))) for s, t, i, item in super().changed_items(*args, **kwargs)]


class PgTestStore(PgDatabase):
    txn_class = _DecodingTxn

    @property
    def records(self) -> _Records:
        return _Records(self)

    @property
    def users(self) -> _Users:
        return _Users(self)

    @property
    def changes(self) -> dict[str, AppliedChange]:
        ids = [r["change_id"] for r in self.query("SELECT change_id FROM changes")]
        with self.read() as txn:
            return txn.applied(ids)

    @property
    def conflicts(self) -> dict[str, Conflict]:
        with self.read() as txn:
            return {c.id: c for c in txn.list_conflicts(None, None, 1_000_000)}

    @property
    def seq(self) -> int:
        with self.read() as txn:
            return txn.max_seq()

    @property
    def horizon_seq(self) -> int:
        with self.read() as txn:
            return txn.horizon()

    @horizon_seq.setter
    def horizon_seq(self, value: int) -> None:
        with self.write() as txn:
            txn.set_counter("horizon", value)

    def reset(self) -> None:
        """Empty every table and set the counters back to 0, as a new memory store starts."""
        conn = self.connect()
        try:
            conn.execute("TRUNCATE " + ", ".join(tables()))
            conn.execute("INSERT INTO meta VALUES ('max_seq', 0), ('horizon', 0)")
        finally:
            self._forget(conn)
