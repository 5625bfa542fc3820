"""GET /api/openapi.json describes every endpoint the app serves (PROTOCOL.md §8), and truthfully."""
from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from openapi_schema_validator import OAS31Validator
from openapi_spec_validator import validate as validate_spec
from starlette.routing import Route

from server.app import create_app

JSON = "application/json"
SYNC_PATHS = {"/api/sync/push", "/api/sync/pull"}
PUBLIC = {("/api/health", "get"), ("/api/ready", "get"), ("/api/openapi.json", "get"), ("/api/auth/login", "post"),
          ("/api/auth/refresh", "post"), ("/api/auth/reset-password", "post")}
HTTP_METHODS = {"get", "put", "post", "delete", "patch", "options", "head", "trace"}


@pytest.fixture
def doc(client) -> dict[str, Any]:
    r = client.get("/api/openapi.json")  # no token: the description is public
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith(JSON)
    return r.json()


def served_api_routes(app_state) -> set[tuple[str, str]]:
    """(path, method) for every route the app serves under /api/, from the app's own routing table."""
    app = create_app(app_state=app_state)
    out = set()
    for route in app.routes:
        if not isinstance(route, Route) or not route.path.startswith("/api/"):
            continue
        if ":path}" in route.path:  # the catch-all that answers 404 for unknown endpoints
            continue
        for method in route.methods or ():
            if method != "HEAD":  # Starlette adds HEAD to every GET route
                out.add((route.path, method.lower()))
    return out


def operations(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(path, method, op) for path, item in doc["paths"].items() for method, op in item.items()
            if method in HTTP_METHODS]


def resolve(node: Any, doc: dict[str, Any], depth: int = 0) -> Any:
    """The schema with every local $ref inlined."""
    assert depth < 50, "recursive $ref"
    if isinstance(node, dict):
        if "$ref" in node:
            ref = node["$ref"]
            assert ref.startswith("#/"), ref
            target: Any = doc
            for part in ref[2:].split("/"):
                target = target[part]
            return resolve(target, doc, depth + 1)
        return {k: resolve(v, doc, depth + 1) for k, v in node.items()}
    if isinstance(node, list):
        return [resolve(v, doc, depth + 1) for v in node]
    return node


def response_schema(doc: dict[str, Any], path: str, method: str, status: int) -> dict[str, Any]:
    responses = doc["paths"][path][method]["responses"]
    assert str(status) in responses, f"{method.upper()} {path} does not declare {status}"
    return resolve(responses[str(status)]["content"][JSON]["schema"], doc)


def conforms(instance: Any, schema: dict[str, Any]) -> None:
    errors = sorted(OAS31Validator(schema).iter_errors(instance), key=str)
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:5])


# -- the description itself ---------------------------------------------------------

def test_the_description_is_valid_openapi_3_1(doc):
    assert doc["openapi"].startswith("3.1")
    validate_spec(doc)


def test_every_api_route_is_described_with_its_method(doc, app_state):
    served = served_api_routes(app_state)
    described = {(path, method) for path, method, _ in operations(doc)}
    assert len(served) >= 15
    missing = served - described
    assert not missing, f"served but not described: {sorted(missing)}"


def test_every_described_operation_is_served(doc, client):
    for path, method, _ in operations(doc):
        url = re.sub(r"\{[^}]+\}", str(uuid.uuid4()), path)
        r = client.request(method.upper(), url)
        assert r.status_code != 405, (method, path)
        if r.status_code == 404:
            assert "no endpoint" not in r.json()["error"]["message"], (method, path, r.text)


def test_the_protocol_endpoints_are_all_there(doc):
    expected = {("/api/auth/login", "post"), ("/api/auth/refresh", "post"), ("/api/auth/logout", "post"),
                ("/api/devices", "get"), ("/api/devices/{device_id}/revoke", "post"),
                ("/api/sync/push", "post"), ("/api/sync/pull", "get"), ("/api/conflicts", "get"),
                ("/api/conflicts/{conflict_id}/resolve", "post"), ("/api/health", "get"),
                ("/api/openapi.json", "get"), ("/api/visits", "get")}
    assert expected <= {(p, m) for p, m, _ in operations(doc)}


def test_every_operation_has_response_schemas(doc):
    for path, method, op in operations(doc):
        responses = op.get("responses")
        assert responses, f"{method.upper()} {path} has no responses"
        ok = [s for s in responses if s.startswith("2")]
        assert ok, f"{method.upper()} {path} has no success response"
        for status, answer in responses.items():
            assert answer.get("description"), (path, method, status)
            content = answer.get("content")
            assert content and JSON in content, f"{method.upper()} {path} {status} has no JSON content"
            assert isinstance(content[JSON].get("schema"), dict), (path, method, status)
            if status.startswith("4"):
                assert content[JSON]["schema"] == {"$ref": "#/components/schemas/Error"}, (path, method, status)


def test_the_error_schema_is_the_protocol_error_body(doc):
    error = resolve({"$ref": "#/components/schemas/Error"}, doc)
    conforms({"error": {"code": "not_found", "message": "no such thing", "details": {}}}, error)
    for bad in ({}, {"error": {"code": "x", "message": "y"}}, {"error": {"code": 1, "message": "y", "details": {}}}):
        assert list(OAS31Validator(error).iter_errors(bad)), bad


