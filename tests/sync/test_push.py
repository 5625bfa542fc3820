"""sync.push: one result per change, one transaction per batch (PROTOCOL §3, §5)."""
from __future__ import annotations

import gc

import pytest

from sync import OFFICER, Actor, apply, prepare, push

from .world import (C1, H1, NOW, NOW_MS, OFF1, OFF1_A, OFF2, OFFICE_A, OFFICE_ID, P1, S, U, World, delete, put)

T1, V1, V2, K1 = U("7a000000", 1), U("e1000000", 1), U("e1000000", 2), U("c0000000", 1)
OFF2_A = Actor(OFF2, OFFICER, "dev-b")


@pytest.fixture
def world() -> World:
    return World()


def test_results_come_in_request_order_one_per_change(world: World) -> None:
    changes = [put("task", U("7a000000", 10 + n), {"case_id": C1, "title": f"t{n}"}, None, S(n, "dev-a")) for n in range(5)]
    changes.insert(2, put("task", U("7a000000", 99), {"title": "no case"}, None, S(9, "dev-a")))
    results = world.push(OFF1_A, changes)
    assert [r["change_id"] for r in results] == [c["change_id"] for c in changes]
    assert [r["status"] for r in results] == ["applied"] * 2 + ["rejected"] + ["applied"] * 3


def test_each_writing_change_adds_one_version(world: World) -> None:
    world.ok(OFF1_A, [put("task", T1, {"case_id": C1, "title": "a"}, None, S(1, "dev-a"))])
    assert [world.one(OFF1_A, put("task", T1, {"title": t}, 1, S(2 + n, "dev-a")))["version"]
            for n, t in enumerate("bcd")] == [2, 3, 4]
    assert world.record("task", T1).version == 4


def test_exactly_once_across_pushes_and_within_a_batch(world: World) -> None:
    c = put("task", T1, {"case_id": C1, "title": "a"}, None, S(1, "dev-a"))
    e = put("task", T1, {"title": "b"}, 1, S(2, "dev-a"))
    first = world.push(OFF1_A, [c, c, e])
    assert [(r["status"], r["version"]) for r in first] == [("applied", 1), ("duplicate", 1), ("applied", 2)]
    again = world.push(OFF1_A, [c, e])
    assert [(r["status"], r["version"]) for r in again] == [("duplicate", 1), ("duplicate", 2)]
    assert world.record("task", T1).version == 2 and world.record("task", T1).fields["title"] == "b"
    assert len([x for x in world.store.changes.values() if x.entity_id == T1]) == 2


def test_change_ids_are_matched_whatever_their_case(world: World) -> None:
    c = put("task", T1, {"case_id": C1, "title": "a"}, None, S(1, "dev-a"))
    world.ok(OFF1_A, [c])
    r = world.one(OFF1_A, {**c, "change_id": c["change_id"].upper()})
    assert r["status"] == "duplicate"


def test_a_rejected_change_is_not_remembered(world: World) -> None:
    c = put("task", T1, {"case_id": C1}, None, S(1, "dev-a"))
    assert [r["status"] for r in world.push(OFF1_A, [c, c])] == ["rejected", "rejected"]
    c["fields"]["title"] = "now complete"
    assert world.one(OFF1_A, c)["status"] == "applied"


def test_server_fields_are_stamped_and_echoes_ignored(world: World) -> None:
    world.ok(OFF1_A, [put("visit", V1, {"case_id": C1, "officer_id": OFF2, "created_by": OFF2, "id": "x"}, None,
                          S(1, "dev-a"))])
    r = world.record("visit", V1)
    assert (r.fields["officer_id"], r.created_by, r.updated_by, r.created_at) == (OFF1, OFF1, OFF1, "2026-11-23T08:15:00.000Z")
    assert r.fields["household_id"] == H1, "the household comes from the case's pupil"
    world.ok(OFFICE_A, [put("visit", V1, {"notes": "x", "officer_id": OFF2}, 1, S(2, "dev-o"))])
    r = world.record("visit", V1)
    assert (r.fields["officer_id"], r.created_by, r.updated_by) == (OFF1, OFF1, OFFICE_ID)


