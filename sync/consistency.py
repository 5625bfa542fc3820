"""The server's side of the consistency checks declared in ``sync/schema.py``
(``CONSISTENCY``): does a whole record break one rule? The phone's side is
pwa/validate.js, reading the same declaration from pwa/schema.js."""
from __future__ import annotations

import datetime as dt
from typing import Any


def _instant(value: Any) -> Any:
    """A date or timestamp as something ordered (timestamps in any offset compare as instants)."""
    if isinstance(value, str) and len(value) > 10:
        try:
            return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    return value


def breaks(rule: dict[str, Any], fields: dict[str, Any]) -> bool:
    """Does the record match the rule: every "when" field one of its values, and its test holding?
    The server makes no test against the clock ("where": "phone"); it is never asked to."""
    if not all(fields.get(k) in allowed for k, allowed in rule["when"].items()):
        return False
    test = rule.get("test")
    if test is None:
        return True
    if test == "before":
        a, b = _instant(fields.get(rule["field"])), _instant(fields.get(rule["other"]))
        try:
            return a is not None and b is not None and a > b
        except TypeError:  # a date against a timestamp: not comparable, not this rule's business
            return False
    raise ValueError(f"the server makes no {test!r} test")
