"""Value checkers: closures compiled once from a declared field (``sync/schema.py``).

Each checker takes a JSON value and returns it clean (a timestamp normalised to UTC, an id in
lower case) or raises ``Invalid`` with what is wrong; ``compile_check`` builds the checker for
one field's declaration. Nothing here knows the entity types.

The checker ``compile_check`` returns is one call deep for the values a phone sends (a string
within its length, an id, a time already in its normal form, a number in range, null where
allowed): it returns those itself and hands anything else to the kind's full checker below,
which words the error or normalises the value. It accepts only what the full checker returns
unchanged (tests/sync/test_checks.py holds the two to that), so there is one rule per kind.
"""
from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from typing import Any

Check = Callable[[Any], Any]  # returns the clean value or raises ValueError(message)


class Invalid(ValueError):
    pass


def string(max_len: int, pattern: str | None = None, hint: str = "") -> Check:
    rx = re.compile(pattern) if pattern else None

    def check(v: Any) -> str:
        if not isinstance(v, str):
            raise Invalid("must be a string")
        if len(v) > max_len:
            raise Invalid(f"must be at most {max_len} characters")
        if "\x00" in v:  # no text has it; PostgreSQL's text and jsonb cannot hold it
            raise Invalid("must not contain the NUL character (U+0000)")
        if rx is not None and not rx.fullmatch(v):
            raise Invalid(f"must look like {hint}")
        return v

    return check


def enum(values: tuple[str, ...]) -> Check:
    def check(v: Any) -> str:
        if v not in values:
            raise Invalid("must be one of " + ", ".join(values))
        return v

    return check


def boolean(v: Any) -> bool:
    if not isinstance(v, bool):
        raise Invalid("must be true or false")
    return v


def integer(lo: int | float, hi: int | float) -> Check:  # bounds kept as declared (an int stays an int)
    def check(v: Any) -> int:
        if isinstance(v, bool) or not isinstance(v, int):
            raise Invalid("must be a whole number")
        if not lo <= v <= hi:
            raise Invalid(f"must be between {lo} and {hi}")
        return v

    return check


def number(lo: int | float, hi: int | float) -> Check:
    def check(v: Any) -> float:
        if isinstance(v, bool) or not isinstance(v, (int, float)) or v != v:
            raise Invalid("must be a number")
        if not lo <= v <= hi:
            raise Invalid(f"must be between {lo} and {hi}")
        return float(v)

    return check


def date(v: Any) -> str:
    if not isinstance(v, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", v):
        raise Invalid("must be a date YYYY-MM-DD")
    try:
        dt.date.fromisoformat(v)
    except ValueError:
        raise Invalid("must be a real calendar date") from None
    return v


_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})")
# already normalised: whole seconds or milliseconds, in UTC
_CANONICAL = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?Z")


_fromiso = dt.datetime.fromisoformat


def timestamp(v: Any) -> str:
    """An ISO 8601 UTC time; normalised to ``YYYY-MM-DDTHH:MM:SS[.fff]Z``."""
    if not isinstance(v, str) or len(v) > 40 or not _TIMESTAMP.fullmatch(v):
        raise Invalid("must be an ISO 8601 UTC time such as 2026-11-22T08:15:00Z")
    try:
        parsed = dt.datetime.fromisoformat(v.replace("Z", "+00:00"))
    except ValueError:
        raise Invalid("must be a real time") from None
    if _CANONICAL.fullmatch(v) and (parsed.microsecond or len(v) == 20):
        return v  # the normal form already (".000" is written without its fraction)
    parsed = parsed.astimezone(dt.timezone.utc)
    text = parsed.strftime("%Y-%m-%dT%H:%M:%S")
    if parsed.microsecond:
        text += f".{parsed.microsecond // 1000:03d}"
    return text + "Z"


def date_or_time(v: Any) -> str:
    if isinstance(v, str) and len(v) == 10:
        return date(v)
    return timestamp(v)


def clock_time(v: Any) -> str:
    if not isinstance(v, str) or not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", v):
        raise Invalid("must be a time of day HH:MM")
    return v


def ref(v: Any) -> str:
    if not is_uuid(v):
        raise Invalid("must be an id (a UUID string)")
    return v.lower()


_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def is_uuid(v: Any) -> bool:
    """A UUID in its canonical 8-4-4-4-12 hex form (either case)."""
    return isinstance(v, str) and _UUID.fullmatch(v) is not None


def nullable(check: Check) -> Check:
    def inner(v: Any) -> Any:
        return None if v is None else check(v)

    return inner


