"""How a ``Record``, a logged change and a conflict are kept as a row, the same in every store
(server/sqlite_txn.py, server/pg/txn.py): the columns' values, not the SQL around them.

A record's row holds its fields as JSON (``data``), its field stamps (``meta``), its flags, and
its pull item as the pull sends it (``item``, sync/pull_item.py). The row builders run for every
change a push writes, so they are compiled with the rest of the engine (sync/native.py).
"""
from __future__ import annotations

from typing import Any

import orjson

from .pull_item import pull_item
from .types import AppliedChange, Conflict, FieldMeta, Record

_dumps = orjson.dumps
_loads = orjson.loads


def meta_json(meta: dict[str, FieldMeta], fields: dict[str, Any]) -> str:
    """``[[write, …], {field: index of its write}]``, a write being ``[hlc, version, by]``: the
    fields one change wrote share one write, stored once. When one write made every field of
    the record (a new record), ``[[write]]``: the fields are the record's (``data``'s) keys."""
    writes_ = list(meta.values())
    # one write made every field (a new record: one object; ``count`` tries identity first)
    if writes_ and writes_[0] is writes_[-1] and writes_.count(writes_[0]) == len(writes_):
        first = writes_[0].as_list()
        if meta.keys() == fields.keys():
            return _dumps([[first]]).decode()
        return _dumps([[first], dict.fromkeys(meta, 0)]).decode()
    writes: list[list[Any]] = []
    index: dict[int, int] = {}
    names: dict[str, int] = {}
    for name, m in meta.items():
        i = index.get(id(m))
        if i is None:
            i = len(writes)
            index[id(m)] = i
            writes.append(m.as_list())
        names[name] = i
    return _dumps([writes, names]).decode()


def meta_of(raw: str | bytes, fields: dict[str, Any]) -> dict[str, FieldMeta]:
    """The field stamps ``meta_json`` wrote, or the form stored before 2026-11-23."""
    data = _loads(raw)
    if isinstance(data, dict):  # as stored before 2026-11-23: {field: [hlc, version, by]}
        shared: dict[tuple[Any, ...], FieldMeta] = {}  # equal writes become one again
        return {name: shared.setdefault(tuple(w), FieldMeta.from_list(w)) for name, w in data.items()}
    writes = [FieldMeta.from_list(w) for w in data[0]]
    if len(data) == 1:  # one write made every field
        return dict.fromkeys(fields, writes[0])
    return {name: writes[i] for name, i in data[1].items()}


def record_of(type_: str, row: tuple[Any, ...], with_meta: bool = True) -> Record:
    """A record from ``(id, data, meta, version, seq, deleted, deleted_hlc, flags, created_at,
    created_by, updated_at, updated_by, created_seq)``; without its stamps for a pull."""
    fields = _loads(row[1])
    return Record(
        type=type_, id=row[0], fields=fields,
        meta=meta_of(row[2], fields) if with_meta else {},
        version=row[3], seq=row[4], deleted=bool(row[5]), deleted_hlc=row[6],
        flags=_loads(row[7]), created_at=row[8], created_by=row[9], updated_at=row[10],
        updated_by=row[11], created_seq=row[12])


def record_row(r: Record) -> tuple[Any, ...]:
    """The row a store saves: ``record_of``'s columns and the pull item. sqlite3 looks for an
    adapter for every ``None`` and ``bytes`` it binds (a type lookup and two attribute lookups),
    not for a ``str`` or a ``bytearray``: so no tombstone's stamp is ``""`` (a store keeps it as
    NULL) and the item a bytearray."""
    data = _dumps(r.fields)
    return (r.id, data.decode(), meta_json(r.meta, r.fields), r.version, r.seq, int(r.deleted),
            r.deleted_hlc or "", _dumps(r.flags).decode() if r.flags else "{}", r.created_at, r.created_by,
            r.updated_at, r.updated_by, r.created_seq, bytearray(pull_item(r, data)))


def change_row(c: AppliedChange) -> tuple[Any, ...]:
    """``(seq, change_id, type, entity_id, version, status, user_id, device_id, received_at, hlc,
    fields, lost_fields, created)`` of the change log."""
    return (c.seq, c.change_id, c.type, c.entity_id, c.version, c.status, c.user_id, c.device_id,
            c.received_at, c.hlc, _dumps(c.fields).decode(),
            "[]" if not c.lost_fields else _dumps(c.lost_fields).decode(), 1 if c.created else 0)


def change_of(r: tuple[Any, ...]) -> AppliedChange:
    """A logged change from ``(change_id, type, entity_id, version, status, user_id, device_id,
    received_at, hlc, fields, lost_fields, seq, created)``."""
    return AppliedChange(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], _loads(r[9]),
                         _loads(r[10]), r[11], bool(r[12]))


def conflict_row(c: Conflict) -> tuple[Any, ...]:
    return (c.id, c.type, c.entity_id, c.field, _dumps(c.kept).decode(),
            _dumps(c.lost).decode(), c.status, c.created_at, c.resolved_at, c.resolved_by, c.choice)


def conflict_of(r: tuple[Any, ...]) -> Conflict:
    return Conflict(id=r[0], type=r[1], entity_id=r[2], field=r[3], kept=_loads(r[4]),
                    lost=_loads(r[5]), status=r[6], created_at=r[7], resolved_at=r[8],
                    resolved_by=r[9], choice=r[10])
