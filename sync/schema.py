"""Entity types of PROTOCOL.md §7, their fields, and validation of change fields.

Each field has a small spec; ``validate_fields`` checks a change's fields against
them and returns clean values plus a list of per-field errors.
"""
from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .errors import ChangeError

OUTCOMES = ("seen_child_and_parent", "spoke_to_parent", "child_seen", "no_answer",
            "card_left", "refused", "moved_away", "unsafe_to_proceed")
BARRIERS = ("physical_health", "mental_health_anxiety", "send_unmet_need", "bullying",
            "young_carer", "parental_illness", "parenting_capacity", "housing", "financial",
            "transport", "domestic_abuse", "substance_misuse", "exploitation",
            "term_time_holiday", "other")
STAGES = ("support", "attendance_meeting", "attendance_contract", "notice_to_improve",
          "penalty_notice", "education_supervision_order", "prosecution")
AGENCIES = ("social_care", "early_help", "camhs", "school_nurse", "gp", "housing", "police",
            "young_carers", "send_team", "other")
BANDS = ("ok", "at_risk", "persistent", "severe")
SEND = ("none", "sen_support", "ehcp")
CONSENT = ("not_asked", "given", "refused")
RECORD_STATUS = ("draft", "submitted")
RUN_STATUS = ("planned", "in_progress", "done")
STOP_STATUS = ("pending", "picked_up", "no_show", "refused")

Check = Callable[[Any], Any]  # returns the clean value or raises ValueError(message)


@dataclass(frozen=True)
class FieldSpec:
    check: Check
    required: bool = False  # must be present (and not null) when the record is created


class _Invalid(ValueError):
    pass


def string(max_len: int, pattern: str | None = None, hint: str = "") -> Check:
    rx = re.compile(pattern) if pattern else None

    def check(v: Any) -> str:
        if not isinstance(v, str):
            raise _Invalid("must be a string")
        if len(v) > max_len:
            raise _Invalid(f"must be at most {max_len} characters")
        if rx is not None and not rx.fullmatch(v):
            raise _Invalid(f"must look like {hint}")
        return v

    return check


def enum(values: tuple[str, ...]) -> Check:
    def check(v: Any) -> str:
        if v not in values:
            raise _Invalid("must be one of " + ", ".join(values))
        return v

    return check


def boolean(v: Any) -> bool:
    if not isinstance(v, bool):
        raise _Invalid("must be true or false")
    return v


def integer(lo: int, hi: int) -> Check:
    def check(v: Any) -> int:
        if isinstance(v, bool) or not isinstance(v, int):
            raise _Invalid("must be a whole number")
        if not lo <= v <= hi:
            raise _Invalid(f"must be between {lo} and {hi}")
        return v

    return check


def number(lo: float, hi: float) -> Check:
    def check(v: Any) -> float:
        if isinstance(v, bool) or not isinstance(v, (int, float)) or v != v:
            raise _Invalid("must be a number")
        if not lo <= v <= hi:
            raise _Invalid(f"must be between {lo} and {hi}")
        return float(v)

    return check


def date(v: Any) -> str:
    if not isinstance(v, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", v):
        raise _Invalid("must be a date YYYY-MM-DD")
    try:
        dt.date.fromisoformat(v)
    except ValueError:
        raise _Invalid("must be a real calendar date") from None
    return v


_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})")
# already normalised: whole seconds or milliseconds, in UTC
_CANONICAL = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?Z")


def timestamp(v: Any) -> str:
    """An ISO 8601 UTC time; normalised to ``YYYY-MM-DDTHH:MM:SS[.fff]Z``."""
    if not isinstance(v, str) or len(v) > 40 or not _TIMESTAMP.fullmatch(v):
        raise _Invalid("must be an ISO 8601 UTC time such as 2026-11-22T08:15:00Z")
    try:
        parsed = dt.datetime.fromisoformat(v.replace("Z", "+00:00"))
    except ValueError:
        raise _Invalid("must be a real time") from None
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
        raise _Invalid("must be a time of day HH:MM")
    return v


def ref(v: Any) -> str:
    if not is_uuid(v):
        raise _Invalid("must be an id (a UUID string)")
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
            raise _Invalid("must be a list")
        if len(v) > max_items:
            raise _Invalid(f"must have at most {max_items} items")
        out = []
        for i, x in enumerate(v):
            try:
                out.append(item(x))
            except _Invalid as exc:
                raise _Invalid(f"item {i + 1} {exc}") from None
        if unique and len(set(map(str, out))) != len(out):
            raise _Invalid("must not repeat an item")
        return out

    return check


