"""Entity types of PROTOCOL.md §7, declared once as data, and validation of change fields.

``FIELDS`` declares every entity type's fields as plain data (kind, length,
range, pattern, enum, nullable, required: the kinds and their builders are in
``sync/schema_kinds.py``) and ``ENUMS`` the code lists (``sync/schema_codes.py``);
``sync/rules.py`` the rules on a whole record (``RULES``: what a submitted visit
or conversation must have; ``CONSISTENCY``: how its fields fit together).
Everything else is built from them:

* the checkers ``validate_fields`` runs on the push path (closures compiled
  once from the declaration by ``sync/checks.py``, so validation is as fast as
  hand-written code);
* the OpenAPI entity components (``server/openapi.py``);
* the schema document the PWA validates against (``sync/schema_export.py``,
  written to ``pwa/schema.js``; docs/pwa.md).

The words people see for the codes and fields live in ``sync/vocabulary.json``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .checks import Check, Invalid, compile_check
from .checks import is_uuid as is_uuid  # written in checks.py; callers import it from here
from .errors import ChangeError
from .rules import CONSISTENCY as CONSISTENCY, RULES as RULES, check_complete as check_complete  # rules.py
from .schema_codes import AGENCIES, BARRIERS, ENUMS as ENUMS  # the code lists, by name
from .schema_kinds import (  # the kinds of field and their builders
    BOOL, COUNT, DATE, LAT, LON, NAME, REF, TEXT, TIME, enum_of, list_of, number, obj, opt, plain, req, string)

# --- the declaration ----------------------------------------------------------

FIELDS: dict[str, dict[str, dict[str, Any]]] = {
    "school": {
        "name": req(NAME),
        "urn": opt(string(7, pattern=r"\d{5,7}", hint="a 6-digit URN")),
        "address": opt(string(500)),
        "postcode": opt(string(10)),
        "lat": opt(LAT),
        "lon": opt(LON),
        "day_starts": opt(plain("clock_time")),
    },
    "household": {
        "address": req(string(500)),
        "postcode": opt(string(10)),
        "lat": opt(LAT),
        "lon": opt(LON),
        "contacts": opt(list_of(obj(name=req(NAME), relationship=opt(string(100)), phone=opt(string(40))), 20)),
        "language": opt(string(100)),
        "access_notes": opt(string(2000)),
    },
    "pupil": {
        "upn": req(string(13, pattern=r"[A-Z0-9]{13}", hint="a 13-character UPN")),
        "first_name": req(NAME),
        "last_name": req(NAME),
        "date_of_birth": opt(DATE),
        "year_group": opt(number(-1, 14, "integer")),
        "school_id": req(REF),
        "household_id": opt(REF),
        "send": opt(enum_of("send")),
        "transport_eligible": opt(BOOL),
        # from the school roll (docs/register.md)
        "on_roll_from": opt(DATE),
        "left_on": opt(DATE),
        "destination": opt(string(200)),
        "free_school_meals": opt(BOOL),
        "child_in_need": opt(BOOL),
        "child_protection": opt(BOOL),
        # read-only, from the register
        "possible_sessions": opt(COUNT),
        "attended_sessions": opt(COUNT),
        "authorised_absences": opt(COUNT),
        "unauthorised_absences": opt(COUNT),
        "attendance_pct": opt(number(0, 100)),
        "band": opt(enum_of("band")),
        "unauthorised_last_10_weeks": opt(COUNT),
        "penalty_threshold_met": opt(BOOL),
        # read-only, from the register: improvement spotted (docs/relationships.md)
        "improving": opt(BOOL),
        "attendance_last_4_weeks_pct": opt(number(0, 100)),
        "attendance_previous_4_weeks_pct": opt(number(0, 100)),
    },
    "case": {
        "pupil_id": req(REF),
        "assigned_officer_id": opt(REF),
        "status": enum_of("case_status"),
        "stage": enum_of("stage"),
        "agencies": opt(list_of(enum_of("agency"), len(AGENCIES), unique=True)),
        "family_consent": opt(enum_of("consent")),
        "opened_on": opt(DATE),
        "summary": opt(TEXT),
        "parent_ids": opt(list_of(REF, 10, unique=True)),  # the persons (§7.8) the case concerns
    },
    "visit": {
        "case_id": req(REF),
        "household_id": opt(REF),
        "officer_id": opt(REF),
        "planned_for": opt(plain("date_or_time")),
        "started_at": opt(TIME),
        "ended_at": opt(TIME),
        "lat": opt(LAT),
        "lon": opt(LON),
        "accuracy_m": opt(number(0, 100_000)),
        "outcome": opt(enum_of("outcome")),
        "child_seen": opt(BOOL),
        "safeguarding_concern": opt(BOOL),
        "concern_details": opt(TEXT),
        "barriers": opt(list_of(enum_of("barrier"), len(BARRIERS), unique=True)),
        "notes": opt(TEXT),
        "status": enum_of("record_status"),
        "follow_up_of": opt(REF),  # the visit or conversation an office review asked to follow up
    },
    "conversation": {
        "visit_id": opt(REF),
        "case_id": req(REF),
        "spoke_with": opt(NAME),
        "reason_given": opt(TEXT),
        "barriers": opt(list_of(enum_of("barrier"), len(BARRIERS), unique=True)),
        "parent_view": opt(TEXT),
        "agreed_actions": opt(list_of(obj(action=req(string(500)), owner=opt(NAME), due_on=opt(DATE)), 50)),
        "next_contact_on": opt(DATE),
        "status": enum_of("record_status"),
        "follow_up_of": opt(REF),
    },
    "transport_run": {
        "date": req(DATE),
        "school_id": req(REF),
        "driver_id": opt(REF),
        "vehicle": opt(string(100)),
        "seats": opt(number(1, 80, "integer")),
        "status": enum_of("run_status"),
        "departed_at": opt(TIME),
        "arrived_at": opt(TIME),
    },
    "transport_stop": {
        "run_id": req(REF),
        "position": opt(number(0, 1000, "integer")),
        "pupil_id": req(REF),
        "household_id": opt(REF),
        "lat": opt(LAT),
        "lon": opt(LON),
        "eta": opt(TIME),
        "status": enum_of("stop_status"),
        "event_at": opt(TIME),
        "event_lat": opt(LAT),
        "event_lon": opt(LON),
    },
    "task": {
        "case_id": req(REF),
        "assigned_to": opt(REF),
        "title": req(string(300)),
        "due_on": opt(DATE),
        "done": opt(BOOL),
    },
    "note": {
        "subject_type": req(enum_of("subject_type")),
        "subject_id": req(REF),
        "text": req(string(10_000)),
        "author_id": opt(REF),
        "case_id": opt(REF),  # derived by the server from the subject
    },
    # A parent or carer of a household (docs/protocol.md §7.8): household contacts as people.
    "person": {
        "household_id": req(REF),
        "name": req(NAME),
        "relationship": opt(string(100)),
        "parental_responsibility": opt(BOOL),
        "address": opt(string(500)),  # only where it differs from the household's
        "phone": opt(string(40)),
        "email": opt(string(254, pattern=r"[^@\s]+@[^@\s]+\.[^@\s]+", hint="an email address like name@example.org")),
        "preferred_language": opt(string(100)),
        "needs_interpreter": opt(BOOL),
        "no_longer_involved": opt(BOOL),
    },
    # An attendance support plan, one version a record (§7.9): a review is a new record that
    # supersedes the previous version, which stays as it was submitted.
    "support_plan": {
        "case_id": req(REF),
        "supersedes": opt(REF),
        "plan_version": opt(number(1, 1000, "integer")),  # set by the server: 1, or the superseded plan's + 1
        "barriers": opt(list_of(enum_of("barrier"), len(BARRIERS), unique=True)),
        "actions": opt(list_of(obj(action=req(string(500)), owner=opt(enum_of("plan_owner")), due_on=opt(DATE),
                                  done=opt(BOOL)), 30)),
        "review_on": opt(DATE),
        "family_view": opt(TEXT),
        "family_consent": opt(enum_of("consent")),
        "review_outcome": opt(enum_of("plan_review_outcome")),  # what the review of the superseded version found
        "review_notes": opt(TEXT),
        "status": enum_of("record_status"),
    },
    # A wellbeing plan for emotionally based school avoidance, one version a record (§7.10),
    # versioned like a support plan (sync/relationships.py).
    "wellbeing_plan": {
        "case_id": req(REF),
        "supersedes": opt(REF),
        "plan_version": opt(number(1, 1000, "integer")),  # set by the server: 1, or the superseded plan's + 1
        "what_helps": opt(TEXT),
        "what_makes_it_harder": opt(TEXT),
        "trusted_adult": opt(NAME),
        "safe_space": opt(string(500)),
        "adjustments": opt(list_of(string(500), 20)),
        # the gradual return: weeks in order, the sessions planned each week never falling
        "return_timetable": opt(list_of(obj(week_starting=req(DATE), sessions=req(number(0, 10, "integer"))), 26)),
        "review_on": opt(DATE),
        "status": enum_of("record_status"),
    },
    # Safe lone working (§7.11): an officer checked in before a visit, until closed.
    "check_in": {
        "officer_id": opt(REF),  # the server's: who pushed it
        "case_id": opt(REF),
        "household_id": opt(REF),  # from the case when not given; one of the two is required
        "started_at": req(TIME),
        "expected_minutes": req(number(5, 480, "integer")),
        "closed_at": opt(TIME),
        "closed_how": opt(enum_of("check_in_closed_how")),
        "lat": opt(LAT),
        "lon": opt(LON),
    },
    # Written by the server for one officer to read (sync/notices.py, docs/protocol.md §7.6):
    # a value of theirs that was set aside in a conflict, what replaced it, by whom and when.
    "notice": {
        "recipient_id": req(REF),
        "kind": req(enum_of("notice_kind")),
        "record_type": req(enum_of("record_type")),
        "record_id": req(REF),
        "case_id": opt(REF),
        "about": opt(string(500)),
        "field": opt(string(100)),
        "your_text": opt(string(20_000)),
        "your_at": opt(TIME),
        "your_device": opt(string(200)),
        "their_text": opt(string(20_000)),
        "replaced_at": opt(TIME),
        "replaced_by": opt(REF),
        "replaced_by_name": opt(NAME),
        "replaced_on": opt(string(200)),
        "change_id": opt(REF),
        "dismissed": opt(BOOL),  # the one field its officer writes (true: equal values never conflict)
    },
    # The office's review of a visit or conversation, for the officer whose case it is (§7.7).
    "review": {
        "subject_type": req(enum_of("subject_type")),
        "subject_id": req(REF),
        "case_id": opt(REF),
        "officer_id": opt(REF),
        "state": req(enum_of("review_state")),
        "comment": opt(string(2000)),
        "reviewed_by": opt(REF),
        "reviewed_by_name": opt(NAME),
        "reviewed_at": opt(TIME),
        "answered_type": opt(enum_of("record_type")),
        "answered_id": opt(REF),
        "answered_at": opt(TIME),
    },
}

# Defaults filled in when a record is created without them.
DEFAULTS: dict[str, dict[str, Any]] = {
    "case": {"status": "open", "stage": "support", "agencies": [], "family_consent": "not_asked"},
    "visit": {"status": "draft", "barriers": [], "safeguarding_concern": False},
    "conversation": {"status": "draft", "barriers": [], "agreed_actions": []},
    "transport_run": {"status": "planned"},
    "transport_stop": {"status": "pending"},
    "task": {"done": False},
    "household": {"contacts": []},
    "support_plan": {"status": "draft", "barriers": [], "actions": [], "family_consent": "not_asked"},
    "wellbeing_plan": {"status": "draft", "adjustments": [], "return_timetable": []},
}

# Fields nobody may write through a push: the register computes them.
REGISTER_FIELDS = frozenset({
    "possible_sessions", "attended_sessions", "authorised_absences", "unauthorised_absences",
    "attendance_pct", "band", "unauthorised_last_10_weeks", "penalty_threshold_met",
    "improving", "attendance_last_4_weeks_pct", "attendance_previous_4_weeks_pct"})
# Fields the server fills from the token, never from the body.
AUTHOR_FIELDS = {"visit": "officer_id", "note": "author_id", "check_in": "officer_id"}
# Fields fixed once the record exists.
IMMUTABLE_FIELDS: dict[str, frozenset[str]] = {
    "visit": frozenset({"case_id", "officer_id"}),
    "conversation": frozenset({"case_id"}),
    "task": frozenset({"case_id"}),
    "note": frozenset({"subject_type", "subject_id", "author_id", "case_id"}),
    "transport_stop": frozenset({"run_id"}),
    "case": frozenset({"pupil_id"}),
    "person": frozenset({"household_id"}),
    "support_plan": frozenset({"case_id", "supersedes", "plan_version"}),
    "wellbeing_plan": frozenset({"case_id", "supersedes", "plan_version"}),
    "check_in": frozenset({"officer_id", "case_id", "household_id", "started_at"}),
}
# What an officer may write (None: every field of the type).
OFFICER_WRITABLE: dict[str, frozenset[str] | None] = {
    "visit": None,
    "conversation": None,
    "note": None,
    "task": None,
    "household": frozenset({"contacts", "access_notes"}),
    "transport_stop": frozenset({"status", "event_at", "event_lat", "event_lon"}),
    "transport_run": frozenset({"status", "departed_at", "arrived_at"}),
    "notice": frozenset({"dismissed"}),  # their own notices only (scope: the recipient)
    "person": None,
    "support_plan": None,
    "wellbeing_plan": None,
    "check_in": None,  # their own check-ins only (scope: the officer)
    "case": frozenset({"parent_ids"}),  # which of the household's persons the case concerns
}
# What an officer may create (in their scope); office and admin may create every type.
OFFICER_CREATABLE = frozenset({"visit", "conversation", "note", "task", "person", "support_plan",
                               "wellbeing_plan", "check_in"})
# Records that may be deleted (with the status they must have, if any).
DELETABLE: dict[str, str | None] = {"task": None, "visit": "draft", "conversation": "draft",
                                    "support_plan": "draft", "wellbeing_plan": "draft"}
# Records that freeze once submitted.
SUBMITTABLE = frozenset({"visit", "conversation", "support_plan", "wellbeing_plan"})
# Records only the server writes (sync/notices.py): a push creating one is ``forbidden`` for
# every role; an officer may only set ``OFFICER_WRITABLE``'s fields of their own notices.
SERVER_WRITTEN = frozenset({"notice", "review"})
SERVER_FIELDS = frozenset({"id", "created_at", "created_by", "updated_at", "updated_by"})

# --- checkers, compiled from the declaration (sync/checks.py) ----------------

@dataclass(frozen=True)
class FieldSpec:
    check: Check
    required: bool = False  # must be present (and not null) when the record is created


ENTITY_TYPES: dict[str, dict[str, FieldSpec]] = {
    type_: {name: FieldSpec(compile_check(spec, ENUMS), bool(spec.get("required")))
            for name, spec in fields.items()}
    for type_, fields in FIELDS.items()
}
# per type: field -> its checker (the server's own fields left out: validate_fields skips them)
_CHECKS: dict[str, dict[str, Check]] = {
    type_: {name: spec.check for name, spec in specs.items() if name not in SERVER_FIELDS}
    for type_, specs in ENTITY_TYPES.items()
}


def validate_fields(type_: str, fields: dict[str, Any]) -> tuple[dict[str, Any], list[ChangeError]]:
    """Check each field's value; unknown fields are errors. Returns clean values."""
    checks = _CHECKS[type_]
    clean: dict[str, Any] = {}
    errors: list[ChangeError] = []
    for name, value in fields.items():
        check = checks.get(name)
        if check is None:
            if name in SERVER_FIELDS:
                continue  # stamped by the server; a client echoing them back is harmless
            errors.append(ChangeError(name, "validation_failed", f"{type_} has no field '{name}'"))
            continue
        try:
            clean[name] = check(value)
        except Invalid as exc:
            errors.append(ChangeError(name, "validation_failed", f"{name} {exc}"))
    return clean, errors


def missing_required(type_: str, fields: dict[str, Any]) -> list[ChangeError]:
    return [ChangeError(name, "validation_failed", f"{name} is required when a {type_} is created")
            for name, spec in ENTITY_TYPES[type_].items()
            if spec.required and fields.get(name) is None]
