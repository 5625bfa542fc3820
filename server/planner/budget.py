"""The plan's time budget: one clock every solver call draws on.

A plan never takes longer than its budget plus a small margin: every solver
call (VROOM's solve, each ride-limit repair round, PyVRP's search) is given at
most what is left of it, less a reserve for checking the runs and building the
plan. The default is sized to the problem (docs/routing.md, section 4).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

MIN_BUDGET_S = 1.6  # the whole plan, up to SMALL_PROBLEM pupils
SMALL_PROBLEM = 50
PER_PUPIL_S = 0.05  # ... then this much more for each pupil beyond it
MAX_BUDGET_S = 60.0
VROOM_SHARE = 0.4  # "auto": VROOM's first solve may use this share of what is left, PyVRP the rest
RESERVE_S = 0.05  # at least this much is kept back from every solver call
RESERVE_SHARE = 0.05  # ... or this share of the budget, whichever is more


def default_budget(pupils: int) -> float:
    """Seconds for a plan of this many pupils: 1.6 s up to 50, then 0.05 s a
    pupil more (100 pupils 4.1 s, 300 14.1 s, 600 29.1 s), at most 60 s."""
    extra = max(0, pupils - SMALL_PROBLEM) * PER_PUPIL_S
    return round(min(MAX_BUDGET_S, MIN_BUDGET_S + extra), 2)


@dataclass
class Budget:
    """`seconds` from `started` (a time.perf_counter() value)."""

    seconds: float
    started: float = field(default_factory=time.perf_counter)

    def __post_init__(self) -> None:
        if not self.seconds >= 0:  # also refuses NaN
            raise ValueError("the time budget must be a number of seconds >= 0")

    @property
    def until(self) -> float:
        """The perf_counter() value at which the budget is spent."""
        return self.started + self.seconds

    @property
    def reserve(self) -> float:
        return max(RESERVE_S, RESERVE_SHARE * self.seconds)

    def left(self, reserve: float | None = None) -> float:
        """Seconds left for solving: what remains less the reserve (or the
        given one), never below 0."""
        keep = self.reserve if reserve is None else reserve
        return max(0.0, self.until - keep - time.perf_counter())

    def elapsed(self) -> float:
        return time.perf_counter() - self.started
