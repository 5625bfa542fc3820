"""The sync engine's ``Txn`` over SQLite: ``SqliteTxn``, the SQL around the rows a ``Record``, a
logged change and a conflict are kept as (their columns' values: sync/rows.py).

``server.storage.Database`` yields one from ``write()`` and ``read()``; nothing here opens a
connection, takes a lock or begins a transaction.
"""
from __future__ import annotations

import sqlite3
from collections.abc import Collection, Iterable
from typing import Any

import orjson

from sync import AppliedChange, Conflict, Record, ScopeEvent, TypeFilter, pull_item
from sync.rows import change_of, change_row, conflict_of, conflict_row, record_of, record_row

from .migrations import ENTITY_TABLES

_Fragment = orjson.Fragment


def table_of(type_: str) -> str:
    return ENTITY_TABLES[type_][0]


def _link(type_: str, field_: str) -> str:
    """A field as SQL: its generated link column when the table has one, else read from the JSON."""
    if field_ == "id" or field_ in ENTITY_TABLES[type_][1]:
        return field_
    if not field_.isidentifier():
        raise ValueError(f"not a field name: {field_!r}")
    return f"json_extract(data, '$.{field_}')"


_COLUMNS = ("id, data, meta, version, seq, deleted, deleted_hlc, flags, created_at, created_by, updated_at, "
            "updated_by, created_seq")
_COLUMNS_NO_META = _COLUMNS.replace("meta", "NULL", 1)
# A new record's row inserted, a stored one's updated in place: an upsert costs a new row what a
# plain insert does (less than INSERT OR REPLACE), and an update rewrites only the index entries
# whose columns changed (REPLACE deletes the row and inserts it again, every index twice).
_SAVE = (f"INSERT INTO {{table}} ({_COLUMNS}, item) "
         "VALUES (?, ?, ?, ?, ?, ?, NULLIF(?, ''), ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET "
         + ", ".join(f"{c} = excluded.{c}" for c in [*_COLUMNS.split(", ")[1:], "item"]))


def _ids_param(values: Iterable[Any]) -> str:
    return orjson.dumps(sorted({v for v in values if v is not None})).decode()


def _changed_sql(columns: str, type_: str, seq: int, limit: int, where: TypeFilter | None,
                 include_deleted: bool) -> tuple[str, list[Any]]:
    sql = f"SELECT {columns} FROM {table_of(type_)} WHERE seq > ?"
    params: list[Any] = [seq]
    if not include_deleted:
        sql += " AND deleted = 0"
    if where is not None:
        alternatives = ["id IN (SELECT value FROM json_each(?))"]
        params.append(_ids_param(where.ids))
        for field_, values in where.links:
            column = field_ if field_ in ENTITY_TABLES[type_][1] else f"json_extract(data, '$.{field_}')"
            alternatives.append(f"{column} IN (SELECT value FROM json_each(?))")
            params.append(_ids_param(values))
        sql += " AND (" + " OR ".join(alternatives) + ")"
    sql += " ORDER BY seq LIMIT ?"
    params.append(limit)
    return sql, params


# Each entity table's highest seq, in one statement (an index seek each)
_TOPS = "SELECT " + ", ".join(f"(SELECT max(seq) FROM {table})" for table, _links in ENTITY_TABLES.values())


