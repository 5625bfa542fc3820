"""The sync engine's ``Txn`` over PostgreSQL: ``PgTxn`` (docs/postgresql.md).

The rows are the SQLite store's (server/sqlite_txn.py): a record is written and read back by the
same row builders (``_row``, ``_record``), JSON columns read as text (``data::text``) so those
builders parse them as they do SQLite's; only the SQL differs. Nothing here opens a connection,
takes a lock or begins a transaction: ``server.pg.store.PgDatabase`` does.
"""
from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from typing import Any

import orjson
import psycopg

from sync import AppliedChange, Conflict, Record, ScopeEvent, TypeFilter, pull_item
from sync.rows import change_of, change_row, conflict_of, conflict_row, record_of, record_row

from ..migrations import ENTITY_TABLES
from ..sqlite_txn import table_of
from .dialect import translate
from .schema_derived import derive

_COLUMNS = ("id, data::text, meta::text, version, seq, deleted, deleted_hlc, flags::text, created_at, "
            "created_by, updated_at, updated_by, created_seq")
_COLUMNS_NO_META = _COLUMNS.replace("meta::text", "NULL", 1)
_INSERT_COLUMNS = ("id, data, meta, version, seq, deleted, deleted_hlc, flags, created_at, created_by, "
                   "updated_at, updated_by, created_seq, item")
_UPDATE = ", ".join(f"{c} = EXCLUDED.{c}" for c in _INSERT_COLUMNS.split(", ")[1:])
_CHANGE_COLUMNS = ("change_id, type, entity_id, version, status, user_id, device_id, received_at, hlc, "
                   "fields::text, lost_fields::text, seq, created")
_CONFLICT_COLUMNS = ("id, type, entity_id, field, kept::text, lost::text, status, created_at, resolved_at, "
                     "resolved_by, choice")
_Fragment = orjson.Fragment


def _text(value: Any) -> str:
    """A value as a promoted (``data ->> field``) column holds it: a string as itself, anything
    else as its JSON text."""
    return value if isinstance(value, str) else orjson.dumps(value).decode()


def _keys(values: Iterable[Any]) -> list[Any]:
    return sorted({v for v in values if v is not None}, key=_text)


def _field_match(type_: str, field_: str, values: Iterable[Any]) -> tuple[str, Any]:
    """SQL matching records whose ``field_`` is one of ``values``, and its parameter: a promoted
    column compares as text (as SQLite's TEXT generated column does), any other field as jsonb."""
    if field_ in ENTITY_TABLES[type_][1]:
        return f"{field_} = ANY(%s::text[])", [_text(v) for v in _keys(values)]
    if not field_.isidentifier():
        raise ValueError(f"not a field name: {field_!r}")
    return (f"data -> '{field_}' IN (SELECT jsonb_array_elements(%s::jsonb))",
            orjson.dumps(_keys(values)).decode())


def _link_text(type_: str, field_: str) -> str:
    """A field as text: its promoted column, else ``->>`` from the JSON (as SQLite's
    ``json_extract`` reads a string)."""
    if field_ in ENTITY_TABLES[type_][1]:
        return field_
    if not field_.isidentifier():
        raise ValueError(f"not a field name: {field_!r}")
    return f"data ->> '{field_}'"


def _changed_sql(columns: str, type_: str, seq: int, limit: int, where: TypeFilter | None,
                 include_deleted: bool) -> tuple[str, list[Any]]:
    sql = f"SELECT {columns} FROM {table_of(type_)} WHERE seq > %s"
    params: list[Any] = [seq]
    if not include_deleted:
        sql += " AND deleted = 0"
    if where is not None:
        alternatives = ["id = ANY(%s::text[])"]
        params.append(sorted(where.ids))
        for field_, values in where.links:
            clause, param = _field_match(type_, field_, values)
            alternatives.append(clause)
            params.append(param)
        sql += " AND (" + " OR ".join(alternatives) + ")"
    sql += " ORDER BY seq LIMIT %s"
    params.append(limit)
    return sql, params


_INSERT_INTO = re.compile(r"(?is)^\s*INSERT\s+INTO\s+([A-Za-z_][A-Za-z0-9_]*)")


def _with_rowid(sql: str) -> tuple[str, str | None]:
    """An INSERT into a table keyed by a row number (an identity column here) returns the key."""
    m = _INSERT_INTO.match(sql)
    if m is None or re.search(r"(?i)\sRETURNING\s", sql):
        return sql, None
    key = derive().identity.get(m.group(1))
    return (sql + f" RETURNING {key}", key) if key else (sql, None)


def _run(conn: Any, sql: str, params: Iterable[Any]) -> Any:
    try:
        return conn.execute(sql, tuple(params))
    except psycopg.errors.ProgrammingError as exc:  # a statement this store cannot run: name it
        exc.add_note(f"in PostgreSQL's spelling: {sql}")
        raise


