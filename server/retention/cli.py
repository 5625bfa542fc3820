"""``doorstep retention apply [--apply]`` (docs/retention.md): registered by ``server/cli.py``."""
from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Callable
from typing import Any

from ..config import Settings
from ..state import open_state
from ..storage import Busy
from ..util import today, utcnow


def add_parsers(sub: Any) -> None:
    ret = sub.add_parser("retention", help="remove what is past its retention period (docs/retention.md)")
    actions = ret.add_subparsers(dest="action", required=True)
    ap = actions.add_parser("apply", help="report what is due per kind and why (a dry run, changing nothing); "
                            "with --apply, remove it")
    ap.add_argument("--apply", action="store_true", dest="do_apply",
                    help="remove what is due, in short transactions, and audit it")


def _apply(settings: Settings, args: argparse.Namespace) -> int:
    from .apply import run

    st = open_state(settings)
    day = today()  # DOORSTEP_TODAY pins it
    now = dt.datetime.combine(day, utcnow().time(), tzinfo=dt.timezone.utc)
    try:
        outcome = run(st, settings.retention, day, now, apply=args.do_apply)
    except Busy:
        print("error: the database stayed busy (a long import?); run it again later: what was removed "
              "stays removed, the rest is still due", file=sys.stderr)
        return 3
    finally:
        st.db.close()
    for line in outcome.lines:
        print(line)
    if not outcome.applied:
        print("dry run: nothing changed; repeat with --apply to remove what is due")
        return 0
    for kind, counts in outcome.removed.items():
        detail = ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "nothing"
        print(f"removed {kind}: {detail}")
    print("recorded in the audit log (retention_apply)", file=sys.stderr)
    return 0


HANDLERS: dict[str, Callable[[Settings, argparse.Namespace], int]] = {"retention": _apply}
