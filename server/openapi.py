"""The OpenAPI 3.1 description of every endpoint, built from the entity schema."""
from __future__ import annotations

from functools import cache
from typing import Any

from sync.schema import ENTITY_TYPES, ENUMS, FIELDS

from .http import NOT_BLANK
from .transport.runs import DATE_PATTERN as RUN_DATE

JSON = "application/json"
UUID = {"type": "string", "format": "uuid"}
HLC = {"type": "string", "pattern": r"^\d{15}-\d{6}-[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$"}


_FORMATS = {"date": {"type": "string", "format": "date"},
            "timestamp": {"type": "string", "format": "date-time"},
            "date_or_time": {"type": "string", "description": "a date (YYYY-MM-DD) or an ISO 8601 UTC time"},
            "clock_time": {"type": "string", "pattern": r"^([01]\d|2[0-3]):[0-5]\d$"},
            "ref": UUID, "boolean": {"type": "boolean"}}


def field_schema(spec: dict[str, Any]) -> dict[str, Any]:
    """The JSON Schema of one field declared in ``sync.schema.FIELDS``."""
    kind = spec["kind"]
    out: dict[str, Any]
    if kind in _FORMATS:
        out = dict(_FORMATS[kind])
    elif kind == "string":
        out = {"type": "string", "maxLength": spec["max"]}
        if "pattern" in spec:
            out["pattern"] = f"^(?:{spec['pattern']})$"
    elif kind == "enum":
        out = {"type": "string", "enum": list(ENUMS[spec["enum"]])}
    elif kind in ("integer", "number"):
        out = {"type": kind, "minimum": spec["min"], "maximum": spec["max"]}
    elif kind == "list":
        out = {"type": "array", "items": field_schema(spec["items"]), "maxItems": spec["max_items"]}
        if spec.get("unique"):
            out["uniqueItems"] = True
    elif kind == "object":
        out = {"type": "object", "additionalProperties": False,
               "properties": {name: field_schema(sub) for name, sub in spec["fields"].items()},
               "required": [name for name, sub in spec["fields"].items() if sub.get("required")]}
        if not out["required"]:
            del out["required"]
    else:
        raise ValueError(f"unknown field kind {kind!r}")
    if spec.get("nullable"):
        if "enum" in out:
            out["enum"] = [*out["enum"], None]
        out["type"] = [out["type"], "null"]
    return out


def entity_schema(type_: str) -> dict[str, Any]:
    """A record's fields as a push writes them (every field optional: a change may send a few;
    ``x-required-on-create`` names those a new record must have)."""
    return {"type": "object",
            "properties": {name: field_schema(spec) for name, spec in FIELDS[type_].items()},
            "x-required-on-create": [name for name, spec in FIELDS[type_].items() if spec.get("required")]}


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json_body(schema: dict[str, Any], required: bool = True) -> dict[str, Any]:
    return {"required": required, "content": {JSON: {"schema": schema}}}


def _answer(schema: dict[str, Any], description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {JSON: {"schema": schema}}}


def _errors(*statuses: int) -> dict[str, Any]:
    names = {400: "Bad request", 401: "Not signed in, token expired or device revoked",
             403: "Role or scope forbids it", 404: "Not found", 413: "Payload too large",
             422: "Validation failed", 426: "Upgrade required", 429: "Rate limited",
             503: "Busy, or not ready (Retry-After)", 507: "Storage full (Retry-After)"}
    return {str(s): _answer(_ref("Error"), names[s]) for s in statuses}


def _collection(item: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "required": ["items", "next"],
            "properties": {"items": {"type": "array", "items": item},
                           "next": {"type": ["string", "null"]}}}


