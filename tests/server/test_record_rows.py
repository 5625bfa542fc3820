"""A record as a row in the store (sync/rows.py through server/sqlite_txn.py or server/pg/txn.py):
saved and read back with its stamps as they were."""
from __future__ import annotations

import orjson

from sync import FieldMeta, Record
from sync.rows import meta_json
from tests.conftest import new_id


def test_one_write_of_every_field_is_stored_once_without_names(app_state):
    w = FieldMeta("001796535173957-000005-dev", 1, "u1")
    fields = {"title": "ring school", "case_id": new_id(), "done": False}
    record = Record("task", new_id(), dict(fields), dict.fromkeys(fields, w), version=1, seq=7, created_seq=7)
    assert orjson.loads(meta_json(record.meta, record.fields)) == [[w.as_list()]]
    with app_state.db.write() as txn:
        txn.save([record])
    with app_state.db.read() as txn:
        back = txn.get("task", [record.id])[record.id]
    # the same fields (a JSON object has no order: PostgreSQL's jsonb keeps its keys in its own)
    assert back.meta == record.meta and sorted(back.meta) == sorted(fields) and back.created_seq == 7
    assert len({id(m) for m in back.meta.values()}) == 1  # still one write: the next save stores it once
