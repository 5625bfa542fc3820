"""Shared data types of the sync engine; every module imports them from here.

The ones made for every change (a record, its field stamps, the change, its result, its log row)
have ``__slots__``: built two to three times faster than with an instance dict (the push path
makes five a change). They also write their own ``__init__`` (``init=False``): the one
``dataclass`` generates is interpreted even where mypyc compiles the class (sync/native.py), and
cost the compiled push about 15,000 instructions a change."""
from __future__ import annotations

from dataclasses import dataclass, field, fields as _fields
from typing import Any

OFFICER = "officer"
OFFICE = "office"
ADMIN = "admin"
ROLES = (OFFICER, OFFICE, ADMIN)

SYSTEM_USER = "system"


def _reduce(obj: Any) -> tuple[Any, tuple[Any, ...]]:
    """How copy and pickle rebuild a class with its own ``__init__`` (its parameters are its
    fields, in order): compiled by mypyc, such a class cannot be made without them."""
    return obj.__class__, tuple(getattr(obj, f.name) for f in _fields(obj))


@dataclass(frozen=True)
class Actor:
    """Who is pushing or pulling: a user on a device."""

    user_id: str
    role: str
    device_id: str | None = None

    @property
    def is_office(self) -> bool:
        return self.role in (OFFICE, ADMIN)


@dataclass(slots=True, init=False)
class FieldMeta:
    """The last write of one field: its HLC, the entity version it made, who; and ``shared``,
    the other device's write it took over with an equal value without having seen it (merge.py:
    a later change by this write's device that had still not seen ``shared`` replaces that
    device's value too, so it records a conflict)."""

    hlc: str
    version: int
    by: str
    shared: FieldMeta | None = None

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        return _reduce(self)

    def __init__(self, hlc: str, version: int, by: str, shared: FieldMeta | None = None) -> None:
        self.hlc = hlc
        self.version = version
        self.by = by
        self.shared = shared

    def as_list(self) -> list[Any]:
        s = self.shared
        return [self.hlc, self.version, self.by] if s is None else \
            [self.hlc, self.version, self.by, s.hlc, s.version, s.by]

    @classmethod
    def from_list(cls, raw: list[Any]) -> FieldMeta:
        shared = cls(raw[3], int(raw[4]), raw[5]) if len(raw) >= 6 else None
        return cls(raw[0], int(raw[1]), raw[2], shared)


@dataclass(slots=True, init=False)
class Record:
    type: str
    id: str
    fields: dict[str, Any] = field(default_factory=dict)
    meta: dict[str, FieldMeta] = field(default_factory=dict)
    version: int = 0
    seq: int = 0
    deleted: bool = False
    deleted_hlc: str | None = None
    created_at: str | None = None
    created_by: str | None = None
    updated_at: str | None = None
    updated_by: str | None = None
    flags: dict[str, Any] = field(default_factory=dict)
    # the ``seq`` of the change that created it (None: created before stores kept it); a
    # store finds that change through it (server/sqlite_txn.py: not through an index)
    created_seq: int | None = None

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        return _reduce(self)

    def __init__(self, type: str, id: str, fields: dict[str, Any] | None = None,
                 meta: dict[str, FieldMeta] | None = None, version: int = 0, seq: int = 0,
                 deleted: bool = False, deleted_hlc: str | None = None, created_at: str | None = None,
                 created_by: str | None = None, updated_at: str | None = None,
                 updated_by: str | None = None, flags: dict[str, Any] | None = None,
                 created_seq: int | None = None) -> None:
        self.type = type
        self.id = id
        self.fields = {} if fields is None else fields
        self.meta = {} if meta is None else meta
        self.version = version
        self.seq = seq
        self.deleted = deleted
        self.deleted_hlc = deleted_hlc
        self.created_at = created_at
        self.created_by = created_by
        self.updated_at = updated_at
        self.updated_by = updated_by
        self.flags = {} if flags is None else flags
        self.created_seq = created_seq

    def latest_hlc(self) -> str:
        return max((m.hlc for m in self.meta.values()), default="")

    def public_fields(self) -> dict[str, Any]:
        out = dict(self.fields)
        out["id"] = self.id
        out["created_at"] = self.created_at
        out["created_by"] = self.created_by
        out["updated_at"] = self.updated_at
        out["updated_by"] = self.updated_by
        return out


