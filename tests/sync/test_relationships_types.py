"""Wellbeing plans (``wellbeing_plan``) and lone-working check-ins (``check_in``) in the engine: who
sees them, who may write them, a plan's versions and its return timetable (docs/protocol.md §7.10,
§7.11; sync/relationships.py)."""
from __future__ import annotations

from sync import officer_scope
from sync.scope import members

from .world import C1, C2, H1, H2, OFF1, OFF1_A, OFF2, OFF2_A, OFFICE_A, S, U, World, delete, keys, put

WB1, WB2, WB3 = U("3b000000", 1), U("3b000000", 2), U("3b000000", 3)
CI1, CI2, CI3 = U("3c000000", 1), U("3c000000", 2), U("3c000000", 3)
WEEKS = [{"week_starting": "2026-11-02", "sessions": 2}, {"week_starting": "2026-11-09", "sessions": 4},
         {"week_starting": "2026-11-16", "sessions": 6}]


def codes(result: dict) -> list[tuple[str | None, str]]:
    return [(e["field"], e["code"]) for e in result["errors"]]


def plan(fields: dict, base: int | None, sec: float, node: str = "dev-a") -> dict:
    return put("wellbeing_plan", fields.pop("id"), fields, base, S(sec, node))


def check_in(id_: str, fields: dict, base: int | None, sec: float, node: str = "dev-a") -> dict:
    return put("check_in", id_, fields, base, S(sec, node))


def test_a_wellbeing_plan_travels_with_its_case() -> None:
    world = World()
    world.ok(OFF1_A, [plan({"id": WB1, "case_id": C1, "what_helps": "A quiet start", "return_timetable": WEEKS},
                           None, 10)])
    with world.store.read() as txn:
        assert ("wellbeing_plan", WB1) in members(txn, officer_scope(txn, OFF1))
    items, cursor = world.pull_all(OFF1_A)
    assert ("wellbeing_plan", WB1, "live") in keys(items)
    other, _ = world.pull_all(OFF2_A)
    assert ("wellbeing_plan", WB1, "live") not in keys(other)
    refused = world.one(OFF1_A, plan({"id": WB2, "case_id": C2}, None, 11))
    assert codes(refused) == [(None, "forbidden")]
    world.ok(OFFICE_A, [put("case", C1, {"status": "closed"}, 1, S(100, "dev-o"))])
    items, _ = world.pull_all(OFF1_A, cursor)
    assert ("wellbeing_plan", WB1, "removed") in keys(items)


def test_a_submitted_wellbeing_plan_is_never_overwritten_and_a_review_is_a_new_version() -> None:
    world = World()
    world.ok(OFF1_A, [plan({"id": WB1, "case_id": C1, "trusted_adult": "Mrs Khan", "plan_version": 9,
                            "adjustments": ["Arrive 10 minutes early"], "review_on": "2026-12-14"}, None, 10)])
    assert world.record("wellbeing_plan", WB1).fields["plan_version"] == 1, "the server numbers versions"
    early = world.one(OFF1_A, plan({"id": WB2, "case_id": C1, "supersedes": WB1}, None, 11))
    assert codes(early) == [("supersedes", "validation_failed")], "a draft is changed, not reviewed"
    world.ok(OFF1_A, [plan({"id": WB1, "status": "submitted"}, 1, 12)])
    again = world.one(OFFICE_A, plan({"id": WB1, "safe_space": "The library"}, 2, 13, "dev-o"))
    assert codes(again) == [(None, "immutable")]
    assert world.one(OFF1_A, delete("wellbeing_plan", WB1, 2, S(14, "dev-a")))["status"] == "rejected"
    world.ok(OFF1_A, [plan({"id": WB2, "case_id": C1, "supersedes": WB1, "trusted_adult": "Mr Ali",
                            "status": "submitted"}, None, 15)])
    assert world.record("wellbeing_plan", WB2).fields["plan_version"] == 2
    assert world.record("wellbeing_plan", WB1).fields["trusted_adult"] == "Mrs Khan", "the old version stands"
    world.ok(OFF1_A, [plan({"id": WB3, "case_id": C1, "supersedes": WB2}, None, 16)])
    assert world.record("wellbeing_plan", WB3).fields["plan_version"] == 3
    assert world.one(OFF1_A, delete("wellbeing_plan", WB3, 1, S(17, "dev-a")))["status"] == "applied"


