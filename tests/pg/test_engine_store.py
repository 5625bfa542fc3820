"""tests/sync/test_store.py, run against the PostgreSQL store."""
from __future__ import annotations

import pytest

from tests.sync.test_store import *  # noqa: F403 (the tests and their fixtures)

pytestmark = pytest.mark.usefixtures("on_postgres")


def test_a_write_that_raises_leaves_no_trace(on_postgres: None) -> None:
    """The memory store's test, with a conflict as the engine makes them: the schema (SQLite's
    and PostgreSQL's alike) requires its ``created_at``."""
    from tests.sync import test_store

    s = test_store.MemoryStore()
    with s.write() as txn:
        txn.save([rec("a", 1)])  # noqa: F405
        txn.set_max_seq(1)
    with pytest.raises(ValueError), s.write() as txn:
        txn.save([rec("b", 2)])  # noqa: F405
        txn.set_max_seq(2)
        txn.log_changes([AppliedChange("c", "task", "b", 1, "applied", "u", None, "t", "h", {}, [], 2)])  # noqa: F405
        txn.add_conflicts([Conflict("k", "task", "b", None, {}, {}, created_at="2026-11-23")])  # noqa: F405
        raise ValueError
    with s.read() as txn:
        assert set(txn.get("task", ["a", "b"])) == {"a"}
        assert (txn.max_seq(), txn.applied(["c"]), txn.get_conflict("k")) == (1, {}, None)


def test_find_and_changed_since(on_postgres: None) -> None:
    """The memory store's test; a stored pull item is an ``orjson.Fragment`` (the seam allows
    either), decoded here to read it."""
    import orjson

    from tests.sync import test_store

    s = test_store.MemoryStore()
    with s.write() as txn:
        txn.save([rec("a", 3, case_id="c1"), rec("b", 1, case_id="c2"), rec("c", 2, case_id="c1")])  # noqa: F405
        gone = rec("d", 4, case_id="c1")  # noqa: F405
        gone.deleted = True
        txn.save([gone])
    with s.read() as txn:
        assert sorted(r.id for r in txn.find("task", "case_id", ["c1"])) == ["a", "c", "d"]
        assert [r.id for r in txn.find("task", "title", ["x"])] == []
        f = TypeFilter(links=(("case_id", frozenset({"c1"})),))  # noqa: F405
        assert [r.id for r in txn.changed_since("task", 0, 10, f, include_deleted=False)] == ["c", "a"]
        assert [r.id for r in txn.changed_since("task", 2, 10, None, include_deleted=True)] == ["a", "d"]
        assert [r.id for r in txn.changed_since("task", 0, 2, None, include_deleted=True)] == ["b", "c"]
        assert [(seq, i) for seq, _, i, _ in txn.changed_items("task", 0, 10, f, True)] == [(2, "c"), (3, "a"), (4, "d")]
        assert orjson.loads(orjson.dumps(txn.changed_items("task", 3, 10, None, True)[0][3]))["deleted"] is True
