"""Pull: what changed in a user's scope since a cursor (PROTOCOL.md §4)."""
from __future__ import annotations

import datetime as dt
import operator
from dataclasses import dataclass, field
from typing import Any

from . import cursor as _cursor
from . import hlc as _hlc
from .clock_mark import catch_up
from .hlc import utc_iso
from .pull_item import record_item
from .scope import TYPES, everything, officer_scope
from .store import Store
from .types import Actor

DEFAULT_LIMIT = 500
MAX_LIMIT = 5000
_first = operator.itemgetter(0)


@dataclass
class PullOutcome:
    body: dict[str, Any]
    touched: list[tuple[str, str]] = field(default_factory=list)
    # the position the device holds once it has this page (its cursor's, or a snapshot's start):
    # what the compaction horizon may not pass while the device is active; None after a reset
    held: int | None = None


def clamp_limit(limit: int | None) -> int:
    if limit is None:
        return DEFAULT_LIMIT
    return max(1, min(limit, MAX_LIMIT))


def pull(store: Store, actor: Actor, cursor: str | None, limit: int | None, clock: _hlc.Clock,
         now: dt.datetime | None = None) -> PullOutcome:
    """One page of changes since ``cursor`` (everything in scope when None)."""
    since, basis = _cursor.position(cursor)
    limit = clamp_limit(limit)
    now = now or dt.datetime.now(dt.timezone.utc)
    with store.read() as txn:
        catch_up(txn, clock)  # later than every stamp this snapshot holds (sync/clock_mark.py)
        meta = {"server_hlc": clock.send(), "server_time": utc_iso(now)}
        held = since if basis is None else basis
        if since and held < txn.horizon():
            return PullOutcome({"changes": [], "reset": True, "cursor": None, "has_more": False, **meta})
        top = txn.max_seq()
        if not since:
            held = basis = top  # a snapshot: its pages hold the records as of now
        scope = everything(actor.user_id) if actor.is_office else officer_scope(txn, actor.user_id)
        # (seq, type, id, item) candidates; each source gives its first limit + 1 in seq order
        found: list[tuple[int, str, str, Any]] = []
        for type_ in TYPES:
            found += txn.changed_items(type_, since, limit + 1, scope.filter(type_), include_deleted=since > 0)
        if since and not scope.everything:
            events = txn.scope_events_since(actor.user_id, since, limit + 1)
            wanted: dict[str, set[str]] = {}
            for e in events:
                wanted.setdefault(e.type, set()).add(e.entity_id)
            current = {t: txn.get(t, ids) for t, ids in wanted.items()}
            for e in events:
                record = current[e.type].get(e.entity_id)
                if record is not None and not record.deleted and scope.contains(record):
                    if record.seq > since:
                        continue  # its own change is (or will be) delivered after the cursor
                    found.append((e.seq, e.type, e.entity_id, record_item(record)))
                else:
                    found.append((e.seq, e.type, e.entity_id,
                                  {"type": e.type, "id": e.entity_id, "removed": True}))
        found.sort(key=_first)
        has_more = len(found) > limit
        page = found[:limit]
        # a snapshot's pages carry its start (sync/cursor.py); its last page, an ordinary cursor
        next_cursor = _cursor.encode(page[-1][0], basis) if has_more else _cursor.encode(max(top, since))
        changes = [item for _, _, _, item in page]
    touched = [(t, i) for _, t, i, _ in page]
    return PullOutcome({"changes": changes, "cursor": next_cursor, "has_more": has_more, **meta}, touched,
                       held)
