"""sync/schema.py: field checks, required fields, whole-record rules (PROTOCOL §7)."""
from __future__ import annotations

from typing import Any

import pytest

from sync import ENTITY_TYPES
from sync.schema import DEFAULTS, check_complete, missing_required, validate_fields

CASE = "ca000000-0000-4000-8000-000000000001"


def codes(errors: list[Any]) -> list[tuple[Any, str]]:
    return [(e.field, e.code) for e in errors]


def test_ten_types() -> None:
    """The protocol's ten, the two the server writes for officers (docs/protocol.md §7.6, §7.7), and
    parents and support plans (§7.8, §7.9)."""
    assert sorted(ENTITY_TYPES) == sorted(["school", "household", "pupil", "case", "visit", "conversation",
                                           "transport_run", "transport_stop", "task", "note",
                                           "notice", "review", "person", "support_plan",
                                           "wellbeing_plan", "check_in"])  # §7.10, §7.11


@pytest.mark.parametrize("type_, fields, clean", [
    ("visit", {"started_at": "2026-11-23T08:15:00+01:00"}, {"started_at": "2026-11-23T07:15:00Z"}),
    ("visit", {"started_at": "2026-11-23T08:15:00.000Z"}, {"started_at": "2026-11-23T08:15:00Z"}),
    ("visit", {"started_at": "2026-11-23T08:15:02.418765Z"}, {"started_at": "2026-11-23T08:15:02.418Z"}),
    ("visit", {"started_at": "2026-11-23T08:15Z"}, {"started_at": "2026-11-23T08:15:00Z"}),
    ("visit", {"case_id": CASE.upper()}, {"case_id": CASE}),
    ("school", {"day_starts": "08:45", "urn": "123456"}, {"day_starts": "08:45", "urn": "123456"}),
    ("task", {"due_on": "2028-02-29", "done": True}, {"due_on": "2028-02-29", "done": True}),
    ("visit", {"notes": None}, {"notes": None}),
    ("visit", {"id": "x", "created_at": "x", "updated_by": "x"}, {}),  # server-stamped: ignored
])
def test_values_are_checked_and_normalised(type_: str, fields: dict[str, Any], clean: dict[str, Any]) -> None:
    got, errors = validate_fields(type_, fields)
    assert errors == []
    assert got == clean


@pytest.mark.parametrize("type_, fields, field", [
    ("visit", {"started_at": "2026-11-23T08:15:00"}, "started_at"),  # no zone
    ("visit", {"outcome": "maybe"}, "outcome"),
    ("visit", {"lat": 91}, "lat"),
    ("visit", {"barriers": ["bullying", "bullying"]}, "barriers"),
    ("visit", {"notes": "x" * 10_001}, "notes"),
    ("visit", {"colour": "red"}, "colour"),
    ("visit", {"status": None}, "status"),  # never null
    ("task", {"due_on": "2027-02-29"}, "due_on"),  # not a calendar day
    ("task", {"done": "yes"}, "done"),
    ("pupil", {"upn": "a000000000001"}, "upn"),
    ("pupil", {"year_group": 15}, "year_group"),
    ("school", {"day_starts": "24:00"}, "day_starts"),
    ("household", {"contacts": [{"name": "A", "email": "x"}]}, "contacts"),
    ("household", {"contacts": [{"relationship": "aunt"}]}, "contacts"),
    ("case", {"pupil_id": "not-a-uuid"}, "pupil_id"),
])
def test_bad_values_name_their_field(type_: str, fields: dict[str, Any], field: str) -> None:
    _, errors = validate_fields(type_, fields)
    assert codes(errors) == [(field, "validation_failed")]


def test_every_bad_field_is_reported() -> None:
    _, errors = validate_fields("visit", {"outcome": "maybe", "lat": 200, "notes": "fine"})
    assert codes(errors) == [("outcome", "validation_failed"), ("lat", "validation_failed")]


def test_required_on_create() -> None:
    assert codes(missing_required("task", {"case_id": CASE})) == [("title", "validation_failed")]
    assert missing_required("task", {"case_id": CASE, "title": "t"}) == []
    assert missing_required("visit", {**DEFAULTS["visit"], "case_id": CASE}) == []
    assert [e.message for e in missing_required("note", {"text": "x"})] == [
        "subject_type is required when a note is created", "subject_id is required when a note is created"]


def test_defaults_on_create() -> None:
    assert DEFAULTS["case"] == {"status": "open", "stage": "support", "agencies": [], "family_consent": "not_asked"}
    assert DEFAULTS["visit"] == {"status": "draft", "barriers": [], "safeguarding_concern": False}
    assert DEFAULTS["task"] == {"done": False}
    assert DEFAULTS["household"] == {"contacts": []}


