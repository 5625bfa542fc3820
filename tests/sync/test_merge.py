"""sync/merge.py: field-level merge of one record by HLC (PROTOCOL §5.1-§5.3), as pure functions."""
from __future__ import annotations

from sync import FieldMeta, Record
from sync.merge import force_write, is_newer, merge_delete, merge_put

A, B = "officer-a", "office-b"


def st(ms: int, node: str, counter: int = 0) -> str:
    return f"{ms:015d}-{counter:06d}-{node}"


def record() -> Record:
    """A household at version 2: address written at v1 by dev-x, access_notes at v2 by dev-b."""
    return Record("household", "h", fields={"address": "1 Oak Road", "access_notes": "Dog"},
                  meta={"address": FieldMeta(st(100, "dev-x"), 1, "admin"),
                        "access_notes": FieldMeta(st(200, "dev-b"), 2, B)},
                  version=2, updated_by=B)


def sides(c) -> tuple:
    return (c.field, c.kept.value, c.kept.by, c.kept.hlc, c.lost.value, c.lost.by, c.lost.hlc)


def test_a_new_record_takes_every_field_at_version_1() -> None:
    r = Record("task", "t")
    out = merge_put(r, {"title": "x", "done": False}, st(1, "d"), None, A)
    assert (r.version, r.fields, out.written, out.lost, out.conflicts) == (1, {"title": "x", "done": False},
                                                                          {"title": "x", "done": False}, [], [])
    assert r.meta["title"] == FieldMeta(st(1, "d"), 1, A)


def test_newer_writes_older_loses_field_by_field() -> None:
    r = record()
    out = merge_put(r, {"access_notes": "Cat", "address": "2 Elm Road"}, st(150, "dev-a"), 2, A)
    assert out.written == {"address": "2 Elm Road"}
    assert out.lost == ["access_notes"]
    assert r.fields == {"address": "2 Elm Road", "access_notes": "Dog"}
    assert r.version == 3
    assert r.meta["address"] == FieldMeta(st(150, "dev-a"), 3, A)
    assert r.meta["access_notes"] == FieldMeta(st(200, "dev-b"), 2, B)


def test_a_change_that_writes_nothing_keeps_the_version() -> None:
    r = record()
    out = merge_put(r, {"access_notes": "Cat"}, st(150, "dev-a"), 2, A)
    assert (out.changed, r.version, out.lost) == (False, 2, ["access_notes"])


def test_the_tie_goes_to_what_is_there() -> None:
    r = record()
    out = merge_put(r, {"access_notes": "Cat"}, st(200, "dev-b"), 2, B)
    assert out.lost == ["access_notes"] and out.conflicts == []


def test_concurrent_newer_write_records_a_conflict() -> None:
    r = record()
    out = merge_put(r, {"access_notes": "Cat"}, st(300, "dev-a"), 1, A)
    assert [sides(c) for c in out.conflicts] == [
        ("access_notes", "Cat", A, st(300, "dev-a"), "Dog", B, st(200, "dev-b"))]
    assert r.fields["access_notes"] == "Cat"


def test_a_base_version_of_null_on_an_existing_record_is_concurrent() -> None:
    out = merge_put(record(), {"access_notes": "Cat"}, st(300, "dev-a"), None, A)
    assert len(out.conflicts) == 1


def test_a_seen_value_overwritten_is_an_edit() -> None:
    out = merge_put(record(), {"access_notes": "Cat"}, st(300, "dev-a"), 2, A)
    assert out.conflicts == [] and out.lost == []


def test_a_losing_different_value_is_always_kept() -> None:
    out = merge_put(record(), {"access_notes": "Cat"}, st(150, "dev-a"), 5, A)  # even having "seen" it
    assert [sides(c) for c in out.conflicts] == [
        ("access_notes", "Dog", B, st(200, "dev-b"), "Cat", A, st(150, "dev-a"))]


def test_a_device_never_conflicts_with_itself() -> None:
    r = record()
    assert merge_put(r, {"access_notes": "Cat"}, st(300, "dev-b"), 1, B).conflicts == []
    assert merge_put(r, {"access_notes": "Cow"}, st(250, "dev-b"), 1, B).conflicts == []


def test_equal_values_never_conflict() -> None:
    assert merge_put(record(), {"access_notes": "Dog"}, st(300, "dev-a"), 1, A).conflicts == []
    assert merge_put(record(), {"access_notes": "Dog"}, st(150, "dev-a"), 1, A).conflicts == []


