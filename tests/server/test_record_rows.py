"""A record as a row (server/sqlite_txn.py): every form of the per-field write stamps reads back
as it was saved."""
from __future__ import annotations

import orjson

from server.sqlite_txn import _meta, _meta_json
from sync import FieldMeta, Record
from tests.conftest import new_id


def test_one_write_of_every_field_is_stored_once_without_names(app_state):
    w = FieldMeta("001796535173957-000005-dev", 1, "u1")
    fields = {"title": "ring school", "case_id": new_id(), "done": False}
    record = Record("task", new_id(), dict(fields), dict.fromkeys(fields, w), version=1, seq=7, created_seq=7)
    assert orjson.loads(_meta_json(record.meta, record.fields)) == [[w.as_list()]]
    with app_state.db.write() as txn:
        txn.save([record])
    with app_state.db.read() as txn:
        back = txn.get("task", [record.id])[record.id]
    # the same fields (a JSON object has no order: PostgreSQL's jsonb keeps its keys in its own)
    assert back.meta == record.meta and sorted(back.meta) == sorted(fields) and back.created_seq == 7
    assert len({id(m) for m in back.meta.values()}) == 1  # still one write: the next save stores it once


def test_several_writes_and_fields_without_a_stamp_keep_their_names():
    a, b = FieldMeta("001-000000-a", 1, "u1"), FieldMeta("002-000000-b", 2, "u2")
    two = {"title": a, "done": b}
    assert _meta(_meta_json(two, {"title": "x", "done": True}), {"title": "x", "done": True}) == two
    partial = {"title": a}  # a field written outside the merge has no stamp: names kept
    stored = _meta_json(partial, {"title": "x", "done": True})
    assert orjson.loads(stored) == [[a.as_list()], {"title": 0}]
    assert _meta(stored, {"title": "x", "done": True}) == partial
    legacy = orjson.dumps({"title": a.as_list(), "done": a.as_list()})  # before 2026-11-23
    got = _meta(legacy, {"title": "x", "done": True})
    assert got == {"title": a, "done": a} and got["title"] is got["done"]
