"""Opaque cursors for collections: ``{"items": [...], "next": <cursor or null>}``."""
from __future__ import annotations

import base64
import binascii
from typing import Any

import orjson

from .errors import invalid


def encode(value: Any) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(value)).decode().rstrip("=")


def decode(cursor: str | None) -> Any:
    if not cursor:
        return None
    try:
        return orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, binascii.Error, orjson.JSONDecodeError):
        raise invalid("cursor is not one this server gave out", field="cursor") from None


def page(items: list[Any], limit: int, key: Any) -> dict[str, Any]:
    """``items`` was fetched with limit + 1; ``key(item)`` gives the next cursor's value."""
    more = len(items) > limit
    items = items[:limit]
    return {"items": items, "next": encode(key(items[-1])) if more and items else None}


def decode_text(cursor: str | None) -> str | None:
    """A cursor that holds a string (e.g. the last id of a page)."""
    value = decode(cursor)
    if value is not None and not isinstance(value, str):
        raise invalid("cursor is not one this server gave out", field="cursor")
    return value


def decode_position(cursor: str | None) -> int | None:
    """A cursor that holds a row position (a non-negative 64-bit integer)."""
    value = decode(cursor)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**63:
        raise invalid("cursor is not one this server gave out", field="cursor")
    return value