class Result:
    """A statement's cursor, with ``lastrowid`` as SQLite's has it."""

    def __init__(self, cur: Any, lastrowid: int | None) -> None:
        self._cur, self.lastrowid = cur, lastrowid

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cur, name)

    def __iter__(self) -> Any:
        return iter(self._cur)

    def fetchone(self) -> Any:
        return None if self.lastrowid is not None else self._cur.fetchone()

    def fetchall(self) -> list[Any]:
        return [] if self.lastrowid is not None else self._cur.fetchall()


class PgTxn:
    """The sync engine's ``Txn`` over one psycopg connection inside a transaction."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn

    def rows(self, sql: str, params: Iterable[Any] = ()) -> list[dict[str, Any]]:
        """The server's SQL (SQLite's spelling, ``server.pg.dialect``), rows as dicts."""
        cur = _run(self.conn, translate(sql), params)
        names = [d.name for d in cur.description] if cur.description else []
        return [dict(zip(names, row)) for row in cur.fetchall()]

    def execute(self, sql: str, params: Iterable[Any] = ()) -> Result:
        """The server's SQL (SQLite's spelling); an INSERT into a table keyed by a row number
        answers it as ``lastrowid``, as SQLite's cursor does."""
        pg, key = _with_rowid(translate(sql))
        cur = _run(self.conn, pg, params)
        last = None
        if key is not None:
            made = cur.fetchall()
            last = made[-1][0] if made else None
        return Result(cur, last)

    def executemany(self, sql: str, rows: Iterable[Iterable[Any]]) -> None:
        with self.conn.cursor() as cur:
            cur.executemany(translate(sql), [tuple(r) for r in rows])

    # -- records -------------------------------------------------------------
    def get(self, type_: str, ids: Iterable[str]) -> dict[str, Record]:
        ids = sorted(set(ids))
        if not ids:
            return {}
        sql = f"SELECT {_COLUMNS} FROM {table_of(type_)} WHERE id = ANY(%s::text[])"
        return {row[0]: record_of(type_, row) for row in self.conn.execute(sql, (ids,))}

    def find(self, type_: str, field_: str, values: Iterable[Any]) -> list[Record]:
        values = list(values)
        if not values:
            return []
        clause, param = _field_match(type_, field_, values)
        sql = f"SELECT {_COLUMNS} FROM {table_of(type_)} WHERE {clause}"
        return [record_of(type_, row) for row in self.conn.execute(sql, (param,))]

    def links(self, type_: str, field_: str, values: Iterable[Any],
              columns: tuple[str, ...]) -> list[tuple[Any, ...]]:
        values = list(values)
        if not values:
            return []
        clause, param = (("id = ANY(%s::text[])", sorted(set(values))) if field_ == "id"
                         else _field_match(type_, field_, values))
        picked = "".join(f", {_link_text(type_, c)}" for c in columns)
        sql = f"SELECT id, deleted{picked} FROM {table_of(type_)} WHERE {clause}"
        return [tuple(row) for row in self.conn.execute(sql, (param,))]

    def save(self, records: list[Record]) -> None:
        by_type: dict[str, list[tuple[Any, ...]]] = {}
        for r in records:
            by_type.setdefault(r.type, []).append(record_row(r))
        with self.conn.cursor() as cur:
            for type_, rows in by_type.items():
                cur.executemany(
                    f"INSERT INTO {table_of(type_)} ({_INSERT_COLUMNS}) VALUES "
                    "(%s, %s::jsonb, %s::jsonb, %s, %s, %s, %s, %s::jsonb, %s, %s, %s, %s, %s, %s) "
                    f"ON CONFLICT (id) DO UPDATE SET {_UPDATE}", rows)

    def changed_since(self, type_: str, seq: int, limit: int, where: TypeFilter | None,
                      include_deleted: bool) -> list[Record]:
        """Records for a pull, without the per-field write metadata (never ``save`` them)."""
        sql, params = _changed_sql(_COLUMNS_NO_META, type_, seq, limit, where, include_deleted)
        return [record_of(type_, row, with_meta=False) for row in self.conn.execute(sql, params)]

    def changed_items(self, type_: str, seq: int, limit: int, where: TypeFilter | None,
                      include_deleted: bool) -> list[tuple[int, str, str, Any]]:
        """``(seq, type, id, pull item)``, the item the bytes stored at the record's last save."""
        sql, params = _changed_sql("seq, id, item", type_, seq, limit, where, include_deleted)
        rows = self.conn.execute(sql, params).fetchall()
        missing = [i for _s, i, item in rows if item is None]
        if missing:
            found = self.get(type_, missing)
            rows = [(s, i, item if item is not None else pull_item(found[i])) for s, i, item in rows]
        return [(s, type_, i, _Fragment(bytes(item))) for s, i, item in rows]

    # -- counters ------------------------------------------------------------
    def counter(self, key: str) -> int:
        row = self.conn.execute("SELECT value FROM meta WHERE key = %s", (key,)).fetchone()
        return int(row[0]) if row else 0

    def set_counter(self, key: str, value: int) -> None:
        self.conn.execute("INSERT INTO meta (key, value) VALUES (%s, %s) "
                          "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value", (key, value))

    def max_seq(self) -> int:
        return self.counter("max_seq")

    def set_max_seq(self, seq: int) -> None:
        self.conn.execute("UPDATE meta SET value = %s WHERE key = 'max_seq'", (seq,))

    def horizon(self) -> int:
        return self.counter("horizon")

    def user_role(self, user_id: str) -> str | None:
        row = self.conn.execute("SELECT role FROM users WHERE id = %s AND active = 1", (user_id,)).fetchone()
        return row[0] if row else None

    def people(self, user_ids: Iterable[str], device_ids: Iterable[str]) -> tuple[dict[str, str], dict[str, str]]:
        users = {r[0]: r[1] for r in self.conn.execute(
            "SELECT id, display_name FROM users WHERE id = ANY(%s::text[])", (_keys(user_ids),))}
        devices = {r[0]: r[1] for r in self.conn.execute(
            "SELECT id, name FROM devices WHERE id = ANY(%s::text[])", (_keys(device_ids),))}
        return users, devices

    # -- change log ----------------------------------------------------------
    def applied(self, change_ids: Collection[str]) -> dict[str, AppliedChange]:
        if not change_ids:
            return {}
        sql = f"SELECT {_CHANGE_COLUMNS} FROM changes WHERE change_id = ANY(%s::text[])"
        return {r[0]: change_of(r) for r in self.conn.execute(sql, (_keys(change_ids),))}

    def log_changes(self, rows: list[AppliedChange]) -> None:
        """As in SQLite: a change that created its record is found through the record's
        ``created_seq``, not the entity index (which holds ``created = 0`` rows only)."""
        with self.conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO changes (seq, change_id, type, entity_id, version, status, user_id, device_id, "
                "received_at, hlc, fields, lost_fields, created) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s::jsonb, %s::jsonb, %s)",
                [change_row(c) for c in rows])

    def history(self, type_: str, entity_id: str) -> list[AppliedChange]:
        sql = (f"SELECT {_CHANGE_COLUMNS} FROM changes WHERE seq IN ("
               "SELECT seq FROM changes WHERE entity_id = %s AND type = %s AND created = 0 "
               f"UNION ALL SELECT created_seq FROM {table_of(type_)} WHERE id = %s) ORDER BY seq")
        return [change_of(r) for r in self.conn.execute(sql, (entity_id, type_, entity_id))]

    # -- conflicts -----------------------------------------------------------
    def add_conflicts(self, conflicts: list[Conflict]) -> None:
        with self.conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO conflicts (id, type, entity_id, field, kept, lost, status, created_at, "
                "resolved_at, resolved_by, choice) "
                "VALUES (%s, %s, %s, %s, %s::jsonb, %s::jsonb, %s, %s, %s, %s, %s)",
                [conflict_row(c) for c in conflicts])

    def get_conflict(self, conflict_id: str) -> Conflict | None:
        row = self.conn.execute(f"SELECT {_CONFLICT_COLUMNS} FROM conflicts WHERE id = %s",
                                (conflict_id,)).fetchone()
        return conflict_of(row) if row else None

    def update_conflict(self, conflict: Conflict) -> None:
        self.conn.execute("DELETE FROM conflicts WHERE id = %s", (conflict.id,))
        self.add_conflicts([conflict])

    def list_conflicts(self, status: str | None, after: str | None, limit: int) -> list[Conflict]:
        sql = f"SELECT {_CONFLICT_COLUMNS} FROM conflicts WHERE true"
        params: list[Any] = []
        if status is not None:
            sql += " AND status = %s"
            params.append(status)
        if after:
            created, _, id_ = after.partition("|")
            sql += " AND (created_at, id) > (%s, %s)"
            params += [created, id_]
        sql += " ORDER BY created_at, id LIMIT %s"
        params.append(limit)
        return [conflict_of(r) for r in self.conn.execute(sql, params)]

    # -- scope events --------------------------------------------------------
    def add_scope_events(self, events: list[ScopeEvent]) -> None:
        with self.conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO scope_events (user_id, type, entity_id, kind, seq) VALUES (%s, %s, %s, %s, %s) "
                "ON CONFLICT (user_id, type, entity_id) DO UPDATE SET kind = EXCLUDED.kind, seq = EXCLUDED.seq",
                [(e.user_id, e.type, e.entity_id, e.kind, e.seq) for e in events])

    def scope_events_since(self, user_id: str, seq: int, limit: int) -> list[ScopeEvent]:
        sql = ("SELECT user_id, type, entity_id, kind, seq FROM scope_events "
               "WHERE user_id = %s AND seq > %s ORDER BY seq LIMIT %s")
        return [ScopeEvent(*r) for r in self.conn.execute(sql, (user_id, seq, limit))]

    def has_scope_event(self, user_id: str, type_: str, entity_id: str) -> bool:
        sql = "SELECT 1 FROM scope_events WHERE user_id = %s AND type = %s AND entity_id = %s"
        return self.conn.execute(sql, (user_id, type_, entity_id)).fetchone() is not None