@pytest.mark.parametrize("record, want", [
    ({"status": "draft"}, []),
    ({"status": "submitted"}, [("outcome", "validation_failed")]),
    ({"status": "submitted", "outcome": "no_answer"}, []),
    ({"status": "submitted", "outcome": "no_answer", "safeguarding_concern": True}, [("concern_details", "validation_failed")]),
    ({"status": "submitted", "outcome": "no_answer", "safeguarding_concern": True, "concern_details": "   "},
     [("concern_details", "validation_failed")]),
    ({"status": "submitted", "outcome": "no_answer", "safeguarding_concern": True, "concern_details": "Bruise"}, []),
    ({"status": "draft", "safeguarding_concern": True}, []),
])
def test_a_visit_is_complete_before_it_is_submitted(record: dict[str, Any], want: list[tuple[str, str]]) -> None:
    assert codes(check_complete("visit", record)) == want


def test_a_conversation_needs_who_was_spoken_to() -> None:
    assert codes(check_complete("conversation", {"status": "submitted"})) == [("spoke_with", "validation_failed")]
    assert check_complete("conversation", {"status": "submitted", "spoke_with": "Mother"}) == []
    assert check_complete("task", {"title": ""}) == []


# --- consistency checks (CONSISTENCY; docs/pwa.md "Consistency checks") -----------------------

@pytest.mark.parametrize("record, want", [
    # the outcome says the child was seen: "child seen" false cannot be true (an error)
    ({"outcome": "child_seen", "child_seen": False}, [("child_seen", "validation_failed")]),
    ({"outcome": "seen_child_and_parent", "child_seen": False, "status": "draft"}, [("child_seen", "validation_failed")]),
    ({"outcome": "seen_child_and_parent", "child_seen": True}, []),
    ({"outcome": "child_seen"}, []),  # not said either way: nothing to contradict
    # no contact at the door with the child seen can be true (at a window): a warning, the server accepts
    ({"status": "submitted", "outcome": "no_answer", "child_seen": True}, []),
    ({"status": "submitted", "outcome": "refused", "child_seen": True}, []),
    # started after it ended, in any offsets
    ({"started_at": "2026-11-04T10:30:00Z", "ended_at": "2026-11-04T10:20:00Z"}, [("started_at", "validation_failed")]),
    ({"started_at": "2026-11-04T10:30:00+01:00", "ended_at": "2026-11-04T10:20:00Z"}, []),
    ({"started_at": "2026-11-04T10:00:00Z", "ended_at": "2026-11-04T10:00:00Z"}, []),
    ({"started_at": "2026-11-04T10:00:00Z"}, []),
    # a visit dated in the future: only the phone can tell (it knows when it was recorded)
    ({"started_at": "2999-01-01T10:00:00Z"}, []),
])
def test_consistency_errors_on_the_server(record: dict[str, Any], want: list[tuple[str, str]]) -> None:
    assert codes(check_complete("visit", record)) == want


def test_consistency_rules_are_well_formed() -> None:
    from sync.schema import CONSISTENCY, FIELDS

    assert len({r["id"] for r in CONSISTENCY}) == len(CONSISTENCY)
    for r in CONSISTENCY:
        assert r["level"] in ("error", "warning") and r["type"] in FIELDS and r["field"] in FIELDS[r["type"]]
        assert r.get("test") in (None, "before", "future", "past") and r.get("where") in (None, "phone")
        assert r.get("test") not in ("future", "past") or r.get("where") == "phone", "the clock tests are the phone's"
        assert all(k in FIELDS[r["type"]] and isinstance(v, list) for k, v in r["when"].items())
        assert r["message"] and r["ask"]
    levels = {r["id"]: r["level"] for r in CONSISTENCY}
    assert levels["seen_outcome_child_not_seen"] == "error" and levels["no_contact_child_seen"] == "warning"


def test_the_demo_data_keeps_the_consistency_rules() -> None:
    """No demo visit or conversation breaks an error, nor matches a warning the server can see."""
    from fixtures.demo import generate
    from sync.consistency import breaks
    from sync.schema import CONSISTENCY

    data = generate()
    records = {"visit": data.visits, "conversation": data.conversations}
    for rule in CONSISTENCY:
        if rule.get("where") == "phone":
            continue
        broken = [r["id"] for r in records.get(rule["type"], []) if breaks(rule, r)]
        assert broken == [], (rule["id"], broken[:5])
    assert all(check_complete("visit", v) == [] for v in data.visits)
