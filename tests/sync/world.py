"""A small world for engine tests: users, a memory store, a server clock whose wall is fixed,
and a seeded caseload (one school, two households, two pupils, two officers' cases)."""
from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from sync import ADMIN, MAX_LIMIT, OFFICE, OFFICER, Actor, Clock, MemoryStore, pull, push

NOW = dt.datetime(2026, 11, 23, 8, 15, tzinfo=dt.timezone.utc)
NOW_MS = int(NOW.timestamp() * 1000)  # 1795421700000
B = NOW_MS - 15 * 60 * 1000  # 08:00:00Z


def U(prefix: str, n: int) -> str:
    return f"{prefix}-0000-4000-8000-{n:012d}"


def S(sec: float, node: str, counter: int = 0) -> str:
    """A stamp ``sec`` seconds after 08:00:00Z."""
    return f"{B + int(sec * 1000):015d}-{counter:06d}-{node}"


ADMIN_ID, OFFICE_ID, OFF1, OFF2 = U("ad000000", 1), U("0f000000", 1), U("01000000", 1), U("02000000", 2)
SCHOOL, H1, H2 = U("5c000000", 1), U("40000000", 1), U("40000000", 2)
P1, P2, C1, C2 = U("b0000000", 1), U("b0000000", 2), U("ca000000", 1), U("ca000000", 2)
ADMIN_A = Actor(ADMIN_ID, ADMIN, "seed")
OFFICE_A = Actor(OFFICE_ID, OFFICE, "dev-o")
OFF1_A = Actor(OFF1, OFFICER, "dev-a")
OFF2_A = Actor(OFF2, OFFICER, "dev-b")

_ids = itertools.count(1)


def new_id(prefix: str = "cc000000") -> str:
    return U(prefix, next(_ids))


def put(type_: str, id_: str, fields: dict[str, Any], base: int | None, stamp: str,
        change_id: str | None = None) -> dict[str, Any]:
    return {"change_id": change_id or new_id(), "type": type_, "id": id_, "op": "put", "fields": fields,
            "base_version": base, "hlc": stamp}


def delete(type_: str, id_: str, base: int | None, stamp: str, change_id: str | None = None) -> dict[str, Any]:
    return {"change_id": change_id or new_id(), "type": type_, "id": id_, "op": "delete", "fields": {},
            "base_version": base, "hlc": stamp}


class World:
    def __init__(self, seed: bool = True) -> None:
        self.store = MemoryStore()
        self.store.users.update({ADMIN_ID: ADMIN, OFFICE_ID: OFFICE, OFF1: OFFICER, OFF2: OFFICER})
        self.wall = NOW_MS
        self.clock = Clock("server", wall=lambda: self.wall)
        if seed:
            stamps = (f"{1795420000000:015d}-{i:06d}-seed" for i in itertools.count())
            self.ok(ADMIN_A, [
                put("school", SCHOOL, {"name": "Balby Primary"}, None, next(stamps)),
                put("household", H1, {"address": "1 Oak Road"}, None, next(stamps)),
                put("household", H2, {"address": "2 Elm Road"}, None, next(stamps)),
                put("pupil", P1, {"upn": "A000000000001", "first_name": "Ava", "last_name": "Stone",
                                  "school_id": SCHOOL, "household_id": H1}, None, next(stamps)),
                put("pupil", P2, {"upn": "A000000000002", "first_name": "Ben", "last_name": "Moss",
                                  "school_id": SCHOOL, "household_id": H2}, None, next(stamps)),
                put("case", C1, {"pupil_id": P1, "assigned_officer_id": OFF1}, None, next(stamps)),
                put("case", C2, {"pupil_id": P2, "assigned_officer_id": OFF2}, None, next(stamps))])

    def push(self, actor: Actor, changes: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [r.as_dict() for r in push(self.store, actor, changes, self.clock, now=NOW).results]

    def ok(self, actor: Actor, changes: list[dict[str, Any]]) -> list[dict[str, Any]]:
        results = self.push(actor, changes)
        assert all(r["status"] in ("applied", "merged") for r in results), results
        return results

    def one(self, actor: Actor, change: dict[str, Any]) -> dict[str, Any]:
        return self.push(actor, [change])[0]

    def pull(self, actor: Actor, cursor: str | None = None, limit: int = MAX_LIMIT) -> dict[str, Any]:
        return pull(self.store, actor, cursor, limit, self.clock, now=NOW).body

    def pull_all(self, actor: Actor, cursor: str | None = None,
                 limit: int = MAX_LIMIT) -> tuple[list[dict[str, Any]], str]:
        items: list[dict[str, Any]] = []
        while True:
            body = self.pull(actor, cursor, limit)
            items += body["changes"]
            cursor = body["cursor"]
            if not body["has_more"]:
                return items, cursor

    def record(self, type_: str, id_: str):
        return self.store.records[type_][id_]

    def conflicts(self) -> list[dict[str, Any]]:
        return [c.as_dict() for c in self.store.conflicts.values()]


def keys(items: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    """(type, id, kind) of pull items; kind is live, deleted or removed."""
    return [(i["type"], i["id"], "removed" if i.get("removed") else "deleted" if i.get("deleted") else "live")
            for i in items]
