"""A record as a pull item (PROTOCOL.md §4.1): the one builder of it.

``pull_item`` encodes the item as JSON bytes: the record's stored fields
spliced with the server's stamps (``id``, ``created_at``, ``created_by``,
``updated_at``, ``updated_by``), which validation never lets into the fields.
Should one be there anyway, the stamp wins in place, as in
``Record.public_fields``. The SQLite store encodes it at every save and a pull
copies the bytes; ``record_item`` is the same item decoded, for a store that
hands out dicts (the memory store) and for records read whole.
"""
from __future__ import annotations

from typing import Any

import orjson

from .types import Record

_dumps = orjson.dumps


def pull_item(r: Record, data: bytes | None = None) -> bytes:
    """The pull item's JSON; ``data`` is ``orjson.dumps(r.fields)`` when the caller has it already."""
    if r.deleted:
        return _dumps({"type": r.type, "id": r.id, "version": r.version, "deleted": True, "fields": {}})
    head = _dumps({"type": r.type, "id": r.id, "version": r.version, "deleted": False})[:-1]
    f = r.fields
    if "id" in f or "created_at" in f or "created_by" in f or "updated_at" in f or "updated_by" in f:
        return head + b',"fields":' + _dumps(r.public_fields()) + b"}"
    stamps = _dumps({"id": r.id, "created_at": r.created_at, "created_by": r.created_by,
                     "updated_at": r.updated_at, "updated_by": r.updated_by})
    if not f:
        return head + b',"fields":' + stamps + b"}"
    return head + b',"fields":' + (data or _dumps(f))[:-1] + b"," + stamps[1:] + b"}"


def record_item(r: Record) -> dict[str, Any]:
    """``pull_item`` decoded: ``{"type", "id", "version", "deleted", "fields"}``."""
    return orjson.loads(pull_item(r))
