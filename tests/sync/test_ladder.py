"""sync/ladder.py and its use in push: the escalation ladder's rule (PROTOCOL §7.5)."""
from __future__ import annotations

import pytest

from sync.ladder import check_stage

from .world import C1, OFF1_A, OFFICE_A, S, U, World, delete, put

NO_CONTACT = "home visit or doorstep conversation"
NO_SUPPORT = "attendance contract or notice to improve"


@pytest.mark.parametrize("stage", ["support", "attendance_meeting", "attendance_contract", "notice_to_improve"])
def test_support_stages_need_nothing(stage: str) -> None:
    assert check_stage(stage, "support", [], 0) is None


@pytest.mark.parametrize("stage", ["penalty_notice", "education_supervision_order", "prosecution"])
def test_enforcement_needs_both_facts(stage: str) -> None:
    e = check_stage(stage, "support", ["support"], 0)
    assert (e.field, e.code) == ("stage", "support_not_tried")
    assert e.message == f"cannot move to {stage}: the record shows no {NO_CONTACT} and no {NO_SUPPORT}"
    assert check_stage(stage, "support", ["attendance_contract"], 0).message == \
        f"cannot move to {stage}: the record shows no {NO_CONTACT}"
    assert check_stage(stage, "support", ["support"], 2).message == f"cannot move to {stage}: the record shows no {NO_SUPPORT}"
    assert check_stage(stage, "support", ["notice_to_improve"], 1) is None
    assert check_stage(stage, "attendance_meeting", ["attendance_contract", "attendance_meeting"], 1) is None


def test_staying_at_the_same_stage_needs_nothing() -> None:
    assert check_stage("prosecution", "prosecution", [], 0) is None


def test_skipping_down_the_ladder_is_allowed() -> None:
    assert check_stage("support", "prosecution", [], 0) is None


@pytest.fixture
def world() -> World:
    return World()


def stage(world: World, name: str, sec: int) -> dict:
    return world.one(OFFICE_A, put("case", C1, {"stage": name}, world.record("case", C1).version, S(sec, "dev-o")))


def test_the_stages_reached_are_remembered_after_moving_back(world: World) -> None:
    assert stage(world, "attendance_contract", 100)["status"] == "applied"
    assert stage(world, "support", 110)["status"] == "applied"
    world.ok(OFF1_A, [put("visit", U("e1000000", 1), {"case_id": C1}, None, S(120, "dev-a"))])
    assert stage(world, "penalty_notice", 130)["status"] == "applied"


def test_a_deleted_visit_is_not_a_contact(world: World) -> None:
    v = U("e1000000", 2)
    stage(world, "notice_to_improve", 100)
    world.ok(OFF1_A, [put("visit", v, {"case_id": C1}, None, S(110, "dev-a")),
                      delete("visit", v, 1, S(120, "dev-a"))])
    r = stage(world, "penalty_notice", 130)
    assert r["status"] == "rejected"
    assert r["errors"][0]["message"].endswith(f"shows no {NO_CONTACT}")


def test_a_conversation_counts_as_a_contact(world: World) -> None:
    stage(world, "attendance_contract", 100)
    world.ok(OFF1_A, [put("conversation", U("c0000000", 1), {"case_id": C1, "spoke_with": "Mother"}, None,
                          S(110, "dev-a"))])
    assert stage(world, "education_supervision_order", 120)["status"] == "applied"


def test_a_new_case_cannot_start_in_enforcement(world: World) -> None:
    r = world.one(OFFICE_A, put("case", U("ca000000", 50), {"pupil_id": world.record("case", C1).fields["pupil_id"],
                                                             "stage": "prosecution"}, None, S(100, "dev-o")))
    assert [(e["field"], e["code"]) for e in r["errors"]] == [("stage", "support_not_tried")]
