"""Opaque pull cursors: ``v1.<sequence number>`` in URL-safe base64."""
from __future__ import annotations

import base64
import binascii

from .errors import RequestInvalid


def encode(seq: int) -> str:
    return base64.urlsafe_b64encode(f"v1.{seq}".encode()).decode().rstrip("=")


def decode(cursor: str | None) -> int:
    if cursor is None or cursor == "":
        return 0
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
        prefix, _, number = raw.partition(".")
        if prefix != "v1" or not number.isdigit() or len(number) > 18:
            raise ValueError
        return int(number)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise RequestInvalid("cursor is not one this server gave out",
                             {"field": "cursor"}) from None
