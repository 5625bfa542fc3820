"""sync.pull: pages since a cursor, never skipping (PROTOCOL §4)."""
from __future__ import annotations

import random

import pytest

from sync import MAX_LIMIT, RequestInvalid, clamp_limit, decode_cursor, encode_cursor, record_item

from .world import C1, H1, OFF1_A, OFFICE_A, S, SCHOOL, U, World, delete, keys, put

T1 = U("7a000000", 1)


@pytest.fixture
def world() -> World:
    return World()


def test_limits() -> None:
    assert (clamp_limit(None), clamp_limit(0), clamp_limit(-5), clamp_limit(7), clamp_limit(10**9)) == (500, 1, 1, 7, MAX_LIMIT)


def test_a_snapshot_is_everything_in_scope_in_sequence_order(world: World) -> None:
    items, cursor = world.pull_all(OFF1_A)
    assert [(t, k) for t, _, k in keys(items)] == [("school", "live"), ("household", "live"), ("pupil", "live"),
                                                   ("case", "live")]
    assert decode_cursor(cursor) == world.store.seq
    assert items[0]["fields"] == {"name": "Balby Primary", "id": SCHOOL, "created_at": "2026-11-23T08:15:00.000Z",
                                  "created_by": world.store.records["school"][SCHOOL].created_by,
                                  "updated_at": "2026-11-23T08:15:00.000Z",
                                  "updated_by": world.store.records["school"][SCHOOL].updated_by}


def test_tombstones_come_with_a_cursor_not_in_a_snapshot(world: World) -> None:
    _, cursor = world.pull_all(OFF1_A)
    world.ok(OFF1_A, [put("task", T1, {"case_id": C1, "title": "a"}, None, S(1, "dev-a")),
                      delete("task", T1, 1, S(2, "dev-a"))])
    items, _ = world.pull_all(OFF1_A, cursor)
    assert items == [{"type": "task", "id": T1, "version": 2, "deleted": True, "fields": {}}]
    assert ("task", T1, "deleted") not in keys(world.pull_all(OFF1_A)[0])


def test_each_record_once_at_its_latest_state(world: World) -> None:
    _, cursor = world.pull_all(OFF1_A)
    for n in range(3):
        world.ok(OFF1_A, [put("household", H1, {"access_notes": f"v{n}"}, 1 + n, S(10 + n, "dev-a"))])
    items, _ = world.pull_all(OFF1_A, cursor)
    assert len(items) == 1 and items[0]["version"] == 4 and items[0]["fields"]["access_notes"] == "v2"


def test_nothing_new_is_an_empty_page_at_the_same_cursor(world: World) -> None:
    _, cursor = world.pull_all(OFF1_A)
    body = world.pull(OFF1_A, cursor)
    assert (body["changes"], body["cursor"], body["has_more"]) == ([], cursor, False)
    assert "reset" not in body


def test_paging_never_skips_while_writes_interleave(world: World) -> None:
    rng = random.Random(7)
    _, cursor = world.pull_all(OFFICE_A)
    seen: dict[str, int] = {}
    written: dict[str, int] = {}
    ids = [U("5c000000", 100 + n) for n in range(12)]
    sec = 100
    for _ in range(40):
        for _ in range(rng.randint(0, 3)):
            sid = rng.choice(ids)
            sec += 1
            base = written.get(sid)
            world.ok(OFFICE_A, [put("school", sid, {"name": f"s{sec}"}, base, S(sec, "dev-o"))])
            written[sid] = written.get(sid, 0) + 1
        body = world.pull(OFFICE_A, cursor, limit=rng.randint(1, 3))
        for item in body["changes"]:
            assert item["version"] >= seen.get(item["id"], 0), "never an older state"
            seen[item["id"]] = item["version"]
        cursor = body["cursor"]
    rest, _ = world.pull_all(OFFICE_A, cursor)
    for item in rest:
        seen[item["id"]] = item["version"]
    assert seen == written, "every write reached the puller at its latest version"


def test_has_more_pages_end_at_their_last_item(world: World) -> None:
    _, cursor = world.pull_all(OFF1_A)
    world.ok(OFFICE_A, [put("school", U("5c000000", 10 + n), {"name": str(n)}, None, S(n, "dev-o")) for n in range(3)])
    first = world.pull(OFF1_A, cursor, limit=2)
    assert first["has_more"] and len(first["changes"]) == 2
    second = world.pull(OFF1_A, first["cursor"], limit=2)
    assert not second["has_more"] and [i["fields"]["name"] for i in second["changes"]] == ["2"]
    assert decode_cursor(second["cursor"]) == world.store.seq


def test_a_device_gets_its_own_change_back_only_as_the_newer_state(world: World) -> None:
    _, cursor = world.pull_all(OFF1_A)
    world.ok(OFF1_A, [put("task", T1, {"case_id": C1, "title": "mine"}, None, S(1, "dev-a"))])
    world.ok(OFFICE_A, [put("task", T1, {"done": True}, 1, S(2, "dev-o"))])
    items, _ = world.pull_all(OFF1_A, cursor)
    assert [(i["version"], i["fields"]["title"], i["fields"]["done"]) for i in items] == [(2, "mine", True)]


def test_a_cursor_older_than_the_horizon_asks_for_a_reset(world: World) -> None:
    _, cursor = world.pull_all(OFF1_A)
    world.store.horizon_seq = decode_cursor(cursor) + 1
    body = world.pull(OFF1_A, encode_cursor(1))
    assert (body["changes"], body["reset"], body["cursor"], body["has_more"]) == ([], True, None, False)
    assert "reset" not in world.pull(OFF1_A, None)


def test_a_bad_cursor_is_refused(world: World) -> None:
    with pytest.raises(RequestInvalid):
        world.pull(OFF1_A, "not-ours")


def test_server_hlc_is_fresh_on_every_page(world: World) -> None:
    a, b = world.pull(OFF1_A), world.pull(OFF1_A)
    assert b["server_hlc"] > a["server_hlc"] and a["server_time"] == "2026-11-23T08:15:00.000Z"


def test_record_item_shapes(world: World) -> None:
    r = world.record("school", SCHOOL)
    assert record_item(r)["fields"]["id"] == SCHOOL and record_item(r)["deleted"] is False
    r.deleted = True
    assert record_item(r) == {"type": "school", "id": SCHOOL, "version": 1, "deleted": True, "fields": {}}
