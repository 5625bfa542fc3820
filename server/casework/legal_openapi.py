"""The OpenAPI description of the legal steps' endpoints (docs/casework.md), added to
``server/openapi.py``'s document."""
from __future__ import annotations

from typing import Any

from ..openapi import UUID, _answer, _errors, _op, _path, _query, _text

DAY = {"type": "string", "format": "date", "pattern": r"^\d{4}-\d{2}-\d{2}$"}
SESSION = {"type": "object", "required": ["date", "session"],
           "properties": {"date": DAY, "session": {"type": "string", "enum": ["AM", "PM"]}}}
REQUEST = {"type": "object", "required": ["sessions"], "properties": {
    "person_id": UUID, "parent_name": _text(200), "parent_address": _text(500),
    "ground": {"type": "string", "enum": ["threshold", "holiday"]}, "requested_by": _text(200),
    "requested_on": DAY, "note": _text(2000), "sessions": {"type": "array", "items": SESSION, "minItems": 1,
                                                           "maxItems": 400}}}
CREATED = {"type": "object", "required": ["id", "status"], "properties": {
    "id": UUID, "status": {"type": "string", "enum": ["requested", "refused"]},
    "refusal_reason": {"type": ["string", "null"]}, "other_tools": {"type": "array", "items": {"type": "string"}}}}


def paths() -> dict[str, Any]:
    return {
        "/api/casework/cases/{case_id}/legal": {"get": _op(
            "A case's Notices to Improve and penalty notices, with their sessions, letters and history (office, admin)",
            {"type": "object", "required": ["case_id", "notices"],
             "properties": {"case_id": UUID, "pupil_id": UUID, "stage": {"type": ["string", "null"]},
                            "notices": {"type": "array", "items": {"type": "object"}}}},
            (401, 403, 404), params=[_path("case_id")])},
        "/api/casework/cases/{case_id}/penalty-notices": {"post": {**_op(
            "Request a penalty notice for one parent, resting on these unauthorised sessions (office, admin)",
            {}, (401, 403, 404, 413, 422), body=REQUEST, params=[_path("case_id")]),
            "responses": {"201": _answer(CREATED, "Recorded: requested, or refused as a third in 3 years"),
                          "409": _answer({"$ref": "#/components/schemas/Error"},
                                         "A session already evidences a notice to this parent for this child"),
                          **_errors(401, 403, 404, 413, 422)}}},
        "/api/casework/legal/due": {"get": _op(
            "Notices in progress, what is due first (office, admin)",
            {"type": "object", "required": ["items"], "properties": {"items": {"type": "array",
                                                                               "items": {"type": "object"}}}},
            (401, 403))},
        "/api/casework/school-weeks": {"get": _op(
            "The last school day of N school weeks from a date, on the authority's (or a school's) term dates",
            {"type": "object", "required": ["start", "weeks", "ends_on"],
             "properties": {"start": DAY, "weeks": {"type": "integer"}, "ends_on": DAY}},
            (401, 403, 422), params=[{"name": "start", "in": "query", "required": True, "schema": DAY},
                                     _query("weeks", {"type": "integer", "minimum": 1, "maximum": 52}),
                                     _query("school_id", UUID)])},
    }
