"""The rules on parents and attendance support plans that reach beyond one record
(docs/protocol.md §7.8, §7.9), checked by ``sync.batch.Batch`` inside the push:

* a case's ``parent_ids`` name live persons of its pupil's household;
* a plan (``VERSIONED``: a support plan, a wellbeing plan, §7.10) that ``supersedes`` another
  reviews a submitted plan of the same case, and its ``plan_version`` is the server's: 1 for a
  first plan, the superseded plan's + 1 after.

A plan version never changes once submitted (``SUBMITTABLE``): a review is a new record.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .errors import ChangeError
from .types import Record

Load = Callable[[str, str], "Record | None"]
VERSIONED = ("support_plan", "wellbeing_plan")


def derive(load: Load, t: str, fields: dict[str, Any]) -> None:
    """Fields a new record takes from what it refers to (a plan's version number)."""
    if t not in VERSIONED:
        return
    fields.pop("plan_version", None)
    previous = load(t, fields["supersedes"]) if fields.get("supersedes") else None
    before = previous.fields.get("plan_version") if previous is not None else None
    fields["plan_version"] = (before or 1) + 1 if previous is not None else 1


def check(load: Load, t: str, fields: dict[str, Any], after: dict[str, Any]) -> list[ChangeError]:
    """What a change of a case's parents or a plan's predecessor breaks (``fields``: what the change
    writes, ``after``: the whole record as it would be)."""
    if t == "case" and fields.get("parent_ids"):
        return _parents(load, after)
    if t in VERSIONED and fields.get("supersedes"):
        return _predecessor(load, t, after)
    return []


def _parents(load: Load, case: dict[str, Any]) -> list[ChangeError]:
    pupil = load("pupil", case.get("pupil_id") or "")
    household = pupil.fields.get("household_id") if pupil is not None else None
    for person_id in case.get("parent_ids") or ():
        person = load("person", person_id)
        if person is None or person.deleted:
            return [ChangeError("parent_ids", "not_found", f"no person {person_id}")]
        if person.fields.get("household_id") != household:
            return [ChangeError("parent_ids", "validation_failed",
                                f"person {person_id} is not of the pupil's household")]
    return []


def _predecessor(load: Load, t: str, plan: dict[str, Any]) -> list[ChangeError]:
    previous = load(t, plan["supersedes"])
    if previous is None or previous.deleted:
        return []  # the reference check names it
    if previous.fields.get("case_id") != plan.get("case_id"):
        return [ChangeError("supersedes", "validation_failed", "the plan it supersedes is of another case")]
    if previous.fields.get("status") != "submitted":
        return [ChangeError("supersedes", "validation_failed",
                            "only a submitted plan can be reviewed: submit or change the draft instead")]
    return []
