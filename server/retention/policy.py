"""How long each kind of record is kept (docs/retention.md): the periods, from settings, and
the dates they make. Pure: no database.

``DOORSTEP_RETENTION_*`` environment variables set the periods; a value below a legal floor
(registers: 6 years; a penalty notice: 3, the 2-in-3-years rule) stops the server rather than
remove what the law says to keep.
"""
from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field

from ..register.years import year_of

# The case stages that are legal steps (DOMAIN.md, "Legal steps"; sync/schema.py STAGES), with
# their default period in years after the case's last change and their floor. A stage added to
# the ladder that is a legal step gets a row here; a case that reached one is kept for the
# longest period of the steps it reached.
LEGAL_STEPS: dict[str, tuple[int, int]] = {
    "notice_to_improve": (6, 0),
    "penalty_notice": (6, 3),
    "education_supervision_order": (10, 0),
    "prosecution": (10, 0),
}
REGISTER_FLOOR_YEARS = 6


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit():
        raise ValueError(f"{name}={raw!r}: expected a whole number")
    return int(raw)


def _legal_years() -> dict[str, int]:
    out = {}
    for step, (default, floor) in LEGAL_STEPS.items():
        name = f"DOORSTEP_RETENTION_{step.upper()}_YEARS"
        out[step] = _at_least(name, _env_int(name, default), floor)
    return out


def _at_least(name: str, value: int, floor: int) -> int:
    if value < floor:
        raise ValueError(f"{name}={value}: at least {floor} (docs/retention.md)")
    return value


@dataclass(frozen=True)
class Periods:
    """Every retention period (docs/retention.md has the table and the reasons)."""

    register_years: int = field(default_factory=lambda: _at_least(
        "DOORSTEP_RETENTION_REGISTER_YEARS", _env_int("DOORSTEP_RETENTION_REGISTER_YEARS", 6), REGISTER_FLOOR_YEARS))
    case_years: int = field(default_factory=lambda: _env_int("DOORSTEP_RETENTION_CASE_YEARS", 6))
    legal_years: dict[str, int] = field(default_factory=_legal_years, hash=False)
    transport_years: int = field(default_factory=lambda: _env_int("DOORSTEP_RETENTION_TRANSPORT_YEARS", 6))
    runs_on_phone_days: int = field(default_factory=lambda: _env_int("DOORSTEP_RETENTION_RUNS_ON_PHONE_DAYS", 14))
    device_idle_days: int = field(default_factory=lambda: _env_int("DOORSTEP_RETENTION_DEVICE_IDLE_DAYS", 30))
    tombstone_days: int = field(default_factory=lambda: _env_int("DOORSTEP_RETENTION_TOMBSTONE_DAYS", 30))
    check_in_days: int = field(default_factory=lambda: _env_int("DOORSTEP_RETENTION_CHECK_IN_DAYS", 90))
    message_days: int = field(default_factory=lambda: _env_int("DOORSTEP_RETENTION_MESSAGE_DAYS", 365))

    def case_period(self, stages: list[str] | tuple[str, ...]) -> tuple[int, str | None]:
        """Years a closed case is kept after its last change: the longest of the ordinary
        period and those of the legal steps it reached; and the furthest legal step it reached
        (None: none), which the report names."""
        reached = [s for s in LEGAL_STEPS if s in stages]
        years = max([self.case_years] + [self.legal_years[s] for s in reached])
        return years, (reached[-1] if reached else None)


def years_before(day: dt.date, years: int) -> dt.date:
    """The same day ``years`` earlier (29 February becomes the 28th)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def first_register_year(today: dt.date, years: int) -> int:
    """The first academic year (named by the year it starts) whose register is kept: a year is
    kept until ``years`` full years after it ends (31 August)."""
    return year_of(today) - years


def first_register_day(today: dt.date, years: int) -> dt.date:
    return dt.date(first_register_year(today, years), 9, 1)
