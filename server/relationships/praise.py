"""Praise for improving pupils: who may get a text, the suggested words, the queue of messages.

A family is never texted when it opted out or is flagged do-not-contact, when no UK mobile number
is known, when a legal step is live on the pupil's case (unless the authority's setting allows
it) or when it had a praise text within the last ``praise_interval_days``. Each queued message is
a row of ``messages`` kept with the pupil and case (the case chronology shows it) and audited.
"""
from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from typing import Any

import orjson

from .. import audit
from ..migrations import ENTITY_TABLES
from ..storage import SqliteTxn
from ..util import now_iso
from . import templates as tpl

# the ladder's formal steps (DOMAIN.md): while one is live, praise waits unless the setting allows it
LEGAL_STAGES = frozenset({"notice_to_improve", "penalty_notice", "education_supervision_order", "prosecution"})
STATUS_WORDS = {
    "to_send": "To send", "sending": "Sending", "sent": "Sent, delivery not confirmed yet",
    "delivered": "Delivered", "failed": "Not delivered", "exported": "Exported for the school's texting system",
    "cancelled": "Cancelled",
}


def uk_mobile(raw: str | None) -> str | None:
    """A UK mobile number as +447…, or None."""
    digits = re.sub(r"[\s().-]", "", raw or "")
    if re.fullmatch(r"(\+44|0044|44)7\d{9}", digits):
        return "+44" + digits[-10:]
    if re.fullmatch(r"07\d{9}", digits):
        return "+44" + digits[1:]
    return None


@dataclass
class Family:
    household_id: str | None
    phone: str | None
    language: str | None
    opted_out: bool = False
    do_not_contact: bool = False


@dataclass
class Suggestion:
    pupil_id: str
    first_name: str
    name: str
    school: str
    case_id: str | None
    stage: str | None
    family: Family
    text: str
    praise_prompt: str
    blocked: list[str] = field(default_factory=list)  # why this family is not texted now

    @property
    def can_send(self) -> bool:
        return not self.blocked


def _data(txn: SqliteTxn, table: str, id_: str | None) -> dict[str, Any] | None:
    if not id_:
        return None
    rows = txn.rows(f"SELECT data FROM {table} WHERE id = ? AND deleted = 0", (id_,))
    return orjson.loads(rows[0]["data"]) if rows else None


def family_of(txn: SqliteTxn, household_id: str | None) -> Family:
    """The number and language to use: a person with parental responsibility and a mobile
    number first (persons, where recorded), else the household's contacts."""
    household = _data(txn, "households", household_id) or {}
    phone, language = None, household.get("language")
    if household_id and "person" in ENTITY_TABLES:
        people = [orjson.loads(r["data"]) for r in txn.rows(
            f"SELECT data FROM {ENTITY_TABLES['person'][0]} WHERE household_id = ? AND deleted = 0 "
            "ORDER BY created_at", (household_id,))]
        people.sort(key=lambda p: not p.get("parental_responsibility"))
        for person in people:
            if number := uk_mobile(person.get("phone")):
                phone, language = number, person.get("preferred_language") or language
                break
    if phone is None:
        for contact in household.get("contacts") or []:
            if number := uk_mobile(contact.get("phone")):
                phone = number
                break
    prefs = txn.rows("SELECT opted_out, do_not_contact FROM contact_preferences WHERE household_id = ?",
                     (household_id or "",))
    pref = prefs[0] if prefs else {"opted_out": 0, "do_not_contact": 0}
    return Family(household_id, phone, language, bool(pref["opted_out"]), bool(pref["do_not_contact"]))


