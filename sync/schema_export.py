"""The entity schema and the vocabulary as one JSON document, for the PWA (and anyone else).

``document()`` is built from the declaration in ``sync/schema.py`` (``FIELDS``,
``ENUMS``, ``RULES`` and the write rules), the follow-up answer rule of ``sync/rules.py``
(``FOLLOW_UP_ANSWERS``) and the words in ``sync/vocabulary.json``.
The PWA loads it as ``pwa/schema.js``, a shell file (its bytes are part of the
service worker's cache name), and validates records against it before they are
queued (``pwa/validate.js``). After changing the schema or the vocabulary, run::

    .venv/bin/python -m sync.schema_export          # rewrites pwa/schema.js
    .venv/bin/python -m sync.schema_export --check  # exit 1 if pwa/schema.js is stale

``tests/test_vocabulary.py`` fails while the committed file differs from the export.
"""
from __future__ import annotations

import json
import sys
from functools import cache
from pathlib import Path
from typing import Any

from . import schema
from .rules import FOLLOW_UP_ANSWERS

VOCABULARY_FILE = Path(__file__).with_name("vocabulary.json")
PWA_FILE = Path(__file__).resolve().parent.parent / "pwa" / "schema.js"
SCHEMA_VERSION = 1  # bump when the document's shape (not its content) changes

_HEADER = ("// Generated from sync/schema.py and sync/vocabulary.json: do not edit.\n"
           "// Regenerate with: .venv/bin/python -m sync.schema_export (docs/pwa.md).\n"
           "export const SCHEMA = ")


@cache
def vocabulary() -> dict[str, Any]:
    """``sync/vocabulary.json``: {"enums": {name: {code: {label, help?}}}, "fields": {...}, "types": {...}}."""
    with VOCABULARY_FILE.open(encoding="utf-8") as fh:
        doc = json.load(fh)
    doc.pop("_about", None)
    return doc


def _field(spec: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": spec["kind"], "nullable": bool(spec.get("nullable")),
                           "required": bool(spec.get("required"))}
    for key in ("max", "min", "pattern", "hint", "enum", "max_items", "unique"):
        if key in spec:
            out[key] = spec[key]
    if "items" in spec:
        out["items"] = _field(spec["items"])
    if "fields" in spec:
        out["fields"] = {name: _field(sub) for name, sub in spec["fields"].items()}
    return out


def document() -> dict[str, Any]:
    types: dict[str, Any] = {}
    for type_, fields in schema.FIELDS.items():
        immutable = schema.IMMUTABLE_FIELDS.get(type_, frozenset())
        author = schema.AUTHOR_FIELDS.get(type_)
        out_fields = {}
        for name, spec in fields.items():
            f = _field(spec)
            if name in immutable:
                f["immutable"] = True
            if name == author:
                f["server_filled"] = True
            if type_ == "pupil" and name in schema.REGISTER_FIELDS:
                f["read_only"] = True
            out_fields[name] = f
        writable = schema.OFFICER_WRITABLE.get(type_, frozenset())
        types[type_] = {
            "fields": out_fields,
            "defaults": schema.DEFAULTS.get(type_, {}),
            "submittable": type_ in schema.SUBMITTABLE,
            "deletable": type_ in schema.DELETABLE,
            "deletable_status": schema.DELETABLE.get(type_),
            "officer_writable": None if writable is None else sorted(writable),
        }
    return {"version": SCHEMA_VERSION, "types": types,
            "enums": {name: list(codes) for name, codes in schema.ENUMS.items()},
            "rules": [dict(rule) for rule in schema.RULES],
            "consistency": [dict(rule) for rule in schema.CONSISTENCY],
            "follow_up_answers": [dict(rule) for rule in FOLLOW_UP_ANSWERS],
            "vocabulary": vocabulary()}


def _compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _lines(doc: dict[str, Any], depth: int) -> str:
    """``doc`` as JSON with one line per key ``depth`` levels down (a type, an enum's words):
    small to send and to parse, and a change still shows as a one-line diff."""
    if depth == 0 or not isinstance(doc, dict):
        return _compact(doc)
    inner = ",\n".join(f"{_compact(key)}: {_lines(value, depth - 1)}" for key, value in doc.items())
    return "{\n" + inner + "\n}"


def pwa_source() -> str:
    """The text of ``pwa/schema.js``: one line per type, per enum and per vocabulary section."""
    return _HEADER + _lines(document(), 2) + ";\n"


def main(argv: list[str]) -> int:
    text = pwa_source()
    if "--check" in argv:
        current = PWA_FILE.read_text(encoding="utf-8") if PWA_FILE.exists() else ""
        if current != text:
            print(f"{PWA_FILE} is out of date: run .venv/bin/python -m sync.schema_export", file=sys.stderr)
            return 1
        return 0
    PWA_FILE.write_text(text, encoding="utf-8")
    print(f"wrote {PWA_FILE}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
