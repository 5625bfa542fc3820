"""One builder of a pull item (``sync.pull_item``): the SQLite store saves its bytes, the memory
store and a record read whole decode the same bytes; both are the item docs/protocol.md §4.1
describes, byte for byte, whether or not a stored field collides with a server stamp."""
from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sync
from server.storage import Database
from sync import Actor, Clock, MemoryStore, Record, pull_item, record_item

STAMPS = ("id", "created_at", "created_by", "updated_at", "updated_by")
NOW = dt.datetime(2026, 11, 23, 8, 15, 2, 418000, tzinfo=dt.timezone.utc)


def described(r: Record) -> dict[str, Any]:
    """The item as §4.1 words it, built the plain way: the full record, the stamps winning."""
    if r.deleted:
        return {"type": r.type, "id": r.id, "version": r.version, "deleted": True, "fields": {}}
    fields = dict(r.fields)
    fields.update({"id": r.id, "created_at": r.created_at, "created_by": r.created_by,
                   "updated_at": r.updated_at, "updated_by": r.updated_by})
    return {"type": r.type, "id": r.id, "version": r.version, "deleted": False, "fields": fields}


def record(fields: dict[str, Any], deleted: bool = False, seq: int = 1, type_: str = "household") -> Record:
    return Record(type=type_, id=str(uuid.uuid4()), fields=fields, version=3, seq=seq, deleted=deleted,
                  created_at="2026-11-23T08:15:02.418Z", created_by="u1",
                  updated_at="2026-11-24T09:00:00.000Z", updated_by="u2")


CASES = {
    "fields": {"address": "1 Oak Road", "contacts": [{"name": "Jo Stone"}], "lat": 53.68, "notes": "é ✓ \"q\""},
    "no fields": {},
    "a colliding stamp first": {"id": "x", "address": "1 Oak Road"},
    "every stamp colliding": {"updated_by": "forged", "address": "2 Elm Road", "created_by": "forged",
                              "created_at": None, "id": "x", "updated_at": "then"},
    "only a colliding stamp": {"created_by": "forged"},
}

json_values = st.recursive(st.none() | st.booleans() | st.integers(-2**53, 2**53) | st.text(max_size=5),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner,
                                                                                      max_size=3),
                           max_leaves=6)
field_names = st.sampled_from(STAMPS) | st.text("abcdefgh_", min_size=1, max_size=6)


def test_each_case_is_the_described_item():
    for name, fields in CASES.items():
        for deleted in (False, True):
            r = record(fields, deleted)
            want = orjson.dumps(described(r))
            assert pull_item(r) == want, name
            assert pull_item(r, orjson.dumps(r.fields)) == want, name
            assert record_item(r) == described(r), name


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(field_names, json_values, max_size=8), st.booleans())
def test_any_fields_give_the_described_item(fields, deleted):
    r = record(fields, deleted)
    assert pull_item(r) == orjson.dumps(described(r))
    assert record_item(r) == described(r)


def _saved(records: list[Record], db: Database) -> tuple[list[Any], list[Any]]:
    """Each store's pull items for the same saved records: (SQLite's, the memory store's)."""
    memory = MemoryStore()
    with memory.write() as txn:
        txn.save(records)
    with db.write() as txn:
        txn.save(records)
    with db.read() as s, memory.read() as m:
        return (s.changed_items("household", 0, 100, None, True), m.changed_items("household", 0, 100, None, True))


def test_the_sqlite_and_memory_stores_pull_the_same_bytes(tmp_path):
    db = Database(tmp_path / "items.db")
    db.migrate()
    try:
        records = [record(fields, deleted, seq) for seq, (fields, deleted) in
                   enumerate(((f, d) for f in CASES.values() for d in (False, True)), start=1)]
        from_sqlite, from_memory = _saved(records, db)
        assert [i[:3] for i in from_sqlite] == [i[:3] for i in from_memory] == [
            (r.seq, r.type, r.id) for r in records]
        assert all(isinstance(i[3], orjson.Fragment) for i in from_sqlite)
        assert all(isinstance(i[3], dict) for i in from_memory)
        assert orjson.dumps([i[3] for i in from_sqlite]) == orjson.dumps([i[3] for i in from_memory]) == \
            orjson.dumps([described(r) for r in records])
    finally:
        db.close()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.dictionaries(field_names, json_values, max_size=6), st.booleans()),
                min_size=1, max_size=5))
def test_any_records_pull_the_same_bytes_from_both_stores(tmp_path, rows):
    db = Database(tmp_path / f"{uuid.uuid4()}.db")
    db.migrate()
    try:
        records = [record(f, d, seq) for seq, (f, d) in enumerate(rows, start=1)]
        from_sqlite, from_memory = _saved(records, db)
        assert orjson.dumps([i[3] for i in from_sqlite]) == orjson.dumps([i[3] for i in from_memory])
    finally:
        db.close()


def test_a_whole_pull_answers_the_same_from_both_stores(tmp_path):
    """The same pushes into either store pull the same answer, byte for byte."""
    db = Database(tmp_path / "pull.db")
    db.migrate()
    memory = MemoryStore()
    admin = str(uuid.uuid4())
    seed = Clock("seed")
    school, home = str(uuid.uuid4()), str(uuid.uuid4())
    changes = [{"change_id": str(uuid.uuid4()), "type": t, "id": i, "op": "put", "fields": f,
                "base_version": None, "hlc": seed.send()}
               for t, i, f in (("school", school, {"name": "Balby Primary"}),
                               ("household", home, {"address": "1 Oak Road", "access_notes": "dog ✓"}))]
    try:
        bodies = []
        for store in (db, memory):
            clock = Clock("server")
            out = sync.push(store, Actor(admin, sync.ADMIN), [dict(c) for c in changes], clock, NOW)
            assert [r.status for r in out.results] == ["applied", "applied"]
            body = sync.pull(store, Actor(admin, sync.ADMIN), None, 10, clock, NOW).body
            bodies.append(orjson.dumps(body["changes"]))
        assert bodies[0] == bodies[1]
    finally:
        db.close()
