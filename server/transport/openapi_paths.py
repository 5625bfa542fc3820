"""The OpenAPI description of the fleet, pupils' needs and county plan endpoints (docs/routing.md
section 8), added to ``server/openapi.py``'s document."""
from __future__ import annotations

from typing import Any

from ..openapi import UUID, _answer, _collection, _errors, _op, _path, _query, _ref
from .runs import DATE_PATTERN

CLOCK = {"type": "string", "pattern": r"^([01]\d|2[0-3]):[0-5]\d$"}
PLACE = {"type": "object", "required": ["lat", "lon"],
         "properties": {"lat": {"type": "number", "minimum": -90, "maximum": 90},
                        "lon": {"type": "number", "minimum": -180, "maximum": 180},
                        "label": {"type": "string", "maxLength": 200}}}
MONEY = {"type": "number", "minimum": 0, "maximum": 10000}
VEHICLE = {"type": "object", "properties": {
    "name": {"type": "string", "minLength": 1, "maxLength": 100}, "contractor": {"type": "string", "maxLength": 100},
    "seats": {"type": "integer", "minimum": 0, "maximum": 80},
    "wheelchair_places": {"type": "integer", "minimum": 0, "maximum": 10}, "escort": {"type": "boolean"},
    "depot": PLACE, "available_from": CLOCK, "available_to": CLOCK, "day_rate": MONEY, "per_km": MONEY}}
NEED = {"type": "object", "properties": {
    "pickup": {"oneOf": [PLACE, {"type": "null"}]},
    "window": {"oneOf": [{"type": "object", "required": ["from", "to"],
                          "properties": {"from": CLOCK, "to": CLOCK}}, {"type": "null"}]},
    "boarding_s": {"type": "integer", "minimum": 0, "maximum": 1800},
    "seats": {"type": "integer", "minimum": 0, "maximum": 4}, "wheelchair": {"type": "boolean"},
    "escort": {"type": "boolean"}, "travel_alone": {"type": "boolean"}, "siblings_together": {"type": "boolean"},
    "max_ride_min": {"type": ["integer", "null"], "minimum": 5, "maximum": 240},
    "driver_note": {"type": "string", "maxLength": 200}}}
RETIRED = _query("retired", {"type": "string", "enum": ["exclude", "include"]})


def _created(summary: str, body: dict[str, Any]) -> dict[str, Any]:
    return {**_op(summary, {}, (), body=body),
            "responses": {"201": _answer({"type": "object"}, "Created"), **_errors(401, 403, 413, 422),
                          "409": _answer(_ref("Error"), "Already recorded, or the fleet is full")}}


def paths() -> dict[str, Any]:
    retire = {"retired": {"type": "boolean"}}
    return {
        "/api/transport/vehicles": {
            "get": _op("The fleet (office, admin)", _collection({"type": "object"}), (401, 403, 422),
                       params=[RETIRED]),
            "post": _created("Add a vehicle to the fleet (office, admin)", {**VEHICLE, "required": ["name", "seats",
                                                                                                   "depot"]})},
        "/api/transport/vehicles/{vehicle_id}": {"patch": _op(
            "Change or retire a vehicle (office, admin)", {"type": "object"}, (401, 403, 404, 413, 422),
            body={**VEHICLE, "properties": {**VEHICLE["properties"], **retire}}, params=[_path("vehicle_id")])},
        "/api/transport/needs": {
            "get": _op("Pupils' transport needs (office, admin; audited)", _collection({"type": "object"}),
                       (401, 403, 422), params=[RETIRED, _query("school_id", UUID)]),
            "post": _created("Record a pupil's transport needs (office, admin)",
                             {**NEED, "required": ["pupil_id"], "properties": {**NEED["properties"], "pupil_id": UUID}})},
        "/api/transport/needs/{pupil_id}": {"patch": _op(
            "Change or retire a pupil's transport needs (office, admin)", {"type": "object"},
            (401, 403, 404, 413, 422), body={**NEED, "properties": {**NEED["properties"], **retire}},
            params=[_path("pupil_id")])},
        "/api/transport/county-plans": {"post": {**_op(
            "Plan a county's runs from the fleet and pupils' needs, as a job (office, admin)", {}, (),
            body={"type": "object", "required": ["date", "schools"], "properties": {
                "date": {"type": "string", "format": "date", "pattern": DATE_PATTERN},
                "run": {"type": "string", "enum": ["morning", "afternoon"]},
                "schools": {"type": "array", "minItems": 1, "maxItems": 20, "items": {
                    "type": "object", "required": ["school_id"],
                    "properties": {"school_id": UUID, "arrive_by": CLOCK, "leaves_at": CLOCK}}},
                "pupil_ids": {"type": "array", "items": UUID}, "vehicle_ids": {"type": "array", "items": UUID},
                "keep_unchanged": {"type": "boolean"},
                "time_budget_s": {"type": "number", "minimum": 0.1, "maximum": 300}}}),
            "responses": {"202": _answer({"type": "object", "required": ["job_id", "status_url"],
                                          "properties": {"job_id": UUID, "status": {"type": "string"},
                                                         "time_budget_s": {"type": "number"},
                                                         "status_url": {"type": "string"}}}, "Queued"),
                          **_errors(401, 403, 413, 422)}}},
    }
