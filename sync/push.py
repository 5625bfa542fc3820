"""Push: a batch of changes in two steps (PROTOCOL.md §3, §5).

``prepare`` parses each change and checks its fields, which depends on
nothing stored: no store, no lock, so it runs while another batch is being
written. ``apply`` writes a prepared batch inside a write transaction the
caller opened, so whatever else the caller writes there (its audit record, the
device's last sync) lands with the batch or not at all, and the caller can undo
the whole batch by raising before the transaction ends. ``push`` does both for
a caller with nothing of its own to write.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from . import hlc as _hlc
from .batch import Batch, Checked
from .changes import parse_change
from .errors import ChangeError
from .hlc import utc_iso
from .notices import after_push
from .schema import SERVER_WRITTEN, validate_fields
from .store import Store, Txn
from .types import Actor, Change, Result

__all__ = ["Prepared", "PushOutcome", "apply", "prepare", "push", "utc_iso"]


@dataclass
class PushOutcome:
    results: list[Result]
    server_hlc: str
    server_time: str
    touched: list[tuple[str, str]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"results": [r.as_dict() for r in self.results], "server_hlc": self.server_hlc,
                "server_time": self.server_time}


@dataclass
class Prepared:
    """A batch parsed and its fields checked, ready to ``apply`` (once: applying uses it up)."""

    actor: Actor
    changes: list[Change | Result]  # a Result where the change was rejected while parsing
    checked: list[Checked | None]  # each put's ``validate_fields`` answer; None for the others
    spent: bool = False


def prepare(actor: Actor, changes: list[Any]) -> Prepared:
    """Parse every change of a batch and check its fields; reads nothing stored, takes no lock."""
    parsed = [_not_server_written(actor, parse_change(raw)) for raw in changes]
    checked = [validate_fields(c.type, c.fields) if isinstance(c, Change) and c.op == "put" else None
               for c in parsed]
    return Prepared(actor, parsed, checked)


def apply(txn: Txn, prepared: Prepared, clock: _hlc.Clock, now: dt.datetime | None = None) -> PushOutcome:
    """Apply a prepared batch inside the caller's write transaction; one result per change, in order."""
    if prepared.spent:
        raise ValueError("this batch was applied already: prepare it again")
    prepared.spent = True
    now = now or dt.datetime.now(dt.timezone.utc)
    batch = Batch(txn, prepared.actor, clock, now)
    batch.prefetch(*_changes_only(prepared))
    results = [batch.apply(c, v) if isinstance(c, Change) else c
               for c, v in zip(prepared.changes, prepared.checked)]
    server_hlc = batch.finish()  # later than every stamp of the batch, and the clock's mark
    # notices for officers whose values were set aside, reviews this batch answers (sync/notices.py)
    after_push(txn, prepared.actor, batch.conflicts, batch.log, server_hlc, batch.now)
    return PushOutcome(results, server_hlc, utc_iso(now), batch.touched)


def _changes_only(prepared: Prepared) -> tuple[list[Change], list[Checked | None]]:
    """The batch's well-formed changes, and their fields' checks."""
    pairs = [(c, v) for c, v in zip(prepared.changes, prepared.checked) if isinstance(c, Change)]
    return [c for c, _v in pairs], [v for _c, v in pairs]


def _not_server_written(actor: Actor, change: Change | Result) -> Change | Result:
    """Office and admin may not push the records only the server writes (``SERVER_WRITTEN``);
    an officer's changes to them are judged by the batch (their own notice's ``dismissed``)."""
    if isinstance(change, Change) and change.type in SERVER_WRITTEN and actor.is_office:
        error = ChangeError(None, "forbidden", f"{change.type} records are written by the server")
        return Result(change.change_id, "rejected", None, [error.as_dict()])
    return change


def push(store: Store, actor: Actor, changes: list[Any], clock: _hlc.Clock,
         now: dt.datetime | None = None) -> PushOutcome:
    """``prepare`` and ``apply`` in a write transaction of its own (tests, the demo loader);
    the server composes its own transaction around ``apply``."""
    prepared = prepare(actor, changes)
    with store.write() as txn:
        return apply(txn, prepared, clock, now)
