"""Attendance support plans and a case's parents as the office reads them (docs/casework.md,
"Parents and support plans"): a case's plan versions, newest first, with the current one marked,
and the persons of its pupil's household; and a plan form's fields as a ``support_plan`` change.

The rules (what a submitted plan needs, that a review supersedes a submitted plan of the same case,
the version number) are the sync engine's (sync/rules.py, sync/casework.py): the office's form is
pushed through it (``server.office.writes``) like a phone's.
"""
from __future__ import annotations

from typing import Any

import orjson
from starlette.datastructures import FormData

from sync.schema_codes import BARRIERS, CONSENT, PLAN_OWNERS, PLAN_REVIEW_OUTCOMES

from ..office.labels import VOCABULARY
from ..office.pages import text_field
from ..storage import SqliteTxn

ACTION_ROWS = 8  # rows the office form offers (a plan may hold up to 30, from the phone)


def words(enum: str) -> dict[str, str]:
    return {code: entry["label"] for code, entry in VOCABULARY["enums"][enum].items()}


OWNERS, REVIEW_OUTCOMES, CONSENT_WORDS = words("plan_owner"), words("plan_review_outcome"), words("consent")


def _rows(txn: SqliteTxn, sql: str, params: tuple[Any, ...]) -> list[dict[str, Any]]:
    return [{**orjson.loads(r["data"]), "id": r["id"], "_created_at": r["created_at"], "_created_by": r["created_by"]}
            for r in txn.rows(sql, params)]


def case_plans(txn: SqliteTxn, case_id: str) -> dict[str, Any]:
    """``{"versions": [...newest first], "current": plan or None}``: the current plan is the latest
    submitted version no submitted version supersedes."""
    versions = _rows(txn, "SELECT id, data, created_at, created_by FROM support_plans WHERE case_id = ? "
                          "AND deleted = 0", (case_id,))
    versions.sort(key=lambda p: (p.get("plan_version") or 0, p["_created_at"] or ""), reverse=True)
    replaced = {p.get("supersedes") for p in versions if p.get("status") == "submitted"}
    current = next((p for p in versions if p.get("status") == "submitted" and p["id"] not in replaced), None)
    return {"versions": versions, "current": current}


def household_persons(txn: SqliteTxn, household_id: str | None) -> list[dict[str, Any]]:
    if not household_id:
        return []
    persons = _rows(txn, "SELECT id, data, created_at, created_by FROM persons WHERE household_id = ? "
                         "AND deleted = 0", (household_id,))
    return sorted(persons, key=lambda p: (bool(p.get("no_longer_involved")), p.get("name") or ""))


def case_context(txn: SqliteTxn, case: dict[str, Any], pupil: dict[str, Any] | None) -> dict[str, Any]:
    """What the case page shows of parents and plans (``_case_plans.html``)."""
    household_id = (pupil or {}).get("household_id")
    return {"plans": case_plans(txn, case["id"]), "persons": household_persons(txn, household_id),
            "household_id": household_id, "plan_words": {"owners": OWNERS, "outcomes": REVIEW_OUTCOMES,
                                                         "consent": CONSENT_WORDS}}


def plan_values(data: FormData) -> dict[str, Any]:
    """The form as typed (to show again with its errors)."""
    actions = [{"action": text_field(data, f"action_{i}", 500), "owner": text_field(data, f"owner_{i}", 40),
                "due_on": text_field(data, f"due_{i}", 10), "done": data.get(f"done_{i}") == "yes"}
               for i in range(ACTION_ROWS)]
    return {"barriers": [b for b in data.getlist("barriers") if b in BARRIERS],
            "actions": actions, "review_on": text_field(data, "review_on", 10),
            "family_view": text_field(data, "family_view", 10_000),
            "family_consent": text_field(data, "family_consent", 20),
            "review_outcome": text_field(data, "review_outcome", 40),
            "review_notes": text_field(data, "review_notes", 10_000),
            "supersedes": text_field(data, "supersedes", 36)}


def plan_fields(case_id: str, values: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The ``support_plan`` change's fields, submitted; and what the page itself refuses (a code not
    on its lists). Dates and what a submitted plan needs are left to the engine's checks."""
    errors = []
    actions = []
    for row in values["actions"]:
        if not (row["action"] or row["owner"] or row["due_on"]):
            continue
        if row["owner"] and row["owner"] not in PLAN_OWNERS:
            errors.append("Choose who does each action from the list.")
        actions.append({"action": row["action"] or None, "owner": row["owner"] or None,
                        "due_on": row["due_on"] or None, "done": row["done"] or None})
    if values["family_consent"] not in CONSENT:
        errors.append("Choose the family's consent.")
    fields: dict[str, Any] = {
        "case_id": case_id, "barriers": values["barriers"], "actions": actions,
        "review_on": values["review_on"] or None, "family_view": values["family_view"] or None,
        "family_consent": values["family_consent"] or None, "status": "submitted"}
    if values["supersedes"]:
        if values["review_outcome"] not in PLAN_REVIEW_OUTCOMES:
            errors.append("Choose the outcome of the review.")
        fields.update(supersedes=values["supersedes"].lower(), review_outcome=values["review_outcome"] or None,
                      review_notes=values["review_notes"] or None)
    return fields, errors


def blank_values(previous: dict[str, Any] | None) -> dict[str, Any]:
    """A new plan's form; a review's opens with the previous version's barriers, actions and consent."""
    prev = previous or {}
    rows = [dict(a, done=bool(a.get("done"))) for a in (prev.get("actions") or [])][:ACTION_ROWS]
    rows += [{"action": "", "owner": "", "due_on": "", "done": False}] * (ACTION_ROWS - len(rows))
    return {"barriers": list(prev.get("barriers") or []), "actions": [{k: v or "" for k, v in r.items()} for r in rows],
            "review_on": "", "family_view": "", "family_consent": prev.get("family_consent") or "not_asked",
            "review_outcome": "", "review_notes": "", "supersedes": prev.get("id", "")}
