"""Register figures for one pupil: counts, attendance %, band, penalty threshold.

Pure functions, no database. Rules and choices: docs/register.md.
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction

from .codes import (
    CATEGORY_APPROVED,
    CATEGORY_AUTHORISED,
    CATEGORY_NOT_COUNTED,
    CATEGORY_PRESENT,
    CATEGORY_UNAUTHORISED,
    CODES,
    SESSIONS,
    Mark,
    category_of,
    check_code_table,
    normalise_code,
    week_of,
)
from .window import school_weeks_of, scan

BANDS: tuple[str, ...] = ("ok", "at_risk", "persistent", "severe")


@dataclass(frozen=True)
class BandThresholds:
    """Absence-rate lower bounds (inclusive) of each band, as fractions of 1."""

    severe: float = 0.50
    persistent: float = 0.10
    at_risk: float = 0.05
    # "improving": attendance over the last 4 school weeks at least this many percentage points
    # above the 4 before (docs/relationships.md; DOORSTEP_IMPROVEMENT_POINTS)
    improvement_points: float = 10.0

    def __post_init__(self) -> None:
        if not 0 < self.improvement_points <= 100:
            raise ValueError(f"improvement_points must be more than 0 and at most 100, got {self.improvement_points}")
        if not 0 <= self.at_risk <= self.persistent <= self.severe <= 1:
            raise ValueError(
                "band thresholds must satisfy 0 <= at_risk <= persistent <= severe <= 1, "
                f"got at_risk={self.at_risk}, persistent={self.persistent}, severe={self.severe}"
            )


def _exact(value: float) -> Fraction:
    # The decimal the caller wrote (0.1 -> 1/10), not the binary float nearest it.
    return Fraction(str(value))


def band_for(
    absence_sessions: int, possible: int, thresholds: BandThresholds = BandThresholds()
) -> str:
    """The band ("ok", "at_risk", "persistent", "severe") of an absence rate.

    Edges are inclusive and computed exactly: 10 of 100 is persistent,
    9999 of 100000 is at_risk. No possible sessions -> "ok".
    """
    if possible < 0 or not 0 <= absence_sessions <= max(possible, 0):
        raise ValueError(
            f"need 0 <= absence_sessions <= possible, got {absence_sessions} of {possible}"
        )
    if possible == 0:
        return "ok"
    rate = Fraction(absence_sessions, possible)
    if rate >= _exact(thresholds.severe):
        return "severe"
    if rate >= _exact(thresholds.persistent):
        return "persistent"
    if rate >= _exact(thresholds.at_risk):
        return "at_risk"
    return "ok"


def _percent(part: int, whole: int) -> float:
    """part / whole as a percentage, one decimal, round half up; 0.0 for whole == 0."""
    if whole == 0:
        return 0.0
    tenths = math.floor(Fraction(part * 1000, whole) + Fraction(1, 2))
    return tenths / 10


@dataclass(frozen=True)
class Figures:
    """A pupil's register figures (the read-only pupil fields plus the evidence)."""

    possible_sessions: int
    attended_sessions: int
    authorised_absences: int
    unauthorised_absences: int
    attendance_pct: float
    band: str
    unauthorised_last_10_weeks: int
    penalty_threshold_met: bool
    threshold_sessions: list[dict] = field(default_factory=list)

    def register_fields(self) -> dict:
        """The read-only pupil fields of PROTOCOL §7."""
        return {
            "possible_sessions": self.possible_sessions,
            "attended_sessions": self.attended_sessions,
            "authorised_absences": self.authorised_absences,
            "unauthorised_absences": self.unauthorised_absences,
            "attendance_pct": self.attendance_pct,
            "band": self.band,
            "unauthorised_last_10_weeks": self.unauthorised_last_10_weeks,
            "penalty_threshold_met": self.penalty_threshold_met,
        }


def _latest_per_session(
    marks: Iterable[Mark], codes: Mapping[str, str]
) -> dict[tuple[str, datetime.date, str], tuple[str, str]]:
    """(upn, date, session) -> (code, category); a later mark replaces an earlier one."""
    check_code_table(codes)
    latest: dict[tuple[str, datetime.date, str], tuple[str, str]] = {}
    for mark in marks:
        if mark.session not in SESSIONS:
            raise ValueError(f"bad session {mark.session!r} for {mark.upn} on {mark.date}")
        key = (mark.upn, mark.date, mark.session)
        latest[key] = (normalise_code(mark.code), category_of(mark.code, codes))
    return latest


def compute_figures(
    marks: Iterable[Mark],
    thresholds: BandThresholds = BandThresholds(),
    school_weeks: Iterable[datetime.date] | None = None,
    *,
    codes: Mapping[str, str] = CODES,
) -> Figures:
    """Register figures from the marks of ONE pupil.

    `school_weeks`: the Mondays of the weeks in which the school had any mark
    (any day of a week is accepted and taken to its Monday); without it the
    pupil's own marked weeks are the school weeks. `codes` overrides the code
    table (see `codes_with`). Raises ValueError on an unknown code, a bad
    session, or marks of more than one pupil.
    """
    latest = _latest_per_session(marks, codes)
    upns = {upn for upn, _, _ in latest}
    if len(upns) > 1:
        raise ValueError(f"compute_figures takes the marks of one pupil, got {sorted(upns)}")

    counts = dict.fromkeys(
        (CATEGORY_PRESENT, CATEGORY_APPROVED, CATEGORY_AUTHORISED, CATEGORY_UNAUTHORISED), 0
    )
    unauthorised: list[tuple[datetime.date, str, str]] = []
    for (_, day, session), (code, category) in latest.items():
        if category == CATEGORY_NOT_COUNTED:
            continue
        counts[category] += 1
        if category == CATEGORY_UNAUTHORISED:
            unauthorised.append((day, session, code))

    attended = counts[CATEGORY_PRESENT] + counts[CATEGORY_APPROVED]
    absent = counts[CATEGORY_AUTHORISED] + counts[CATEGORY_UNAUTHORISED]
    possible = attended + absent
    weeks = school_weeks_of((day for _, day, _ in latest), school_weeks)
    window = scan(unauthorised, weeks)
    return Figures(
        possible_sessions=possible,
        attended_sessions=attended,
        authorised_absences=counts[CATEGORY_AUTHORISED],
        unauthorised_absences=counts[CATEGORY_UNAUTHORISED],
        attendance_pct=_percent(attended, possible),
        band=band_for(absent, possible, thresholds),
        unauthorised_last_10_weeks=window.last_window_count,
        penalty_threshold_met=window.met,
        threshold_sessions=[
            {"date": day.isoformat(), "session": session, "code": code}
            for day, session, code in window.sessions
        ],
    )


def weekly_attendance(
    marks: Iterable[Mark], *, codes: Mapping[str, str] = CODES
) -> list[dict]:
    """Attendance per Monday-starting week, in week order, for a chart.

    Only weeks with at least one mark appear; a week whose marks are all
    not-counted has possible 0 and pct 0.0 (draw it as a gap).
    """
    weeks: dict[datetime.date, list[int]] = {}
    for (_, day, _), (_, category) in _latest_per_session(marks, codes).items():
        possible_attended = weeks.setdefault(week_of(day), [0, 0])
        if category == CATEGORY_NOT_COUNTED:
            continue
        possible_attended[0] += 1
        if category in (CATEGORY_PRESENT, CATEGORY_APPROVED):
            possible_attended[1] += 1
    return [
        {
            "week": week.isoformat(),
            "possible": possible,
            "attended": attended,
            "pct": _percent(attended, possible),
        }
        for week, (possible, attended) in sorted(weeks.items())
    ]
