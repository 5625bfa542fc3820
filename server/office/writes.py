"""Office writes go through the sync engine's push, like any device's.

So scope events (a reassigned case leaves the old officer's devices), the
escalation ladder's rule, merge and conflicts, and the change log all apply.
Each office user writes with their own HLC node id, ``office-<user id>``,
kept ahead of the server's clock.
"""
from __future__ import annotations

import threading
import uuid
from typing import Any

import sync
from sync import Actor, Clock, server_stamp

from .. import audit
from ..identity.accounts import User
from ..state import AppState
from . import labels

_clocks: dict[str, Clock] = {}
_lock = threading.Lock()

ERROR_WORDS = {
    "forbidden": "Your role may not make this change.",
    "immutable": "This cannot change once set.",
}


def _clock(user_id: str) -> Clock:
    with _lock:
        clock = _clocks.get(user_id)
        if clock is None:
            clock = _clocks[user_id] = Clock(f"office-{user_id}")
        return clock


def put(st: AppState, user: User, type_: str, id_: str, fields: dict[str, Any],
        base_version: int | None) -> sync.Result:
    """Push one ``put`` as this office user; the result says applied, merged or rejected (with errors)."""
    clock = _clock(user.id)
    with st.db.write() as txn:
        # stamped inside the transaction: later than every write committed before it, whichever
        # server process made that (sync/clock_mark.py)
        clock.receive(server_stamp(txn, st.clock))
        change = {"change_id": str(uuid.uuid4()), "type": type_, "id": id_, "op": "put", "fields": fields,
                  "base_version": base_version, "hlc": clock.send()}
        outcome = sync.apply(txn, sync.prepare(Actor(user.id, user.role, None), [change]), st.clock)
        audit.record(txn, user.id, None, "push", [i for _, i in outcome.touched], {"changes": 1, "via": "office"})
    result = outcome.results[0]
    clock.receive(outcome.server_hlc)
    return result


def problems(result: sync.Result) -> list[str]:
    """Why a change did not (fully) take, in sentences; empty when it did."""
    if result.status == "rejected":
        return error_words(result)
    if result.lost_fields:
        return [("Someone changed this at the same moment and their newer value was kept; "
                 "the conflict queue has both values.")]
    return []


def error_words(result: sync.Result) -> list[str]:
    """A rejected result's errors as sentences for the page."""
    out = []
    for err in result.errors:
        code, message = err.get("code"), err.get("message", "")
        if code == "support_not_tried":
            out.append(labels.stage_words(message) + ".")
        elif code == "not_found" and err.get("field") == "assigned_officer_id":
            out.append("Choose an officer: that account is not an active officer.")
        elif code in ERROR_WORDS:
            out.append(ERROR_WORDS[code] + (f" ({message})" if message else ""))
        else:
            out.append(labels.stage_words(message) if message else "The change was refused.")
    return out or ["The change was refused."]