def list_of(item: Check, max_items: int, unique: bool = False) -> Check:
    def check(v: Any) -> list[Any]:
        if not isinstance(v, list):
            raise Invalid("must be a list")
        if len(v) > max_items:
            raise Invalid(f"must have at most {max_items} items")
        out = []
        for i, x in enumerate(v):
            try:
                out.append(item(x))
            except Invalid as exc:
                raise Invalid(f"item {i + 1} {exc}") from None
        if unique and len(set(map(str, out))) != len(out):
            raise Invalid("must not repeat an item")
        return out

    return check


def obj(**fields: tuple[Check, bool]) -> Check:
    """A JSON object with the named keys (check, required); no others."""

    def check(v: Any) -> dict[str, Any]:
        if not isinstance(v, dict):
            raise Invalid("must be an object")
        extra = set(v) - set(fields)
        if extra:
            raise Invalid("has unknown keys: " + ", ".join(sorted(map(str, extra))))
        out: dict[str, Any] = {}
        for name, (c, required) in fields.items():
            if name not in v or v[name] is None:
                if required:
                    raise Invalid(f"needs '{name}'")
                out[name] = None
                continue
            try:
                out[name] = c(v[name])
            except Invalid as exc:
                raise Invalid(f"'{name}' {exc}") from None
        return out

    return check


_PLAIN: dict[str, Check] = {"boolean": boolean, "date": date, "timestamp": timestamp,
                            "date_or_time": date_or_time, "clock_time": clock_time, "ref": ref}


def full_check(spec: dict[str, Any], enums: Mapping[str, tuple[str, ...]]) -> Check:
    """The kind's full checker for one declared field (its ``nullable`` flag included): every
    error's wording and every normalisation; ``compile_check`` puts a quick accept before it."""
    kind = spec["kind"]
    check: Check
    if kind in _PLAIN:
        check = _PLAIN[kind]
    elif kind == "string":
        check = string(spec["max"], spec.get("pattern"), spec.get("hint", ""))
    elif kind == "enum":
        check = enum(enums[spec["enum"]])
    elif kind == "integer":
        check = integer(spec["min"], spec["max"])
    elif kind == "number":
        check = number(spec["min"], spec["max"])
    elif kind == "list":
        check = list_of(compile_check(spec["items"], enums), spec["max_items"], spec.get("unique", False))
    elif kind == "object":
        check = obj(**{name: (compile_check({**sub, "nullable": False}, enums), bool(sub.get("required")))
                       for name, sub in spec["fields"].items()})
    else:
        raise ValueError(f"unknown field kind {kind!r}")
    return nullable(check) if spec.get("nullable") else check


def compile_check(spec: dict[str, Any], enums: Mapping[str, tuple[str, ...]]) -> Check:
    """The checker for one declared field (its ``nullable`` flag included); ``enums`` holds the
    code lists an ``enum`` field names. One call deep for a well-formed value (see above)."""
    full = full_check(spec, enums)
    kind, none_ok = spec["kind"], bool(spec.get("nullable"))
    check: Check
    if kind == "string" and not spec.get("pattern"):
        most = spec["max"]

        def check(v: Any) -> Any:
            if v.__class__ is str and len(v) <= most and "\x00" not in v:
                return v
            return None if v is None and none_ok else full(v)
    elif kind == "enum":
        values = frozenset(enums[spec["enum"]])

        def check(v: Any) -> Any:
            if v.__class__ is str and v in values:
                return v
            return None if v is None and none_ok else full(v)
    elif kind == "boolean":
        def check(v: Any) -> Any:
            if v is True or v is False:
                return v
            return None if v is None and none_ok else full(v)
    elif kind in ("integer", "number"):  # a number that is an int: the full checker makes it a float
        exact, lo, hi = (int if kind == "integer" else float), spec["min"], spec["max"]

        def check(v: Any) -> Any:
            if v.__class__ is exact and lo <= v <= hi:
                return v
            return None if v is None and none_ok else full(v)
    elif kind == "ref":
        uuid = _UUID.fullmatch

        def check(v: Any) -> Any:
            if v.__class__ is str and uuid(v) is not None:
                return v.lower()
            return None if v is None and none_ok else full(v)
    elif kind == "timestamp":
        def check(v: Any) -> Any:
            if v.__class__ is str and _CANONICAL.fullmatch(v) is not None:
                try:
                    parsed = _fromiso(v[:-1])  # the time without its "Z": valid or not as with it
                except ValueError:
                    return full(v)
                if parsed.microsecond or len(v) == 20:  # whole seconds, or milliseconds not ".000"
                    return v
            return None if v is None and none_ok else full(v)
    else:  # dates, times of day, patterns, lists, objects: the full checker only
        return full
    return check
