"""The compaction horizon (PROTOCOL.md §4, docs/retention.md).

A cursor below the horizon is answered ``reset`` (``sync/pull.py``); tombstones at or below it
may be removed, for every device that may still pull holds a position at or above it. The
server keeps each device's position (``PullOutcome.held``, its cursor's or its snapshot's
start) and advances the horizon to the lowest position an active device holds.
"""
from __future__ import annotations

from collections.abc import Iterable


def next_horizon(current: int, held: Iterable[int], top: int) -> int:
    """The horizon after an advance: the lowest position an active device holds (``top``, the
    newest position, when no device is active), never below ``current`` nor above ``top``."""
    lowest = min(held, default=top)
    return max(current, min(lowest, top))
