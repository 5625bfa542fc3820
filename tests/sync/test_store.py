"""sync/store.py: the memory store behind the Store seam."""
from __future__ import annotations

import pytest

from sync import AppliedChange, Conflict, MemoryStore, Record, ScopeEvent, TypeFilter


def rec(id_: str, seq: int, **fields) -> Record:
    return Record("task", id_, fields=fields, version=1, seq=seq)


def test_a_write_that_raises_leaves_no_trace() -> None:
    s = MemoryStore()
    with s.write() as txn:
        txn.save([rec("a", 1)])
        txn.set_max_seq(1)
    with pytest.raises(ValueError), s.write() as txn:
        txn.save([rec("b", 2)])
        txn.set_max_seq(2)
        txn.log_changes([AppliedChange("c", "task", "b", 1, "applied", "u", None, "t", "h", {}, [], 2)])
        txn.add_conflicts([Conflict("k", "task", "b", None, {}, {})])
        raise ValueError
    with s.read() as txn:
        assert set(txn.get("task", ["a", "b"])) == {"a"}
        assert (txn.max_seq(), txn.applied(["c"]), txn.get_conflict("k")) == (1, {}, None)


def test_what_is_read_is_a_copy() -> None:
    s = MemoryStore()
    with s.write() as txn:
        txn.save([rec("a", 1, title="x")])
    with s.read() as txn:
        txn.get("task", ["a"])["a"].fields["title"] = "changed"
        txn.find("task", "title", ["x"])[0].fields["title"] = "changed"
        assert txn.get("task", ["a"])["a"].fields["title"] == "x"


def test_find_and_changed_since() -> None:
    s = MemoryStore()
    with s.write() as txn:
        txn.save([rec("a", 3, case_id="c1"), rec("b", 1, case_id="c2"), rec("c", 2, case_id="c1")])
        gone = rec("d", 4, case_id="c1")
        gone.deleted = True
        txn.save([gone])
    with s.read() as txn:
        assert sorted(r.id for r in txn.find("task", "case_id", ["c1"])) == ["a", "c", "d"]
        f = TypeFilter(links=(("case_id", frozenset({"c1"})),))
        assert [r.id for r in txn.changed_since("task", 0, 10, f, include_deleted=False)] == ["c", "a"]
        assert [r.id for r in txn.changed_since("task", 2, 10, None, include_deleted=True)] == ["a", "d"]
        assert [r.id for r in txn.changed_since("task", 0, 2, None, include_deleted=True)] == ["b", "c"]
        assert [(seq, i) for seq, _, i, _ in txn.changed_items("task", 0, 10, f, True)] == [(2, "c"), (3, "a"), (4, "d")]
        assert txn.changed_items("task", 3, 10, None, True)[0][3]["deleted"] is True


LINKED = [("a", "c1", "x"), ("b", "c2", None), ("c", "c1", "y")]


def linked_store(store: object) -> object:
    """``store`` holding three tasks and a deleted one, by case (a link column) and title (not)."""
    with store.write() as txn:  # type: ignore[attr-defined]
        txn.save([rec(i, n + 1, case_id=case, **({"title": t} if t else {})) for n, (i, case, t) in enumerate(LINKED)])
        gone = rec("d", 4, case_id="c1", title="x")
        gone.deleted = True
        txn.save([gone])
    return store


def check_links(txn: object) -> None:
    """What the scope reads (sync/scope.py): ids, deleted, and values of a link column, of a
    field read from the JSON and of a field the record lacks, without decoding records."""
    links = txn.links  # type: ignore[attr-defined]
    assert sorted((i, bool(d), t) for i, d, t in links("task", "case_id", ["c1"], ("title",))) == [
        ("a", False, "x"), ("c", False, "y"), ("d", True, "x")]
    assert sorted((i, bool(d), c) for i, d, c in links("task", "title", ["x", "nothing"], ("case_id",))) == [
        ("a", False, "c1"), ("d", True, "c1")]
    assert sorted((i, c, t) for i, _d, c, t in links("task", "id", ["b", "c", "e"], ("case_id", "title"))) == [
        ("b", "c2", None), ("c", "c1", "y")]
    assert sorted(tuple(row) for row in links("task", "case_id", ["c2"], ())) == [("b", 0)]
    assert links("task", "case_id", [], ("title",)) == []


def test_links() -> None:
    with linked_store(MemoryStore()).read() as txn:  # type: ignore[attr-defined]
        check_links(txn)


def test_history_conflicts_and_events() -> None:
    s = MemoryStore()
    s.users["u"] = "officer"
    with s.write() as txn:
        txn.log_changes([AppliedChange(c, "task", "a", v, "applied", "u", None, "t", "h", {}, [], seq)
                         for c, v, seq in (("c2", 2, 5), ("c1", 1, 3))])
        txn.add_conflicts([Conflict(f"k{n}", "task", "a", None, {}, {}, created_at=f"2026-01-0{n}") for n in (2, 1, 3)])
        txn.add_scope_events([ScopeEvent("u", "case", "x", "removed", 7), ScopeEvent("u", "case", "y", "entered", 6),
                              ScopeEvent("v", "case", "x", "entered", 8)])
    with s.read() as txn:
        assert [c.change_id for c in txn.history("task", "a")] == ["c1", "c2"]
        assert [c.id for c in txn.list_conflicts(None, None, 10)] == ["k1", "k2", "k3"]
        assert [c.id for c in txn.list_conflicts(None, "2026-01-01|k1", 1)] == ["k2"]
        assert txn.list_conflicts("resolved", None, 10) == []
        assert [e.entity_id for e in txn.scope_events_since("u", 0, 10)] == ["y", "x"]
        assert [e.entity_id for e in txn.scope_events_since("u", 6, 10)] == ["x"]
        assert txn.has_scope_event("u", "case", "x") and not txn.has_scope_event("v", "case", "y")
        assert (txn.user_role("u"), txn.user_role("nobody"), txn.horizon()) == ("officer", None, 0)
