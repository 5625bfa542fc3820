"""The OpenAPI document states the limits the server checks, from the same source: a run's date
(``server.transport.runs``) and the strings ``server.http.string_field`` takes (not only white
space). What the document allows the server does not refuse as malformed, and the other way round
(issue #16, item 8)."""
from __future__ import annotations

import re
from typing import Any

import pytest
from openapi_schema_validator import OAS31Validator

from server.openapi import spec
from server.transport.runs import DATE_PATTERN, FIRST_YEAR, LAST_YEAR

JSON = "application/json"
DATES = ["1999-12-31", "2000-01-01", "2026-11-23", "2100-12-31", "2101-01-01", "0001-01-01", "9999-12-31"]
BLANKS = ["\r", " ", "\t\n", "\u00a0", "\u3000", "\u2028", "\x1c"]


def allows(schema: dict[str, Any], value: Any) -> bool:
    return not list(OAS31Validator(schema).iter_errors(value))


def body_schema(path: str) -> dict[str, Any]:
    return spec()["paths"][path]["post"]["requestBody"]["content"][JSON]["schema"]


def refused(r, field: str) -> bool:
    return r.status_code == 422 and r.json()["error"]["details"].get("field") == field


def test_the_run_date_pattern_is_exactly_the_years_the_server_accepts():
    for year in range(1000, 10_000):
        assert bool(re.search(DATE_PATTERN, f"{year:04d}-06-15")) == (FIRST_YEAR <= year <= LAST_YEAR), year


@pytest.mark.parametrize("day", DATES)
def test_run_dates_the_document_allows_are_the_ones_the_server_takes(world, day):
    office, _officer, ids = world
    [param] = [p for p in spec()["paths"]["/api/transport/runs"]["get"]["parameters"] if p["name"] == "date"]
    r = office.get("/api/transport/runs", date=day)
    assert allows(param["schema"], day) == (r.status_code == 200), r.text
    date_schema = body_schema("/api/transport/plan")["properties"]["date"]
    r = office.post("/api/transport/plan", {"school_id": ids["school"], "date": day, "vehicles": []})
    assert allows(date_schema, day) == (not refused(r, "date")), r.text


@pytest.mark.parametrize("value", [*BLANKS, "a", " officer1 "])
def test_sign_in_strings_the_document_allows_are_not_refused_as_malformed(client, value):
    schema = body_schema("/api/auth/login")
    good = {"username": "nobody", "password": "not-the-password", "device_name": "phone"}
    for name in good:
        body = {**good, name: value}
        r = client.post("/api/auth/login", json=body)
        assert allows(schema, body) == (not refused(r, name)), (name, value, r.text)
        assert r.status_code in (401, 422, 429), r.text
    body = {"refresh_token": value}
    r = client.post("/api/auth/refresh", json=body)
    assert allows(body_schema("/api/auth/refresh"), body) == (not refused(r, "refresh_token")), r.text


def test_a_whitespace_only_username_is_outside_the_document():
    username = body_schema("/api/auth/login")["properties"]["username"]
    assert not allows(username, "\r") and allows(username, "officer1")