def test_fixed_fields(world: World) -> None:
    world.ok(OFF1_A, [put("task", T1, {"case_id": C1, "title": "a"}, None, S(1, "dev-a"))])
    assert world.one(OFF1_A, put("task", T1, {"case_id": U("ca000000", 2)}, 1, S(2, "dev-a")))["errors"] == [
        {"field": "case_id", "code": "immutable", "message": "case_id cannot change once set"}]
    assert world.one(OFF1_A, put("task", T1, {"case_id": C1}, 1, S(3, "dev-a")))["status"] == "applied"
    assert world.one(OFFICE_A, put("case", C1, {"pupil_id": U("b0000000", 2)}, 1, S(4, "dev-o")))["errors"][0]["code"] == "immutable"


def test_submitted_records_are_immutable_and_not_deletable(world: World) -> None:
    world.ok(OFF1_A, [put("conversation", K1, {"case_id": C1, "spoke_with": "Mother", "status": "submitted"}, None,
                          S(1, "dev-a"))])
    assert world.one(OFFICE_A, put("conversation", K1, {"status": "draft"}, 1, S(2, "dev-o")))["errors"] == [
        {"field": None, "code": "immutable", "message": "this conversation was submitted; add a note to correct it"}]
    assert world.one(OFF1_A, delete("conversation", K1, 1, S(3, "dev-a")))["errors"][0]["code"] == "not_deletable"


def test_submitting_needs_a_complete_record(world: World) -> None:
    r = world.one(OFF1_A, put("visit", V1, {"case_id": C1, "status": "submitted"}, None, S(1, "dev-a")))
    assert [(e["field"], e["code"]) for e in r["errors"]] == [("outcome", "validation_failed")]
    world.ok(OFF1_A, [put("visit", V1, {"case_id": C1, "outcome": "no_answer"}, None, S(2, "dev-a"))])
    r = world.one(OFF1_A, put("visit", V1, {"safeguarding_concern": True, "status": "submitted"}, 1, S(3, "dev-a")))
    assert [(e["field"], e["code"]) for e in r["errors"]] == [("concern_details", "validation_failed")]


@pytest.mark.parametrize("type_, fields, code", [
    ("case", {"pupil_id": P1}, "not_deletable"),
    ("household", {"address": "x"}, "not_deletable"),
])
def test_only_tasks_and_drafts_may_be_deleted(world: World, type_, fields, code) -> None:
    rec = {"case": C1, "household": H1}[type_]
    r = world.one(OFFICE_A, delete(type_, rec, 1, S(10, "dev-o")))
    assert r["errors"] == [{"field": None, "code": code,
                            "message": f"a {type_} cannot be deleted; cases close and records are corrected by notes"}]


def test_deletes(world: World) -> None:
    assert world.one(OFF1_A, delete("task", T1, None, S(1, "dev-a")))["errors"][0]["code"] == "not_found"
    world.ok(OFF1_A, [put("task", T1, {"case_id": C1, "title": "a"}, None, S(2, "dev-a")),
                      put("visit", V1, {"case_id": C1}, None, S(3, "dev-a"))])
    world.ok(OFFICE_A, [put("case", C1, {"assigned_officer_id": OFF2}, 1, S(4, "dev-o"))])
    assert world.one(OFF2_A, delete("visit", V1, 1, S(5, "dev-b")))["errors"] == [
        {"field": None, "code": "forbidden", "message": "only its author may delete a draft visit"}]
    assert world.one(OFF1_A, delete("task", T1, 1, S(6, "dev-a")))["errors"][0]["code"] == "forbidden"
    r = world.one(OFF2_A, delete("task", T1, 1, S(7, "dev-b")))
    assert (r["status"], r["version"]) == ("applied", 2)
    assert world.record("task", T1).deleted


