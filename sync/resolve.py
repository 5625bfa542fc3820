"""Conflict resolution and other server-side writes that bypass the HLC race."""
from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from . import hlc as _hlc
from .checks import Invalid
from .clock_mark import server_stamp
from .errors import NotFound, RequestInvalid
from .merge import DELETED, force_write
from .hlc import utc_iso
from .schema import ENTITY_TYPES, check_complete
from .store import Store, Txn
from .types import Actor, AppliedChange, Conflict, Record


NO_VALUE: Any = object()  # resolve_in's ``value`` when the office chose a side


def resolve_conflict(store: Store, actor: Actor, conflict_id: str, choose: Any, clock: _hlc.Clock,
                     now: dt.datetime | None = None, *, value: Any = NO_VALUE) -> Conflict:
    """``resolve_in`` in a write transaction of its own."""
    with store.write() as txn:
        return resolve_in(txn, actor, conflict_id, choose, clock, now, value=value)


def resolve_in(txn: Txn, actor: Actor, conflict_id: str, choose: Any, clock: _hlc.Clock,
               now: dt.datetime | None = None, *, value: Any = NO_VALUE) -> Conflict:
    """Apply the chosen side — or ``value``, a combined value the office wrote (``choice``
    ``"combined"``) — as a new change, pulled by everyone in scope, and close the conflict;
    inside the caller's write transaction."""
    if value is not NO_VALUE:
        if choose not in (None, "combined"):
            raise RequestInvalid("send either choose or value, not both", {"field": "choose"})
        choose = "combined"
    elif choose not in ("kept", "lost"):
        raise RequestInvalid("choose must be \"kept\" or \"lost\"", {"field": "choose"})
    now_iso = utc_iso(now or dt.datetime.now(dt.timezone.utc))
    conflict = txn.get_conflict(conflict_id)
    if conflict is None:
        raise NotFound(f"no conflict {conflict_id}")
    if conflict.status != "open":
        raise RequestInvalid("this conflict is already resolved",
                             {"status": conflict.status, "choice": conflict.choice})
    record = txn.get(conflict.type, [conflict.entity_id]).get(conflict.entity_id)
    if record is None:
        raise NotFound(f"no {conflict.type} {conflict.entity_id}")
    if choose == "combined":
        value = _combined(conflict, record, value)
    else:
        value = (conflict.kept if choose == "kept" else conflict.lost)["value"]
    stamp = server_stamp(txn, clock)
    if conflict.field is None:
        _apply_record_choice(record, value, stamp, actor.user_id)
    else:
        force_write(record, {conflict.field: value}, stamp, actor.user_id)
    written = value if conflict.field is None else {conflict.field: value}
    _commit(txn, record, actor, stamp, now_iso, written, f"resolve:{conflict.id}")
    conflict.status, conflict.choice = "resolved", choose
    conflict.resolved_at, conflict.resolved_by = now_iso, actor.user_id
    txn.update_conflict(conflict)
    return conflict


def _combined(conflict: Conflict, record: Record, value: Any) -> Any:
    """A combined value, checked as a push's would be: the field's rule, then the rules on the
    whole record as it would be after it."""
    if conflict.field is None:
        raise RequestInvalid("a whole-record conflict (a delete) is resolved by choosing a side",
                             {"field": "value"})
    spec = ENTITY_TYPES[conflict.type].get(conflict.field)
    if spec is None:
        raise RequestInvalid(f"{conflict.type} has no field '{conflict.field}'", {"field": "value"})
    try:
        clean = spec.check(value)
    except Invalid as exc:
        raise RequestInvalid(f"value: {conflict.field} {exc}", {"field": "value"}) from None
    errors = check_complete(conflict.type, {**record.fields, conflict.field: clean})
    if errors:
        raise RequestInvalid(f"value: {errors[0].message}", {"field": "value"})
    return clean


def _apply_record_choice(record: Record, value: dict[str, Any], stamp: str, by: str) -> None:
    fields = {k: v for k, v in value.items() if k != DELETED}
    if value.get(DELETED):
        record.deleted, record.deleted_hlc = True, stamp
        record.flags["deleted_by"] = by
        record.version += 1
    else:
        record.deleted, record.deleted_hlc = False, None
        if fields:
            force_write(record, fields, stamp, by)
        else:
            record.version += 1


def system_write(txn: Txn, actor: Actor, type_: str, id_: str, fields: dict[str, Any],
                 clock: _hlc.Clock, now_iso: str, reason: str) -> Record:
    """Write server-computed fields (e.g. the register's) as a new version."""
    record = txn.get(type_, [id_]).get(id_)
    if record is None:
        raise NotFound(f"no {type_} {id_}")
    stamp = server_stamp(txn, clock)
    force_write(record, fields, stamp, actor.user_id)
    _commit(txn, record, actor, stamp, now_iso, fields, f"{reason}:{uuid.uuid4()}")
    return record


def _commit(txn: Txn, record: Record, actor: Actor, stamp: str, now_iso: str,
            written: dict[str, Any], change_id: str) -> None:
    seq = txn.max_seq() + 1
    record.seq = seq
    record.updated_at, record.updated_by = now_iso, actor.user_id
    txn.save([record])
    txn.log_changes([AppliedChange(change_id, record.type, record.id, record.version, "applied",
                                   actor.user_id, actor.device_id, now_iso, stamp, written, [], seq)])
    txn.set_max_seq(seq)