def obj(**fields: tuple[Check, bool]) -> Check:
    """A JSON object with the named keys (check, required); no others."""

    def check(v: Any) -> dict[str, Any]:
        if not isinstance(v, dict):
            raise _Invalid("must be an object")
        extra = set(v) - set(fields)
        if extra:
            raise _Invalid("has unknown keys: " + ", ".join(sorted(map(str, extra))))
        out = {}
        for name, (c, required) in fields.items():
            if name not in v or v[name] is None:
                if required:
                    raise _Invalid(f"needs '{name}'")
                out[name] = None
                continue
            try:
                out[name] = c(v[name])
            except _Invalid as exc:
                raise _Invalid(f"'{name}' {exc}") from None
        return out

    return check


NAME = string(200)
TEXT = string(10_000)
LAT = number(-90, 90)
LON = number(-180, 180)
F = FieldSpec

ENTITY_TYPES: dict[str, dict[str, FieldSpec]] = {
    "school": {
        "name": F(NAME, required=True),
        "urn": F(nullable(string(7, r"\d{5,7}", "a 6-digit URN"))),
        "address": F(nullable(string(500))),
        "postcode": F(nullable(string(10))),
        "lat": F(nullable(LAT)),
        "lon": F(nullable(LON)),
        "day_starts": F(nullable(clock_time)),
    },
    "household": {
        "address": F(string(500), required=True),
        "postcode": F(nullable(string(10))),
        "lat": F(nullable(LAT)),
        "lon": F(nullable(LON)),
        "contacts": F(nullable(list_of(obj(name=(NAME, True), relationship=(string(100), False),
                                           phone=(string(40), False)), 20))),
        "language": F(nullable(string(100))),
        "access_notes": F(nullable(string(2000))),
    },
    "pupil": {
        "upn": F(string(13, r"[A-Z0-9]{13}", "a 13-character UPN"), required=True),
        "first_name": F(NAME, required=True),
        "last_name": F(NAME, required=True),
        "date_of_birth": F(nullable(date)),
        "year_group": F(nullable(integer(-1, 14))),
        "school_id": F(ref, required=True),
        "household_id": F(nullable(ref)),
        "send": F(nullable(enum(SEND))),
        "transport_eligible": F(nullable(boolean)),
        # from the school roll (docs/register.md)
        "on_roll_from": F(nullable(date)),
        "left_on": F(nullable(date)),
        "destination": F(nullable(string(200))),
        "free_school_meals": F(nullable(boolean)),
        "child_in_need": F(nullable(boolean)),
        "child_protection": F(nullable(boolean)),
        # read-only, from the register
        "possible_sessions": F(nullable(integer(0, 10_000))),
        "attended_sessions": F(nullable(integer(0, 10_000))),
        "authorised_absences": F(nullable(integer(0, 10_000))),
        "unauthorised_absences": F(nullable(integer(0, 10_000))),
        "attendance_pct": F(nullable(number(0, 100))),
        "band": F(nullable(enum(BANDS))),
        "unauthorised_last_10_weeks": F(nullable(integer(0, 10_000))),
        "penalty_threshold_met": F(nullable(boolean)),
    },
    "case": {
        "pupil_id": F(ref, required=True),
        "assigned_officer_id": F(nullable(ref)),
        "status": F(enum(("open", "closed"))),
        "stage": F(enum(STAGES)),
        "agencies": F(nullable(list_of(enum(AGENCIES), len(AGENCIES), unique=True))),
        "family_consent": F(nullable(enum(CONSENT))),
        "opened_on": F(nullable(date)),
        "summary": F(nullable(TEXT)),
    },
    "visit": {
        "case_id": F(ref, required=True),
        "household_id": F(nullable(ref)),
        "officer_id": F(nullable(ref)),
        "planned_for": F(nullable(date_or_time)),
        "started_at": F(nullable(timestamp)),
        "ended_at": F(nullable(timestamp)),
        "lat": F(nullable(LAT)),
        "lon": F(nullable(LON)),
        "accuracy_m": F(nullable(number(0, 100_000))),
        "outcome": F(nullable(enum(OUTCOMES))),
        "child_seen": F(nullable(boolean)),
        "safeguarding_concern": F(nullable(boolean)),
        "concern_details": F(nullable(TEXT)),
        "barriers": F(nullable(list_of(enum(BARRIERS), len(BARRIERS), unique=True))),
        "notes": F(nullable(TEXT)),
        "status": F(enum(RECORD_STATUS)),
    },
    "conversation": {
        "visit_id": F(nullable(ref)),
        "case_id": F(ref, required=True),
        "spoke_with": F(nullable(NAME)),
        "reason_given": F(nullable(TEXT)),
        "barriers": F(nullable(list_of(enum(BARRIERS), len(BARRIERS), unique=True))),
        "parent_view": F(nullable(TEXT)),
        "agreed_actions": F(nullable(list_of(obj(action=(string(500), True), owner=(NAME, False),
                                                 due_on=(date, False)), 50))),
        "next_contact_on": F(nullable(date)),
        "status": F(enum(RECORD_STATUS)),
    },
    "transport_run": {
        "date": F(date, required=True),
        "school_id": F(ref, required=True),
        "driver_id": F(nullable(ref)),
        "vehicle": F(nullable(string(100))),
        "seats": F(nullable(integer(1, 80))),
        "status": F(enum(RUN_STATUS)),
        "departed_at": F(nullable(timestamp)),
        "arrived_at": F(nullable(timestamp)),
    },
    "transport_stop": {
        "run_id": F(ref, required=True),
        "position": F(nullable(integer(0, 1000))),
        "pupil_id": F(ref, required=True),
        "household_id": F(nullable(ref)),
        "lat": F(nullable(LAT)),
        "lon": F(nullable(LON)),
        "eta": F(nullable(timestamp)),
        "status": F(enum(STOP_STATUS)),
        "event_at": F(nullable(timestamp)),
        "event_lat": F(nullable(LAT)),
        "event_lon": F(nullable(LON)),
    },
    "task": {
        "case_id": F(ref, required=True),
        "assigned_to": F(nullable(ref)),
        "title": F(string(300), required=True),
        "due_on": F(nullable(date)),
        "done": F(nullable(boolean)),
    },
    "note": {
        "subject_type": F(enum(("school", "household", "pupil", "case", "visit", "conversation",
                                "transport_run", "transport_stop", "task")), required=True),
        "subject_id": F(ref, required=True),
        "text": F(string(10_000), required=True),
        "author_id": F(nullable(ref)),
        "case_id": F(nullable(ref)),  # derived by the server from the subject
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
}

# Fields nobody may write through a push: the register computes them.
REGISTER_FIELDS = frozenset({
    "possible_sessions", "attended_sessions", "authorised_absences", "unauthorised_absences",
    "attendance_pct", "band", "unauthorised_last_10_weeks", "penalty_threshold_met"})
# Fields the server fills from the token, never from the body.
AUTHOR_FIELDS = {"visit": "officer_id", "note": "author_id"}
# Fields fixed once the record exists.
IMMUTABLE_FIELDS: dict[str, frozenset[str]] = {
    "visit": frozenset({"case_id", "officer_id"}),
    "conversation": frozenset({"case_id"}),
    "task": frozenset({"case_id"}),
    "note": frozenset({"subject_type", "subject_id", "author_id", "case_id"}),
    "transport_stop": frozenset({"run_id"}),
    "case": frozenset({"pupil_id"}),
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
}
# Records that may be deleted (with the status they must have, if any).
DELETABLE: dict[str, str | None] = {"task": None, "visit": "draft", "conversation": "draft"}
# Records that freeze once submitted.
SUBMITTABLE = frozenset({"visit", "conversation"})
SERVER_FIELDS = frozenset({"id", "created_at", "created_by", "updated_at", "updated_by"})


def validate_fields(type_: str, fields: dict[str, Any]) -> tuple[dict[str, Any], list[ChangeError]]:
    """Check each field's value; unknown fields are errors. Returns clean values."""
    specs = ENTITY_TYPES[type_]
    clean: dict[str, Any] = {}
    errors: list[ChangeError] = []
    for name, value in fields.items():
        if name in SERVER_FIELDS:
            continue  # stamped by the server; a client echoing them back is harmless
        spec = specs.get(name)
        if spec is None:
            errors.append(ChangeError(name, "validation_failed", f"{type_} has no field '{name}'"))
            continue
        try:
            clean[name] = spec.check(value)
        except _Invalid as exc:
            errors.append(ChangeError(name, "validation_failed", f"{name} {exc}"))
    return clean, errors


def missing_required(type_: str, fields: dict[str, Any]) -> list[ChangeError]:
    return [ChangeError(name, "validation_failed", f"{name} is required when a {type_} is created")
            for name, spec in ENTITY_TYPES[type_].items()
            if spec.required and fields.get(name) is None]


def check_complete(type_: str, fields: dict[str, Any]) -> list[ChangeError]:
    """Rules on the whole record as it would be after the change."""
    errors: list[ChangeError] = []
    if type_ in SUBMITTABLE and fields.get("status") == "submitted":
        if type_ == "visit" and not fields.get("outcome"):
            errors.append(ChangeError("outcome", "validation_failed",
                                      "a visit needs an outcome before it is submitted"))
        if type_ == "conversation" and not fields.get("spoke_with"):
            errors.append(ChangeError("spoke_with", "validation_failed",
                                      "a conversation needs who was spoken to before it is submitted"))
    if type_ == "visit" and fields.get("safeguarding_concern") and not (fields.get("concern_details") or "").strip():
        if fields.get("status") == "submitted":
            errors.append(ChangeError("concern_details", "validation_failed",
                                      "a safeguarding concern needs its details"))
    return errors
