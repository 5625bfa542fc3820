"""The compaction horizon and reset (PROTOCOL §4, docs/retention.md), and runs leaving their
driver's phone (sync/runs_age.py), on the memory store."""
from __future__ import annotations

import base64
import datetime as dt

import pytest

from sync import RequestInvalid, decode_cursor, first_run_day, next_horizon, pull, retire_runs
from sync.cursor import encode, position
from sync.scope import RUNS_FROM

from .world import (C1, H1, H2, NOW, OFF1, OFF1_A, OFF2_A, OFFICE_A, P1, P2, SCHOOL, S, U, World, delete, keys,
                    put)

RUN_OLD, RUN_NEW, STOP_OLD, STOP_NEW, T1 = (U("f0000000", 1), U("f0000000", 2), U("f5000000", 1),
                                            U("f5000000", 2), U("7a000000", 1))


@pytest.fixture
def world() -> World:
    return World()


def outcome(world: World, cursor: str | None, limit: int = 500):
    return pull(world.store, OFF1_A, cursor, limit, world.clock, now=NOW)


def test_a_snapshot_page_cursor_carries_the_snapshot_start() -> None:
    assert position(encode(17, 900)) == (17, 900) and decode_cursor(encode(17, 900)) == 17
    assert position(encode(17)) == (17, None) and position(None) == (0, None)
    for bad in (b"v1.5.", b"v1.5.x", b"v1.5.6.7", b"v1..6"):
        with pytest.raises(RequestInvalid):
            position(base64.urlsafe_b64encode(bad).decode())


def test_the_horizon_is_the_lowest_position_an_active_device_holds() -> None:
    assert next_horizon(10, [40, 25, 90], 100) == 25
    assert next_horizon(30, [25, 90], 100) == 30  # never moves back
    assert next_horizon(10, [], 100) == 100  # no active device: everything is compactable
    assert next_horizon(10, [500], 100) == 100  # never past the newest position


def test_a_cursor_below_the_horizon_is_reset_and_a_full_resync_works(world: World) -> None:
    _, old = world.pull_all(OFF1_A)
    world.ok(OFF1_A, [put("task", T1, {"case_id": C1, "title": "Ring school"}, None, S(1, "dev-a")),
                      delete("task", T1, 1, S(2, "dev-a"))])
    # the tombstone is compacted away: the horizon moves past it
    world.store.horizon_seq = world.store.seq
    del world.store.records["task"][T1]
    body = world.pull(OFF1_A, old)
    assert body["reset"] is True and body["changes"] == [] and body["cursor"] is None
    assert outcome(world, old).held is None
    items, cursor = world.pull_all(OFF1_A)  # starting again with no cursor
    assert {(t, k) for t, _, k in keys(items)} == {("school", "live"), ("household", "live"), ("pupil", "live"),
                                                   ("case", "live")}
    assert decode_cursor(cursor) == world.store.seq
    assert "reset" not in world.pull(OFF1_A, cursor)  # at the horizon is not below it


def test_a_snapshot_part_way_is_not_reset_by_a_horizon_below_its_start(world: World) -> None:
    world.store.horizon_seq = world.store.seq  # the horizon is above the first records' positions
    first = outcome(world, None, limit=2)
    assert first.held == world.store.seq and first.body["has_more"]
    assert decode_cursor(first.body["cursor"]) < world.store.horizon_seq
    second = outcome(world, first.body["cursor"], limit=2)
    assert "reset" not in second.body and second.held == first.held
    items = first.body["changes"] + second.body["changes"]
    while second.body["has_more"]:
        second = outcome(world, second.body["cursor"], limit=2)
        items += second.body["changes"]
    assert {t for t, _, _ in keys(items)} == {"school", "household", "pupil", "case"}


def test_a_snapshot_whose_start_the_horizon_passed_is_reset(world: World) -> None:
    first = outcome(world, None, limit=2)
    world.ok(OFF1_A, [put("task", T1, {"case_id": C1, "title": "Ring school"}, None, S(1, "dev-a"))])
    world.store.horizon_seq = world.store.seq  # moved past the snapshot's start meanwhile
    assert outcome(world, first.body["cursor"], limit=2).body["reset"] is True


