"""Parents (``person``) and attendance support plans (``support_plan``) in the engine: who sees them,
who may write them, and a plan's versions (docs/protocol.md §7.8, §7.9; sync/casework.py)."""
from __future__ import annotations

import pytest

from sync import officer_scope
from sync.scope import members

from .world import C1, C2, H1, H2, OFF1, OFF1_A, OFF2_A, OFFICE_A, S, U, World, delete, keys, put

MUM, DAD, OTHER = U("9a000000", 1), U("9a000000", 2), U("9a000000", 3)
PLAN1, PLAN2, PLAN3 = U("51000000", 1), U("51000000", 2), U("51000000", 3)
ACTIONS = [{"action": "Walk to school with a friend", "owner": "family", "due_on": "2026-12-01"},
           {"action": "Time-out card", "owner": "school"}]


@pytest.fixture
def world() -> World:
    w = World()
    w.ok(OFFICE_A, [put("person", MUM, {"household_id": H1, "name": "Jo Stone", "parental_responsibility": True},
                        None, S(1, "dev-o")),
                    put("person", OTHER, {"household_id": H2, "name": "Sam Moss"}, None, S(2, "dev-o"))])
    return w


def codes(result: dict) -> list[tuple[str | None, str]]:
    return [(e["field"], e["code"]) for e in result["errors"]]


def plan(fields: dict, base: int | None, sec: float, node: str = "dev-a") -> dict:
    return put("support_plan", fields.pop("id"), fields, base, S(sec, node))


def test_an_officer_sees_the_persons_of_their_households_and_the_plans_of_their_cases(world: World) -> None:
    world.ok(OFF1_A, [plan({"id": PLAN1, "case_id": C1, "actions": ACTIONS}, None, 10)])
    with world.store.read() as txn:
        held = members(txn, officer_scope(txn, OFF1))
    assert {("person", MUM), ("support_plan", PLAN1)} <= held
    assert ("person", OTHER) not in held
    items, _ = world.pull_all(OFF1_A)
    assert ("person", MUM, "live") in keys(items) and ("support_plan", PLAN1, "live") in keys(items)
    assert ("person", OTHER, "live") not in keys(items)
    other, _ = world.pull_all(OFF2_A)
    assert ("support_plan", PLAN1, "live") not in keys(other) and ("person", OTHER, "live") in keys(other)


def test_persons_and_plans_leave_a_phone_with_the_case(world: World) -> None:
    world.ok(OFF1_A, [plan({"id": PLAN1, "case_id": C1}, None, 10)])
    _, cursor = world.pull_all(OFF1_A)
    world.ok(OFFICE_A, [put("case", C1, {"status": "closed"}, 1, S(100, "dev-o"))])
    items, _ = world.pull_all(OFF1_A, cursor)
    assert {("person", MUM, "removed"), ("support_plan", PLAN1, "removed")} <= set(keys(items))


def test_an_officer_records_persons_in_their_households_only(world: World) -> None:
    world.ok(OFF1_A, [put("person", DAD, {"household_id": H1, "name": "Lee Stone", "needs_interpreter": False},
                          None, S(10, "dev-a"))])
    refused = world.one(OFF1_A, put("person", U("9a000000", 9), {"household_id": H2, "name": "X"}, None,
                                    S(11, "dev-a")))
    assert codes(refused) == [(None, "forbidden")]
    bad = world.one(OFF1_A, put("person", U("9a000000", 8), {"household_id": H1, "name": "Y", "email": "no"},
                                None, S(12, "dev-a")))
    assert codes(bad) == [("email", "validation_failed")]
    fixed = world.one(OFF1_A, put("person", DAD, {"household_id": H2}, 1, S(13, "dev-a")))
    assert codes(fixed) == [("household_id", "immutable")]
    assert world.one(OFF1_A, delete("person", DAD, 1, S(14, "dev-a")))["status"] == "rejected"


