"""The retention report (``doorstep retention apply``): what is due per kind, and why."""
from __future__ import annotations

from typing import Any

from ..register.years import label
from .due import Due
from .horizon import HorizonPlan
from .kinds import KindsDue
from .kinds import describe as describe_kinds
from .policy import Periods


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))


def describe(found: Due, hplan: HorizonPlan, leaving: dict[str, Any], periods: Periods,
             more: KindsDue | None = None) -> list[str]:
    lines = [f"retention on {found.today.isoformat()} (periods and reasons: docs/retention.md)"]
    legal = ", ".join(f"{step} {years}" for step, years in periods.legal_years.items())
    lines.append(f"case: {len(found.cases)} due: closed cases whose last change (theirs or a linked record's) is "
                 f"older than {periods.case_years} years, or than the years of the furthest legal step they "
                 f"reached ({legal}); their visits, conversations, tasks, notes, reviews, notices, plans, check-ins, "
                 "legal steps, letters and texts go with them")
    for c in found.cases:
        lines.append(f"  case {c.id}: last changed {c.last[:10]}, kept {c.years} years"
                     + (f" ({c.step})" if c.step else ""))
    lines.append(f"case kept for a legal step: {len(found.cases_kept)} (past the ordinary {periods.case_years} years)")
    for c in found.cases_kept:
        lines.append(f"  case {c.id}: {c.step}, kept until {c.kept_until}")
    lines.append(f"transport_run: {len(found.runs)} due: runs dated before {found.run_cutoff} "
                 f"({periods.transport_years} years), with their stops and notes")
    first = label(found.register_year)
    if more is not None:
        lines += describe_kinds(more, periods, first)
    if not found.register_years:
        lines.append(f"register: nothing due (academic years before {first} go; "
                     f"each year is kept {periods.register_years} years after it ends)")
    for y in found.register_years:
        lines.append(f"register: {y['year']}: {y['pupils']} pupils' marks, weekly counts and figures due "
                     f"({y['sessions']} sessions in all; each year is kept {periods.register_years} years after it "
                     f"ends); {y['kept_for_legal_step']} pupils kept for a legal step")
    lines.append(f"runs on phones: {leaving['runs']} runs of {leaving['drivers']} drivers dated before "
                 f"{leaving['first_day']} leave their drivers' phones at their next pull "
                 f"(kept {periods.runs_on_phone_days} days)")
    lines.append(f"horizon: {hplan.current} -> {hplan.new} (the lowest position of the {hplan.active} active "
                 f"devices: not revoked, their user active, heard from in the last {periods.device_idle_days} days)")
    for d in hplan.behind:
        lines.append(f"  device {d['id']} ({d['name']}): idle since {str(d['seen'])[:10]}, at {d['pulled_seq']}: "
                     "its next pull is answered reset")
    total = sum(hplan.tombstones.values())
    lines.append(f"tombstone: {total} due" + (f" ({_counts(hplan.tombstones)})" if total else "")
                 + f": deleted records at or below the horizon, deleted more than {periods.tombstone_days} days ago")
    return lines
