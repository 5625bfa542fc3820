"""A household's contacts as ``person`` records (docs/protocol.md §7.8): migration m023 and the demo.

Each contact becomes a person of its household with the same name, relationship and phone, and
the household's language as their preferred language. Whether they hold parental responsibility
or need an interpreter is not known from a contact, so it stays unset (not recorded) until an
officer or the office records it. A person's id is a UUID v5 of the household and the name, so
converting again (a roll import brought new contacts) adds only the new people, and the changes
go through the sync engine with ids of their own: a second run changes nothing, and phones pull
the persons like any other change.
"""
from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterable
from typing import Any

import orjson

from sync import ADMIN, Actor, Clock
from sync import hlc as _hlc
from sync.push import apply, prepare

from ..sqlite_txn import SqliteTxn

NAMESPACE = uuid.UUID("0f6b1f0e-2b8c-4d8e-9a51-2d1f7c3e9a23")
SYSTEM = Actor("system", ADMIN, None)
BATCH = 500


def person_id(household_id: str, name: str) -> str:
    return str(uuid.uuid5(NAMESPACE, f"person:{household_id}:{' '.join(name.split()).casefold()}"))


def contact_persons(household_id: str, household: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(person id, fields) for each named contact of one household, first of a name only."""
    out: dict[str, dict[str, Any]] = {}
    for contact in household.get("contacts") or ():
        name = " ".join(str(contact.get("name") or "").split())
        if not name:
            continue
        pid = person_id(household_id, name)
        if pid not in out:
            out[pid] = {"household_id": household_id, "name": name,
                        "relationship": contact.get("relationship") or None,
                        "phone": contact.get("phone") or None,
                        "preferred_language": household.get("language") or None}
    return list(out.items())


def person_changes(households: Iterable[tuple[str, dict[str, Any]]], clock: Clock) -> list[dict[str, Any]]:
    """The sync changes creating the persons of these (id, fields) households."""
    return [{"change_id": str(uuid.uuid5(NAMESPACE, f"change:{pid}")), "type": "person", "id": pid,
             "op": "put", "fields": fields, "base_version": None, "hlc": clock.send()}
            for hid, household in households for pid, fields in contact_persons(hid, household)]


def contacts_to_persons(conn: sqlite3.Connection) -> int:
    """Inside the caller's transaction (the migration's): a person for every contact of every live
    household that has none yet. Returns how many changes were applied."""
    txn = SqliteTxn(conn)
    clock = Clock("migration-m023")
    latest = conn.execute("SELECT max(hlc) FROM changes").fetchone()[0]
    if latest and _hlc.is_valid(latest):
        clock.receive(_hlc.parse(latest))
    households = [(r[0], orjson.loads(r[1])) for r in conn.execute(
        "SELECT id, data FROM households WHERE deleted = 0 AND json_array_length(data, '$.contacts') > 0 "
        "ORDER BY id")]
    changes = person_changes(households, clock)
    applied = 0
    for i in range(0, len(changes), BATCH):
        outcome = apply(txn, prepare(SYSTEM, changes[i:i + BATCH]), clock)
        applied += sum(1 for r in outcome.results if r.status in ("applied", "merged"))
    return applied
