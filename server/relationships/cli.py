"""``doorstep messages send`` and ``doorstep messages export`` (docs/relationships.md):
registered by ``server/cli.py``. Run ``send`` from a timer every few minutes where GOV.UK
Notify is set up: it sends what is due, retries what Notify could not take yet, and asks Notify
how earlier texts went."""
from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..config import Settings
from ..state import open_state
from ..storage import Busy
from . import sender
from .notify import NotifyConfig


def add_parsers(sub: Any) -> None:
    msg = sub.add_parser("messages", help="praise texts to families (docs/relationships.md)")
    actions = msg.add_subparsers(dest="action", required=True)
    actions.add_parser("send", help="send due texts through GOV.UK Notify and update delivery statuses")
    ex = actions.add_parser("export", help="write the texts waiting to be sent as CSV for a school's texting "
                            "system, and mark them exported")
    ex.add_argument("--out", required=True, help="the CSV file to write")


def _run(settings: Settings, args: argparse.Namespace) -> int:
    config = NotifyConfig.from_env()
    if args.action == "send" and config is None:
        print("error: GOV.UK Notify is not set up (DOORSTEP_NOTIFY_API_KEY or _FILE, and "
              "DOORSTEP_NOTIFY_SMS_TEMPLATE_ID); use 'doorstep messages export' instead", file=sys.stderr)
        return 2
    st = open_state(settings)
    try:
        if args.action == "send":
            assert config is not None
            counts = sender.send_due(st.db, config)
            print(", ".join(f"{k.replace('_', ' ')} {v}" for k, v in counts.items()))
        else:
            text, count = sender.export_csv(st.db, "system")
            Path(args.out).write_text(text, encoding="utf-8-sig")
            print(f"exported {count} text{'s' if count != 1 else ''} to {args.out}")
    except Busy:
        print("error: the database stayed busy; run it again later", file=sys.stderr)
        return 3
    finally:
        st.db.close()
    return 0


HANDLERS: dict[str, Callable[[Settings, argparse.Namespace], int]] = {"messages": _run}