class SqliteTxn:
    """The sync engine's ``Txn`` over one SQLite connection in a transaction.

    In a snapshot (``snapshot=True``: ``Database.read``) the tables' highest seqs are read once,
    at the first ask for changes, so that a pull page skips the query of every type with
    nothing after its cursor (most of the entity types, for a phone that syncs often). A write
    transaction always asks, since it may have saved since."""

    def __init__(self, conn: sqlite3.Connection, snapshot: bool = False) -> None:
        self.conn = conn
        self._snapshot = snapshot
        self._tops: dict[str, int] | None = None

    def _nothing_after(self, type_: str, seq: int) -> bool:
        if not self._snapshot:
            return False
        if self._tops is None:
            row = self.conn.execute(_TOPS).fetchone()
            self._tops = {t: top or 0 for t, top in zip(ENTITY_TABLES, row)}
        return self._tops[type_] <= seq

    def rows(self, sql: str, params: Iterable[Any] = ()) -> list[dict[str, Any]]:
        cur = self.conn.execute(sql, tuple(params))
        names = [d[0] for d in cur.description] if cur.description else []
        return [dict(zip(names, row)) for row in cur.fetchall()]

    def execute(self, sql: str, params: Iterable[Any] = ()) -> sqlite3.Cursor:
        return self.conn.execute(sql, tuple(params))

    def executemany(self, sql: str, rows: Iterable[Iterable[Any]]) -> None:
        self.conn.executemany(sql, rows)

    # -- records -------------------------------------------------------------
    def get(self, type_: str, ids: Iterable[str]) -> dict[str, Record]:
        ids = list(ids)
        if not ids:
            return {}
        sql = (f"SELECT {_COLUMNS} FROM {table_of(type_)} "
               "WHERE id IN (SELECT value FROM json_each(?))")
        return {row[0]: record_of(type_, row) for row in self.conn.execute(sql, (_ids_param(ids),))}

    def find(self, type_: str, field_: str, values: Iterable[Any]) -> list[Record]:
        values = list(values)
        if not values:
            return []
        sql = (f"SELECT {_COLUMNS} FROM {table_of(type_)} "
               f"WHERE {_link(type_, field_)} IN (SELECT value FROM json_each(?))")
        return [record_of(type_, row) for row in self.conn.execute(sql, (_ids_param(values),))]

    def links(self, type_: str, field_: str, values: Iterable[Any],
              columns: tuple[str, ...]) -> list[tuple[Any, ...]]:
        values = list(values)
        if not values:
            return []
        picked = "".join(f", {_link(type_, c)}" for c in columns)
        sql = (f"SELECT id, deleted{picked} FROM {table_of(type_)} "
               f"WHERE {_link(type_, field_)} IN (SELECT value FROM json_each(?))")
        return self.conn.execute(sql, (_ids_param(values),)).fetchall()

    def save(self, records: list[Record]) -> None:
        by_type: dict[str, list[tuple[Any, ...]]] = {}
        for r in records:
            by_type.setdefault(r.type, []).append(record_row(r))
        for type_, rows in by_type.items():
            self.conn.executemany(_SAVE.format(table=table_of(type_)), rows)

    def changed_since(self, type_: str, seq: int, limit: int, where: TypeFilter | None,
                      include_deleted: bool) -> list[Record]:
        """Records for a pull: without the per-field write metadata, which a pull never sends
        (so never ``save`` what this returns)."""
        if self._nothing_after(type_, seq):
            return []
        sql, params = _changed_sql(_COLUMNS_NO_META, type_, seq, limit, where, include_deleted)
        return [record_of(type_, row, with_meta=False) for row in self.conn.execute(sql, params)]

    def changed_items(self, type_: str, seq: int, limit: int, where: TypeFilter | None,
                      include_deleted: bool) -> list[tuple[int, str, str, Any]]:
        """``(seq, type, id, pull item)``, the item as stored at the record's last save (an
        ``orjson.Fragment``: the answer copies it, nothing parses or re-encodes it)."""
        if self._nothing_after(type_, seq):
            return []
        sql, params = _changed_sql("seq, id, item", type_, seq, limit, where, include_deleted)
        rows = self.conn.execute(sql, params).fetchall()
        missing = [i for _s, i, item in rows if item is None]  # rows older than the item column
        if missing:
            found = self.get(type_, missing)
            rows = [(s, i, item if item is not None else pull_item(found[i])) for s, i, item in rows]
        return [(s, type_, i, _Fragment(item)) for s, i, item in rows]

    # -- counters ------------------------------------------------------------
    def _meta(self, key: str) -> int:
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return int(row[0]) if row else 0

    def max_seq(self) -> int:
        return self._meta("max_seq")

    def set_max_seq(self, seq: int) -> None:
        self.conn.execute("UPDATE meta SET value = ? WHERE key = 'max_seq'", (seq,))

    def horizon(self) -> int:
        return self._meta("horizon")

    def counter(self, key: str) -> int:
        return self._meta(key)

    def set_counter(self, key: str, value: int) -> None:
        self.conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    def user_role(self, user_id: str) -> str | None:
        row = self.conn.execute("SELECT role FROM users WHERE id = ? AND active = 1", (user_id,)).fetchone()
        return row[0] if row else None

    def people(self, user_ids: Iterable[str], device_ids: Iterable[str]) -> tuple[dict[str, str], dict[str, str]]:
        """Display names of users and names of devices (for the notices sync/notices.py writes)."""
        users = {r[0]: r[1] for r in self.conn.execute(
            "SELECT id, display_name FROM users WHERE id IN (SELECT value FROM json_each(?))",
            (_ids_param(user_ids),))}
        devices = {r[0]: r[1] for r in self.conn.execute(
            "SELECT id, name FROM devices WHERE id IN (SELECT value FROM json_each(?))",
            (_ids_param(device_ids),))}
        return users, devices

    # -- change log ----------------------------------------------------------
    def applied(self, change_ids: Collection[str]) -> dict[str, AppliedChange]:
        if not change_ids:
            return {}
        sql = (f"SELECT {_CHANGE_COLUMNS} FROM changes WHERE change_id IN (SELECT value FROM json_each(?))")
        return {r[0]: change_of(r) for r in self.conn.execute(sql, (_ids_param(change_ids),))}

    def log_changes(self, rows: list[AppliedChange]) -> None:
        """The rows of changes that created a record (``created``) are left out of the entity
        index: their record's ``created_seq`` finds them (``entity_change_seqs``)."""
        self.conn.executemany(
            "INSERT INTO changes (seq, change_id, type, entity_id, version, status, user_id, device_id, "
            "received_at, hlc, fields, lost_fields, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [change_row(c) for c in rows])

    def history(self, type_: str, entity_id: str) -> list[AppliedChange]:
        sql = (f"SELECT {_CHANGE_COLUMNS} FROM changes WHERE seq IN ({entity_change_seqs(type_)}) "
               "ORDER BY seq")
        return [change_of(r) for r in self.conn.execute(sql, (entity_id, type_, entity_id))]

    # -- conflicts -----------------------------------------------------------
    def add_conflicts(self, conflicts: list[Conflict]) -> None:
        self.conn.executemany(
            "INSERT INTO conflicts (id, type, entity_id, field, kept, lost, status, created_at, "
            "resolved_at, resolved_by, choice) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [conflict_row(c) for c in conflicts])

    def get_conflict(self, conflict_id: str) -> Conflict | None:
        row = self.conn.execute(f"SELECT {_CONFLICT_COLUMNS} FROM conflicts WHERE id = ?",
                                (conflict_id,)).fetchone()
        return conflict_of(row) if row else None

    def update_conflict(self, conflict: Conflict) -> None:
        self.conn.execute("DELETE FROM conflicts WHERE id = ?", (conflict.id,))
        self.add_conflicts([conflict])

    def list_conflicts(self, status: str | None, after: str | None, limit: int) -> list[Conflict]:
        sql = f"SELECT {_CONFLICT_COLUMNS} FROM conflicts WHERE 1 = 1"
        params: list[Any] = []
        if status is not None:
            sql += " AND status = ?"
            params.append(status)
        if after:
            created, _, id_ = after.partition("|")
            sql += " AND (created_at, id) > (?, ?)"
            params += [created, id_]
        sql += " ORDER BY created_at, id LIMIT ?"
        params.append(limit)
        return [conflict_of(r) for r in self.conn.execute(sql, params)]

    # -- scope events --------------------------------------------------------
    def add_scope_events(self, events: list[ScopeEvent]) -> None:
        self.conn.executemany(
            "INSERT OR REPLACE INTO scope_events (user_id, type, entity_id, kind, seq) VALUES (?, ?, ?, ?, ?)",
            [(e.user_id, e.type, e.entity_id, e.kind, e.seq) for e in events])

    def scope_events_since(self, user_id: str, seq: int, limit: int) -> list[ScopeEvent]:
        sql = ("SELECT user_id, type, entity_id, kind, seq FROM scope_events "
               "WHERE user_id = ? AND seq > ? ORDER BY seq LIMIT ?")
        return [ScopeEvent(*r) for r in self.conn.execute(sql, (user_id, seq, limit))]

    def has_scope_event(self, user_id: str, type_: str, entity_id: str) -> bool:
        sql = "SELECT 1 FROM scope_events WHERE user_id = ? AND type = ? AND entity_id = ?"
        return self.conn.execute(sql, (user_id, type_, entity_id)).fetchone() is not None


_CONFLICT_COLUMNS = "id, type, entity_id, field, kept, lost, status, created_at, resolved_at, resolved_by, choice"
_CHANGE_COLUMNS = ("change_id, type, entity_id, version, status, user_id, device_id, received_at, hlc, fields, "
                   "lost_fields, seq, created")


def entity_change_seqs(type_: str) -> str:
    """SQL for the ``seq`` of every change-log row of one record, with the parameters
    ``(entity_id, type_, entity_id)``: its later changes through the entity index, the change
    that created it through the record's ``created_seq`` (migration m016)."""
    return ("SELECT seq FROM changes WHERE entity_id = ? AND type = ? AND created = 0 "
            f"UNION ALL SELECT created_seq FROM {table_of(type_)} WHERE id = ?")
