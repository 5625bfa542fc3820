"""Loading the demo local authority (fixtures/) into a database, through the sync engine.

Every record goes in as a change with a change id derived from its own id, so
loading twice changes nothing (the second load's changes are duplicates).
"""
from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sync import ADMIN, OFFICER, Actor, Clock, push

from . import accounts
from .register import marks
from .state import AppState

NAMESPACE = uuid.UUID("5b0c3c1e-7d1e-4a53-9d55-6f4a0c1d2e3f")
ORDER = (("school", "schools"), ("household", "households"), ("pupil", "pupils"), ("case", "cases"),
         ("task", "tasks"))
BATCH = 500


def _changes(type_: str, rows: list[dict[str, Any]], clock: Clock) -> list[dict[str, Any]]:
    out = []
    for row in rows:
        fields = {k: v for k, v in row.items() if k != "id"}
        out.append({"change_id": str(uuid.uuid5(NAMESPACE, f"{type_}:{row['id']}")), "type": type_,
                    "id": row["id"], "op": "put", "fields": fields, "base_version": None,
                    "hlc": clock.send()})
    return out


def _push_all(st: AppState, actor: Actor, changes: list[dict[str, Any]]) -> list[str]:
    problems = []
    for i in range(0, len(changes), BATCH):
        outcome = push(st.db, actor, changes[i:i + BATCH], st.clock)
        problems += [f"{r.change_id}: {r.errors}" for r in outcome.results if r.status == "rejected"]
    return problems


def load_demo(st: AppState) -> dict[str, int]:
    """Load (or re-load, changing nothing) the demo local authority."""
    from fixtures.demo import DEMO_PASSWORD, generate

    data = generate()
    existing = {u.username for u in accounts.list_users(st.db)}
    for user in data.users:
        if user["username"] not in existing:
            accounts.add_user(st.db, user["username"], DEMO_PASSWORD[user["username"]], user["role"],
                              user["display_name"], user_id=user["id"])
    clock = Clock("fixtures")
    system = Actor(next(u["id"] for u in data.users if u["role"] == ADMIN), ADMIN, None)
    problems: list[str] = []
    cases = {c["id"]: c for c in data.cases}
    opened = [{**c, "status": "open"} for c in data.cases]  # closed ones close after their visits
    for type_, attr in ORDER:
        rows = opened if attr == "cases" else getattr(data, attr)
        problems += _push_all(st, system, _changes(type_, rows, clock))
    # visits and conversations are recorded by their officers, as in the field
    for type_, attr in (("visit", "visits"), ("conversation", "conversations")):
        by_officer: dict[str, list[dict[str, Any]]] = {}
        for row in getattr(data, attr):
            officer = row.get("officer_id") or cases[row["case_id"]]["assigned_officer_id"]
            by_officer.setdefault(officer, []).append(row)
        for officer, rows in sorted(by_officer.items()):
            problems += _push_all(st, Actor(officer, OFFICER, None), _changes(type_, rows, clock))
    closing = [{"change_id": str(uuid.uuid5(NAMESPACE, f"close:{c['id']}")), "type": "case", "id": c["id"],
                "op": "put", "fields": {"status": "closed"}, "base_version": 1, "hlc": clock.send()}
               for c in data.cases if c["status"] == "closed"]
    problems += _push_all(st, system, closing)
    if problems:
        raise RuntimeError("the demo data did not load cleanly:\n" + "\n".join(problems[:20]))
    report = marks.import_rows(st.db, st.clock, data.marks, import_id=str(uuid.uuid5(NAMESPACE, "demo-marks")),
                               extracted_at="2000-01-01T00:00:00.000Z")
    return {"users": len(data.users), "schools": len(data.schools), "households": len(data.households),
            "pupils": len(data.pupils), "cases": len(data.cases), "visits": len(data.visits),
            "conversations": len(data.conversations), "marks_stored": report.stored,
            "pupils_updated": report.pupils_updated}


def demo_logins() -> list[tuple[str, str, str]]:
    from fixtures.demo import DEMO_PASSWORD, generate

    return [(u["username"], DEMO_PASSWORD[u["username"]], u["role"]) for u in generate().users]