def suggest(txn: SqliteTxn, pupil_ids: list[str], *, allow_during_legal: bool,
            interval_days: int) -> list[Suggestion]:
    """The suggested text and praise prompt for each pupil, with why any may not be sent."""
    templates = tpl.all_templates(txn)
    out = []
    for pupil_id in pupil_ids:
        pupil = _data(txn, "pupils", pupil_id)
        if pupil is None:
            continue
        school = (_data(txn, "schools", pupil.get("school_id")) or {}).get("name", "")
        cases = txn.rows("SELECT id, data FROM cases WHERE pupil_id = ? AND status = 'open' AND deleted = 0 "
                         "ORDER BY created_at DESC LIMIT 1", (pupil_id,))
        case = orjson.loads(cases[0]["data"]) if cases else {}
        family = family_of(txn, pupil.get("household_id"))
        first = pupil.get("first_name", "")
        text = tpl.render(tpl.choose(templates, "praise_family", family.language).body, first, school)
        prompt = tpl.render(tpl.choose(templates, "praise_pupil", None).body, first, school)
        blocked = []
        if family.do_not_contact:
            blocked.append("The family is flagged do-not-contact.")
        if family.opted_out:
            blocked.append("The family asked not to get these messages.")
        if family.phone is None:
            blocked.append("No UK mobile number is recorded for the family.")
        if case.get("stage") in LEGAL_STAGES and not allow_during_legal:
            blocked.append("A legal step is live on the case (the authority's setting: no praise texts then).")
        recent = txn.rows("SELECT created_at FROM messages WHERE pupil_id = ? AND status != 'cancelled' "
                          "AND created_at >= strftime('%Y-%m-%dT%H:%M:%fZ', 'now', ?) LIMIT 1",
                          (pupil_id, f"-{interval_days} days"))
        if recent:
            blocked.append(f"A praise text was already made for this family in the last {interval_days} days.")
        out.append(Suggestion(pupil_id, first, f"{first} {pupil.get('last_name', '')}".strip(), school,
                              cases[0]["id"] if cases else None, case.get("stage"), family, text, prompt, blocked))
    return out


def queue(txn: SqliteTxn, suggestions: list[Suggestion], user_id: str) -> list[str]:
    """Queue a message for each suggestion that may be sent; returns the new message ids."""
    ids = []
    at = now_iso()
    for s in suggestions:
        if not s.can_send:
            continue
        message_id = str(uuid.uuid4())
        txn.execute(
            "INSERT INTO messages (id, pupil_id, case_id, household_id, phone, language, body, status, "
            "attempts, created_at, created_by, status_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'to_send', 0, ?, ?, ?)",
            (message_id, s.pupil_id, s.case_id, s.family.household_id, s.family.phone,
             tpl.normalise_language(s.family.language), s.text, at, user_id, at))
        audit.record(txn, user_id, None, "message_queued",
                     [i for i in (s.pupil_id, s.case_id, s.family.household_id, message_id) if i],
                     {"message_id": message_id, "kind": "praise_family"})
        ids.append(message_id)
    return ids


def set_preferences(txn: SqliteTxn, household_id: str, opted_out: bool, do_not_contact: bool,
                    reason: str, user_id: str) -> None:
    txn.execute(
        "INSERT INTO contact_preferences (household_id, opted_out, do_not_contact, reason, set_by, set_at) "
        "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (household_id) DO UPDATE SET opted_out = excluded.opted_out, "
        "do_not_contact = excluded.do_not_contact, reason = excluded.reason, set_by = excluded.set_by, "
        "set_at = excluded.set_at", (household_id, int(opted_out), int(do_not_contact), reason, user_id, now_iso()))
    # messages still waiting for a family that now says no are cancelled, never sent
    if opted_out or do_not_contact:
        txn.execute("UPDATE messages SET status = 'cancelled', status_at = ?, last_error = ? "
                    "WHERE household_id = ? AND status = 'to_send'",
                    (now_iso(), "The family asked not to be contacted.", household_id))
    audit.record(txn, user_id, None, "contact_preferences", [household_id],
                 {"opted_out": opted_out, "do_not_contact": do_not_contact})


def for_case_or_pupil(txn: SqliteTxn, *, case_id: str | None = None, pupil_id: str | None = None) -> list[dict[str, Any]]:
    """Messages on a case's (or pupil's) chronology, newest first."""
    column, value = ("case_id", case_id) if case_id else ("pupil_id", pupil_id)
    rows = txn.rows(f"SELECT id, body, status, notify_status, created_at, sent_at, exported_at, last_error, "
                    f"phone, channel FROM messages WHERE {column} = ? ORDER BY created_at DESC", (value,))
    return [{**r, "status_words": STATUS_WORDS.get(r["status"], r["status"])} for r in rows]
