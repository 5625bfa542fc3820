"""sync.resolve_conflict and system_write (PROTOCOL §5.6)."""
from __future__ import annotations

import pytest

from sync import NotFound, RequestInvalid, resolve_conflict, system_write

from .world import (C1, H1, NOW, OFF1, OFF1_A, OFFICE_A, OFFICE_ID, P1, S, U, World, delete, keys, put)

T1, V1 = U("7a000000", 1), U("e1000000", 1)


@pytest.fixture
def world() -> World:
    w = World()
    w.ok(OFFICE_A, [put("household", H1, {"access_notes": "Dog"}, 1, S(200, "dev-o"))])
    w.ok(OFF1_A, [put("household", H1, {"access_notes": "Cat"}, 1, S(300, "dev-a"))])  # concurrent, wins
    return w


def resolve(world: World, conflict_id: str, choose: str):
    return resolve_conflict(world.store, OFFICE_A, conflict_id, choose, world.clock, now=NOW)


def only_conflict(world: World):
    [c] = world.store.conflicts.values()
    return c


def test_choosing_lost_writes_it_as_a_new_version_everyone_pulls(world: World) -> None:
    _, cursor = world.pull_all(OFF1_A)
    c = only_conflict(world)
    assert (c.kept["value"], c.lost["value"]) == ("Cat", "Dog")
    done = resolve(world, c.id, "lost")
    assert (done.status, done.choice, done.resolved_by, done.resolved_at) == ("resolved", "lost", OFFICE_ID,
                                                                             "2026-11-23T08:15:00.000Z")
    h = world.record("household", H1)
    assert (h.fields["access_notes"], h.version) == ("Dog", 4)
    assert h.meta["access_notes"].hlc.endswith("-server")
    assert world.store.changes[f"resolve:{c.id}"].fields == {"access_notes": "Dog"}
    items, _ = world.pull_all(OFF1_A, cursor)
    assert [(i["version"], i["fields"]["access_notes"]) for i in items] == [(4, "Dog")]
    # the resolution's stamp beats every earlier write: an old offline edit now loses
    r = world.one(OFF1_A, put("household", H1, {"access_notes": "Late"}, 3, S(400, "dev-a")))
    assert (r["status"], r["lost_fields"]) == ("merged", ["access_notes"])


def test_choosing_kept_still_makes_a_version(world: World) -> None:
    c = only_conflict(world)
    resolve(world, c.id, "kept")
    assert (world.record("household", H1).fields["access_notes"], world.record("household", H1).version) == ("Cat", 4)


def test_resolving_twice_or_badly(world: World) -> None:
    c = only_conflict(world)
    with pytest.raises(RequestInvalid) as err:
        resolve(world, c.id, "mine")
    assert err.value.details == {"field": "choose"}
    resolve(world, c.id, "kept")
    with pytest.raises(RequestInvalid) as err:
        resolve(world, c.id, "lost")
    assert err.value.details == {"status": "resolved", "choice": "kept"}
    with pytest.raises(NotFound):
        resolve(world, U("00000000", 1), "kept")


def test_resolution_writes_even_a_submitted_visit() -> None:
    w = World()
    w.ok(OFF1_A, [put("visit", V1, {"case_id": C1, "outcome": "no_answer", "notes": "a"}, None, S(100, "dev-a"))])
    w.ok(OFFICE_A, [put("visit", V1, {"notes": "b"}, None, S(200, "dev-o"))])  # base null: concurrent
    w.ok(OFF1_A, [put("visit", V1, {"status": "submitted"}, 2, S(300, "dev-a"))])
    c = only_conflict(w)
    assert (c.field, c.kept["value"], c.lost["value"]) == ("notes", "b", "a")
    resolve(w, c.id, "lost")
    assert (w.record("visit", V1).fields["notes"], w.record("visit", V1).fields["status"]) == ("a", "submitted")


def test_a_delete_conflict_can_restore_or_delete() -> None:
    w = World()
    w.ok(OFF1_A, [put("task", T1, {"case_id": C1, "title": "a"}, None, S(100, "dev-a"))])
    w.ok(OFFICE_A, [put("task", T1, {"title": "b"}, 1, S(300, "dev-o"))])
    w.ok(OFF1_A, [delete("task", T1, 1, S(200, "dev-a"))])  # loses to the newer title
    c = only_conflict(w)
    assert (c.field, c.kept["value"], c.lost["value"]) == (None, {"_deleted": False}, {"_deleted": True})
    resolve(w, c.id, "lost")
    t = w.record("task", T1)
    assert (t.deleted, t.version) == (True, 3)
    _, cursor = w.pull_all(OFF1_A)
    assert keys(w.pull_all(OFF1_A, cursor)[0]) == []


def test_a_restoring_choice_brings_the_fields_back() -> None:
    w = World()
    w.ok(OFF1_A, [put("task", T1, {"case_id": C1, "title": "a"}, None, S(100, "dev-a")),
                  delete("task", T1, 1, S(300, "dev-a"))])
    w.ok(OFFICE_A, [put("task", T1, {"title": "b"}, 1, S(200, "dev-o"))])  # older than the delete: loses
    c = only_conflict(w)
    assert c.lost["value"] == {"_deleted": False, "title": "b"}
    resolve(w, c.id, "lost")
    t = w.record("task", T1)
    assert (t.deleted, t.fields["title"], t.version) == (False, "b", 3)


def test_system_write_bypasses_the_race() -> None:
    w = World()
    with w.store.write() as txn:
        rec = system_write(txn, OFFICE_A, "pupil", P1, {"attendance_pct": 88.5, "band": "at_risk"}, w.clock,
                           "2026-11-23T08:15:00.000Z", "register")
    assert rec.version == 2
    p = w.record("pupil", P1)
    assert (p.fields["band"], p.version, p.seq) == ("at_risk", 2, w.store.seq)
    assert any(cid.startswith("register:") for cid in w.store.changes)
    with pytest.raises(NotFound), w.store.write() as txn:
        system_write(txn, OFFICE_A, "pupil", U("b0000000", 9), {}, w.clock, "x", "register")
    assert OFF1 in w.store.users
