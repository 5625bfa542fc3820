"""Parsing one change of a push batch into a ``Change`` (or its rejection)."""
from __future__ import annotations

from typing import Any, cast

from . import hlc
from .errors import ChangeError
from .schema import ENTITY_TYPES, is_uuid
from .types import Change, Result


_KEYS = frozenset({"change_id", "type", "id", "op", "fields", "base_version", "hlc"})


def parse_change(raw: Any) -> Change | Result:
    """A well-formed Change, or a rejected Result naming every problem."""
    if not isinstance(raw, dict):
        return _rejected(None, [ChangeError(None, "validation_failed", "a change must be an object")])
    change_id = raw.get("change_id")
    errors: list[ChangeError] = []
    if not is_uuid(change_id):
        errors.append(ChangeError("change_id", "validation_failed", "change_id must be a UUID"))
    type_ = raw.get("type")
    if not isinstance(type_, str) or type_ not in ENTITY_TYPES:
        errors.append(ChangeError("type", "unknown_type", f"unknown type {str(type_)[:40]!r}; known: "
                                  + ", ".join(ENTITY_TYPES)))
    if not is_uuid(raw.get("id")):
        errors.append(ChangeError("id", "validation_failed", "id must be a UUID"))
    op = raw.get("op")
    if op not in ("put", "delete"):
        errors.append(ChangeError("op", "validation_failed", "op must be put or delete"))
    fields = raw.get("fields", {})
    if fields is None:
        fields = {}
    if not isinstance(fields, dict):
        errors.append(ChangeError("fields", "validation_failed", "fields must be an object"))
    elif op == "delete" and fields:
        errors.append(ChangeError("fields", "validation_failed", "a delete carries no fields"))
    base = raw.get("base_version")
    if base is not None and (isinstance(base, bool) or not isinstance(base, int) or base < 0):
        errors.append(ChangeError("base_version", "validation_failed",
                                  "base_version must be null or a whole number >= 0"))
    stamp = raw.get("hlc")
    if not hlc.is_valid(stamp):
        errors.append(ChangeError("hlc", "validation_failed",
                                  "hlc must look like 001763799300000-000000-<node id>"))
    if not _KEYS.issuperset(raw):
        unknown = set(raw) - _KEYS
        errors.append(ChangeError(None, "validation_failed",
                                  "unknown keys: " + ", ".join(sorted(map(str, unknown))[:10])))
    echo = change_id if isinstance(change_id, str) and len(change_id) <= 100 else None
    if errors:
        return _rejected(echo, errors)
    # fields as sent: nothing changes them (validate_fields builds the clean copy)
    # every one of these was checked above to be a string (a UUID, a type, put or delete, a stamp)
    return Change(cast(str, change_id).lower(), cast(str, type_), raw["id"].lower(), cast(str, op), fields, base,
                  cast(str, stamp))


def _rejected(change_id: str | None, errors: list[ChangeError]) -> Result:
    return Result(change_id=change_id, status="rejected",
                  errors=[e.as_dict() for e in errors])