def test_secured_operations_declare_bearer_auth_and_401(doc):
    assert doc["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    for path, method, op in operations(doc):
        if (path, method) in PUBLIC:
            assert not op.get("security"), f"{method.upper()} {path} needs no token"
            continue
        assert op.get("security") == [{"bearer": []}], f"{method.upper()} {path} does not declare its token"
        assert "401" in op["responses"], f"{method.upper()} {path} does not declare 401"


def test_sync_operations_declare_the_protocol_header_and_426(doc):
    for path in SYNC_PATHS:
        for op in doc["paths"][path].values():
            headers = [p for p in op.get("parameters", []) if p["in"] == "header"]
            assert [(h["name"].lower(), h["required"]) for h in headers] == [("doorstep-protocol", True)]
            assert "426" in op["responses"]


def test_path_parameters_are_declared(doc):
    for path, method, op in operations(doc):
        names = set(re.findall(r"\{([^}]+)\}", path))
        declared = {p["name"] for p in op.get("parameters", []) if p["in"] == "path"}
        assert names == declared, (path, method)


def test_operations_that_read_a_body_describe_it(doc):
    for path in ("/api/auth/login", "/api/auth/refresh", "/api/sync/push",
                 "/api/conflicts/{conflict_id}/resolve", "/api/register/marks", "/api/transport/plan",
                 "/api/audit/events"):
        body = doc["paths"][path]["post"].get("requestBody")
        assert body and body.get("required") is True, path
        assert JSON in body["content"] and body["content"][JSON]["schema"], path
    push = resolve(doc["paths"]["/api/sync/push"]["post"]["requestBody"]["content"][JSON]["schema"], doc)
    assert push["properties"]["changes"]["maxItems"] == 1000


def test_every_error_status_the_endpoints_answer_is_declared(doc):
    """The error statuses of PROTOCOL.md §2-§3 appear where the endpoints can answer them."""
    responses = {(p, m): set(op["responses"]) for p, m, op in operations(doc)}
    assert {"401", "422", "429"} <= responses[("/api/auth/login", "post")]
    assert {"401", "413", "422", "426"} <= responses[("/api/sync/push", "post")]
    assert {"401", "422", "426"} <= responses[("/api/sync/pull", "get")]
    assert {"401", "403", "404"} <= responses[("/api/devices/{device_id}/revoke", "post")]
    assert {"401", "403"} <= responses[("/api/devices", "get")]


# -- the description matches real answers --------------------------------------------

def test_real_answers_conform_to_the_described_schemas(doc, client, login, world):
    office, officer, ids = world
    r = client.post("/api/auth/login", json={"username": officer.user["username"], "password": "wrong-pass",
                                             "device_name": "x"})
    conforms(r.json(), response_schema(doc, "/api/auth/login", "post", r.status_code))
    admin = login("admin")
    r = client.post("/api/auth/refresh", json={"refresh_token": admin.refresh_token})
    assert r.status_code == 200
    conforms(r.json(), response_schema(doc, "/api/auth/refresh", "post", 200))
    answers = [
        ("/api/devices", "get", office.get("/api/devices")),
        ("/api/devices", "get", officer.get("/api/devices")),
        ("/api/sync/pull", "get", officer.pull()),
        ("/api/sync/pull", "get", officer.pull(cursor="garbage")),
        ("/api/sync/push", "post", officer.push([officer.change("visit", str(uuid.uuid4()),
                                                                {"case_id": ids["case"]}),
                                                 officer.change("visit", "bad-id", {})])),
        ("/api/conflicts", "get", office.get("/api/conflicts", status="open")),
        ("/api/register/pupils", "get", office.get("/api/register/pupils")),
        ("/api/visits", "get", office.get("/api/visits")),
        ("/api/audit", "get", admin.get("/api/audit", entity_id=ids["case"])),
        ("/api/devices/{device_id}/revoke", "post", office.post(f"/api/devices/{uuid.uuid4()}/revoke")),
        ("/api/conflicts/{conflict_id}/resolve", "post",
         office.post(f"/api/conflicts/{uuid.uuid4()}/resolve", {"choose": "kept"})),
        ("/api/health", "get", client.get("/api/health")),
        ("/api/register/marks", "post", office.post("/api/register/marks", {"csv": "upn,date,session,code\n"})),
        ("/api/transport/runs", "get", office.get("/api/transport/runs", date="2026-11-23")),
        ("/api/transport/runs", "get", office.get("/api/transport/runs", date="someday")),
        ("/api/transport/plan", "post", office.post("/api/transport/plan", {
            "school_id": ids["school"], "date": "2026-11-23", "vehicles": []})),
        ("/api/audit/events", "post", officer.post("/api/audit/events", {"event": "storage_not_persistent"})),
        ("/api/devices/{device_id}/revoke", "post", office.post(f"/api/devices/{officer.device_id}/revoke")),
        ("/api/auth/logout", "post", admin.post("/api/auth/logout")),
    ]
    for path, method, r in answers:
        conforms(r.json(), response_schema(doc, path, method, r.status_code))


def test_bodies_the_description_allows_are_not_rejected_as_malformed(doc, client):
    mismatches = []
    for path, body in [("/api/auth/login", {"username": "", "password": "", "device_name": ""}),
                       ("/api/auth/refresh", {"refresh_token": ""})]:
        schema = resolve(doc["paths"][path]["post"]["requestBody"]["content"][JSON]["schema"], doc)
        allowed = not list(OAS31Validator(schema).iter_errors(body))
        r = client.post(path, json=body)
        if allowed and r.status_code == 422:
            mismatches.append(f"POST {path} {body} is valid by the schema but answered {r.text}")
    assert not mismatches, "\n".join(mismatches)
