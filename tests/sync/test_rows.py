"""sync/rows.py: a record, a logged change and a conflict as a store's row, and back."""
from __future__ import annotations

import orjson

from sync import AppliedChange, Conflict, FieldMeta, Record
from sync.rows import (change_of, change_row, conflict_of, conflict_row, meta_json, meta_of, record_of,
                       record_row)


def test_several_writes_and_fields_without_a_stamp_keep_their_names():
    a, b = FieldMeta("001-000000-a", 1, "u1"), FieldMeta("002-000000-b", 2, "u2")
    two = {"title": a, "done": b}
    assert meta_of(meta_json(two, {"title": "x", "done": True}), {"title": "x", "done": True}) == two
    partial = {"title": a}  # a field written outside the merge has no stamp: names kept
    stored = meta_json(partial, {"title": "x", "done": True})
    assert orjson.loads(stored) == [[a.as_list()], {"title": 0}]
    assert meta_of(stored, {"title": "x", "done": True}) == partial
    legacy = orjson.dumps({"title": a.as_list(), "done": a.as_list()})  # before 2026-11-23
    got = meta_of(legacy, {"title": "x", "done": True})
    assert got == {"title": a, "done": a} and got["title"] is got["done"]


def test_a_record_row_reads_back_as_the_record_with_its_pull_item():
    w = FieldMeta("001796535173957-000005-dev", 2, "u1")
    r = Record("visit", "v1", {"case_id": "c1", "outcome": "no_answer"}, {"case_id": w, "outcome": w},
               version=2, seq=9, created_at="2026-12-06T08:00:00.000Z", created_by="u1",
               updated_at="2026-12-06T09:00:00.000Z", updated_by="u2", flags={"out_of_scope": True},
               created_seq=4)
    row = record_row(r)
    assert orjson.loads(bytes(row[-1])) == {"type": "visit", "id": "v1", "version": 2, "deleted": False,
                                            "fields": {**r.fields, "id": "v1", "created_at": r.created_at,
                                                       "created_by": "u1", "updated_at": r.updated_at,
                                                       "updated_by": "u2"}}
    back = record_of("visit", (*row[:6], row[6] or None, *row[7:13]))  # a store keeps "" as NULL
    assert back == r
    tomb = Record("visit", "v2", {}, {}, version=3, deleted=True, deleted_hlc="001-000000-x")
    assert record_of("visit", record_row(tomb)[:13]) == tomb
    assert record_of("visit", row[:13], with_meta=False).meta == {}


def test_a_logged_change_and_a_conflict_read_back_as_written():
    c = AppliedChange("ch1", "visit", "v1", 1, "merged", "u1", None, "2026-12-06T08:00:00.000Z",
                      "001-000000-dev", {"outcome": "no_answer"}, ["notes"], seq=12, created=True)
    row = change_row(c)
    assert row[0] == 12 and row[-1] == 1
    assert change_of((*row[1:11], row[11], row[0], row[12])) == c
    assert change_row(AppliedChange("ch2", "visit", "v1", 2, "applied", "u1", "d1", "t", "h", {}, []))[11] == "[]"
    k = Conflict("k1", "visit", "v1", "outcome", {"value": 1, "by": "u1", "hlc": "h1"},
                 {"value": 2, "by": "u2", "hlc": "h2"}, created_at="2026-12-06T08:00:00.000Z")
    assert conflict_of(conflict_row(k)) == k