def test_a_return_timetable_runs_week_by_week_and_rises() -> None:
    world = World()
    falling = [WEEKS[0], {"week_starting": "2026-11-09", "sessions": 1}]
    assert codes(world.one(OFF1_A, plan({"id": WB1, "case_id": C1, "return_timetable": falling}, None, 10))) \
        == [("return_timetable", "validation_failed")]
    backwards = [WEEKS[1], WEEKS[0]]
    assert codes(world.one(OFF1_A, plan({"id": WB1, "case_id": C1, "return_timetable": backwards}, None, 11))) \
        == [("return_timetable", "validation_failed")]
    too_many = [{"week_starting": "2026-11-02", "sessions": 11}]
    assert codes(world.one(OFF1_A, plan({"id": WB1, "case_id": C1, "return_timetable": too_many}, None, 12))) \
        == [("return_timetable", "validation_failed")]
    world.ok(OFF1_A, [plan({"id": WB1, "case_id": C1, "return_timetable": WEEKS}, None, 13)])


def test_an_officer_sees_only_their_own_check_ins_and_the_office_sees_all() -> None:
    world = World()
    world.ok(OFF1_A, [check_in(CI1, {"case_id": C1, "started_at": "2026-11-20T10:00:00Z", "expected_minutes": 45,
                                     "officer_id": OFF2}, None, 10)])
    record = world.record("check_in", CI1)
    assert record.fields["officer_id"] == OFF1, "the officer is who pushed it, never the body"
    assert record.fields["household_id"] == H1, "taken from the case"
    world.ok(OFF2_A, [check_in(CI2, {"household_id": H2, "started_at": "2026-11-20T10:05:00Z",
                                     "expected_minutes": 30}, None, 11, "dev-b")])
    mine, _ = world.pull_all(OFF1_A)
    assert ("check_in", CI1, "live") in keys(mine) and ("check_in", CI2, "live") not in keys(mine)
    theirs, _ = world.pull_all(OFF2_A)
    assert ("check_in", CI2, "live") in keys(theirs) and ("check_in", CI1, "live") not in keys(theirs)
    office, _ = world.pull_all(OFFICE_A)
    assert {("check_in", CI1, "live"), ("check_in", CI2, "live")} <= set(keys(office))
    other = world.one(OFF2_A, check_in(CI1, {"closed_at": "2026-11-20T10:30:00Z", "closed_how": "safe"}, 1, 12,
                                       "dev-b"))
    assert codes(other) == [(None, "forbidden")], "nobody closes another officer's check-in from a phone"
    world.ok(OFF1_A, [check_in(CI1, {"closed_at": "2026-11-20T10:40:00Z", "closed_how": "safe"}, 1, 13)])
    assert world.record("check_in", CI1).fields["closed_how"] == "safe"


def test_a_check_in_names_where_and_closes_whole() -> None:
    world = World()
    nowhere = world.one(OFF1_A, check_in(CI3, {"started_at": "2026-11-20T10:00:00Z", "expected_minutes": 45},
                                         None, 10))
    assert codes(nowhere) == [("case_id", "validation_failed")]
    half = world.one(OFF1_A, check_in(CI3, {"case_id": C1, "started_at": "2026-11-20T10:00:00Z",
                                            "expected_minutes": 45, "closed_at": "2026-11-20T10:30:00Z"}, None, 11))
    assert codes(half) == [("closed_how", "validation_failed")]
    world.ok(OFF1_A, [check_in(CI3, {"case_id": C1, "started_at": "2026-11-20T10:00:00Z", "expected_minutes": 45},
                               None, 12)])
    early = world.one(OFF1_A, check_in(CI3, {"closed_at": "2026-11-20T09:00:00Z", "closed_how": "safe"}, 1, 13))
    assert codes(early) == [("closed_at", "validation_failed")]
    moved = world.one(OFF1_A, check_in(CI3, {"started_at": "2026-11-20T11:00:00Z"}, 1, 14))
    assert codes(moved) == [("started_at", "immutable")]
    assert world.one(OFF1_A, delete("check_in", CI3, 1, S(15, "dev-a")))["status"] == "rejected"
