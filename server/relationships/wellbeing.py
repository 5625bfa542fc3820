"""Wellbeing plans as the office reads them (docs/relationships.md, "Wellbeing plans"): a case's
plan versions, newest first, with the current one marked; the gradual return timetable against
the pupil's actual marks (sessions attended each planned week, from the register's weekly counts,
``pupil_weeks``); and the office form's fields as a ``wellbeing_plan`` change.

The rules (versions, a timetable that rises week by week) are the sync engine's
(sync/relationships.py): the office's form is pushed through it (``server.office.writes``).
"""
from __future__ import annotations

import datetime as dt
from typing import Any

import orjson
from starlette.datastructures import FormData

from ..office.pages import text_field
from ..register.years import week_key
from ..storage import SqliteTxn

TIMETABLE_ROWS = 8  # weeks the office form offers (a plan may hold up to 26, from the phone)
ADJUSTMENT_ROWS = 6


def current_of(versions: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The current plan: the latest submitted version no submitted version supersedes."""
    replaced = {p.get("supersedes") for p in versions if p.get("status") == "submitted"}
    return next((p for p in versions if p.get("status") == "submitted" and p["id"] not in replaced), None)


def case_plans(txn: SqliteTxn, case_id: str) -> dict[str, Any]:
    versions = [{**orjson.loads(r["data"]), "id": r["id"], "_created_at": r["created_at"],
                 "_created_by": r["created_by"]}
                for r in txn.rows("SELECT id, data, created_at, created_by FROM wellbeing_plans "
                                  "WHERE case_id = ? AND deleted = 0", (case_id,))]
    versions.sort(key=lambda p: (p.get("plan_version") or 0, p["_created_at"] or ""), reverse=True)
    return {"versions": versions, "current": current_of(versions)}


def against_marks(txn: SqliteTxn, pupil_id: str | None, timetable: list[dict[str, Any]],
                  today: dt.date) -> list[dict[str, Any]]:
    """Each planned week with the sessions the register shows attended (present or approved
    activity) and possible that week; ``attended`` None where the register has no marks for it
    (a week to come, or not imported yet)."""
    weeks = [(week_key(dt.date.fromisoformat(w["week_starting"]).toordinal()), w) for w in timetable]
    counts: dict[int, tuple[int, int]] = {}
    if pupil_id and weeks:
        for week, attended, possible in txn.execute(
                "SELECT w.week, sum(w.present + w.approved), sum(w.present + w.approved + w.authorised + "
                "w.unauthorised) FROM pupil_weeks w JOIN register_pupils p ON p.pk = w.pupil_pk "
                "WHERE p.pupil_id = ? AND w.week IN (SELECT value FROM json_each(?)) GROUP BY w.week",
                (pupil_id, orjson.dumps([k for k, _w in weeks]).decode())):
            counts[week] = (attended, possible)
    out = []
    for key, w in weeks:
        attended, possible = counts.get(key, (None, None))
        monday = dt.date.fromordinal(key)
        state = ("to_come" if monday > today else "no_marks") if attended is None else \
            ("met" if attended >= w["sessions"] else "below")
        out.append({"week_starting": w["week_starting"], "planned": w["sessions"], "attended": attended,
                    "possible": possible, "state": state})
    return out


STATE_WORDS = {"met": "As planned or better", "below": "Fewer than planned", "to_come": "Still to come",
               "no_marks": "No marks yet"}


def case_context(txn: SqliteTxn, case: dict[str, Any], pupil: dict[str, Any] | None,
                 today: dt.date) -> dict[str, Any]:
    """What the case page shows of wellbeing plans (``_case_wellbeing.html``)."""
    plans = case_plans(txn, case["id"])
    current = plans["current"]
    shown = current or (plans["versions"][0] if plans["versions"] else None)
    rows = against_marks(txn, (pupil or {}).get("id"), (shown or {}).get("return_timetable") or [], today)
    from .wellbeing_svg import return_chart

    name = f"{(pupil or {}).get('first_name', '')} {(pupil or {}).get('last_name', '')}".strip() or "the pupil"
    return {"wellbeing": {**plans, "shown": shown, "weeks": rows, "state_words": STATE_WORDS},
            "wellbeing_chart": return_chart(rows, "wellbeing-chart", name)}


def form_values(data: FormData) -> dict[str, Any]:
    """The form as typed (to show again with its errors)."""
    return {"what_helps": text_field(data, "what_helps", 10_000),
            "what_makes_it_harder": text_field(data, "what_makes_it_harder", 10_000),
            "trusted_adult": text_field(data, "trusted_adult", 200), "safe_space": text_field(data, "safe_space", 500),
            "adjustments": [text_field(data, f"adjustment_{i}", 500) for i in range(ADJUSTMENT_ROWS)],
            "weeks": [{"week_starting": text_field(data, f"week_{i}", 10), "sessions": text_field(data, f"sessions_{i}", 3)}
                      for i in range(TIMETABLE_ROWS)],
            "review_on": text_field(data, "review_on", 10), "supersedes": text_field(data, "supersedes", 36)}


def plan_fields(case_id: str, values: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The ``wellbeing_plan`` change's fields, submitted; and what the page itself refuses (a week
    half filled in, sessions that are not a number). Dates and the rising timetable are the engine's."""
    errors = []
    weeks = []
    for i, w in enumerate(values["weeks"], 1):
        if not (w["week_starting"] or w["sessions"]):
            continue
        if not w["week_starting"] or not w["sessions"].isdigit():
            errors.append(f"Week {i}: give the date the week starts and the number of sessions planned (0 to 10).")
            continue
        weeks.append({"week_starting": w["week_starting"], "sessions": int(w["sessions"])})
    fields: dict[str, Any] = {
        "case_id": case_id, "what_helps": values["what_helps"] or None,
        "what_makes_it_harder": values["what_makes_it_harder"] or None,
        "trusted_adult": values["trusted_adult"] or None, "safe_space": values["safe_space"] or None,
        "adjustments": [a for a in values["adjustments"] if a], "return_timetable": weeks,
        "review_on": values["review_on"] or None, "status": "submitted"}
    if values["supersedes"]:
        fields["supersedes"] = values["supersedes"].lower()
    return fields, errors


def blank_values(previous: dict[str, Any] | None) -> dict[str, Any]:
    """A new plan's form; a review's opens with the previous version's answers."""
    prev = previous or {}
    adjustments = list(prev.get("adjustments") or [])[:ADJUSTMENT_ROWS]
    weeks = [{"week_starting": w["week_starting"], "sessions": str(w["sessions"])}
             for w in (prev.get("return_timetable") or [])][:TIMETABLE_ROWS]
    return {"what_helps": prev.get("what_helps") or "", "what_makes_it_harder": prev.get("what_makes_it_harder") or "",
            "trusted_adult": prev.get("trusted_adult") or "", "safe_space": prev.get("safe_space") or "",
            "adjustments": adjustments + [""] * (ADJUSTMENT_ROWS - len(adjustments)),
            "weeks": weeks + [{"week_starting": "", "sessions": ""}] * (TIMETABLE_ROWS - len(weeks)),
            "review_on": "", "supersedes": prev.get("id", "")}