@dataclass(slots=True, init=False)
class Change:
    change_id: str
    type: str
    id: str
    op: str
    fields: dict[str, Any]
    base_version: int | None
    hlc: str

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        return _reduce(self)

    def __init__(self, change_id: str, type: str, id: str, op: str, fields: dict[str, Any],
                 base_version: int | None, hlc: str) -> None:
        self.change_id = change_id
        self.type = type
        self.id = id
        self.op = op
        self.fields = fields
        self.base_version = base_version
        self.hlc = hlc


@dataclass(slots=True, init=False)
class Result:
    change_id: str | None
    status: str  # applied | merged | rejected | duplicate
    version: int | None = None
    errors: list[dict[str, Any]] = field(default_factory=list)
    lost_fields: list[str] = field(default_factory=list)
    clock_skew: bool = False

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        return _reduce(self)

    def __init__(self, change_id: str | None, status: str, version: int | None = None,
                 errors: list[dict[str, Any]] | None = None, lost_fields: list[str] | None = None,
                 clock_skew: bool = False) -> None:
        self.change_id = change_id
        self.status = status
        self.version = version
        self.errors = [] if errors is None else errors
        self.lost_fields = [] if lost_fields is None else lost_fields
        self.clock_skew = clock_skew

    def as_dict(self) -> dict[str, Any]:
        if self.clock_skew:
            return {"change_id": self.change_id, "status": self.status, "version": self.version,
                    "errors": self.errors, "lost_fields": self.lost_fields, "clock_skew": True}
        return {"change_id": self.change_id, "status": self.status, "version": self.version,
                "errors": self.errors, "lost_fields": self.lost_fields}


@dataclass(slots=True, init=False)
class AppliedChange:
    """One row of the change log: an applied change, its effect and origin."""

    change_id: str
    type: str
    entity_id: str
    version: int
    status: str
    user_id: str
    device_id: str | None
    received_at: str
    hlc: str
    fields: dict[str, Any]
    lost_fields: list[str]
    seq: int = 0
    created: bool = False  # the change that created the record (its ``created_seq``)

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        return _reduce(self)

    def __init__(self, change_id: str, type: str, entity_id: str, version: int, status: str,
                 user_id: str, device_id: str | None, received_at: str, hlc: str,
                 fields: dict[str, Any], lost_fields: list[str], seq: int = 0,
                 created: bool = False) -> None:
        self.change_id = change_id
        self.type = type
        self.entity_id = entity_id
        self.version = version
        self.status = status
        self.user_id = user_id
        self.device_id = device_id
        self.received_at = received_at
        self.hlc = hlc
        self.fields = fields
        self.lost_fields = lost_fields
        self.seq = seq
        self.created = created


@dataclass(slots=True)
class Conflict:
    id: str
    type: str
    entity_id: str
    field: str | None
    kept: dict[str, Any]
    lost: dict[str, Any]
    status: str = "open"
    created_at: str | None = None
    resolved_at: str | None = None
    resolved_by: str | None = None
    choice: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": self.type,
            "entity_id": self.entity_id,
            "field": self.field,
            "kept": self.kept,
            "lost": self.lost,
            "status": self.status,
            "created_at": self.created_at,
            "resolved_at": self.resolved_at,
            "resolved_by": self.resolved_by,
            "choice": self.choice,
        }


@dataclass(slots=True)
class ScopeEvent:
    """An entity entered or left one user's scope at a sequence number."""

    user_id: str
    type: str
    entity_id: str
    kind: str  # entered | removed
    seq: int = 0
