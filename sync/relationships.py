"""The rules on wellbeing plans and lone-working check-ins that reach beyond one record
(docs/protocol.md §7.10, §7.11), checked by ``sync.batch.Batch`` inside the push:

* a wellbeing plan is versioned like a support plan (``sync/casework.py``, ``VERSIONED``); its
  return timetable runs week by week with the sessions planned never falling;
* a check-in names a case or a household (a case's household is taken when only the case is
  given); it is closed with both ``closed_at`` and ``closed_how``, not before it started.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .errors import ChangeError
from .types import Record

Load = Callable[[str, str], "Record | None"]


def derive(load: Load, t: str, fields: dict[str, Any]) -> None:
    """Fields a new record takes from what it refers to (a check-in's household)."""
    if t == "check_in" and fields.get("case_id") and not fields.get("household_id"):
        case = load("case", fields["case_id"])
        pupil = load("pupil", case.fields.get("pupil_id") or "") if case is not None else None
        if pupil is not None and pupil.fields.get("household_id"):
            fields["household_id"] = pupil.fields["household_id"]


def check(load: Load, t: str, fields: dict[str, Any], after: dict[str, Any]) -> list[ChangeError]:
    """What a change breaks (``fields``: what it writes, ``after``: the whole record as it would be)."""
    if t == "wellbeing_plan" and "return_timetable" in fields:
        return _timetable(after.get("return_timetable") or [])
    if t == "check_in":
        return _check_in(after)
    return []


def _timetable(weeks: list[dict[str, Any]]) -> list[ChangeError]:
    for i in range(1, len(weeks)):
        before, week = weeks[i - 1], weeks[i]
        if week["week_starting"] <= before["week_starting"]:
            return [ChangeError("return_timetable", "validation_failed",
                                f"week {i + 1} must start after week {i}")]
        if week["sessions"] < before["sessions"]:
            return [ChangeError("return_timetable", "validation_failed",
                                f"a gradual return rises: week {i + 1} plans fewer sessions than week {i}")]
    return []


def _check_in(c: dict[str, Any]) -> list[ChangeError]:
    if not c.get("case_id") and not c.get("household_id"):
        return [ChangeError("case_id", "validation_failed", "a check-in names the case or household visited")]
    if bool(c.get("closed_at")) != bool(c.get("closed_how")):
        field = "closed_how" if c.get("closed_at") else "closed_at"
        return [ChangeError(field, "validation_failed", "a check-in is closed with both closed_at and closed_how")]
    if c.get("closed_at") and c["closed_at"] < c["started_at"]:
        return [ChangeError("closed_at", "validation_failed", "a check-in cannot close before it started")]
    return []