def _op(summary: str, answer: dict[str, Any], errors: tuple[int, ...], body: dict[str, Any] | None = None,
        params: list[dict[str, Any]] | None = None, secured: bool = True,
        sync_header: bool = False) -> dict[str, Any]:
    op: dict[str, Any] = {"summary": summary, "responses": {"200": _answer(answer), **_errors(*errors)}}
    parameters = list(params or [])
    if sync_header:
        parameters.append({"name": "Doorstep-Protocol", "in": "header", "required": True,
                           "schema": {"type": "string", "enum": ["1"]}})
    if parameters:
        op["parameters"] = parameters
    if body is not None:
        op["requestBody"] = _json_body(body)
    if secured:
        op["security"] = [{"bearer": []}]
    return op


def _query(name: str, schema: dict[str, Any], description: str = "") -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


def _path(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": UUID}


LIMIT = _query("limit", {"type": "integer", "minimum": 1})
CURSOR = _query("cursor", {"type": "string", "maxLength": 200})


def _text(max_len: int, min_len: int = 1) -> dict[str, Any]:
    """A string ``server.http.string_field`` takes: not only white space, at most ``max_len``."""
    return {"type": "string", "minLength": min_len, "maxLength": max_len, "pattern": NOT_BLANK}


@cache
def spec() -> dict[str, Any]:
    schemas: dict[str, Any] = {
        "Error": {"type": "object", "required": ["error"], "properties": {"error": {
            "type": "object", "required": ["code", "message", "details"],
            "properties": {"code": {"type": "string"}, "message": {"type": "string"},
                           "details": {"type": "object"}}}}},
        "User": {"type": "object", "required": ["id", "username", "display_name", "role"],
                 "properties": {"id": UUID, "username": {"type": "string"},
                                "display_name": {"type": "string"},
                                "role": {"type": "string", "enum": ["officer", "office", "admin"]}}},
        "TokenPair": {"type": "object",
                      "required": ["access_token", "refresh_token", "expires_in", "device_id", "user"],
                      "properties": {"access_token": {"type": "string"}, "refresh_token": {"type": "string"},
                                     "expires_in": {"type": "integer"}, "device_id": UUID,
                                     "user": _ref("User")}},
        "Change": {"type": "object", "required": ["change_id", "type", "id", "op", "hlc"],
                   "properties": {"change_id": UUID, "type": {"type": "string", "enum": list(ENTITY_TYPES)},
                                  "id": UUID, "op": {"type": "string", "enum": ["put", "delete"]},
                                  "fields": {"type": "object"},
                                  "base_version": {"type": ["integer", "null"], "minimum": 0},
                                  "hlc": HLC}},
        "Result": {"type": "object", "required": ["change_id", "status", "version", "errors", "lost_fields"],
                   "properties": {"change_id": {"type": ["string", "null"]},
                                  "status": {"type": "string",
                                             "enum": ["applied", "merged", "rejected", "duplicate"]},
                                  "version": {"type": ["integer", "null"]},
                                  "errors": {"type": "array", "items": {"type": "object"}},
                                  "lost_fields": {"type": "array", "items": {"type": "string"}},
                                  "clock_skew": {"type": "boolean"}}},
        "PullItem": {"type": "object", "required": ["type", "id"],
                     "properties": {"type": {"type": "string"}, "id": UUID, "version": {"type": "integer"},
                                    "deleted": {"type": "boolean"}, "removed": {"type": "boolean"},
                                    "fields": {"type": "object"}}},
        "Side": {"type": "object", "properties": {"value": {}, "by": {"type": ["string", "null"]},
                                                  "hlc": {"type": ["string", "null"]}}},
        "Conflict": {"type": "object",
                     "required": ["id", "type", "entity_id", "field", "kept", "lost", "status"],
                     "properties": {"id": UUID, "type": {"type": "string"}, "entity_id": UUID,
                                    "field": {"type": ["string", "null"]}, "kept": _ref("Side"),
                                    "lost": _ref("Side"),
                                    "status": {"type": "string", "enum": ["open", "resolved"]},
                                    "choice": {"type": ["string", "null"], "enum": ["kept", "lost", "combined", None]},
                                    "value": {"description": "the combined value written, when choice is combined"}}},
        "Device": {"type": "object", "properties": {"id": UUID, "user": {"type": "object"},
                                                    "name": {"type": "string"},
                                                    "last_sync_at": {"type": ["string", "null"]},
                                                    "revoked": {"type": "boolean"},
                                                    "revocation": {"type": ["object", "null"]},
                                                    "unsent": {"type": ["integer", "null"]},
                                                    "unsent_since": {"type": ["string", "null"]},
                                                    "app_version": {"type": ["string", "null"]},
                                                    "phone_last_sync_at": {"type": ["string", "null"]}}},
        "ImportReport": {"type": "object", "required": ["stored", "rejected"],
                         "properties": {"rows_read": {"type": "integer"}, "stored": {"type": "integer"},
                                        "unchanged": {"type": "integer"},
                                        "pupils_updated": {"type": "integer"},
                                        "import_id": UUID, "extracted_at": {"type": "string"},
                                        "superseded": {"type": "integer"},
                                        "rejected_count": {"type": "integer"},
                                        "superseded_rows": {"type": "array", "items": {"type": "object"}},
                                        "status": {"type": "string", "enum": ["running", "done"]},
                                        "rejected": {"type": "array", "items": {
                                            "type": "object", "properties": {"line": {"type": "integer"},
                                                                             "reason": {"type": "string"}}}}}},
    }
    paths: dict[str, Any] = {
        "/api/health": {"get": _op("Liveness", {"type": "object", "properties": {"status": {"const": "ok"}}},
                                   (), secured=False)},
        "/api/openapi.json": {"get": _op("This description", {"type": "object"}, (), secured=False)},
        "/api/ready": {"get": _op("Readiness: database writable, migrations current, disk space above the "
                                  "threshold (503 not_ready names the failed checks)",
                                  {"type": "object", "properties": {"status": {"const": "ready"},
                                                                    "checks": {"type": "object"}}},
                                  (503,), secured=False)},
        "/api/auth/login": {"post": _op(
            "Sign in on a device", _ref("TokenPair"), (401, 403, 413, 422, 429, 503, 507), secured=False,
            body={"type": "object", "required": ["username", "password", "device_name"],
                  "properties": {"username": _text(100), "password": _text(1024), "device_name": _text(200),
                                 # the second factor (docs/users.md): 401 totp_required without it
                                 "totp_code": {"type": ["string", "null"], "maxLength": 20}}})},
        "/api/auth/reset-password": {"post": _op(
            "Exchange an admin's one-time code for a new password", {"type": "object"}, (401, 413, 422),
            secured=False,
            body={"type": "object", "required": ["username", "code", "new_password"],
                  "properties": {"username": _text(100), "code": _text(64),
                                 "new_password": _text(1024, min_len=8)}})},
        "/api/auth/refresh": {"post": _op(
            "Rotate a refresh token for a new pair (reuse revokes the device)", _ref("TokenPair"),
            (401, 413, 422), secured=False,
            body={"type": "object", "required": ["refresh_token"],
                  "properties": {"refresh_token": _text(200)}})},
        "/api/auth/logout": {"post": _op("Revoke this device's session", {"type": "object"}, (401,))},
        "/api/devices": {"get": _op("Devices (office, admin)", _collection(_ref("Device")), (401, 403, 422),
                                    params=[LIMIT, CURSOR])},
        "/api/devices/{device_id}/revoke": {"post": {**_op(
            "Revoke a device as lost (no body: cut off at once) or returned (one final push): "
            "its tokens answer device_revoked and the app wipes itself",
            {"type": "object"}, (401, 403, 404, 413, 422), params=[_path("device_id")]),
            "requestBody": _json_body({"type": "object", "properties": {
                "kind": {"type": "string", "enum": ["lost", "returned"]},
                "reason": {"type": ["string", "null"], "maxLength": 500}}}, required=False)}},
        "/api/sync/push": {"post": _op(
            "Push a batch of changes", {"type": "object", "required": ["results", "server_hlc", "server_time"],
                                        "properties": {"results": {"type": "array", "items": _ref("Result")},
                                                       "server_hlc": HLC, "server_time": {"type": "string"},
                                                       "final": {"type": "boolean"}}},
            (401, 413, 422, 426, 503, 507), sync_header=True,
            body={"type": "object", "required": ["changes"],
                  "properties": {"client_id": {"type": "string", "maxLength": 100},
                                 "changes": {"type": "array", "maxItems": 1000, "items": _ref("Change")}}})},
        "/api/sync/pull": {"get": _op(
            "Pull changes in scope since a cursor",
            {"type": "object", "required": ["changes", "cursor", "has_more", "server_hlc", "server_time"],
             "properties": {"changes": {"type": "array", "items": _ref("PullItem")},
                            "cursor": {"type": ["string", "null"]}, "has_more": {"type": "boolean"},
                            "reset": {"type": "boolean"}, "server_hlc": HLC,
                            "server_time": {"type": "string"}}},
            (401, 422, 426, 503, 507), params=[CURSOR, LIMIT], sync_header=True)},
        "/api/conflicts": {"get": _op(
            "Conflicts (office, admin)", _collection(_ref("Conflict")), (401, 403, 422),
            params=[_query("status", {"type": "string", "enum": ["open", "resolved"]}), LIMIT, CURSOR])},
        "/api/conflicts/{conflict_id}/resolve": {"post": _op(
            "Resolve a conflict by choosing a side, or with a combined value", _ref("Conflict"),
            (401, 403, 404, 413, 422),
            params=[_path("conflict_id")],
            body={"type": "object",
                  "description": "Either choose (kept or lost), or value: the value to write (docs/protocol.md §5.6)",
                  "properties": {"choose": {"type": "string", "enum": ["kept", "lost", "combined"]},
                                 "value": {"description": "a combined value, checked by the field's rule"}}})},
        "/api/register/marks": {"post": {
            **_op("Import attendance marks (office, admin)", _ref("ImportReport"), (401, 403, 413, 422)),
            "requestBody": {"required": True, "content": {
                "text/csv": {"schema": {"type": "string", "minLength": 1}},
                JSON: {"schema": {"type": "object", "required": ["csv"],
                                  "properties": {"csv": {"type": "string"}}}}}}}},
        "/api/register/pupils": {"get": _op(
            "Pupils by band and penalty-notice threshold (office, admin)", _collection({"type": "object"}),
            (401, 403, 422),
            params=[_query("band", {"type": "string", "enum": ["ok", "at_risk", "persistent", "severe"]}),
                    _query("threshold", {"type": "string", "enum": ["true", "false"]}),
                    _query("school", UUID), _query("officer", UUID),
                    _query("year", {"type": "string", "pattern": r"^(20\d\d|2100)([/-]\d\d)?$"}),
                    LIMIT, CURSOR])},
        "/api/visits": {"get": _op(
            "Synced visits, newest first (office, admin)", _collection({"type": "object"}), (401, 403, 422),
            params=[_query("flag", {"type": "string", "enum": ["out_of_scope"]}), LIMIT, CURSOR])},
        "/api/transport/plan": {"post": _op(
            "Plan pickup runs that reach school before the register closes (office, admin)",
            {"type": "object", "properties": {"runs": {"type": "array", "items": {"type": "object"}},
                                              "unplaced": {"type": "array", "items": {"type": "object"}},
                                              "dry_run": {"type": "boolean"}}},
            (401, 403, 404, 413, 422),
            body={"type": "object", "required": ["school_id", "date", "vehicles"],
                  "properties": {"school_id": UUID,
                                 "date": {"type": "string", "format": "date", "pattern": RUN_DATE},
                                 "pupil_ids": {"type": "array", "items": UUID, "maxItems": 200},
                                 "vehicles": {"type": "array", "maxItems": 30, "items": {
                                     "type": "object", "required": ["driver_id", "seats", "start_lat", "start_lon"],
                                     "properties": {"driver_id": UUID, "vehicle": {"type": "string"},
                                                    "seats": {"type": "integer", "minimum": 1, "maximum": 80},
                                                    "start_lat": {"type": "number"},
                                                    "start_lon": {"type": "number"},
                                                    "available_from": {"type": "string"},
                                                    "max_ride_s": {"type": "integer", "minimum": 60}}}},
                                 "arrive_by": {"type": "string"}, "dry_run": {"type": "boolean"}}})},
        "/api/transport/plan-jobs": {"post": {**_op(
            "Plan runs as a background job: the body of /api/transport/plan, plus time_budget_s (office, admin)",
            {}, (401, 403, 404, 413, 422), body={"type": "object"}),
            "responses": {"202": _answer({"type": "object", "required": ["job_id", "status_url"],
                                          "properties": {"job_id": UUID, "status": {"type": "string"},
                                                         "time_budget_s": {"type": "number"},
                                                         "status_url": {"type": "string"}}}, "Queued"),
                          **_errors(401, 403, 404, 413, 422)}}},
        "/api/transport/plan-jobs/{job_id}": {"get": _op(
            "A planning job: status, progress (time used / budget) and the plan once done (office, admin)",
            {"type": "object", "required": ["job_id", "status", "progress"],
             "properties": {"job_id": UUID, "status": {"type": "string"}, "progress": {"type": "object"},
                            "result": {"type": ["object", "null"]}, "error": {"type": ["string", "null"]}}},
            (401, 403, 404, 422),
            params=[{"name": "job_id", "in": "path", "required": True, "schema": {"type": "string"}}])},
        "/api/transport/runs": {"get": _op(
            "A day's runs, stops and arrivals against the register close (office, admin)",
            _collection({"type": "object"}), (401, 403, 422),
            params=[{"name": "date", "in": "query", "required": True,
                     "schema": {"type": "string", "format": "date", "pattern": RUN_DATE}},
                    _query("school_id", UUID)])},
        "/api/audit/events": {"post": {**_op(
            "A device reports an event for the audit log (e.g. unreadable outbox after a PIN reset)",
            {"type": "object"}, (401, 403, 413, 422),
            body={"type": "object", "required": ["event"],
                  "properties": {"event": {"type": "string", "enum": ["outbox_unreadable", "device_wiped",
                                                                      "pin_wipe", "storage_not_persistent"]},
                                 "details": {"type": "object"},
                                 "entity_ids": {"type": "array", "items": UUID, "maxItems": 1000}}}),
            "responses": {"201": _answer({"type": "object"}, "Recorded"), **_errors(401, 403, 413, 422)}}},
        "/api/audit": {"get": _op(
            "Who read or changed a record, and when (admin)", _collection({"type": "object"}),
            (401, 403, 422), params=[_query("entity_id", UUID), LIMIT, CURSOR])},
    }
    from .transport.openapi_paths import paths as transport_paths  # the fleet, needs, county plans
    paths.update(transport_paths())
    from .casework.legal_openapi import paths as legal_paths  # the legal steps (docs/casework.md)
    paths.update(legal_paths())
    for type_ in ENTITY_TYPES:
        schemas[f"entity.{type_}"] = entity_schema(type_)
    return {"openapi": "3.1.0",
            "info": {"title": "Doorstep sync API", "version": "1",
                     "description": "The Doorstep sync contract and API: docs/protocol.md in the repository."},
            "paths": paths,
            "components": {"schemas": schemas,
                           "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                                          "bearerFormat": "JWT"}}}}
