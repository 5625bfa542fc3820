"""The server's side of the consistency checks declared in ``sync/schema.py``
(``CONSISTENCY``): does a whole record break one rule? The phone's side is
pwa/validate.js, reading the same declaration from pwa/schema.js."""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

Test = Callable[[dict[str, Any]], bool]


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
    return compile_rule(rule)(fields)


def compile_rule(rule: dict[str, Any]) -> Test:
    """``breaks`` for one rule as a function of the record's fields, built once a rule (a push
    checks every record it writes against its type's rules)."""
    when = tuple((k, tuple(allowed)) for k, allowed in rule["when"].items())
    test = rule.get("test")
    if test is None:
        def check(fields: dict[str, Any]) -> bool:
            return all(fields.get(k) in allowed for k, allowed in when)
    elif test == "before":
        field, other = rule["field"], rule["other"]

        def check(fields: dict[str, Any]) -> bool:
            a, b = fields.get(field), fields.get(other)
            if a is None or b is None:
                return False
            for k, allowed in when:
                if fields.get(k) not in allowed:
                    return False
            a, b = _instant(a), _instant(b)
            try:
                return a is not None and b is not None and a > b
            except TypeError:  # a date against a timestamp: not comparable, not this rule's business
                return False
    else:
        raise ValueError(f"the server makes no {test!r} test")
    return check