def test_a_case_names_parents_of_its_pupils_household(world: World) -> None:
    world.ok(OFF1_A, [put("case", C1, {"parent_ids": [MUM]}, 1, S(10, "dev-a"))])
    assert world.record("case", C1).fields["parent_ids"] == [MUM]
    wrong = world.one(OFF1_A, put("case", C1, {"parent_ids": [OTHER]}, 2, S(11, "dev-a")))
    assert codes(wrong) == [("parent_ids", "validation_failed")]
    missing = world.one(OFFICE_A, put("case", C1, {"parent_ids": [U("9a000000", 7)]}, 2, S(12, "dev-o")))
    assert codes(missing) == [("parent_ids", "not_found")]
    other_field = world.one(OFF1_A, put("case", C1, {"stage": "attendance_meeting"}, 2, S(13, "dev-a")))
    assert codes(other_field) == [("stage", "forbidden")]
    not_theirs = world.one(OFF1_A, put("case", C2, {"parent_ids": []}, 1, S(14, "dev-a")))
    assert codes(not_theirs) == [(None, "forbidden")]


def test_a_submitted_plan_is_never_overwritten_and_a_review_is_a_new_version(world: World) -> None:
    world.ok(OFF1_A, [plan({"id": PLAN1, "case_id": C1, "barriers": ["bullying"], "actions": ACTIONS,
                            "review_on": "2026-12-14", "plan_version": 7}, None, 10)])
    assert world.record("support_plan", PLAN1).fields["plan_version"] == 1, "the server numbers versions"
    early = world.one(OFF1_A, plan({"id": PLAN2, "case_id": C1, "supersedes": PLAN1}, None, 11))
    assert codes(early) == [("supersedes", "validation_failed")], "a draft is changed, not reviewed"
    world.ok(OFF1_A, [plan({"id": PLAN1, "status": "submitted"}, 1, 12)])
    again = world.one(OFFICE_A, plan({"id": PLAN1, "review_on": "2027-01-10"}, 2, 13, "dev-o"))
    assert codes(again) == [(None, "immutable")]
    assert world.one(OFF1_A, delete("support_plan", PLAN1, 2, S(14, "dev-a")))["status"] == "rejected"
    world.ok(OFF1_A, [plan({"id": PLAN2, "case_id": C1, "supersedes": PLAN1, "actions": ACTIONS[:1],
                            "review_on": "2027-01-10", "review_outcome": "continue", "status": "submitted"},
                           None, 15)])
    assert world.record("support_plan", PLAN2).fields["plan_version"] == 2
    assert world.record("support_plan", PLAN1).fields["review_on"] == "2026-12-14", "the old version stands"
    moved = world.one(OFF1_A, plan({"id": PLAN2, "supersedes": PLAN3}, 1, 16))
    assert codes(moved) == [(None, "immutable")]


def test_a_plan_is_submitted_with_actions_and_a_review_date(world: World) -> None:
    empty = world.one(OFF1_A, plan({"id": PLAN1, "case_id": C1, "status": "submitted"}, None, 10))
    assert codes(empty) == [("actions", "validation_failed"), ("review_on", "validation_failed")]
    owner = world.one(OFF1_A, plan({"id": PLAN1, "case_id": C1, "actions": [{"action": "x", "owner": "mum"}]},
                                   None, 11))
    assert codes(owner) == [("actions", "validation_failed")]
    not_theirs = world.one(OFF1_A, plan({"id": PLAN1, "case_id": C2}, None, 12))
    assert codes(not_theirs) == [(None, "forbidden")]
    world.ok(OFF2_A, [plan({"id": PLAN3, "case_id": C2, "actions": ACTIONS, "review_on": "2026-12-14",
                            "status": "submitted"}, None, 13, "dev-b")])
    other_case = world.one(OFFICE_A, plan({"id": PLAN2, "case_id": C1, "supersedes": PLAN3}, None, 14, "dev-o"))
    assert codes(other_case) == [("supersedes", "validation_failed")]
