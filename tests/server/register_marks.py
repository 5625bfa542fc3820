"""Marks for the register's tests of its pure functions: one mark, the sessions of a week,
consecutive weekday sessions."""
from __future__ import annotations

import datetime

from server.register import Mark

UPN = "A123456789012"
D = datetime.date.fromisoformat
SLOTS = [(day, session) for day in range(5) for session in ("AM", "PM")]  # Mon AM .. Fri PM


def mark(day: str, session: str, code: str, upn: str = UPN) -> Mark:
    return Mark(upn=upn, date=D(day), session=session, code=code)


def week(monday: str, codes: list[str] | str = "/") -> list[Mark]:
    """Marks for the sessions of one week, Monday AM onwards, one per code given."""
    codes = [codes] * 10 if isinstance(codes, str) else codes
    start = D(monday)
    return [
        Mark(UPN, start + datetime.timedelta(days=day), session, code)
        for (day, session), code in zip(SLOTS, codes)
    ]


def mondays(first: str, count: int) -> list[str]:
    return [(D(first) + datetime.timedelta(weeks=n)).isoformat() for n in range(count)]


def sessions(codes: list[str]) -> list[Mark]:
    """One mark per code on consecutive weekday sessions from Monday 2 September 2024."""
    out: list[Mark] = []
    for n, monday in enumerate(mondays("2024-09-02", (len(codes) + 9) // 10)):
        out += week(monday, codes[10 * n : 10 * n + 10])
    return out
