"""The national framework's rules for penalty notices, as pure functions (docs/casework.md).

Source: DfE, "Working together to improve school attendance" (statutory from 19 August 2024),
its chapter "National framework for penalty notices", and the Education (Penalty Notices)
(England) (Amendment) Regulations 2024: £80 if paid within 21 days of receipt, £160 within 28;
a second notice to the same parent for the same child within 3 years is £160 within 28 days;
no more than 2 notices to a parent for the same child in a rolling 3 years (a third is not
issued and the authority considers its other tools); each parent liable may receive a notice
for the same absence; the sessions that evidence one notice evidence no other.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

FIRST_AMOUNT, FULL_AMOUNT = 80, 160  # pounds
FIRST_DAYS, FULL_DAYS = 21, 28  # days from receipt
CAP, CAP_YEARS = 2, 3
OTHER_TOOLS = ("prosecution under section 444 of the Education Act 1996", "a parenting order",
               "an education supervision order", "an attendance contract")
SERVICE_METHODS = ("post", "hand")


def cap_words() -> str:
    return (f"A parent may receive at most {CAP} penalty notices for the same child in a rolling {CAP_YEARS} years. "
            "Consider instead: " + ", ".join(OTHER_TOOLS) + ".")


def years_before(day: dt.date, years: int) -> dt.date:
    """The same date ``years`` earlier (29 February becomes 28 February)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def notices_in_window(issued_on: Iterable[dt.date], day: dt.date) -> list[dt.date]:
    """The earlier notices (their issue dates) that count against a notice issued on ``day``:
    those issued after the same date three years before, up to ``day`` itself."""
    start = years_before(day, CAP_YEARS)
    return sorted(d for d in issued_on if start < d <= day)


def cap_reached(issued_on: Iterable[dt.date], day: dt.date) -> bool:
    return len(notices_in_window(issued_on, day)) >= CAP


def add_working_days(day: dt.date, n: int) -> dt.date:
    """``n`` working days (Monday to Friday) after ``day``."""
    while n > 0:
        day += dt.timedelta(days=1)
        if day.weekday() < 5:
            n -= 1
    return day


@dataclass(frozen=True)
class Terms:
    """What a notice asks, from its service: when it is received, how much by when."""

    received_on: dt.date
    second: bool  # a second notice in the window: £160 only
    first_amount: int | None
    pay_first_by: dt.date | None
    full_amount: int
    pay_by: dt.date

    def amount_due(self, paid_on: dt.date) -> int | None:
        """What a payment on ``paid_on`` must be; None when it is too late (non-payment)."""
        if self.first_amount is not None and self.pay_first_by is not None and paid_on <= self.pay_first_by:
            return self.first_amount
        return self.full_amount if paid_on <= self.pay_by else None

    def as_dict(self) -> dict[str, object]:
        return {"received_on": self.received_on.isoformat(), "second": self.second,
                "first_amount": self.first_amount,
                "pay_first_by": self.pay_first_by.isoformat() if self.pay_first_by else None,
                "full_amount": self.full_amount, "pay_by": self.pay_by.isoformat()}


def terms(served_on: dt.date, method: str, deemed_days: int, earlier: int) -> Terms:
    """The notice's terms when served on ``served_on`` by ``method`` with ``earlier`` notices in the window."""
    if method not in SERVICE_METHODS:
        raise ValueError(f"served by {' or '.join(SERVICE_METHODS)}")
    received = add_working_days(served_on, deemed_days) if method == "post" else served_on
    second = earlier >= 1
    return Terms(received, second, None if second else FIRST_AMOUNT,
                 None if second else received + dt.timedelta(days=FIRST_DAYS),
                 FULL_AMOUNT, received + dt.timedelta(days=FULL_DAYS))


Session = tuple[int, int]  # (date ordinal, 0 AM / 1 PM), as register_marks keeps them


def already_used(chosen: Iterable[Session], used: Iterable[Session]) -> list[Session]:
    """The chosen sessions that already evidence another notice for the same parent and child."""
    taken = set(used)
    return sorted(s for s in set(chosen) if s in taken)


def parent_key(person_id: str | None, name: str) -> str:
    """Who a notice is to: the person record when there is one, else the name as written."""
    return f"person:{person_id.lower()}" if person_id else "name:" + " ".join(name.lower().split())
