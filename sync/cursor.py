"""Opaque pull cursors: ``v1.<sequence number>`` in URL-safe base64.

A page of a snapshot (a pull with no cursor, and the pages that follow it) carries the
snapshot's start as well, ``v1.<seq>.<basis>``: a device part way through a snapshot holds the
records as of that start, so the compaction horizon (docs/retention.md) is compared with the
basis, not with the position of the page's last record.
"""
from __future__ import annotations

import base64
import binascii

from .errors import RequestInvalid


def encode(seq: int, basis: int | None = None) -> str:
    raw = f"v1.{seq}" if basis is None else f"v1.{seq}.{basis}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode(cursor: str | None) -> int:
    return position(cursor)[0]


def position(cursor: str | None) -> tuple[int, int | None]:
    """``(seq, basis)``: where the next page starts, and the snapshot start of a snapshot page
    (None for an ordinary cursor, and for no cursor: ``(0, None)``)."""
    if cursor is None or cursor == "":
        return 0, None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
        prefix, _, rest = raw.partition(".")
        number, _, basis = rest.partition(".")
        if prefix != "v1" or not _digits(number) or (basis and not _digits(basis)) or rest.endswith("."):
            raise ValueError
        return int(number), (int(basis) if basis else None)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise RequestInvalid("cursor is not one this server gave out",
                             {"field": "cursor"}) from None


def _digits(text: str) -> bool:
    return text.isdigit() and text.isascii() and len(text) <= 18
