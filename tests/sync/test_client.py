"""sync/client.py: the reference device the convergence test drives, against the engine."""
from __future__ import annotations

from sync.client import Device

from .world import C1, H1, OFF1_A, OFFICE_A, S, World

from sync import pull, push


def link(world: World, actor):
    def send(batch):
        return push(world.store, actor, batch, world.clock).as_dict()

    def fetch(cursor):
        return pull(world.store, actor, cursor, 2, world.clock).body
    return send, fetch


def test_a_device_pulls_its_scope_in_pages_and_keeps_the_cursor() -> None:
    w = World()
    d = Device("dev-a")
    send, fetch = link(w, OFF1_A)
    # 4 records; at 2 a page, the snapshot's later pages bring 3 of them again from the scope events
    # the seed recorded after them (same state): counted as items, held once
    assert d.pull(fetch) == 7
    assert set(d.records) == {("school", k) for k in w.store.records["school"]} | {
        ("household", H1), ("pupil", w.record("case", C1).fields["pupil_id"]), ("case", C1)}
    assert "id" not in d.records[("case", C1)].fields and d.records[("case", C1)].version == 1
    assert d.pull(fetch) == 0


def test_the_view_lays_the_outbox_over_the_server_copy() -> None:
    w = World()
    d = Device("dev-a")
    send, fetch = link(w, OFF1_A)
    d.pull(fetch)
    change = d.put("household", H1, {"access_notes": "Dog"})
    assert change["base_version"] == 1 and change["hlc"].endswith("-dev-a")
    assert d.view("household", H1)["access_notes"] == "Dog"
    assert d.records[("household", H1)].fields.get("access_notes") is None
    d.delete("household", H1)
    assert d.view("household", H1) is None


def test_every_answered_change_leaves_the_outbox_and_the_clock_advances() -> None:
    w = World()
    d = Device("dev-a")
    send, fetch = link(w, OFF1_A)
    d.pull(fetch)
    d.put("household", H1, {"access_notes": "Dog"})
    d.put("household", H1, {"address": "not mine"})  # rejected: forbidden
    answer = d.push(send)
    assert [r["status"] for r in answer["results"]] == ["applied", "rejected"]
    assert d.outbox == []
    assert d.clock.send() > answer["server_hlc"]
    d.pull(fetch)
    assert d.view("household", H1)["access_notes"] == "Dog"
    assert d.view("household", H1)["address"] == "1 Oak Road", "the rejected value fell back by itself"


def test_a_lost_answer_keeps_the_outbox_and_the_resend_is_a_duplicate() -> None:
    w = World()
    d = Device("dev-a")
    send, fetch = link(w, OFF1_A)
    d.pull(fetch)
    d.put("household", H1, {"access_notes": "Dog"})
    d.push(send, deliver=False)
    assert len(d.outbox) == 1
    assert d.push(send)["results"][0]["status"] == "duplicate"
    assert w.record("household", H1).version == 2


def test_two_devices_converge_through_a_conflict() -> None:
    w = World()
    a, o = Device("dev-a"), Device("dev-o")
    (send_a, fetch_a), (send_o, fetch_o) = link(w, OFF1_A), link(w, OFFICE_A)
    a.pull(fetch_a)
    o.pull(fetch_o)
    a.put("household", H1, {"access_notes": "from a"})
    o.put("household", H1, {"access_notes": "from o"})
    o.push(send_o)
    a.push(send_a)
    a.pull(fetch_a)
    o.pull(fetch_o)
    assert a.view("household", H1) == o.view("household", H1)
    assert len(w.store.conflicts) == 1


def test_a_reset_drops_the_copies_and_starts_again() -> None:
    w = World()
    d = Device("dev-a")
    send, fetch = link(w, OFF1_A)
    d.pull(fetch)
    d.records[("task", "stale")] = d.records[("case", C1)]
    answers = iter([{"changes": [], "reset": True, "cursor": None, "has_more": False, "server_hlc": S(1, "server")}])
    d.pull(lambda cursor: next(answers, None) or fetch(cursor))
    assert ("task", "stale") not in d.records and ("case", C1) in d.records
    assert d.cursor is not None