def test_an_equal_value_taken_over_unseen_still_conflicts_when_its_taker_changes_it() -> None:
    """dev-a writes "Dog" too without having seen dev-b's "Dog" (no conflict: equal), then
    changes it to "Cat", still not having seen dev-b's write: dev-b's value is replaced by a
    device that never saw it, so a conflict keeps it (Known gap 5 before 2026-12-06)."""
    r = record()
    assert merge_put(r, {"access_notes": "Dog"}, st(300, "dev-a"), 1, A).conflicts == []
    assert r.meta["access_notes"] == FieldMeta(st(300, "dev-a"), 3, A, FieldMeta(st(200, "dev-b"), 2, B))
    out = merge_put(r, {"access_notes": "Cat"}, st(301, "dev-a"), 1, A)
    assert [sides(c) for c in out.conflicts] == [
        ("access_notes", "Cat", A, st(301, "dev-a"), "Dog", B, st(200, "dev-b"))]
    assert r.fields["access_notes"] == "Cat" and r.meta["access_notes"].shared is None


def test_an_equal_value_taken_over_then_seen_is_an_edit() -> None:
    r = record()
    merge_put(r, {"access_notes": "Dog"}, st(300, "dev-a"), 1, A)
    assert merge_put(r, {"access_notes": "Cat"}, st(301, "dev-a"), 2, A).conflicts == []  # saw v2
    r = record()
    merge_put(r, {"access_notes": "Dog"}, st(300, "dev-a"), 1, A)
    assert merge_put(r, {"access_notes": "Cat"}, st(301, "dev-b"), 1, B).conflicts != []  # dev-a's value, unseen
    r = record()
    merge_put(r, {"access_notes": "Dog"}, st(300, "dev-a"), 2, A)  # had seen dev-b's write: nothing shared
    assert r.meta["access_notes"].shared is None


def test_field_meta_round_trips_through_its_list_form() -> None:
    shared = FieldMeta(st(300, "dev-a"), 3, A, FieldMeta(st(200, "dev-b"), 2, B))
    assert FieldMeta.from_list(shared.as_list()) == shared
    plain = FieldMeta(st(1, "d"), 1, A)
    assert plain.as_list() == [st(1, "d"), 1, A] and FieldMeta.from_list(plain.as_list()) == plain


def test_a_field_never_written_is_simply_written() -> None:
    r = record()
    out = merge_put(r, {"language": "cy"}, st(1, "dev-a"), None, A)
    assert out.written == {"language": "cy"} and out.conflicts == [] and r.version == 3


def test_delete_tombstones_unless_a_field_is_newer() -> None:
    r = record()
    out = merge_delete(r, st(300, "dev-a"), A)
    assert (r.deleted, r.deleted_hlc, r.version, out.written) == (True, st(300, "dev-a"), 3, {"_deleted": True})
    assert r.flags["deleted_by"] == A
    r = record()
    out = merge_delete(r, st(150, "dev-a"), A)
    assert (r.deleted, r.version, out.lost) == (False, 2, ["_deleted"])
    assert [sides(c) for c in out.conflicts] == [
        (None, {"_deleted": False}, B, st(200, "dev-b"), {"_deleted": True}, A, st(150, "dev-a"))]


def test_deleting_a_tombstone_again_writes_nothing() -> None:
    r = record()
    merge_delete(r, st(300, "dev-a"), A)
    out = merge_delete(r, st(400, "dev-b"), B)
    assert (out.changed, out.lost, r.version, r.deleted_hlc) == (False, [], 3, st(300, "dev-a"))


def test_a_put_newer_than_the_delete_brings_the_record_back() -> None:
    r = record()
    merge_delete(r, st(300, "dev-a"), A)
    out = merge_put(r, {"access_notes": "Cat"}, st(400, "dev-b"), 3, B)
    assert (r.deleted, r.deleted_hlc, r.version, r.fields["access_notes"]) == (False, None, 4, "Cat")
    assert [sides(c) for c in out.conflicts] == [
        (None, {"_deleted": False, "access_notes": "Cat"}, B, st(400, "dev-b"), {"_deleted": True}, A, st(300, "dev-a"))]


def test_a_put_older_than_the_delete_loses_everything() -> None:
    r = record()
    merge_delete(r, st(300, "dev-a"), A)
    out = merge_put(r, {"access_notes": "Cat", "language": "cy"}, st(250, "dev-b"), 2, B)
    assert (r.deleted, r.version, out.lost, out.written) == (True, 3, ["access_notes", "language", "_deleted"], {})
    assert [sides(c) for c in out.conflicts] == [
        (None, {"_deleted": True}, A, st(300, "dev-a"), {"_deleted": False, "access_notes": "Cat", "language": "cy"},
         B, st(250, "dev-b"))]


def test_force_write_wins_whatever_the_stamps() -> None:
    r = record()
    force_write(r, {"access_notes": "Resolved"}, st(50, "server"), "office")
    assert (r.fields["access_notes"], r.version, r.meta["access_notes"]) == ("Resolved", 3, FieldMeta(st(50, "server"), 3, "office"))


def test_is_newer_reads_stamps() -> None:
    assert is_newer(st(2, "a"), st(1, "z"))
    assert is_newer(st(1, "a", 1), st(1, "z"))
    assert not is_newer(st(1, "a"), st(1, "a"))
