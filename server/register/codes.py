"""Attendance codes (in force from 19 August 2024) and the register mark.

The code table is data: code -> category. Meanings are kept beside it for
messages and docs. See docs/register.md.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

CATEGORY_PRESENT = "present"
CATEGORY_APPROVED = "approved_activity"
CATEGORY_AUTHORISED = "authorised"
CATEGORY_UNAUTHORISED = "unauthorised"
CATEGORY_NOT_COUNTED = "not_counted"

CATEGORIES: frozenset[str] = frozenset(
    {
        CATEGORY_PRESENT,
        CATEGORY_APPROVED,
        CATEGORY_AUTHORISED,
        CATEGORY_UNAUTHORISED,
        CATEGORY_NOT_COUNTED,
    }
)

SESSIONS: tuple[str, str] = ("AM", "PM")

_Y_CODES = tuple(f"Y{n}" for n in range(1, 8))

# Codes whose "not counted" status is still to confirm (DOMAIN.md). They are
# not counted by default; a caller overrides that with `codes_with(...)`.
PROVISIONAL_NOT_COUNTED: frozenset[str] = frozenset({"Q", *_Y_CODES})

CODE_MEANINGS: Mapping[str, str] = MappingProxyType(
    {
        "/": "present (AM)",
        "\\": "present (PM)",
        "L": "late, arrived before the register closed",
        "K": "education arranged by the local authority",
        "V": "educational visit or trip",
        "P": "approved sporting activity",
        "W": "work experience",
        "B": "other approved supervised off-site activity",
        "C1": "leave for regulated performance or employment abroad",
        "C2": "leave for a temporary part-time timetable",
        "C": "leave for exceptional circumstances",
        "M": "medical or dental appointment",
        "J1": "interview",
        "S": "study leave",
        "T": "traveller absence",
        "R": "religious observance",
        "I": "illness",
        "E": "suspended or excluded, no alternative provision",
        "G": "holiday not authorised",
        "N": "reason not yet provided",
        "O": "unauthorised, no other code applies",
        "U": "arrived after the register closed",
        "D": "dual registered, attending the other school",
        "X": "not of compulsory school age, not required",
        "Q": "unable to attend: no access arrangements",
        "Y1": "unable to attend: transport unavailable",
        "Y2": "unable to attend: widespread travel disruption",
        "Y3": "unable to attend: part of the school closed",
        "Y4": "unable to attend: whole school site closed",
        "Y5": "unable to attend: in criminal justice detention",
        "Y6": "unable to attend: public health guidance or law",
        "Y7": "unable to attend: any other unavoidable cause",
        "Z": "prospective pupil, not on roll",
        "#": "planned school closure",
    }
)

_BY_CATEGORY: dict[str, tuple[str, ...]] = {
    CATEGORY_PRESENT: ("/", "\\", "L"),
    CATEGORY_APPROVED: ("K", "V", "P", "W", "B"),
    CATEGORY_AUTHORISED: ("C1", "C2", "C", "M", "J1", "S", "T", "R", "I", "E"),
    CATEGORY_UNAUTHORISED: ("G", "N", "O", "U"),
    CATEGORY_NOT_COUNTED: ("D", "X", "Q", *_Y_CODES, "Z", "#"),
}

CODES: Mapping[str, str] = MappingProxyType(
    {code: category for category, codes in _BY_CATEGORY.items() for code in codes}
)


def codes_with(overrides: Mapping[str, str]) -> Mapping[str, str]:
    """Return a read-only copy of CODES with `overrides` (code -> category) applied.

    Use it to move the provisional codes, e.g.
    `codes_with(dict.fromkeys(PROVISIONAL_NOT_COUNTED, CATEGORY_AUTHORISED))`.
    """
    table = {**CODES, **{normalise_code(c): cat for c, cat in overrides.items()}}
    check_code_table(table)
    return MappingProxyType(table)


def check_code_table(codes: Mapping[str, str]) -> None:
    """Raise ValueError when a code table names a category we do not know."""
    wrong = sorted(f"{c!r}: {cat!r}" for c, cat in codes.items() if cat not in CATEGORIES)
    if wrong:
        raise ValueError(f"unknown categories in code table: {', '.join(wrong)}")


def normalise_code(code: str) -> str:
    """Strip whitespace and upper-case letter codes ("j1" -> "J1"); "/" and "\\" stay."""
    return code.strip().upper()


def category_of(code: str, codes: Mapping[str, str] = CODES) -> str:
    """The category of `code`; ValueError for an unknown code (never guess)."""
    category = codes.get(normalise_code(code))
    if category is None:
        raise ValueError(f"unknown attendance code {code!r}")
    return category


def week_of(day: datetime.date) -> datetime.date:
    """The Monday starting the week that holds `day`."""
    return day - datetime.timedelta(days=day.weekday())


@dataclass(frozen=True)
class Mark:
    """One register mark: a pupil's code for one session."""

    upn: str
    date: datetime.date
    session: str  # "AM" | "PM"
    code: str
