"""The rolling 10-school-week window behind the penalty notice threshold.

Pure helpers over (date, session, code) sessions already reduced to one mark
per session. See docs/register.md for the rules.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .codes import week_of

WINDOW_WEEKS = 10
THRESHOLD_SESSIONS = 10

Session = tuple[datetime.date, str, str]  # (date, "AM"|"PM", code)


@dataclass(frozen=True)
class PenaltyWindow:
    """What the window scan found for one pupil."""

    met: bool
    sessions: list[Session]  # the unauthorised sessions of the latest qualifying window
    last_window_count: int  # unauthorised sessions in the most recent window


def school_weeks_of(
    mark_days: Iterable[datetime.date], school_weeks: Iterable[datetime.date] | None
) -> list[datetime.date]:
    """Sorted Mondays of the school weeks: the given ones plus the pupil's own."""
    weeks = {week_of(day) for day in mark_days}
    if school_weeks is not None:
        weeks.update(week_of(day) for day in school_weeks)
    return sorted(weeks)


def scan(unauthorised: Sequence[Session], weeks: Sequence[datetime.date]) -> PenaltyWindow:
    """Slide a window of WINDOW_WEEKS consecutive school weeks over `weeks`.

    `unauthorised` are the pupil's unauthorised sessions; every one of them
    falls in some week of `weeks`. With fewer school weeks than the window,
    the one window is all of them.
    """
    if not weeks:
        return PenaltyWindow(met=False, sessions=[], last_window_count=0)
    index = {week: i for i, week in enumerate(weeks)}
    per_week = [0] * len(weeks)
    for day, _, _ in unauthorised:
        per_week[index[week_of(day)]] += 1

    size = min(WINDOW_WEEKS, len(weeks))
    count = sum(per_week[:size])
    latest_start: int | None = 0 if count >= THRESHOLD_SESSIONS else None
    for start in range(1, len(weeks) - size + 1):
        count += per_week[start + size - 1] - per_week[start - 1]
        if count >= THRESHOLD_SESSIONS:
            latest_start = start
    # after the loop `count` is the most recent window's total

    if latest_start is None:
        return PenaltyWindow(met=False, sessions=[], last_window_count=count)
    first, last = weeks[latest_start], weeks[latest_start + size - 1]
    sessions = sorted(s for s in unauthorised if first <= week_of(s[0]) <= last)
    return PenaltyWindow(met=True, sessions=sessions, last_window_count=count)
