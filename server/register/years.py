"""Academic years (1 September - 31 August), named by the calendar year they start in."""
from __future__ import annotations

import datetime as dt


def year_of(day: dt.date) -> int:
    """2025 for any day from 2025-09-01 to 2026-08-31."""
    return day.year if day.month >= 9 else day.year - 1


def bounds(year: int) -> tuple[dt.date, dt.date]:
    return dt.date(year, 9, 1), dt.date(year + 1, 8, 31)


def label(year: int) -> str:
    """``2025/26``."""
    return f"{year}/{(year + 1) % 100:02d}"


def parse(value: str) -> int | None:
    """``2025`` or ``2025/26`` or ``2025-26`` -> 2025; None when it is not one of those."""
    value = value.strip()
    head, sep, tail = value.replace("-", "/").partition("/")
    if not (head.isascii() and head.isdigit() and len(head) == 4) or not 2000 <= int(head) <= 2100:
        return None
    year = int(head)
    if sep and tail != f"{(year + 1) % 100:02d}":
        return None
    return year


def current(today: dt.date | None = None) -> int:
    return year_of(today or dt.date.today())


def monday(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def week_key(ordinal: int) -> int:
    """The ordinal of the Monday of the week holding the day with this ordinal."""
    return ordinal - (ordinal - 1) % 7  # date.fromordinal(1) is a Monday


def normalise_time(value: str) -> str | None:
    """An ISO date or time as the server writes times (``2026-09-07T16:00:00.000Z``, UTC)."""
    try:
        parsed = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.timezone.utc)
    try:
        parsed = parsed.astimezone(dt.timezone.utc)
    except OverflowError:  # 0001-01-01T00:00+05:00 is before the year 1 in UTC
        return None
    return parsed.strftime("%Y-%m-%dT%H:%M:%S.") + f"{parsed.microsecond // 1000:03d}Z"
