"""sync/scope.py and the scope events push records (PROTOCOL §4.4)."""
from __future__ import annotations

import pytest

from sync import Record, TypeFilter, officer_scope
from sync.scope import members

from .world import (C1, C2, H1, H2, OFF1, OFF1_A, OFF2, OFFICE_A, P1, P2, SCHOOL, S, U, World, keys, put)

RUN, STOP, T1, V1, N1, N2 = (U("f0000000", 1), U("f5000000", 1), U("7a000000", 1), U("e1000000", 1),
                             U("9e000000", 1), U("9e000000", 2))


@pytest.fixture
def world() -> World:
    w = World()
    w.ok(OFF1_A, [put("task", T1, {"case_id": C1, "title": "Call"}, None, S(10, "dev-a")),
                  put("visit", V1, {"case_id": C1}, None, S(11, "dev-a")),
                  put("note", N1, {"subject_type": "pupil", "subject_id": P1, "text": "n"}, None, S(12, "dev-a"))])
    return w


def scope_of(world: World, user: str):
    with world.store.read() as txn:
        return officer_scope(txn, user), members(txn, officer_scope(txn, user))


def test_an_officer_sees_their_open_cases_and_what_hangs_off_them(world: World) -> None:
    scope, held = scope_of(world, OFF1)
    assert (scope.cases, scope.pupils, scope.households, scope.runs) == ({C1}, {P1}, {H1}, set())
    assert held == {("case", C1), ("pupil", P1), ("household", H1), ("task", T1), ("visit", V1), ("note", N1)}
    assert scope.filter("school") is None, "every school"
    assert not scope.contains(world.record("case", C2))


def test_a_closed_case_leaves_scope(world: World) -> None:
    world.ok(OFFICE_A, [put("case", C1, {"status": "closed"}, 1, S(100, "dev-o"))])
    scope, held = scope_of(world, OFF1)
    assert scope.cases == set() and held == set()


def test_a_driver_sees_their_runs_stops_and_the_pupils_on_them(world: World) -> None:
    world.ok(OFFICE_A, [put("transport_run", RUN, {"date": "2026-11-24", "school_id": SCHOOL, "driver_id": OFF1},
                            None, S(100, "dev-o")),
                        put("transport_stop", STOP, {"run_id": RUN, "pupil_id": P2}, None, S(101, "dev-o")),
                        put("note", N2, {"subject_type": "transport_run", "subject_id": RUN, "text": "late"}, None,
                            S(102, "dev-o"))])
    scope, held = scope_of(world, OFF1)
    assert scope.runs == {RUN} and scope.pupils == {P1, P2} and scope.households == {H1, H2}
    assert {("transport_run", RUN), ("transport_stop", STOP), ("pupil", P2), ("household", H2), ("note", N2)} <= held
    assert ("case", C2) not in held


def test_type_filters_match_ids_or_links() -> None:
    f = TypeFilter(ids=frozenset({"a"}), links=(("case_id", frozenset({"c"})),))
    assert f.admits("a", {}) and f.admits("b", {"case_id": "c"}) and not f.admits("b", {"case_id": "d"})
    assert f.matches(Record("task", "x", fields={"case_id": "c"}))


def test_office_sees_everything(world: World) -> None:
    items, _ = world.pull_all(OFFICE_A)
    assert {("case", C1), ("case", C2), ("pupil", P2), ("task", T1)} <= {(t, i) for t, i, _ in keys(items)}


def test_reassigning_records_removed_for_one_and_entered_for_the_other(world: World) -> None:
    _, c1 = world.pull_all(OFF1_A)
    _, c2 = world.pull_all(world_actor(OFF2))
    world.ok(OFFICE_A, [put("case", C1, {"assigned_officer_id": OFF2}, 1, S(100, "dev-o"))])
    got1, _ = world.pull_all(OFF1_A, c1)
    assert keys(got1) == [("case", C1, "removed"), ("household", H1, "removed"), ("note", N1, "removed"),
                          ("pupil", P1, "removed"), ("task", T1, "removed"), ("visit", V1, "removed")]
    got2, _ = world.pull_all(world_actor(OFF2), c2)
    assert keys(got2) == [("case", C1, "live"), ("household", H1, "live"), ("note", N1, "live"),
                          ("pupil", P1, "live"), ("task", T1, "live"), ("visit", V1, "live")]
    assert got2[4]["fields"]["title"] == "Call", "entering brings the full state, however old"


def test_moving_a_pupil_to_another_household_moves_the_household(world: World) -> None:
    _, c1 = world.pull_all(OFF1_A)
    world.ok(OFFICE_A, [put("pupil", P1, {"household_id": H2}, 1, S(100, "dev-o"))])
    got, _ = world.pull_all(OFF1_A, c1)
    assert ("household", H1, "removed") in keys(got)
    assert ("household", H2, "live") in keys(got) and ("pupil", P1, "live") in keys(got)


def test_reopening_brings_it_all_back(world: World) -> None:
    world.ok(OFFICE_A, [put("case", C1, {"status": "closed"}, 1, S(100, "dev-o"))])
    _, c1 = world.pull_all(OFF1_A)
    world.ok(OFFICE_A, [put("case", C1, {"status": "open"}, 2, S(110, "dev-o"))])
    got, _ = world.pull_all(OFF1_A, c1)
    assert {k for k in keys(got)} == {("case", C1, "live"), ("household", H1, "live"), ("note", N1, "live"),
                                       ("pupil", P1, "live"), ("task", T1, "live"), ("visit", V1, "live")}


def test_officers_cannot_write_outside_their_caseload(world: World) -> None:
    r = world.one(world_actor(OFF2), put("task", T1, {"title": "mine now"}, 1, S(100, "dev-b")))
    assert (r["status"], r["errors"][0]["code"]) == ("rejected", "forbidden")


def test_offline_field_work_is_kept_and_flagged_when_the_case_left(world: World) -> None:
    world.ok(OFFICE_A, [put("case", C1, {"assigned_officer_id": OFF2}, 1, S(100, "dev-o"))])
    v2 = U("e1000000", 2)
    r = world.one(OFF1_A, put("visit", v2, {"case_id": C1, "outcome": "no_answer"}, None, S(90, "dev-a")))
    assert r["status"] == "applied"
    assert world.record("visit", v2).flags["out_of_scope"] is True
    assert world.record("visit", v2).flags["out_of_scope_by"] == OFF1
    # an edit of their own earlier visit is still field work; a task is not
    assert world.one(OFF1_A, put("visit", V1, {"notes": "x"}, 1, S(91, "dev-a")))["status"] == "applied"
    assert world.one(OFF1_A, put("task", T1, {"done": True}, 1, S(92, "dev-a")))["errors"][0]["code"] == "forbidden"


def test_field_work_on_a_case_never_theirs_is_forbidden(world: World) -> None:
    r = world.one(OFF1_A, put("visit", U("e1000000", 3), {"case_id": C2}, None, S(100, "dev-a")))
    assert r["errors"] == [{"field": None, "code": "forbidden", "message": "this visit is not in your caseload"}]


def world_actor(user: str):
    from sync import OFFICER, Actor
    return Actor(user, OFFICER, "dev-" + user[:2])
