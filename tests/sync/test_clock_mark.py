"""The server clock stays monotonic across server processes (sync/clock_mark.py): two servers
over one store, each with its own ``Clock("server")``, one wall clock ten minutes behind the
other. Run against PostgreSQL too (tests/pg/test_engine_clock_mark.py)."""
from __future__ import annotations

import datetime as dt
from typing import Any

from sync import Actor, Clock, pull, push, resolve_conflict

from .world import C1, H1, NOW, NOW_MS, OFF1_A, OFFICE_A, U, World, new_id, put

AHEAD_MS = 10 * 60 * 1000


class Server:
    """One app server: its own clock, and its own idea of the time."""

    def __init__(self, world: World, behind_ms: int) -> None:
        self.world = world
        self.now = NOW - dt.timedelta(milliseconds=behind_ms)
        self.clock = Clock("server", wall=lambda: NOW_MS - behind_ms)

    def push(self, actor: Actor, changes: list[dict[str, Any]]) -> Any:
        return push(self.world.store, actor, changes, self.clock, now=self.now)

    def pull(self, actor: Actor) -> dict[str, Any]:
        return pull(self.world.store, actor, None, None, self.clock, now=self.now).body


def servers() -> tuple[World, Server, Server]:
    world = World()
    return world, Server(world, -AHEAD_MS), Server(world, 0)  # fast, slow


def stamp(ms: int, node: str, counter: int = 0) -> str:
    return f"{ms:015d}-{counter:06d}-{node}"


def test_pushes_alternating_between_servers_answer_stamps_in_commit_order() -> None:
    world, fast, slow = servers()
    answers = []
    for n in range(6):
        server = (fast, slow)[n % 2]
        task = U("7a000000", 100 + n)
        out = server.push(OFF1_A, [put("task", task, {"case_id": C1, "title": f"t{n}"}, None,
                                       stamp(NOW_MS - 60_000 + n, "dev-a"))])
        assert out.results[0].status == "applied"
        answers.append(out.server_hlc)
    assert all(a.endswith("-server") for a in answers)
    assert answers == sorted(set(answers)), "a server_hlc is not later than one committed before it"
    assert answers[1] > stamp(NOW_MS + AHEAD_MS, "server")  # the slow server answered past the fast one


def test_a_resolution_through_the_slow_server_stamps_after_the_fast_servers_writes() -> None:
    world, fast, slow = servers()
    world.ok(OFFICE_A, [put("household", H1, {"access_notes": "Dog"}, 1, stamp(NOW_MS - 5_000, "dev-o"))])
    out = fast.push(OFF1_A, [put("household", H1, {"access_notes": "Cat"}, 1, stamp(NOW_MS + 1_000, "dev-a"))])
    [conflict] = world.store.conflicts.values()
    resolve_conflict(world.store, OFFICE_A, conflict.id, "lost", slow.clock, now=slow.now)
    resolved = world.record("household", H1).meta["access_notes"].hlc
    assert resolved > out.server_hlc
    after = fast.push(OFF1_A, [put("task", new_id("7a000000"), {"case_id": C1, "title": "a"}, None,
                                   stamp(NOW_MS, "dev-a"))])
    assert after.server_hlc > resolved


def test_a_pull_through_the_slow_server_answers_a_stamp_later_than_all_it_returns() -> None:
    world, fast, slow = servers()
    task = U("7a000000", 1)
    written = fast.push(OFF1_A, [put("task", task, {"case_id": C1, "title": "a"}, None,
                                     stamp(NOW_MS + AHEAD_MS + 60_000, "dev-a"))])
    body = slow.pull(OFF1_A)
    returned = [(i["type"], i["id"]) for i in body["changes"]]
    assert ("task", task) in returned
    stamps = [m.hlc for t, i in returned for m in world.record(t, i).meta.values()]
    assert body["server_hlc"] > max(stamps)
    assert body["server_hlc"] > written.server_hlc


def test_a_restamped_change_through_the_slow_server_orders_after_the_fast_servers_writes() -> None:
    """A phone whose clock is an hour fast writes through the slow server after an office edit
    through the fast one: re-stamped at the slow server's receive time, it is still the later
    write, and wins."""
    world, fast, slow = servers()
    office = fast.push(OFFICE_A, [put("household", H1, {"access_notes": "Dog"}, 1,
                                      stamp(NOW_MS + AHEAD_MS, "dev-o"))])
    assert office.results[0].status == "applied"
    version = world.record("household", H1).version
    out = slow.push(OFF1_A, [put("household", H1, {"access_notes": "Cat"}, version,
                                 stamp(NOW_MS + 60 * 60 * 1000, "dev-a"))])
    result = out.results[0]
    assert (result.status, result.clock_skew, result.lost_fields) == ("applied", True, [])
    record = world.record("household", H1)
    assert record.fields["access_notes"] == "Cat"
    assert record.meta["access_notes"].hlc > office.server_hlc
    assert record.meta["access_notes"].hlc.endswith("-dev-a")
