"""The demo's parents and support plans (fixtures/plans.py), loaded through the sync engine.

Every household's contacts become persons as migration m023 makes them (people_migrate.py), with
what the demo knows about them (parental responsibility, an interpreter); each open case names its
pupil's mothers and fathers as the parents it concerns; the plans are recorded by their case's
officers, as on a phone. Change ids come from the records' ids, so loading twice changes nothing.
"""
from __future__ import annotations

import uuid
from typing import Any

from sync import OFFICER, Actor, Clock, push

from ..state import AppState
from .people_migrate import contact_persons, person_changes

NAMESPACE = uuid.UUID("7e2d9c4a-1b3f-4a5e-8c6d-0f1e2a3b4c5d")
BATCH = 500


def _put(type_: str, id_: str, fields: dict[str, Any], key: str, clock: Clock,
         base: int | None = None) -> dict[str, Any]:
    return {"change_id": str(uuid.uuid5(NAMESPACE, f"{key}:{id_}")), "type": type_, "id": id_, "op": "put",
            "fields": fields, "base_version": base, "hlc": clock.send()}


def _push(st: AppState, actor: Actor, changes: list[dict[str, Any]], clock: Clock) -> list[str]:
    problems = []
    for i in range(0, len(changes), BATCH):
        outcome = push(st.db, actor, changes[i:i + BATCH], clock)
        problems += [f"{r.change_id}: {r.errors}" for r in outcome.results if r.status == "rejected"]
    return problems


def load(st: AppState, data: Any, clock: Clock, system: Actor) -> list[str]:
    """Push the demo's persons, case parents and plans; the rejected changes' problems (none expected)."""
    from fixtures.plans import make_plans, parent_facts

    households = [(h["id"], h) for h in data.households]
    problems = _push(st, system, person_changes(households, clock), clock)
    facts = [_put("person", pid, parent_facts(fields), "facts", clock, 1)
             for hid, h in households for pid, fields in contact_persons(hid, h) if parent_facts(fields)]
    problems += _push(st, system, facts, clock)
    pupils = {p["id"]: p for p in data.pupils}
    by_household = {hid: contact_persons(hid, h) for hid, h in households}
    parents = []
    for case in data.cases:
        persons = by_household.get(pupils[case["pupil_id"]].get("household_id"), [])
        named = [pid for pid, f in persons if f.get("relationship") in ("mother", "father")]
        if named and case["status"] == "open":
            parents.append(_put("case", case["id"], {"parent_ids": named}, "parents", clock))
    problems += _push(st, system, parents, clock)
    by_officer: dict[str, list[dict[str, Any]]] = {}
    for plan in make_plans(data):
        fields = {k: v for k, v in plan.items() if k not in ("id", "officer_id")}
        by_officer.setdefault(plan["officer_id"], []).append(_put("support_plan", plan["id"], fields, "plan", clock))
    for officer, changes in sorted(by_officer.items()):
        problems += _push(st, Actor(officer, OFFICER, None), changes, clock)
    return problems
