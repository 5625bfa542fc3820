"""School calendars and counting in school weeks (docs/casework.md, "Legal steps").

A calendar is a set of term periods (each a date range the school is open on
weekdays) and closed days inside them (INSET days, bank holidays). The
authority enters its own calendar; a school whose dates differ enters its own
for an academic year, which then replaces the authority's for that year
(a whole year, so a school's calendar never mixes two sources).

A *school week* is a Monday-to-Sunday week with at least one school day in it;
half terms and holidays are not school weeks.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable
from dataclasses import dataclass

from ..register.years import year_of

KINDS = ("term", "closed")
CSV_COLUMNS = ("school_urn", "kind", "starts_on", "ends_on", "name")
MAX_CSV_ROWS = 2000


class CalendarGap(ValueError):
    """The calendar has no term dates far enough ahead to count these school weeks."""


@dataclass(frozen=True)
class Period:
    kind: str  # "term" (open on weekdays) or "closed" (no school, inside a term)
    starts_on: dt.date
    ends_on: dt.date
    name: str = ""


@dataclass(frozen=True)
class SchoolCalendar:
    periods: tuple[Period, ...]

    def is_school_day(self, day: dt.date) -> bool:
        if day.weekday() >= 5:
            return False
        in_term = any(p.kind == "term" and p.starts_on <= day <= p.ends_on for p in self.periods)
        return in_term and not any(p.kind == "closed" and p.starts_on <= day <= p.ends_on for p in self.periods)

    def last_day(self) -> dt.date | None:
        terms = [p.ends_on for p in self.periods if p.kind == "term"]
        return max(terms) if terms else None

    def school_days_in_week(self, monday: dt.date) -> list[dt.date]:
        return [d for d in (monday + dt.timedelta(days=i) for i in range(5)) if self.is_school_day(d)]

    def end_after_school_weeks(self, start: dt.date, weeks: int) -> dt.date:
        """The last school day of the ``weeks``-th school week counted from ``start``.

        The week holding ``start`` counts when no school day of it has passed before ``start``
        (a notice given on a Monday, or on the first day back after a half term); otherwise counting
        begins the Monday after. Raises CalendarGap when the calendar ends first.
        """
        if weeks < 1:
            raise ValueError("count at least one school week")
        last = self.last_day()
        monday = start - dt.timedelta(days=start.weekday())
        days = self.school_days_in_week(monday)
        if any(d < start for d in days):
            monday += dt.timedelta(days=7)
        counted = 0
        while last is not None and monday <= last:
            days = self.school_days_in_week(monday)
            if days:
                counted += 1
                if counted == weeks:
                    return days[-1]
            monday += dt.timedelta(days=7)
        raise CalendarGap(f"the term dates end before {weeks} school weeks from {start.isoformat()}: "
                          "enter the next term's dates")

    def school_weeks_between(self, first: dt.date, last: dt.date) -> int:
        """How many school weeks hold a day from ``first`` to ``last`` (inclusive)."""
        monday = first - dt.timedelta(days=first.weekday())
        n = 0
        while monday <= last:
            if any(first <= d <= last for d in self.school_days_in_week(monday)):
                n += 1
            monday += dt.timedelta(days=7)
        return n


def for_school(authority: Iterable[Period], own: Iterable[Period]) -> SchoolCalendar:
    """A school's calendar: its own periods for each academic year it has any, the authority's otherwise."""
    own = list(own)
    own_years = {year_of(p.starts_on) for p in own}
    periods = [p for p in authority if year_of(p.starts_on) not in own_years] + own
    return SchoolCalendar(tuple(sorted(periods, key=lambda p: (p.starts_on, p.kind))))


def check_period(kind: str, starts_on: str, ends_on: str, name: str) -> tuple[Period | None, list[str]]:
    """A period from form or CSV text, or the reasons it is not one."""
    errors = []
    if kind not in KINDS:
        errors.append("kind must be term or closed")
    try:
        start, end = dt.date.fromisoformat(starts_on), dt.date.fromisoformat(ends_on)
    except ValueError:
        return None, errors + ["give the dates as YYYY-MM-DD"]
    if end < start:
        errors.append("the period ends before it starts")
    elif (end - start).days > 200:
        errors.append("a period is at most 200 days (enter each term, or half term, separately)")
    if len(name) > 100:
        errors.append("the name is at most 100 characters")
    return (None if errors else Period(kind, start, end, name)), errors


def parse_csv(text: str) -> tuple[list[tuple[str, Period]], list[str]]:
    """(school URN or "" for the authority, period) rows from a term-dates CSV, and the rejected lines."""
    reader = csv.DictReader(io.StringIO(text.removeprefix("\ufeff"), newline=""))
    if reader.fieldnames is None or not set(CSV_COLUMNS[1:4]) <= {f.strip() for f in reader.fieldnames}:
        return [], [f"the first line must name the columns: {','.join(CSV_COLUMNS)}"]
    rows: list[tuple[str, Period]] = []
    errors: list[str] = []
    for n, raw in enumerate(reader, start=2):
        if n - 1 > MAX_CSV_ROWS:
            errors.append(f"at most {MAX_CSV_ROWS} rows a file")
            break
        row = {(k or "").strip(): (v or "").strip() for k, v in raw.items() if isinstance(v, str | None)}
        urn = row.get("school_urn", "")
        period, problems = check_period(row.get("kind", ""), row.get("starts_on", ""), row.get("ends_on", ""),
                                        row.get("name", ""))
        if urn and not urn.isdigit():
            problems.append("school_urn is the school's URN (digits), or empty for the authority")
        if problems or period is None:
            errors.append(f"line {n}: " + "; ".join(problems))
        else:
            rows.append((urn, period))
    return rows, errors
