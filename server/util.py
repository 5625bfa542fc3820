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


def wait_words(seconds: float) -> str:
    """How long to wait, as a person says it: "20 seconds", "a minute", "15 minutes"."""
    s = max(1, int(seconds))
    minutes = max(1, round(s / 60))
    return f"{s} seconds" if s < 60 else "a minute" if minutes == 1 else f"{minutes} minutes"


# Objects allocated (net of those freed) before the youngest generation is collected (CPython's
# default: 700). A push of 500 changes holds tens of thousands alive until its answer is sent,
# nearly all freed by reference counting; collecting every 700 walked the batch's live objects
# again and again (3.8 % of a push's instructions), every 10,000 still 2.4 %: at 100,000 a push
# of 500 runs no collection at all (docs/performance.md, sync rounds eight and thirteen). What a
# cycle leaves waits for at most 100,000 objects, a few megabytes.
GC_YOUNG_THRESHOLD = 100_000


def freeze_heap() -> None:
    """Move everything alive at start-up (modules, routes, templates) out of the garbage
    collector's sight: a push allocates thousands of objects a batch, and every full
    collection would otherwise walk the whole start-up heap again (docs/performance.md); and
    collect the youngest generation less often (``GC_YOUNG_THRESHOLD``)."""
    gc.collect()
    gc.freeze()
    _young, older, oldest = gc.get_threshold()
    gc.set_threshold(GC_YOUNG_THRESHOLD, older, oldest)


def die_with_parent(parent_pid: int) -> None:
    """End this process when ``parent_pid`` (the process that started it) ends (Linux:
    PR_SET_PDEATHSIG, set by the child itself, so the parent needs no ``preexec_fn`` between
    fork and exec, which is unsafe in a threaded server). Exits at once if the parent is
    already gone."""
    import os
    import signal

    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != parent_pid:
        os._exit(1)
