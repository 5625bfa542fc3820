"""The kinds of field a declaration in ``sync/schema.py`` is written with, and their builders.

``sync/checks.py`` compiles a checker from each kind; ``sync/schema_export.py`` and
``server/openapi.py`` describe them to the phone and in the OpenAPI document.
"""
from __future__ import annotations

from typing import Any

# Field kinds. Each field is a dict: {"kind": ..., kind parameters..., "nullable": bool,
# "required": bool}. Parameters: string max/pattern/hint; integer and number min/max;
# enum enum (a name in ENUMS); list items/max_items/unique; object fields (each with
# its own "required"). Kinds without parameters: boolean, date (YYYY-MM-DD), timestamp
# (ISO 8601, normalised to UTC), date_or_time, clock_time (HH:MM), ref (a UUID).
KINDS = ("string", "integer", "number", "boolean", "enum", "date", "timestamp", "date_or_time",
         "clock_time", "ref", "list", "object")


def string(max_len: int, **more: Any) -> dict[str, Any]:
    return {"kind": "string", "max": max_len, **more}


def enum_of(name: str) -> dict[str, Any]:
    return {"kind": "enum", "enum": name}


def number(lo: int | float, hi: int | float, kind: str = "number") -> dict[str, Any]:
    return {"kind": kind, "min": lo, "max": hi}


def plain(kind: str) -> dict[str, Any]:
    return {"kind": kind}


def list_of(items: dict[str, Any], max_items: int, unique: bool = False) -> dict[str, Any]:
    return {"kind": "list", "items": items, "max_items": max_items, "unique": unique}


def obj(**fields: dict[str, Any]) -> dict[str, Any]:
    """A JSON object with these keys and no others; a key that is not required may be absent or null."""
    return {"kind": "object", "fields": fields}


def opt(spec: dict[str, Any]) -> dict[str, Any]:
    """May be null."""
    return {**spec, "nullable": True}


def req(spec: dict[str, Any]) -> dict[str, Any]:
    """Must be present (and not null) when the record is created."""
    return {**spec, "required": True}


NAME = string(200)
TEXT = string(10_000)
REF = plain("ref")
DATE = plain("date")
TIME = plain("timestamp")
BOOL = plain("boolean")
LAT = number(-90, 90)
LON = number(-180, 180)
COUNT = number(0, 10_000, "integer")