def test_a_pull_says_what_position_the_device_holds(world: World) -> None:
    snapshot = outcome(world, None)
    assert snapshot.held == world.store.seq and not snapshot.body["has_more"]
    world.ok(OFF1_A, [put("task", T1, {"case_id": C1, "title": "Ring school"}, None, S(1, "dev-a"))])
    later = outcome(world, snapshot.body["cursor"])
    assert later.held == decode_cursor(snapshot.body["cursor"])


def _runs(world: World) -> None:
    """OFF1 drives an old run (a stop for P2, who is not in OFF1's cases) and a recent one."""
    world.ok(OFFICE_A, [
        put("transport_run", RUN_OLD, {"date": "2026-11-02", "school_id": SCHOOL, "driver_id": OFF1}, None, S(100, "dev-o")),
        put("transport_stop", STOP_OLD, {"run_id": RUN_OLD, "pupil_id": P2, "household_id": H2}, None, S(101, "dev-o")),
        put("transport_run", RUN_NEW, {"date": "2026-11-20", "school_id": SCHOOL, "driver_id": OFF1}, None, S(102, "dev-o")),
        put("transport_stop", STOP_NEW, {"run_id": RUN_NEW, "pupil_id": P1, "household_id": H1}, None, S(103, "dev-o"))])


def test_old_runs_leave_the_drivers_phone_at_the_next_pull(world: World) -> None:
    _runs(world)
    held, cursor = world.pull_all(OFF1_A)
    assert {("transport_run", RUN_OLD), ("transport_stop", STOP_OLD), ("pupil", P2)} <= {(t, i) for t, i, _ in keys(held)}
    with world.store.write() as txn:
        events = retire_runs(txn, first_run_day(dt.date(2026, 11, 23), 7))  # runs before 16 November leave
    assert {(e.type, e.entity_id) for e in events} == {("transport_run", RUN_OLD), ("transport_stop", STOP_OLD),
                                                       ("pupil", P2), ("household", H2)}
    items, cursor = world.pull_all(OFF1_A, cursor)
    assert sorted(keys(items)) == sorted([("transport_run", RUN_OLD, "removed"), ("transport_stop", STOP_OLD, "removed"),
                                          ("pupil", P2, "removed"), ("household", H2, "removed")])
    snapshot = {(t, i) for t, i, _ in keys(world.pull_all(OFF1_A)[0])}
    assert ("transport_run", RUN_NEW) in snapshot and ("transport_run", RUN_OLD) not in snapshot
    assert ("pupil", P1) in snapshot  # their case's pupil stays, whatever the runs
    # the office still sees every run; a second move to the same day changes nothing
    office = {(t, i) for t, i, _ in keys(world.pull_all(OFFICE_A)[0])}
    assert {("transport_run", RUN_OLD), ("transport_run", RUN_NEW)} <= office
    with world.store.write() as txn:
        assert retire_runs(txn, dt.date(2026, 11, 16)) == [] and retire_runs(txn, dt.date(2026, 11, 10)) == []
        assert txn.counter(RUNS_FROM) == dt.date(2026, 11, 16).toordinal()
    assert world.pull(OFF1_A, cursor)["changes"] == []


def test_moving_the_run_day_again_takes_only_the_runs_between(world: World) -> None:
    _runs(world)
    with world.store.write() as txn:
        retire_runs(txn, dt.date(2026, 11, 16))
    _, cursor = world.pull_all(OFF1_A)
    with world.store.write() as txn:
        events = retire_runs(txn, dt.date(2026, 11, 27))
    assert {(e.type, e.entity_id) for e in events} == {("transport_run", RUN_NEW), ("transport_stop", STOP_NEW)}
    items, _ = world.pull_all(OFF1_A, cursor)
    assert sorted(keys(items)) == sorted([("transport_run", RUN_NEW, "removed"), ("transport_stop", STOP_NEW, "removed")])
    assert world.pull_all(OFF2_A)[0]  # another officer's scope is untouched