def test_the_batch_is_one_transaction(world: World) -> None:
    """The caller composes the transaction: a failure after ``apply`` (its audit write, say)
    leaves nothing of the batch behind."""
    before = (dict(world.store.changes), world.store.seq)
    prepared = prepare(OFF1_A, [put("task", T1, {"case_id": C1, "title": "a"}, None, S(1, "dev-a"))])
    with pytest.raises(RuntimeError):
        with world.store.write() as txn:
            apply(txn, prepared, world.clock, NOW)
            raise RuntimeError("audit write failed")
    assert T1 not in world.store.records.get("task", {})
    assert (dict(world.store.changes), world.store.seq) == before


def test_apply_sees_its_outcome_inside_the_callers_transaction(world: World) -> None:
    prepared = prepare(OFF1_A, [put("task", T1, {"case_id": C1, "title": "a"}, None, S(1, "dev-a"))])
    with world.store.write() as txn:
        out = apply(txn, prepared, world.clock, NOW)
        seen = (txn.get("task", [T1])[T1].version, out.results[0].status)
    assert seen == (1, "applied")


def test_server_hlc_is_later_than_every_stamp_kept(world: World) -> None:
    ahead = f"{NOW_MS + 200_000:015d}-000009-dev-a"
    out = push(world.store, OFF1_A, [put("task", T1, {"case_id": C1, "title": "a"}, None, ahead)], world.clock, now=NOW)
    assert out.server_hlc == f"{NOW_MS + 200_000:015d}-000010-server"
    assert out.server_time == "2026-11-23T08:15:00.000Z"
    assert world.clock.send() > out.server_hlc


def test_skewed_stamps_are_restamped_keeping_the_node(world: World) -> None:
    far = f"{NOW_MS + 300_001:015d}-000000-dev-a"
    edge = f"{NOW_MS + 300_000:015d}-000000-dev-a"
    out = push(world.store, OFF1_A, [put("task", T1, {"case_id": C1, "title": "a"}, None, far),
                                     put("task", U("7a000000", 2), {"case_id": C1, "title": "b"}, None, edge)],
               world.clock, now=NOW)
    assert [r.clock_skew for r in out.results] == [True, False]
    assert out.results[0].as_dict()["clock_skew"] is True and "clock_skew" not in out.results[1].as_dict()
    stamp = world.record("task", T1).meta["title"].hlc
    assert stamp.startswith(f"{NOW_MS:015d}-") and stamp.endswith("-dev-a")
    assert world.store.changes[out.results[0].change_id].hlc == stamp


def test_a_batch_is_freed_when_it_ends_not_left_to_the_garbage_collector(world: World) -> None:
    """No reference cycle holds a batch: its records, log rows and rows to write are freed as
    the push returns. (A scope watch that kept the batch's bound methods made every batch a
    cycle, and at 200 changes a push some 2,000 objects waited for the collector.)"""
    gc.collect()
    gc.disable()
    flags = gc.get_debug()
    gc.set_debug(gc.DEBUG_SAVEALL)  # what a collection finds is kept in gc.garbage, to be named
    try:
        world.ok(OFF1_A, [put("task", T1, {"case_id": C1, "title": "a"}, None, S(1, "dev-a")),
                          put("visit", V1, {"case_id": C1}, None, S(2, "dev-a"))])
        # an office batch that moves a case between caseloads: the scope watch reads both scopes
        world.ok(OFFICE_A, [put("case", C1, {"assigned_officer_id": OFF2}, 1, S(3, "dev-o")),
                            put("task", K1, {"case_id": C1, "title": "b"}, None, S(4, "dev-o"))])
        # and one with a rejection in it
        world.push(OFF2_A, [put("task", T1, {"title": "c"}, 1, S(5, "dev-b")),
                            put("task", U("7a000000", 3), {"title": "no case"}, None, S(6, "dev-b"))])
        gc.collect()
        # only the engine's own objects count: anything else in the process is not this test's
        left = sorted({type(o).__qualname__ for o in gc.garbage if type(o).__module__.startswith("sync.")})
        assert left == []
    finally:
        gc.set_debug(flags)
        gc.garbage.clear()
        gc.enable()
