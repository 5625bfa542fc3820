"""The authority's message templates: the words of a praise text to a family and of the prompt
for a quiet word of praise at school, per language, edited in the office.

One rule set (``check``) for every template: plain words with the pupil's first name, no figures
(a parent could read "72%" as a warning) and no enforcement words; at most three text-message
fragments. ``render`` fills the placeholders.
"""
from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

from ..storage import SqliteTxn
from ..util import now_iso

KINDS = {
    "praise_family": "Text to the family",
    "praise_pupil": "Prompt for a quiet word of praise at school",
}
PLACEHOLDERS = ("first_name", "school")
MAX_CHARS = 459  # three 153-character fragments of a concatenated text message
MIN_CHARS = 20
LANGUAGE_MAX = 60
# words that turn praise into a warning in a parent's eyes
WARNING_WORDS = ("fine", "fines", "penalty", "prosecute", "prosecution", "court", "legal", "unauthorised")

DEFAULTS: dict[tuple[str, str], str] = {
    ("praise_family", "english"): (
        "Hello from the attendance team at {school}. {first_name} has been coming to school much more "
        "often these last few weeks. Thank you for all your help, it is making a real difference."),
    ("praise_pupil", "english"): (
        "{first_name} has been in school much more these last few weeks. Please find a quiet moment "
        "to say well done, away from other pupils."),
}

_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


@dataclass(frozen=True)
class Template:
    kind: str
    language: str
    body: str
    notify_template_id: str | None = None


def normalise_language(raw: str | None) -> str:
    return " ".join((raw or "").split()).lower()[:LANGUAGE_MAX] or "english"


def check(kind: str, language: str, body: str, notify_template_id: str = "") -> dict[str, str]:
    """Problems by field name; empty when the template may be saved."""
    problems: dict[str, str] = {}
    if kind not in KINDS:
        problems["kind"] = f"Choose one of: {', '.join(KINDS.values())}."
    if not language.strip() or len(language) > LANGUAGE_MAX:
        problems["language"] = f"Give the language's name (at most {LANGUAGE_MAX} characters), e.g. English."
    text = body.strip()
    names = _PLACEHOLDER.findall(text)
    if not MIN_CHARS <= len(text) <= MAX_CHARS:
        problems["body"] = f"Write between {MIN_CHARS} and {MAX_CHARS} characters (three text messages); this is {len(text)}."
    elif unknown := sorted({n for n in names if n not in PLACEHOLDERS}):
        problems["body"] = (f"Unknown placeholder {{{unknown[0]}}}: use "
                            + " or ".join("{" + p + "}" for p in PLACEHOLDERS) + ".")
    elif "first_name" not in names:
        problems["body"] = "Use the pupil's first name: put {first_name} in the words."
    elif re.search(r"[0-9%£]", _PLACEHOLDER.sub("", text)):
        problems["body"] = "Leave out figures, percentages and amounts: a parent could read them as a warning."
    elif found := [w for w in WARNING_WORDS if re.search(rf"\b{w}\b", text, re.IGNORECASE)]:
        problems["body"] = f"Leave out “{found[0]}”: this is praise, and the word reads as a warning."
    if notify_template_id and not re.fullmatch(r"[0-9a-fA-F-]{36}", notify_template_id):
        problems["notify_template_id"] = "A Notify template id looks like 8-4-4-4-12 hexadecimal digits."
    return problems


def render(body: str, first_name: str, school: str) -> str:
    values = {"first_name": first_name.strip() or "Your child", "school": school.strip() or "school"}
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), body).strip()


def all_templates(txn: SqliteTxn) -> list[Template]:
    stored = {(r["kind"], r["language"]): Template(r["kind"], r["language"], r["body"], r["notify_template_id"])
              for r in txn.rows("SELECT kind, language, body, notify_template_id FROM message_templates")}
    for key, body in DEFAULTS.items():
        stored.setdefault(key, Template(key[0], key[1], body))
    return sorted(stored.values(), key=lambda t: (t.kind, t.language != "english", t.language))


def choose(templates: list[Template], kind: str, language: str | None) -> Template:
    """The template in the family's language where one exists; English otherwise."""
    want = normalise_language(language)
    mine = {t.language: t for t in templates if t.kind == kind}
    return mine.get(want) or mine["english"]


def save(txn: SqliteTxn, kind: str, language: str, body: str, notify_template_id: str,
         user_id: str) -> dict[str, Any]:
    lang = normalise_language(language)
    txn.execute(
        "INSERT INTO message_templates (id, kind, language, body, notify_template_id, updated_at, updated_by) "
        "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (kind, language) DO UPDATE SET body = excluded.body, "
        "notify_template_id = excluded.notify_template_id, updated_at = excluded.updated_at, "
        "updated_by = excluded.updated_by",
        (str(uuid.uuid4()), kind, lang, body.strip(), notify_template_id or None, now_iso(), user_id))
    return {"kind": kind, "language": lang}
