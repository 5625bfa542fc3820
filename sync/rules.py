"""Rules on a whole record, declared once as data beside the fields of ``sync/schema.py``:
``RULES`` (what a record must have, e.g. before it is submitted), ``CONSISTENCY`` (how its
fields fit together) and ``FOLLOW_UP_ANSWERS`` (which records answer an office review asking for
follow-up). The server checks the first two in ``check_complete`` and reads the third in
``sync/notices.py``; the phone reads the same declarations from ``pwa/schema.js``
(``sync/schema_export.py``; ``pwa/validate.js``, ``pwa/views/followups.js``).
"""
from __future__ import annotations

from typing import Any

from .consistency import compile_rule
from .errors import ChangeError

# Rules on the whole record as it would be after a change: when every field named in
# "when" has that value, "field" must be filled ("need": "value": not empty; "text":
# not blank either). "message" is the server's error; "ask" is what the phone says.
RULES: list[dict[str, Any]] = [
    {"type": "visit", "when": {"status": "submitted"}, "field": "outcome", "need": "value",
     "message": "a visit needs an outcome before it is submitted",
     "ask": "Choose the outcome of the visit."},
    {"type": "conversation", "when": {"status": "submitted"}, "field": "spoke_with", "need": "value",
     "message": "a conversation needs who was spoken to before it is submitted",
     "ask": "Say who you spoke to."},
    {"type": "visit", "when": {"status": "submitted", "safeguarding_concern": True},
     "field": "concern_details", "need": "text",
     "message": "a safeguarding concern needs its details",
     "ask": "Describe the safeguarding concern."},
    {"type": "support_plan", "when": {"status": "submitted"}, "field": "actions", "need": "value",
     "message": "a support plan needs at least one agreed action before it is submitted",
     "ask": "Add at least one agreed action."},
    {"type": "support_plan", "when": {"status": "submitted"}, "field": "review_on", "need": "value",
     "message": "a support plan needs a review date before it is submitted",
     "ask": "Give the date the plan will be reviewed."},
]

# Consistency checks (docs/pwa.md, "Consistency checks"): how the fields of one record fit
# together, checked by the phone (pwa/validate.js, from pwa/schema.js) and the server
# (check_complete). A rule applies when every field in "when" has one of the listed
# values and, if it has a "test", the test holds for "field":
#   "before": other field — field is set, other is set, and field comes after other;
#   "future": field is a time later than now (the phone only: see "where");
#   "past": field is a date before today (the phone only).
# "level": "error" where the combination cannot be true (the phone shows it beside the
# field and will not queue it; the server rejects the change naming the field);
# "warning" where it can be true but is usually a slip (the phone asks the officer to
# confirm; the server accepts it). "where": "phone" for a test against the clock, which
# only the phone can make: the server does not know when the officer recorded the
# record (it can arrive days later, and demo or imported records are dated as at
# another day). "message" is the server's words, "ask" the phone's.
CONSISTENCY: list[dict[str, Any]] = [
    {"id": "seen_outcome_child_not_seen", "type": "visit", "level": "error", "field": "child_seen",
     "when": {"outcome": ["seen_child_and_parent", "child_seen"], "child_seen": [False]},
     "message": "the outcome says the child was seen, but child_seen is false",
     "ask": "The outcome says you saw the child: tick \u201cChild seen\u201d, or choose another outcome."},
    {"id": "no_contact_child_seen", "type": "visit", "level": "warning", "field": "child_seen",
     "when": {"status": ["submitted"], "outcome": ["no_answer", "card_left", "refused"], "child_seen": [True]},
     "message": "child_seen is true with an outcome of no contact at the door",
     "ask": "You ticked \u201cChild seen\u201d, but the outcome says there was no answer, a card was left or the "
            "visit was refused. Is that right (say where you saw the child in the notes)?"},
    {"id": "visit_in_future", "type": "visit", "level": "error", "field": "started_at", "test": "future",
     "slack_s": 600, "where": "phone", "when": {},
     "message": "started_at is in the future",
     "ask": "The visit cannot have started later than now: check the date and time."},
    {"id": "visit_ends_before_start", "type": "visit", "level": "error", "field": "started_at", "test": "before",
     "other": "ended_at", "when": {},
     "message": "started_at is after ended_at: a visit cannot start after it ended",
     "ask": "The visit cannot start after it ended: check the date and time."},
    {"id": "next_contact_in_past", "type": "conversation", "level": "warning", "field": "next_contact_on",
     "test": "past", "where": "phone", "when": {"status": ["submitted"]},
     "message": "next_contact_on is before the day the conversation was recorded",
     "ask": "The next contact is before today. Is that right (a conversation recorded late)?"},
]

# Which records answer an office review asking for follow-up (docs/protocol.md §7.7): a record
# of "type" whose "field" names the reviewed record answers its review, once every field in
# "when" has that value (a draft visit or conversation may still change or go: it answers
# nothing yet); "of", where given, limits the link to reviews of that type of record. Read by
# the server, which fills the review's answered_* at the push that brings the first answer
# (sync/notices.py), and by the phone, which clears the follow-up as soon as the answer is saved
# (pwa/views/followups.js, from pwa/schema.js), looking through the types in this order. The
# phone counts only an answer made at or after the review (it holds records older than the
# review); the server's equivalent is that only a push's own changes answer, and only reviews
# still open then.
FOLLOW_UP_ANSWERS: list[dict[str, Any]] = [
    {"type": "note", "field": "subject_id", "when": {}},
    {"type": "conversation", "field": "follow_up_of", "when": {"status": "submitted"}},
    {"type": "conversation", "field": "visit_id", "of": "visit", "when": {"status": "submitted"}},
    {"type": "visit", "field": "follow_up_of", "when": {"status": "submitted"}},
]


# per type: (field, "text"?, ((when field, value), ...), message), in RULES order
_RULES_OF: dict[str, tuple[tuple[str, bool, tuple[tuple[str, Any], ...], str], ...]] = {
    t: tuple((r["field"], r["need"] == "text", tuple(r["when"].items()), r["message"])
             for r in RULES if r["type"] == t)
    for t in {r["type"] for r in RULES}
}

# the consistency errors the server checks, per type (warnings and the phone's clock tests left out)
_SERVER_CONSISTENCY: dict[str, tuple[tuple[dict[str, Any], Any], ...]] = {
    t: tuple((r, compile_rule(r)) for r in CONSISTENCY
             if r["type"] == t and r["level"] == "error" and r.get("where") != "phone")
    for t in {r["type"] for r in CONSISTENCY}
}


def check_complete(type_: str, fields: dict[str, Any]) -> list[ChangeError]:
    """``RULES`` and the ``CONSISTENCY`` errors on the whole record as it would be after the change."""
    errors: list[ChangeError] = []
    for name, text, when, message in _RULES_OF.get(type_, ()):
        for k, v in when:
            if fields.get(k) != v:
                break
        else:
            value = fields.get(name)
            if not value or (text and isinstance(value, str) and not value.strip()):
                errors.append(ChangeError(name, "validation_failed", message))
    errors += [ChangeError(r["field"], "validation_failed", r["message"])
               for r, broken in _SERVER_CONSISTENCY.get(type_, ()) if broken(fields)]
    return errors
