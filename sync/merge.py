"""Field-level merge by HLC (PROTOCOL.md §5).

Pure functions over one ``Record``: they mutate the record in place and say
what was written, what was lost, and which conflicts to record.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from . import hlc as _hlc
from .types import FieldMeta, Record

DELETED = "_deleted"


@dataclass
class Side:
    value: Any
    by: str | None
    hlc: str | None

    def as_dict(self) -> dict[str, Any]:
        return {"value": self.value, "by": self.by, "hlc": self.hlc}


@dataclass
class ConflictDraft:
    field: str | None
    kept: Side
    lost: Side


class MergeOutcome:
    """What a merge wrote (field: value), lost (field names) and which conflicts it found."""

    __slots__ = ("written", "lost", "conflicts")

    def __init__(self, written: dict[str, Any] | None = None) -> None:
        self.written: dict[str, Any] = {} if written is None else written
        self.lost: list[str] = []
        self.conflicts: list[ConflictDraft] = []

    @property
    def changed(self) -> bool:
        return bool(self.written)


def _node(stamp: str) -> str:
    return stamp.rsplit("-", 1)[-1] if stamp.count("-") >= 2 else ""


def _same_device(a: str, b: str) -> bool:
    return _node(a) == _node(b)


def merge_put(record: Record, fields: dict[str, Any], stamp: str, base_version: int | None,
              by: str) -> MergeOutcome:
    """Write each field whose stamp is newer than the field's last write.

    A write is concurrent with a field's last write when its author had not
    seen that write (``base_version`` older than the version it made) and it
    came from another device. Concurrent writes of different values record a
    conflict whichever wins; a losing value that differs always does.
    """
    if not record.meta and not record.deleted:  # nothing written yet (a new record): all of it is
        if fields:
            record.fields.update(fields)
            record.meta = dict.fromkeys(fields, FieldMeta(stamp, record.version + 1, by))
            record.version += 1
        return MergeOutcome(dict(fields))
    out = MergeOutcome()
    if record.deleted:
        _resurrect_or_lose(record, fields, stamp, by, out)
        if out.lost:
            return out
    new_version = record.version + 1
    written = FieldMeta(stamp, new_version, by)  # the same last write for every field it writes
    for name, value in fields.items():
        meta = record.meta.get(name)
        if meta is None:
            _write(record, name, value, written, out)
            continue
        current = record.fields.get(name)
        other_device = not _same_device(meta.hlc, stamp)
        unseen = base_version is None or base_version < meta.version
        if stamp > meta.hlc:
            if current == value:  # no conflict; remember a device whose equal value this one never saw
                shared = _unseen_shared(meta, stamp, base_version, other_device and unseen)
                _write(record, name, value, written if shared is None else
                       FieldMeta(stamp, new_version, by, shared), out)
                continue
            _write(record, name, value, written, out)
            if other_device and unseen:
                out.conflicts.append(ConflictDraft(name, Side(value, by, stamp),
                                                   Side(current, meta.by, meta.hlc)))
            elif _unseen_shared(meta, stamp, base_version, False) is not None:
                # the field's last write took over this value from another device with an equal
                # write; this change had not seen that device's write either: it replaces it
                s = meta.shared
                assert s is not None  # _unseen_shared found it
                out.conflicts.append(ConflictDraft(name, Side(value, by, stamp), Side(current, s.by, s.hlc)))
        else:
            out.lost.append(name)
            if other_device and current != value:
                out.conflicts.append(ConflictDraft(name, Side(current, meta.by, meta.hlc),
                                                   Side(value, by, stamp)))
    if out.written:
        record.version = new_version
    return out


def _unseen_shared(meta: FieldMeta, stamp: str, base_version: int | None, takeover: bool) -> FieldMeta | None:
    """The other device's write of a field's current value that a write stamped ``stamp`` (made
    on ``base_version``) has not seen: ``meta`` itself when this write takes it over
    (``takeover``), else the equal write ``meta`` took over (``meta.shared``), if any."""
    if takeover:
        return FieldMeta(meta.hlc, meta.version, meta.by)
    s = meta.shared
    if s is None or _same_device(s.hlc, stamp) or (base_version is not None and base_version >= s.version):
        return None
    return s


def _write(record: Record, name: str, value: Any, meta: FieldMeta, out: MergeOutcome) -> None:
    record.fields[name] = value
    record.meta[name] = meta
    out.written[name] = value


def _resurrect_or_lose(record: Record, fields: dict[str, Any], stamp: str, by: str,
                       out: MergeOutcome) -> None:
    deleted = Side({DELETED: True}, record.flags.get("deleted_by"), record.deleted_hlc)
    if record.deleted_hlc is not None and stamp > record.deleted_hlc:
        record.deleted = False
        record.deleted_hlc = None
        out.conflicts.append(ConflictDraft(None, Side({DELETED: False, **fields}, by, stamp), deleted))
    else:
        out.lost.extend(fields)
        out.lost.append(DELETED)
        out.conflicts.append(ConflictDraft(None, deleted, Side({DELETED: False, **fields}, by, stamp)))


def merge_delete(record: Record, stamp: str, by: str) -> MergeOutcome:
    """Tombstone the record unless a field was written after the delete's stamp."""
    out = MergeOutcome()
    if record.deleted:
        return out
    newer = record.latest_hlc()
    if newer > stamp:
        out.lost.append(DELETED)
        out.conflicts.append(ConflictDraft(None, Side({DELETED: False}, record.updated_by, newer),
                                           Side({DELETED: True}, by, stamp)))
        return out
    record.deleted = True
    record.deleted_hlc = stamp
    record.flags["deleted_by"] = by
    record.version += 1
    out.written[DELETED] = True
    return out


def force_write(record: Record, fields: dict[str, Any], stamp: str, by: str) -> None:
    """A server-side write (register, conflict resolution): newest stamp wins."""
    version = record.version + 1
    written = FieldMeta(stamp, version, by)
    for name, value in fields.items():
        record.fields[name] = value
        record.meta[name] = written
    record.version = version


def is_newer(a: str, b: str) -> bool:
    return _hlc.parse(a) > _hlc.parse(b)
