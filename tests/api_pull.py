"""Pulling everything a signed-in API user may see (the test clients of tests/browser and
tests/office share it)."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx


def pull_all(get: Callable[[dict[str, Any]], httpx.Response]) -> dict[tuple[str, str], dict[str, Any]]:
    """Every change at its latest state, {(type, id): change}, page by page: ``get(params)`` asks
    ``GET /api/sync/pull`` with those query parameters."""
    out: dict[tuple[str, str], dict[str, Any]] = {}
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 5000}
        if cursor:
            params["cursor"] = cursor
        r = get(params)
        assert r.status_code == 200, r.text
        body = r.json()
        for ch in body["changes"]:
            out[(ch["type"], ch["id"])] = ch
        cursor = body["cursor"]
        if not body["has_more"]:
            return out
