"""Field work sent after a case left an officer's scope may hang only on records the officer had
(sync/batch.py ``_check_scope``): their own, or ones a scope event shows were once in their scope.
A visit another officer made afterwards is refused, as a task is (issue #16, item 8)."""
from __future__ import annotations

import pytest

from .world import C1, OFF1, OFF1_A, OFF2, OFF2_A, OFFICE_A, S, U, World, put

V_BEFORE, V_AFTER, V_MINE = U("e1000000", 1), U("e1000000", 2), U("e1000000", 3)
CONV = U("c0000000", 1)
FORBIDDEN = [{"field": None, "code": "forbidden", "message": "this {} is not in your caseload"}]


@pytest.fixture
def world() -> World:
    """C1 was officer 1's; officer 2 visited once while it was, then the office gave it to officer 2,
    who visited again."""
    w = World()
    w.ok(OFFICE_A, [put("visit", V_BEFORE, {"case_id": C1}, None, S(10, "dev-o"))])
    w.ok(OFFICE_A, [put("case", C1, {"assigned_officer_id": OFF2}, 1, S(20, "dev-o"))])
    w.ok(OFF2_A, [put("visit", V_AFTER, {"case_id": C1, "outcome": "no_answer"}, None, S(30, "dev-b"))])
    return w


def refused(result: dict, type_: str) -> bool:
    return result["status"] == "rejected" and result["errors"] == [
        {**FORBIDDEN[0], "message": FORBIDDEN[0]["message"].format(type_)}]


def test_a_task_on_the_case_is_refused(world: World) -> None:
    assert refused(world.one(OFF1_A, put("task", U("7a000000", 1), {"case_id": C1, "title": "t"}, None,
                                         S(40, "dev-a"))), "task")


def test_a_conversation_at_a_visit_made_after_the_case_left_is_refused(world: World) -> None:
    r = world.one(OFF1_A, put("conversation", CONV, {"case_id": C1, "visit_id": V_AFTER}, None, S(40, "dev-a")))
    assert refused(r, "conversation")
    assert CONV not in world.store.records["conversation"]


def test_a_note_on_a_visit_made_after_the_case_left_is_refused(world: World) -> None:
    note = U("9e000000", 1)
    r = world.one(OFF1_A, put("note", note, {"subject_type": "visit", "subject_id": V_AFTER, "text": "seen"},
                              None, S(40, "dev-a")))
    assert refused(r, "note")
    assert note not in world.store.records["note"]


def test_an_own_conversation_cannot_be_moved_onto_such_a_visit(world: World) -> None:
    world.ok(OFF1_A, [put("conversation", CONV, {"case_id": C1}, None, S(40, "dev-a"))])
    r = world.one(OFF1_A, put("conversation", CONV, {"visit_id": V_AFTER}, 1, S(41, "dev-a")))
    assert refused(r, "conversation")
    assert "visit_id" not in world.record("conversation", CONV).fields


def test_work_on_what_the_officer_had_is_still_kept_and_flagged(world: World) -> None:
    """Offline work recorded before the sync: on a visit they had seen, on their own new visit,
    a note on the case or the pupil's visit — all accepted and flagged, as before."""
    note1, note2, conv2 = U("9e000000", 2), U("9e000000", 3), U("c0000000", 2)
    results = world.ok(OFF1_A, [
        put("conversation", CONV, {"case_id": C1, "visit_id": V_BEFORE}, None, S(40, "dev-a")),
        put("visit", V_MINE, {"case_id": C1, "outcome": "no_answer"}, None, S(41, "dev-a")),
        put("conversation", conv2, {"case_id": C1, "visit_id": V_MINE}, None, S(42, "dev-a")),
        put("note", note1, {"subject_type": "visit", "subject_id": V_BEFORE, "text": "x"}, None, S(43, "dev-a")),
        put("note", note2, {"subject_type": "case", "subject_id": C1, "text": "y"}, None, S(44, "dev-a")),
    ])
    assert [r["status"] for r in results] == ["applied"] * 5
    for type_, id_ in [("conversation", CONV), ("visit", V_MINE), ("conversation", conv2),
                       ("note", note1), ("note", note2)]:
        assert world.record(type_, id_).flags["out_of_scope_by"] == OFF1, (type_, id_)


def test_the_officer_who_has_the_case_links_freely(world: World) -> None:
    r = world.one(OFF2_A, put("conversation", CONV, {"case_id": C1, "visit_id": V_AFTER}, None, S(40, "dev-b")))
    assert r["status"] == "applied" and not world.record("conversation", CONV).flags.get("out_of_scope")


def test_a_visit_back_in_scope_once_counts_as_had(world: World) -> None:
    """Given back to officer 1 and taken away again: officer 1 had the later visit meanwhile."""
    world.ok(OFFICE_A, [put("case", C1, {"assigned_officer_id": OFF1}, 2, S(50, "dev-o"))])
    world.ok(OFFICE_A, [put("case", C1, {"assigned_officer_id": OFF2}, 3, S(51, "dev-o"))])
    r = world.one(OFF1_A, put("conversation", CONV, {"case_id": C1, "visit_id": V_AFTER}, None, S(60, "dev-a")))
    assert r["status"] == "applied"
