"""Small helpers shared by the server modules."""
from __future__ import annotations

import datetime as dt
import gc


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def now_iso() -> str:
    now = utcnow()
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


def today() -> dt.date:
    """The server's date (UTC); ``DOORSTEP_TODAY=YYYY-MM-DD`` pins it for a demo or a test."""
    import os

    pinned = os.environ.get("DOORSTEP_TODAY")
    if pinned:
        try:
            return dt.date.fromisoformat(pinned)
        except ValueError:
            pass
    return utcnow().date()


def freeze_heap() -> None:
    """Move everything alive at start-up (modules, routes, templates) out of the garbage
    collector's sight: a push allocates thousands of objects a batch, and every full
    collection would otherwise walk the whole start-up heap again (docs/performance.md)."""
    gc.collect()
    gc.freeze()
